//! Errors, classified by who has to fix them, and the exit codes they map to.
//!
//! User errors (bad YAML, bad `--set`, bad names, template problems in values) carry the file,
//! line and key path so the message can point at the mistake. Messages never include values
//! (any of them could be a secret): they name keys and positions, not contents.
//!
//! Two rules keep messages readable. A cause is stated once: an error type's own text never
//! repeats its `source`, and [`report`] prints the chain, skipping a cause its parent already
//! spelled out. User text quoted in a message (file names, key names) goes through
//! [`printable`], so control bytes and bidi overrides cannot rewrite the terminal line.

use std::borrow::Cow;
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
        write!(f, "{}:{}:{}", printable(&self.file), self.line, self.column)
    }
}

/// Problems with values input: files, `--set` flags and the values they hold.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("{location}: {}", printable(message))]
    Syntax { location: Location, message: String },
    /// The io error is the source, printed by [`report`] after this text.
    #[error("cannot read `{}`", printable(file))]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// A `--set`-family argument that cannot be applied, named by its flag and its number
    /// among that flag's arguments (1-based); `byte` (1-based) points at the mistake. The
    /// argument itself is never echoed: any part of it could be a secret.
    #[error("argument {number} of {flag}, at byte {byte}: {}", printable(message))]
    Set {
        flag: &'static str,
        number: usize,
        byte: usize,
        message: String,
    },
    #[error("{}`{}`: {}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default(), printable(path), printable(message))]
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

/// `text` with every character that could disturb a terminal escaped as `\u{..}`: C0 controls
/// (also tab, CR and newline), DEL, C1 controls, and the bidi marks and overrides that reorder
/// what follows. Borrowed when there is nothing to escape, which is almost always.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Characters a terminal would act on instead of showing: controls and bidirectional marks.
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The whole message of `err` as the user sees it: its text, then each cause not already
/// spelled out by the text before it, joined by `: `; control characters escaped (all but the
/// newlines that separate the lines of a multi-line message).
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_and_bidi_only() {
        assert_eq!(printable("st2web.replicas"), "st2web.replicas");
        assert_eq!(printable("ünïcode ✓"), "ünïcode ✓");
        assert_eq!(
            printable("a\u{1b}[31mb\0c\rd\ne\tf\u{7f}g\u{9b}h\u{202e}i\u{2066}j\u{200f}"),
            r"a\u{1b}[31mb\u{0}c\u{d}d\u{a}e\u{9}f\u{7f}g\u{9b}h\u{202e}i\u{2066}j\u{200f}"
        );
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn report_states_each_cause_once() {
        let read = ValuesError::Read {
            file: "/nonexistent".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(
            report(&read),
            format!(
                "cannot read `/nonexistent`: {}",
                std::io::Error::from(std::io::ErrorKind::NotFound)
            )
        );
        // A context that already quotes its cause does not get it twice.
        let inner = std::io::Error::other("disk on fire");
        let outer = anyhow::Error::new(inner).context("cannot write `x`: disk on fire");
        assert_eq!(report(outer.as_ref()), "cannot write `x`: disk on fire");
        let chained =
            anyhow::Error::new(std::io::Error::other("disk on fire")).context("cannot write `x`");
        assert_eq!(report(chained.as_ref()), "cannot write `x`: disk on fire");
        let evil = ValuesError::Read {
            file: "a\u{1b}]0;pwned\u{7}".into(),
            source: std::io::Error::other("gone"),
        };
        assert_eq!(report(&evil), r"cannot read `a\u{1b}]0;pwned\u{7}`: gone");
    }
}
