//! `tpl`: evaluating values strings as Go templates, as the chart does with Helm's `tpl` (image
//! tags, `st2.config`, `extra_volumes`, …). Supported: text, `{{ }}` actions with `{{-`/`-}}`
//! trim markers, comments, `.Values`/`.Release`/`.Chart` field chains (also from `$`), literals,
//! parentheses, pipelines and the functions listed in [`parser::Func`]. Everything else (control
//! structures, variables, `include` and other functions) is an error naming the values key,
//! never passed through.

mod eval;
mod format;
mod funcs;
mod lexer;
mod parser;

use std::cell::Cell;

use crate::error::printable;
use crate::release::Release;
use crate::values::Value;

/// Most text one `tpl` call may make, counting the result of every function in it: a few
/// bytes of template must not turn into gigabytes (`replace ""` multiplies its input).
pub const MAX_CALL_OUTPUT: usize = 16 * 1024 * 1024;
/// Most text all the `tpl` calls sharing one [`Budget`] (one render) may make together.
pub const MAX_RENDER_OUTPUT: usize = 32 * 1024 * 1024;

/// What is left of [`MAX_RENDER_OUTPUT`] for the `tpl` calls of one render.
#[derive(Debug)]
pub struct Budget {
    left: Cell<usize>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            left: Cell::new(MAX_RENDER_OUTPUT),
        }
    }
}

/// What a template can see: `.Values`, `.Release`, `.Chart`; and the output budget it draws on.
pub struct Scope<'a> {
    values: &'a Value,
    release: &'a Release,
    budget: &'a Budget,
    /// Where the values nodes the templates read are logged, when a render keeps such a log.
    reads: Option<&'a crate::values::Reads>,
}

impl<'a> Scope<'a> {
    /// The parent chart's view: `.Values` is the merged values tree, `.Chart` is stackstorm-ha.
    pub fn new(values: &'a Value, release: &'a Release, budget: &'a Budget) -> Self {
        Self {
            values,
            release,
            budget,
            reads: None,
        }
    }

    /// The same scope, logging every values node a template reads (`.Values.a.b` reads `a.b`
    /// with everything below it) into `reads`.
    pub fn with_reads(self, reads: &'a crate::values::Reads) -> Self {
        Self {
            reads: Some(reads),
            ..self
        }
    }
}

/// A values string that st2k8s cannot evaluate as a template. Errors name the values key and
/// the line and column in its string, never any of its text: the string may hold a secret (a
/// password that happens to contain `{{`, or all of `st2.keyvalue`). Messages quote only words
/// st2k8s itself defines (supported functions, keywords) and field names, which are keys.
#[derive(Debug, thiserror::Error)]
pub enum TplError {
    /// `found` is the kind of value (`a list`), never the value.
    #[error(
        "`{}`: expected a string to evaluate as a template, found {found}",
        printable(key)
    )]
    NotAString { key: String, found: &'static str },
    /// The text is not a well-formed template (unclosed action, bad literal…).
    #[error(
        "`{}`: template syntax error at line {line}, column {column}: {}",
        printable(key),
        printable(message)
    )]
    Syntax {
        key: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// An action that is unsupported, or fails as it would in Helm, or makes too much output.
    #[error(
        "`{}`: {} (line {line}, column {column})",
        printable(key),
        printable(message)
    )]
    Action {
        key: String,
        line: usize,
        column: usize,
        message: String,
    },
}

impl TplError {
    /// [`TplError::NotAString`] for the value found at `key`.
    pub fn not_a_string(key: &str, found: &Value) -> TplError {
        TplError::NotAString {
            key: key.to_string(),
            found: found.kind(),
        }
    }
}

/// Evaluate `text` as a template; `key` names the values key in errors.
pub fn render(text: &str, scope: &Scope, key: &str) -> Result<String, TplError> {
    let items = lexer::lex(text).map_err(|e| {
        let (line, column) = line_column(text, e.pos);
        TplError::Syntax {
            key: key.into(),
            line,
            column,
            message: e.message,
        }
    })?;
    let nodes =
        parser::parse(text, &items).map_err(|e| action_error(text, key, e.pos, e.message))?;
    let eval = eval::Eval::new(scope);
    let mut out = String::with_capacity(text.len());
    for node in &nodes {
        match node {
            parser::Node::Text(t) => {
                let at = (t.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                eval.charge(t.len())
                    .map_err(|m| action_error(text, key, at, m))?;
                out.push_str(t);
            }
            parser::Node::Action { pipe, span } => {
                let before = out.len();
                eval.print(&mut out, pipe)
                    .and_then(|()| eval.charge(out.len() - before))
                    .map_err(|m| action_error(text, key, span.start, m))?;
            }
        }
    }
    // Helm's `tpl` deletes Go's `<no value>` marker from the result, wherever it comes from.
    Ok(if out.contains("<no value>") {
        out.replace("<no value>", "")
    } else {
        out
    })
}

fn action_error(text: &str, key: &str, pos: usize, message: String) -> TplError {
    let (line, column) = line_column(text, pos);
    TplError::Action {
        key: key.into(),
        line,
        column,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Layer, load, parse_document};

    /// Values of the throwaway chart the expectations below were taken from (Helm 4.1.4,
    /// `{{ tpl .Values.t . }}`, release `st2` in namespace `ns1`).
    const FIXTURE: &str = r#"
image:
  tag: "3.8.1"
num: 5
big: 1000000
neg: -7
fl: 1.5
bt: true
bf: false
lst: [1, "a", null]
mp: {x: 1, yy: "z", nul: null}
nul: null
emp: ""
str: "hello"
"#;

    fn fixture_render(text: &str) -> Result<String, TplError> {
        let (map, _) = parse_document(FIXTURE, "fixture").expect("fixture parses");
        let values = Value::Map(map);
        let release = Release {
            name: "st2".into(),
            namespace: "ns1".into(),
        };
        render(
            text,
            &Scope::new(&values, &release, &Budget::default()),
            "st2.config",
        )
    }

    /// Every row is `helm template`'s output for the same string (except `big`, see `ValuesInt`).
    const HELM_ROWS: &[(&str, &str)] = &[
        ("plain text }} {", "plain text }} {"),
        (
            "{{ .Values.missing }}|{{ .Values.nul }}|{{ .Values.emp }}",
            "||",
        ),
        (
            "{{ .Values.lst }}|{{ .Values.mp }}",
            "[1 a <nil>]|map[nul:<nil> x:1 yy:z]",
        ),
        (
            "{{ .Values.num }}|{{ .Values.neg }}|{{ .Values.fl }}|{{ .Values.bt }}",
            "5|-7|1.5|true",
        ),
        (
            "{{ .Values.image }}|{{ .Values.mp.yy }}{{ .Values.mp.nul }}",
            "map[tag:3.8.1]|z",
        ),
        (
            "{{ .Values.image.Tag }}|{{ .values }}|{{ .Release.Missing }}|{{ .Chart.Missing }}",
            "|||",
        ),
        (
            "{{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }} {{ .Release.Revision }}",
            "st2 ns1 Helm 1",
        ),
        (
            "{{ .Release }}",
            "map[IsInstall:true IsUpgrade:false Name:st2 Namespace:ns1 Revision:1 Service:Helm]",
        ),
        (
            "{{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.APIVersion }}",
            "stackstorm-ha 1.1.0 3.8 v2",
        ),
        (
            "{{ .Chart.Keywords }}|{{ .Chart.Type }}|{{ .Chart.Sources }}|{{ .Chart.IsRoot }}|{{ .Chart.Annotations }}",
            "[st2 stackstorm devops SRE automation chatops event-driven auto-remediation IFTTT HA]||[]|true|map[]",
        ),
        (
            "{{ .Chart.Home }} {{ .Chart.Icon }}",
            "https://stackstorm.com/ https://landscape.cncf.io/logos/stack-storm.svg",
        ),
        (
            "{{ $.Values.image.tag }}|{{ (.Values.image).tag }}|{{ ((.Values).image).tag }}",
            "3.8.1|3.8.1|3.8.1",
        ),
        ("<no value>|{{ \"<no value>\" }}", "|"),
        // Literals.
        (
            "{{ `raw\\n` }}|{{ \"\\t\\x41\\u00e9\\101\\\\\" }}",
            "raw\\n|\tAéA\\",
        ),
        (
            "{{ 1 }}|{{ 1.50 }}|{{ 0x1F }}|{{ true }}|{{ -3 }}|{{ 1e3 }}|{{ 1_000 }}|{{ 0o17 }}|{{ 017 }}|{{ 'a' }}|{{ +5 }}|{{ 1.0 }}|{{ 3e20 }}",
            "1|1.5|31|true|-3|1000|1000|15|15|97|5|1|3e+20",
        ),
        (
            "{{ .5 }}|{{ -.5 }}|{{ 1. }}|{{ 0x1e }}|{{ 1E3 }}|{{ 0b101 }}|{{ 0X1F }}",
            "0.5|-0.5|1|30|1000|5|31",
        ),
        (
            "{{ '\\n' }}|{{ '\\'' }}|{{ 'é' }}|{{ '\\x41' }}{{ '\\101' }}{{ '\\u00e9' }}",
            "10|39|233|6565233",
        ),
        ("{{ -0.0 }}|{{ 0 }}|{{ -0 }}", "-0|0|0"),
        (
            "{{\"a\"}}{{1}}|{{ `a}}b` }}|}} x {{ \"}}\" }}",
            "a1|a}}b|}} x }}",
        ),
        // Trim markers and comments.
        ("a  {{- .Release.Name -}}  b", "ast2b"),
        ("{{- \"a\" -}}\n\n  b  \n {{- \"c\" }}", "abc"),
        ("a{{ \"x\" -}}\n\t b|{{- 3}}|{{3 -}} |", "axb|3|3|"),
        (
            "{{-\t.Release.Name}}|{{ .Release.Name -}}\r\n x",
            "st2|st2x",
        ),
        ("a {{/* c */}} b {{- /* c */ -}} c", "a  bc"),
        (
            "{{/**/}}|{{- /* a */ -}} |x {{- /* c */}} y|{{/*c*/ -}}  x",
            "||x y|x",
        ),
        // Functions.
        (
            "{{ quote nil }}|{{ quote .Values.missing }}|{{ quote \"a\\\"b\\\\c\" }}|{{ quote 1 2 }}",
            r#"||"a\"b\\c"|"1" "2""#,
        ),
        (
            "{{ squote nil }}|{{ squote \"a'b\" }}|{{ squote .Values.num }}|{{ squote 1 2 }}",
            "|'a'b'|'5'|'1' '2'",
        ),
        (
            "{{ quote .Values.num }}|{{ quote .Values.lst }}|{{ quote \"\" }}|{{ quote true }}|{{ quote .Values.mp }}",
            r#""5"|"[1 a <nil>]"|""|"true"|"map[nul:<nil> x:1 yy:z]""#,
        ),
        (
            "{{ quote }}|{{ squote }}|{{ .Values.missing | quote }}|{{ .Values.missing | squote }}",
            "|||",
        ),
        (
            "{{ quote 1e3 }}|{{ quote 1.0 }}|{{ quote .Release }}",
            r#""1000"|"1"|"map[IsInstall:true IsUpgrade:false Name:st2 Namespace:ns1 Revision:1 Service:Helm]""#,
        ),
        (
            "{{ quote \"é\\n\\t\\u0001\" }}|{{ quote \"\\a\\b\\f\\v\\r\" }}",
            r#""é\n\t\x01"|"\a\b\f\v\r""#,
        ),
        ("{{ .Values.image.tag | quote | quote }}", r#""\"3.8.1\"""#),
        (
            "{{ default \"x\" .Values.missing }}|{{ default \"x\" \"\" }}|{{ default \"x\" 0 }}|{{ .Values.missing | default \"d\" }}",
            "x|x|x|d",
        ),
        (
            "{{ default \"x\" .Values.bf }}|{{ default \"x\" .Values.lst }}|{{ default 1 2 3 }}|{{ default \"x\" }}",
            "x|[1 a <nil>]|2|x",
        ),
        (
            "{{ default nil nil }}|{{ default nil .Values.lst }}|{{ .Values.emp | default \"x\" }}",
            "|[1 a <nil>]|x",
        ),
        (
            "{{ .Values.str | default \"x\" | upper | quote }}",
            r#""HELLO""#,
        ),
        (
            "{{ toString nil }}|{{ toString 1.5 }}|{{ toString .Values.lst }}|{{ toString 1000000 }}|{{ toString true }}",
            "<nil>|1.5|[1 a <nil>]|1000000|true",
        ),
        (
            "{{ toString .Values.mp }}|{{ toString \"s\" }}",
            "map[nul:<nil> x:1 yy:z]|s",
        ),
        (
            "{{ lower \"AbC\" }}{{ upper \"abc\" }}|{{ trim \"  a \\n\" }}|{{ trim \"\\u00a0 x \\u2003\" }}",
            "abcABC|a|x",
        ),
        (
            "{{ trimSuffix \"-x\" \"a-x\" }}|{{ trimPrefix \"a\" \"ab\" }}|{{ trimSuffix \"\" \"a\" }}|{{ .Values.image.tag | trimSuffix \".1\" }}",
            "a|b|a|3.8",
        ),
        (
            "{{ replace \"a\" \"b\" \"aaa\" }}|{{ replace \"\" \"-\" \"abc\" }}",
            "bbb|-a-b-c-",
        ),
        (
            "{{ title \"hello world\" }}|{{ title \"hello-world foo_bar x.y ßa 1st\" }}",
            "Hello World|Hello-World Foo_bar X.Y ßa 1st",
        ),
        (
            "{{ upper \"straße\" }}|{{ lower \"ΣΑΣ İ\" }}|{{ .Release.Name | upper }}",
            "STRAßE|σασ i|ST2",
        ),
        (
            "{{ printf \"%s-%d-%v-%q-%%\" \"a\" 3 .Values.lst \"q\" }}",
            "a-3-[1 a <nil>]-\"q\"-%",
        ),
        (
            "{{ printf \"%s\" .Values.num }}|{{ printf \"%d\" \"x\" }}|{{ printf \"%s\" }}|{{ printf \"%s\" nil }}|{{ printf \"%v\" nil }}|{{ printf \"a\" 1 }}",
            "%!s(float64=5)|%!d(string=x)|%!s(MISSING)|%!s(<nil>)|<nil>|a%!(EXTRA int=1)",
        ),
        (
            "{{ printf \"%d\" .Values.num }}|{{ printf \"%d\" 5 }}|{{ printf \"%s\" 5 }}|{{ printf \"%q\" 5 }}|{{ printf \"%s\" .Values.fl }}|{{ printf \"%s\" true }}",
            "%!d(float64=5)|5|%!s(int=5)|'\\x05'|%!s(float64=1.5)|%!s(bool=true)",
        ),
        (
            "{{ printf \"%s\" .Values.lst }}|{{ printf \"%q\" .Values.lst }}",
            "[%!s(float64=1) a <nil>]|[%!q(float64=1) \"a\" <nil>]",
        ),
        (
            "{{ printf \"%d\" .Values.mp }}|{{ printf \"%v\" .Values.mp }}",
            "map[%!d(string=nul):<nil> %!d(string=x):%!d(float64=1) %!d(string=yy):%!d(string=z)]|map[nul:<nil> x:1 yy:z]",
        ),
        (
            "{{ printf \"%\" }}|{{ printf \"%d %d\" 1 }}|{{ printf \"a\" 1 \"b\" nil .Values.lst }}",
            "%!(NOVERB)|1 %!d(MISSING)|a%!(EXTRA int=1, string=b, <nil>, []interface {}=[1 a <nil>])",
        ),
        (
            "{{ printf \"%s\" .Release }}",
            "map[IsInstall:%!s(bool=true) IsUpgrade:%!s(bool=false) Name:st2 Namespace:ns1 Revision:%!s(int=1) Service:Helm]",
        ),
        (
            "{{ printf \"x\" .Release }}",
            "x%!(EXTRA map[string]interface {}=map[IsInstall:true IsUpgrade:false Name:st2 Namespace:ns1 Revision:1 Service:Helm])",
        ),
        (
            "{{ printf \"%q\" 97 }}|{{ printf \"%q\" -1 }}|{{ printf \"%q\" 1114112 }}|{{ printf \"%d\" true }}|{{ printf \"%s\" \"a\" \"b\" }}",
            "'a'|'\u{FFFD}'|'\u{FFFD}'|%!d(bool=true)|a%!(EXTRA string=b)",
        ),
        (
            "{{ printf \"%q\" \"a'b\\\"c\" }}|{{ printf \"%q\" 39 }}|{{ printf \"%q\" 34 }}",
            "\"a'b\\\"c\"|'\\''|'\"'",
        ),
        (
            "{{ printf \"%v %v %v %v\" 1.5 1e21 100000000000000000000.0 0.00001 }}",
            "1.5 1e+21 1e+20 1e-05",
        ),
        (
            "{{ printf \"%s\" .Values.missing }}|{{ printf \"%v\" .Values.nul }}|{{ printf \"%q\" .Values.missing }}",
            "%!s(<nil>)|<nil>|%!q(<nil>)",
        ),
        (
            "{{ .Values.image.tag | printf \"%s-x\" }}|{{ \"a\" | printf \"%s %s\" \"b\" }}|{{ 1 | printf \"%d\" }}",
            "3.8.1-x|b a|1",
        ),
        (
            "{{ (printf \"%s\" \"a\") | upper }}|{{ (1) }}|{{ (.Values.image.tag) }}|{{ (quote 1) }}",
            "A|1|3.8.1|\"1\"",
        ),
        (
            "{{ .Values.fl | printf \"%v\" }}|{{ printf \"%v\" \"a\\u00a0\" | quote }}",
            "1.5|\"a\\u00a0\"",
        ),
        ("{{ \"a\" | }}", "a"),
        (
            "{{ (.Values.missing).x }}|{{ (.Values.missing).x.y }}|{{ (default nil nil).x }}",
            "||",
        ),
        // st2k8s prints values integers in full where Helm prints `1e+06` (see `ValuesInt`).
        (
            "{{ .Values.big }}|{{ quote .Values.big }}",
            "1000000|\"1000000\"",
        ),
    ];

    #[test]
    fn evaluates_like_helm() {
        for (text, want) in HELM_ROWS {
            assert_eq!(
                fixture_render(text).map_err(|e| e.to_string()).as_deref(),
                Ok(*want),
                "{text}"
            );
        }
    }

    /// st2k8s fails on every row, naming the key and the position, never quoting the template: Helm fails too, except
    /// for constructs st2k8s does not support (control structures, variables, other functions…).
    const ERROR_ROWS: &[(&str, &str)] = &[
        // Unsupported constructs.
        (
            "{{ include \"x\" . }}",
            "`st2.config`: unsupported template function (supported: default, lower, printf, quote, replace, squote, title, toString, trim, trimPrefix, trimSuffix, upper) (line 1, column 4)",
        ),
        (
            "a\n  {{ if true }}y{{ end }}",
            "`st2.config`: unsupported control structure `if` (only expressions are evaluated) (line 2, column 6)",
        ),
        (
            "{{ $x := 1 }}{{ $x }}",
            "unsupported variable (only `$` is available) (line 1, column 4)",
        ),
        ("{{ foo }}", "unsupported template function (supported:"),
        (
            "{{ print \"a\" }}",
            "unsupported template function (supported:",
        ),
        (
            "{{ . }}",
            "printing the whole template root (`.` or `$`) is not supported (line 1, column 1)",
        ),
        ("{{ $ | quote }}", "printing the whole template root"),
        (
            "{{ .Chart }}",
            "printing `.Chart` as a whole is not supported",
        ),
        (
            "{{ .Chart.Maintainers }}",
            "`.Chart.Maintainers` is not available to templates in values",
        ),
        (
            "{{ .Capabilities.KubeVersion.Version }}",
            "`.Capabilities` is not available to templates in values",
        ),
        ("{{ .Files }}", "`.Files` is not available"),
        (
            "{{ printf \"%5s\" \"a\" }}",
            "unsupported printf directive (supported:",
        ),
        (
            "{{ printf \"%x\" 1 }}",
            "unsupported printf directive (supported:",
        ),
        ("{{ \"a\".b }}", "unexpected field `.b`"),
        (
            "{{ 0x1p-2 }}",
            "hexadecimal floating-point constants are not supported",
        ),
        ("{{ 1i }}", "complex numbers are not supported"),
        ("{{ \"\\xff\" }}", "escapes produce invalid UTF-8"),
        // Syntax errors.
        (
            "x\n{{ .Release.Name",
            "`st2.config`: template syntax error at line 2, column 1: unclosed action",
        ),
        (
            "{{ \"abc }}",
            "`st2.config`: template syntax error at line 1, column 4: unterminated quoted string",
        ),
        (
            "{{ \"a\\q\" }}",
            "syntax error at line 1, column 4: invalid escape",
        ),
        ("{{ \"\\'\" }}", "invalid escape"),
        ("{{/* c */ }}", "comment ends before closing delimiter"),
        ("{{/* c */-}}", "comment ends before closing delimiter"),
        ("{{/* unclosed", "unclosed comment"),
        ("a  {{-.Release.Name}}  b", "bad number syntax"),
        ("{{ 3-}}", "bad number syntax"),
        ("{{ 1__0 }}", "illegal number syntax"),
        ("{{ 1e }}", "illegal number syntax"),
        ("{{ 08 }}", "integer overflow"),
        ("{{ 99999999999999999999 }}", "integer overflow"),
        ("{{ }}", "missing value for command (line 1, column 4)"),
        ("{{ ( ) }}", "missing value for parenthesized pipeline"),
        ("{{ | upper }}", "unexpected `|` in command"),
        ("{{ ( \"a\" }}", "unclosed left paren"),
        ("{{ \"a\" ) }}", "unexpected right paren"),
        ("{{ .. }}", "unexpected `.` in operand"),
        ("a {{ \"b\" }", "unclosed action"),
        ("{{ /* c */ }}", "unexpected `/` in command"),
        ("{{ 1 | 2 }}", "non executable command in pipeline stage 2"),
        // Evaluation errors.
        (
            "{{ .Values.missing.x }}",
            "cannot read field `x` of `.Values.missing`: it is not set (nil) (line 1, column 1)",
        ),
        (
            "{{ .Values.image.tag.x }}",
            "cannot read field `x` of `.Values.image.tag`: it is a string, not a map",
        ),
        (
            "{{ .Values.num.x }}",
            "cannot read field `x` of `.Values.num`: it is a number, not a map",
        ),
        (
            "{{ .Values.lst.x }}|{{ .Values.bt.x }}",
            "it is a list, not a map",
        ),
        (
            "{{ .Release.Name.x }}",
            "cannot read field `x` of `.Release.Name`: it is a string",
        ),
        (
            "{{ (.Values.image).missing.x }}",
            "cannot read field `x` of `(…).missing`: it is not set",
        ),
        (
            "{{ default \"d\" .Values.missing.x }}",
            "cannot read field `x` of `.Values.missing`",
        ),
        (
            "{{ .Values.str \"a\" }}",
            "`.Values.str` is a field, not a function, but is given arguments",
        ),
        (
            "{{ \"a\" | .Values.str }}",
            "`.Values.str` is a field, not a function",
        ),
        (
            "{{ \"a\" \"b\" }}",
            "cannot give arguments to a non-function",
        ),
        ("{{ nil }}", "nil is not a command"),
        ("{{ nil | quote }}", "nil is not a command"),
        (
            "{{ lower nil }}",
            "argument 1 of `lower` must be a string, got <nil>",
        ),
        (
            "{{ upper 5 }}",
            "argument 1 of `upper` must be a string, got int",
        ),
        (
            "{{ trim .Values.num }}",
            "argument 1 of `trim` must be a string, got float64",
        ),
        ("{{ upper .Values.missing }}", "must be a string, got <nil>"),
        (
            "{{ printf 1 }}",
            "argument 1 of `printf` must be a string, got int",
        ),
        (
            "{{ default }}",
            "wrong number of arguments for `default`: want at least 1, got 0",
        ),
        (
            "{{ printf }}",
            "wrong number of arguments for `printf`: want at least 1, got 0",
        ),
        (
            "{{ trimSuffix \"x\" }}",
            "wrong number of arguments for `trimSuffix`: want 2, got 1",
        ),
        (
            "{{ lower \"a\" \"b\" }}",
            "wrong number of arguments for `lower`: want 1, got 2",
        ),
        (
            "{{ toString 1 2 }}",
            "wrong number of arguments for `toString`: want 1, got 2",
        ),
    ];

    /// A value that happens to hold `{{` fails without any of its text in the message.
    #[test]
    fn errors_never_quote_the_template() {
        for text in [
            "S3CRET-SENTINEL{{",
            "{{ S3CRET-SENTINEL }}",
            "{{ S3CRETSENTINEL }}",
            "{{ \"S3CRET-SENTINEL\" \"x\" }}",
            "{{ \"x\"\"S3CRET-SENTINEL\" }}",
            "{{ \"S3CRET-SENTINEL\\q\" }}",
            "{{ 'S3CRET-SENTINEL' }}",
            "{{ 3S3CRETSENTINEL }}",
            "{{ 0x1pS3CRETSENTINEL }}",
            "{{ $S3CRETSENTINEL }}",
            "{{ printf \"S3CRET-SENTINEL%z\" }}",
            "{{ \"S3CRET-SENTINEL\" | upper 1 }}",
            "{{ .Values.missing.x }}S3CRET-SENTINEL",
            "{{ \"S3CRET-SENTINEL\" .Values.num }}",
        ] {
            let err = fixture_render(text).expect_err(text).to_string();
            assert!(err.starts_with("`st2.config`: "), "{text}: {err}");
            assert!(!err.contains("S3CRET"), "{text}: {err}");
        }
        let err = TplError::not_a_string(
            "st2.keyvalue",
            &Value::List(vec![Value::String("S3CRET-SENTINEL".into())]),
        );
        assert_eq!(
            err.to_string(),
            "`st2.keyvalue`: expected a string to evaluate as a template, found a list"
        );
    }

    /// A few bytes of template cannot make unbounded text: each `tpl` call and all calls sharing
    /// a budget stop with an error at the action that goes over.
    #[test]
    fn output_is_bounded() {
        let mut bomb = format!("\"{}\"", "a".repeat(2000));
        for _ in 0..6 {
            bomb = format!("({bomb} | replace \"\" \"bbbbbbbb\")");
        }
        let err = fixture_render(&format!("x\n  {{{{ {bomb} }}}}")).expect_err("bomb");
        assert_eq!(
            err.to_string(),
            "`st2.config`: the template would make more than 16 MiB of text (line 2, column 3)"
        );
        let (map, _) =
            parse_document(&format!("big: {}\n", "x".repeat(1 << 20)), "f").expect("parses");
        let values = Value::Map(map);
        let release = Release {
            name: "st2".into(),
            namespace: "ns1".into(),
        };
        let budget = Budget::default();
        let scope = Scope::new(&values, &release, &budget);
        let refs = "{{ .Values.big }}".repeat(17);
        let err = render(&refs, &scope, "k").expect_err("per call");
        assert_eq!(
            err.to_string(),
            "`k`: the template would make more than 16 MiB of text (line 1, column 273)"
        );
        // The failed call spent 16 MiB of the render's 32: one more call of 10 fits, the next
        // stops at its seventh action, and every later call at its first.
        let ten = "{{ .Values.big }}".repeat(10);
        let mut errors = Vec::new();
        for _ in 0..4 {
            if let Err(e) = render(&ten, &scope, "k") {
                errors.push(e.to_string());
            }
        }
        let over = "`k`: the templates in values would make more than 32 MiB of text in all";
        assert_eq!(
            errors,
            [
                format!("{over} (line 1, column 103)"),
                format!("{over} (line 1, column 1)"),
                format!("{over} (line 1, column 1)"),
            ]
        );
    }

    #[test]
    fn fails_like_helm() {
        for (text, want) in ERROR_ROWS {
            let err = fixture_render(text).expect_err(text).to_string();
            assert!(err.contains(want), "{text}:\n  got  {err}\n  want {want}");
        }
    }

    /// Values strings with templates from the golden scenarios and what Helm rendered for them
    /// (visible in each scenario's `expected.yaml`), evaluated over the merged values.
    #[test]
    fn evaluates_golden_values_strings() {
        const CREDENTIALS: &str = "st2:\n  system_user:\n    user: automation\n";
        const ACME: &str = "acme:\n  ssl_certs_dir: /etc/ssl/acme\n";
        const IMAGES: &str = "image:\n  tag: \"3.8.1\"\n";
        for (scenario, release, values, text, want) in [
            (
                "chatops-jobs",
                "st2",
                "",
                "{{ .Release.Name }}bot",
                "st2bot",
            ),
            (
                "chatops-jobs",
                "st2",
                "",
                "{{ .Release.Name }}-ca-bundle",
                "st2-ca-bundle",
            ),
            (
                "chatops-jobs",
                "st2",
                "",
                "custom_pack.warn_about_upgrade release={{ .Release.Name }}",
                "custom_pack.warn_about_upgrade release=st2",
            ),
            (
                "credentials-datastore",
                "st2",
                CREDENTIALS,
                "/home/{{ .Values.st2.system_user.user }}/.ssh/automation_rsa",
                "/home/automation/.ssh/automation_rsa",
            ),
            (
                "credentials-datastore",
                "st2",
                "",
                "{{ .Release.Name }}",
                "st2",
            ),
            (
                "env-volumes-lifecycle",
                "st2",
                "",
                "{{ .Release.Name }}-st2web-tls",
                "st2-st2web-tls",
            ),
            (
                "env-volumes-lifecycle",
                "st2",
                "",
                "{{ .Release.Name }}-st2-logging-conf",
                "st2-st2-logging-conf",
            ),
            (
                "env-volumes-lifecycle",
                "st2",
                ACME,
                "{{ .Values.acme.ssl_certs_dir }}",
                "/etc/ssl/acme",
            ),
            (
                "env-volumes-lifecycle",
                "st2",
                "",
                "{{ .Release.Name }}-st2-acme-pack-certs",
                "st2-st2-acme-pack-certs",
            ),
            (
                "env-volumes-lifecycle",
                "st2",
                "",
                "{{ .Release.Name }}-st2-ansible-config",
                "st2-st2-ansible-config",
            ),
            (
                "env-volumes-lifecycle",
                "st2",
                "",
                "{{ .Release.Name }}-client-scripts",
                "st2-client-scripts",
            ),
            (
                "existing-secrets-config",
                "st2",
                "",
                "[api]\nallow_origin = 'https://{{ .Release.Name }}.example.com'\n[auth]\nurl = http://{{ .Release.Name }}-st2api:9101/\n",
                "[api]\nallow_origin = 'https://st2.example.com'\n[auth]\nurl = http://st2-st2api:9101/\n",
            ),
            (
                "images-registry",
                "stackstorm",
                IMAGES,
                "{{ .Values.image.tag }}-auth",
                "3.8.1-auth",
            ),
            (
                "images-registry",
                "stackstorm",
                IMAGES,
                "{{ .Chart.AppVersion }}.0",
                "3.8.0",
            ),
            (
                "images-registry",
                "stackstorm",
                IMAGES,
                "{{ .Values.image.tag }}-ansible",
                "3.8.1-ansible",
            ),
            (
                "sensors-hash-partitions",
                "st2",
                "",
                "{{ .Release.Name }}-sensor-extra",
                "st2-sensor-extra",
            ),
            (
                "sensors-one-per-pod",
                "st2",
                "",
                "{{ .Release.Name }}-sensor-certs",
                "st2-sensor-certs",
            ),
            // The chart's own default for the bundled RabbitMQ definitions secret.
            (
                "default",
                "st2",
                "",
                "{{ .Release.Name }}-rabbitmq-definitions",
                "st2-rabbitmq-definitions",
            ),
        ] {
            let loaded = load(&[Layer::File {
                name: "values.yaml".into(),
                text: values.into(),
            }])
            .expect("values load");
            let release = Release {
                name: release.into(),
                namespace: "default".into(),
            };
            let got = render(
                text,
                &Scope::new(&loaded.values, &release, &Budget::default()),
                "key",
            );
            assert_eq!(
                got.map_err(|e| e.to_string()).as_deref(),
                Ok(want),
                "{scenario}: {text}"
            );
        }
    }
}
