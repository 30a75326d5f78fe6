//! User pass-through blocks (`toYaml` in the chart) turned into typed `k8s-openapi` fields.
//!
//! Every conversion goes through [`typed_json`] (or [`from_json`] for the bundled backends' blocks),
//! which names the values key it read, so a block that does not fit the Kubernetes type is reported
//! where the user wrote it — with the field inside the block and the kind of value found, never the
//! value, which may be a secret — and [`typed_json`] reports the
//! fields Kubernetes would drop (k8s-openapi ignores unknown fields) and malformed resource
//! quantities as findings ([`Ctx::report`]). Also holds the chart's fallback chains (the first
//! set block of several, as Go's `default` picks; used for security contexts) and the template
//! evaluation of whole blocks for `extra_volumes`.

use anyhow::Result;
use k8s_openapi::api::core::v1::ResourceRequirements;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::render::ctx::Ctx;
use crate::values::check::{Finding, Severity, closest};
use crate::values::{Map, Value, View};

/// `json` (the user block at values key `key`) as the Kubernetes type `T`. A block that does not
/// fit is an error naming `key`; fields `T` does not have are reported as warnings, with the
/// closest field name of `T` when the typo is at the top of the block.
pub fn typed_json<T: DeserializeOwned>(ctx: &Ctx, json: Json, key: &str) -> Result<T> {
    let type_name = short_type_name::<T>();
    let mut ignored = Vec::new();
    let value = serde_ignored::deserialize(&json, |path| ignored.push(IgnoredField::of(&path)))
        .map_err(|e| misfit::<T>(&json, &e, key))?;
    for field in ignored {
        let fields = if field.top_level {
            struct_fields::<T>()
        } else {
            &[]
        };
        let suggestion = closest(&field.name, fields)
            .map(|s| format!("; did you mean `{key}.{s}`?"))
            .unwrap_or_default();
        ctx.report(Finding {
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

/// `json` (the block at values key `key`) as `T`, without the unknown-field warnings of
/// [`typed_json`]; a block that does not fit is reported as [`misfit`] does.
pub fn from_json<T: DeserializeOwned>(json: &Json, key: &str) -> Result<T> {
    T::deserialize(json).map_err(|e| misfit::<T>(json, &e, key))
}

/// The short name of a Kubernetes type for messages: `SecurityContext`, also for `Vec<…>`.
fn short_type_name<T>() -> &'static str {
    std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("object")
        .trim_end_matches('>')
}

/// The error for a block that does not fit `T`. serde's own message quotes the value it
/// choked on (``invalid type: string "hunter2"``), and any value may be a secret, so the message
/// is rebuilt from the parts that come from the type: the field inside the block, what the type
/// expects, and the kind (never the content) of what was found.
fn misfit<T: DeserializeOwned>(json: &Json, err: &serde_json::Error, key: &str) -> anyhow::Error {
    let type_name = short_type_name::<T>();
    let raw = err.to_string();
    let fails = |doc: &Json| {
        T::deserialize(doc)
            .err()
            .is_some_and(|e| e.to_string() == raw)
    };
    let suffix = culprit(json, &|x| x, &fails, 0);
    let at = if suffix.is_empty() {
        String::new()
    } else {
        format!("at `{key}{suffix}`, ")
    };
    anyhow::anyhow!(
        "`{key}` does not fit a Kubernetes {type_name}: {at}{}",
        describe_serde(&raw)
    )
}

/// How many fields or items of one level [`culprit`] tries, and how deep it goes: the search
/// only runs on a block that failed, and stays bounded for any input.
const CULPRIT_WIDTH: usize = 256;
const CULPRIT_DEPTH: usize = 16;

/// The path (`.a[0].b`) below `node` of the field that makes the document fail; `place` puts a
/// replacement for `node` back into the whole document, `fails` says whether a document still
/// fails as the original did. A field is the culprit when the document without it no longer
/// fails that way; a list item when a list of it alone still does.
fn culprit(
    node: &Json,
    place: &dyn Fn(Json) -> Json,
    fails: &dyn Fn(&Json) -> bool,
    depth: usize,
) -> String {
    if depth >= CULPRIT_DEPTH {
        return String::new();
    }
    match node {
        Json::Object(fields) if fields.len() <= CULPRIT_WIDTH => {
            for (name, child) in fields {
                let mut without = fields.clone();
                without.shift_remove(name);
                if fails(&place(Json::Object(without))) {
                    continue;
                }
                let within = |x: Json| {
                    let mut with = fields.clone();
                    with.insert(name.clone(), x);
                    place(Json::Object(with))
                };
                return format!(".{name}{}", culprit(child, &within, fails, depth + 1));
            }
            String::new()
        }
        Json::Array(items) if items.len() <= CULPRIT_WIDTH => {
            for (i, item) in items.iter().enumerate() {
                let alone = |x: Json| place(Json::Array(vec![x]));
                if fails(&alone(item.clone())) {
                    return format!("[{i}]{}", culprit(item, &alone, fails, depth + 1));
                }
            }
            String::new()
        }
        _ => String::new(),
    }
}

/// serde's message without the value it quotes: the type's expectation and the kind of value
/// found (`expected i64, found a string`); a message of another form is left out entirely.
fn describe_serde(raw: &str) -> String {
    let kind = |unexpected: &str| {
        let word = unexpected
            .split(['`', '"'])
            .next()
            .unwrap_or_default()
            .trim();
        match word {
            "integer" | "floating point" => "a number",
            "string" | "character" => "a string",
            "boolean" => "a boolean",
            "sequence" => "a list",
            "map" => "a map",
            "unit value" | "Option value" => "null",
            _ => "a value of another type",
        }
    };
    if let Some(rest) = raw
        .strip_prefix("invalid type: ")
        .or_else(|| raw.strip_prefix("invalid value: "))
        && let Some((unexpected, expected)) = rest.split_once(", expected ")
    {
        let wrong_form = raw.starts_with("invalid value: ");
        let found = kind(unexpected);
        return if wrong_form {
            format!("expected {expected}, found {found} that does not fit")
        } else {
            format!("expected {expected}, found {found}")
        };
    }
    if raw.starts_with("unknown variant ")
        && let Some((_, allowed)) = raw.split_once(", expected ")
    {
        return format!("expected {allowed}");
    }
    if raw.starts_with("missing field `") {
        return raw.to_string();
    }
    if raw.starts_with("invalid length ")
        && let Some((_, expected)) = raw.split_once(", expected ")
    {
        return format!("expected {expected}, found a list of another length");
    }
    "the value is not of the expected type".to_string()
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
pub fn typed<T: DeserializeOwned>(ctx: &Ctx, value: &Value, key: &str) -> Result<T> {
    typed_json(ctx, value.to_json(), key)
}

/// [`typed`] when the block is set (Go truthiness, as the chart's `with`), else `None`.
pub fn typed_if_set<T: DeserializeOwned>(ctx: &Ctx, value: &Value, key: &str) -> Result<Option<T>> {
    value.non_empty().map(|v| typed(ctx, v, key)).transpose()
}

/// Helm's `required`: fails with `message` on a missing value or an empty string.
pub fn required(value: &Value, message: impl FnOnce() -> String) -> Result<&Value> {
    match value {
        Value::Null => anyhow::bail!(message()),
        Value::String(s) if s.is_empty() => anyhow::bail!(message()),
        v => Ok(v),
    }
}

/// The node a view points at and its path, as a fallback-chain link.
pub fn setting<'v>(view: &View<'v>) -> Setting<'v> {
    (view.value(), view.path().to_string())
}

/// [`resources`] of the block at `view`, errors naming its path.
pub fn resources_at(ctx: &Ctx, view: &View) -> Result<Option<ResourceRequirements>> {
    resources(ctx, view.value(), view.path())
}

/// The settings at `paths` in the merged values, for a fallback chain.
pub fn chain<'v>(ctx: &Ctx<'v>, paths: &[&str]) -> Vec<Setting<'v>> {
    paths
        .iter()
        .map(|p| (ctx.v(p).value(), (*p).to_string()))
        .collect()
}

/// The first set block of the chain (Go's `default`: empty blocks fall through), typed; `None`
/// when none is set.
pub fn first_set<T: DeserializeOwned>(ctx: &Ctx, chain: &[Setting]) -> Result<Option<T>> {
    match chain.iter().find(|(v, _)| v.truthy()) {
        Some((v, key)) => typed(ctx, v, key).map(Some),
        None => Ok(None),
    }
}

/// A container's `resources: toYaml(x)`: `None` when the user set it to null (the chart then
/// prints `resources: null`). See [`resources_json`].
pub fn resources(ctx: &Ctx, value: &Value, key: &str) -> Result<Option<ResourceRequirements>> {
    if value.is_null() {
        return Ok(None);
    }
    resources_json(ctx, value.to_json(), key).map(Some)
}

/// A `resources` block (JSON of the values at `key`) as [`ResourceRequirements`]. Numeric
/// quantities (`cpu: 1`) become strings, which Kubernetes reads the same way (the typed Quantity
/// only holds strings); a string that is not a Kubernetes quantity is reported as an error.
pub fn resources_json(ctx: &Ctx, mut json: Json, key: &str) -> Result<ResourceRequirements> {
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
                Json::String(s) if !is_quantity(s) => ctx.report(Finding {
                    severity: Severity::Error,
                    path: format!("{key}.{section}.{name}"),
                    location: None,
                    within: None,
                    message:
                        "expected a Kubernetes quantity (e.g. `500m`, `2`, `1Gi`, `512Mi`, `1e3`)"
                            .to_string(),
                }),
                _ => {}
            }
        }
    }
    typed_json(ctx, json, key)
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
    use crate::render::test_support::with_ctx;
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
        with_ctx("{}", |ctx| {
            let sc: Option<SecurityContext> = first_set(ctx, &chain)?;
            assert_eq!(sc.and_then(|s| s.run_as_user), Some(0));
            let none = vec![(&empty, "a".to_string()), (&Value::Null, "b".to_string())];
            assert!(first_set::<SecurityContext>(ctx, &none)?.is_none());
            Ok(())
        })
    }

    #[test]
    fn misfits_name_the_field_and_kind_never_the_value() {
        use k8s_openapi::api::core::v1::{Container, Toleration};
        let err = |r: Result<()>| r.err().map(|e| format!("{e:#}")).unwrap_or_default();
        let json = |text: &str| serde_json::from_str::<Json>(text).expect("test JSON");
        assert_eq!(
            err(from_json::<SecurityContext>(
                &json(r#"{"privileged": true, "runAsUser": "S3CRET-SENTINEL"}"#),
                "a.sc"
            )
            .map(drop)),
            "`a.sc` does not fit a Kubernetes SecurityContext: at `a.sc.runAsUser`, expected i64, found a string"
        );
        assert_eq!(
            err(from_json::<Vec<Toleration>>(
                &json(r#"[{"key": "k"}, {"tolerationSeconds": {"x": 987654321}}]"#),
                "a.t"
            )
            .map(drop)),
            "`a.t` does not fit a Kubernetes Toleration: at `a.t[1].tolerationSeconds`, expected i64, found a map"
        );
        assert_eq!(
            err(
                from_json::<Vec<Container>>(&json(r#"[{"name": "a"}, "S3CRET-SENTINEL"]"#), "a.c")
                    .map(drop)
            ),
            "`a.c` does not fit a Kubernetes Container: at `a.c[1]`, expected Container, found a string"
        );
        assert_eq!(
            err(with_ctx("{}", |ctx| typed_json::<SecurityContext>(
                ctx,
                json(r#"{"seLinuxOptions": {"user": 987654321}}"#),
                "a.sc"
            )
            .map(drop))),
            "`a.sc` does not fit a Kubernetes SecurityContext: at `a.sc.seLinuxOptions.user`, expected a string, found a number"
        );
    }

    #[test]
    fn typed_error_names_the_values_key() {
        let bad = map(&[("runAsUser", Value::String("root".into()))]);
        let err = with_ctx("{}", |ctx| {
            typed::<SecurityContext>(ctx, &bad, "st2web.securityContext")
        })
        .err()
        .map(|e| format!("{e:#}"));
        assert!(err.is_some_and(|e| e.contains("`st2web.securityContext`")));
    }

    #[test]
    fn resources_keep_null_and_stringify_numbers() -> Result<()> {
        with_ctx("{}", resources_keep_null_and_stringify_numbers_in)
    }

    fn resources_keep_null_and_stringify_numbers_in(ctx: &Ctx) -> Result<()> {
        assert!(resources(ctx, &Value::Null, "x.resources")?.is_none());
        let r = map(&[(
            "limits",
            map(&[
                ("cpu", Value::Int(1)),
                ("memory", Value::String("1Gi".into())),
            ]),
        )]);
        let limits = resources(ctx, &r, "x.resources")?
            .and_then(|r| r.limits)
            .unwrap_or_default();
        assert_eq!(limits.get("cpu").map(|q| q.0.as_str()), Some("1"));
        assert_eq!(limits.get("memory").map(|q| q.0.as_str()), Some("1Gi"));
        Ok(())
    }
}
