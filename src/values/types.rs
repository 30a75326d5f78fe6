//! Checking the type of each user value against the built-in default at the same key.
//!
//! The expected type is the default's: a map default wants a map, a list default a list, an
//! integer default a whole number, a boolean default `true`/`false`. Only what the chart would
//! render wrongly is an error (`replicas: three`, a map where a list belongs, the string `"false"`
//! where a boolean is tested); what the chart reads fine anyway (`replicas: "3"`, the number `1`
//! for a boolean) passes or warns. Null always passes: Helm drops the key. Free-form subtrees
//! ([`super::check::FREE_FORM`]) are checked at their root only.

use super::check::{
    FREE_FORM, Finding, ITEM_FIELDS, OPTIONAL, Severity, Shape, any_match, join, matches,
};
use super::{Map, Origins, Value};

/// Report every user value whose type does not fit its key. `defaults` is the built-in defaults
/// tree; list items named in [`ITEM_FIELDS`] must be maps, and one-sensor-per-pod entries
/// (`st2.packs.sensors[]`) are checked against the st2sensorcontainer defaults.
pub fn wrong_types(user: &Map, defaults: &Map, origins: &Origins) -> Vec<Finding> {
    let mut out = Vec::new();
    let walk = Walk {
        root: defaults,
        origins,
    };
    walk.map(user, Some(defaults), "", "", &mut out);
    out
}

struct Walk<'a> {
    root: &'a Map,
    origins: &'a Origins,
}

impl Walk<'_> {
    /// `path` is the schema path (items as `[]`), `shown` the user-facing one (items as `[N]`).
    fn map(
        &self,
        user: &Map,
        defaults: Option<&Map>,
        path: &str,
        shown: &str,
        out: &mut Vec<Finding>,
    ) {
        for (key, value) in user {
            let child = join(path, key);
            let child_shown = join(shown, key);
            let default = defaults.and_then(|m| m.get(key));
            let shape = match default {
                Some(d) => Shape::of(d),
                None => match OPTIONAL
                    .iter()
                    .find_map(|(p, shape)| shape.filter(|_| matches(p, &child)))
                {
                    Some(shape) => shape,
                    None => continue,
                },
            };
            if let Some((severity, message)) = mismatch(shape, value) {
                out.push(Finding {
                    severity,
                    location: self.origins.get(&child_shown).map(ToString::to_string),
                    within: None,
                    path: child_shown,
                    message,
                });
                continue;
            }
            if any_match(FREE_FORM, &child) {
                continue;
            }
            match value {
                Value::Map(m) => self.map(
                    m,
                    default.and_then(Value::as_map),
                    &child,
                    &child_shown,
                    out,
                ),
                Value::List(items) => self.items(items, &child, &child_shown, out),
                _ => {}
            }
        }
    }

    /// List items that must be maps: `st2.packs.images`, `extra_volumes`, hooks, sensors.
    fn items(&self, items: &[Value], path: &str, shown: &str, out: &mut Vec<Finding>) {
        let sensor = path == "st2.packs.sensors";
        if !sensor && !ITEM_FIELDS.iter().any(|(p, _)| matches(p, path)) {
            return;
        }
        for (i, item) in items.iter().enumerate() {
            let item_shown = format!("{shown}[{i}]");
            match item {
                Value::Map(m) if sensor => {
                    let defaults = self.root.get("st2sensorcontainer").and_then(Value::as_map);
                    self.map(m, defaults, "st2sensorcontainer", &item_shown, out);
                }
                Value::Map(_) => {}
                other => out.push(Finding {
                    severity: Severity::Error,
                    location: self.origins.get(&item_shown).map(ToString::to_string),
                    within: None,
                    message: format!("each item must be a map of fields, found {}", other.kind()),
                    path: item_shown,
                }),
            }
        }
    }
}

/// Why `value` does not fit `shape`, if it doesn't: an error where the chart would fail or
/// silently misbehave, a warning where it reads the value anyway.
fn mismatch(shape: Shape, value: &Value) -> Option<(Severity, String)> {
    use Severity::{Error, Warning};
    // The kind of the value only, never the value: any value may be a secret.
    let found = || value.kind();
    match (shape, value) {
        (_, Value::Null) | (Shape::Any, _) => None,
        (Shape::Map, Value::Map(_)) | (Shape::List, Value::List(_)) => None,
        (Shape::Map, _) => Some((
            Error,
            format!("expected a map (key: value), found {}", found()),
        )),
        (Shape::List, _) => Some((Error, format!("expected a list, found {}", found()))),
        (Shape::Int, Value::Int(_)) => None,
        (Shape::Int, Value::Float(f)) if f.fract() == 0.0 => None,
        // The chart prints the value unquoted, so a quoted whole number still reads as one.
        (Shape::Int, Value::String(s)) if s.trim().parse::<i64>().is_ok() => None,
        (Shape::Int, _) => Some((Error, format!("expected a whole number, found {}", found()))),
        (Shape::Float, Value::Int(_) | Value::Float(_)) => None,
        (Shape::Float, Value::String(s)) if s.trim().parse::<f64>().is_ok() => None,
        (Shape::Float, _) => Some((Error, format!("expected a number, found {}", found()))),
        (Shape::Bool, Value::Bool(_)) => None,
        (Shape::Bool, Value::String(s)) if s == "true" => Some((
            Warning,
            "expected true or false, found the string \"true\"; write it unquoted".to_string(),
        )),
        // Go templates test truthiness: any non-empty string, even "false", is true.
        (Shape::Bool, Value::String(_)) => Some((
            Error,
            format!(
                "expected true or false, found {}; the chart treats any non-empty string as true",
                found()
            ),
        )),
        (Shape::Bool, Value::Int(_) | Value::Float(_)) => Some((
            Warning,
            format!(
                "expected true or false, found {}; the chart reads 0 as false, other numbers as true",
                found()
            ),
        )),
        (Shape::Bool, _) => Some((Error, format!("expected true or false, found {}", found()))),
        // A string key accepts any scalar (the chart prints it); a map or list prints as Go junk.
        (Shape::Text, Value::Map(_) | Value::List(_)) => {
            Some((Error, format!("expected a string, found {}", found())))
        }
        (Shape::Text, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_document;

    fn found(text: &str) -> Vec<(Severity, String)> {
        let (user, origins) = parse_document(text, "custom.yaml").expect("parses");
        let (defaults, _) = parse_document(crate::values::DEFAULTS, "defaults").expect("defaults");
        wrong_types(&user, &defaults, &origins)
            .into_iter()
            .map(|f| (f.severity, f.to_string()))
            .collect()
    }

    /// Every optional key with a known type is a known key (no typo warning) whose value is
    /// checked against that type (unless a free-form subtree holds it), and each optional key is
    /// listed once.
    #[test]
    fn every_shaped_optional_key_is_known_and_checked() {
        let (defaults, _) = parse_document(crate::values::DEFAULTS, "defaults").expect("defaults");
        let mut seen = std::collections::HashSet::new();
        for (pattern, shape) in OPTIONAL {
            assert!(seen.insert(*pattern), "`{pattern}` is listed twice");
            let Some(shape) = shape else { continue };
            let path = pattern.replace('*', "st2web");
            let (fits, misfits) = match shape {
                Shape::Map => ("{}", "[1]"),
                Shape::List => ("[1]", "{a: 1}"),
                Shape::Int => ("3", "three"),
                Shape::Bool => ("true", "[1]"),
                Shape::Text => ("x", "{a: 1}"),
                Shape::Float | Shape::Any => panic!("`{pattern}`: no optional key has this shape"),
            };
            let yaml = |value: &str| {
                let parts: Vec<&str> = path.split('.').collect();
                let open: String = parts.iter().map(|p| format!("{{{p}: ")).collect();
                format!("{open}{value}{}", "}".repeat(parts.len()))
            };
            let (user, origins) = parse_document(&yaml(fits), "custom.yaml").expect("parses");
            let unknown = super::super::check::unknown_keys(&user, &defaults, &origins);
            assert!(unknown.is_empty(), "`{path}`: {unknown:?}");
            let wrong = wrong_types(&user, &defaults, &origins);
            assert!(wrong.is_empty(), "`{path}`: {wrong:?}");
            let (user, origins) = parse_document(&yaml(misfits), "custom.yaml").expect("parses");
            let wrong: Vec<String> = wrong_types(&user, &defaults, &origins)
                .into_iter()
                .map(|f| f.path)
                .collect();
            // Below a free-form subtree (the bundled backends) the backend's own checks apply.
            let mut parents = path.match_indices('.').map(|(i, _)| &path[..i]);
            let want = if parents.any(|p| any_match(FREE_FORM, p)) {
                vec![]
            } else {
                vec![path.clone()]
            };
            assert_eq!(wrong, want, "`{path}: {misfits}`");
        }
    }

    #[test]
    fn wrong_types_are_errors_with_position() {
        use Severity::Error;
        for (text, want) in [
            (
                "st2web:\n  replicas: three\n",
                "custom.yaml:2:3: `st2web.replicas`: expected a whole number, found a string",
            ),
            (
                "st2:\n  packs:\n    images: {a: 1}\n",
                "custom.yaml:3:5: `st2.packs.images`: expected a list, found a map",
            ),
            (
                "st2web:\n  env: [a]\n",
                "custom.yaml:2:3: `st2web.env`: expected a map (key: value), found a list",
            ),
            (
                "st2:\n  packs:\n    images:\n      - just-a-name\n",
                "custom.yaml:4:9: `st2.packs.images[0]`: each item must be a map of fields, found a string",
            ),
            (
                "st2:\n  rbac:\n    enabled: \"false\"\n",
                "custom.yaml:3:5: `st2.rbac.enabled`: expected true or false, found a string; the chart treats any non-empty string as true",
            ),
            (
                "st2web:\n  image:\n    tag: [1]\n",
                "custom.yaml:3:5: `st2web.image.tag`: expected a string, found a list",
            ),
            (
                "st2:\n  packs:\n    sensors:\n      - name: a\n        resources: [x]\n",
                "custom.yaml:5:9: `st2.packs.sensors[0].resources`: expected a map (key: value), found a list",
            ),
            (
                "podDisruptionBudgets:\n  enabled: \"false\"\n",
                "custom.yaml:2:3: `podDisruptionBudgets.enabled`: expected true or false, found a string; the chart treats any non-empty string as true",
            ),
            (
                "networkPolicy:\n  enabled: \"yes\"\n",
                "custom.yaml:2:3: `networkPolicy.enabled`: expected true or false, found a string; the chart treats any non-empty string as true",
            ),
            (
                "networkPolicy:\n  apiClients: {podSelector: {}}\n",
                "custom.yaml:2:3: `networkPolicy.apiClients`: expected a list, found a map",
            ),
            (
                "st2api:\n  autoscaling:\n    maxReplicas: many\n",
                "custom.yaml:3:5: `st2api.autoscaling.maxReplicas`: expected a whole number, found a string",
            ),
            (
                "st2web:\n  securityContext: [a]\n",
                "custom.yaml:2:3: `st2web.securityContext`: expected a map (key: value), found a list",
            ),
        ] {
            assert_eq!(found(text), [(Error, want.to_string())], "{text}");
        }
    }

    #[test]
    fn what_the_chart_reads_fine_passes_or_warns() {
        for text in [
            "st2web:\n  replicas: \"3\"\n",
            "st2web:\n  replicas: 3.0\n",
            "st2web:\n  replicas: null\n",
            "st2web:\n  image:\n    tag: 3.8\n",
            "st2web:\n  env:\n    A: [free, form]\n",
            "mongodb:\n  whatever: {x: 1}\n",
            "unknown: [1]\n",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
        let warned = found("st2:\n  rbac:\n    enabled: 1\n");
        assert!(
            matches!(warned.as_slice(), [(Severity::Warning, m)] if m.contains("`st2.rbac.enabled`")),
            "{warned:?}"
        );
    }

    #[test]
    fn values_are_never_shown() {
        for text in [
            "st2:\n  rbac:\n    enabled: S3CRET-SENTINEL\n",
            "st2web:\n  replicas: S3CRET-SENTINEL\n",
            "st2web:\n  env: S3CRET-SENTINEL\n",
            "st2:\n  packs:\n    images: [S3CRET-SENTINEL]\n",
            "st2web:\n  replicas: 987654321.5\n",
            "st2:\n  rbac:\n    enabled: 987654321\n",
            "st2web:\n  env: 987654321\n",
        ] {
            let got = found(text);
            assert!(!got.is_empty(), "{text}");
            assert!(
                got.iter()
                    .all(|(_, m)| !m.contains("S3CRET-SENTINEL") && !m.contains("987654321")),
                "{got:?}"
            );
        }
    }
}
