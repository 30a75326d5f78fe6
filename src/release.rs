//! The release being rendered: the name that prefixes every object and the namespace it runs
//! in. Templates (`.Release`), secret derivation and every builder read it; it depends on
//! nothing, so each of them can.

/// The Helm release being rendered.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: String,
}
