//! Which strings go-yaml v2 would read back as something other than a string if printed
//! unquoted (`resolve("", s)` plus `isBase60Float`), and how Helm's float64 numbers print.
//!
//! A string that would not read back as a string is emitted double-quoted by `toYaml`.

use crate::values::go_float;
use crate::values::load::plain_reads_as_string;

/// Does go-yaml v2 print `s` without quotes as far as its *type* is concerned? (The emitter may
/// still quote it for syntax reasons, see the emitter's scalar analysis.) Its reader's view
/// (`resolve("", s)`: booleans, nulls, numbers) is the values loader's; timestamps and base-60
/// floats stay strings there but go-yaml quotes them for other readers' sake.
pub fn plain_is_string(s: &str) -> bool {
    plain_reads_as_string(s) && !is_timestamp(s) && !is_base60_float(s)
}

/// YAML 1.1 base-60 floats (`1:20`), which go-yaml quotes for other parsers' sake:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (main, frac) = match body.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (body, None),
    };
    if frac.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit() || b == b'_')) {
        return false;
    }
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    let head_ok = head.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && head.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let mut sexagesimal = 0;
    for part in parts {
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
        sexagesimal += 1;
    }
    head_ok && sexagesimal > 0
}

/// go-yaml's timestamp formats (Go layouts `2006-1-2T15:4:5.999999999Z07:00`, the same with
/// `t`, `2006-1-2 15:4:5.999999999` and `2006-1-2`), with Go `time.Parse` range checks.
fn is_timestamp(s: &str) -> bool {
    let mut p = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let Some(year) = p.fixed_digits(4) else {
        return false;
    };
    if !p.eat(b'-') {
        return false;
    }
    let (Some(month), true, Some(day)) = (p.num12(), p.eat(b'-'), p.num12()) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    if p.done() {
        return true;
    }
    let zoned = if p.eat(b'T') || p.eat(b't') {
        true
    } else if p.peek() == Some(b' ') {
        while p.eat(b' ') {}
        false
    } else {
        return false;
    };
    let (Some(h), true, Some(m), true, Some(sec)) =
        (p.num12(), p.eat(b':'), p.num12(), p.eat(b':'), p.num12())
    else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if matches!(p.peek(), Some(b'.' | b',')) && p.s.get(p.i + 1).is_some_and(u8::is_ascii_digit) {
        p.i += 1;
        while p.peek().is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
    }
    if zoned && !p.eat(b'Z') {
        let Some(sign) = p.peek() else { return false };
        p.i += 1;
        let (Some(zh), true, Some(zm)) = (p.fixed_digits(2), p.eat(b':'), p.fixed_digits(2)) else {
            return false;
        };
        if !matches!(sign, b'+' | b'-') || zh > 24 || zm > 60 {
            return false;
        }
    }
    p.done()
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }
    /// Exactly `n` digits.
    fn fixed_digits(&mut self, n: usize) -> Option<u32> {
        let digits = self.s.get(self.i..self.i + n)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(
            digits
                .iter()
                .fold(0, |acc, d| acc * 10 + u32::from(d - b'0')),
        )
    }
    /// One or two digits, greedy (Go's `getnum(value, false)`).
    fn num12(&mut self) -> Option<u32> {
        let two = self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit);
        self.fixed_digits(if two { 2 } else { 1 })
    }
}

/// A float64 as Helm's `toYaml` prints it: JSON encoding turns integral values below 1e21 into
/// integer text, which go-yaml reads back as int (or uint) and prints in full; anything else
/// prints with Go's shortest `%g`. `None` for NaN and infinities, which JSON cannot encode.
pub fn number_text(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    Some(
        if f.fract() == 0.0 && f.abs() < 1e21 && (-TWO_63..TWO_63).contains(&f) {
            (f as i64).to_string()
        } else if f.fract() == 0.0 && (0.0..TWO_64).contains(&f) {
            (f as u64).to_string()
        } else {
            go_float(f)
        },
    )
}
