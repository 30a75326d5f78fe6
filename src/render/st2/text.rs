//! How the chart turns values into text: `required`, `int`, and the `|` block scalars its
//! ConfigMaps use for file contents (direct interpolation is [`Value::to_go_text`]).

use anyhow::{Result, bail};

use crate::values::Value;

/// Helm `required`: a missing, null or empty-string value fails with the chart's `message`.
pub fn required(v: &Value, message: &str) -> Result<String> {
    match v {
        Value::Null => bail!("{message}"),
        Value::String(s) if s.is_empty() => bail!("{message}"),
        other => Ok(other.to_go_string()),
    }
}

/// Sprig `int`: numbers truncate, numeric strings parse, anything else is 0.
pub fn go_int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// File contents the chart writes as a `|` block scalar (`key: |` then the text indented): YAML
/// keeps the text but clips trailing line breaks to exactly one, and empty text stays empty.
pub fn block_text(text: &str) -> String {
    let body = text.trim_end_matches('\n');
    if body.is_empty() {
        String::new()
    } else {
        format!("{body}\n")
    }
}

/// Sprig `quote` (Go `%q`): double quotes, with `"` and `\` escaped and control, space and
/// common format characters written as escapes (lowercase hex, as Go does).
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", u32::from(c)))
            }
            c if c.is_control()
                || (c.is_whitespace() && c != ' ')
                || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}') =>
            {
                match u32::from(c) {
                    v @ 0..=0xFFFF => out.push_str(&format!("\\u{v:04x}")),
                    v => out.push_str(&format!("\\U{v:08x}")),
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The string at `key`, for data maps whose entries must be file contents.
pub fn file_contents(v: &Value, key: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => bail!(
            "`{key}`: expected the file contents as a string, found {}",
            other.kind()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_text_clips_to_one_newline() {
        for (text, want) in [
            ("a", "a\n"),
            ("a\n", "a\n"),
            ("a\n\n\n", "a\n"),
            ("\na\nb", "\na\nb\n"),
            ("", ""),
            ("\n\n", ""),
        ] {
            assert_eq!(block_text(text), want, "{text:?}");
        }
    }

    #[test]
    fn interpolation_and_required_follow_helm() {
        assert_eq!(Value::Null.to_go_text(), "");
        assert_eq!(Value::Float(26379.0).to_go_text(), "26379");
        assert_eq!(
            required(&Value::String("x".into()), "m").ok(),
            Some("x".into())
        );
        assert!(required(&Value::String(String::new()), "m").is_err());
        assert!(required(&Value::Null, "m").is_err());
        assert_eq!(
            required(&Value::Bool(false), "m").ok(),
            Some("false".into())
        );
        assert_eq!(go_int(&Value::Float(3.9)), 3);
        assert_eq!(go_int(&Value::String("2".into())), 2);
        assert_eq!(go_int(&Value::Null), 0);
    }

    #[test]
    fn go_quote_escapes_like_percent_q() {
        for (text, want) in [
            ("admin", r#""admin""#),
            (r#"pa"ss\word"#, r#""pa\"ss\\word""#),
            ("tab\there\n", r#""tab\there\n""#),
            ("\u{1}\u{7f}", r#""\x01\x7f""#),
            ("nbsp\u{a0}é", r#""nbsp\u00a0é""#),
        ] {
            assert_eq!(go_quote(text), want, "{text:?}");
        }
    }
}
