//! A YAML writer for `serde_json::Value` whose output is byte-for-byte `serde_saphyr::to_string`.
//!
//! The layout (block maps and sequences, compact lists, indentation) is done here; scalars take a
//! fast path only when they are provably written the way serde-saphyr writes them (plain ASCII
//! strings and keys, integers, ASCII literal block scalars). Every other scalar or key is handed
//! to serde-saphyr itself and re-indented, so rare spellings are correct by construction. The
//! fast-path rules mirror serde-saphyr 2.1.1 with default options; after an upgrade the oracle
//! tests below (scenario renders, tricky strings, random trees) tell whether they still agree.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Number, Value};

use crate::object::Object;
use crate::object::{SharedItems, Spliced};

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
/// keys over 1024 characters), or serde-saphyr failed on a scalar: the caller serializes the
/// whole document with serde-saphyr, which then writes it or reports the error.
#[derive(Debug)]
struct Unsupported;

impl From<serde_saphyr::ser::Error> for Unsupported {
    fn from(_: serde_saphyr::ser::Error) -> Self {
        Unsupported
    }
}

/// Append the YAML document of `object` to `out`, exactly as `serde_saphyr::to_string` writes
/// its [full body](Object::full_body). `shared` keeps the text of shared items between calls.
pub fn push_document(
    out: &mut String,
    object: &Object,
    shared: &mut SharedText,
) -> Result<(), serde_saphyr::ser::Error> {
    let start = out.len();
    let mut writer = Writer {
        out,
        splice: object.spliced().map(|spliced| (spliced, shared)),
    };
    if writer.node(object.body(), Pos::Top, 0).is_err() {
        out.truncate(start);
        serde_saphyr::to_fmt_writer(out, &*object.full_body())?;
    }
    Ok(())
}

/// The YAML of shared items ([`crate::object::Splice`]) by list and dash column: a list
/// shared by a hundred pods is laid out once and copied into each. A render shares one or two
/// lists, so they are looked up in order. `None`: a layout only serde-saphyr writes.
#[derive(Default)]
pub struct SharedText(Vec<(SharedItems, usize, Option<String>)>);

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
    /// The document's shared items, and where their text is kept.
    splice: Option<(Spliced<'a>, &'a mut SharedText)>,
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
            Value::Array(items) => {
                let shared = self.splice.as_ref().and_then(|(spliced, _)| {
                    (spliced.is(value) && !spliced.items.is_empty()).then_some(*spliced)
                });
                self.seq(items, shared, pos, col)?;
            }
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
        self.out
            .push_str(if pos == Pos::Value { " |" } else { "|" });
        // A first non-empty line starting with spaces would be read as the body's indentation,
        // so the header states it: relative to the parent, one `STEP`.
        if content.trim_start_matches('\n').starts_with(' ') {
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

    /// A sequence; `shared` items go into it when it is the document's spliced list.
    fn seq(
        &mut self,
        items: &[Value],
        shared: Option<Spliced>,
        pos: Pos,
        col: usize,
    ) -> Result<(), Unsupported> {
        if items.is_empty() && shared.is_none() {
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
        let Some(shared) = shared else {
            return self.items(items, at_line_start, dash_col);
        };
        let (before, after) = items.split_at(shared.at);
        if !before.is_empty() {
            self.items(before, at_line_start, dash_col)?;
            at_line_start = true;
        }
        if at_line_start {
            self.shared_items(shared.items, dash_col)?;
        } else {
            self.items(shared.items, at_line_start, dash_col)?;
        }
        self.items(after, true, dash_col)
    }

    /// The items of a block sequence whose dashes are at `dash_col`; the first one's dash is
    /// indented when `at_line_start`.
    fn items(
        &mut self,
        items: &[Value],
        mut at_line_start: bool,
        dash_col: usize,
    ) -> Result<(), Unsupported> {
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

    /// [`Writer::items`] of shared items starting a line, laid out once per dash column.
    fn shared_items(&mut self, items: &SharedItems, dash_col: usize) -> Result<(), Unsupported> {
        let Some((_, SharedText(texts))) = &mut self.splice else {
            return self.items(items, true, dash_col);
        };
        let known = texts
            .iter()
            .position(|(list, col, _)| Arc::ptr_eq(list, items) && *col == dash_col);
        let index = known.unwrap_or_else(|| {
            let mut text = String::new();
            let mut writer = Writer {
                out: &mut text,
                splice: None,
            };
            let text = writer.items(items, true, dash_col).ok().map(|()| text);
            texts.push((Arc::clone(items), dash_col, text));
            texts.len() - 1
        });
        self.out
            .push_str(texts[index].2.as_deref().ok_or(Unsupported)?);
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
        && !is_keyword(s)
        // With no space at either end, these pairs are the only places a space matters.
        && (classes & SPACE == 0 || s.windows(2).all(|w| w != b": " && w != b" #"))
}

/// The spellings a YAML 1.1 or 1.2 reader resolves to null, a bool or a special float.
fn is_keyword(s: &[u8]) -> bool {
    const KEYWORDS: [&[u8]; 13] = [
        b"null", b"true", b"false", b"yes", b"no", b"on", b"off", b"y", b"n", b"nan", b"inf",
        b"+inf", b"-inf",
    ];
    s.len() <= 5 && KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{RngCore, SeedableRng};
    use serde_json::json;

    use super::*;
    use crate::object::Object;
    use crate::release::Release;
    use crate::render;
    use crate::render::ctx::Options;
    use crate::values::{self, Layer};

    /// Our document for `value`, and serde-saphyr's.
    fn both(value: &Value) -> (String, String) {
        both_of(&Object::from_json("v1", "Test", "x".into(), value.clone()))
    }

    /// Our document for `object`, and serde-saphyr's for its full body.
    fn both_of(object: &Object) -> (String, String) {
        let mut ours = String::from("previous document\n");
        push_document(&mut ours, object, &mut SharedText::default()).expect("our writer");
        let ours = ours["previous document\n".len()..].to_string();
        let theirs = serde_saphyr::to_string(&*object.full_body()).expect("serde-saphyr");
        (ours, theirs)
    }

    fn assert_same(value: &Value) {
        let (ours, theirs) = both(value);
        assert_eq!(ours, theirs, "for {value}");
    }

    fn render_file(text: String, release: &str, namespace: &str) -> Vec<Object> {
        let layers = [Layer::File {
            name: "values.yaml".into(),
            text,
        }];
        let loaded = values::load(&layers).expect("values load");
        let release = Release {
            name: release.into(),
            namespace: namespace.into(),
        };
        render::render(&loaded.values, &release, &Options::default()).expect("render")
    }

    fn assert_objects_same(objects: &[Object]) {
        assert!(!objects.is_empty());
        for object in objects {
            let (ours, theirs) = both_of(object);
            assert!(
                ours == theirs,
                "{}/{} differs from serde-saphyr",
                object.kind,
                object.name
            );
        }
    }

    #[test]
    fn every_scenario_render_is_written_as_serde_saphyr_writes_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(&root).expect("tests/scenarios") {
            let dir = entry.expect("scenario dir").path();
            let Ok(text) = std::fs::read_to_string(dir.join("values.yaml")) else {
                continue;
            };
            let meta = std::fs::read_to_string(dir.join("scenario.yaml")).unwrap_or_default();
            let meta: Value = serde_saphyr::from_str(&meta).expect("scenario.yaml");
            let field = |key: &str, default: &str| {
                meta.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or(default)
                    .to_string()
            };
            let objects = render_file(
                text,
                &field("release", "st2"),
                &field("namespace", "default"),
            );
            assert_objects_same(&objects);
            seen += 1;
        }
        assert!(seen >= 17, "only {seen} scenarios found");
    }

    #[test]
    fn the_large_render_is_written_as_serde_saphyr_writes_it() {
        let objects = render_file(
            include_str!("../../bench/large.yaml").into(),
            "st2",
            "default",
        );
        assert!(objects.len() > 150);
        assert_objects_same(&objects);
        // The stream is the documents, each after `---`.
        let stream = super::super::to_yaml_stream(&objects).expect("stream");
        let expected: String = objects
            .iter()
            .map(|o| {
                format!(
                    "---\n{}",
                    serde_saphyr::to_string(&*o.full_body()).expect("serde-saphyr")
                )
            })
            .collect();
        assert!(stream == expected);
    }

    /// Strings YAML readers could take for something else, or that need a block or quotes.
    const TRICKY: &[&str] = &[
        "",
        " ",
        "  ",
        "a",
        "A",
        "ab",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "on",
        "On",
        "off",
        "OFF",
        "y",
        "Y",
        "n",
        "N",
        "true",
        "True",
        "FALSE",
        "null",
        "Null",
        "NULL",
        "~",
        "nan",
        "NaN",
        ".nan",
        "inf",
        "-inf",
        "+inf",
        ".inf",
        "-.inf",
        "+.Inf",
        "<<",
        "=",
        "0",
        "00",
        "0777",
        "0o17",
        "0x1F",
        "0b101",
        "1e3",
        "1E3",
        "1.5e-3",
        "1_000",
        "_1",
        "1_",
        "1.",
        ".5",
        "+1",
        "-1",
        "-",
        "--",
        "---",
        "--- x",
        "---x",
        "...",
        "... x",
        "....",
        "-x",
        "--x",
        "-1x",
        "- x",
        "-\tx",
        "?",
        "? x",
        "?x",
        "-inf-x",
        "12:30",
        "1:20:30",
        "190:20:30.15",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-1-1 1:2:3",
        "3.8",
        "3.8.1",
        "1.2.3.4",
        "1..2",
        "a: b",
        "a:b",
        "a:",
        "a :",
        ":a",
        "a #b",
        "a#b",
        "#a",
        "a # b",
        "a\t#b",
        "& a",
        "&a",
        "*a",
        "!a",
        "!!str",
        "|",
        "|a",
        ">",
        ">a",
        "'a'",
        "\"a\"",
        "a'b",
        "a\"b",
        "%a",
        "@a",
        "`a",
        ",a",
        "a,b",
        "[a]",
        "a[0]",
        "{a}",
        "a{b}",
        "a}",
        "a]",
        "a\\b",
        "\\",
        "a b",
        " a",
        "a ",
        "a  b",
        "\ta",
        "a\t",
        "a\tb",
        "a\nb",
        "a\n",
        "a\n\n",
        "\n",
        "\n\n",
        "\na",
        " a\nb",
        "  a\n b\n",
        "a\r\nb",
        "a\rb",
        "\r",
        "a\u{0}b",
        "\u{7}",
        "\u{1b}[0m",
        "a\u{7f}b",
        "a\u{85}b",
        "a\u{a0}b",
        "a\u{2028}b",
        "a\u{2029}b",
        "\u{feff}a",
        "a\u{fffe}",
        "é",
        "éa",
        "aé",
        "é\nx",
        "日本語",
        "emoji 😀",
        "😀\n😀\n",
        "/path/to/x",
        "/",
        "//a",
        "http://x.example/a?b=c#d",
        "$(cat /x)",
        "${VAR}",
        "a=b",
        "--flag=value",
        "-Xmx512m",
        "k8s.io/name",
        "app.kubernetes.io/name",
        "st2-st2api",
        "a-b_c.d",
        "CamelCase",
        "trailing colon:",
        "key::value",
        "a:\u{a0}",
        "a\u{a0}:",
        "x\u{2000}#y",
        "a very long line that goes on and on well past the eighty character folding limit of serde-saphyr",
        "averylongwordwithoutanyspacesthatkeepsgoingpasttheeightycharacterlimitofthefoldedstyle1234",
        "a very long line that goes on and on well past the eighty character folding limit:",
        "a very long line that goes on and on well past the eighty character folding limit   ",
        "a very long line that goes on and on well past the eighty character folding limit\n",
        "    indented line of a script that goes on and on well past the eighty character limit",
        "trailing spaces in a block  \nsecond line\t\n",
        "line one\n\n\nline four after blank lines\n\n",
        "#!/bin/sh\nset -e\necho 'hi' # comment\n",
        "ééééééééééééééééééééééééééééééééééééééééééééééééé ééééééééééééééééééééééééééééééééééé",
    ];

    /// `s` as a value and as a key, at the root, in maps, in sequences, in sequences of
    /// sequences, and beside empty collections.
    fn shapes(s: &str) -> Vec<Value> {
        let mut key = Map::new();
        key.insert(s.to_string(), json!("v"));
        let mut deep = Map::new();
        deep.insert(s.to_string(), json!({ "a": [s, [s, { s: s }]], "b": {} }));
        vec![
            json!(s),
            json!({ "k": s }),
            json!({ "a": { "k": s, "l": [] }, "z": s }),
            json!([s]),
            json!([s, s]),
            json!([[s], [[s, s]]]),
            json!([{ "k": s, "m": [s, {}] }, [{ "k": s }]]),
            json!({ "k": [s, [s, { "x": s }], [], {}] }),
            Value::Object(key.clone()),
            json!([key.clone(), [key.clone()]]),
            json!({ "a": [key.clone(), { "b": key }] }),
            Value::Object(deep),
        ]
    }

    #[test]
    fn tricky_strings_as_values_and_keys_match_serde_saphyr() {
        for s in TRICKY {
            for value in shapes(s) {
                assert_same(&value);
            }
        }
    }

    #[test]
    fn structure_and_non_string_scalars_match_serde_saphyr() {
        let cases = [
            json!(null),
            json!(true),
            json!(0),
            json!(-1),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1.5),
            json!(-0.0),
            json!(1e300),
            json!(1e-7),
            json!(100.0),
            json!({}),
            json!([]),
            json!([[]]),
            json!([{}]),
            json!([[[]], [{}], {}]),
            json!([[[1, 2], [3]], [[], [[4]]]]),
            json!({ "a": {}, "b": [], "c": [{}], "d": [[]], "e": { "f": {} } }),
            json!({ "a": [{ "b": [{ "c": [[1, { "d": null }]] }] }] }),
            json!([{ "a": 1, "b": { "c": [true, false, 1.25] } }, { "z": [] }]),
            json!({ "a": [1, 2], "b": { "c": 3 }, "d": [[{ "e": "x\ny" }]] }),
        ];
        for value in &cases {
            assert_same(value);
        }
    }

    #[test]
    fn shared_items_are_written_where_they_belong() {
        let shared = std::sync::Arc::new(vec![json!({"name": "s1", "args": ["x"]}), json!([1])]);
        let cases: [(&'static str, Value); 5] = [
            ("/a", json!({"a": [], "b": 1})),
            ("/a", json!({"a": [{"name": "own"}, 2], "b": [3]})),
            ("/a/0", json!({"a": [[], [4]]})),
            ("/a/1", json!({"a": [[], [{"c": 5}]]})),
            ("", json!(["top"])),
        ];
        for (pointer, body) in cases {
            let len = body
                .pointer(pointer)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            for at in 0..=len + 1 {
                let mut object = Object::from_json("v1", "Test", "x".into(), body.clone());
                object.splice = Some(crate::object::Splice {
                    pointer,
                    at,
                    items: std::sync::Arc::clone(&shared),
                });
                // Twice with one cache: the second document copies the laid-out items.
                let mut cache = SharedText::default();
                for _ in 0..2 {
                    let mut ours = String::new();
                    push_document(&mut ours, &object, &mut cache).expect("our writer");
                    let theirs = serde_saphyr::to_string(&*object.full_body()).expect("saphyr");
                    assert_eq!(ours, theirs, "{pointer} at {at} in {body}");
                }
            }
        }
    }

    #[test]
    fn a_key_too_long_for_a_simple_key_falls_back_to_serde_saphyr_for_the_document() {
        let long = "k".repeat(1100);
        let quoted_long = format!("{}:", "k".repeat(1020)); // quoting makes it too long
        for key in [long, quoted_long] {
            let mut map = Map::new();
            map.insert(key, json!({ "a": [1] }));
            assert_same(&json!([Value::Object(map.clone()), { "b": Value::Object(map) }]));
        }
    }

    #[test]
    fn the_fast_path_is_taken_for_common_strings_only() {
        let plain_value = |s: &str| {
            s.len() <= FOLD_BYTES
                && is_plain(s.as_bytes(), classes(s.as_bytes()) & (NOT_PLAIN | SPACE))
        };
        let plain_key = |s: &str| is_plain(s.as_bytes(), classes(s.as_bytes()) & (NOT_KEY | SPACE));
        for s in [
            "st2-st2api",
            "app.kubernetes.io/name",
            "-Xmx1g",
            "--flag=a:b",
            "/opt/x",
            "a #b",
        ] {
            assert!(plain_value(s) || s.contains(" #"), "{s:?}");
        }
        for s in [
            "3.8", "yes", "Off", "-inf", "---", "- x", "a: b", "a ", "é", "a\tb", "", "-1",
        ] {
            assert!(!plain_value(s), "{s:?}");
        }
        assert!(plain_key("app.kubernetes.io/name"));
        for s in ["a:b", "a,b", "a[0]", "a{b}", "y", "80"] {
            assert!(!plain_key(s), "{s:?}");
        }
    }

    /// Characters that matter to YAML, one per entry (some are several bytes).
    const ALPHABET: &[&str] = &[
        "a", "b", "Z", "x", "y", "n", "e", "E", "0", "1", "7", "9", " ", " ", "\t", "\n", "\n",
        "\r", ":", ":", "#", "-", "-", "?", "'", "\"", "\\", "{", "}", "[", "]", ",", "&", "*",
        "!", "|", ">", "%", "@", "`", ".", ".", "~", "_", "+", "/", "=", "<", "é", "\u{7f}",
        "\u{85}", "\u{a0}", "\u{feff}", "\u{2028}", "😀", "\u{0}", "\u{1b}",
    ];

    const WORDS: &[&str] = &[
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "N",
        "true",
        "False",
        "null",
        "~",
        "NaN",
        ".inf",
        "-Inf",
        "<<",
        "=",
        "0777",
        "0x1f",
        "0o7",
        "1e3",
        "1_000",
        "3.8",
        "12:30:45",
        "2001-12-14",
        "---",
        "...",
        "- ",
        "? ",
        ": ",
        " #",
        "",
        "name",
        "app.kubernetes.io/name",
        "-Xmx",
        "--flag",
        "/etc/st2",
        "a very long sentence that needs to be long enough to pass eighty",
        "characters when it is repeated a couple of times in one generated string",
    ];

    struct Gen(ChaCha8Rng);

    impl Gen {
        fn below(&mut self, n: u32) -> u32 {
            self.0.next_u32() % n
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len() as u32) as usize]
        }

        fn string(&mut self) -> String {
            let mut s = String::new();
            for _ in 0..=self.below(4) {
                if self.below(3) == 0 {
                    s.push_str(self.pick(WORDS));
                } else {
                    for _ in 0..self.below(6) {
                        s.push_str(self.pick(ALPHABET));
                    }
                }
            }
            s
        }

        fn scalar(&mut self) -> Value {
            match self.below(12) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => json!(self.0.next_u64() >> self.below(64)),
                3 => json!(-((self.0.next_u64() >> (1 + self.below(63))) as i64)),
                4 => {
                    let bits = self.0.next_u64();
                    let f = match self.below(3) {
                        0 => f64::from_bits(bits),
                        1 => (bits >> 40) as f64 / 1024.0,
                        _ => (bits >> 50) as f64,
                    };
                    Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                _ => Value::String(self.string()),
            }
        }

        fn value(&mut self, depth: u32) -> Value {
            if depth == 0 || self.below(3) == 0 {
                return self.scalar();
            }
            let len = self.below(5);
            if self.below(2) == 0 {
                Value::Array((0..len).map(|_| self.value(depth - 1)).collect())
            } else {
                let mut map = Map::new();
                for _ in 0..len {
                    let key = self.string();
                    let value = self.value(depth - 1);
                    map.insert(key, value);
                }
                Value::Object(map)
            }
        }
    }

    #[test]
    fn random_trees_match_serde_saphyr() {
        let mut trees = Gen(ChaCha8Rng::seed_from_u64(0x5eed_7a11));
        for _ in 0..4000 {
            let value = trees.value(4);
            assert_same(&value);
        }
    }
}
