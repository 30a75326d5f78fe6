//! `--set`, `--set-string`, `--set-file` and `--set-json` (Helm's `strvals` grammar).
//! PLACEHOLDER: replaced by the full parser (values-engine work item).

use super::{Map, Value};
use crate::error::ValuesError;

/// Which flag an argument came from; it decides how values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// `--set`: infer bool/int/null.
    Set,
    /// `--set-string`: always strings.
    String,
    /// `--set-file`: the value is a path; the file's contents become the string value.
    File,
    /// `--set-json`: the value is JSON.
    Json,
}

/// Apply one flag argument (`a.b=c,d=e`) to `dst`.
pub fn apply_set(dst: &mut Map, kind: SetKind, arg: &str) -> Result<(), ValuesError> {
    for pair in arg.split(',') {
        let (key, val) = pair.split_once('=').ok_or_else(|| ValuesError::Set {
            flag: "--set",
            arg: arg.to_string(),
            message: "expected key=value".into(),
        })?;
        let value = match kind {
            SetKind::String => Value::String(val.into()),
            _ => match val {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => val
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(val.into()), Value::Int),
            },
        };
        let mut node = &mut *dst;
        let parts: Vec<&str> = key.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            let entry = node
                .entry(part.to_string())
                .or_insert_with(|| Value::Map(Map::new()));
            if !matches!(entry, Value::Map(_)) {
                *entry = Value::Map(Map::new());
            }
            node = match entry {
                Value::Map(m) => m,
                _ => unreachable!(),
            };
        }
        node.insert(parts[parts.len() - 1].to_string(), value);
    }
    Ok(())
}
