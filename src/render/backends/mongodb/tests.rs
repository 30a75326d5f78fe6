//! Unit tests of the MongoDB builders.
