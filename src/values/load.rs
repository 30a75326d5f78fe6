//! Reading one YAML document of values the way Helm reads it.
//!
//! Helm parses values with a YAML 1.1 resolver: plain `yes`/`no`/`on`/`off`/`y`/`n` (any case
//! variant) are booleans, `0755` is octal, `~` and the empty scalar are null — for map keys too,
//! which then become their string form (`on: x` is the key `"true"`). Quoted scalars are always
//! strings. The loader also records where every key was written ([`Origins`]) so later stages can
//! point at `file:line:column` for a key path. It rejects duplicate keys, anchors that expand too
//! much, and documents nested too deeply, so hostile input fails fast.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::{Map, Value};
use crate::error::{Location, ValuesError};

/// Nesting deeper than this is rejected (values files are a few levels deep; this only stops abuse).
const MAX_DEPTH: usize = 128;
/// Upper bound on nodes produced by one document, counting every alias expansion.
const MAX_NODES: usize = 1_000_000;

/// Where each key path of a values layer was written: `st2web.replicas` → `custom.yaml:12:3`.
#[derive(Debug, Default, Clone)]
pub struct Origins {
    paths: HashMap<String, Location>,
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
        self.paths.extend(other.paths);
    }
}

/// Parse the text of a values file. An empty document is an empty map; a document that is not a
/// map is an error (Helm requires a map at the top).
pub fn parse_document(text: &str, file: &str) -> Result<(Map, Origins), ValuesError> {
    let mut builder = Builder {
        file,
        origins: Origins::default(),
        anchors: HashMap::new(),
        nodes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let mut root: Option<(Value, Span)> = None;
    let mut documents = 0;
    loop {
        let (event, _) = builder.next(&mut parser)?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                let (event, span) = builder.next(&mut parser)?;
                if matches!(event, Event::DocumentEnd) {
                    continue;
                }
                let value = builder.node(&mut parser, event, span, "", 0)?;
                // Helm merges every document of a multi-document file in order.
                root = Some(match root {
                    None => (value, span),
                    Some((Value::Map(mut acc), s)) => {
                        if let Value::Map(m) = value {
                            super::merge_user_layer(&mut acc, m);
                        }
                        (Value::Map(acc), s)
                    }
                    Some(other) => other,
                });
                let (event, span) = builder.next(&mut parser)?;
                if !matches!(event, Event::DocumentEnd) {
                    return Err(builder.error(span, "expected the end of the document"));
                }
            }
            _ => {}
        }
    }
    let _ = documents;
    match root {
        None | Some((Value::Null, _)) => Ok((Map::new(), builder.origins)),
        Some((Value::Map(m), _)) => Ok((m, builder.origins)),
        Some((_, span)) => {
            Err(builder.error(span, "a values file must be a map of keys at the top level"))
        }
    }
}

struct Builder<'f> {
    file: &'f str,
    origins: Origins,
    anchors: HashMap<usize, Value>,
    nodes: usize,
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

    fn count(&mut self, span: Span, n: usize) -> Result<(), ValuesError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            return Err(self.error(span, "the document expands to too many nodes (alias bomb?)"));
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
                let value = resolve_scalar(&text, style, tag.as_deref().map(|t| t.suffix.as_str()));
                if anchor > 0 {
                    self.anchors.insert(anchor, value.clone());
                }
                Ok(value)
            }
            Event::Alias(id) => {
                let value = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| self.error(span, "alias to an unknown anchor"))?;
                self.count(span, node_count(&value))?;
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
                    self.origins.insert(item_path.clone(), self.location(span));
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
                loop {
                    let (event, key_span) = self.next(parser)?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = match self.node(parser, event, key_span, path, depth + 1)? {
                        Value::String(s) => s,
                        Value::Map(_) | Value::List(_) => {
                            return Err(self.error(key_span, "a map key must be a scalar"));
                        }
                        other => other.to_go_string(),
                    };
                    let key_path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    let (event, span) = self.next(parser)?;
                    let value = self.node(parser, event, span, &key_path, depth + 1)?;
                    if key == "<<" {
                        // YAML 1.1 merge key: the referenced map(s) fill keys not set explicitly.
                        for source in match value {
                            Value::List(l) => l,
                            other => vec![other],
                        } {
                            if let Value::Map(m) = source {
                                for (k, v) in m {
                                    map.entry(k).or_insert(v);
                                }
                            }
                        }
                        continue;
                    }
                    if map.contains_key(&key) {
                        return Err(self.error(key_span, format!("duplicate key `{key_path}`")));
                    }
                    self.origins.insert(key_path, self.location(key_span));
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

fn node_count(value: &Value) -> usize {
    match value {
        Value::List(l) => 1 + l.iter().map(node_count).sum::<usize>(),
        Value::Map(m) => 1 + m.values().map(node_count).sum::<usize>(),
        _ => 1,
    }
}

/// Resolve a scalar as Helm's YAML 1.1 reader does. Quoted and block scalars are strings;
/// explicit core tags (`!!str`, `!!int`…) are honoured.
pub fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::String(text.to_string()),
        Some("null") => return Value::Null,
        Some("bool") => {
            return parse_bool(text).map_or_else(|| Value::String(text.into()), Value::Bool);
        }
        Some("int") | Some("float") => {
            return parse_number(text).unwrap_or_else(|| Value::String(text.into()));
        }
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_string());
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    parse_number(text).unwrap_or_else(|| Value::String(text.to_string()))
}

/// YAML 1.1 booleans (the forms go-yaml v2 accepts).
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Some(false)
        }
        _ => None,
    }
}

/// YAML 1.1 numbers: decimal, `0x` hex, leading-zero octal, `0b` binary, `_` separators, floats
/// and `.inf`/`.nan`.
fn parse_number(text: &str) -> Option<Value> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let int = if let Some(hex) = clean.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(bin) = clean.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if clean.len() > 1 && clean.starts_with('0') && clean.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&clean[1..], 8).ok()
    } else if clean.bytes().all(|b| b.is_ascii_digit()) {
        clean.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(Value::Int(if neg { -i } else { i }));
    }
    let lower = clean.to_ascii_lowercase();
    if lower == ".inf" {
        return Some(Value::Float(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }));
    }
    if lower == ".nan" && !neg {
        return Some(Value::Float(f64::NAN));
    }
    // YAML 1.1 float: digits with a dot and/or an exponent; no leading dot-less forms like "1e3"
    // without a dot are floats in go-yaml v2 either way, so accept what Rust parses after checking
    // the character set.
    let looks_float = clean
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && clean
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && clean.bytes().any(|b| b.is_ascii_digit());
    if let (true, Ok(f)) = (looks_float, clean.parse::<f64>()) {
        return Some(Value::Float(if neg { -f } else { f }));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Map {
        parse_document(text, "test.yaml")
            .map(|(m, _)| m)
            .expect("parses")
    }

    #[test]
    fn yaml_1_1_scalars_resolve_like_helm() {
        let m = parse(
            "a: yes\nb: off\nc: 0755\nd: '0755'\ne: ~\nf:\ng: 1.5\nh: 0x1F\ni: \"on\"\nj: 3\nk: 1e3\n",
        );
        assert_eq!(m["a"], Value::Bool(true));
        assert_eq!(m["b"], Value::Bool(false));
        assert_eq!(m["c"], Value::Int(493));
        assert_eq!(m["d"], Value::String("0755".into()));
        assert_eq!(m["e"], Value::Null);
        assert_eq!(m["f"], Value::Null);
        assert_eq!(m["g"], Value::Float(1.5));
        assert_eq!(m["h"], Value::Int(31));
        assert_eq!(m["i"], Value::String("on".into()));
        assert_eq!(m["j"], Value::Int(3));
        assert_eq!(m["k"], Value::Float(1000.0));
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
    fn deep_nesting_fails_fast() {
        let doc = "[".repeat(1000) + &"]".repeat(1000);
        assert!(parse_document(&format!("a: {doc}\n"), "deep.yaml").is_err());
    }
}
