//! Evaluation of parsed actions against the template root (`.Values`, `.Release`, `.Chart`).
//! [`TVal`] models the Go values a template handles, keeping Go's types where output depends on
//! them (`printf "%d"` of a values number prints `%!d(float64=5)`, as in Helm). `.Capabilities`,
//! `.Files`, `.Template` and printing the whole root or `.Chart` are rejected: st2k8s cannot reproduce them.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::LazyLock;

use super::Scope;
use super::funcs;
use super::parser::{Base, Command, Operand, Pipeline};
use crate::release::Release;
use crate::values::{Map, Value};

/// A Go value during evaluation.
#[derive(Debug, Clone)]
pub(super) enum TVal<'a> {
    /// Go's nil (also what a missing map key reads as).
    Nil,
    Bool(bool),
    /// A Go `int` (template integer literals, `.Release.Revision`).
    Int(i64),
    /// A Go `float64` (template float literals, fractional values numbers).
    Float(f64),
    /// An integral values number. Helm holds every values number as a `float64`; st2k8s prints
    /// it with all its digits, as [`Value::to_go_string`] does everywhere else.
    ValuesInt(i64),
    Str(Cow<'a, str>),
    List(&'a [Value]),
    Map(&'a Map),
    /// `.Release`: a map in Helm 4.
    Release(&'a Release),
    /// `.Chart`: a map in Helm 4, holding fields st2k8s cannot all reproduce.
    Chart,
    /// `.` / `$` at the top level.
    Root,
}

impl<'a> TVal<'a> {
    /// The template view of a values node.
    pub(super) fn from_value(v: &'a Value) -> TVal<'a> {
        match v {
            Value::Null => TVal::Nil,
            Value::Bool(b) => TVal::Bool(*b),
            Value::Int(i) => TVal::ValuesInt(*i),
            Value::Float(f) => TVal::Float(*f),
            Value::String(s) => TVal::Str(Cow::Borrowed(s)),
            Value::List(l) => TVal::List(l),
            Value::Map(m) => TVal::Map(m),
        }
    }

    /// Sprig's `empty`, negated (Go template truthiness).
    pub(super) fn truthy(&self) -> bool {
        match self {
            TVal::Nil => false,
            TVal::Bool(b) => *b,
            TVal::Int(i) | TVal::ValuesInt(i) => *i != 0,
            TVal::Float(f) => *f != 0.0,
            TVal::Str(s) => !s.is_empty(),
            TVal::List(l) => !l.is_empty(),
            TVal::Map(m) => !m.is_empty(),
            TVal::Release(_) | TVal::Chart | TVal::Root => true,
        }
    }

    /// What the value is, in words, for error messages (never the value itself).
    pub(super) fn kind(&self) -> &'static str {
        match self {
            TVal::Nil => "nil",
            TVal::Bool(_) => "boolean",
            TVal::Int(_) | TVal::Float(_) | TVal::ValuesInt(_) => "number",
            TVal::Str(_) => "string",
            TVal::List(_) => "list",
            TVal::Map(_) | TVal::Release(_) | TVal::Chart | TVal::Root => "map",
        }
    }
}

/// `.Release` fields in key order (Helm 4: a map; `Revision` is a Go `int`).
pub(super) fn release_fields(r: &Release) -> [(&'static str, TVal<'_>); 6] {
    [
        ("IsInstall", TVal::Bool(true)),
        ("IsUpgrade", TVal::Bool(false)),
        ("Name", TVal::Str(Cow::Borrowed(&r.name))),
        ("Namespace", TVal::Str(Cow::Borrowed(&r.namespace))),
        ("Revision", TVal::Int(1)),
        ("Service", TVal::Str(Cow::Borrowed("Helm"))),
    ]
}

/// `.Chart` as Helm 4 exposes it for stackstorm-ha 1.1.0 (from its Chart.yaml), minus
/// `Maintainers` and `Dependencies`, which Helm holds as pointers.
static CHART: LazyLock<Value> = LazyLock::new(|| {
    let s = |v: &str| Value::String(v.to_string());
    let keywords = [
        "st2",
        "stackstorm",
        "devops",
        "SRE",
        "automation",
        "chatops",
        "event-driven",
        "auto-remediation",
        "IFTTT",
        "HA",
    ];
    Value::Map(Map::from([
        ("APIVersion".into(), s("v2")),
        ("Annotations".into(), Value::Map(Map::new())),
        ("AppVersion".into(), s("3.8")),
        ("Condition".into(), s("")),
        ("Deprecated".into(), Value::Bool(false)),
        (
            "Description".into(),
            s("StackStorm K8s Helm Chart, optimized for running StackStorm in HA environment."),
        ),
        ("Home".into(), s("https://stackstorm.com/")),
        (
            "Icon".into(),
            s("https://landscape.cncf.io/logos/stack-storm.svg"),
        ),
        ("IsRoot".into(), Value::Bool(true)),
        (
            "Keywords".into(),
            Value::List(keywords.into_iter().map(s).collect()),
        ),
        ("KubeVersion".into(), s("")),
        ("Name".into(), s("stackstorm-ha")),
        ("Sources".into(), Value::List(Vec::new())),
        ("Tags".into(), s("")),
        ("Type".into(), s("")),
        ("Version".into(), s("1.1.0")),
    ]))
});

/// Evaluates pipelines for one template.
pub(super) struct Eval<'a> {
    scope: &'a Scope<'a>,
    /// What is left of [`super::MAX_CALL_OUTPUT`] for this template.
    left: Cell<usize>,
}

impl<'a> Eval<'a> {
    pub(super) fn new(scope: &'a Scope<'a>) -> Self {
        Self {
            scope,
            left: Cell::new(super::MAX_CALL_OUTPUT),
        }
    }

    /// The most bytes the next piece of text may have.
    fn room(&self) -> Room {
        let render_left = self.scope.budget.left.get();
        Room {
            bytes: self.left.get().min(render_left),
            per_render: render_left < self.left.get(),
        }
    }

    /// Count `bytes` of text made against this template's and the render's budgets.
    pub(super) fn charge(&self, bytes: usize) -> Result<(), String> {
        let room = self.room();
        if bytes > room.bytes {
            return Err(room.refuse());
        }
        self.left.set(self.left.get() - bytes);
        let render_left = self.scope.budget.left.get();
        self.scope.budget.left.set(render_left - bytes);
        Ok(())
    }

    /// A function call, its result counted against the budgets.
    fn call(&self, f: super::parser::Func, args: Vec<TVal<'a>>) -> Result<TVal<'a>, String> {
        let value = funcs::call(f, args, self.room())?;
        if let TVal::Str(Cow::Owned(s)) = &value {
            self.charge(s.len())?;
        }
        Ok(value)
    }

    /// Evaluate an action and print its value as Go does (`<no value>` for nil; Helm then strips it).
    pub(super) fn print(&self, out: &mut String, pipe: &'a Pipeline<'a>) -> Result<(), String> {
        match self.pipeline(pipe)? {
            TVal::Nil => out.push_str("<no value>"),
            value => super::format::write_verb(out, 'v', &value, 0)?,
        }
        Ok(())
    }

    fn pipeline(&self, pipe: &'a Pipeline<'a>) -> Result<TVal<'a>, String> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(cmd, value)?);
        }
        Ok(value.unwrap_or(TVal::Nil))
    }

    /// A command; `piped` (the previous command's result) becomes the last argument.
    fn command(&self, cmd: &'a Command<'a>, piped: Option<TVal<'a>>) -> Result<TVal<'a>, String> {
        let Some((first, rest)) = cmd.args.split_first() else {
            return Err("empty command".into());
        };
        if let Operand::Func(f) = first {
            let mut args = rest
                .iter()
                .map(|a| self.operand(a))
                .collect::<Result<Vec<_>, _>>()?;
            args.extend(piped);
            return self.call(*f, args);
        }
        let has_args = !rest.is_empty() || piped.is_some();
        match first {
            Operand::Nil => Err("nil is not a command".into()),
            Operand::Path { base, fields } if has_args && !fields.is_empty() => Err(format!(
                "`{}` is a field, not a function, but is given arguments",
                path_text(base, fields)
            )),
            _ if has_args => Err("cannot give arguments to a non-function".into()),
            operand => self.operand(operand),
        }
    }

    fn operand(&self, operand: &'a Operand<'a>) -> Result<TVal<'a>, String> {
        Ok(match operand {
            // A function used as an argument is called without arguments, as in Go.
            Operand::Func(f) => self.call(*f, Vec::new())?,
            Operand::Path { base, fields } => {
                let mut value = match base {
                    Base::Root => TVal::Root,
                    Base::Pipe(pipe) => match self.pipeline(pipe)? {
                        // Go unwraps a pipeline's nil into an invalid value, whose fields read
                        // as nothing; a nil read from a map is an error to dereference instead.
                        TVal::Nil => return Ok(TVal::Nil),
                        value => value,
                    },
                };
                // The values node the chain ends on (`.Values.a.b`), logged as read.
                let mut node: Option<&'a Value> = None;
                for (i, name) in fields.iter().enumerate() {
                    node = match (&value, node) {
                        (TVal::Root, _) if *name == "Values" => Some(self.scope.values),
                        (TVal::Map(m), Some(_)) => m.get(*name),
                        _ => None,
                    };
                    value = self.field(value, name, || path_text(base, &fields[..i]))?;
                }
                if let (Some(reads), Some(node)) = (self.scope.reads, node) {
                    reads.record(node);
                }
                value
            }
            Operand::Str(s) => TVal::Str(Cow::Borrowed(s)),
            Operand::Int(i) => TVal::Int(*i),
            Operand::Float(f) => TVal::Float(*f),
            Operand::Bool(b) => TVal::Bool(*b),
            Operand::Nil => TVal::Nil,
        })
    }

    /// `value.name`; `path` describes `value` for error messages.
    fn field(
        &self,
        value: TVal<'a>,
        name: &str,
        path: impl Fn() -> String,
    ) -> Result<TVal<'a>, String> {
        Ok(match value {
            TVal::Root => match name {
                "Values" => TVal::from_value(self.scope.values),
                "Release" => TVal::Release(self.scope.release),
                "Chart" => TVal::Chart,
                "Capabilities" | "Files" | "Template" | "Subcharts" => {
                    return Err(format!("`.{name}` is not available to templates in values"));
                }
                _ => TVal::Nil,
            },
            TVal::Release(r) => release_fields(r)
                .into_iter()
                .find(|(k, _)| *k == name)
                .map_or(TVal::Nil, |(_, v)| v),
            TVal::Chart if matches!(name, "Maintainers" | "Dependencies") => {
                return Err(format!(
                    "`.Chart.{name}` is not available to templates in values"
                ));
            }
            TVal::Chart => TVal::from_value(CHART.key(name)),
            TVal::Map(m) => m.get(name).map_or(TVal::Nil, TVal::from_value),
            TVal::Nil => {
                return Err(format!(
                    "cannot read field `{name}` of `{}`: it is not set (nil)",
                    path()
                ));
            }
            other => {
                return Err(format!(
                    "cannot read field `{name}` of `{}`: it is a {}, not a map",
                    path(),
                    other.kind()
                ));
            }
        })
    }
}

/// How a field chain's receiver reads in messages: `.Values.image`, `.`, `(…).tag`.
fn path_text(base: &Base, fields: &[&str]) -> String {
    let mut text = match base {
        Base::Root => String::new(),
        Base::Pipe(_) => "(…)".to_string(),
    };
    for f in fields {
        text.push('.');
        text.push_str(f);
    }
    if text.is_empty() {
        text.push('.');
    }
    text
}

/// The most bytes of text a template may still make, and which budget sets that.
#[derive(Debug, Clone, Copy)]
pub(super) struct Room {
    pub bytes: usize,
    /// The render's budget is the tighter one.
    pub per_render: bool,
}

impl Room {
    /// The error for text that does not fit.
    pub(super) fn refuse(self) -> String {
        let mib = |b: usize| b / (1024 * 1024);
        if self.per_render {
            format!(
                "the templates in values would make more than {} MiB of text in all",
                mib(super::MAX_RENDER_OUTPUT)
            )
        } else {
            format!(
                "the template would make more than {} MiB of text",
                mib(super::MAX_CALL_OUTPUT)
            )
        }
    }
}
