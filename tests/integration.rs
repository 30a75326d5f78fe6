//! Integration tests: one binary, one module per concern.

mod integration {
    mod immutable_fields;
}
