//! How setup Jobs are applied: `--target kubectl` (default) or `--target argocd`.
//!
//! The chart's Jobs are Helm hooks. Plain `kubectl apply` knows no hooks, and a Job's pod template
//! is immutable, so re-applying a changed Job fails: for `kubectl` each Job's name gets a short
//! hash of its pod template (same pod → same name, changed pod → a new Job), Helm hook annotations
//! are dropped, and `jobs.ttlSecondsAfterFinished` (st2k8s extension) lets finished Jobs expire.
//! For `argocd` names stay fixed and the Helm hooks become Argo CD hooks with sync waves.

use anyhow::Result;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use super::Object;

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

/// Rewrite every Job for `target`. `ttl` is `jobs.ttlSecondsAfterFinished`, if set.
pub fn apply(target: Target, objects: &mut [Object], ttl: Option<i64>) -> Result<()> {
    for object in objects.iter_mut().filter(|o| o.kind == "Job") {
        let annotations = take_helm_annotations(&mut object.body);
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
            object.body.get_mut("spec").and_then(Json::as_object_mut),
        ) {
            spec.insert("ttlSecondsAfterFinished".into(), Json::from(ttl));
        }
        match target {
            Target::Kubectl => {
                // Serialized in place (no clone of the pod template); a missing template hashes
                // as `null`, as before.
                let template = object
                    .body
                    .get("spec")
                    .and_then(|s| s.get("template"))
                    .unwrap_or(&Json::Null);
                let digest = Sha256::digest(serde_json::to_vec(template)?);
                let suffix = crate::hex::hex(digest.get(..4).unwrap_or_default());
                object.name = format!("{}-{suffix}", object.name);
                if let Some(meta) = metadata(&mut object.body) {
                    meta.insert("name".into(), Json::String(object.name.clone()));
                }
            }
            Target::Argocd => {
                let phase = if hook.contains("pre-") {
                    "PreSync"
                } else {
                    "PostSync"
                };
                let Some(meta) = metadata(&mut object.body) else {
                    continue;
                };
                let annotations = meta
                    .entry("annotations")
                    .or_insert_with(|| Json::Object(Map::new()));
                if !annotations.is_object() {
                    *annotations = Json::Object(Map::new());
                }
                if let Some(map) = annotations.as_object_mut() {
                    map.insert("argocd.argoproj.io/hook".into(), phase.into());
                    map.insert(
                        "argocd.argoproj.io/hook-delete-policy".into(),
                        "BeforeHookCreation".into(),
                    );
                    map.insert("argocd.argoproj.io/sync-wave".into(), weight.into());
                }
            }
        }
    }
    Ok(())
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
        Object {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            name: "st2-job-st2-key-load".into(),
            body: serde_json::json!({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "st2-job-st2-key-load", "annotations": {
                    "helm.sh/hook": "post-install, post-upgrade, post-rollback",
                    "helm.sh/hook-weight": "6", "helm.sh/hook-delete-policy": "before-hook-creation"}},
                "spec": {"template": {"spec": {"containers": [{"name": "x", "image": replicas_marker}]}}}
            }),
            pending_checksums: Vec::new(),
        }
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
            a[0].body["metadata"]["name"],
            Json::String(a[0].name.clone())
        );
        assert!(
            a[0].body["metadata"].get("annotations").is_none(),
            "helm hooks dropped"
        );
    }

    #[test]
    fn argocd_keeps_names_and_maps_hooks() {
        let mut objs = [job("img:1")];
        apply(Target::Argocd, &mut objs, Some(600)).expect("apply");
        let body = &objs[0].body;
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
}
