//! `--set`, `--set-string`, `--set-file`, `--set-json` and `--set-literal`: Helm's `strvals`
//! grammar (helm v4.1.4 `pkg/strvals`), applied in place to the user values merged so far.
//!
//! ```text
//! arg        = assignment { "," assignment } [ "," ]
//! assignment = name { "." name | "[" index "]" } [ "=" value ]
//! name       = { any char but  = [ , .   (a backslash takes the next char literally: \, \. \= \\) }
//! index      = [ "+" | "-" ] digits            (0 ..= 65536; shorter lists are padded with nulls)
//! value      = "{" item { "," item } "}"       a list ("{}" is the list [""], as in Helm)
//!            | text                            up to the next unescaped ","
//! ```
//!
//! Typing: `--set` reads `true`/`false`/`null` (any case) as bool/null and decimal integers
//! without a leading `0` (but `0` itself) as integers, everything else as a string;
//! `--set-string` never types; `--set-file` reads the named file as the string value;
//! `--set-json` takes one JSON value per key (blank = null; a whole argument starting with `{`
//! is a JSON object merged at the top); `--set-literal` has no `,` separator nor escapes and
//! takes the rest of the argument verbatim. Keys may be nested 30 `.` deep at most.
//!
//! Helm quirks kept: `a[0]` without `=` leaves the list as it is, `a[0]=1,a[0].b=2` replaces the
//! item, and setting inside an existing value of another kind (even null) is an error.
//! Deliberate differences: an empty key (`=x`, `a.`, `[0]=x`) and an unclosed `[` (`a[1=1`) are
//! errors where Helm silently ignores the assignment, list nesting is bounded, so is the number of
//! list items padding may create across all flags, `--set-file` reads local files only (no `-`
//! for stdin, no URLs), and errors name the argument and a byte in it without echoing it.

use super::{Map, Value, merge_user_layer};
use crate::error::ValuesError;

/// Helm's `MaxIndex`: the largest list index a flag may set.
const MAX_INDEX: i64 = 65_536;
/// Helm's `MaxNestedNameLevel`: how many `.` a key may contain.
const MAX_NESTING: usize = 30;
/// Bound on `[i][j]…` nesting; Helm has none, this only keeps hostile input from exhausting the stack.
const MAX_LIST_NESTING: usize = 256;
/// List items all the flags of one command line may create by padding (`a[65536]=x` creates
/// 65537). Helm has no such bound, so 2000 such flags make it hold 131 million items; real
/// flags create a handful.
pub const MAX_CREATED_ITEMS: usize = 1_000_000;

/// Which flag an argument came from; it decides how values are read and typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetKind {
    /// `--set`: infer bool/int/null.
    Set,
    /// `--set-string`: always strings.
    String,
    /// `--set-file`: the value is a path; the file's contents become the string value.
    File,
    /// `--set-json`: the value is JSON.
    Json,
    /// `--set-literal`: the rest of the argument is the string value, verbatim.
    Literal,
}

impl SetKind {
    /// The command-line flag, for messages.
    pub fn flag(self) -> &'static str {
        match self {
            SetKind::Set => "--set",
            SetKind::String => "--set-string",
            SetKind::File => "--set-file",
            SetKind::Json => "--set-json",
            SetKind::Literal => "--set-literal",
        }
    }
}

/// One flag argument, for [`apply_set`].
#[derive(Debug, Clone, Copy)]
pub struct SetArg<'a> {
    pub kind: SetKind,
    /// Its number among the arguments of the same flag (1-based), for messages.
    pub number: usize,
    pub text: &'a str,
}

/// Apply one flag argument (`a.b=c,d=e`) to `dst`, the user values merged so far (Helm parses
/// straight into them, so a key can extend a list or map from a values file). `created` counts
/// the list items padding has created so far, across all arguments ([`MAX_CREATED_ITEMS`]).
///
/// Errors name the argument by flag and number and point at a byte; they never echo the
/// argument, and quote only key paths the argument spelled out as keys (a value with an
/// unescaped `,` would otherwise show its tail as a "key").
pub fn apply_set(dst: &mut Map, arg: SetArg, created: &mut usize) -> Result<(), ValuesError> {
    let error = |byte: usize, message: String| ValuesError::Set {
        flag: arg.kind.flag(),
        number: arg.number,
        byte: byte + 1,
        message,
    };
    let trimmed = arg.text.trim();
    if arg.kind == SetKind::Json && trimmed.starts_with('{') {
        return apply_json_object(dst, arg.text).map_err(|(message, byte)| error(byte, message));
    }
    let text = arg.text;
    let mut offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    offsets.push(text.len());
    let mut parser = Parser {
        text,
        chars: text.chars().collect(),
        offsets,
        pos: 0,
        kind: arg.kind,
        list_depth: 0,
        created,
    };
    parser.parse(dst).map_err(|f| {
        let byte = parser.offsets.get(f.at).copied().unwrap_or(text.len());
        error(byte, f.message)
    })
}

/// `--set-json '{"a":{"b":1}}'`: a whole JSON object, merged like a values file (Helm v4).
/// An error is its message and 0-based byte.
fn apply_json_object(dst: &mut Map, arg: &str) -> Result<(), (String, usize)> {
    let lead = arg.len() - arg.trim_start().len();
    let text = arg.trim();
    let object = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| (json_message(&e), lead + byte_of(text, e.line(), e.column())))
        .and_then(|v| match v {
            serde_json::Value::Object(o) => Ok(o),
            _ => Err(("expected a JSON object".to_string(), lead)),
        })?;
    merge_user_layer(
        dst,
        object.into_iter().map(|(k, v)| (k, from_json(v))).collect(),
    );
    Ok(())
}

/// Where parsing stopped and why; `at` is a 0-based char index into the argument.
struct Failure {
    message: String,
    at: usize,
}

fn fail<T>(at: usize, message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        message: message.into(),
        at,
    })
}

/// Helm's `io.EOF` signal: `More` means another assignment may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    More,
    End,
}

/// What follows a `=`.
enum ListOrNot {
    List(Vec<Value>),
    NotList,
    End,
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    /// Byte offset of each char of `text`, and `text.len()` last.
    offsets: Vec<usize>,
    pos: usize,
    kind: SetKind,
    list_depth: usize,
    created: &'a mut usize,
}

impl Parser<'_> {
    fn parse(&mut self, data: &mut Map) -> Result<(), Failure> {
        while self.key(data, 0, "")? == Step::More {}
        Ok(())
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Read up to (and consume) the first char of `stop`; `\x` stands for `x` except in
    /// `--set-literal`. `None` means the argument ended first.
    fn until(&mut self, stop: &[char]) -> (String, Option<char>) {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            if stop.contains(&c) {
                return (out, Some(c));
            }
            if c == '\\' && self.kind != SetKind::Literal {
                match self.peek() {
                    Some(next) => {
                        self.pos += 1;
                        out.push(next);
                    }
                    None => return (out, None),
                }
            } else {
                out.push(c);
            }
        }
        (out, None)
    }

    /// One assignment into `data` (`prefix` is the dotted path of `data`, for messages).
    fn key(&mut self, data: &mut Map, level: usize, prefix: &str) -> Result<Step, Failure> {
        let start = self.pos;
        let stop: &[char] = if self.kind == SetKind::Literal {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (name, last) = self.until(stop);
        let sep = self.pos.saturating_sub(1);
        let path = join(prefix, &name);
        match last {
            None if name.is_empty() => Ok(Step::End),
            // The text read as a key may be the tail of a value holding an unescaped `,`.
            None => fail(self.pos, "key without a value: expected `=`"),
            Some(',') if name.is_empty() => fail(sep, "unexpected `,`: expected a key"),
            Some(',') => fail(sep, "key without a value: expected `=` before `,`"),
            Some(c) if name.is_empty() => fail(start, format!("empty key name before `{c}`")),
            Some('[') => {
                let index = self.index()?;
                let mut list = match data.get_mut(&name) {
                    None => Vec::new(),
                    Some(Value::List(l)) => std::mem::take(l),
                    Some(other) => return fail(sep, conflict(&path, other, "a list")),
                };
                let step = self.list_item(&mut list, index, level, &path)?;
                data.insert(name, Value::List(list));
                Ok(step)
            }
            Some('=') => {
                let (value, step) = self.value(sep + 1)?;
                data.insert(name, value);
                Ok(step)
            }
            _ => {
                let level = level + 1;
                if level > MAX_NESTING {
                    return fail(
                        sep,
                        format!("key nested more than {MAX_NESTING} levels deep (Helm's limit)"),
                    );
                }
                self.expect_more(&path)?;
                match data.get_mut(&name) {
                    Some(Value::Map(inner)) => self.key(inner, level, &path),
                    Some(other) => fail(sep, conflict(&path, other, "a map")),
                    None => {
                        let mut inner = Map::new();
                        let step = self.key(&mut inner, level, &path)?;
                        if !inner.is_empty() {
                            data.insert(name, Value::Map(inner));
                        }
                        Ok(step)
                    }
                }
            }
        }
    }

    /// An error when the argument ends right after a `.` (Helm silently ignores `a.`).
    fn expect_more(&self, path: &str) -> Result<(), Failure> {
        match self.peek() {
            None => fail(
                self.pos,
                format!("`{path}.` ends the argument: expected a key after `.`"),
            ),
            Some(_) => Ok(()),
        }
    }

    /// The index after a `[`, up to its `]`: `(index, column of its first char)`.
    fn index(&mut self) -> Result<(i64, usize), Failure> {
        let start = self.pos;
        let (text, last) = self.until(&[']']);
        if last.is_none() {
            return fail(start.saturating_sub(1), "`[` without a closing `]`");
        }
        match text.parse::<i64>() {
            Ok(i) => Ok((i, start)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
                ) =>
            {
                fail(start, format!("index out of range (at most {MAX_INDEX})"))
            }
            Err(_) => fail(start, "invalid index: expected a number"),
        }
    }

    /// What follows `name[index]`: `=value`, `.key…`, `[index]…` or the end of the argument.
    fn list_item(
        &mut self,
        list: &mut Vec<Value>,
        (i, at): (i64, usize),
        level: usize,
        path: &str,
    ) -> Result<Step, Failure> {
        if i < 0 {
            return fail(at, "negative index");
        }
        let item_path = format!("{path}[{i}]");
        let start = self.pos;
        let (extra, last) = self.until(&['[', '.', '=']);
        let sep = self.pos.saturating_sub(1);
        if !extra.is_empty() {
            return fail(
                start,
                format!("unexpected text after `{item_path}`: expected `.`, `[` or `=`"),
            );
        }
        let slot = usize::try_from(i).unwrap_or(usize::MAX);
        match last {
            // Helm: `list[0]` with nothing after it keeps the list as it is.
            None => Ok(Step::End),
            Some('=') => {
                let (value, _) = self.value(sep + 1)?;
                self.set_index(list, (i, at), &item_path, value)?;
                Ok(Step::More)
            }
            Some('[') => {
                let next = self.index()?;
                self.list_depth += 1;
                if self.list_depth > MAX_LIST_NESTING {
                    return fail(
                        sep,
                        format!("lists nested more than {MAX_LIST_NESTING} levels deep"),
                    );
                }
                let mut inner = match list.get_mut(slot) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::List(l)) => std::mem::take(l),
                    Some(other) => return fail(sep, conflict(&item_path, other, "a list")),
                };
                let step = self.list_item(&mut inner, next, level, &item_path)?;
                self.list_depth -= 1;
                if step == Step::End {
                    if let Some(Value::List(l)) = list.get_mut(slot) {
                        *l = inner;
                    }
                    return Ok(Step::End);
                }
                self.set_index(list, (i, at), &item_path, Value::List(inner))?;
                Ok(Step::More)
            }
            _ => {
                self.expect_more(&item_path)?;
                if let Some(existing) = list.get_mut(slot) {
                    // Helm: a later `a[0].b` replaces whatever `a[0]` held ("indices out of order").
                    if !matches!(existing, Value::Map(_)) {
                        *existing = Value::Map(Map::new());
                    }
                    match existing {
                        Value::Map(inner) => self.key(inner, level, &item_path),
                        _ => Ok(Step::End),
                    }
                } else {
                    let mut inner = Map::new();
                    if self.key(&mut inner, level, &item_path)? == Step::End {
                        return Ok(Step::End);
                    }
                    self.set_index(list, (i, at), &item_path, Value::Map(inner))?;
                    Ok(Step::More)
                }
            }
        }
    }

    /// The value after a `=` (at char `at`), read as this flag reads values.
    fn value(&mut self, at: usize) -> Result<(Value, Step), Failure> {
        match self.kind {
            SetKind::Literal => {
                let rest: String = self.chars[self.pos.min(self.chars.len())..]
                    .iter()
                    .collect();
                self.pos = self.chars.len();
                Ok((Value::String(rest), Step::More))
            }
            SetKind::Json => {
                if self.empty_value() {
                    return Ok((Value::Null, Step::More));
                }
                let value = self.json()?;
                self.empty_value();
                Ok((value, Step::More))
            }
            _ => match self.list_value()? {
                ListOrNot::List(items) => Ok((Value::List(items), Step::More)),
                // Helm: `a=` at the very end is the empty string.
                ListOrNot::End => Ok((Value::String(String::new()), Step::End)),
                ListOrNot::NotList => {
                    let (text, _) = self.until(&[',']);
                    Ok((self.read(text, at)?, Step::More))
                }
            },
        }
    }

    /// `{a,b}` after a `=`.
    fn list_value(&mut self) -> Result<ListOrNot, Failure> {
        match self.peek() {
            None => return Ok(ListOrNot::End),
            Some('{') => {}
            Some(_) => return Ok(ListOrNot::NotList),
        }
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            let start = self.pos;
            let (text, last) = self.until(&[',', '}']);
            match last {
                None => return fail(open, "list `{` without a closing `}`"),
                Some('}') => {
                    if self.peek() == Some(',') {
                        self.pos += 1;
                    }
                    items.push(self.read(text, start)?);
                    return Ok(ListOrNot::List(items));
                }
                _ => items.push(self.read(text, start)?),
            }
        }
    }

    /// Turn the text of one value (starting at char `at`) into a value.
    fn read(&self, text: String, at: usize) -> Result<Value, Failure> {
        match self.kind {
            SetKind::Set => Ok(typed(text)),
            SetKind::File => match std::fs::File::open(&text)
                .map_err(|source| ValuesError::Read {
                    file: text.clone(),
                    source,
                })
                .and_then(|file| super::read_text(file, &text))
            {
                Ok(contents) => Ok(Value::String(contents)),
                Err(e) => fail(at, crate::error::report(&e)),
            },
            _ => Ok(Value::String(text)),
        }
    }

    /// Skip blanks, then a `,`; true when no value follows (Helm's `emptyVal`).
    fn empty_value(&mut self) -> bool {
        while let Some(c) = self.peek() {
            if c == ',' {
                self.pos += 1;
                return true;
            }
            if !c.is_whitespace() {
                return false;
            }
            self.pos += 1;
        }
        true
    }

    /// The char index of byte offset `byte` of the text.
    fn char_at(&self, byte: usize) -> usize {
        self.offsets.partition_point(|&o| o < byte)
    }

    /// One JSON value starting here; what follows it is left for the next assignment. Only
    /// that value is read (no copy of the rest), so many values in one argument stay linear.
    fn json(&mut self) -> Result<Value, Failure> {
        let start = self
            .offsets
            .get(self.pos)
            .copied()
            .unwrap_or(self.text.len());
        let rest = &self.text[start..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(value)) => {
                self.pos = self.char_at(start + stream.byte_offset());
                Ok(from_json(value))
            }
            Some(Err(e)) => fail(
                self.char_at(start + byte_of(rest, e.line(), e.column())),
                json_message(&e),
            ),
            None => Ok(Value::Null),
        }
    }

    /// Helm's `setIndex`: pad with nulls up to `i`, then store. `path` names the list item.
    fn set_index(
        &mut self,
        list: &mut Vec<Value>,
        (i, at): (i64, usize),
        path: &str,
        value: Value,
    ) -> Result<(), Failure> {
        if i > MAX_INDEX {
            return fail(
                at,
                format!("index {i} is greater than the maximum of {MAX_INDEX} (Helm's limit)"),
            );
        }
        let i = usize::try_from(i).unwrap_or(0);
        if list.len() <= i {
            let grown = i + 1 - list.len();
            *self.created = self.created.saturating_add(grown);
            if *self.created > MAX_CREATED_ITEMS {
                return fail(
                    at,
                    format!(
                        "`{path}` pads its list past {MAX_CREATED_ITEMS} list items created by all `--set` flags together"
                    ),
                );
            }
            list.resize(i + 1, Value::Null);
        }
        if let Some(slot) = list.get_mut(i) {
            *slot = value;
        }
        Ok(())
    }
}

/// Helm's `typedVal` for `--set`: bool, null, decimal integer, else string.
fn typed(text: String) -> Value {
    if fold_eq(&text, "true") {
        return Value::Bool(true);
    }
    if fold_eq(&text, "false") {
        return Value::Bool(false);
    }
    if fold_eq(&text, "null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::Int(0);
    }
    // Go's ParseInt accepts a sign, so `-05` is -5 while `05` stays a string.
    if let (false, Ok(i)) = (text.starts_with('0'), text.parse::<i64>()) {
        return Value::Int(i);
    }
    Value::String(text)
}

/// Go's `strings.EqualFold` against a lowercase ASCII word (`ſ` folds to `s`, the Kelvin sign to `k`).
fn fold_eq(text: &str, word: &str) -> bool {
    let fold = |c: char| match c {
        'ſ' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    };
    text.chars().map(fold).eq(word.chars())
}

/// JSON as Helm holds it: integer literals → Int, other numbers → Float, objects → maps.
fn from_json(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::List(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Map(o.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
    }
}

/// serde_json's message without its ` at line L column C` suffix (we give our own column).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    format!("invalid JSON: {text}")
}

/// Byte offset of serde_json's 1-based line/column in `text`.
fn byte_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// "cannot use `a` as a map: it already holds a number" — never the value itself.
fn conflict(path: &str, existing: &Value, wanted: &str) -> String {
    let held = existing.kind();
    format!(
        "cannot use `{path}` as {wanted}: it already holds {held} (from a values file or an earlier flag)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_document;

    fn yaml(text: &str) -> Map {
        parse_document(text, "expected.yaml")
            .map(|(m, _)| m)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Apply `arg` over the values `before` (YAML text).
    fn apply(kind: SetKind, before: &str, arg: &str) -> Result<Map, String> {
        let mut dst = yaml(before);
        let arg = SetArg {
            kind,
            number: 1,
            text: arg,
        };
        apply_set(&mut dst, arg, &mut 0)
            .map(|()| dst)
            .map_err(|e| e.to_string())
    }

    use SetKind::{Json, Literal, Set, String as Str};

    /// `(flag, values before, argument, values after)`; one row per case, Helm's
    /// `pkg/strvals/parser_test.go` first (TestParseSet, TestParseInto, TestParseIntoString,
    /// TestParseJSON, TestParseSetNestedLevels, TestSetIndex), then st2k8s' own.
    const OK: &[(SetKind, &str, &str, &str)] = &[
        // TestParseSet, string rows (ParseString)
        (
            Str,
            "",
            "long_int_string=1234567890",
            "long_int_string: '1234567890'",
        ),
        (Str, "", "boolean=true", "boolean: 'true'"),
        (Str, "", "is_null=null", "is_null: 'null'"),
        (Str, "", "zero=0", "zero: '0'"),
        // TestParseSet (Parse)
        (
            Set,
            "",
            "name1=null,f=false,t=true",
            "{name1: null, f: false, t: true}",
        ),
        (Set, "", "name1=value1", "name1: value1"),
        (
            Set,
            "",
            "name1=value1,name2=value2",
            "{name1: value1, name2: value2}",
        ),
        (
            Set,
            "",
            "name1=value1,name2=value2,",
            "{name1: value1, name2: value2}",
        ),
        (Set, "", "name1=,name2=value2", "{name1: '', name2: value2}"),
        (Set, "", "leading_zeros=00009", "leading_zeros: '00009'"),
        (Set, "", "zero_int=0", "zero_int: 0"),
        (Set, "", "long_int=1234567890", "long_int: 1234567890"),
        (Set, "", "boolean=true", "boolean: true"),
        (Set, "", "is_null=null", "is_null: null"),
        (
            Set,
            "",
            r"name1=one\,two,name2=three\,four",
            "{name1: 'one,two', name2: 'three,four'}",
        ),
        (
            Set,
            "",
            r"name1=one\=two,name2=three\=four",
            "{name1: 'one=two', name2: 'three=four'}",
        ),
        (
            Set,
            "",
            "name1=one two three,name2=three two one",
            "{name1: one two three, name2: three two one}",
        ),
        (Set, "", "outer.inner=value", "outer: {inner: value}"),
        (
            Set,
            "",
            "outer.middle.inner=value",
            "outer: {middle: {inner: value}}",
        ),
        (
            Set,
            "",
            "outer.inner1=value,outer.inner2=value2",
            "outer: {inner1: value, inner2: value2}",
        ),
        (
            Set,
            "",
            "outer.inner1=value,outer.middle.inner=value",
            "outer: {inner1: value, middle: {inner: value}}",
        ),
        (Set, "", "name1.name2=", "name1: {name2: ''}"),
        (Set, "", "name1={value1,value2}", "name1: [value1, value2]"),
        (
            Set,
            "",
            "name1={value1,value2},name2={value1,value2}",
            "{name1: [value1, value2], name2: [value1, value2]}",
        ),
        (Set, "", "name1={1021,902}", "name1: [1021, 902]"),
        (
            Set,
            "",
            "name1.name2={value1,value2}",
            "name1: {name2: [value1, value2]}",
        ),
        (Set, "", "list[0]=foo", "list: [foo]"),
        (Set, "", "list[0].foo=bar", "list: [{foo: bar}]"),
        (
            Set,
            "",
            "list[0].foo=bar,list[0].hello=world",
            "list: [{foo: bar, hello: world}]",
        ),
        (Set, "", "list[0]=foo,list[1]=bar", "list: [foo, bar]"),
        (Set, "", "list[0]=foo,list[1]=bar,", "list: [foo, bar]"),
        (
            Set,
            "",
            "list[0]=foo,list[3]=bar",
            "list: [foo, null, null, bar]",
        ),
        (Set, "", "noval[0]", "noval: []"),
        (Set, "", "noval[0]=", "noval: ['']"),
        (Set, "", "nested[0][0]=1", "nested: [[1]]"),
        (Set, "", "nested[1][1]=1", "nested: [null, [null, 1]]"),
        (
            Set,
            "",
            "name1.name2[0].foo=bar,name1.name2[1].foo=bar",
            "name1: {name2: [{foo: bar}, {foo: bar}]}",
        ),
        (
            Set,
            "",
            "name1.name2[1].foo=bar,name1.name2[0].foo=bar",
            "name1: {name2: [{foo: bar}, {foo: bar}]}",
        ),
        (
            Set,
            "",
            "name1.name2[1].foo=bar",
            "name1: {name2: [null, {foo: bar}]}",
        ),
        // TestParseInto (ParseInto over existing values; second arguments applied as a second flag below)
        (
            Set,
            "outer: {inner1: overwrite, inner2: value2}",
            "outer.inner1=value1,outer.inner3=value3,outer.inner4=4",
            "outer: {inner1: value1, inner2: value2, inner3: value3, inner4: 4}",
        ),
        (
            Set,
            "listOuter: [[{type: listValue}]]",
            "listOuter[0][0].status=alive",
            "listOuter: [[{type: listValue, status: alive}]]",
        ),
        (
            Set,
            "listOuter: [[{type: listValue}]]",
            "listOuter[1][0].status=alive",
            "listOuter: [[{type: listValue}], [{status: alive}]]",
        ),
        (
            Set,
            "listOuter: [[[{exited: old}], [{type: listValue}]]]",
            "listOuter[0][0][1].status=alive",
            "listOuter: [[[{exited: old}, {status: alive}], [{type: listValue}]]]",
        ),
        (
            Set,
            "listOuter: [[[{exited: old}]]]",
            "listOuter[0][1][0].type=listValue",
            "listOuter: [[[{exited: old}], [{type: listValue}]]]",
        ),
        // TestParseIntoString
        (
            Str,
            "outer: {inner1: overwrite, inner2: value2}",
            "outer.inner1=1,outer.inner3=3",
            "outer: {inner1: '1', inner2: value2, inner3: '3'}",
        ),
        // TestParseJSON
        (
            Json,
            "outer: {inner1: overwrite, inner2: value2}",
            r#"outer.inner1="1",outer.inner3=3,outer.inner4=true,outer.inner5="true""#,
            "outer: {inner1: '1', inner2: value2, inner3: 3, inner4: true, inner5: 'true'}",
        ),
        (
            Json,
            "outer: {inner1: {x: overwrite}, inner2: value2, inner3: [overwrite]}",
            r#"outer.inner1={"a":"1","b":2,"c":[1,2,3]},outer.inner3=["new value 1","new value 2"],outer.inner4={"aa":"1","bb":2,"cc":[1,2,3]},outer.inner5=[{"A":"1","B":2,"C":[1,2,3]}]"#,
            "outer: {inner1: {a: '1', b: 2, c: [1, 2, 3]}, inner2: value2, inner3: [new value 1, new value 2], inner4: {aa: '1', bb: 2, cc: [1, 2, 3]}, inner5: [{A: '1', B: 2, C: [1, 2, 3]}]}",
        ),
        (
            Json,
            "outer: {inner1: {x: overwrite}, inner2: value2}",
            r#"outer.inner1=,outer.inner3={"aa":"1","bb":2,"cc":[1,2,3]},outer.inner3.cc[1]=null"#,
            "outer: {inner1: null, inner2: value2, inner3: {aa: '1', bb: 2, cc: [1, null, 3]}}",
        ),
        // TestParseSetNestedLevels: 30 dots is the most Helm allows
        (
            Set,
            "",
            "outer.middle.inner=value",
            "outer: {middle: {inner: value}}",
        ),
        (
            Set,
            "",
            "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.b=1",
            "a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {a: {b: 1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}",
        ),
        // TestSetIndex: short, equal, long
        (Set, "l: [0, 1]", "l[2]=2", "l: [0, 1, 2]"),
        (Set, "l: [0, 1]", "l[1]=2", "l: [0, 2]"),
        (
            Set,
            "l: [0, 1, 2, 3, 4, 5]",
            "l[3]=4",
            "l: [0, 1, 2, 4, 4, 5]",
        ),
        // typing (Helm's typedVal)
        (
            Set,
            "",
            "a=TRUE,b=False,c=NuLL,d=-05,e=+5,f=-0,g=00,h=0x1F,i=1.5,j=1e3,k=9223372036854775808",
            "{a: true, b: false, c: null, d: -5, e: 5, f: 0, g: '00', h: '0x1F', i: '1.5', j: '1e3', k: '9223372036854775808'}",
        ),
        (
            Set,
            "",
            "a=falſe,b=yes,c=on,d=~,e= 1",
            "{a: false, b: 'yes', c: 'on', d: '~', e: ' 1'}",
        ),
        (
            Str,
            "",
            "a=null,b={1,true}",
            "{a: 'null', b: ['1', 'true']}",
        ),
        // escapes: any char after a backslash is literal, also in keys and list items
        (
            Set,
            "",
            r"a\.b=1,c\[0\]=2,d\,e=3,f\=g=4",
            "{a.b: 1, 'c[0]': 2, 'd,e': 3, 'f=g': 4}",
        ),
        (
            Set,
            "",
            r"a=\{x},b=x\\y,c=x\y,d={x\,y,z\}}",
            r"{a: '{x}', b: 'x\y', c: xy, d: ['x,y', 'z}']}",
        ),
        (
            Set,
            "",
            r"st2.packs.configs.core\.yaml=null",
            "st2: {packs: {configs: {core.yaml: null}}}",
        ),
        (Set, "", r"a=x\", "a: x"),
        // list values
        (Set, "", "a={}", "a: ['']"),
        (Set, "", "a={x,},b=1", "{a: [x, ''], b: 1}"),
        (Set, "", "a={x}", "a: [x]"),
        (Set, "", "a={ x , y }", "a: [' x ', ' y ']"),
        (Set, "", "a=x{y},b=}", "{a: 'x{y}', b: '}'}"),
        // indexes, padding, nesting, Helm's index forms
        (Set, "", "a[+1]=2", "a: [null, 2]"),
        (Set, "", "a[2]=x,a[0]=z", "a: [z, null, x]"),
        (Set, "", "a[0]=1,a[0].b=2", "a: [{b: 2}]"),
        (Set, "", "a[1][1][1]=x", "a: [null, [null, [null, x]]]"),
        (Set, "", "a[0]={u,v}", "a: [[u, v]]"),
        (Set, "", "a[0]", "a: []"),
        (Set, "a: [1, 2]", "a[5]", "a: [1, 2]"),
        (Set, "a: [[1], 2]", "a[0][0]", "a: [[1], 2]"),
        (
            Set,
            "a: [null, [7]]",
            "a[0][0]=1,a[1][1]=8",
            "a: [[1], [7, 8]]",
        ),
        // null deletes nothing here: it is stored, `coalesce` later drops the default key
        (Set, "a: {b: 1, c: 2}", "a.b=null", "a: {b: null, c: 2}"),
        (Set, "a: [1, 2, 3]", "a={4}", "a: [4]"),
        (Set, "a: {b: 1}", "a=x", "a: x"),
        // --set-json
        (
            Json,
            "",
            r#"a=1 b=[1,2],c= ,d={"x":null}"#,
            "{a: 1, b: [1, 2], c: null, d: {x: null}}",
        ),
        (
            Json,
            "",
            r#"a=1.5,b=1.0,c=1e3,d=12345678901234567890,e="x,y""#,
            "{a: 1.5, b: 1.0, c: 1000.0, d: 12345678901234567890.0, e: 'x,y'}",
        ),
        (Json, "", "a[1]=true,a[0]=", "a: [null, true]"),
        (Json, "", "a=", "a: null"),
        (
            Json,
            "a: {b: 1, c: 2}",
            r#" {"a": {"c": 3, "d": [1]}, "e": null} "#,
            "{a: {b: 1, c: 3, d: [1]}, e: null}",
        ),
        (Json, "", "{}", "{}"),
        // --set-literal: no escapes, no `,` separator, the rest of the argument verbatim
        (Literal, "", r"a.b=x,y\z", r"a: {b: 'x,y\z'}"),
        (Literal, "", "c[1]={q}", "c: [null, '{q}']"),
        (Literal, "", r"a\b=1,c=2", r"'a\b': '1,c=2'"),
        (Literal, "", "a=", "a: ''"),
        // trailing commas and empty arguments
        (Set, "", "", "{}"),
        (Set, "", "a=1,", "a: 1"),
    ];

    #[test]
    fn helm_rows() {
        let failures: Vec<String> = OK
            .iter()
            .filter_map(
                |(kind, before, arg, after)| match apply(*kind, before, arg) {
                    Ok(got) if got == yaml(after) => None,
                    Ok(got) => Some(format!(
                        "{} `{arg}` over `{before}`: got {got:?}",
                        kind.flag()
                    )),
                    Err(e) => Some(format!("{} `{arg}`: unexpected error: {e}", kind.flag())),
                },
            )
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn largest_index_pads_with_nulls() {
        let got = apply(Set, "", "a[65536]=x").expect("Helm's MaxIndex is allowed");
        let list = got["a"].as_list();
        assert_eq!(list.len(), 65_537);
        assert!(list[..65_536].iter().all(Value::is_null));
        assert_eq!(list[65_536], Value::String("x".into()));
    }

    /// TestParseFile / TestParseIntoFile: the value names a file whose text becomes the string.
    #[test]
    fn set_file_reads_files() {
        let dir = std::env::temp_dir().join(format!("st2k8s-set-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (one, two) = (dir.join("one.txt"), dir.join("two,x.txt"));
        std::fs::write(&one, "value1\n").expect("write");
        std::fs::write(&two, "true").expect("write");
        let (one, two) = (one.display().to_string(), two.display().to_string());
        let escaped = two.replace(',', r"\,");
        let got = apply(
            SetKind::File,
            "",
            &format!("name1={one},b.c[1]={{{one},{escaped}}},e="),
        )
        .expect("reads");
        let want = yaml(r#"{name1: "value1\n", b: {c: [null, ["value1\n", 'true']]}, e: ''}"#);
        assert_eq!(got, want);

        let missing = dir.join("missing.txt").display().to_string();
        let err = apply(SetKind::File, "", &format!("a={one},st2.ssh_key={missing}"))
            .expect_err("missing file");
        let byte = one.len() + 16;
        assert_eq!(
            err,
            format!(
                "argument 1 of --set-file, at byte {byte}: cannot read `{missing}`: {}",
                std::fs::File::open(&missing).expect_err("missing")
            )
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// `(flag, values before, argument, the whole error message)`.
    const ERR: &[(SetKind, &str, &str, &str)] = &[
        // Helm's error rows
        (
            Set,
            "",
            "name1=value1,,,,name2=value2,",
            "argument 1 of --set, at byte 14: unexpected `,`: expected a key",
        ),
        (
            Set,
            "",
            "name1,name2=",
            "argument 1 of --set, at byte 6: key without a value: expected `=` before `,`",
        ),
        (
            Set,
            "",
            "name1,name2=value2",
            "argument 1 of --set, at byte 6: key without a value: expected `=` before `,`",
        ),
        (
            Set,
            "",
            r"name1,name2=value2\",
            r"argument 1 of --set, at byte 6: key without a value: expected `=` before `,`",
        ),
        (
            Set,
            "",
            "name1,name2",
            "argument 1 of --set, at byte 6: key without a value: expected `=` before `,`",
        ),
        (
            Set,
            "",
            "name1.name2",
            "argument 1 of --set, at byte 12: key without a value: expected `=`",
        ),
        (
            Set,
            "",
            "name1.name2,name1.name3",
            "argument 1 of --set, at byte 12: key without a value: expected `=` before `,`",
        ),
        (
            Set,
            "",
            "name1.=name2",
            "argument 1 of --set, at byte 7: empty key name before `=`",
        ),
        (
            Set,
            "",
            "name1.,name2",
            "argument 1 of --set, at byte 7: unexpected `,`: expected a key",
        ),
        (
            Set,
            "",
            "name1={1021,902",
            "argument 1 of --set, at byte 7: list `{` without a closing `}`",
        ),
        (
            Set,
            "",
            "list[0].foo=bar,list[-30].hello=world",
            "argument 1 of --set, at byte 22: negative index",
        ),
        (
            Set,
            "",
            "list[0]=foo,list[-20]=bar",
            "argument 1 of --set, at byte 18: negative index",
        ),
        (
            Set,
            "",
            "illegal[0]name.foo=bar",
            "argument 1 of --set, at byte 11: unexpected text after `illegal[0]`: expected `.`, `[` or `=`",
        ),
        (
            Set,
            "",
            "]={}].",
            "argument 1 of --set, at byte 7: `].` ends the argument: expected a key after `.`",
        ),
        (
            Set,
            "",
            "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.b=1",
            "argument 1 of --set, at byte 62: key nested more than 30 levels deep (Helm's limit)",
        ),
        (
            Set,
            "",
            "l[65537]=x",
            "argument 1 of --set, at byte 3: index 65537 is greater than the maximum of 65536 (Helm's limit)",
        ),
        (
            Json,
            "",
            r#"outer.inner1={"a":"1"},outer.inner5={"A":"1","B":2}]"#,
            r#"argument 1 of --set-json, at byte 53: key without a value: expected `=`"#,
        ),
        // indexes
        (
            Set,
            "",
            "a.b[x]=1",
            "argument 1 of --set, at byte 5: invalid index: expected a number",
        ),
        (
            Set,
            "",
            "a[]=1",
            "argument 1 of --set, at byte 3: invalid index: expected a number",
        ),
        (
            Set,
            "",
            "a[1=1",
            "argument 1 of --set, at byte 2: `[` without a closing `]`",
        ),
        (
            Set,
            "",
            "a[99999999999999999999]=1",
            "argument 1 of --set, at byte 3: index out of range (at most 65536)",
        ),
        (
            Set,
            "",
            "a[0]x=1",
            "argument 1 of --set, at byte 5: unexpected text after `a[0]`: expected `.`, `[` or `=`",
        ),
        // type conflicts, within one argument and against earlier values
        (
            Set,
            "",
            "a=1,a.b=2",
            "argument 1 of --set, at byte 6: cannot use `a` as a map: it already holds a number (from a values file or an earlier flag)",
        ),
        (
            Set,
            "",
            "a[0]=1,a.b=2",
            "argument 1 of --set, at byte 9: cannot use `a` as a map: it already holds a list (from a values file or an earlier flag)",
        ),
        (
            Set,
            "",
            "a.b=1,a[0]=2",
            "argument 1 of --set, at byte 8: cannot use `a` as a list: it already holds a map (from a values file or an earlier flag)",
        ),
        (
            Set,
            "",
            "a.b=1,a.b.c=2",
            "argument 1 of --set, at byte 10: cannot use `a.b` as a map: it already holds a number (from a values file or an earlier flag)",
        ),
        (
            Set,
            "a: null",
            "a.b=1",
            "argument 1 of --set, at byte 2: cannot use `a` as a map: it already holds null (from a values file or an earlier flag)",
        ),
        (
            Set,
            "a: x",
            "a[0]=1",
            "argument 1 of --set, at byte 2: cannot use `a` as a list: it already holds a string (from a values file or an earlier flag)",
        ),
        (
            Set,
            "a: [x]",
            "a[0][0]=1",
            "argument 1 of --set, at byte 5: cannot use `a[0]` as a list: it already holds a string (from a values file or an earlier flag)",
        ),
        // empty keys and dangling separators (Helm ignores these silently)
        (
            Set,
            "",
            "=x",
            "argument 1 of --set, at byte 1: empty key name before `=`",
        ),
        (
            Set,
            "",
            "a.",
            "argument 1 of --set, at byte 3: `a.` ends the argument: expected a key after `.`",
        ),
        (
            Set,
            "",
            "[0]=x",
            "argument 1 of --set, at byte 1: empty key name before `[`",
        ),
        (
            Set,
            "",
            "a[0].",
            "argument 1 of --set, at byte 6: `a[0].` ends the argument: expected a key after `.`",
        ),
        (
            Set,
            "",
            "a={x}y",
            "argument 1 of --set, at byte 7: key without a value: expected `=`",
        ),
        (
            Set,
            "",
            ",a=1",
            "argument 1 of --set, at byte 1: unexpected `,`: expected a key",
        ),
        // --set-json
        (
            Json,
            "",
            "a=hello",
            "argument 1 of --set-json, at byte 3: invalid JSON: expected value",
        ),
        (
            Json,
            "",
            "a=[1,2",
            "argument 1 of --set-json, at byte 6: invalid JSON: EOF while parsing a list",
        ),
        (
            Json,
            "",
            "a=1x",
            "argument 1 of --set-json, at byte 4: invalid JSON: trailing characters",
        ),
        (
            Json,
            "",
            r#"{"a":1}x"#,
            r#"argument 1 of --set-json, at byte 8: invalid JSON: trailing characters"#,
        ),
        (
            Json,
            "",
            r#"{"password":"hunter2""#,
            "argument 1 of --set-json, at byte 21: invalid JSON: EOF while parsing an object",
        ),
        // --set-literal
        (
            Literal,
            "",
            "a.b",
            "argument 1 of --set-literal, at byte 4: key without a value: expected `=`",
        ),
        // values are never echoed, whatever the key
        (
            Set,
            "",
            "st2.password=hunter2,st2.x[y]=1",
            "argument 1 of --set, at byte 28: invalid index: expected a number",
        ),
        (
            Set,
            "",
            "redis.auth.password={a,b},x.",
            "argument 1 of --set, at byte 29: `x.` ends the argument: expected a key after `.`",
        ),
    ];

    #[test]
    fn error_rows() {
        let failures: Vec<String> = ERR
            .iter()
            .filter_map(
                |(kind, before, arg, want)| match apply(*kind, before, arg) {
                    Ok(got) => Some(format!(
                        "{} `{arg}`: expected an error, got {got:?}",
                        kind.flag()
                    )),
                    Err(e) if e == *want => None,
                    Err(e) => Some(format!("got:  {e}\nwant: {want}")),
                },
            )
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// No error of any flag echoes a value: `S3CRET-SENTINEL` sits in a value (or where a value
    /// with an unescaped `,` spills into key position) in each broken argument.
    #[test]
    fn errors_never_echo_values() {
        const SENTINEL: &str = "S3CRET-SENTINEL";
        let rows: &[(SetKind, &str)] = &[
            (Set, "st2.keyvalue[0].value=S3CRET-SENTINEL,zz[=1"),
            (Set, "mongodb.auth.passwords[0]=S3CRET-SENTINEL,zz"),
            (Set, "st2.password=ab,S3CRET-SENTINEL"),
            (Set, "st2.password=ab,S3CRET-SENTINEL,x=1"),
            (Set, "a=ab,S3CRET-SENTINEL[x]=1"),
            (Set, "a=ab,x[S3CRET-SENTINEL]=1"),
            (Set, "a=ab,x[99999999999999999999S3CRET-SENTINEL]=1"),
            (Set, "a=ab,x[0]S3CRET-SENTINEL=1"),
            (Set, "a={S3CRET-SENTINEL,b"),
            (Set, "a=S3CRET-SENTINEL,a.b=1"),
            (Str, "a=S3CRET-SENTINEL,b"),
            (Json, "a=\"S3CRET-SENTINEL"),
            (Json, "a=S3CRET-SENTINEL"),
            (Json, "a=[\"S3CRET-SENTINEL\",x]"),
            (Json, "{\"a\":\"S3CRET-SENTINEL\"}x"),
            (Json, "{\"a\":\"S3CRET-SENTINEL\""),
            (Json, "[\"S3CRET-SENTINEL\"]"),
            (Literal, "S3CRET-SENTINEL"),
            (SetKind::File, "a=/nonexistent,S3CRET-SENTINEL"),
        ];
        for (kind, arg) in rows {
            let err = apply(*kind, "", arg).expect_err(arg);
            assert!(err.starts_with("argument 1 of --"), "{err}");
            assert!(!err.contains(SENTINEL), "{} `{arg}`: {err}", kind.flag());
        }
    }

    #[test]
    fn padding_is_capped_across_arguments() {
        let mut dst = Map::new();
        let mut created = 0;
        let mut last = Ok(());
        for n in 1..=20 {
            let text = format!("k{n}[65536]=x");
            let arg = SetArg {
                kind: Set,
                number: n,
                text: &text,
            };
            last = apply_set(&mut dst, arg, &mut created);
            if last.is_err() {
                break;
            }
        }
        assert_eq!(
            last.map_err(|e| e.to_string()),
            Err("argument 16 of --set, at byte 5: `k16[65536]` pads its list past 1000000 list items created by all `--set` flags together".to_string())
        );
        let arg = SetArg {
            kind: Json,
            number: 1,
            text: "j[65536]=1",
        };
        let err = apply_set(&mut dst, arg, &mut created)
            .expect_err("over budget")
            .to_string();
        assert!(err.contains("pads its list past 1000000"), "{err}");
    }
}
