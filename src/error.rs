//! Errors, classified by who has to fix them, and the exit codes they map to.
//!
//! User errors (bad YAML, bad `--set`, bad names, template problems in values) carry the file,
//! line and key path so the message can point at the mistake. Messages never include secret
//! values: they name keys, not contents.

use std::fmt;

/// A position in a values file (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Problems with values input: files, `--set` flags and the values they hold.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },
    #[error("cannot read `{file}`: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// A `--set`-family argument that cannot be applied. `arg` is the argument as typed, with
    /// the values of secret-looking keys masked; `column` (1-based, in chars) points at the mistake.
    #[error("{flag} `{arg}`: {message}{}", column.map(|c| format!(" at column {c}")).unwrap_or_default())]
    Set {
        flag: &'static str,
        arg: String,
        column: Option<usize>,
        message: String,
    },
    #[error("{}`{path}`: {message}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
    Invalid {
        path: String,
        location: Option<Location>,
        message: String,
    },
}

/// Exit code for user errors and failures (0 = success).
pub const EXIT_ERROR: u8 = 2;

/// Exit code when `diff` finds differences (or `lint` finds problems).
pub const EXIT_DIFFERENT: u8 = 1;
