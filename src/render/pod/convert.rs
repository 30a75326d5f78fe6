//! User pass-through blocks (`toYaml` in the chart) turned into typed `k8s-openapi` fields.
//!
//! Every conversion names the values key it read, so a block that does not fit the Kubernetes
//! type is reported where the user wrote it. Also holds the chart's `a ‖ b ‖ …` fallback chains
//! (SPEC-chart.md §2.6) and `tplyaml` for `extra_volumes` (SPEC §0).

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::ResourceRequirements;
use serde::de::DeserializeOwned;

use crate::render::Ctx;
use crate::values::{Map, Value};

/// A values block and the key it was read from (for error messages).
pub type Setting<'v> = (&'v Value, String);

/// `value` as the Kubernetes type `T`; the error names `key`.
pub fn typed<T: DeserializeOwned>(value: &Value, key: &str) -> Result<T> {
    let type_name = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("object");
    serde_json::from_value(value.to_json())
        .with_context(|| format!("`{key}` does not fit a Kubernetes {type_name}"))
}

/// [`typed`] when the block is set (Go truthiness, as the chart's `with`), else `None`.
pub fn typed_if_set<T: DeserializeOwned>(value: &Value, key: &str) -> Result<Option<T>> {
    value.non_empty().map(|v| typed(v, key)).transpose()
}

/// Helm's `required`: fails with `message` on a missing value or an empty string.
pub fn required(value: &Value, message: impl FnOnce() -> String) -> Result<&Value> {
    match value {
        Value::Null => anyhow::bail!(message()),
        Value::String(s) if s.is_empty() => anyhow::bail!(message()),
        v => Ok(v),
    }
}

/// The settings at `paths` in the merged values, for a fallback chain.
pub fn chain<'v>(ctx: &Ctx<'v>, paths: &[&str]) -> Vec<Setting<'v>> {
    paths.iter().map(|p| (ctx.v(p), (*p).to_string())).collect()
}

/// `a ‖ b ‖ …`: the first set block of the chain, typed; `None` when none is set.
pub fn first_set<T: DeserializeOwned>(chain: &[Setting]) -> Result<Option<T>> {
    match chain.iter().find(|(v, _)| v.truthy()) {
        Some((v, key)) => typed(v, key).map(Some),
        None => Ok(None),
    }
}

/// A container's `resources: toYaml(x)`: `None` when the user set it to null (the chart then
/// prints `resources: null`). Numeric quantities (`cpu: 1`) become strings, which Kubernetes reads
/// the same way; the typed Quantity only holds strings.
pub fn resources(value: &Value, key: &str) -> Result<Option<ResourceRequirements>> {
    if value.is_null() {
        return Ok(None);
    }
    let mut normalized = value.clone();
    if let Value::Map(m) = &mut normalized {
        for section in ["limits", "requests"] {
            if let Some(Value::Map(quantities)) = m.get_mut(section) {
                for q in quantities.values_mut() {
                    if matches!(q, Value::Int(_) | Value::Float(_)) {
                        *q = Value::String(q.to_go_string());
                    }
                }
            }
        }
    }
    typed(&normalized, key).map(Some)
}

/// `tpl (toYaml x)` parsed back, as the chart does for `extra_volumes[].mount/.volume`:
/// every string (keys and values) is evaluated as a template. Scalars keep their type;
/// a template that prints a number stays a string (a quoted scalar in Helm's text does too).
pub fn tpl_tree(ctx: &Ctx, value: &Value, key: &str) -> Result<Value> {
    Ok(match value {
        Value::String(s) if s.contains("{{") => Value::String(ctx.tpl(s, key)?),
        Value::List(items) => Value::List(
            items
                .iter()
                .map(|v| tpl_tree(ctx, v, key))
                .collect::<Result<_>>()?,
        ),
        Value::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let k = if k.contains("{{") {
                    ctx.tpl(k, key)?
                } else {
                    k.clone()
                };
                out.insert(k, tpl_tree(ctx, v, key)?);
            }
            Value::Map(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::SecurityContext;

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn first_set_skips_empty_blocks_like_go_default() -> Result<()> {
        let empty = map(&[]);
        let runner = map(&[("runAsUser", Value::Int(0))]);
        let global = map(&[("runAsUser", Value::Int(1000))]);
        // `{runAsUser: 0}` is a non-empty map, so it wins even though its only value is falsy.
        let chain = vec![
            (&empty, "a".to_string()),
            (&runner, "b".to_string()),
            (&global, "c".to_string()),
        ];
        let sc: Option<SecurityContext> = first_set(&chain)?;
        assert_eq!(sc.and_then(|s| s.run_as_user), Some(0));
        let none = vec![(&empty, "a".to_string()), (&Value::Null, "b".to_string())];
        assert!(first_set::<SecurityContext>(&none)?.is_none());
        Ok(())
    }

    #[test]
    fn typed_error_names_the_values_key() {
        let bad = map(&[("runAsUser", Value::String("root".into()))]);
        let err = typed::<SecurityContext>(&bad, "st2web.securityContext")
            .err()
            .map(|e| format!("{e:#}"));
        assert!(err.is_some_and(|e| e.contains("`st2web.securityContext`")));
    }

    #[test]
    fn resources_keep_null_and_stringify_numbers() -> Result<()> {
        assert!(resources(&Value::Null, "x.resources")?.is_none());
        let r = map(&[(
            "limits",
            map(&[
                ("cpu", Value::Int(1)),
                ("memory", Value::String("1Gi".into())),
            ]),
        )]);
        let limits = resources(&r, "x.resources")?
            .and_then(|r| r.limits)
            .unwrap_or_default();
        assert_eq!(limits.get("cpu").map(|q| q.0.as_str()), Some("1"));
        assert_eq!(limits.get("memory").map(|q| q.0.as_str()), Some("1Gi"));
        Ok(())
    }
}
