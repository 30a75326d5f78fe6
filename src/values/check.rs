//! Checking user values against the keys st2k8s knows, so typos don't vanish silently.
//!
//! Helm ignores `st2web.replica: 3`; st2k8s reports it with the file, line and the closest known
//! key. Known keys are the built-in defaults (chart and enabled backends), the optional keys the
//! chart reads but does not set by default ([`OPTIONAL`]), and the fields of list items the chart
//! reads ([`ITEM_FIELDS`]). Free-form maps (env, annotations, Kubernetes blocks, file contents…)
//! are not checked ([`FREE_FORM`]), nor is anything below a key whose default is not a map. A
//! top-level key that resembles no known key is the user's own data (values files often carry
//! settings that `tpl` strings reference, e.g. `{{ .Values.acme.certs_dir }}`) and passes.

use std::borrow::Cow;

use super::{Map, Origins, Value};

/// What a default value says about the values allowed at its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Map,
    List,
    Int,
    Float,
    Bool,
    Text,
    Any,
}

impl Shape {
    pub(super) fn of(default: &Value) -> Self {
        match default {
            Value::Map(_) => Shape::Map,
            Value::List(_) => Shape::List,
            Value::Int(_) => Shape::Int,
            Value::Float(_) => Shape::Float,
            Value::Bool(_) => Shape::Bool,
            Value::String(_) => Shape::Text,
            Value::Null => Shape::Any,
        }
    }
}

/// Keys read by the chart (or st2k8s) that have no default, each once, with the type its value
/// must have when that is known (checked by the type check as a default's type would be).
/// `*` matches one key.
pub(super) const OPTIONAL: &[(&str, Option<Shape>)] = &[
    ("nameOverride", None),
    ("dnsPolicy", None),
    ("image.pullSecret", None),
    ("serviceAccount.serviceAccountLabels", None),
    ("serviceAccount.pullSecret", None),
    ("st2.password", None),
    ("st2.existingAuthSecret", None),
    ("st2.existingDatastoreSecret", None),
    ("st2.existingConfigSecret", None),
    ("st2.datastore_crypto_key", None),
    ("st2.ssh_key", None),
    ("st2.ssh_key_type", None),
    ("st2.version", None),
    ("ingress.ingressClassName", None),
    ("st2web.config", None),
    ("*.image.tag", Some(Shape::Text)),
    ("*.image.repository", Some(Shape::Text)),
    ("*.image.name", Some(Shape::Text)),
    ("*.image.pullPolicy", Some(Shape::Text)),
    ("*.image.pullSecret", None),
    ("*.terminationGracePeriodSeconds", Some(Shape::Int)),
    ("*.podSecurityContext", Some(Shape::Map)),
    ("*.securityContext", Some(Shape::Map)),
    ("*.envFromSecrets", Some(Shape::List)),
    ("*.preStopSleep", None),
    ("jobs.ttlSecondsAfterFinished", Some(Shape::Int)),
    // st2k8s extensions, off by default.
    ("mongodb.flavor", Some(Shape::Text)),
    ("mongodb.official", Some(Shape::Map)),
    ("mongodb.official.version", Some(Shape::Text)),
    ("rabbitmq.flavor", Some(Shape::Text)),
    ("redis.flavor", Some(Shape::Text)),
    ("podDisruptionBudgets", Some(Shape::Map)),
    ("podDisruptionBudgets.enabled", Some(Shape::Bool)),
    ("podDisruptionBudgets.maxUnavailable", None),
    ("podDisruptionBudgets.minAvailable", None),
    ("podSecurity", Some(Shape::Text)),
    ("networkPolicy", Some(Shape::Map)),
    ("networkPolicy.enabled", Some(Shape::Bool)),
    ("networkPolicy.apiClients", Some(Shape::List)),
    ("networkPolicy.st2webClients", Some(Shape::List)),
    ("*.autoscaling", Some(Shape::Map)),
    ("*.autoscaling.enabled", Some(Shape::Bool)),
    ("*.autoscaling.minReplicas", Some(Shape::Int)),
    ("*.autoscaling.maxReplicas", Some(Shape::Int)),
    (
        "*.autoscaling.targetCPUUtilizationPercentage",
        Some(Shape::Int),
    ),
    (
        "*.autoscaling.targetMemoryUtilizationPercentage",
        Some(Shape::Int),
    ),
    // Legacy keys: recognised so the chart's "moved" errors can fire instead of a typo warning.
    ("secrets", None),
    ("st2.packs.image", None),
];

/// Subtrees whose keys are the user's own (maps of names, Kubernetes objects, file contents).
pub(super) const FREE_FORM: &[&str] = &[
    "*.env",
    "*.annotations",
    "*.nodeSelector",
    "*.tolerations",
    "*.affinity",
    "*.resources",
    "*.securityContext",
    "*.podSecurityContext",
    "*.service.annotations",
    "*.livenessProbe",
    "*.readinessProbe",
    "*.hostAliases",
    "*.hubotScriptsVolume",
    "podSecurityContext",
    "securityContext",
    "dnsConfig",
    "serviceAccount.serviceAccountAnnotations",
    "serviceAccount.serviceAccountLabels",
    "st2.overrides",
    "st2.packs.configs",
    "st2.packs.volumes.packs",
    "st2.packs.volumes.virtualenvs",
    "st2.packs.volumes.configs",
    "st2.rbac.roles",
    "st2.rbac.assignments",
    "st2.rbac.mappings",
    "st2.keyvalue",
    "st2.apikeys",
    "ingress.annotations",
    "ingress.hosts",
    "networkPolicy.apiClients",
    "networkPolicy.st2webClients",
    "ingress.tls",
    "secrets",
    // The bundled backends take many keys st2k8s passes over; their own checks report those.
    "mongodb",
    "rabbitmq",
    "redis",
    "external-dns",
    "global",
];

/// Fields of list items the chart reads: (list path, fields). Item paths use `[]`.
pub(super) const ITEM_FIELDS: &[(&str, &[&str])] = &[
    (
        "st2.packs.images",
        &[
            "repository",
            "name",
            "tag",
            "pullPolicy",
            "pullSecret",
            "securityContext",
        ],
    ),
    ("*.extra_volumes", &["name", "volume", "mount"]),
    (
        "jobs.extra_hooks",
        &[
            "name",
            "hook",
            "hook_weight",
            "command",
            "resources",
            "podSecurityContext",
            "securityContext",
        ],
    ),
];

/// How serious a [`Finding`] is: warnings become errors under `--strict`; notes are advice
/// that only `lint` shows, and stay notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

/// One problem found in user values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// Dotted key path (`st2web.replica`, list items as `[N]`).
    pub path: String,
    /// `file:line:col` where the user wrote it, when known.
    pub location: Option<String>,
    /// `(line, column)` inside the text of the value at `path` (an st2.conf or YAML file kept in
    /// a values key), both from 1; turned into `location` in the values file when the loader
    /// knows where the value's lines are.
    pub within: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{}: ", crate::error::printable(location))?;
        }
        write!(
            f,
            "`{}`: {}",
            crate::error::printable(&self.path),
            crate::error::printable(&self.message)
        )
    }
}

/// Does `path` match `pattern` (dot-separated, `*` = any one key)?
pub(super) fn matches(pattern: &str, path: &str) -> bool {
    // Called for every user key against every pattern, so it works on bytes and most patterns
    // are rejected at their first byte.
    let (mut p, mut k) = (pattern.as_bytes(), path.as_bytes());
    loop {
        if p.first() != Some(&b'*') && p.first() != k.first() {
            return false;
        }
        let p_end = p.iter().position(|&b| b == b'.').unwrap_or(p.len());
        let k_end = k.iter().position(|&b| b == b'.').unwrap_or(k.len());
        let (segment, key) = (&p[..p_end], &k[..k_end]);
        if segment != b"*" && segment != key {
            return false;
        }
        match (p.get(p_end + 1..), k.get(k_end + 1..)) {
            (None, None) => return true,
            (Some(p_rest), Some(k_rest)) => (p, k) = (p_rest, k_rest),
            _ => return false,
        }
    }
}

/// Is `key` the first key of an optional key ([`OPTIONAL`]) such as `networkPolicy`?
pub fn is_optional_top_level(key: &str) -> bool {
    OPTIONAL
        .iter()
        .any(|(p, _)| p.split('.').next() == Some(key))
}

/// Does `path` match an optional key ([`OPTIONAL`])?
fn is_optional(path: &str) -> bool {
    OPTIONAL.iter().any(|(p, _)| matches(p, path))
}

pub(super) fn any_match(patterns: &[&str], path: &str) -> bool {
    patterns.iter().any(|p| matches(p, path))
}

/// Report every key in `user` that st2k8s does not know. `defaults` is the built-in defaults
/// tree; one-sensor-per-pod entries (`st2.packs.sensors[]`) accept the st2sensorcontainer keys.
pub fn unknown_keys(user: &Map, defaults: &Map, origins: &Origins) -> Vec<Finding> {
    let mut findings = Vec::new();
    let ctx = Walk {
        root: defaults,
        origins,
        sensor_schema: std::cell::OnceCell::new(),
    };
    ctx.walk(user, Some(defaults), "", "", &mut findings);
    findings
}

/// What every step of the walk needs.
struct Walk<'a> {
    root: &'a Map,
    origins: &'a Origins,
    /// The keys of a one-sensor-per-pod entry, built at the first one.
    sensor_schema: std::cell::OnceCell<Map>,
}

impl Walk<'_> {
    /// `path` is the schema path (list items as `[]`), `shown` the user-facing path (items as `[N]`).
    fn walk(
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
            let default = defaults.and_then(|m| m.get(key)).and_then(Value::as_map);
            let known = defaults.is_some_and(|m| m.contains_key(key)) || is_optional(&child);
            if !known {
                let mut siblings: Vec<&str> = defaults
                    .into_iter()
                    .flat_map(|m| m.keys().map(String::as_str))
                    .collect();
                siblings.extend(optional_children(path));
                let suggestion = closest(key, &siblings);
                if path.is_empty() && suggestion.is_none() {
                    continue;
                }
                out.push(Finding {
                    severity: Severity::Warning,
                    location: self.origins.get(&child_shown).map(ToString::to_string),
                    within: None,
                    message: match suggestion {
                        Some(s) => format!("unknown key; did you mean `{}`?", join(shown, s)),
                        None => "unknown key; st2k8s ignores it".to_string(),
                    },
                    path: child_shown,
                });
                continue;
            }
            if any_match(FREE_FORM, &child) {
                continue;
            }
            match value {
                Value::Map(m) if default.is_some() || is_optional(&child) => {
                    self.walk(m, default, &child, &child_shown, out)
                }
                Value::List(items) => {
                    let fields = ITEM_FIELDS
                        .iter()
                        .find(|(p, _)| matches(p, &child))
                        .map(|(_, f)| *f);
                    let (schema, schema_path) = if child == "st2.packs.sensors" {
                        (self.sensor_schema(), "st2sensorcontainer".to_string())
                    } else if let Some(fields) = fields {
                        let schema = fields
                            .iter()
                            .map(|f| (f.to_string(), Value::Null))
                            .collect();
                        (Cow::Owned(schema), format!("{child}[]"))
                    } else {
                        continue;
                    };
                    for (i, item) in items.iter().enumerate() {
                        let Value::Map(m) = item else { continue };
                        let item_shown = format!("{child_shown}[{i}]");
                        self.walk(m, Some(&schema), &schema_path, &item_shown, out);
                    }
                }
                _ => {}
            }
        }
    }

    /// The keys of a one-sensor-per-pod entry: `name`, `ref`, plus any st2sensorcontainer key.
    fn sensor_schema(&self) -> Cow<'_, Map> {
        Cow::Borrowed(self.sensor_schema.get_or_init(|| {
            let mut schema = self
                .root
                .get("st2sensorcontainer")
                .and_then(Value::as_map)
                .cloned()
                .unwrap_or_default();
            schema.insert("name".into(), Value::Null);
            schema.insert("ref".into(), Value::Null);
            schema
        }))
    }
}

/// The last segment of every [`OPTIONAL`] key directly below `path`: the optional keys a typo
/// there may have meant.
fn optional_children(path: &str) -> impl Iterator<Item = &str> {
    OPTIONAL.iter().filter_map(move |(pattern, _)| {
        let (parent, last) = match pattern.rsplit_once('.') {
            Some((parent, last)) => (parent, last),
            None => ("", *pattern),
        };
        matches(parent, path).then_some(last)
    })
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The known key closest to `key`, if it is close enough to be a likely typo.
pub fn closest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&key.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_document;

    fn findings(text: &str) -> Vec<String> {
        let (user, origins) = parse_document(text, "custom.yaml").expect("parses");
        let (defaults, _) = parse_document(crate::values::DEFAULTS, "defaults").expect("defaults");
        unknown_keys(&user, &defaults, &origins)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn patterns_match_whole_segments() {
        for (pattern, path, want) in [
            ("*.image.tag", "st2web.image.tag", true),
            ("*.image.tag", "st2web.image", false),
            ("*.image.tag", "st2web.image.tag.x", false),
            ("*.env", "st2.packs.env", false),
            ("st2.keyvalue", "st2.keyvalue", true),
            ("st2.keyvalue", "st2.keyvalues", false),
            ("*", "anything", true),
            ("a.*.c", "a.b.c", true),
            ("a.*.c", "a.b", false),
            ("a.b", "", false),
            ("", "", true),
        ] {
            assert_eq!(matches(pattern, path), want, "{pattern} vs {path}");
        }
    }

    #[test]
    fn typos_are_reported_with_position_and_suggestion() {
        assert_eq!(
            findings("st2web:\n  replica: 3\n"),
            ["custom.yaml:2:3: `st2web.replica`: unknown key; did you mean `st2web.replicas`?"]
        );
    }

    #[test]
    fn known_optional_and_free_form_keys_pass() {
        let text = "st2:\n  password: x\n  packs:\n    configs:\n      mine.yaml: x\nst2web:\n  env:\n    ANYTHING: 1\n  image:\n    tag: x\nimage:\n  pullSecret: s\nmongodb:\n  whatever: 1\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }

    #[test]
    fn list_items_are_checked() {
        let found =
            findings("st2:\n  packs:\n    images:\n      - repository: r\n        nmae: n\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("`st2.packs.images[0].nmae`")
                && found[0].contains("`st2.packs.images[0].name`"),
            "{found:?}"
        );
    }

    #[test]
    fn sensor_entries_accept_sensorcontainer_keys() {
        assert_eq!(
            findings(
                "st2:\n  packs:\n    sensors:\n      - name: a\n        ref: p.s\n        resources: {}\n"
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            findings("st2:\n  packs:\n    sensors:\n      - name: a\n        refs: p.s\n").len(),
            1
        );
    }

    #[test]
    fn extension_keys_pass_and_their_typos_get_suggestions() {
        let text = "podSecurity: restricted\npodDisruptionBudgets:\n  enabled: true\n  minAvailable: 1\nst2api:\n  autoscaling:\n    enabled: true\n    minReplicas: 2\n    maxReplicas: 4\n    targetCPUUtilizationPercentage: 80\n    targetMemoryUtilizationPercentage: 80\n";
        assert_eq!(findings(text), Vec::<String>::new());
        assert_eq!(
            findings("podSecurty: restricted\n"),
            ["custom.yaml:1:1: `podSecurty`: unknown key; did you mean `podSecurity`?"]
        );
        assert_eq!(
            findings("podDisruptionBudgets:\n  maxUnavailabel: 1\n"),
            [
                "custom.yaml:2:3: `podDisruptionBudgets.maxUnavailabel`: unknown key; did you mean `podDisruptionBudgets.maxUnavailable`?"
            ]
        );
        let text = "networkPolicy:\n  enabled: true\n  apiClients:\n    - podSelector: {matchLabels: {a: b}}\n  st2webClients:\n    - ipBlock: {cidr: 10.0.0.0/8}\n";
        assert_eq!(findings(text), Vec::<String>::new());
        assert_eq!(
            findings("networkPolicy:\n  apiClient: []\n"),
            [
                "custom.yaml:2:3: `networkPolicy.apiClient`: unknown key; did you mean `networkPolicy.apiClients`?"
            ]
        );
        assert_eq!(
            findings("st2api:\n  autoscaling:\n    maxReplica: 3\n"),
            [
                "custom.yaml:3:5: `st2api.autoscaling.maxReplica`: unknown key; did you mean `st2api.autoscaling.maxReplicas`?"
            ]
        );
        assert_eq!(
            findings("st2api:\n  autoscalling: {}\n"),
            [
                "custom.yaml:2:3: `st2api.autoscalling`: unknown key; did you mean `st2api.autoscaling`?"
            ]
        );
    }

    #[test]
    fn unrelated_nested_keys_get_no_suggestion() {
        let found = findings("st2:\n  totallyunrelated: 1\n");
        assert!(
            found[0].ends_with("unknown key; st2k8s ignores it"),
            "{found:?}"
        );
    }

    #[test]
    fn top_level_user_data_for_templates_passes() {
        assert_eq!(findings("acme:\n  certs_dir: /x\n"), Vec::<String>::new());
        assert_eq!(findings("st2wb:\n  replicas: 1\n").len(), 1);
    }

    #[test]
    fn item_sub_blocks_are_free_form() {
        let text = "jobs:\n  extra_volumes:\n    - name: v\n      mount:\n        mountPath: /x\n      volume:\n        configMap:\n          name: c\n";
        assert_eq!(findings(text), Vec::<String>::new());
    }
}
