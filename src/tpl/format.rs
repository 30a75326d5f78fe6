//! Go's `fmt` for the verbs templates in values use: `%v` (also how actions print), `%s`, `%d`,
//! `%q`, including Go's in-band error forms (`%!d(string=x)`), and `strconv.Quote` escaping.
//! Printability follows Go's `unicode.IsPrint` except for unassigned code points, which Rust's
//! standard library cannot identify (they print as-is instead of as `\u` escapes).

use std::fmt::Write as _;

use super::eval::{TVal, release_fields};
use crate::values::go_float;

/// Go's name for a value's dynamic type, as `%!verb(type=value)` shows it.
pub(super) fn type_name(v: &TVal) -> &'static str {
    match v {
        TVal::Nil => "<nil>",
        TVal::Bool(_) => "bool",
        TVal::Int(_) => "int",
        TVal::Float(_) | TVal::ValuesInt(_) => "float64",
        TVal::Str(_) => "string",
        TVal::List(_) => "[]interface {}",
        TVal::Map(_) | TVal::Release(_) | TVal::Chart | TVal::Root => "map[string]interface {}",
    }
}

/// Format `v` with `verb` (`v`, `s`, `d` or `q`); `depth` > 0 inside lists and maps, where Go
/// prints nil as `<nil>` whatever the verb.
pub(super) fn write_verb(
    out: &mut String,
    verb: char,
    v: &TVal,
    depth: usize,
) -> Result<(), String> {
    match v {
        TVal::Nil if depth == 0 && verb != 'v' => {
            let _ = write!(out, "%!{verb}(<nil>)");
        }
        TVal::Nil => out.push_str("<nil>"),
        TVal::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_verb(out, verb, &TVal::from_value(item), depth + 1)?;
            }
            out.push(']');
        }
        TVal::Map(m) => write_map(
            out,
            verb,
            m.iter().map(|(k, v)| (k.as_str(), TVal::from_value(v))),
            depth,
        )?,
        TVal::Release(r) => write_map(out, verb, release_fields(r).into_iter(), depth)?,
        TVal::Chart => return Err("printing `.Chart` as a whole is not supported".into()),
        TVal::Root => {
            return Err("printing the whole template root (`.` or `$`) is not supported".into());
        }
        TVal::Str(s) => match verb {
            'v' | 's' => out.push_str(s),
            'q' => quote(out, s),
            _ => bad_verb(out, verb, v),
        },
        TVal::Int(i) => match verb {
            'v' | 'd' => {
                let _ = write!(out, "{i}");
            }
            'q' => quote_rune(out, *i),
            _ => bad_verb(out, verb, v),
        },
        TVal::ValuesInt(i) if verb == 'v' => {
            let _ = write!(out, "{i}");
        }
        TVal::Float(f) if verb == 'v' => out.push_str(&float(*f)),
        TVal::Bool(b) if verb == 'v' => out.push_str(if *b { "true" } else { "false" }),
        TVal::ValuesInt(_) | TVal::Float(_) | TVal::Bool(_) => bad_verb(out, verb, v),
    }
    Ok(())
}

/// `map[k:v k:v]` in key order, the verb applied to keys and values.
fn write_map<'a>(
    out: &mut String,
    verb: char,
    entries: impl Iterator<Item = (&'a str, TVal<'a>)>,
    depth: usize,
) -> Result<(), String> {
    out.push_str("map[");
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_verb(out, verb, &TVal::Str(key.into()), depth + 1)?;
        out.push(':');
        write_verb(out, verb, &value, depth + 1)?;
    }
    out.push(']');
    Ok(())
}

/// Go's report of a verb that does not fit the value: `%!d(string=x)`.
fn bad_verb(out: &mut String, verb: char, v: &TVal) {
    let _ = write!(out, "%!{verb}({}=", type_name(v));
    // Scalars only reach here, and those always format with %v.
    let _ = write_verb(out, 'v', v, 1);
    out.push(')');
}

/// Go's `%v` of a float64 (negative zero included).
fn float(f: f64) -> String {
    if f == 0.0 && f.is_sign_negative() {
        "-0".into()
    } else {
        go_float(f)
    }
}

/// Go's `strconv.Quote`.
pub(super) fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        escape_char(out, c, '"');
    }
    out.push('"');
}

/// Go's `%q` of an integer: a quoted character (invalid code points become U+FFFD).
fn quote_rune(out: &mut String, i: i64) {
    let c = u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}');
    out.push('\'');
    escape_char(out, c, '\'');
    out.push('\'');
}

fn escape_char(out: &mut String, c: char, quote: char) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    let _ = match c {
        '\x07' => write!(out, "\\a"),
        '\x08' => write!(out, "\\b"),
        '\x0c' => write!(out, "\\f"),
        '\n' => write!(out, "\\n"),
        '\r' => write!(out, "\\r"),
        '\t' => write!(out, "\\t"),
        '\x0b' => write!(out, "\\v"),
        c if u32::from(c) < 0x20 || c == '\x7f' => write!(out, "\\x{:02x}", u32::from(c)),
        c if u32::from(c) < 0x10000 => write!(out, "\\u{:04x}", u32::from(c)),
        c => write!(out, "\\U{:08x}", u32::from(c)),
    };
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space;
/// not controls, format characters, private use, non-characters or other spaces.
fn is_print(c: char) -> bool {
    let u = u32::from(c);
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let format = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    let private_use = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let non_character = matches!(u, 0xFDD0..=0xFDEF) || u & 0xFFFE == 0xFFFE;
    !(format || private_use || non_character)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        for (s, want) in [
            ("plain", r#""plain""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("é\n\t\u{1}\u{7f}", r#""é\n\t\x01\x7f""#),
            ("\u{7}\u{8}\u{c}\u{b}\r", r#""\a\b\f\v\r""#),
            (
                "a\u{a0}\u{200b}\u{ad}\u{feff}\u{2028}\u{85}",
                r#""a\u00a0\u200b\u00ad\ufeff\u2028\u0085""#,
            ),
            ("😀\u{e000}\u{F0000}", r#""😀\ue000\U000f0000""#),
        ] {
            let mut out = String::new();
            quote(&mut out, s);
            assert_eq!(out, want, "{s:?}");
        }
    }

    #[test]
    fn formats_verbs_like_go() {
        let list = crate::values::Value::List(vec![
            crate::values::Value::Int(1),
            crate::values::Value::String("a".into()),
            crate::values::Value::Null,
        ]);
        for (verb, value, want) in [
            ('v', TVal::Nil, "<nil>"),
            ('s', TVal::Nil, "%!s(<nil>)"),
            ('d', TVal::Str("x".into()), "%!d(string=x)"),
            ('s', TVal::Int(5), "%!s(int=5)"),
            ('d', TVal::ValuesInt(5), "%!d(float64=5)"),
            ('q', TVal::Int(97), "'a'"),
            ('q', TVal::Int(39), r"'\''"),
            ('q', TVal::Int(-1), "'\u{FFFD}'"),
            ('q', TVal::Float(5.0), "%!q(float64=5)"),
            ('s', TVal::Bool(true), "%!s(bool=true)"),
            ('v', TVal::Float(-0.0), "-0"),
            ('v', TVal::Float(1e21), "1e+21"),
            ('s', TVal::from_value(&list), "[%!s(float64=1) a <nil>]"),
            (
                'q',
                TVal::from_value(&list),
                r#"[%!q(float64=1) "a" <nil>]"#,
            ),
        ] {
            let mut out = String::new();
            write_verb(&mut out, verb, &value, 0).expect("formats");
            assert_eq!(out, want, "%{verb} {value:?}");
        }
    }
}
