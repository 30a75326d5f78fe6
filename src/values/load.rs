//! Reading a values file the way Helm (v4.1.4: go-yaml v2, then a JSON round trip) reads it.
//!
//! Plain scalars resolve by YAML 1.1 rules ([`resolve_plain`]): `yes`/`no`/`on`/`off`/`y`/`n`
//! are booleans, `0755` is octal, `~` and the empty scalar are null — for map keys too, which
//! then become their string form (`on: x` is the key `"true"`). Quoted scalars are strings.
//! Documents of a multi-document file merge in order. Where Helm fails (null keys, `.inf`, a
//! document that is not a map) this fails too, with `file:line:column`. Deliberately stricter
//! than Helm: duplicate keys are errors (Helm keeps the last). The loader records where every key
//! was written ([`Origins`]) and stops alias bombs and deep nesting early.

use std::collections::HashMap;
use std::io::Read;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::{Map, Value};
use crate::error::{Location, ValuesError};

/// Nesting deeper than this is rejected (values files are a few levels deep; this only stops abuse).
const MAX_DEPTH: usize = 128;
/// Upper bound on nodes produced by one document, counting every alias expansion.
const MAX_NODES: usize = 1_000_000;
/// Upper bound on the text (strings and keys) that alias expansions of one document copy: a
/// reference is three bytes, and must not copy a long string a hundred thousand times.
const MAX_ALIAS_BYTES: usize = 16 * 1024 * 1024;
/// Largest values file (or `--set-file` file, or stdin) read: real ones are a few kilobytes, and
/// Kubernetes stores no object above ~1.5 MiB, so this only stops junk before it is parsed.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Read a values file, stdin or `--set-file` file as text: at most [`MAX_FILE_BYTES`] (larger
/// input is an error, not a memory hog), and UTF-8 (else an error at the first bad byte).
pub fn read_text(source: impl std::io::Read, file: &str) -> Result<String, ValuesError> {
    let read_error = |source| ValuesError::Read {
        file: file.to_string(),
        source,
    };
    let mut bytes = Vec::new();
    source
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(read_error(std::io::Error::other(format!(
            "larger than {} MiB; a values file is YAML text of a few kilobytes",
            MAX_FILE_BYTES / (1024 * 1024)
        ))));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
        let byte = e.as_bytes().get(good.len()).copied().unwrap_or_default();
        ValuesError::Syntax {
            location: Location {
                file: file.to_string(),
                line: good.iter().filter(|b| **b == b'\n').count() + 1,
                column,
            },
            message: format!("not UTF-8 text (byte 0x{byte:02X}); values files must be UTF-8"),
        }
    })
}

/// Where each key path of a values layer was written: `st2web.replicas` → `custom.yaml:12:3`,
/// and where the lines of the text files kept in values ([`holds_text_file`]) are, when written
/// as literal blocks (`|`), so a problem on line 3 of `st2.config` is reported on its file line.
#[derive(Debug, Default, Clone)]
pub struct Origins {
    paths: HashMap<String, Location>,
    blocks: HashMap<String, Block>,
}

/// A literal block scalar: where its first line is and what it holds.
#[derive(Debug, Clone)]
struct Block {
    file: String,
    /// File line of the value's first line.
    line: usize,
    /// Columns of block indentation (file column of the value's column 1, minus one).
    indent: usize,
    text: String,
}

/// The values key whose string is st2.conf text.
const TEXT_FILE: &str = "st2.config";

/// Values maps whose entries are files st2 reads, one per key (file names, dots included).
pub const TEXT_FILE_DIRS: &[&str] = &["st2.packs.configs", "st2.overrides"];

/// Values keys whose strings are files st2 reads (st2.conf, pack configs, pack overrides): the
/// loader records where their lines are, so checks of those files can point into the values file.
fn holds_text_file(path: &str) -> bool {
    path == TEXT_FILE
        || TEXT_FILE_DIRS.iter().any(|dir| {
            path.strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('.'))
        })
}

impl Origins {
    /// The location of the key path (dotted, list items as `[N]`), if a layer wrote it.
    pub fn get(&self, path: &str) -> Option<&Location> {
        self.paths.get(path)
    }

    pub fn insert(&mut self, path: String, location: Location) {
        self.paths.entry(path).or_insert(location);
    }

    /// Later layers override earlier ones for the same key path.
    pub fn extend(&mut self, other: Origins) {
        for path in other.paths.keys() {
            self.blocks.remove(path);
        }
        self.paths.extend(other.paths);
        self.blocks.extend(other.blocks);
    }

    /// The file location of `(line, column)` (from 1) inside `text`, the value at `path`, when
    /// that value was written as a literal block holding exactly `text`.
    pub fn inside(
        &self,
        path: &str,
        text: &str,
        (line, column): (usize, usize),
    ) -> Option<Location> {
        let block = self.blocks.get(path).filter(|b| b.text == text)?;
        Some(Location {
            file: block.file.clone(),
            line: block.line + line - 1,
            column: block.indent + column,
        })
    }
}

/// Parse the text of a values file. Every document must be a map (or empty); documents are
/// merged in order, as Helm's `LoadValues` does. An empty file is an empty map.
pub fn parse_document(text: &str, file: &str) -> Result<(Map, Origins), ValuesError> {
    parse(text, file, true)
}

/// [`parse_document`] for the embedded defaults: nobody asks where a default was written, so
/// key locations are not recorded (a third of the parse's cost).
pub fn parse_builtin(text: &str, file: &str) -> Result<Map, ValuesError> {
    parse(text, file, false).map(|(map, _)| map)
}

fn parse(text: &str, file: &str, track: bool) -> Result<(Map, Origins), ValuesError> {
    let mut builder = Builder {
        file,
        text,
        line_starts: std::cell::OnceCell::new(),
        track,
        origins: Origins::default(),
        anchors: HashMap::new(),
        nodes: 0,
        alias_bytes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let mut values = Map::new();
    loop {
        let (event, _) = builder.next(&mut parser)?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                // Anchors do not cross document boundaries.
                builder.anchors.clear();
                let (event, span) = builder.next(&mut parser)?;
                if matches!(event, Event::DocumentEnd) {
                    continue;
                }
                match builder.node(&mut parser, event, span, "", 0)? {
                    Value::Map(m) => super::merge_user_layer(&mut values, m),
                    Value::Null => {}
                    _ => {
                        return Err(builder
                            .error(span, "a values file must be a map of keys at the top level"));
                    }
                }
                let (event, span) = builder.next(&mut parser)?;
                if !matches!(event, Event::DocumentEnd) {
                    return Err(builder.error(span, "expected the end of the document"));
                }
            }
            _ => {}
        }
    }
    Ok((values, builder.origins))
}

struct Builder<'f> {
    file: &'f str,
    /// The document's text, to find the indentation of literal blocks.
    text: &'f str,
    /// Byte offset of each line of `text`, built at the first block that needs it.
    line_starts: std::cell::OnceCell<Vec<usize>>,
    /// Record key locations in `origins`.
    track: bool,
    origins: Origins,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    /// Text copied by alias expansions so far ([`MAX_ALIAS_BYTES`]).
    alias_bytes: usize,
}

impl Builder<'_> {
    fn location(&self, span: Span) -> Location {
        Location {
            file: self.file.to_string(),
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }

    fn error(&self, span: Span, message: impl Into<String>) -> ValuesError {
        ValuesError::Syntax {
            location: self.location(span),
            message: message.into(),
        }
    }

    fn next<'i>(
        &self,
        parser: &mut Parser<'i, saphyr_parser::StrInput<'i>>,
    ) -> Result<(Event<'i>, Span), ValuesError> {
        match parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(ValuesError::Syntax {
                location: Location {
                    file: self.file.to_string(),
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                },
                message: e.info().to_string(),
            }),
            None => Err(ValuesError::Syntax {
                location: Location {
                    file: self.file.to_string(),
                    line: 0,
                    column: 0,
                },
                message: "unexpected end of input".into(),
            }),
        }
    }

    /// Record where the lines of the literal block `value` (at `path`, its `|` at `span`) are.
    fn record_block(&mut self, path: &str, value: &str, span: Span) {
        let Some((k, value_line)) = value
            .split('\n')
            .enumerate()
            .find(|(_, l)| !l.trim().is_empty())
        else {
            return;
        };
        let text = self.text;
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let file_line = |n: usize| {
            let start = *starts.get(n.checked_sub(1)?)?;
            text[start..].split('\n').next()
        };
        // The scalar's span starts at its first line with content (or, leading blank lines
        // included, at its first line): the file line that holds value line `k` decides.
        let span_line = span.start.line();
        let Some((first, line)) = [span_line.checked_sub(k), Some(span_line)]
            .into_iter()
            .flatten()
            .find_map(|first| {
                let line = file_line(first + k)?;
                (line.trim_end().ends_with(value_line.trim_end())).then_some((first, line))
            })
        else {
            return;
        };
        let leading = |l: &str| l.len() - l.trim_start_matches(' ').len();
        let Some(indent) = leading(line).checked_sub(leading(value_line)) else {
            return;
        };
        self.origins.blocks.insert(
            path.to_string(),
            Block {
                file: self.file.to_string(),
                line: first,
                indent,
                text: value.to_string(),
            },
        );
    }

    fn count(&mut self, span: Span, n: usize) -> Result<(), ValuesError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(self.error(
                span,
                format!("the document holds more than {MAX_NODES} values, counting every alias expansion"),
            ));
        }
        Ok(())
    }

    /// A map key as Helm sees it: the scalar's string form (`on` → `"true"`, `0x1F` → `"31"`,
    /// `1.5` → `"1.5"`); null and collection keys are errors, as in Helm.
    fn key(&mut self, event: Event<'_>, span: Span) -> Result<String, ValuesError> {
        let key = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let scalar =
                    resolve(&text, style, tag.as_deref()).map_err(|m| self.error(span, m))?;
                if anchor > 0 {
                    let value = match &scalar {
                        Scalar::Value(v) => v.clone(),
                        Scalar::Uint(u) => Value::Float(*u as f64),
                    };
                    self.anchors.insert(anchor, value);
                }
                match scalar {
                    Scalar::Uint(u) => Some(u.to_string()),
                    Scalar::Value(v) => key_string(&v),
                }
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(v) => key_string(v),
                None => return Err(self.error(span, "alias to an unknown anchor")),
            },
            _ => None,
        };
        key.ok_or_else(|| {
            self.error(
                span,
                "a map key must be a string, number or boolean (not null, a list or a map)",
            )
        })
    }

    /// A YAML 1.1 merge key (`<<: *base` or `<<: [*a, *b]`), the way go-yaml v2 applies it: the
    /// merged keys overwrite keys written before the `<<`, and among several maps the first wins.
    fn merge_into(&self, map: &mut Map, value: Value, span: Span) -> Result<(), ValuesError> {
        let sources = match value {
            Value::Map(m) => vec![m],
            Value::List(items) => items
                .into_iter()
                .rev()
                .map(|item| match item {
                    Value::Map(m) => Ok(m),
                    _ => Err(self.error(span, "a merge key (`<<`) needs a map or a list of maps")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(self.error(span, "a merge key (`<<`) needs a map or a list of maps")),
        };
        for source in sources {
            map.extend(source);
        }
        Ok(())
    }

    fn node<'i>(
        &mut self,
        parser: &mut Parser<'i, saphyr_parser::StrInput<'i>>,
        event: Event<'i>,
        span: Span,
        path: &str,
        depth: usize,
    ) -> Result<Value, ValuesError> {
        if depth > MAX_DEPTH {
            return Err(self.error(span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.count(span, 1)?;
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value =
                    match resolve(&text, style, tag.as_deref()).map_err(|m| self.error(span, m))? {
                        Scalar::Value(v) => v,
                        Scalar::Uint(u) => Value::Float(u as f64),
                    };
                if matches!(value, Value::Float(f) if !f.is_finite()) {
                    return Err(self.error(
                        span,
                        format!("`{text}`: infinite and NaN numbers are not allowed (Helm cannot convert them to JSON)"),
                    ));
                }
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                if self.track && style == ScalarStyle::Literal && holds_text_file(path) {
                    self.record_block(path, &text, span);
                }
                Ok(value)
            }
            Event::Alias(id) => {
                let value = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| self.error(span, "alias to an unknown anchor"))?;
                let (nodes, bytes) = node_count(&value);
                self.count(span, nodes)?;
                self.alias_bytes = self.alias_bytes.saturating_add(bytes);
                if self.alias_bytes > MAX_ALIAS_BYTES {
                    return Err(self.error(
                        span,
                        format!(
                            "alias expansion copies more than {} MiB of text",
                            MAX_ALIAS_BYTES / (1024 * 1024)
                        ),
                    ));
                }
                Ok(value)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next(parser)?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    let item_path = format!("{path}[{}]", items.len());
                    if self.track {
                        self.origins.insert(item_path.clone(), self.location(span));
                    }
                    items.push(self.node(parser, event, span, &item_path, depth + 1)?);
                }
                let value = Value::List(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                Ok(value)
            }
            Event::MappingStart(anchor, _) => {
                let mut map = Map::new();
                // Keys written in this mapping (merged-in keys may be overridden, these may not).
                let mut explicit = std::collections::HashSet::new();
                loop {
                    let (event, key_span) = self.next(parser)?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let is_merge = matches!(&event, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
                    let key = self.key(event, key_span)?;
                    let key_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    let (event, span) = self.next(parser)?;
                    let value = self.node(parser, event, span, &key_path, depth + 1)?;
                    if is_merge {
                        self.merge_into(&mut map, value, span)?;
                        continue;
                    }
                    if !explicit.insert(key.clone()) {
                        return Err(self.error(key_span, format!("duplicate key `{key_path}`")));
                    }
                    if self.track {
                        self.origins.insert(key_path, self.location(key_span));
                    }
                    map.insert(key, value);
                }
                let value = Value::Map(map);
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                Ok(value)
            }
            _ => Err(self.error(span, "unexpected YAML event")),
        }
    }
}

/// The nodes in `value` and the bytes of its strings and keys.
fn node_count(value: &Value) -> (usize, usize) {
    let add = |(n, b): (usize, usize), (n2, b2): (usize, usize)| (n + n2, b.saturating_add(b2));
    match value {
        Value::List(l) => l.iter().map(node_count).fold((1, 0), add),
        Value::Map(m) => m
            .iter()
            .map(|(k, v)| add(node_count(v), (0, k.len())))
            .fold((1, 0), add),
        Value::String(s) => (1, s.len()),
        _ => (1, 0),
    }
}

/// A resolved scalar; `Uint` keeps integers above `i64::MAX` exact for use as map keys.
enum Scalar {
    Value(Value),
    Uint(u64),
}

/// A map key's string form, as Helm's YAML-to-JSON step writes it (floats with 32-bit precision).
fn key_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(super::go_float32(*f as f32)),
        Value::Null | Value::List(_) | Value::Map(_) => None,
    }
}

/// Resolve a scalar as Helm's YAML reader (go-yaml v2) does. Quoted and block scalars are
/// strings; core tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!binary`) are
/// honoured and must match the text; other tags leave the text a string.
fn resolve(
    text: &str,
    style: ScalarStyle,
    tag: Option<&saphyr_parser::Tag>,
) -> Result<Scalar, String> {
    let plain = || {
        if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Scalar::Value(Value::String(text.to_string()))
        }
    };
    let Some(tag) = tag else { return Ok(plain()) };
    let core = if tag.is_yaml_core_schema() {
        tag.suffix.as_str()
    } else {
        ""
    };
    let resolved = match core {
        "str" => return Ok(Scalar::Value(Value::String(text.to_string()))),
        "binary" => {
            use base64::Engine as _;
            let compact: String = text.split_whitespace().collect();
            return base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map(|bytes| {
                    Scalar::Value(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
                })
                .map_err(|_| "not valid !!binary (base64)".to_string());
        }
        "int" | "float" | "bool" | "null" => resolve_plain(text),
        _ => return Ok(Scalar::Value(Value::String(text.to_string()))),
    };
    let matches = match (&resolved, core) {
        (Scalar::Value(Value::Int(i)), "float") => {
            return Ok(Scalar::Value(Value::Float(*i as f64)));
        }
        (Scalar::Uint(u), "float") => return Ok(Scalar::Value(Value::Float(*u as f64))),
        (Scalar::Value(Value::Int(_)) | Scalar::Uint(_), "int") => true,
        (Scalar::Value(Value::Float(_)), "float") => true,
        (Scalar::Value(Value::Bool(_)), "bool") => true,
        (Scalar::Value(Value::Null), "null") => true,
        _ => false,
    };
    if matches {
        Ok(resolved)
    } else {
        Err(format!("the scalar does not read as !!{core}"))
    }
}

/// Whether go-yaml v2 reads the plain scalar `text` as a string (not a bool, null or number).
pub(super) fn plain_reads_as_string(text: &str) -> bool {
    matches!(resolve_plain(text), Scalar::Value(Value::String(_)))
}

/// A plain (unquoted) scalar under go-yaml v2's YAML 1.1 rules: the first char decides what it
/// may be; `y`/`n`/`yes`/`on`/`off`/`true`… (three spellings each) are booleans; `~`, `null` and
/// the empty scalar are null; integers are Go literals (`0x`, `0o`, `0b`, leading-zero octal,
/// sign, `_` anywhere); floats need digits and may have a dot and an exponent (`1e3`, `.5`);
/// anything else — sexagesimal `1:20`, dates, `1e400` — stays a string.
fn resolve_plain(text: &str) -> Scalar {
    let string = || Scalar::Value(Value::String(text.to_string()));
    let value = |v| Scalar::Value(v);
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return value(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return value(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return value(Value::Bool(false));
        }
        ".nan" | ".NaN" | ".NAN" => return value(Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return value(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return value(Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match text.as_bytes().first() {
        // Go's ParseFloat, underscores only between digits.
        Some(b'.') if underscores_between_digits(text) => {
            go_float(&text.replace('_', "")).map_or_else(string, |f| value(Value::Float(f)))
        }
        Some(b'+' | b'-' | b'0'..=b'9') => {
            let plain = text.replace('_', "");
            if let Some(n) = go_int(&plain) {
                return match i64::try_from(n) {
                    Ok(i) => value(Value::Int(i)),
                    Err(_) => match u64::try_from(n) {
                        Ok(u) if !plain.starts_with('+') => Scalar::Uint(u),
                        _ => go_float(&plain).map_or_else(string, |f| value(Value::Float(f))),
                    },
                };
            }
            go_float(&plain).map_or_else(string, |f| value(Value::Float(f)))
        }
        _ => string(),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` (and `ParseUint`): sign, then `0x`/`0o`/`0b` or a leading
/// `0` for octal. Returns the value when it fits in 64 bits either way.
fn go_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i128::from(u64::from_str_radix(digits, radix).ok()?);
    Some(if neg { -n } else { n })
}

/// go-yaml v2's float syntax (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`), finite only
/// (Go's ParseFloat reports overflow as an error, so `1e400` stays a string).
fn go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_digits = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_digits = digits(&mut i);
        if int_digits == 0 && frac_digits == 0 {
            return None;
        }
    } else if int_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's rule for `_` in number literals: only between two digits.
fn underscores_between_digits(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, c)| {
        *c != b'_'
            || (i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Map {
        parse_document(text, "test.yaml")
            .map(|(m, _)| m)
            .expect("parses")
    }

    /// `(plain scalar, what Helm holds)`, checked against helm v4.1.4 (`kindOf`/`printf "%#v"`)
    /// on a chart printing its values. Helm holds every number as float64; st2k8s keeps
    /// integers as `Int` so they print in full.
    #[test]
    fn yaml_1_1_scalars_resolve_like_helm() {
        use Value::{Bool, Float, Int, Null};
        let s = |t: &str| Value::String(t.to_string());
        let rows: &[(&str, Value)] = &[
            ("yes", Bool(true)),
            ("Off", Bool(false)),
            ("y", Bool(true)),
            ("N", Bool(false)),
            ("ON", Bool(true)),
            ("TRUE", Bool(true)),
            ("tRue", s("tRue")),
            ("o", s("o")),
            ("~", Null),
            ("null", Null),
            ("NULL", Null),
            ("nUll", s("nUll")),
            ("3", Int(3)),
            ("+1", Int(1)),
            ("+12", Int(12)),
            ("-0", Int(0)),
            ("0755", Int(493)),
            ("0777", Int(511)),
            ("012_3", Int(83)),
            ("0009", Float(9.0)),
            ("08", Float(8.0)),
            ("0o17", Int(15)),
            ("0b1010", Int(10)),
            ("0B11", Int(3)),
            ("0x1F", Int(31)),
            ("0X1F", Int(31)),
            ("0x_1F", Int(31)),
            ("-0x1F", Int(-31)),
            ("0b_1", Int(1)),
            ("1_000", Int(1000)),
            ("1__0", Int(10)),
            ("1_", Int(1)),
            ("_1", s("_1")),
            ("0x", s("0x")),
            ("9223372036854775807", Int(i64::MAX)),
            ("9223372036854775808", Float(9.223_372_036_854_776e18)),
            ("-9223372036854775809", Float(-9.223_372_036_854_776e18)),
            ("0xFFFFFFFFFFFFFFFFF", s("0xFFFFFFFFFFFFFFFFF")),
            ("1.5", Float(1.5)),
            ("1.0", Float(1.0)),
            ("1.", Float(1.0)),
            ("0.", Float(0.0)),
            ("09.5", Float(9.5)),
            ("1e3", Float(1000.0)),
            ("1E3", Float(1000.0)),
            ("1e+3", Float(1000.0)),
            ("1.5e3", Float(1500.0)),
            ("1.5E+3", Float(1500.0)),
            ("-1e3", Float(-1000.0)),
            ("1e-3", Float(0.001)),
            ("1.0e-3", Float(0.001)),
            (".5", Float(0.5)),
            ("-.5", Float(-0.5)),
            ("+.5", Float(0.5)),
            ("1_0.5", Float(10.5)),
            ("0.1_5", Float(0.15)),
            (".5_5", Float(0.55)),
            ("._5", s("._5")),
            ("1e400", s("1e400")),
            ("1e", s("1e")),
            ("1.5.5", s("1.5.5")),
            ("1:20", s("1:20")),
            ("190:20:30", s("190:20:30")),
            ("-1:30", s("-1:30")),
            ("1:2:3.5", s("1:2:3.5")),
            ("2001-12-14", s("2001-12-14")),
            ("2001-12-14 21:59:43.10 -5", s("2001-12-14 21:59:43.10 -5")),
            (".", s(".")),
            ("1,000", s("1,000")),
            ("=", s("=")),
            ("+", s("+")),
            ("0x1p-2", s("0x1p-2")),
            ("inf", s("inf")),
            ("NaN", s("NaN")),
            ("1 2", s("1 2")),
        ];
        for (text, want) in rows {
            let got = parse(&format!("v: {text}\n"))
                .remove("v")
                .unwrap_or(Value::String("<missing>".into()));
            assert_eq!(&got, want, "`{text}`");
        }
    }

    #[test]
    fn quoted_block_and_tagged_scalars() {
        let m = parse(
            "a: '0755'\nb: \"on\"\nc: |\n  5\nd: !!str 1\ne: !!int \"5\"\nf: !!float 1\ng: !!binary aGk=\nh: !custom 5\ni: !!null ~\n",
        );
        let want = parse(
            "a: '0755'\nb: 'on'\nc: \"5\\n\"\nd: '1'\ne: 5\nf: 1.0\ng: hi\nh: '5'\ni: null\n",
        );
        assert_eq!(m, want);
        for bad in [
            "a: !!int x\n",
            "a: !!bool 1\n",
            "a: !!float x\n",
            "a: !!null x\n",
            "a: !!binary '%%'\n",
        ] {
            assert!(parse_document(bad, "t.yaml").is_err(), "{bad}");
        }
    }

    #[test]
    fn infinite_and_nan_are_errors_like_helm() {
        for text in [".inf", "-.Inf", "+.INF", ".nan", "!!float .inf"] {
            let err = parse_document(&format!("a:\n  b: {text}\n"), "f.yaml")
                .expect_err(text)
                .to_string();
            assert!(err.starts_with("f.yaml:2:6: "), "{err}");
            assert!(err.contains("infinite and NaN"), "{err}");
        }
    }

    /// `(key as written, key as Helm holds it)`.
    #[test]
    fn keys_become_their_helm_string_form() {
        let rows = [
            ("on", "true"),
            ("N", "false"),
            ("1.5", "1.5"),
            ("1e3", "1000"),
            ("0x1F", "31"),
            ("0o17", "15"),
            ("1.0", "1"),
            ("-0", "0"),
            ("0.1", "0.1"),
            ("123456789.5", "1.2345679e+08"),
            ("12345678", "12345678"),
            ("1e20", "1e+20"),
            ("2001-12-14", "2001-12-14"),
            ("'on'", "on"),
            ("18446744073709551615", "18446744073709551615"),
            ("\"<<\"", "<<"),
        ];
        for (written, want) in rows {
            let m = parse(&format!("{written}: x\n"));
            assert_eq!(m.keys().collect::<Vec<_>>(), [want], "{written}");
        }
        for bad in [
            "~: x\n",
            ": x\n",
            "? [a]\n: x\n",
            "? {a: 1}\n: x\n",
            "null: x\n",
        ] {
            let err = parse_document(bad, "k.yaml").expect_err(bad).to_string();
            assert!(err.contains("a map key must be"), "{bad}: {err}");
        }
    }

    #[test]
    fn merge_keys_follow_go_yaml_v2() {
        let m = parse(
            "base: &b {a: 1, c: 1}\nx:\n  a: 0\n  <<: *b\nv:\n  <<: [{a: 5}, {a: 6, d: 6}]\n  b: 2\nz:\n  \"<<\": {q: 1}\nw:\n  <<: *b\n  a: 9\n",
        );
        let want = parse(
            "base: {a: 1, c: 1}\nx: {a: 1, c: 1}\nv: {a: 5, b: 2, d: 6}\nz: {'<<': {q: 1}}\nw: {a: 9, c: 1}\n",
        );
        assert_eq!(m, want);
        for bad in ["x:\n  <<: 5\n", "x:\n  <<: [{a: 1}, 2]\n"] {
            let err = parse_document(bad, "m.yaml").expect_err(bad).to_string();
            assert!(err.contains("merge key"), "{err}");
        }
    }

    /// Helm's `LoadValues`: every document is a map (or empty), merged in order; nulls are kept
    /// here so that `coalesce` can delete defaults.
    #[test]
    fn multi_document_files_merge_in_order() {
        let rows = [
            ("---\n---\na: 1\n", "a: 1"),
            (
                "a: {b: 1, c: 2}\n---\na: {c: null}\nz: ~\n",
                "{a: {b: 1, c: null}, z: null}",
            ),
            ("a: [1, 2]\n---\na: [3]\n", "a: [3]"),
            ("a: {b: 1}\n---\na: 2\n---\nb: 3\n", "{a: 2, b: 3}"),
            ("~\n---\na: 1\n", "a: 1"),
            ("a: &x 1\n---\nb: 2\n", "{a: 1, b: 2}"),
        ];
        for (text, want) in rows {
            assert_eq!(parse(text), parse(want), "{text}");
        }
        for bad in [
            "a: 1\n---\n- x\n",
            "x\n",
            "a: 1\n---\nscalar\n",
            "a: &x 1\n---\nb: *x\n",
        ] {
            assert!(parse_document(bad, "d.yaml").is_err(), "{bad}");
        }
    }

    #[test]
    fn boolean_keys_become_their_string_form() {
        let m = parse("env:\n  N: x\n  on: y\n");
        let env = m["env"].as_map().expect("map");
        assert!(env.contains_key("false"));
        assert!(env.contains_key("true"));
    }

    #[test]
    fn duplicate_keys_are_errors_with_position() {
        let err = parse_document("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yaml").expect_err("dup");
        let text = err.to_string();
        assert!(text.contains("dup.yaml:4:3"), "{text}");
        assert!(text.contains("b.c"), "{text}");
    }

    #[test]
    fn empty_document_is_an_empty_map() {
        assert!(parse("").is_empty());
        assert!(parse("# only a comment\n").is_empty());
    }

    #[test]
    fn top_level_scalar_is_rejected() {
        assert!(parse_document("just text", "x.yaml").is_err());
        assert!(parse_document("- a\n- b\n", "x.yaml").is_err());
    }

    #[test]
    fn literal_blocks_of_text_files_map_their_lines() {
        let text = "st2:\n  config: |\n    [api]\n\n      allow_orign = x\n  packs:\n    configs:\n      a.yaml: |-\n        k: v\n  overrides:\n    b.yaml: 'k: v'\n";
        let (map, origins) = parse_document(text, "f.yaml").expect("parses");
        let config = Value::Map(map.clone()).at("st2.config").to_go_string();
        let at =
            |path: &str, value: &str, pos| origins.inside(path, value, pos).map(|l| l.to_string());
        assert_eq!(
            at("st2.config", &config, (1, 1)).as_deref(),
            Some("f.yaml:3:5")
        );
        assert_eq!(
            at("st2.config", &config, (3, 3)).as_deref(),
            Some("f.yaml:5:7")
        );
        assert_eq!(
            at("st2.packs.configs.a.yaml", "k: v", (1, 4)).as_deref(),
            Some("f.yaml:9:12")
        );
        // Not a literal block, a different text, or a key that holds no file: unknown.
        assert_eq!(at("st2.overrides.b.yaml", "k: v", (1, 1)), None);
        assert_eq!(at("st2.config", "[api]\n", (1, 1)), None);
        // Leading blank lines are part of the block.
        let (_, origins) =
            parse_document("st2:\n  config: |\n\n\n    [api]\n", "f.yaml").expect("parses");
        let at = |pos| {
            origins
                .inside("st2.config", "\n\n[api]\n", pos)
                .map(|l| l.to_string())
        };
        assert_eq!(at((3, 1)).as_deref(), Some("f.yaml:5:5"));
        let (_, origins) =
            parse_document("st2:\n  username: |\n    x\n", "f.yaml").expect("parses");
        assert_eq!(
            origins
                .inside("st2.username", "x\n", (1, 1))
                .map(|l| l.to_string()),
            None
        );
    }

    #[test]
    fn origins_record_key_positions() {
        let (_, origins) = parse_document("st2web:\n  replicas: 3\n", "v.yaml").expect("parses");
        let loc = origins.get("st2web.replicas").expect("recorded");
        assert_eq!((loc.line, loc.column), (2, 3));
    }

    #[test]
    fn alias_bombs_fail_fast() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert!(parse_document(&doc, "bomb.yaml").is_err());
    }

    #[test]
    fn read_text_rejects_non_utf8_at_its_position_and_oversized_input() {
        let text = read_text(&b"a: 1\nb: caf\xE9\n"[..], "l.yaml");
        let err = text.expect_err("latin-1").to_string();
        assert_eq!(
            err,
            "l.yaml:2:7: not UTF-8 text (byte 0xE9); values files must be UTF-8"
        );
        let big = std::io::repeat(b'a').take(MAX_FILE_BYTES + 10);
        let err = read_text(big, "big.yaml").expect_err("too large");
        assert_eq!(
            crate::error::report(&err),
            "cannot read `big.yaml`: larger than 16 MiB; a values file is YAML text of a few kilobytes"
        );
        assert_eq!(
            read_text(&b"a: 1\n"[..], "ok.yaml").ok().as_deref(),
            Some("a: 1\n")
        );
    }

    #[test]
    fn deep_nesting_fails_fast() {
        let doc = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse_document(&format!("a: {doc}\n"), "deep.yaml").is_err());
    }
}
