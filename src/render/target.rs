//! How setup Jobs are applied: `--target kubectl` (default) or `--target argocd`.
//!
//! The chart's Jobs are Helm hooks. Plain `kubectl apply` knows no hooks, and a Job's pod template
//! is immutable, so re-applying a changed Job fails: for `kubectl` each Job's name gets a short
//! hash of its pod template and of the rendered ConfigMaps/Secrets it reads (same inputs → same
//! name, changed inputs → a new Job), Helm hook annotations are dropped, and
//! `jobs.ttlSecondsAfterFinished` (st2k8s extension) lets finished Jobs expire.
//! For `argocd` names stay fixed and the Helm hooks become Argo CD hooks with sync waves.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use anyhow::Result;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::object::Object;
use crate::object::{SharedItems, Spliced};

/// Where the rendered manifests are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Target {
    /// `kubectl apply`: content-hashed Job names, no hook annotations
    #[default]
    Kubectl,
    /// Argo CD: fixed Job names with Argo CD hook annotations and sync waves
    Argocd,
}

const HOOK: &str = "helm.sh/hook";
const HOOK_WEIGHT: &str = "helm.sh/hook-weight";

/// A setup Job: a Job the chart makes a Helm hook (every Job it renders). The `helm test` Pod is
/// a hook too, but has its own switch (`--include-tests`).
pub fn is_setup_hook(object: &Object) -> bool {
    object.kind == "Job"
        && object
            .body()
            .pointer("/metadata/annotations")
            .and_then(Json::as_object)
            .is_some_and(|a| a.contains_key(HOOK))
}

/// Rewrite every Job for `target`. `ttl` is `jobs.ttlSecondsAfterFinished`, if set.
pub fn apply(target: Target, objects: &mut [Object], ttl: Option<i64>) -> Result<()> {
    // Hashes first: they read the other objects, which the loop below cannot while it edits Jobs.
    let sources: BTreeMap<(&str, &str), &Json> = objects
        .iter()
        .filter(|o| o.kind == "ConfigMap" || o.kind == "Secret")
        .map(|o| ((o.kind.as_str(), o.name.as_str()), o.body()))
        .collect();
    let mut shared = SharedInputs::default();
    let suffixes: Vec<Option<String>> = objects
        .iter()
        .map(|o| {
            (target == Target::Kubectl && o.kind == "Job")
                .then(|| input_hash(o, &sources, &mut shared))
                .transpose()
        })
        .collect::<Result<_>>()?;
    drop(sources);
    for (object, suffix) in objects.iter_mut().zip(suffixes) {
        if object.kind != "Job" {
            continue;
        }
        let annotations = take_helm_annotations(object.body_mut());
        let hook = annotations
            .get(HOOK)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let weight = annotations
            .get(HOOK_WEIGHT)
            .and_then(Json::as_str)
            .unwrap_or("0")
            .to_string();
        if let (Some(ttl), Some(spec)) = (
            ttl,
            object
                .body_mut()
                .get_mut("spec")
                .and_then(Json::as_object_mut),
        ) {
            spec.insert("ttlSecondsAfterFinished".into(), Json::from(ttl));
        }
        match target {
            Target::Kubectl => {
                let suffix = suffix.unwrap_or_default();
                let name = format!("{}-{suffix}", object.name);
                object.rename(name);
            }
            Target::Argocd => {
                let phase = if hook.contains("pre-") {
                    "PreSync"
                } else {
                    "PostSync"
                };
                let Some(meta) = metadata(object.body_mut()) else {
                    continue;
                };
                let annotations = meta
                    .entry("annotations")
                    .or_insert_with(|| Json::Object(Map::new()));
                if !annotations.is_object() {
                    *annotations = Json::Object(Map::new());
                }
                if let Some(map) = annotations.as_object_mut() {
                    // Argo CD annotations the user set in `jobs.annotations` win, as they do
                    // over Helm hooks when Argo CD renders the chart itself.
                    for (key, value) in [
                        ("argocd.argoproj.io/hook", phase.to_string()),
                        (
                            "argocd.argoproj.io/hook-delete-policy",
                            "BeforeHookCreation".to_string(),
                        ),
                        ("argocd.argoproj.io/sync-wave", weight),
                    ] {
                        map.entry(key).or_insert(Json::String(value));
                    }
                }
            }
        }
    }
    Ok(())
}

/// 8 hex digits of the sha256 of a Job's inputs: its pod template, then the data of every
/// rendered ConfigMap and Secret the template refers to (volumes, `envFrom`, `valueFrom`), in
/// name order. Data matters because Helm re-runs hooks on every upgrade while `kubectl apply`
/// only runs a new Job: `st2.keyvalue` lives in a Secret the key-load pod mounts, and changing
/// it must load the keys again. Runs before `--redact-secrets`, so names do not depend on it.
/// `sources` holds the body of every rendered ConfigMap and Secret by kind and name.
fn input_hash(
    job: &Object,
    sources: &BTreeMap<(&str, &str), &Json>,
    shared: &mut SharedInputs,
) -> Result<String> {
    let template = job
        .body()
        .get("spec")
        .and_then(|s| s.get("template"))
        .unwrap_or(&Json::Null);
    let spliced = job.spliced();
    let mut referenced = BTreeSet::new();
    collect_references(template, &mut referenced);
    let mut hasher = HashWriter(Sha256::new());
    match spliced {
        Some(spliced) => {
            let (json, references) = shared.of(spliced.items)?;
            referenced.extend(references.iter().cloned());
            write_json(&mut hasher, template, Some((spliced, json)))?;
        }
        None => serde_json::to_writer(&mut hasher, template)?,
    }
    for (kind, name) in &referenced {
        let Some(body) = sources.get(&(*kind, name.as_str())) else {
            // Not rendered here (an existing Secret, say): nothing to hash.
            continue;
        };
        for part in ["\0", kind, "/", name, "\0"] {
            hasher.0.update(part.as_bytes());
        }
        for field in ["data", "binaryData", "stringData"] {
            if let Some(value) = body.get(field) {
                hasher.0.update(field.as_bytes());
                serde_json::to_writer(&mut hasher, value)?;
            }
        }
    }
    Ok(crate::hex::hex(
        hasher.0.finalize().get(..4).unwrap_or_default(),
    ))
}

/// What a list of shared items puts into a Job's hash, by list, worked out once per render (a
/// render shares one or two lists, looked up in order): its compact JSON, items comma-separated,
/// and the ConfigMaps and Secrets its items name.
#[derive(Default)]
struct SharedInputs(Vec<(SharedItems, Vec<u8>, References)>);

/// ConfigMaps and Secrets named by a pod template, as (kind, name).
type References = BTreeSet<(&'static str, String)>;

impl SharedInputs {
    /// The [`joined_json`] of `items` and their references, worked out at the first call for them.
    fn of(&mut self, items: &SharedItems) -> Result<(&[u8], &References)> {
        let index = match self
            .0
            .iter()
            .position(|(list, ..)| Arc::ptr_eq(list, items))
        {
            Some(index) => index,
            None => {
                let mut references = References::new();
                for item in items.iter() {
                    collect_references(item, &mut references);
                }
                self.0
                    .push((Arc::clone(items), joined_json(items)?, references));
                self.0.len() - 1
            }
        };
        let (_, json, references) = &self.0[index];
        Ok((json, references))
    }
}

fn joined_json(items: &[Json]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, item)?;
    }
    Ok(out)
}

/// Exactly `serde_json::to_writer(out, node)` of the node with the spliced items in their list;
/// `spliced.1` is their [`joined_json`].
fn write_json(out: &mut HashWriter, node: &Json, spliced: Option<(Spliced, &[u8])>) -> Result<()> {
    match node {
        Json::Object(map) => {
            out.0.update(b"{");
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.0.update(b",");
                }
                serde_json::to_writer(&mut *out, key)?;
                out.0.update(b":");
                write_json(out, value, spliced)?;
            }
            out.0.update(b"}");
        }
        Json::Array(items) => {
            let shared = spliced.filter(|(s, json)| s.is(node) && !json.is_empty());
            let (before, after) = items.split_at(shared.map_or(0, |(s, _)| s.at));
            let parts = before
                .iter()
                .map(Some)
                .chain(shared.map(|_| None))
                .chain(after.iter().map(Some));
            out.0.update(b"[");
            for (i, part) in parts.enumerate() {
                if i > 0 {
                    out.0.update(b",");
                }
                match (part, shared) {
                    (Some(item), _) => write_json(out, item, spliced)?,
                    (None, Some((_, json))) => out.0.update(json),
                    (None, None) => {}
                }
            }
            out.0.update(b"]");
        }
        leaf => serde_json::to_writer(&mut *out, leaf)?,
    }
    Ok(())
}

/// Feeds serialized JSON straight into the hash, without an intermediate buffer.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every ConfigMap and Secret a pod template names: `configMap`/`configMapRef`/`configMapKeyRef`
/// (`name`), `secret` (`secretName`, or `name` in projected sources), `secretRef`/`secretKeyRef`.
fn collect_references(value: &Json, out: &mut References) {
    match value {
        Json::Object(map) => {
            for (key, child) in map {
                let kind = match key.as_str() {
                    "configMap" | "configMapRef" | "configMapKeyRef" => Some("ConfigMap"),
                    "secret" | "secretRef" | "secretKeyRef" => Some("Secret"),
                    _ => None,
                };
                let name = child
                    .get("secretName")
                    .or_else(|| child.get("name"))
                    .and_then(Json::as_str);
                if let (Some(kind), Some(name)) = (kind, name) {
                    out.insert((kind, name.to_string()));
                }
                collect_references(child, out);
            }
        }
        Json::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        _ => {}
    }
}

fn metadata(body: &mut Json) -> Option<&mut Map<String, Json>> {
    let meta = body
        .as_object_mut()?
        .entry("metadata")
        .or_insert_with(|| Json::Object(Map::new()));
    if !meta.is_object() {
        *meta = Json::Object(Map::new());
    }
    meta.as_object_mut()
}

/// Remove the `helm.sh/*` annotations of a Job (dropping the map if it ends up empty) and return them.
fn take_helm_annotations(body: &mut Json) -> Map<String, Json> {
    let mut taken = Map::new();
    let Some(meta) = metadata(body) else {
        return taken;
    };
    if let Some(Json::Object(annotations)) = meta.get_mut("annotations") {
        let keys: Vec<String> = annotations
            .keys()
            .filter(|k| k.starts_with("helm.sh/"))
            .cloned()
            .collect();
        for key in keys {
            if let Some(v) = annotations.remove(&key) {
                taken.insert(key, v);
            }
        }
        if annotations.is_empty() {
            meta.remove("annotations");
        }
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(replicas_marker: &str) -> Object {
        Object::from_json(
            "batch/v1",
            "Job",
            "st2-job-st2-key-load".into(),
            serde_json::json!({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "st2-job-st2-key-load", "annotations": {
                    "helm.sh/hook": "post-install, post-upgrade, post-rollback",
                    "helm.sh/hook-weight": "6", "helm.sh/hook-delete-policy": "before-hook-creation"}},
                "spec": {"template": {"spec": {"containers": [{"name": "x", "image": replicas_marker}]}}}
            }),
        )
    }

    #[test]
    fn kubectl_names_follow_the_pod_template() {
        let mut a = [job("img:1")];
        let mut b = [job("img:1")];
        let mut c = [job("img:2")];
        for objs in [&mut a, &mut b, &mut c] {
            apply(Target::Kubectl, objs, None).expect("apply");
        }
        assert_eq!(a[0].name, b[0].name);
        assert_ne!(a[0].name, c[0].name);
        assert!(
            a[0].name.starts_with("st2-job-st2-key-load-")
                && a[0].name.len() == "st2-job-st2-key-load-".len() + 8
        );
        assert_eq!(
            a[0].body()["metadata"]["name"],
            Json::String(a[0].name.clone())
        );
        assert!(
            a[0].body()["metadata"].get("annotations").is_none(),
            "helm hooks dropped"
        );
    }

    /// The sha256 of a Job template written by [`write_json`] with shared items `at` an index
    /// of a list of `own` items, and of serde_json's writing of the same template in full.
    fn both_digests(own: usize, at: usize, shared: usize) -> (Vec<u8>, Vec<u8>) {
        let mut job = job("img:1");
        let container = |n: usize| serde_json::json!({"name": format!("c{n}"), "args": []});
        job.body_mut()["spec"]["template"]["spec"]["initContainers"] =
            Json::Array((0..own).map(container).collect());
        job.splice = Some(crate::object::Splice {
            pointer: "/spec/template/spec/initContainers",
            at,
            items: std::sync::Arc::new((100..100 + shared).map(container).collect()),
        });
        let spliced = job.spliced().expect("spliced");
        let template = &job.body()["spec"]["template"];
        let joined = joined_json(spliced.items).expect("json");
        let mut ours = HashWriter(Sha256::new());
        write_json(&mut ours, template, Some((spliced, &joined))).expect("write");
        let mut theirs = HashWriter(Sha256::new());
        serde_json::to_writer(&mut theirs, &job.full_body()["spec"]["template"]).expect("json");
        (ours.0.finalize().to_vec(), theirs.0.finalize().to_vec())
    }

    #[test]
    fn shared_items_hash_as_if_they_were_in_the_list() {
        for (own, at, shared) in [
            (0, 0, 3),
            (2, 0, 1),
            (2, 1, 2),
            (2, 2, 2),
            (2, 5, 1),
            (1, 0, 0),
        ] {
            let (ours, theirs) = both_digests(own, at, shared);
            assert_eq!(
                ours, theirs,
                "{own} own items, shared at {at}, {shared} shared"
            );
        }
    }

    fn secret(name: &str, value: &str) -> Object {
        Object::from_json(
            "v1",
            "Secret",
            name.into(),
            serde_json::json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name}, "data": {"kv.yaml": value}}),
        )
    }

    /// The Job's name after `apply` when it mounts Secret `kv` and `objects` are rendered too.
    fn name_with(objects: Vec<Object>) -> String {
        let mut job = job("img:1");
        job.body_mut()["spec"]["template"]["spec"]["volumes"] =
            serde_json::json!([{"name": "kv", "secret": {"secretName": "kv"}}]);
        let mut all = vec![job];
        all.extend(objects);
        apply(Target::Kubectl, &mut all, None).expect("apply");
        all[0].name.clone()
    }

    #[test]
    fn kubectl_names_follow_the_data_the_pod_reads() {
        let base = name_with(vec![secret("kv", "YQ==")]);
        assert_eq!(base, name_with(vec![secret("kv", "YQ==")]));
        assert_ne!(base, name_with(vec![secret("kv", "Yg==")]), "changed data");
        assert_eq!(
            base,
            name_with(vec![secret("kv", "YQ=="), secret("other", "Yg==")]),
            "a Secret the pod does not read"
        );
        assert_ne!(base, name_with(Vec::new()), "the Secret's data is hashed");
    }

    #[test]
    fn references_cover_volumes_projections_and_env() {
        let template = serde_json::json!({"spec": {
            "volumes": [
                {"name": "a", "configMap": {"name": "cm-vol"}},
                {"name": "b", "secret": {"secretName": "s-vol"}},
                {"name": "c", "projected": {"sources": [
                    {"configMap": {"name": "cm-proj"}}, {"secret": {"name": "s-proj"}}]}}],
            "containers": [{"name": "x",
                "envFrom": [{"configMapRef": {"name": "cm-from"}}, {"secretRef": {"name": "s-from"}}],
                "env": [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "s-key", "key": "k"}}},
                        {"name": "F", "valueFrom": {"configMapKeyRef": {"name": "cm-key", "key": "k"}}}]}]}});
        let mut found = BTreeSet::new();
        collect_references(&template, &mut found);
        let names: Vec<String> = found.iter().map(|(k, n)| format!("{k}/{n}")).collect();
        assert_eq!(
            names,
            [
                "ConfigMap/cm-from",
                "ConfigMap/cm-key",
                "ConfigMap/cm-proj",
                "ConfigMap/cm-vol",
                "Secret/s-from",
                "Secret/s-key",
                "Secret/s-proj",
                "Secret/s-vol"
            ]
        );
    }

    #[test]
    fn argocd_keeps_names_and_maps_hooks() {
        let mut objs = [job("img:1")];
        apply(Target::Argocd, &mut objs, Some(600)).expect("apply");
        let body = objs[0].body();
        assert_eq!(objs[0].name, "st2-job-st2-key-load");
        assert_eq!(
            body["metadata"]["annotations"]["argocd.argoproj.io/hook"],
            "PostSync"
        );
        assert_eq!(
            body["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
            "6"
        );
        assert!(
            body["metadata"]["annotations"]
                .get("helm.sh/hook")
                .is_none()
        );
        assert_eq!(body["spec"]["ttlSecondsAfterFinished"], 600);
    }

    #[test]
    fn argocd_keeps_the_users_own_argocd_annotations() {
        let mut objs = [job("img:1")];
        objs[0].body_mut()["metadata"]["annotations"]["argocd.argoproj.io/hook"] = "Sync".into();
        apply(Target::Argocd, &mut objs, None).expect("apply");
        let annotations = &objs[0].body()["metadata"]["annotations"];
        assert_eq!(annotations["argocd.argoproj.io/hook"], "Sync");
        assert_eq!(annotations["argocd.argoproj.io/sync-wave"], "6");
        assert_eq!(
            annotations["argocd.argoproj.io/hook-delete-policy"],
            "BeforeHookCreation"
        );
    }
}
