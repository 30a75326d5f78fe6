//! A YAML writer for `serde_json::Value` whose output is byte-for-byte `serde_saphyr::to_string`.
//!
//! The layout (block maps and sequences, compact lists, indentation) is done here; scalars take a
//! fast path only when they are provably written the way serde-saphyr writes them (plain ASCII
//! strings and keys, integers, ASCII literal block scalars). Every other scalar or key is handed
//! to serde-saphyr itself and re-indented, so rare spellings are correct by construction.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Number, Value};

/// serde-saphyr writes a plain scalar longer than this (in bytes) as a folded block (`>-`).
const FOLD_BYTES: usize = 80;
/// serde-saphyr writes a key longer than this as an explicit `? key` entry.
const SIMPLE_KEY_BYTES: usize = 1024;
/// Columns one indentation level adds (serde-saphyr's default `indent_step`).
const STEP: usize = 2;

/// Byte classes: a string's classes are the OR over its bytes ([`classes`]), one table lookup
/// per byte, and every fast-path decision is read from that one value.
const NOT_PLAIN: u8 = 1; // not printable ASCII: escaped, a line break, or not ASCII
const NOT_KEY: u8 = 2; // NOT_PLAIN, or structural in a flow-context key (`:`, `,`, brackets)
const SPACE: u8 = 4; // a space: plain unless it makes `: ` or ` #`
const NOT_BLOCK: u8 = 8; // may not appear literally in a block scalar (only ASCII is accepted)
const NEWLINE: u8 = 16; // a line break: the string is a literal block scalar

static CLASS: [u8; 256] = {
    let mut table = [NOT_PLAIN | NOT_KEY | NOT_BLOCK; 256];
    let mut b = 0x20;
    while b <= 0x7E {
        table[b] = 0;
        b += 1;
    }
    let mut i = 0;
    let structural = b":,[]{}";
    while i < structural.len() {
        table[structural[i] as usize] = NOT_KEY;
        i += 1;
    }
    table[b' ' as usize] = SPACE;
    table[b'\t' as usize] = NOT_PLAIN | NOT_KEY;
    table[b'\n' as usize] = NOT_PLAIN | NOT_KEY | NEWLINE;
    table
};

/// The OR of the [`CLASS`] of every byte of `s`.
fn classes(s: &[u8]) -> u8 {
    s.iter().fold(0, |acc, &b| acc | CLASS[b as usize])
}

const SPACES: &str = "                                                                ";

/// A document needs a layout this writer does not reproduce (an explicit `? key` entry, only for
/// keys over 1024 characters); the caller serializes the whole document with serde-saphyr.
#[derive(Debug)]
struct Unsupported;

impl From<fmt::Error> for Unsupported {
    fn from(_: fmt::Error) -> Self {
        Unsupported
    }
}

impl From<serde_saphyr::ser::Error> for Unsupported {
    fn from(_: serde_saphyr::ser::Error) -> Self {
        Unsupported
    }
}

/// Append the YAML document for `value` to `out`, exactly as `serde_saphyr::to_string` writes it.
pub fn push_document(out: &mut String, value: &Value) -> Result<(), serde_saphyr::ser::Error> {
    let start = out.len();
    let written = Writer { out }.node(value, Pos::Top, 0);
    if written.is_err() {
        out.truncate(start);
        serde_saphyr::to_fmt_writer(out, value)?;
    }
    Ok(())
}

/// Where a node starts: what was written just before it on its line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    /// The document root, at column 0.
    Top,
    /// After `key:` of a block map whose keys are at `col`.
    Value,
    /// After `- ` of a block sequence whose dashes are at `col`.
    Item,
}

struct Writer<'a> {
    out: &'a mut String,
}

impl Writer<'_> {
    /// Write `value` at `pos`; `col` is the column of the owning key or dash (0 at the top).
    /// Every node ends with a newline.
    fn node(&mut self, value: &Value, pos: Pos, col: usize) -> Result<(), Unsupported> {
        match value {
            Value::Null => self.token(pos, "null"),
            Value::Bool(b) => self.token(pos, if *b { "true" } else { "false" }),
            Value::Number(n) => self.number(n, pos)?,
            Value::String(s) => self.string(s, pos, col)?,
            Value::Array(items) => self.seq(items, pos, col)?,
            Value::Object(map) => self.map(map, pos, col)?,
        }
        Ok(())
    }

    /// A one-line scalar: a space after `key:`, the text, a newline.
    fn token(&mut self, pos: Pos, text: &str) {
        if pos == Pos::Value {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn indent(&mut self, mut n: usize) {
        while n > SPACES.len() {
            self.out.push_str(SPACES);
            n -= SPACES.len();
        }
        self.out.push_str(&SPACES[..n]);
    }

    fn number(&mut self, n: &Number, pos: Pos) -> Result<(), Unsupported> {
        if let Some(u) = n.as_u64() {
            self.token(pos, itoa(u, false, &mut [0; 21]));
        } else if let Some(i) = n.as_i64() {
            self.token(pos, itoa(i.unsigned_abs(), i < 0, &mut [0; 21]));
        } else {
            // Floats follow serde-saphyr's own float spelling (`1.0`, `1.0e+30`, `.nan`).
            self.fallback_scalar(n, pos, 0)?;
        }
        Ok(())
    }

    fn string(&mut self, s: &str, pos: Pos, col: usize) -> Result<(), Unsupported> {
        let bytes = s.as_bytes();
        let classes = classes(bytes);
        if bytes.len() <= FOLD_BYTES && is_plain(bytes, classes & (NOT_PLAIN | SPACE)) {
            self.token(pos, s);
        } else if classes & (NEWLINE | NOT_BLOCK) == NEWLINE {
            self.literal(s, pos, col);
        } else {
            self.fallback_scalar(&s, pos, col)?;
        }
        Ok(())
    }

    /// A multi-line string as a literal block scalar, body indented one level past `col`.
    fn literal(&mut self, s: &str, pos: Pos, col: usize) {
        let content = s.trim_end_matches('\n');
        let trailing = s.len() - content.len();
        self.out.push_str(if pos == Pos::Value { " |" } else { "|" });
        // A first line starting with spaces would be read as the body's indentation.
        let first = content.split('\n').find(|line| !line.is_empty());
        // The indicator is the body's indentation relative to its parent: one `STEP`.
        if first.is_some_and(|line| line.starts_with(' ')) {
            self.out.push('2');
        }
        match trailing {
            0 => self.out.push('-'),
            1 if !content.is_empty() => {}
            _ => self.out.push('+'),
        }
        self.out.push('\n');
        if content.is_empty() {
            push_newlines(self.out, trailing);
            return;
        }
        let body = col + STEP;
        for line in content.split('\n') {
            if !line.is_empty() {
                self.indent(body);
                self.out.push_str(line);
            }
            self.out.push('\n');
        }
        push_newlines(self.out, trailing.saturating_sub(1));
    }

    /// serde-saphyr's rendering of a lone scalar, moved to `pos`: a document-root block scalar
    /// has its body at column 2, here it belongs one level past `col`.
    fn fallback_scalar<T: Serialize>(
        &mut self,
        scalar: &T,
        pos: Pos,
        col: usize,
    ) -> Result<(), Unsupported> {
        if pos == Pos::Value {
            self.out.push(' ');
        }
        let start = self.out.len();
        serde_saphyr::to_fmt_writer(self.out, scalar)?;
        let header_end = self.out[start..].find('\n').map(|i| start + i + 1);
        if let Some(header_end) = header_end
            && header_end < self.out.len()
            && col > 0
        {
            let body = self.out.split_off(header_end);
            for line in body.split_inclusive('\n') {
                if line != "\n" {
                    self.indent(col);
                }
                self.out.push_str(line);
            }
        }
        Ok(())
    }

    fn map(&mut self, map: &Map<String, Value>, pos: Pos, col: usize) -> Result<(), Unsupported> {
        if map.is_empty() {
            self.token(pos, "{}");
            return Ok(());
        }
        let key_col = match pos {
            Pos::Top => 0,
            Pos::Value | Pos::Item => col + STEP,
        };
        // After `key:` the map starts on the next line; after `- ` its first key stays inline.
        let mut at_line_start = pos != Pos::Item;
        if pos == Pos::Value {
            self.out.push('\n');
        }
        for (key, value) in map {
            if at_line_start {
                self.indent(key_col);
            }
            at_line_start = true;
            self.key(key)?;
            self.out.push(':');
            self.node(value, Pos::Value, key_col)?;
        }
        Ok(())
    }

    fn seq(&mut self, items: &[Value], pos: Pos, col: usize) -> Result<(), Unsupported> {
        if items.is_empty() {
            self.token(pos, "[]");
            return Ok(());
        }
        // Compact lists: under `key:` the dashes sit at the key's column; after `- ` the first
        // inner dash stays on the outer dash's line.
        let dash_col = match pos {
            Pos::Top => 0,
            Pos::Value => col,
            Pos::Item => col + STEP,
        };
        let mut at_line_start = pos != Pos::Item;
        if pos == Pos::Value {
            self.out.push('\n');
        }
        for item in items {
            if at_line_start {
                self.indent(dash_col);
            }
            at_line_start = true;
            self.out.push_str("- ");
            self.node(item, Pos::Item, dash_col)?;
        }
        Ok(())
    }

    /// A map key: plain when provably so, else serde-saphyr's spelling of it.
    fn key(&mut self, key: &str) -> Result<(), Unsupported> {
        let bytes = key.as_bytes();
        if bytes.len() <= SIMPLE_KEY_BYTES && is_plain(bytes, classes(bytes) & (NOT_KEY | SPACE)) {
            self.out.push_str(key);
            return Ok(());
        }
        // serde-saphyr writes `{key: null}` as `<key>: null\n`, or `? <key>\n: null\n` when the
        // key is too long for a simple key.
        let start = self.out.len();
        serde_saphyr::to_fmt_writer(self.out, &OneKey(key))?;
        if self.out[start..].starts_with("? ") {
            return Err(Unsupported);
        }
        let end = self.out.len() - ": null\n".len();
        self.out.truncate(end);
        Ok(())
    }
}

/// A one-entry map `{key: null}`, to learn how serde-saphyr spells `key` as a map key.
struct OneKey<'a>(&'a str);

impl Serialize for OneKey<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, &())?;
        map.end()
    }
}

/// Whether serde-saphyr certainly writes `s` as a plain scalar, given the string's [`classes`]
/// masked to the ones that matter ([`NOT_PLAIN`] for a value, [`NOT_KEY`] for a key, and
/// [`SPACE`]). Conservative: `false` means "ask serde-saphyr", not "must be quoted". It accepts
/// printable ASCII that starts with a letter, `/`, or `-`/`--` before a letter (so it cannot read
/// as a number, a date, a document marker or an indicator), is not a YAML 1.1 keyword (`yes`,
/// `Off`, `null`, `-inf`…), does not end in a space or `:`, and holds no `: ` or ` #`.
fn is_plain(s: &[u8], classes: u8) -> bool {
    let starts_ok = match s {
        [first, ..] if first.is_ascii_alphabetic() || *first == b'/' => true,
        [b'-', second, ..] if second.is_ascii_alphabetic() => true,
        [b'-', b'-', third, ..] => third.is_ascii_alphabetic(),
        _ => false,
    };
    starts_ok
        && classes & !SPACE == 0
        && !matches!(s.last(), Some(b' ' | b':'))
        && !(s.len() <= 5 && is_keyword(s))
        // With no space at either end, these pairs are the only places a space matters.
        && (classes & SPACE == 0 || s.windows(2).all(|w| w != b": " && w != b" #"))
}

/// The spellings a YAML 1.1 or 1.2 reader resolves to null, a bool or a special float.
fn is_keyword(s: &[u8]) -> bool {
    const KEYWORDS: [&[u8]; 13] = [
        b"null", b"true", b"false", b"yes", b"no", b"on", b"off", b"y", b"n", b"nan", b"inf",
        b"+inf", b"-inf",
    ];
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
}

fn push_newlines(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push('\n');
    }
}

/// `n` in decimal, into the end of `buf` (20 digits hold `u64::MAX`, plus a sign).
fn itoa(mut n: u64, negative: bool, buf: &mut [u8; 21]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        i -= 1;
        buf[i] = b'-';
    }
    // Only ASCII digits and `-` were written.
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}
