//! Single-pass lexer for Go template text: splits text from `{{ … }}` actions, applies the `{{- `
//! / ` -}}` trim markers, drops comments and turns action contents into tokens (literals decoded).
//! It follows Go's `text/template/parse` lexer rule for rule, but scans `&str` slices (no regex,
//! no per-character allocation); escapes producing invalid UTF-8 are rejected (Go would emit raw bytes).

use std::borrow::Cow;

/// What the lexer found.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok<'t> {
    /// Text outside actions, with trim markers already applied.
    Text(&'t str),
    /// `{{` (with its trim marker, if any).
    LeftDelim,
    /// `}}` (with its trim marker, if any).
    RightDelim,
    Pipe,
    LeftParen,
    RightParen,
    /// A lone `.`.
    Dot,
    /// `.name`, without the dot.
    Field(&'t str),
    /// `$` or `$name`, with the `$`.
    Variable(&'t str),
    /// A function name or keyword.
    Ident(&'t str),
    Bool(bool),
    Nil,
    /// A quoted or raw string, decoded.
    Str(Cow<'t, str>),
    /// An integer constant (Go `int`), including character constants.
    Int(i64),
    /// A floating-point constant (Go `float64`).
    Float(f64),
    /// `:=` or `=`.
    Assign,
    /// Any other printable ASCII character (`,` for instance), which no supported construct uses.
    Char(char),
}

/// A token with its byte range in the template and whether whitespace preceded it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Item<'t> {
    pub tok: Tok<'t>,
    pub start: usize,
    pub end: usize,
    /// Whitespace separates this token from the previous one (Go's `itemSpace`).
    pub spaced: bool,
}

/// A lexical error at a byte offset.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LexError {
    pub pos: usize,
    pub message: String,
}

/// Go's `isSpace` in the template lexer: only these four count for trimming and separation.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_space_char(c: char) -> bool {
    c.is_ascii() && is_space(c as u8)
}

/// Go's `isAlphaNumeric`: `_`, letters and digits.
fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Tokenize a whole template.
pub(super) fn lex(text: &str) -> Result<Vec<Item<'_>>, LexError> {
    Lexer {
        text,
        pos: 0,
        items: Vec::new(),
    }
    .run()
}

struct Lexer<'t> {
    text: &'t str,
    pos: usize,
    items: Vec<Item<'t>>,
}

impl<'t> Lexer<'t> {
    fn bytes(&self) -> &'t [u8] {
        self.text.as_bytes()
    }

    fn byte_at(&self, pos: usize) -> Option<u8> {
        self.bytes().get(pos).copied()
    }

    fn rest(&self, pos: usize) -> &'t str {
        self.text.get(pos..).unwrap_or("")
    }

    fn err<T>(&self, pos: usize, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            pos,
            message: message.into(),
        })
    }

    fn push(&mut self, tok: Tok<'t>, start: usize, end: usize, spaced: bool) {
        self.items.push(Item {
            tok,
            start,
            end,
            spaced,
        });
    }

    /// `}}` or ` -}}` at `pos`: its length and whether it trims the following text.
    fn right_delim_at(&self, pos: usize) -> Option<(usize, bool)> {
        let rest = self.rest(pos);
        if rest.starts_with("}}") {
            Some((2, false))
        } else if rest.len() >= 4 && is_space(rest.as_bytes()[0]) && rest[1..].starts_with("-}}") {
            Some((4, true))
        } else {
            None
        }
    }

    fn run(mut self) -> Result<Vec<Item<'t>>, LexError> {
        let mut trim_text_start = false;
        loop {
            let open = self.rest(self.pos).find("{{").map(|i| self.pos + i);
            let text_end = open.unwrap_or(self.text.len());
            let mut start = self.pos;
            let mut text = &self.text[start..text_end];
            if trim_text_start {
                text = text.trim_start_matches(is_space_char);
                start = text_end - text.len();
            }
            // `{{- ` (dash then a space) trims the text before it.
            let trim_left = open.is_some_and(|o| {
                self.byte_at(o + 2) == Some(b'-') && self.byte_at(o + 3).is_some_and(is_space)
            });
            if trim_left {
                text = text.trim_end_matches(is_space_char);
            }
            if !text.is_empty() {
                self.push(Tok::Text(text), start, start + text.len(), false);
            }
            let Some(open) = open else {
                return Ok(self.items);
            };
            let inner = open + 2 + if trim_left { 2 } else { 0 };
            trim_text_start = if self.rest(inner).starts_with("/*") {
                self.comment(open, inner)?
            } else {
                self.push(Tok::LeftDelim, open, inner, false);
                self.action(open, inner)?
            };
        }
    }

    /// A `{{/* … */}}` comment: it must close right before the delimiter.
    fn comment(&mut self, open: usize, inner: usize) -> Result<bool, LexError> {
        let Some(close) = self.rest(inner + 2).find("*/") else {
            return self.err(open, "unclosed comment");
        };
        let after = inner + 2 + close + 2;
        match self.right_delim_at(after) {
            Some((len, trim)) => {
                self.pos = after + len;
                Ok(trim)
            }
            None => self.err(after, "comment ends before closing delimiter"),
        }
    }

    /// Tokens of one action up to its right delimiter; returns whether it trims the next text.
    fn action(&mut self, open: usize, mut pos: usize) -> Result<bool, LexError> {
        let mut spaced = false;
        loop {
            let Some(c) = self.byte_at(pos) else {
                return self.err(open, "unclosed action");
            };
            if let Some((len, trim)) = self.right_delim_at(pos) {
                self.push(Tok::RightDelim, pos, pos + len, spaced);
                self.pos = pos + len;
                return Ok(trim);
            }
            if is_space(c) {
                spaced = true;
                pos += 1;
                continue;
            }
            let start = pos;
            let (tok, end) = match c {
                b'|' => (Tok::Pipe, pos + 1),
                b'(' => (Tok::LeftParen, pos + 1),
                b')' => (Tok::RightParen, pos + 1),
                b'=' => (Tok::Assign, pos + 1),
                b':' if self.byte_at(pos + 1) == Some(b'=') => (Tok::Assign, pos + 2),
                b':' => return self.err(pos, "expected `:=`"),
                b'"' => self.quoted(pos)?,
                b'`' => self.raw(pos)?,
                b'\'' => self.char_constant(pos)?,
                b'$' => {
                    let end = self.word_end(pos + 1)?;
                    (Tok::Variable(&self.text[pos..end]), end)
                }
                b'.' if self.byte_at(pos + 1).is_some_and(|d| d.is_ascii_digit()) => {
                    self.number(pos)?
                }
                b'.' => {
                    let end = self.word_end(pos + 1)?;
                    let tok = if end == pos + 1 {
                        Tok::Dot
                    } else {
                        Tok::Field(&self.text[pos + 1..end])
                    };
                    (tok, end)
                }
                b'+' | b'-' | b'0'..=b'9' => self.number(pos)?,
                _ => {
                    let ch = self.rest(pos).chars().next().unwrap_or('\u{FFFD}');
                    if is_alnum(ch) {
                        let end = self.word_end(pos)?;
                        let word = &self.text[pos..end];
                        let tok = match word {
                            "true" => Tok::Bool(true),
                            "false" => Tok::Bool(false),
                            "nil" => Tok::Nil,
                            _ => Tok::Ident(word),
                        };
                        (tok, end)
                    } else if ch.is_ascii_graphic() {
                        (Tok::Char(ch), pos + 1)
                    } else {
                        return self.err(pos, "unrecognized character in action");
                    }
                }
            };
            self.push(tok, start, end, spaced);
            spaced = false;
            pos = end;
        }
    }

    /// End of an alphanumeric run starting at `pos`, which must stop at a terminator
    /// (Go's `atTerminator`: space, `.`, `,`, `|`, `:`, `(`, `)`, end of input or `}}`).
    fn word_end(&self, pos: usize) -> Result<usize, LexError> {
        let rest = self.rest(pos);
        let len = rest.find(|c: char| !is_alnum(c)).unwrap_or(rest.len());
        let end = pos + len;
        match self.rest(end).chars().next() {
            None => Ok(end),
            Some(c) if is_space_char(c) || matches!(c, '.' | ',' | '|' | ':' | '(' | ')') => {
                Ok(end)
            }
            Some(_) if self.rest(end).starts_with("}}") => Ok(end),
            Some(_) => self.err(end, "bad character after a word"),
        }
    }

    /// A double-quoted string: no newline inside, escapes decoded as Go's `strconv.Unquote` does.
    fn quoted(&self, open: usize) -> Result<(Tok<'t>, usize), LexError> {
        let bytes = self.bytes();
        let mut pos = open + 1;
        loop {
            match bytes.get(pos) {
                None | Some(b'\n') => return self.err(open, "unterminated quoted string"),
                Some(b'\\') if matches!(bytes.get(pos + 1), None | Some(b'\n')) => {
                    return self.err(open, "unterminated quoted string");
                }
                Some(b'\\') => pos += 2,
                Some(b'"') => break,
                Some(_) => pos += 1,
            }
        }
        let value = unquote(&self.text[open + 1..pos], '"').map_err(|m| LexError {
            pos: open,
            message: m,
        })?;
        Ok((Tok::Str(value), pos + 1))
    }

    /// A raw (backquoted) string: taken verbatim, except that carriage returns are dropped (Go).
    fn raw(&self, open: usize) -> Result<(Tok<'t>, usize), LexError> {
        let Some(len) = self.rest(open + 1).find('`') else {
            return self.err(open, "unterminated raw quoted string");
        };
        let body = &self.text[open + 1..open + 1 + len];
        let value = if body.contains('\r') {
            Cow::Owned(body.replace('\r', ""))
        } else {
            Cow::Borrowed(body)
        };
        Ok((Tok::Str(value), open + len + 2))
    }

    /// A character constant such as `'a'` or `'\n'`: an integer (its code point), as in Go.
    fn char_constant(&self, open: usize) -> Result<(Tok<'t>, usize), LexError> {
        let bytes = self.bytes();
        let mut pos = open + 1;
        loop {
            match bytes.get(pos) {
                None | Some(b'\n') => return self.err(open, "unterminated character constant"),
                Some(b'\\') if matches!(bytes.get(pos + 1), None | Some(b'\n')) => {
                    return self.err(open, "unterminated character constant");
                }
                Some(b'\\') => pos += 2,
                Some(b'\'') => break,
                Some(_) => pos += 1,
            }
        }
        let body = &self.text[open + 1..pos];
        let mut chars = body.chars();
        let value = match chars.next() {
            Some('\\') => {
                let (value, rest) = unescape_one(chars.as_str(), '\'').map_err(|m| LexError {
                    pos: open,
                    message: m,
                })?;
                chars = rest.chars();
                value
            }
            Some('\'') | None => return self.err(open, "malformed character constant"),
            Some(c) => u32::from(c),
        };
        if chars.next().is_some() {
            return self.err(open, "malformed character constant");
        }
        Ok((Tok::Int(i64::from(value)), pos + 1))
    }

    /// A number, scanned as Go's `lexNumber` does and typed as Go's template `idealConstant`:
    /// text with `.`, `e`/`E` (decimal) is a `float64`, everything else an `int`.
    fn number(&self, start: usize) -> Result<(Tok<'t>, usize), LexError> {
        let bad = |_end: usize| self.err(start, "bad number syntax");
        let pos = match self.scan_number(start) {
            Ok(pos) => pos,
            Err(end) => return bad(end),
        };
        // A sign right after a number makes it a complex constant (`1+2i`), which must end in `i`.
        if matches!(self.byte_at(pos), Some(b'+' | b'-')) {
            return match self.scan_number(pos) {
                Ok(end) if self.bytes()[end - 1] == b'i' => {
                    self.err(start, "complex numbers are not supported")
                }
                Ok(end) | Err(end) => bad(end),
            };
        }
        let tok = parse_number(&self.text[start..pos]).map_err(|m| LexError {
            pos: start,
            message: m,
        })?;
        Ok((tok, pos))
    }

    /// Go's `scanNumber`: the end of the number text, or (as `Err`) the end of the bad text
    /// when an alphanumeric character follows it.
    fn scan_number(&self, start: usize) -> Result<usize, usize> {
        const DEC: &[u8] = b"0123456789_";
        const HEX: &[u8] = b"0123456789abcdefABCDEF_";
        let bytes = self.bytes();
        let mut pos = start;
        let accept = |pos: &mut usize, set: &[u8]| -> bool {
            if bytes.get(*pos).is_some_and(|b| set.contains(b)) {
                *pos += 1;
                true
            } else {
                false
            }
        };
        let accept_run = |pos: &mut usize, set: &[u8]| {
            while bytes.get(*pos).is_some_and(|b| set.contains(b)) {
                *pos += 1;
            }
        };
        accept(&mut pos, b"+-");
        let mut digits = DEC;
        if accept(&mut pos, b"0") {
            if accept(&mut pos, b"xX") {
                digits = HEX;
            } else if accept(&mut pos, b"oO") {
                digits = b"01234567_";
            } else if accept(&mut pos, b"bB") {
                digits = b"01_";
            }
        }
        accept_run(&mut pos, digits);
        if accept(&mut pos, b".") {
            accept_run(&mut pos, digits);
        }
        if digits == DEC && accept(&mut pos, b"eE") {
            accept(&mut pos, b"+-");
            accept_run(&mut pos, DEC);
        }
        if digits == HEX && accept(&mut pos, b"pP") {
            accept(&mut pos, b"+-");
            accept_run(&mut pos, DEC);
        }
        accept(&mut pos, b"i");
        match self.rest(pos).chars().next() {
            Some(c) if is_alnum(c) => Err(pos + c.len_utf8()),
            _ => Ok(pos),
        }
    }
}

/// Go's `underscoreOK`: underscores only between digits (or after a base prefix).
fn underscores_ok(text: &str) -> bool {
    let s = text.strip_prefix(['+', '-']).unwrap_or(text).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Type a scanned number as Go's template parser and `idealConstant` do.
fn parse_number(text: &str) -> Result<Tok<'static>, String> {
    let illegal = || "illegal number syntax".to_string();
    if text.ends_with('i') {
        return Err("complex numbers are not supported".to_string());
    }
    if !underscores_ok(text) {
        return Err(illegal());
    }
    let clean: Cow<str> = if text.contains('_') {
        Cow::Owned(text.replace('_', ""))
    } else {
        Cow::Borrowed(text)
    };
    let (negative, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, &clean[..]),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        if d.contains('p') || d.contains('.') {
            return Err("hexadecimal floating-point constants are not supported".to_string());
        }
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        (8, &lower[1..])
    } else {
        (10, &lower[..])
    };
    if let Ok(magnitude) = u64::from_str_radix(digits, radix) {
        let value = if negative {
            -i128::from(magnitude)
        } else {
            i128::from(magnitude)
        };
        return i64::try_from(value)
            .map(Tok::Int)
            .map_err(|_| "integer overflow".to_string());
    }
    match clean.parse::<f64>() {
        Ok(f) if f.is_finite() && radix == 10 && text.contains(['.', 'e', 'E']) => {
            Ok(Tok::Float(f))
        }
        // Go reports digits that only parse as a float (`08`, huge integers) this way.
        Ok(f) if f.is_finite() => Err("integer overflow".to_string()),
        _ => Err(illegal()),
    }
}

/// Decode the body of a quoted string (`quote` is `"`), as Go's `strconv.Unquote`.
pub(super) fn unquote(body: &str, quote: char) -> Result<Cow<'_, str>, String> {
    if !body.contains('\\') {
        return Ok(Cow::Borrowed(body));
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let escape = &rest[i + 1..];
        let kind = escape.chars().next().unwrap_or('\\');
        let (value, after) = unescape_one(escape, quote)?;
        // `\x` and octal escapes are bytes; the others are code points.
        if matches!(kind, 'x' | '0'..='7') {
            out.push(value as u8);
        } else {
            let c = char::from_u32(value).ok_or_else(|| "invalid escape".to_string())?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        rest = after;
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| "escapes produce invalid UTF-8 (raw bytes are not supported)".to_string())
}

/// Decode one escape sequence (text after the backslash): its value and the remaining text.
fn unescape_one(s: &str, quote: char) -> Result<(u32, &str), String> {
    let mut chars = s.chars();
    let kind = chars.next().ok_or("unterminated escape")?;
    let simple = match kind {
        'a' => Some(7),
        'b' => Some(8),
        'f' => Some(12),
        'n' => Some(10),
        'r' => Some(13),
        't' => Some(9),
        'v' => Some(11),
        '\\' => Some(u32::from('\\')),
        '\'' | '"' if kind == quote => Some(u32::from(kind)),
        _ => None,
    };
    if let Some(v) = simple {
        return Ok((v, chars.as_str()));
    }
    let (len, radix, max) = match kind {
        'x' => (2, 16, 0xFF),
        'u' => (4, 16, 0x10FFFF),
        'U' => (8, 16, 0x10FFFF),
        '0'..='7' => (3, 8, 0xFF),
        _ => return Err("invalid escape".to_string()),
    };
    let start = if kind.is_ascii_digit() { 0 } else { 1 };
    let digits = s
        .get(start..start + len)
        .ok_or_else(|| "invalid escape".to_string())?;
    let value = u32::from_str_radix(digits, radix)
        .ok()
        .filter(|v| {
            *v <= max && (kind == 'x' || kind.is_ascii_digit() || char::from_u32(*v).is_some())
        })
        .ok_or_else(|| "invalid escape".to_string())?;
    Ok((value, &s[start + len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok<'_>> {
        lex(text)
            .expect("lexes")
            .into_iter()
            .map(|i| i.tok)
            .collect()
    }

    #[test]
    fn splits_text_actions_and_trims() {
        use Tok::*;
        for (text, want) in [
            (
                "a {{ .B }} c",
                vec![Text("a "), LeftDelim, Field("B"), RightDelim, Text(" c")],
            ),
            (
                "a \n{{- .B -}}\t c",
                vec![Text("a"), LeftDelim, Field("B"), RightDelim, Text("c")],
            ),
            ("a {{/* x }} */}} b", vec![Text("a "), Text(" b")]),
            ("a {{- /* x */ -}} b", vec![Text("a"), Text("b")]),
            (
                "}} {{`}}`}}",
                vec![Text("}} "), LeftDelim, Str("}}".into()), RightDelim],
            ),
            (
                "{{$.A}}",
                vec![LeftDelim, Variable("$"), Field("A"), RightDelim],
            ),
            ("{{ . }}", vec![LeftDelim, Dot, RightDelim]),
            (
                "{{ 1 -2 .5 0x1F 1e3 'a' }}",
                vec![
                    LeftDelim,
                    Int(1),
                    Int(-2),
                    Float(0.5),
                    Int(31),
                    Float(1000.0),
                    Int(97),
                    RightDelim,
                ],
            ),
            (
                "{{ true nil f }}",
                vec![LeftDelim, Bool(true), Nil, Ident("f"), RightDelim],
            ),
        ] {
            assert_eq!(toks(text), want, "{text}");
        }
    }

    #[test]
    fn decodes_string_escapes() {
        for (body, want) in [
            (r"plain", "plain"),
            (r#"\t\x41\u00e9\101\\\""#, "\tAéA\\\""),
            (r"\a\b\f\v\r\n", "\x07\x08\x0c\x0b\r\n"),
            (r"\U0001F600", "😀"),
        ] {
            assert_eq!(unquote(body, '"').as_deref(), Ok(want), "{body}");
        }
        for body in [r"\'", r"\q", r"\xff", r"\u12", r"\ud800", r"\400"] {
            assert!(unquote(body, '"').is_err(), "{body}");
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        for (text, message) in [
            ("{{ .A", "unclosed action"),
            ("{{ \"abc }}", "unterminated quoted string"),
            ("{{ `abc }}", "unterminated raw quoted string"),
            ("{{/* x", "unclosed comment"),
            ("{{/* x */ }}", "comment ends before closing delimiter"),
            ("{{-.A}}", "bad number syntax"),
            ("{{ 1__0 }}", "illegal number syntax"),
            ("{{ 3-}}", "bad number syntax"),
            ("{{ 1+2i }}", "complex numbers are not supported"),
            ("{{ 08 }}", "integer overflow"),
            ("{{ 99999999999999999999 }}", "integer overflow"),
            ("{{ 1e }}", "illegal number syntax"),
            ("{{ .a-b }}", "bad character"),
            ("{{ 'ab' }}", "malformed character constant"),
            ("{{ a : b }}", "expected `:=`"),
        ] {
            let err = lex(text).expect_err(text);
            assert!(err.message.contains(message), "{text}: {}", err.message);
        }
    }
}
