//! `st2k8s diff OLD NEW`: an object-level, semantic diff of two rendered manifests, for CI.
//!
//! Objects are matched by (apiVersion group, kind, namespace, name); for each changed object the
//! differing leaf fields are listed with old and new values. Values inside Secret `data` and
//! `stringData` are shown only as fingerprints, so a diff posted to a pull request leaks nothing
//! while a changed secret still shows as changed. Exit status follows `kubectl diff`: 0 equal,
//! 1 different, 2 error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

/// Identity of an object in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    kind: String,
    namespace: String,
    name: String,
    group: String,
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)?;
        if !self.namespace.is_empty() {
            write!(f, " (namespace {})", self.namespace)?;
        }
        Ok(())
    }
}

/// One changed field: path, old value, new value (`<absent>` when missing on one side).
pub type FieldChange = (String, String, String);

/// The outcome of comparing two manifests.
#[derive(Debug, Default)]
pub struct Report {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Changed object → its changed fields as `(path, old, new)` (missing shown as `<absent>`).
    pub changed: Vec<(String, Vec<FieldChange>)>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// Human-readable report; empty when nothing differs.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for name in &self.added {
            let _ = writeln!(out, "+ {name}");
        }
        for name in &self.removed {
            let _ = writeln!(out, "- {name}");
        }
        for (name, fields) in &self.changed {
            let _ = writeln!(out, "~ {name}");
            for (path, old, new) in fields {
                let _ = writeln!(out, "    {path}: {old} -> {new}");
            }
        }
        if !self.is_empty() {
            let _ = writeln!(
                out,
                "{} added, {} removed, {} changed",
                self.added.len(),
                self.removed.len(),
                self.changed.len()
            );
        }
        out
    }
}

/// Read a manifest from a path (`-` = stdin).
pub fn read_manifest(path: &str) -> Result<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read a manifest from stdin")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{path}`"))
}

/// Compare two manifests (multi-document YAML streams).
pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str) -> Result<Report> {
    let old = index(old, old_name)?;
    let new = index(new, new_name)?;
    let mut report = Report::default();
    for (key, object) in &new {
        match old.get(key) {
            None => report.added.push(key.to_string()),
            Some(before) => {
                let mut fields = Vec::new();
                let secret = key.kind == "Secret";
                compare(before, object, &mut String::new(), secret, &mut fields);
                if !fields.is_empty() {
                    report.changed.push((key.to_string(), fields));
                }
            }
        }
    }
    report.removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .map(Key::to_string)
        .collect();
    Ok(report)
}

/// Parse a stream and key its objects; `List` kinds are expanded, empty documents skipped.
/// Anything else that is not an object with a `kind` and a `metadata.name` is an error: a
/// values file or a truncated stream passed by mistake must not compare as "equal".
fn index(text: &str, name: &str) -> Result<BTreeMap<Key, Json>> {
    // No source snippet in the error: the offending line may hold a Secret value.
    let options = serde_saphyr::options!(with_snippet: false);
    let docs: Vec<Json> = serde_saphyr::from_multiple_with_options(text, options)
        .with_context(|| format!("`{name}` is not a valid YAML stream"))?;
    let mut objects = BTreeMap::new();
    for (n, doc) in docs.into_iter().enumerate().filter(|(_, d)| !d.is_null()) {
        let items = match doc.get("kind").and_then(Json::as_str) {
            Some(kind) if kind.ends_with("List") => doc
                .get("items")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default(),
            _ => vec![doc],
        };
        for item in items {
            let Some(key) = key_of(&item) else {
                bail!(
                    "`{name}`: document {} is not a Kubernetes object (no `kind` and `metadata.name`)",
                    n + 1
                );
            };
            if objects.insert(key.clone(), item).is_some() {
                bail!("`{name}` holds {key} twice");
            }
        }
    }
    Ok(objects)
}

/// The identity of an object; `None` unless it has a `kind` and a `metadata.name`.
fn key_of(object: &Json) -> Option<Key> {
    let text = |v: Option<&Json>| v.and_then(Json::as_str).unwrap_or_default().to_string();
    let api_version = text(object.get("apiVersion"));
    let group = api_version
        .rsplit_once('/')
        .map_or("", |(g, _)| g)
        .to_string();
    let metadata = object.get("metadata");
    let key = Key {
        kind: text(object.get("kind")),
        namespace: text(metadata.and_then(|m| m.get("namespace"))),
        name: text(metadata.and_then(|m| m.get("name"))),
        group,
    };
    (!key.kind.is_empty() && !key.name.is_empty()).then_some(key)
}

fn compare(old: &Json, new: &Json, path: &mut String, secret: bool, out: &mut Vec<FieldChange>) {
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let len = path.len();
                push_key(path, key);
                compare_entry(a.get(key), b.get(key), path, secret, out);
                path.truncate(len);
            }
        }
        (Json::Array(a), Json::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                compare_entry(a.get(i), b.get(i), path, secret, out);
                path.truncate(len);
            }
        }
        (a, b) if a != b => out.push((
            path.clone(),
            shown(a, true, path, secret),
            shown(b, true, path, secret),
        )),
        _ => {}
    }
}

/// One map entry or list item, on either side or both: compared when on both, else one change
/// with `<absent>` on the side that lacks it.
fn compare_entry(
    old: Option<&Json>,
    new: Option<&Json>,
    path: &mut String,
    secret: bool,
    out: &mut Vec<FieldChange>,
) {
    match (old, new) {
        (Some(x), Some(y)) => compare(x, y, path, secret, out),
        (x, y) => {
            let missing = Json::Null;
            out.push((
                path.clone(),
                shown(x.unwrap_or(&missing), x.is_some(), path, secret),
                shown(y.unwrap_or(&missing), y.is_some(), path, secret),
            ));
        }
    }
}

fn push_key(path: &mut String, key: &str) {
    let simple = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/'));
    if simple {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        let _ = write!(path, "[{key:?}]");
    }
}

/// A value for display: secret payloads become fingerprints, others compact JSON.
fn shown(value: &Json, present: bool, path: &str, secret: bool) -> String {
    if !present {
        return "<absent>".into();
    }
    let in_payload = secret && (path.starts_with("data") || path.starts_with("stringData"));
    if in_payload && !value.is_object() && !value.is_array() {
        let raw = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_string);
        return fingerprint(&raw);
    }
    if in_payload {
        return "<secret values>".into();
    }
    value.to_string()
}

/// `redacted:sha256:<first 12 hex>` of a secret value (the same fingerprint `--redact-secrets` writes).
pub fn fingerprint(value: &str) -> String {
    crate::secrets::redact::fingerprint(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: auth\ndata:\n  password: c2VjcmV0\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n";
    const NEW: &str = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: auth\ndata:\n  password: b3RoZXI=\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: new\n";

    #[test]
    fn equal_manifests_have_an_empty_report() {
        let report = diff(OLD, OLD, "a", "b").expect("diff");
        assert!(report.is_empty());
        assert_eq!(report.render(), "");
    }

    #[test]
    fn reports_added_removed_and_changed_fields() {
        let report = diff(OLD, NEW, "a", "b").expect("diff");
        assert_eq!(report.added, ["Service/new"]);
        assert_eq!(report.removed, ["ConfigMap/gone"]);
        let text = report.render();
        assert!(
            text.contains("~ Deployment/web\n    spec.replicas: 2 -> 3\n"),
            "{text}"
        );
        assert!(text.contains("1 added, 1 removed, 2 changed"), "{text}");
    }

    #[test]
    fn secret_values_show_only_as_fingerprints() {
        let text = diff(OLD, NEW, "a", "b").expect("diff").render();
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("b3RoZXI="),
            "{text}"
        );
        assert!(text.contains(&fingerprint("c2VjcmV0")), "{text}");
    }

    #[test]
    fn invalid_yaml_is_an_error_naming_the_input() {
        let err = diff("a: [", OLD, "old.yaml", "new.yaml").expect_err("invalid");
        assert!(format!("{err:#}").contains("old.yaml"));
    }

    #[test]
    fn syntax_errors_do_not_quote_the_input() {
        let text = "kind: Secret\ndata:\n  password: hunter2-secret: [\n";
        let err = diff(text, OLD, "old.yaml", "new.yaml").expect_err("invalid");
        assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
    }

    #[test]
    fn documents_that_are_not_objects_are_errors() {
        for text in [
            "plain text\n",
            "replicas: 3\n",
            "kind: ConfigMap\n",
            "- a\n",
        ] {
            let err = diff(OLD, text, "old.yaml", "new.yaml").expect_err(text);
            assert!(
                format!("{err:#}").contains("`new.yaml`: document 1 is not a Kubernetes object"),
                "{text}: {err:#}"
            );
        }
        let empty_documents = format!("---\n{OLD}---\n");
        assert!(
            diff(OLD, &empty_documents, "a", "b")
                .expect("diff")
                .is_empty()
        );
    }
}
