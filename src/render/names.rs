//! Object names and label values checked against what Kubernetes accepts, once every object is
//! built and before anything is written.
//!
//! Names come from the release name and from values (extra hook names, sensor names, the
//! backends' `fullnameOverride`/`nameOverride`, service account names). Kubernetes rejects a
//! name with a `/` or an uppercase letter, and several kinds need names shorter than the 253
//! characters of a DNS subdomain, because the name reappears in a label value or a host name
//! (at most 63 characters). Without this check such a render would fail at `kubectl apply`, or
//! worse, `--output-dir` would write `<kind>-<name>.yaml` somewhere else.
//!
//! A builder whose object name contains a values string records it with
//! [`Object::named_by`](super::Object::named_by), so a bad name is reported with the key that
//! formed it. The release name is checked here too: the longest usable release is worked out
//! from the names just rendered (each name's length beyond the release, against its kind's
//! limit), so it follows the values and the target without a second render.

use std::fmt;

use anyhow::{Result, bail};
use serde_json::Value as Json;

use super::target::Target;
use crate::object::{NameSource, Object};
use crate::values::{Value, View};

/// What a name must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// DNS-1123 subdomain: `.`-separated DNS-1123 labels.
    Subdomain,
    /// DNS-1123 label: lowercase letters, digits and `-`, starting and ending alphanumeric.
    Label,
    /// DNS-1035 label: a DNS-1123 label that starts with a letter.
    Dns1035,
}

/// The shape and the greatest length Kubernetes accepts for names of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    shape: Shape,
    max: usize,
}

/// The most a label value (and a DNS label) may hold.
const LABEL_MAX: usize = 63;

/// The rule for names of `kind`:
/// - Services are DNS-1035 labels (they become DNS names; 63 characters).
/// - StatefulSets are DNS-1123 labels, and each pod carries the label
///   `controller-revision-hash: <name>-<hash of up to 10 characters>`: at most 52 characters.
/// - CronJobs: the Jobs they create are named `<name>-<11 characters>`: at most 52, as the API
///   server enforces.
/// - Jobs: each pod carries the label `job-name: <name>`: at most 63.
/// - Everything else is a DNS-1123 subdomain (253).
pub fn rule(kind: &str) -> Rule {
    match kind {
        "Service" => Rule {
            shape: Shape::Dns1035,
            max: LABEL_MAX,
        },
        "StatefulSet" => Rule {
            shape: Shape::Label,
            max: 52,
        },
        "CronJob" => Rule {
            shape: Shape::Subdomain,
            max: 52,
        },
        "Job" => Rule {
            shape: Shape::Subdomain,
            max: LABEL_MAX,
        },
        _ => Rule {
            shape: Shape::Subdomain,
            max: 253,
        },
    }
}

/// Why `name` breaks `rule` for names of `kind`, or `None` when it is valid.
pub fn name_problem(name: &str, kind: &str, rule: Rule) -> Option<String> {
    let allowed = match rule.shape {
        Shape::Subdomain => "lowercase letters, digits, `-` and `.`",
        Shape::Label | Shape::Dns1035 => "lowercase letters, digits and `-`",
    };
    if name.is_empty() {
        return Some("it is empty".into());
    }
    let char_ok = |b: u8| {
        b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || b == b'-'
            || (b == b'.' && rule.shape == Shape::Subdomain)
    };
    if !name.bytes().all(char_ok) {
        return Some(allowed.into());
    }
    let alnum = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ends_ok = name
        .split('.')
        .all(|part| alnum(part.bytes().next()) && alnum(part.bytes().last()));
    if !ends_ok {
        return Some(match rule.shape {
            Shape::Subdomain => format!(
                "{allowed}, each `.`-separated part starting and ending with a letter or digit"
            ),
            _ => format!("{allowed}, starting and ending with a letter or digit"),
        });
    }
    if rule.shape == Shape::Dns1035 && !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some(format!(
            "{allowed}, starting with a letter: {kind} names are DNS names"
        ));
    }
    if name.len() > rule.max {
        return Some(format!(
            "{} characters, at most {} for {kind} names",
            name.len(),
            rule.max
        ));
    }
    None
}

/// Why `value` is not a valid label value, or `None` when it is: at most 63 characters of
/// letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit (or empty).
pub fn label_value_problem(value: &str) -> Option<&'static str> {
    let chars_ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let ends_ok = value.is_empty()
        || (value
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && value
                .bytes()
                .last()
                .is_some_and(|b| b.is_ascii_alphanumeric()));
    (value.len() > LABEL_MAX || !chars_ok || !ends_ok).then_some(
        "at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
    )
}

/// The release name on its own, before anything is rendered: the characters of a DNS-1123
/// label, starting with a letter because it starts every Service name. Its length is checked
/// against the rendered names by [`check`].
pub fn check_release(release: &str) -> Result<()> {
    if release.is_empty() {
        bail!("the release name is empty");
    }
    if release.starts_with(|c: char| c.is_ascii_digit()) {
        bail!(
            "release name `{release}` starts with a digit: it starts every Service name \
             (`{release}-st2api`), and Service names must start with a letter"
        );
    }
    let shape_only = Rule {
        shape: Shape::Label,
        max: usize::MAX,
    };
    if let Some(reason) = name_problem(release, "release", shape_only) {
        bail!("invalid release name `{release}`: use {reason}");
    }
    Ok(())
}

/// The namespace the release runs in: a DNS-1123 label (at most 63 characters).
pub fn check_namespace(namespace: &str) -> Result<()> {
    let label = Rule {
        shape: Shape::Label,
        max: LABEL_MAX,
    };
    if let Some(reason) = name_problem(namespace, "Namespace", label) {
        bail!("invalid namespace `{namespace}`: {reason}");
    }
    Ok(())
}

/// Values keys whose strings are whole object names or are used as names of objects the pods
/// refer to (a ServiceAccount that is not created here must still be a valid name).
const NAME_KEYS: &[&str] = &[
    "serviceAccount.serviceAccountName",
    "mongodb.serviceAccount.name",
    "rabbitmq.serviceAccount.name",
    "redis.serviceAccount.name",
    "external-dns.serviceAccount.name",
];

/// The values that name objects on their own, before anything is built.
pub fn check_values(values: &View) -> Result<()> {
    for key in NAME_KEYS {
        let Some(name) = values.at(key).non_empty().map(Value::to_go_string) else {
            continue;
        };
        if let Some(reason) = name_problem(&name, "ServiceAccount", rule("ServiceAccount")) {
            return Err(InvalidNames::one(
                key,
                format!("`{key}`: `{name}` is not a valid Kubernetes name ({reason})"),
            )
            .into());
        }
    }
    Ok(())
}

/// Names or label values Kubernetes would reject: the render's error. Each message names the
/// values key that formed the name when one did; rendering never sees the values files, so the
/// caller that loaded them adds where each key was written ([`InvalidNames::locate`]), and the
/// messages read `file:line:col: key: …` like every other finding about the values.
#[derive(Debug)]
pub struct InvalidNames {
    problems: Vec<Invalid>,
}

#[derive(Debug)]
struct Invalid {
    /// The values key that formed the name or label, when one did.
    key: Option<String>,
    /// Where that key was written, once [`InvalidNames::locate`] found it.
    location: Option<String>,
    message: String,
}

impl InvalidNames {
    fn one(key: &str, message: String) -> Self {
        Self {
            problems: vec![Invalid {
                key: Some(key.to_string()),
                location: None,
                message,
            }],
        }
    }

    /// Give each message formed by a values key the location `at` knows for that key.
    pub fn locate(&mut self, at: impl Fn(&str) -> Option<String>) {
        for problem in &mut self.problems {
            if let Some(key) = &problem.key {
                problem.location = at(key);
            }
        }
    }
}

impl fmt::Display for InvalidNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self
            .problems
            .iter()
            .map(|p| match &p.location {
                Some(location) => format!("{location}: {}", p.message),
                None => p.message.clone(),
            })
            .collect();
        match lines.as_slice() {
            [only] => f.write_str(only),
            all => write!(
                f,
                "{} invalid names or labels:\n  {}",
                all.len(),
                all.join("\n  ")
            ),
        }
    }
}

impl std::error::Error for InvalidNames {}

/// Every rendered object's name and label values; the release name's length against the names
/// it gives. `objects` are rendered for `release` with `target`.
pub fn check(objects: &[Object], release: &str, target: Target) -> Result<()> {
    check_release_length(objects, release, target)?;
    let mut problems: Vec<Problem> = Vec::new();
    for object in objects {
        let mut own: Vec<Problem> = Vec::new();
        for problem in object_problems(object, target) {
            if !own.iter().any(|p| p.same_cause(&problem)) {
                own.push(problem);
            }
        }
        // One message per values key (a bad hook name breaks its Job's name and labels alike)
        // and per bad label (a bad image tag is in every object's labels).
        for problem in own {
            match problems.iter_mut().find(|p| p.same_cause(&problem)) {
                Some(first) => first.others += 1,
                None => problems.push(problem),
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let problems = problems
        .iter()
        .map(|p| Invalid {
            key: p.source.map(|s| s.key.clone()),
            location: None,
            message: p.message(),
        })
        .collect();
    Err(InvalidNames { problems }.into())
}

/// One name or label value Kubernetes would reject.
struct Problem<'a> {
    kind: &'a str,
    /// The object's name as shown (a kubectl Job's hash as `<hash>`).
    name: String,
    /// The values key and string that caused it, when known.
    source: Option<&'a NameSource>,
    /// `None` for the name, else the label's key and value.
    label: Option<(&'a str, &'a str)>,
    reason: String,
    /// How many more objects have the same problem.
    others: usize,
}

impl Problem<'_> {
    fn same_cause(&self, other: &Problem) -> bool {
        match (self.source, other.source) {
            (Some(a), Some(b)) => a.key == b.key,
            (None, None) => self.label.is_some() && self.label == other.label,
            _ => false,
        }
    }

    fn message(&self) -> String {
        let Self { kind, name, .. } = self;
        let others = match self.others {
            0 => String::new(),
            1 => " and 1 other object".to_string(),
            n => format!(" and {n} other objects"),
        };
        let reason = &self.reason;
        match (self.source, self.label) {
            (Some(s), None) => format!(
                "`{}`: `{}` gives {kind} name `{name}`, which is not a valid Kubernetes name \
                 ({reason})",
                s.key, s.value
            ),
            (Some(s), Some((label, value))) => format!(
                "`{}`: `{}` gives {kind} `{name}`{others} the label `{label}: {value}`, which is \
                 not a valid Kubernetes label value ({reason})",
                s.key, s.value
            ),
            (None, None) => {
                format!("the {kind} name `{name}` is not a valid Kubernetes name ({reason})")
            }
            (None, Some((label, value))) => format!(
                "{kind} `{name}`{others}: the label `{label}: {value}` is not a valid Kubernetes \
                 label value ({reason})"
            ),
        }
    }
}

/// The problems of one object's name and labels.
fn object_problems(object: &Object, target: Target) -> Vec<Problem<'_>> {
    let kind = object.kind.as_str();
    let name = shown_name(object, target);
    let source = object.name_source.as_ref();
    let mut out = Vec::new();
    if let Some(reason) = name_problem(&object.name, kind, rule(kind)) {
        out.push(Problem {
            kind,
            name: name.clone(),
            source,
            label: None,
            reason,
            others: 0,
        });
    }
    for_each_label(object.body(), &mut |label, value| {
        if let Some(reason) = label_value_problem(value) {
            out.push(Problem {
                kind,
                name: name.clone(),
                source: source.filter(|s| value.contains(s.value.as_str())),
                label: Some((label, value)),
                reason: reason.to_string(),
                others: 0,
            });
        }
    });
    out
}

/// An object's name for messages: under `--target kubectl` a Job's name ends in a hash of its
/// inputs, which changes with them, so the message shows where it goes rather than its value.
fn shown_name(object: &Object, target: Target) -> String {
    match object.name.rsplit_once('-') {
        Some((stem, hash))
            if target == Target::Kubectl && object.kind == "Job" && hash.len() == 8 =>
        {
            format!("{stem}-<hash>")
        }
        _ => object.name.clone(),
    }
}

/// Call `f` with every label of `body`: `labels` and `matchLabels` maps anywhere (metadata, pod
/// templates, claim templates, selectors, affinity terms) and a Service's `spec.selector`.
fn for_each_label<'a>(body: &'a Json, f: &mut impl FnMut(&'a str, &'a str)) {
    fn walk<'a>(node: &'a Json, f: &mut impl FnMut(&'a str, &'a str)) {
        match node {
            Json::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("labels" | "matchLabels", Json::Object(labels)) => {
                            for (label, value) in labels {
                                if let Json::String(value) = value {
                                    f(label, value);
                                }
                            }
                        }
                        (_, Json::Object(_) | Json::Array(_)) => walk(value, f),
                        _ => {}
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|item| walk(item, f)),
            _ => {}
        }
    }
    walk(body, f);
    if body.get("kind").and_then(Json::as_str) == Some("Service")
        && let Some(selector) = body.pointer("/spec/selector").and_then(Json::as_object)
    {
        for (label, value) in selector {
            if let Json::String(value) = value {
                f(label, value);
            }
        }
    }
}

/// Fail when the release name is too long for some object named after it, saying how long it
/// may be: for each object named `<release>-…` from no values string, its kind's limit minus the
/// characters after the release; the release is also the value of the
/// `app.kubernetes.io/instance` label.
fn check_release_length(objects: &[Object], release: &str, target: Target) -> Result<()> {
    let prefix = format!("{release}-");
    let tightest = objects
        .iter()
        .filter(|o| o.name_source.is_none() && o.name.starts_with(&prefix))
        .map(|o| {
            let limit = rule(&o.kind).max;
            let fits = (limit + release.len()).saturating_sub(o.name.len());
            (fits, limit, o)
        })
        .min_by_key(|(fits, ..)| *fits);
    let fits = tightest.map_or(LABEL_MAX, |(fits, ..)| fits.min(LABEL_MAX));
    if release.len() <= fits {
        return Ok(());
    }
    let head = format!(
        "release name `{release}` ({} characters) is too long for these values",
        release.len()
    );
    match tightest {
        Some((_, limit, object)) if object.name.len() > limit => {
            let shown = shown_name(object, target);
            bail!(
                "{head}: the {} `{shown}` would have {} characters, more than the {limit} \
                 Kubernetes allows; at most {fits} characters fit",
                object.kind,
                object.name.len(),
            )
        }
        _ => bail!(
            "{head}: it is the value of the label `app.kubernetes.io/instance`, which has at most \
             {LABEL_MAX} characters; at most {fits} characters fit"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(name: &str, kind: &str) -> Option<String> {
        name_problem(name, kind, rule(kind))
    }

    #[test]
    fn subdomain_names() {
        for good in ["a", "st2-st2api", "a.b-c.d", "0abc", &"a".repeat(253)] {
            assert_eq!(problem(good, "ConfigMap"), None, "{good}");
        }
        let chars = "lowercase letters, digits, `-` and `.`";
        let ends = "lowercase letters, digits, `-` and `.`, each `.`-separated part starting and ending with a letter or digit";
        for (bad, want) in [
            ("", "it is empty".to_string()),
            ("x/../../pwned", chars.to_string()),
            ("St2", chars.to_string()),
            ("st2_x", chars.to_string()),
            ("-st2", ends.to_string()),
            ("st2-", ends.to_string()),
            ("a..b", ends.to_string()),
            (".a", ends.to_string()),
            (
                &"a".repeat(254),
                "254 characters, at most 253 for ConfigMap names".to_string(),
            ),
        ] {
            assert_eq!(
                problem(bad, "ConfigMap").as_deref(),
                Some(want.as_str()),
                "{bad}"
            );
        }
    }

    #[test]
    fn label_limits_per_kind() {
        let at = |n: usize| "a".repeat(n);
        assert_eq!(problem(&at(63), "Job"), None);
        assert_eq!(
            problem(&at(64), "Job").as_deref(),
            Some("64 characters, at most 63 for Job names")
        );
        assert_eq!(problem(&at(63), "Service"), None);
        assert_eq!(
            problem(&at(64), "Service").as_deref(),
            Some("64 characters, at most 63 for Service names")
        );
        assert_eq!(problem(&at(52), "StatefulSet"), None);
        assert_eq!(
            problem(&at(53), "StatefulSet").as_deref(),
            Some("53 characters, at most 52 for StatefulSet names")
        );
        assert_eq!(problem(&at(52), "CronJob"), None);
        assert_eq!(problem(&at(53), "CronJob").map(|_| ()), Some(()));
        assert_eq!(problem(&at(64), "Deployment"), None);
        assert_eq!(problem("a.b", "Job"), None);
        assert_eq!(
            problem("a.b", "StatefulSet").as_deref(),
            Some("lowercase letters, digits and `-`")
        );
    }

    #[test]
    fn service_names_start_with_a_letter() {
        assert_eq!(problem("st2-st2api", "Service"), None);
        assert_eq!(
            problem("1st2-st2api", "Service").as_deref(),
            Some(
                "lowercase letters, digits and `-`, starting with a letter: Service names are DNS names"
            )
        );
        assert_eq!(problem("1st2-st2api", "Deployment"), None);
    }

    #[test]
    fn label_values() {
        for good in ["", "a", "3.8", "St2_x-1.0", &"a".repeat(63)] {
            assert_eq!(label_value_problem(good), None, "{good}");
        }
        for bad in [&"a".repeat(64), "-a", "a.", "a/b", "3.8@sha256:00", "a b"] {
            assert!(label_value_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn release_names() {
        assert!(check_release("st2").is_ok());
        assert!(check_release("my-st2-2").is_ok());
        // Length is checked against the rendered names, not here.
        assert!(check_release(&"a".repeat(80)).is_ok());
        assert_eq!(
            check_release("1st2").map_err(|e| e.to_string()),
            Err("release name `1st2` starts with a digit: it starts every Service name (`1st2-st2api`), and Service names must start with a letter".into())
        );
        for bad in [
            "",
            "St2",
            "st2-",
            "-st2",
            "st_2",
            "st2.prod",
            &format!("{}_", "a".repeat(70)),
        ] {
            assert!(check_release(bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_release("St2").map_err(|e| e.to_string()),
            Err("invalid release name `St2`: use lowercase letters, digits and `-`".into())
        );
    }

    fn object(kind: &str, name: &str) -> Object {
        Object::from_json(
            "v1",
            kind,
            name.into(),
            serde_json::json!({"kind": kind, "metadata": {"name": name}}),
        )
    }

    #[test]
    fn release_length_follows_the_rendered_names() {
        let release = "a".repeat(30);
        let objects = [
            object("Service", &format!("{release}-st2api")),
            object(
                "Job",
                &format!("{release}-job-st2-register-content-0123abcd"),
            ),
        ];
        let err = check(&objects, &release, Target::Kubectl).map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err(format!(
                "release name `{release}` (30 characters) is too long for these values: the Job \
                 `{release}-job-st2-register-content-<hash>` would have 64 characters, more than \
                 the 63 Kubernetes allows; at most 29 characters fit"
            ))
        );
        let release = "a".repeat(29);
        let objects = [object(
            "Job",
            &format!("{release}-job-st2-register-content-0123abcd"),
        )];
        assert!(check(&objects, &release, Target::Kubectl).is_ok());
    }

    #[test]
    fn names_from_values_name_their_key() {
        let objects = [object("Job", "st2-job-extra-helm-hook-x/y")
            .named_by("jobs.extra_hooks[0].name", "x/y")];
        assert_eq!(
            check(&objects, "st2", Target::Argocd).map_err(|e| e.to_string()),
            Err("`jobs.extra_hooks[0].name`: `x/y` gives Job name `st2-job-extra-helm-hook-x/y`, which is not a valid Kubernetes name (lowercase letters, digits, `-` and `.`)".into())
        );
        // A long values string is blamed, not the release.
        let long = "h".repeat(60);
        let objects = [
            object("Job", &format!("st2-job-{long}")).named_by("jobs.extra_hooks[0].name", &long)
        ];
        assert_eq!(
            check(&objects, "st2", Target::Argocd).map_err(|e| e.to_string()),
            Err(format!(
                "`jobs.extra_hooks[0].name`: `{long}` gives Job name `st2-job-{long}`, which is \
                 not a valid Kubernetes name (68 characters, at most 63 for Job names)"
            ))
        );
    }
}
