//! Values keys the user set that nothing read: derived from the render's read log.
//!
//! Every builder reads values through [`crate::values::View`]s, which log each node they consume
//! (a consumed node counts with everything below it; `tpl` strings log the `.Values` chains they
//! evaluate). After a successful render, the keys of the user's own layers (`-f` files and
//! `--set*`, not the built-in defaults) are walked down to their leaves: a leaf is read when it,
//! an ancestor or a node below it was consumed. The others are reported, so a key that the chart
//! or a bundled backend passes over is never ignored silently, and no list of supported keys has
//! to be kept next to the code that reads them.
//!
//! Not reported: keys below a section switched off (`enabled` or `create` false: a disabled
//! backend, `st2chatops`, `ingress`, a PodDisruptionBudget not created …), whose keys are
//! legitimately unread; settings a builder passes over because they apply only under a condition
//! that is off ([`crate::values::View::pass_over`]); top-level keys st2k8s does not
//! know (the user's own data, referenced from `tpl` strings or nowhere); keys the user set to
//! null that removed a default (nothing is left to read); keys set to their built-in default
//! (they change nothing).

use crate::render::ctx::Ctx;
use crate::values::check::{Finding, Severity};
use crate::values::{Reads, Value};

/// What a missing default reads as.
static NULL: Value = Value::Null;

/// The bundled backends: values key and the name messages give it.
const BACKENDS: [(&str, &str); 4] = [
    ("mongodb", "MongoDB"),
    ("rabbitmq", "RabbitMQ"),
    ("redis", "Redis"),
    ("external-dns", "external-dns"),
];

/// A warning for every leaf of `user` (the user's layers stacked) that the render did not read.
pub fn findings(ctx: &Ctx, user: &Value) -> Vec<Finding> {
    unread_keys(ctx, user)
        .into_iter()
        .map(|path| {
            let top = path.split('.').next().unwrap_or_default();
            let official = |backend: &str| {
                matches!(
                    crate::render::backends::Flavor::of(ctx, backend),
                    Ok(crate::render::backends::Flavor::Official)
                )
            };
            let message = match BACKENDS.iter().find(|(key, _)| *key == top) {
                // A key of the chart's bitnami backend that the maintained image has no use for.
                Some((key, name)) if *key != "external-dns" && official(key) => format!(
                    "does not apply to `{key}.flavor: official` (a setting of the chart's bitnami {name}); ignored"
                ),
                Some((_, name)) => format!("not implemented by st2k8s's built-in {name}; ignored"),
                None => "not read by the chart or st2k8s; ignored".to_string(),
            };
            Finding {
                severity: Severity::Warning,
                path,
                location: None,
                within: None,
                message,
            }
        })
        .collect()
}

/// The dotted paths of the leaves of `user` nothing read, in key order.
pub fn unread_keys(ctx: &Ctx, user: &Value) -> Vec<String> {
    let merged = ctx.values.peek();
    let mut out = Vec::new();
    for (key, child) in user.entries() {
        if !known_top_level(key) {
            continue;
        }
        // The parent's `global` reaches the enabled subcharts as a copy in their sections; a
        // global key is read when any copy of it is.
        let mut nodes = vec![merged.key(key)];
        if key == "global" {
            nodes.extend(
                BACKENDS
                    .iter()
                    .map(|(backend, _)| merged.key(backend).key("global"))
                    .filter(|g| !g.is_null()),
            );
        }
        let default = match BACKENDS.iter().any(|(backend, _)| backend == key) {
            true => crate::render::backends::default_section(key),
            false => crate::values::builtin().map_or(&NULL, |b| b.key(key)),
        };
        walk(
            &mut key.clone(),
            child,
            default,
            &nodes,
            &ctx.reads,
            &mut out,
        );
    }
    out
}

/// Is `key` a top-level key st2k8s knows (a built-in default or an optional key)? Any other is
/// the user's own data.
fn known_top_level(key: &str) -> bool {
    crate::values::builtin().is_ok_and(|b| b.as_map().is_some_and(|m| m.contains_key(key)))
        || crate::values::check::is_optional_top_level(key)
}

/// Collect into `out` the leaves below `user` (at `path`) that nothing read; `default` is the
/// built-in default there, `merged` are the merged values nodes at the same path (several for
/// `global`). A key set to its default changes nothing, so it is not reported either.
fn walk(
    path: &mut String,
    user: &Value,
    default: &Value,
    merged: &[&Value],
    reads: &Reads,
    out: &mut Vec<String>,
) {
    if user == default || merged.iter().any(|m| reads.contains(m)) {
        return;
    }
    // A section switched off: nothing below it is meant to be read.
    let off = |map: &crate::values::Map| {
        ["enabled", "create"]
            .iter()
            .any(|switch| map.get(*switch).is_some_and(|on| !on.truthy()))
    };
    if merged.iter().any(|m| m.as_map().is_some_and(off)) {
        return;
    }
    match user {
        Value::Map(map) if !map.is_empty() => {
            for (key, child) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                let below: Vec<&Value> = merged
                    .iter()
                    .filter_map(|m| m.as_map().and_then(|map| map.get(key)))
                    .collect();
                // A null that removed a default leaves nothing to read.
                if !below.is_empty() {
                    walk(path, child, default.key(key), &below, reads, out);
                }
                path.truncate(len);
            }
        }
        _ => {
            if !merged.iter().any(|m| reads.any_below(m)) {
                out.push(path.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::test_support::unread;

    /// `st2api.preStopSleep` is a known key (no typo warning), but the chart reads it only
    /// next to `st2api.postStartScript`: set alone, it is reported, though no list names it.
    #[test]
    fn a_known_key_nothing_reads_is_reported() {
        assert_eq!(
            unread("st2api: {preStopSleep: 30}\n"),
            ["st2api.preStopSleep"]
        );
        assert!(unread("st2api: {preStopSleep: 30, postStartScript: 'echo hi'}\n").is_empty());
        // Set to its default it changes nothing.
        assert!(unread("st2api: {preStopSleep: '10'}\n").is_empty());
    }

    /// A key read only by a `tpl` string counts as read.
    #[test]
    fn keys_templates_read_are_read() {
        assert!(
            unread("st2api: {preStopSleep: 30}\nst2:\n  config: '# {{ .Values.st2api.preStopSleep }}'\n")
                .is_empty()
        );
    }

    /// Switched-off sections, the user's own top-level keys, globals the backends read through
    /// their copy, and keys whose ancestor was read whole are not reported.
    #[test]
    fn what_is_not_reported() {
        for yaml in [
            "st2chatops: {enabled: false, env: {HUBOT_ADAPTER: slack}}\n",
            "acme: {certs_dir: /certs}\n",
            "global: {imageRegistry: reg.example}\n",
            "st2web: {annotations: {a: b}}\n",
            "st2api: {image: {}}\n",
            "redis: {enabled: false, podSecurityPolicy: {create: true}}\n",
            // Read by the checks that run before the builders.
            "st2: {ssh_key_type: ed25519}\npodSecurity: restricted\n",
            // Settings of a condition that is off: passed over, as the chart does.
            "mongodb: {architecture: standalone, replicaSetName: rs1, pdb: {create: true}}\n",
            "rabbitmq: {service: {tlsPort: 1234, metricsPort: 9999}, pdb: {minAvailable: 2}}\n",
            "redis: {sentinel: {livenessProbe: {enabled: true}, customLivenessProbe: {exec: {command: [a]}}}}\n",
            "external-dns: {enabled: true, provider: aws, google: {project: p}}\n",
        ] {
            assert_eq!(unread(yaml), Vec::<String>::new(), "{yaml}");
        }
    }

    #[test]
    fn backend_keys_keep_their_message() {
        let layers = [crate::values::Layer::File {
            name: "test.yaml".into(),
            text: "redis: {podSecurityPolicy: {create: true}}\nst2web: {preStopSleep: 1}\n".into(),
        }];
        let loaded = crate::values::load(&layers).expect("test values load");
        let release = crate::release::Release {
            name: "st2".into(),
            namespace: "ns".into(),
        };
        let checked =
            crate::findings::check(&loaded, &release, &crate::render::Options::default(), false);
        let lines: Vec<String> = checked
            .findings
            .iter()
            .filter(|f| f.message.ends_with("ignored"))
            .map(crate::findings::line)
            .collect();
        assert_eq!(
            lines,
            [
                "warning: test.yaml:1:29: `redis.podSecurityPolicy.create`: not implemented by st2k8s's built-in Redis; ignored",
                "warning: test.yaml:2:10: `st2web.preStopSleep`: not read by the chart or st2k8s; ignored",
            ]
        );
    }
}
