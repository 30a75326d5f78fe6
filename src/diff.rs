//! `st2k8s diff OLD NEW`: an object-level, semantic diff of two rendered manifests, for CI.
//!
//! Objects are matched by (apiVersion group, kind, namespace, name); for each changed object the
//! differing leaf fields are listed with old and new values, and a changed multi-line string
//! (st2.conf, a script) as unified-diff lines under its field path, so a one-line change in a
//! long file reads as one line. Exit status follows `kubectl diff`: 0 equal, 1 different, 2 error.
//!
//! The report is meant to be posted to pull requests, so it never shows a secret. Every value of
//! every Secret in *either* manifest (`data` base64-decoded, `stringData` as is) is a secret:
//! in a Secret's payload it shows only as its fingerprint (`redacted:sha256:<12 hex>`, the one
//! `--redact-secrets` writes), and in everything else displayed (st2.conf of a manifest rendered
//! before the credentials moved to a Secret, which embeds passwords in URLs, a user's
//! `st2.config`, env values, args, labels, map keys in a path, object names) each occurrence is
//! replaced by that fingerprint before the text is printed or line-diffed. A changed secret
//! still shows as changed, a secret that only the old manifest holds still hides in the old
//! text, and one set of secrets is built per diff and only displayed text is searched.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Read;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

use crate::secrets::redact::{MIN_QUOTED_LEN, decode_data, replace_all};

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

/// One changed field, every secret in it already replaced by its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// Where, e.g. `spec.replicas` or `data["st2.docker.conf"]`.
    pub path: String,
    /// The old value as compact JSON, `<absent>` when missing, or a line count for text.
    pub old: String,
    /// The new value, like `old`.
    pub new: String,
    /// For a multi-line string: unified-diff lines (`@@` hunk headers, then ` `, `-` or `+` and
    /// the line); empty for any other value.
    pub lines: Vec<String>,
}

/// The outcome of comparing two manifests.
#[derive(Debug, Default)]
pub struct Report {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Changed object → its changed fields.
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
            for field in fields {
                let _ = writeln!(out, "    {}: {} -> {}", field.path, field.old, field.new);
                for line in &field.lines {
                    let _ = writeln!(out, "      {line}");
                }
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
    let secrets = Secrets::collect(old.values().chain(new.values()));
    let name = |key: &Key| secrets.hide(&key.to_string()).into_owned();
    let mut report = Report::default();
    for (key, object) in &new {
        match old.get(key) {
            None => report.added.push(name(key)),
            Some(before) => {
                let mut walk = Walk {
                    secrets: &secrets,
                    secret: key.kind == "Secret",
                    path: Vec::new(),
                    out: Vec::new(),
                };
                walk.compare(before, object);
                if !walk.out.is_empty() {
                    report.changed.push((name(key), walk.out));
                }
            }
        }
    }
    report.removed = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .map(name)
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

/// One step of a field path: a map key or a list index.
#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// The comparison of one object pair: the path walked so far and the changes found.
struct Walk<'a, 's> {
    secrets: &'s Secrets,
    /// The objects are Secrets: their `data` and `stringData` show only fingerprints.
    secret: bool,
    path: Vec<Segment<'a>>,
    out: Vec<FieldChange>,
}

impl<'a> Walk<'a, '_> {
    fn compare(&mut self, old: &'a Json, new: &'a Json) {
        match (old, new) {
            (Json::Object(a), Json::Object(b)) => {
                let keys: BTreeSet<&'a String> = a.keys().chain(b.keys()).collect();
                for key in keys {
                    self.path.push(Segment::Key(key));
                    self.entry(a.get(key.as_str()), b.get(key.as_str()));
                    self.path.pop();
                }
            }
            (Json::Array(a), Json::Array(b)) => {
                for i in 0..a.len().max(b.len()) {
                    self.path.push(Segment::Index(i));
                    self.entry(a.get(i), b.get(i));
                    self.path.pop();
                }
            }
            (a, b) if a != b => self.change(Some(a), Some(b)),
            _ => {}
        }
    }

    /// One map entry or list item, on either side or both: compared when on both, else one
    /// change with `<absent>` on the side that lacks it.
    fn entry(&mut self, old: Option<&'a Json>, new: Option<&'a Json>) {
        match (old, new) {
            (Some(x), Some(y)) => self.compare(x, y),
            (x, y) => self.change(x, y),
        }
    }

    /// Record a differing field at the current path, in the form it will be displayed.
    fn change(&mut self, old: Option<&Json>, new: Option<&Json>) {
        let path = self.path_text();
        let payload = match self.path.first() {
            Some(Segment::Key(field)) if self.secret => match *field {
                "data" => Some(true),
                "stringData" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if let Some(encoded) = payload {
            let shown = |v: Option<&Json>| v.map_or_else(absent, |v| payload_shown(v, encoded));
            self.out.push(FieldChange {
                path,
                old: shown(old),
                new: shown(new),
                lines: Vec::new(),
            });
            return;
        }
        // Text is a string or absent; a multi-line one on either side gives a line diff.
        let multi_line = |s: &str| s.contains('\n');
        if let (Some(a), Some(b)) = (text(old), text(new))
            && (a.is_some_and(multi_line) || b.is_some_and(multi_line))
        {
            // Hidden whole before splitting, so a multi-line secret is found as one.
            let a = a.map(|s| self.secrets.hide(s));
            let b = b.map(|s| self.secrets.hide(s));
            let count = |s: &Option<Cow<'_, str>>| {
                s.as_deref().map_or_else(absent, |s| {
                    let n = split_lines(s).len();
                    format!("{n} line{}", if n == 1 { "" } else { "s" })
                })
            };
            let lines = line_diff(a.as_deref().unwrap_or(""), b.as_deref().unwrap_or(""))
                .into_iter()
                .map(|line| {
                    // Every secret in the text was hidden before the split; a line that is a
                    // short secret whole (too short to be looked for inside text) is hidden
                    // here, after its mark. Scanning the lines again could only find secrets
                    // inside the fingerprints just written.
                    let (mark, rest) = line.split_at_checked(1).unwrap_or(("", &line));
                    let rest = self.secrets.whole.get(rest).map_or(rest, String::as_str);
                    printable(&format!("{mark}{rest}"))
                })
                .collect();
            self.out.push(FieldChange {
                path,
                old: count(&a),
                new: count(&b),
                lines,
            });
            return;
        }
        let shown = |v: Option<&Json>| v.map_or_else(absent, |v| self.secrets.shown(v));
        self.out.push(FieldChange {
            path,
            old: shown(old),
            new: shown(new),
            lines: Vec::new(),
        });
    }

    /// The current path for display, secrets in map keys hidden.
    fn path_text(&self) -> String {
        let mut path = String::new();
        for segment in &self.path {
            match segment {
                Segment::Key(key) => push_key(&mut path, &self.secrets.hide(key)),
                Segment::Index(i) => {
                    let _ = write!(path, "[{i}]");
                }
            }
        }
        path
    }
}

/// `Some(text)` for a string, `Some(None)` for a missing value, `None` for anything else.
fn text(value: Option<&Json>) -> Option<Option<&str>> {
    match value {
        None => Some(None),
        Some(Json::String(s)) => Some(Some(s)),
        Some(_) => None,
    }
}

fn absent() -> String {
    "<absent>".into()
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

/// A value in a Secret's payload: a scalar becomes its fingerprint (of the decoded bytes for
/// `data`, as `--redact-secrets` does), anything else a placeholder.
fn payload_shown(value: &Json, encoded: bool) -> String {
    match value {
        Json::Object(_) | Json::Array(_) => "<secret values>".into(),
        Json::String(text) if encoded => crate::secrets::redact::fingerprint(&decode_data(text)),
        Json::String(text) => fingerprint(text),
        other => fingerprint(&other.to_string()),
    }
}

/// Lines of a multi-line secret at least this long and without whitespace (key material) are
/// also hidden one by one, in case the secret is quoted elsewhere re-indented.
const MIN_SECRET_LINE_LEN: usize = 20;

/// Every Secret value of both manifests, with the fingerprint that replaces it in the report.
#[derive(Debug, Default)]
struct Secrets {
    /// A displayed value (string, number, map key) equal to one of these is replaced whole,
    /// however short.
    whole: HashMap<String, String>,
    /// The values of at least [`MIN_QUOTED_LEN`] bytes, replaced wherever they occur.
    quoted: Vec<(String, String)>,
}

impl Secrets {
    fn collect<'a>(objects: impl Iterator<Item = &'a Json>) -> Self {
        let mut secrets = Self::default();
        for object in objects.filter(|o| o.get("kind").and_then(Json::as_str) == Some("Secret")) {
            for (field, encoded) in [("data", true), ("stringData", false)] {
                if let Some(payload) = object.get(field) {
                    secrets.add_payload(payload, encoded);
                }
            }
        }
        secrets
            .quoted
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        secrets.quoted.dedup();
        secrets
    }

    /// Every scalar of a payload (a map of strings in a valid Secret; anything else is walked).
    fn add_payload(&mut self, value: &Json, encoded: bool) {
        match value {
            Json::Object(map) => map.values().for_each(|v| self.add_payload(v, encoded)),
            Json::Array(items) => items.iter().for_each(|v| self.add_payload(v, encoded)),
            Json::String(text) if encoded => {
                let raw = decode_data(text);
                if std::str::from_utf8(&raw).is_ok_and(holds_nothing) {
                    return;
                }
                let print = crate::secrets::redact::fingerprint(&raw);
                // The base64 text is the secret too, only spelt differently.
                self.add(text, &print);
                if let Ok(plain) = std::str::from_utf8(&raw) {
                    self.add(plain, &print);
                }
            }
            Json::String(text) => self.add(text, &fingerprint(text)),
            Json::Null => {}
            other => {
                let text = other.to_string();
                self.add(&text, &fingerprint(&text));
            }
        }
    }

    fn add(&mut self, plain: &str, print: &str) {
        if holds_nothing(plain) || self.whole.contains_key(plain) {
            return;
        }
        self.whole.insert(plain.to_string(), print.to_string());
        if plain.len() >= MIN_QUOTED_LEN {
            self.quoted.push((plain.to_string(), print.to_string()));
        }
        if plain.contains('\n') {
            for line in plain.lines().map(str::trim) {
                if line.len() >= MIN_SECRET_LINE_LEN && !line.contains(char::is_whitespace) {
                    self.quoted.push((line.to_string(), fingerprint(line)));
                }
            }
        }
    }

    /// `text` with every secret replaced by its fingerprint.
    fn hide<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if let Some(print) = self.whole.get(text) {
            return Cow::Owned(print.clone());
        }
        replace_all(text, &self.quoted).map_or(Cow::Borrowed(text), Cow::Owned)
    }

    /// A value for display as compact JSON, every secret hidden.
    fn shown(&self, value: &Json) -> String {
        self.hidden(value).to_string()
    }

    /// A copy of `value` with every secret in its strings, map keys and scalars hidden.
    fn hidden(&self, value: &Json) -> Json {
        match value {
            Json::String(s) => Json::String(self.hide(s).into_owned()),
            Json::Array(items) => Json::Array(items.iter().map(|v| self.hidden(v)).collect()),
            Json::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (self.hide(k).into_owned(), self.hidden(v)))
                    .collect(),
            ),
            Json::Null => Json::Null,
            other => match self.hide(&other.to_string()) {
                Cow::Borrowed(_) => other.clone(),
                Cow::Owned(hidden) => Json::String(hidden),
            },
        }
    }
}

/// Values that hold nothing to hide (an empty API key list renders as `null`): hiding every
/// `null` or `true` in the report would protect nothing and bury the changes.
fn holds_nothing(value: &str) -> bool {
    let value = value.trim();
    value.is_empty() || ["null", "~", "{}", "[]", "true", "false"].contains(&value)
}

/// Unchanged lines shown around each change, as `diff -u` does.
const CONTEXT: usize = 3;

/// The most pairs of lines compared between the changed middles of two texts (after their
/// common first and last lines): bounds time and memory (two bytes a pair) for any input.
/// Beyond it only the line counts are shown.
const MAX_LINE_PAIRS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same,
    Delete,
    Insert,
}

/// The lines of a text; a final newline ends the last line rather than starting an empty one.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.is_empty() || text.ends_with('\n') {
        lines.pop();
    }
    lines
}

/// Unified-diff hunks (`@@ -l,n +l,n @@` then ` `/`-`/`+` lines) from `old` to `new`.
fn line_diff(old: &str, new: &str) -> Vec<String> {
    let (a, b) = (split_lines(old), split_lines(new));
    let edits = match edit_script(&a, &b) {
        Ok(edits) => edits,
        Err((removed, added)) => {
            return vec![format!(
                "(too many changes to show line by line: {removed} lines out, {added} in)"
            )];
        }
    };
    let changed: Vec<usize> = (0..edits.len())
        .filter(|&k| edits[k] != Edit::Same)
        .collect();
    if changed.is_empty() {
        let what = if a == b && old != new {
            "only the final newline differs"
        } else {
            "only secret values differ"
        };
        return vec![format!("({what})")];
    }
    // Line numbers (0-based) in old and new before each edit.
    let mut at = Vec::with_capacity(edits.len() + 1);
    let (mut i, mut j) = (0, 0);
    for edit in &edits {
        at.push((i, j));
        match edit {
            Edit::Same => (i, j) = (i + 1, j + 1),
            Edit::Delete => i += 1,
            Edit::Insert => j += 1,
        }
    }
    at.push((i, j));
    let mut out = Vec::new();
    let mut k = 0;
    while k < changed.len() {
        // A hunk runs while the next change is close enough that their contexts touch.
        let first = changed[k];
        let mut last = first;
        k += 1;
        while k < changed.len() && changed[k] - last <= 2 * CONTEXT + 1 {
            last = changed[k];
            k += 1;
        }
        let start = first.saturating_sub(CONTEXT);
        let end = (last + 1 + CONTEXT).min(edits.len());
        let ((i0, j0), (i1, j1)) = (at[start], at[end]);
        let range = |from: usize, to: usize| match to - from {
            0 => format!("{from},0"),
            1 => format!("{}", from + 1),
            n => format!("{},{n}", from + 1),
        };
        out.push(format!("@@ -{} +{} @@", range(i0, i1), range(j0, j1)));
        for e in start..end {
            let (i, j) = at[e];
            out.push(match edits[e] {
                Edit::Same => format!(" {}", a[i]),
                Edit::Delete => format!("-{}", a[i]),
                Edit::Insert => format!("+{}", b[j]),
            });
        }
    }
    out
}

/// The shortest edit script from `a` to `b`: common first and last lines are kept, the middle
/// is aligned by a longest common subsequence. When the middles are too large to align, their
/// line counts instead.
fn edit_script<'a>(a: &[&'a str], b: &[&'a str]) -> Result<Vec<Edit>, (usize, usize)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (a, b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    if a.len().saturating_mul(b.len()) > MAX_LINE_PAIRS {
        return Err((a.len(), b.len()));
    }
    // Lines as numbers, so the table compares integers. Its cells fit in u16: a common
    // subsequence is no longer than the shorter side, at most sqrt(MAX_LINE_PAIRS) lines.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut number = |lines: &[&'a str]| -> Vec<usize> {
        lines
            .iter()
            .map(|line| {
                let next = ids.len();
                *ids.entry(line).or_insert(next)
            })
            .collect()
    };
    let (a, b) = (number(a), number(b));
    // lcs[i * w + j]: the length of a longest common subsequence of a[i..] and b[j..].
    let w = b.len() + 1;
    let mut lcs = vec![0u16; (a.len() + 1) * w];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * w + j] = if a[i] == b[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let mut edits = vec![Edit::Same; prefix];
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            edits.push(Edit::Same);
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
            // Deletions before insertions, as `diff` prints them.
            edits.push(Edit::Delete);
            i += 1;
        } else {
            edits.push(Edit::Insert);
            j += 1;
        }
    }
    edits.extend(std::iter::repeat_n(Edit::Same, suffix));
    Ok(edits)
}

/// A diff line safe to print: control characters other than tab and bidirectional marks
/// escaped (a `\r`, an escape sequence or a right-to-left override in a manifest must not
/// rewrite or reorder what the reviewer sees).
fn printable(line: &str) -> String {
    // What error messages escape ([`crate::error::needs_escape`]), but a tab stays a tab.
    let escape = |c: char| c != '\t' && crate::error::needs_escape(c);
    if !line.chars().any(escape) {
        return line.to_string();
    }
    line.chars()
        .map(|c| {
            if escape(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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
        // The fingerprint of the decoded value, as `--redact-secrets` writes it.
        assert!(
            text.contains(&format!(
                "data.password: {} -> {}",
                fingerprint("secret"),
                fingerprint("other")
            )),
            "{text}"
        );
    }

    /// A render-like pair: the MongoDB and RabbitMQ passwords in Secrets and quoted in st2.conf.
    fn st2_render(mongo: &str, rabbit: &str) -> String {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: st2-mongodb\ndata:\n  mongodb-password: {}\n\
             ---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: st2-rabbitmq\nstringData:\n  rabbitmq-password: {rabbit}\n\
             ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: st2-st2-config\ndata:\n  st2.docker.conf: |\n\
             \x20   [auth]\n    api_url = http://st2-st2api:9101/\n    [messaging]\n\
             \x20   url = amqp://admin:{rabbit}@st2-rabbitmq:5672/\n    [database]\n\
             \x20   host = mongodb://st2-mongodb-0/st2\n    username = st2-admin\n    password = {mongo}\n\
             \x20   db_name = st2\n    port = 27017\n",
            b64(mongo)
        )
    }

    #[test]
    fn passwords_quoted_in_st2_conf_show_only_as_fingerprints_in_a_line_diff() {
        let old = st2_render("mongo-old-pw", "rabbit-old-pw");
        let new = st2_render("mongo-new-pw", "rabbit-new-pw");
        let text = diff(&old, &new, "a", "b").expect("diff").render();
        for password in [
            "mongo-old-pw",
            "rabbit-old-pw",
            "mongo-new-pw",
            "rabbit-new-pw",
        ] {
            assert!(!text.contains(password), "{password} leaked:\n{text}");
        }
        let print = fingerprint;
        assert_eq!(
            text,
            format!(
                "~ ConfigMap/st2-st2-config\n    \
                 data[\"st2.docker.conf\"]: 10 lines -> 10 lines\n      \
                 @@ -1,10 +1,10 @@\n       \
                 [auth]\n       \
                 api_url = http://st2-st2api:9101/\n       \
                 [messaging]\n      \
                 -url = amqp://admin:{ro}@st2-rabbitmq:5672/\n      \
                 +url = amqp://admin:{rn}@st2-rabbitmq:5672/\n       \
                 [database]\n       \
                 host = mongodb://st2-mongodb-0/st2\n       \
                 username = st2-admin\n      \
                 -password = {mo}\n      \
                 +password = {mn}\n       \
                 db_name = st2\n       \
                 port = 27017\n\
                 ~ Secret/st2-mongodb\n    data.mongodb-password: {mo} -> {mn}\n\
                 ~ Secret/st2-rabbitmq\n    stringData.rabbitmq-password: {ro} -> {rn}\n\
                 0 added, 0 removed, 3 changed\n",
                mo = print("mongo-old-pw"),
                mn = print("mongo-new-pw"),
                ro = print("rabbit-old-pw"),
                rn = print("rabbit-new-pw"),
            )
        );
    }

    #[test]
    fn a_secret_only_the_old_manifest_holds_is_hidden_on_both_sides() {
        // The password moved out of the Secret (into a plain ConfigMap, by mistake): the new
        // manifest holds no Secret with it, yet it was one in the old manifest.
        let old = st2_render("rotated-away-pw", "rabbit-pw");
        let new = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: st2-st2-config\n\
                   data:\n  st2.docker.conf: \"password = rotated-away-pw\"\n  \
                   env: \"MONGO_PASSWORD=rotated-away-pw\"\n";
        let text = diff(&old, new, "a", "b").expect("diff").render();
        assert!(!text.contains("rotated-away-pw"), "{text}");
        assert!(
            text.contains(&format!(
                "data.env: <absent> -> \"MONGO_PASSWORD={}\"",
                fingerprint("rotated-away-pw")
            )),
            "{text}"
        );
    }

    #[test]
    fn secrets_are_hidden_in_map_keys_numbers_lists_and_object_names() {
        let secret = "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n\
                      stringData:\n  token: tok3n-value\n  pin: \"7391\"\n  short: ab\n";
        let old = format!(
            "{secret}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {{}}\n"
        );
        let new = format!(
            "{secret}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  \
             labels: {{tok3n-value: x}}\ndata:\n  a: ab\n  b: cab\n  c: 7391\n  \
             d: [\"--token=tok3n-value\"]\n  e: \"x\\nab\\n\"\n---\napiVersion: v1\nkind: ConfigMap\n\
             metadata:\n  name: cfg-tok3n-value\n"
        );
        let text = diff(&old, &new, "a", "b").expect("diff").render();
        let (token, pin, short) = (
            fingerprint("tok3n-value"),
            fingerprint("7391"),
            fingerprint("ab"),
        );
        assert_eq!(
            text,
            format!(
                "+ ConfigMap/cfg-{token}\n\
                 ~ ConfigMap/c\n    \
                 data.a: <absent> -> \"{short}\"\n    \
                 data.b: <absent> -> \"cab\"\n    \
                 data.c: <absent> -> \"{pin}\"\n    \
                 data.d: <absent> -> [\"--token={token}\"]\n    \
                 data.e: <absent> -> 2 lines\n      @@ -0,0 +1,2 @@\n      +x\n      +{short}\n    \
                 metadata.labels: <absent> -> {{\"{token}\":\"x\"}}\n\
                 1 added, 0 removed, 1 changed\n"
            )
        );
        // A changed key inside an existing map: the key in the path is hidden.
        let with_labels = old.replace("name: c\n", "name: c\n  labels: {}\n");
        let text = diff(&with_labels, &new, "a", "b").expect("diff").render();
        assert!(
            text.contains(&format!("metadata.labels[\"{token}\"]: <absent> -> \"x\"")),
            "{text}"
        );
        assert!(!text.contains("tok3n"), "{text}");
    }

    #[test]
    fn a_multi_line_secret_is_hidden_whole_and_line_by_line() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\n\
                   b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
                   QyNTUxOQAAACCm6x7Nuqp3kTwOy+LaTAet50Abn7NH8EW7xJpucYvZ6gAAAJg07NM9NOzT\n\
                   -----END OPENSSH PRIVATE KEY-----\n";
        let secret = format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: ssh\nstringData:\n  private_key: {}\n",
            serde_json::to_string(key).expect("json")
        );
        let config = |text: &str| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  x: {}\n",
                serde_json::to_string(text).expect("json")
            )
        };
        let old = format!("{secret}{}", config("start\n"));
        let reindented: String = key.lines().map(|l| format!("    {l}\n")).collect();
        let new = format!(
            "{secret}{}",
            config(&format!("start\n{key}key: |\n{reindented}"))
        );
        let text = diff(&old, &new, "a", "b").expect("diff").render();
        assert!(!text.contains("b3BlbnNzaC1rZXkt"), "{text}");
        assert!(!text.contains("QyNTUxOQAAACCm6x7N"), "{text}");
        assert!(
            text.contains(&format!("      +{}key: |\n", fingerprint(key))),
            "the whole key (with its final newline) is one fingerprint: {text}"
        );
    }

    #[test]
    fn a_multi_line_string_added_or_removed_shows_all_its_lines() {
        let config = |data: &str| {
            format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:{data}\n")
        };
        let old = config(" {}");
        let new = config("\n  run.sh: \"#!/bin/sh\\necho hi\\n\"");
        let text = diff(&old, &new, "a", "b").expect("diff").render();
        assert_eq!(
            text,
            "~ ConfigMap/c\n    data[\"run.sh\"]: <absent> -> 2 lines\n      \
             @@ -0,0 +1,2 @@\n      +#!/bin/sh\n      +echo hi\n\
             0 added, 0 removed, 1 changed\n"
        );
        let back = diff(&new, &old, "a", "b").expect("diff").render();
        assert!(
            back.contains(
                "2 lines -> <absent>\n      @@ -1,2 +0,0 @@\n      -#!/bin/sh\n      -echo hi\n"
            ),
            "{back}"
        );
    }

    #[test]
    fn line_diff_hunks_keep_three_lines_of_context() {
        let old: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let new = old
            .replace("line 2\n", "line two\n")
            .replace("line 15\n", "")
            .replace("line 20\n", "line 20\nline 21\n");
        assert_eq!(
            line_diff(&old, &new),
            [
                "@@ -1,5 +1,5 @@",
                " line 1",
                "-line 2",
                "+line two",
                " line 3",
                " line 4",
                " line 5",
                "@@ -12,9 +12,9 @@",
                " line 12",
                " line 13",
                " line 14",
                "-line 15",
                " line 16",
                " line 17",
                " line 18",
                " line 19",
                " line 20",
                "+line 21",
            ]
        );
        assert_eq!(
            line_diff("a\nb", "a\nb\n"),
            ["(only the final newline differs)"]
        );
        assert_eq!(
            line_diff("a\rb\n", "a\rc\n"),
            ["@@ -1 +1 @@", "-a\rb", "+a\rc"]
        );
        assert_eq!(printable("a\rb\u{1b}[2J\tc"), "a\\rb\\u{1b}[2J\tc");
        assert_eq!(printable("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn huge_line_diffs_fall_back_to_line_counts() {
        let old: String = (0..3000).map(|n| format!("{n}\n")).collect();
        let new: String = (0..3000).map(|n| format!("x{n}\n")).collect();
        // Counted between the common first and last lines.
        let (old, new) = (
            format!("head\n{old}tail\n"),
            format!("head\n{new}x\ntail\n"),
        );
        assert_eq!(
            line_diff(&old, &new),
            ["(too many changes to show line by line: 3000 lines out, 3001 in)"]
        );
        // A small change in a long text is still compared line by line.
        let long: String = (0..100_000).map(|n| format!("{n}\n")).collect();
        let edited = long.replace("\n50000\n", "\nfifty thousand\n");
        assert_eq!(line_diff(&long, &edited).len(), 9);
    }

    #[test]
    fn values_that_hold_nothing_are_not_secrets() {
        let secrets = Secrets::collect(
            [serde_json::json!({"kind": "Secret", "data": {"keys": "bnVsbA==", "empty": ""}, "stringData": {"t": "true"}})]
                .iter(),
        );
        assert!(secrets.whole.is_empty(), "{secrets:?}");
        assert_eq!(secrets.hide("/dev/null true"), "/dev/null true");
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
