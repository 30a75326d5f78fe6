//! `tpl`: evaluating values strings as Go templates, for the subset users write in values.
//! PLACEHOLDER: only `{{ .A.B }}` lookups; the full evaluator replaces this (tpl work item).

use crate::render::Release;
use crate::values::Value;

/// What a template can see: `.Values`, `.Release`, `.Chart`.
pub struct Scope<'a> {
    values: &'a Value,
    release: &'a Release,
}

impl<'a> Scope<'a> {
    pub fn new(values: &'a Value, release: &'a Release) -> Self {
        Self { values, release }
    }
}

/// A template in a values key that st2k8s cannot evaluate.
#[derive(Debug, thiserror::Error)]
pub enum TplError {
    #[error("`{key}`: expected a string to evaluate as a template, found `{found}`")]
    NotAString { key: String, found: String },
    #[error("`{key}`: cannot evaluate `{expr}`: {message}")]
    Unsupported {
        key: String,
        expr: String,
        message: String,
    },
}

/// Evaluate `text` as a template; `key` names the values key in errors.
pub fn render(text: &str, scope: &Scope, key: &str) -> Result<String, TplError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| TplError::Unsupported {
                key: key.into(),
                expr: rest[start..].into(),
                message: "unclosed action".into(),
            })?
            + start;
        let expr = rest[start + 2..end].trim();
        let value = match expr {
            ".Release.Name" => scope.release.name.clone(),
            ".Release.Namespace" => scope.release.namespace.clone(),
            ".Chart.Name" => "stackstorm-ha".into(),
            ".Chart.Version" => "1.1.0".into(),
            ".Chart.AppVersion" => "3.8".into(),
            e if e.starts_with(".Values.") => scope.values.at(&e[8..]).to_go_string(),
            e => {
                return Err(TplError::Unsupported {
                    key: key.into(),
                    expr: e.into(),
                    message: "unsupported".into(),
                });
            }
        };
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
