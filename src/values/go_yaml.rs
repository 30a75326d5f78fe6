//! Helm's `toYaml`, byte for byte, for values trees.
//!
//! Helm marshals with sigs.k8s.io/yaml: JSON encoding (float64 numbers, sorted keys), read back
//! by go-yaml v2 (integral numbers become ints) and emitted by go-yaml v2 — keys in go-yaml's
//! "natural" order, 2-space indentation, block sequences not indented under their key, and
//! go-yaml's choice between plain, quoted and literal scalars. `toYaml` drops one final newline.
//! Strings also pass through the JSON text: characters go-yaml's reader rejects (DEL, C1 controls,
//! U+FFFE/U+FFFF) make `toYaml` fail, and a raw NEL (U+0085) folds like a line break.

mod emitter;
mod resolve;

use std::cmp::Ordering;

use emitter::{Event, Style};

use super::Value;

/// The text Helm's `toYaml` prints for `value`. Like Helm, a tree that fails to marshal (NaN or
/// infinities, which JSON cannot encode; characters go-yaml cannot read) gives the empty string.
pub fn to_go_yaml(value: &Value) -> String {
    let mut events = Vec::new();
    if push_events(value, &mut events).is_none() {
        return String::new();
    }
    let mut text = emitter::emit(&events);
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

/// The serialization events of `value`; `None` when a number cannot be encoded.
fn push_events(value: &Value, out: &mut Vec<Event>) -> Option<()> {
    match value {
        Value::Null => out.push(Event::Scalar("null".into(), Style::Plain)),
        Value::Bool(b) => out.push(Event::Scalar(b.to_string(), Style::Plain)),
        // Helm holds every number as float64.
        Value::Int(i) => out.push(Event::Scalar(
            resolve::number_text(*i as f64)?,
            Style::Plain,
        )),
        Value::Float(f) => out.push(Event::Scalar(resolve::number_text(*f)?, Style::Plain)),
        Value::String(s) => out.push(string_event(&through_json(s, false)?)),
        Value::List(items) => {
            out.push(Event::SequenceStart);
            for item in items {
                push_events(item, out)?;
            }
            out.push(Event::SequenceEnd);
        }
        Value::Map(map) => {
            out.push(Event::MappingStart);
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| natural_cmp(a, b));
            for (key, item) in entries {
                out.push(string_event(&through_json(key, true)?));
                push_events(item, out)?;
            }
            out.push(Event::MappingEnd);
        }
    }
    Some(())
}

/// A string as go-yaml reads it back from Go's JSON encoding, where it sits in a double-quoted
/// scalar. JSON escapes control characters below U+0020 and U+2028/U+2029, but writes DEL, the
/// C1 controls and U+FFFE/U+FFFF raw, which go-yaml's reader rejects (`None`). A raw NEL is a
/// line break to YAML: with the spaces around it, one NEL folds to a space and `n` NELs to
/// `n - 1` newlines. A line break is an error in a key, and so is a document marker (`---`,
/// `...` then a blank) right after one.
fn through_json(s: &str, key: bool) -> Option<String> {
    let rejected = |c: char| matches!(u32::from(c), 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF);
    if s.chars().any(rejected) || (key && s.contains('\u{85}')) {
        return None;
    }
    // In the JSON text the string is followed by `"`, so a marker ending the string is fine;
    // one followed by a space or by the next NEL is not.
    let lines: Vec<&str> = s.split('\u{85}').collect();
    let marker_after_break = lines.iter().enumerate().skip(1).any(|(i, line)| {
        let blank_after = match line.chars().nth(3) {
            Some(c) => c == ' ',
            None => i + 1 < lines.len(),
        };
        (line.starts_with("---") || line.starts_with("...")) && blank_after
    });
    if marker_after_break {
        return None;
    }
    if !s.contains('\u{85}') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        match run.chars().filter(|&c| c == '\u{85}').count() {
            0 => out.push_str(run),
            1 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n - 1)),
        }
        run.clear();
    };
    for c in s.chars() {
        if c == ' ' || c == '\u{85}' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    Some(out)
}

/// go-yaml's `stringv`: literal for multi-line text, plain when the text reads back as a string,
/// else double-quoted.
fn string_event(s: &str) -> Event {
    let style = if s.contains('\n') {
        Style::Literal
    } else if resolve::plain_is_string(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    Event::Scalar(s.to_string(), style)
}

/// go-yaml v2's key order (`keyList.Less` for string keys): at the first difference a non-letter
/// sorts before a letter, and runs of digits compare by numeric value (`a2` < `a10`). Digits
/// and letters are classified with Rust's Unicode tables, which agree with Go's on ASCII.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    for i in 0..ar.len().min(br.len()) {
        let (ac, bc) = (ar[i], br[i]);
        if ac == bc {
            continue;
        }
        let (al, bl) = (ac.is_alphabetic(), bc.is_alphabetic());
        if al && bl {
            return ac.cmp(&bc);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // Both non-letters: compare the digit runs starting here as numbers. A run that
        // continues a number with a non-zero digit before it counts as non-zero.
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ac == '0' || bc == '0' {
            let nonzero_before = ar[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_numeric())
                .any(|&c| c != '0');
            if nonzero_before {
                an = 1;
                bn = 1;
            }
        }
        let run = |chars: &[char], n: &mut i64| -> usize {
            let len = chars[i..].iter().take_while(|c| c.is_numeric()).count();
            for c in &chars[i..i + len] {
                *n = n
                    .wrapping_mul(10)
                    .wrapping_add(i64::from(u32::from(*c)) - i64::from(u32::from('0')));
            }
            i + len
        };
        let (ai, bi) = (run(&ar, &mut an), run(&br, &mut bn));
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ac.cmp(&bc);
    }
    ar.len().cmp(&br.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Map;

    fn s(text: &str) -> Value {
        Value::String(text.to_string())
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Map>(),
        )
    }

    /// Every expectation below was printed by Helm v4.1.4's `toYaml`.
    #[test]
    fn scalars_match_helm() {
        let long = "a very long line that goes on and on beyond the eighty column limit of the go yaml emitter so it folds somewhere";
        for (value, want) in [
            // Plain when the text reads back as a string and has no indicator problem.
            (s("plain text"), "plain text"),
            (s("mid: colon"), "'mid: colon'"),
            (s("trailing colon:"), "'trailing colon:'"),
            (s("a#b"), "a#b"),
            (s("a # comment"), "'a # comment'"),
            (s("-dash"), "-dash"),
            (s("- dash"), "'- dash'"),
            (s("<<"), "<<"),
            // Leading indicators force single quotes, which double embedded quotes.
            (s("{{ .Release.Name }}"), "'{{ .Release.Name }}'"),
            (s("*star"), "'*star'"),
            (s("&amp"), "'&amp'"),
            (s("!bang"), "'!bang'"),
            (s("'single'"), "'''single'''"),
            (s("---"), "'---'"),
            (s(" leading"), "' leading'"),
            (s("trailing  "), "'trailing  '"),
            // Text that would read back as another type is double-quoted.
            (s(""), "\"\""),
            (s("yes"), "\"yes\""),
            (s("y"), "\"y\""),
            (s("off"), "\"off\""),
            (s("null"), "\"null\""),
            (s("~"), "\"~\""),
            (s("123"), "\"123\""),
            (s("3.8"), "\"3.8\""),
            (s("0x1F"), "\"0x1F\""),
            (s("0755"), "\"0755\""),
            (s("08"), "\"08\""),
            (s("1_000"), "\"1_000\""),
            (s(".5"), "\".5\""),
            (s("+.inf"), "\"+.inf\""),
            (s("1:20"), "\"1:20\""),
            (s("12:30:45"), "\"12:30:45\""),
            (
                s("2018-12-15T00:21:48.507388Z"),
                "\"2018-12-15T00:21:48.507388Z\"",
            ),
            (s("2001-12-14 21:59:43.10"), "\"2001-12-14 21:59:43.10\""),
            (s("2024-02-29"), "\"2024-02-29\""),
            (s("9223372036854775808"), "\"9223372036854775808\""),
            // ...unless it does not parse after all.
            (s("1e400"), "1e400"),
            (s("2023-02-30"), "2023-02-30"),
            (s("2023-02-29"), "2023-02-29"),
            (s("0xfffffffffffffffff"), "0xfffffffffffffffff"),
            (s("+0xFFFFFFFFFFFFFFFF"), "+0xFFFFFFFFFFFFFFFF"), // ParseUint takes no sign
            (s("0x+5"), "0x+5"),
            (s("-0x8000000000000000"), "\"-0x8000000000000000\""), // the least int64
            (s("1.2.3"), "1.2.3"),
            (s("tRUE"), "tRUE"),
            // Escapes, and characters go-yaml does not consider printable.
            (s("tab\there"), "\"tab\\there\""),
            (s("quote\"d"), "quote\"d"),
            (s("back\\slash"), "back\\slash"),
            (s("ünïcødé ☃"), "ünïcødé ☃"),
            (s("emoji 😀 here"), "\"emoji \\U0001F600 here\""),
            (s("ctl\u{1}x"), "\"ctl\\x01x\""),
            (s("a\r\nb"), "\"a\\r\\nb\""),
            (s("\u{feff}b"), "\"\\uFEFF\\x62\""),
            // Multi-line text: literal blocks with chomping and indentation hints.
            (s("line1\nline2\n"), "|\n  line1\n  line2"),
            (s("line1\nline2"), "|-\n  line1\n  line2"),
            (s("ends with two\n\n"), "|+\n  ends with two\n"),
            (s("\n"), "|2+\n"),
            (
                s("  two leading spaces\nsecond\n"),
                "|2\n    two leading spaces\n  second",
            ),
            (
                s("space before newline \nnext"),
                "\"space before newline \\nnext\"",
            ),
            (s("trail\n "), "\"trail\\n \""),
            // Long lines fold at 80 columns in plain and quoted styles.
            (
                s(long),
                "a very long line that goes on and on beyond the eighty column limit of the go yaml\n  emitter so it folds somewhere",
            ),
            (
                s(&format!("yes\t{long}")),
                "\"yes\\ta very long line that goes on and on beyond the eighty column limit of the go\n  yaml emitter so it folds somewhere\"",
            ),
            // Characters that only exist in the JSON round trip.
            (s("a\u{85}b"), "a b"),
            (s("a\u{85}\u{85}b"), "|-\n  a\n  b"),
            (s("x\u{85}---\u{85}y"), ""),
            (s("del\u{7f}"), ""),
            // Numbers are float64 in Helm; integral ones print in full.
            (Value::Int(3), "3"),
            (Value::Int(9_007_199_254_740_993), "9007199254740992"),
            (Value::Float(1.5), "1.5"),
            (Value::Float(1e6), "1000000"),
            (Value::Float(1e21), "1e+21"),
            (Value::Float(1e-7), "1e-07"),
            (Value::Float(12_345_678.5), "1.23456785e+07"),
            (
                Value::Float(1.8446744073709552e19),
                "1.8446744073709552e+19",
            ),
            (Value::Float(1e19), "10000000000000000000"),
            (Value::Float(-0.0), "0"),
            (Value::Float(f64::NAN), ""),
            (Value::Bool(true), "true"),
            (Value::Null, "null"),
            (Value::List(vec![]), "[]"),
            (map(&[]), "{}"),
        ] {
            assert_eq!(to_go_yaml(&value), want, "{value:?}");
        }
    }

    #[test]
    fn collections_match_helm() {
        let tree = map(&[
            ("b", Value::Int(1)),
            (
                "a",
                Value::List(vec![Value::Int(1), map(&[("x", Value::Bool(true))])]),
            ),
            ("a10", s("x")),
            ("a2", s("y")),
            ("A", s("z")),
            ("_u", s("w")),
            ("1", s("one")),
            ("10", s("ten")),
            ("9", s("nine")),
            ("", s("empty")),
            ("yes", s("bool")),
            (
                "nested",
                map(&[
                    (
                        "list",
                        Value::List(vec![
                            Value::List(vec![s("inner"), s("inner2")]),
                            map(&[]),
                            Value::List(vec![]),
                            map(&[("k", s("v")), ("k2", s("v2"))]),
                        ]),
                    ),
                    ("empty_map", map(&[])),
                    ("script", s("#!/bin/sh\necho hi\n")),
                ]),
            ),
        ]);
        let want = "\"\": empty\n_u: w\n\"1\": one\n\"9\": nine\n\"10\": ten\nA: z\na:\n- 1\n- x: true\na2: \"y\"\na10: x\nb: 1\n\
                    nested:\n  empty_map: {}\n  list:\n  - - inner\n    - inner2\n  - {}\n  - []\n  - k: v\n    k2: v2\n  \
                    script: |\n    #!/bin/sh\n    echo hi\n\"yes\": bool";
        assert_eq!(to_go_yaml(&tree), want);
    }

    #[test]
    fn keys_match_helm() {
        let long_key = "k".repeat(129);
        for (key, want) in [
            ("key: colon", "'key: colon': 1"),
            ("-", "'-': 1"),
            ("#", "'#': 1"),
            ("3", "\"3\": 1"),
            ("multi\nline", "? |-\n  multi\n  line\n: 1"),
            ("a\u{85}b", ""),
        ] {
            assert_eq!(to_go_yaml(&map(&[(key, Value::Int(1))])), want, "{key:?}");
        }
        // Keys longer than 128 bytes are written as explicit `? key` entries.
        assert_eq!(
            to_go_yaml(&map(&[(&long_key, s("v"))])),
            format!("? {long_key}\n: v")
        );
    }

    #[test]
    fn natural_key_order_matches_go_yaml() {
        let mut keys = vec![
            "a10b2", "a10b10", "a010", "a10", "a9", "a09", "a0", "a00", "10a", "1a", "Z", "z", "_",
            "-", ".", "é",
        ];
        keys.sort_by(|a, b| natural_cmp(a, b));
        // Order printed by Helm for the same keys.
        let want = [
            "-", ".", "_", "10a", "1a", "Z", "a0", "a00", "a9", "a09", "a10", "a10b2", "a10b10",
            "a010", "z", "é",
        ];
        assert_eq!(keys, want);
    }
}
