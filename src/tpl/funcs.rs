//! The supported template functions, with Sprig's semantics as Helm 4 runs them: argument counts
//! and string-typed parameters are checked as Go's reflection-based calls check them.
//! Case mapping is per character with Go's single-character results (`upper "ß"` stays `ß`);
//! the rare characters whose simple and full mappings differ beyond that may deviate.

use std::borrow::Cow;

use super::eval::{Room, TVal};
use super::format::{self, type_name, write_verb};
use super::parser::Func;

/// Call `f` with evaluated arguments (a piped value already appended last). `room` is the most
/// bytes a result may have: results that could grow past it are refused before they are built.
pub(super) fn call<'a>(f: Func, args: Vec<TVal<'a>>, room: Room) -> Result<TVal<'a>, String> {
    let name = f.name();
    let exactly = |want: usize| -> Result<(), String> {
        if args.len() == want {
            Ok(())
        } else {
            Err(format!(
                "wrong number of arguments for `{name}`: want {want}, got {}",
                args.len()
            ))
        }
    };
    let at_least_one = || -> Result<(), String> {
        if args.is_empty() {
            Err(format!(
                "wrong number of arguments for `{name}`: want at least 1, got 0"
            ))
        } else {
            Ok(())
        }
    };
    let owned = |s: String| TVal::Str(Cow::Owned(s));
    match f {
        Func::Quote | Func::Squote => {
            // Sprig skips nil arguments and joins the others with spaces.
            let mut out = String::new();
            for (i, arg) in args.iter().filter(|a| !matches!(a, TVal::Nil)).enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                let text = strval(arg)?;
                if out.len() + text.len() > room.bytes {
                    return Err(room.refuse());
                }
                if f == Func::Quote {
                    format::quote(&mut out, &text);
                } else {
                    out.push('\'');
                    out.push_str(&text);
                    out.push('\'');
                }
            }
            Ok(owned(out))
        }
        Func::Default => {
            at_least_one()?;
            let mut args = args.into_iter();
            let fallback = args.next().unwrap_or(TVal::Nil);
            Ok(args.next().filter(TVal::truthy).unwrap_or(fallback))
        }
        Func::ToString => {
            exactly(1)?;
            let text = strval(&args[0])?.into_owned();
            Ok(owned(text))
        }
        Func::Lower | Func::Upper | Func::Title | Func::Trim => {
            exactly(1)?;
            let [s] = strings(name, args)?;
            Ok(owned(match f {
                Func::Lower => s.chars().map(lower).collect(),
                Func::Upper => s.chars().map(upper).collect(),
                Func::Title => title(&s),
                _ => s.trim().to_string(),
            }))
        }
        Func::TrimSuffix | Func::TrimPrefix => {
            exactly(2)?;
            let [affix, s] = strings(name, args)?;
            let trimmed = if f == Func::TrimSuffix {
                s.strip_suffix(&*affix)
            } else {
                s.strip_prefix(&*affix)
            };
            Ok(owned(trimmed.unwrap_or(&s).to_string()))
        }
        Func::Replace => {
            exactly(3)?;
            let [old, new, s] = strings(name, args)?;
            // An empty `old` matches before every character and at the end.
            let matches = if old.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(&*old).count()
            };
            let size =
                (s.len() - matches * old.len()).saturating_add(matches.saturating_mul(new.len()));
            if size > room.bytes {
                return Err(room.refuse());
            }
            Ok(owned(s.replace(&*old, &new)))
        }
        Func::Printf => {
            at_least_one()?;
            let mut args = args.into_iter();
            let [format] = strings(name, args.next())?;
            Ok(owned(sprintf(&format, &args.collect::<Vec<_>>(), room)?))
        }
    }
}

/// Arguments bound to Go `string` parameters: anything but a string is an error, as in Go.
fn strings<'a, const N: usize>(
    name: &str,
    args: impl IntoIterator<Item = TVal<'a>>,
) -> Result<[Cow<'a, str>; N], String> {
    let mut out: [Cow<'a, str>; N] = std::array::from_fn(|_| Cow::Borrowed(""));
    for (i, arg) in args.into_iter().enumerate().take(N) {
        out[i] = match arg {
            TVal::Str(s) => s,
            other => {
                return Err(format!(
                    "argument {} of `{name}` must be a string, got {}",
                    i + 1,
                    type_name(&other)
                ));
            }
        };
    }
    Ok(out)
}

/// Sprig's `strval`: strings as they are, anything else as Go's `%v` prints it.
fn strval<'b>(v: &'b TVal) -> Result<Cow<'b, str>, String> {
    match v {
        TVal::Str(s) => Ok(Cow::Borrowed(s)),
        other => {
            let mut out = String::new();
            write_verb(&mut out, 'v', other, 0)?;
            Ok(Cow::Owned(out))
        }
    }
}

/// Go's `fmt.Sprintf` for `%s`, `%d`, `%v`, `%q` and `%%`, with Go's reports of missing and
/// extra arguments. Flags, widths and other verbs are refused rather than approximated. Stops
/// with `Err(None)` as soon as the text passes `room` bytes (one format may print a long value
/// many times).
fn sprintf(format: &str, args: &[TVal], room: Room) -> Result<String, String> {
    let mut out = String::with_capacity(format.len());
    let mut next_arg = 0;
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let mut after = rest[i + 1..].chars();
        match after.next() {
            None => out.push_str("%!(NOVERB)"),
            Some('%') => out.push('%'),
            Some(verb @ ('s' | 'd' | 'v' | 'q')) => {
                match args.get(next_arg) {
                    Some(arg) => write_verb(&mut out, verb, arg, 0)?,
                    None => {
                        out.push_str("%!");
                        out.push(verb);
                        out.push_str("(MISSING)");
                    }
                }
                next_arg += 1;
                if out.len() > room.bytes {
                    return Err(room.refuse());
                }
            }
            Some(_) => {
                return Err(
                    "unsupported printf directive (supported: %s, %d, %v, %q, %% without flags or width)"
                        .to_string(),
                );
            }
        }
        rest = after.as_str();
    }
    out.push_str(rest);
    if let Some(extra) = args.get(next_arg..).filter(|e| !e.is_empty()) {
        out.push_str("%!(EXTRA ");
        for (i, arg) in extra.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if !matches!(arg, TVal::Nil) {
                out.push_str(type_name(arg));
                out.push('=');
            }
            write_verb(&mut out, 'v', arg, 0)?;
        }
        out.push(')');
    }
    if out.len() > room.bytes {
        return Err(room.refuse());
    }
    Ok(out)
}

/// Go's `unicode.ToLower` (single-character result; `İ` becomes `i`).
fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Go's `unicode.ToUpper`: characters without a single-character uppercase stay as they are.
fn upper(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToTitle`: uppercase, except the Latin digraphs, which have their own title case.
fn to_title(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        c => upper(c),
    }
}

/// Go's (deprecated but Sprig-used) `strings.Title`: title-case the first letter of each word.
fn title(s: &str) -> String {
    // Go's `isSeparator`: ASCII letters, digits and `_` join words; other ASCII separates;
    // beyond ASCII, letters and digits join and spaces separate.
    let separates = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !c.is_alphanumeric() && c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if separates(prev) { to_title(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_case_like_go() {
        let map = |s: &str, f: fn(char) -> char| s.chars().map(f).collect::<String>();
        assert_eq!(map("straße", upper), "STRAßE");
        assert_eq!(map("ΣΑΣ İ", lower), "σασ i");
        assert_eq!(
            title("hello-world foo_bar x.y ßa 1st ǆx"),
            "Hello-World Foo_bar X.Y ßa 1st ǅx"
        );
    }

    #[test]
    fn sprintf_reports_like_go() {
        for (format, args, want) in [
            ("%", vec![], "%!(NOVERB)"),
            ("%d %d", vec![TVal::Int(1)], "1 %!d(MISSING)"),
            (
                "a",
                vec![TVal::Int(1), TVal::Str("b".into()), TVal::Nil],
                "a%!(EXTRA int=1, string=b, <nil>)",
            ),
            (
                "%s-%d-%v-%q-%%",
                vec![
                    TVal::Str("a".into()),
                    TVal::Int(3),
                    TVal::Float(1.5),
                    TVal::Str("q".into()),
                ],
                "a-3-1.5-\"q\"-%",
            ),
        ] {
            assert_eq!(
                sprintf(format, &args, UNBOUNDED).as_deref(),
                Ok(want),
                "{format}"
            );
        }
        assert!(sprintf("%5s", &[], UNBOUNDED).is_err());
        assert!(sprintf("%x", &[], UNBOUNDED).is_err());
    }

    const UNBOUNDED: Room = Room {
        bytes: usize::MAX,
        per_render: false,
    };

    /// Growth is refused before the text is built, naming the budget that ran out.
    #[test]
    fn results_past_the_room_are_refused() {
        let room = Room {
            bytes: 100,
            per_render: false,
        };
        let s = |t: &str| TVal::Str(Cow::Owned(t.to_string()));
        let big = "a".repeat(60);
        let rows = [
            (Func::Replace, vec![s(""), s("bbbbbbbb"), s("aaaaaaaaaaaa")]),
            (Func::Replace, vec![s("a"), s("bb"), s(&big)]),
            (Func::Quote, vec![s(&big), s(&big)]),
            (Func::Squote, vec![s(&big), s(&big)]),
            (Func::Printf, vec![s("%s%v"), s(&big), s(&big)]),
            (Func::Printf, vec![s("x"), s(&big), s(&big)]),
        ];
        for (f, args) in rows {
            let err = call(f, args, room).map(|_| ()).expect_err(f.name());
            assert_eq!(
                err,
                "the template would make more than 16 MiB of text",
                "{}",
                f.name()
            );
        }
        let fits = call(Func::Replace, vec![s("a"), s("b"), s(&big)], room);
        assert!(fits.is_ok());
        let render = Room {
            bytes: 10,
            per_render: true,
        };
        assert_eq!(
            call(Func::Quote, vec![s(&big)], render).map(|_| ()),
            Err("the templates in values would make more than 32 MiB of text in all".to_string())
        );
    }
}
