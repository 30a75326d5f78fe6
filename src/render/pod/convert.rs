//! User pass-through blocks (`toYaml` in the chart) turned into typed `k8s-openapi` fields.
//!
//! Every conversion goes through [`typed_json`], which names the values key it read, so a block
//! that does not fit the Kubernetes type is reported where the user wrote it, and reports the
//! fields Kubernetes would drop (k8s-openapi ignores unknown fields) and malformed resource
//! quantities as findings ([`collecting`]). Also holds the chart's fallback chains (the first
//! set block of several, as Go's `default` picks; used for security contexts) and the template
//! evaluation of whole blocks for `extra_volumes`.

use std::cell::RefCell;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::ResourceRequirements;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::render::ctx::Ctx;
use crate::values::check::{Finding, Severity, closest};
use crate::values::{Map, Value};

thread_local! {
    /// Findings reported by conversions during [`collecting`]; `None` outside of it.
    static FINDINGS: RefCell<Option<Vec<Finding>>> = const { RefCell::new(None) };
}

/// Run `f` (a render), returning what it returned and the findings conversions reported
/// meanwhile, in the order reported, without repeats (a block shared by several pods is
/// converted once per pod).
pub fn collecting<T>(f: impl FnOnce() -> T) -> (T, Vec<Finding>) {
    let outer = FINDINGS.with(|c| c.replace(Some(Vec::new())));
    let result = f();
    let found = FINDINGS.with(|c| c.replace(outer)).unwrap_or_default();
    let mut unique: Vec<Finding> = Vec::with_capacity(found.len());
    for finding in found {
        if !unique.contains(&finding) {
            unique.push(finding);
        }
    }
    (result, unique)
}

/// Record a finding for the enclosing [`collecting`] (dropped outside of one).
pub fn report(finding: Finding) {
    FINDINGS.with(|c| {
        if let Some(found) = c.borrow_mut().as_mut() {
            found.push(finding);
        }
    });
}

/// `json` (the user block at values key `key`) as the Kubernetes type `T`. A block that does not
/// fit is an error naming `key`; fields `T` does not have are reported as warnings, with the
/// closest field name of `T` when the typo is at the top of the block.
pub fn typed_json<T: DeserializeOwned>(json: Json, key: &str) -> Result<T> {
    let type_name = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("object")
        .trim_end_matches('>');
    let mut ignored = Vec::new();
    let value = serde_ignored::deserialize(json, |path| ignored.push(IgnoredField::of(&path)))
        .with_context(|| format!("`{key}` does not fit a Kubernetes {type_name}"))?;
    for field in ignored {
        let fields = if field.top_level {
            struct_fields::<T>()
        } else {
            &[]
        };
        let suggestion = closest(&field.name, fields)
            .map(|s| format!("; did you mean `{key}.{s}`?"))
            .unwrap_or_default();
        report(Finding {
            severity: Severity::Warning,
            path: format!("{key}{}", field.path),
            location: None,
            within: None,
            message: format!(
                "unknown field of a Kubernetes {type_name}; Kubernetes would drop it{suggestion}"
            ),
        });
    }
    Ok(value)
}

/// A field the deserializer skipped: its path below the block (`.a[0].b`), its own name, and
/// whether it sits directly in the block.
struct IgnoredField {
    path: String,
    name: String,
    top_level: bool,
}

impl IgnoredField {
    fn of(path: &serde_ignored::Path) -> Self {
        use serde_ignored::Path;
        let (name, top_level) = match path {
            Path::Map { parent, key } => (key.clone(), matches!(parent, Path::Root)),
            _ => (String::new(), false),
        };
        Self {
            path: suffix(path),
            name,
            top_level,
        }
    }
}

/// A serde_ignored path in values notation: `.key` for map keys, `[N]` for list items.
fn suffix(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", suffix(parent)),
        Path::Map { parent, key } => format!("{}.{key}", suffix(parent)),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => suffix(parent),
    }
}

/// The field names of a struct type `T`, as its `Deserialize` impl announces them; empty for
/// other types (lists, maps).
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields = None;
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields.unwrap_or_default()
}

/// A deserializer that only records the field list a struct asks for, then gives up.
struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for FieldProbe<'_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("field probe"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("field probe"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A values block and the key it was read from (for error messages).
pub type Setting<'v> = (&'v Value, String);

/// `value` as the Kubernetes type `T` ([`typed_json`]); the error names `key`.
pub fn typed<T: DeserializeOwned>(value: &Value, key: &str) -> Result<T> {
    typed_json(value.to_json(), key)
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

/// The first set block of the chain (Go's `default`: empty blocks fall through), typed; `None`
/// when none is set.
pub fn first_set<T: DeserializeOwned>(chain: &[Setting]) -> Result<Option<T>> {
    match chain.iter().find(|(v, _)| v.truthy()) {
        Some((v, key)) => typed(v, key).map(Some),
        None => Ok(None),
    }
}

/// A container's `resources: toYaml(x)`: `None` when the user set it to null (the chart then
/// prints `resources: null`). See [`resources_json`].
pub fn resources(value: &Value, key: &str) -> Result<Option<ResourceRequirements>> {
    if value.is_null() {
        return Ok(None);
    }
    resources_json(value.to_json(), key).map(Some)
}

/// A `resources` block (JSON of the values at `key`) as [`ResourceRequirements`]. Numeric
/// quantities (`cpu: 1`) become strings, which Kubernetes reads the same way (the typed Quantity
/// only holds strings); a string that is not a Kubernetes quantity is reported as an error.
pub fn resources_json(mut json: Json, key: &str) -> Result<ResourceRequirements> {
    for section in ["limits", "requests"] {
        let Some(Json::Object(quantities)) = json.get_mut(section) else {
            continue;
        };
        for (name, q) in quantities.iter_mut() {
            match q {
                Json::Number(n) => {
                    *q = Json::String(match n.as_f64() {
                        Some(f) if !n.is_i64() && !n.is_u64() => crate::values::go_float(f),
                        _ => n.to_string(),
                    })
                }
                Json::String(s) if !is_quantity(s) => report(Finding {
                    severity: Severity::Error,
                    path: format!("{key}.{section}.{name}"),
                    location: None,
                    within: None,
                    message: format!(
                        "`{s}` is not a Kubernetes quantity (e.g. `500m`, `2`, `1Gi`, `512Mi`, `1e3`)"
                    ),
                }),
                _ => {}
            }
        }
    }
    typed_json(json, key)
}

/// The Kubernetes quantity grammar: a signed decimal number (`1`, `1.5`, `.5`, `5.`) followed by
/// a binary suffix (`Ki`…`Ei`), a decimal suffix (`m`, `k`, `M`…`E`, or none) or an exponent
/// (`e3`, `E-2`).
pub fn is_quantity(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let digits = unsigned
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(digits);
    let number_ok = number.matches('.').count() <= 1 && number.chars().any(|c| c.is_ascii_digit());
    let suffix_ok = match suffix {
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        exp => exp.strip_prefix(['e', 'E']).is_some_and(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        }),
    };
    number_ok && suffix_ok
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
