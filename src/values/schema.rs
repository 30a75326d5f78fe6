//! A JSON Schema (draft-07) of the values, generated from the built-in `values.yaml`: each key's
//! type from its default, its `description` from the comment lines just above it. Maps are open
//! (`additionalProperties: true`): unknown keys are warnings, reported by `st2k8s lint`.

use serde_json::{Map as JsonMap, Value as Json, json};

use super::{Origins, Value, parse_document};

/// The schema of the built-in values, as pretty JSON with a trailing newline.
pub fn values_schema() -> String {
    let (defaults, origins) = parse_document(super::DEFAULTS, "values.yaml").unwrap_or_default();
    let lines: Vec<&str> = super::DEFAULTS.lines().collect();
    let mut root = node(&Value::Map(defaults), "", &origins, &lines);
    if let Json::Object(m) = &mut root {
        m.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-07/schema#"),
        );
        m.insert("title".into(), json!("st2k8s values (stackstorm-ha 1.1.0)"));
    }
    let mut text = serde_json::to_string_pretty(&root).unwrap_or_default();
    text.push('\n');
    text
}

fn node(value: &Value, path: &str, origins: &Origins, lines: &[&str]) -> Json {
    let mut schema = JsonMap::new();
    let kind = match value {
        Value::Map(m) => {
            let properties: JsonMap<String, Json> = m
                .iter()
                .map(|(k, v)| {
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    (k.clone(), node(v, &child, origins, lines))
                })
                .collect();
            if !properties.is_empty() {
                schema.insert("properties".into(), Json::Object(properties));
            }
            schema.insert("additionalProperties".into(), json!(true));
            json!(["object", "null"])
        }
        Value::List(_) => json!(["array", "null"]),
        Value::Int(_) => json!(["integer", "string", "null"]),
        Value::Float(_) => json!(["number", "string", "null"]),
        Value::Bool(_) => json!(["boolean", "null"]),
        Value::String(_) => json!(["string", "number", "boolean", "null"]),
        Value::Null => Json::Null,
    };
    if !kind.is_null() {
        schema.insert("type".into(), kind);
    }
    let description = origins
        .get(path)
        .map(|l| comment_above(lines, l.line))
        .unwrap_or_default();
    if !description.is_empty() {
        schema.insert("description".into(), json!(description));
    }
    Json::Object(schema)
}

/// The comment lines directly above line `line` (1-based), without their `#`.
fn comment_above(lines: &[&str], line: usize) -> String {
    let mut out: Vec<&str> = lines
        .iter()
        .take(line.saturating_sub(1))
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    out.reverse();
    out.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_up_to_date() {
        let committed = include_str!("../../values.schema.json");
        assert!(
            committed == super::values_schema(),
            "values.schema.json is stale: run `st2k8s schema > values.schema.json`"
        );
    }
}
