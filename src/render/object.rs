//! [`Object`]: one rendered Kubernetes object, and the order objects are written in.
//!
//! Builders construct typed `k8s-openapi` structs; [`Object::new`] serializes them once into a
//! JSON tree (fields in the struct's order, `apiVersion`, `kind`, `metadata` first). The only edit
//! made to that tree afterwards is [`Object::set_null`], for the few places where the chart
//! prints an explicit `null` (e.g. `nodePort: null`) that typed structs would omit.

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value as Json;

/// A rendered object: identity plus its serialized body.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub body: Json,
    /// Pod-template checksum annotations still to fill in: (annotation key, objects it hashes).
    /// Resolved by [`resolve_checksums`] once every object exists.
    pub pending_checksums: Vec<(String, Vec<(String, String)>)>,
}

impl Object {
    /// Wrap a typed Kubernetes object.
    pub fn new<K>(resource: &K) -> Result<Self>
    where
        K: k8s_openapi::Resource
            + k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
            + Serialize,
    {
        let name = resource.metadata().name.clone().unwrap_or_default();
        let body = serde_json::to_value(resource)
            .with_context(|| format!("serializing {}/{name}", K::KIND))?;
        Ok(Self {
            api_version: K::API_VERSION.to_string(),
            kind: K::KIND.to_string(),
            name,
            body,
            pending_checksums: Vec::new(),
        })
    }

    /// Request a pod-template annotation `key` holding the sha256 of the rendered objects
    /// `(kind, name)` (a missing object hashes as empty text), so that a change to them rolls
    /// the pods. Filled in by [`resolve_checksums`].
    pub fn checksum(mut self, key: &str, sources: &[(&str, &str)]) -> Self {
        let sources = sources
            .iter()
            .map(|(k, n)| (k.to_string(), n.to_string()))
            .collect();
        self.pending_checksums.push((key.to_string(), sources));
        self
    }

    /// Drop `apiVersion`/`kind` from every StatefulSet `spec.volumeClaimTemplates` entry:
    /// k8s-openapi serializes each as a whole PersistentVolumeClaim, the charts write them
    /// without, and they are part of the immutable StatefulSet spec, so they must stay
    /// byte-for-byte what a live StatefulSet already holds.
    pub fn untype_claim_templates(&mut self) {
        let templates = self
            .body
            .pointer_mut("/spec/volumeClaimTemplates")
            .and_then(Json::as_array_mut);
        for template in templates
            .into_iter()
            .flatten()
            .filter_map(Json::as_object_mut)
        {
            template.remove("apiVersion");
            template.remove("kind");
        }
    }

    /// Put an explicit `null` at a path (`spec.ports[0].nodePort`), creating the last key.
    /// Paths that do not lead to a map are left alone.
    pub fn set_null(&mut self, path: &str) {
        set_null(&mut self.body, path);
    }

    /// Does this object match a `--show-only` selector (`Kind/name`, case-insensitive kind)?
    pub fn matches(&self, selector: &str) -> bool {
        match selector.split_once('/') {
            Some((kind, name)) => kind.eq_ignore_ascii_case(&self.kind) && name == self.name,
            None => selector == self.name,
        }
    }
}

/// [`Object::set_null`] on any JSON tree.
pub fn set_null(json: &mut Json, path: &str) {
    let mut node = json;
    let mut parts = path_parts(path).peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        node = match (part, node) {
            (Part::Key(k), Json::Object(map)) if last => {
                map.insert(k.to_string(), Json::Null);
                return;
            }
            (Part::Key(k), Json::Object(map)) => match map.get_mut(k) {
                Some(next) => next,
                None => return,
            },
            (Part::Index(i), Json::Array(items)) if !last => match items.get_mut(i) {
                Some(next) => next,
                None => return,
            },
            _ => return,
        };
    }
}

/// The pod template's annotations map of a workload body (`spec.template` or, for CronJobs,
/// `spec.jobTemplate.spec.template`), created if missing.
fn pod_annotations(body: &mut Json) -> Option<&mut serde_json::Map<String, Json>> {
    let template = body.get_mut("spec")?.get_mut("template")?;
    let metadata = template
        .as_object_mut()?
        .entry("metadata")
        .or_insert_with(|| Json::Object(Default::default()));
    let annotations = metadata
        .as_object_mut()?
        .entry("annotations")
        .or_insert_with(|| Json::Object(Default::default()));
    if annotations.is_null() {
        *annotations = Json::Object(Default::default());
    }
    annotations.as_object_mut()
}

/// Fill every pending checksum annotation with the sha256 of the YAML of the objects it names.
/// Many pods name the same sources (every st2 pod hashes the st2 config), so objects are found
/// through an index, each source is serialized once and each list of sources hashed once.
pub fn resolve_checksums(objects: &mut [Object]) -> Result<()> {
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::collections::hash_map::Entry;
    // Reverse order so the first object of a kind/name wins, as a linear search would find it.
    let index: HashMap<(&str, &str), &Object> = objects
        .iter()
        .rev()
        .map(|o| ((o.kind.as_str(), o.name.as_str()), o))
        .collect();
    let mut yaml: HashMap<(&str, &str), String> = HashMap::new();
    let mut digests: HashMap<&[(String, String)], String> = HashMap::new();
    let mut resolved: Vec<(usize, String, String)> = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        for (key, sources) in &object.pending_checksums {
            let digest = match digests.get(sources.as_slice()) {
                Some(digest) => digest.clone(),
                None => {
                    let mut hasher = Sha256::new();
                    for (kind, name) in sources {
                        let id = (kind.as_str(), name.as_str());
                        let Some(source) = index.get(&id) else {
                            continue;
                        };
                        let text = match yaml.entry(id) {
                            Entry::Occupied(e) => e.into_mut(),
                            Entry::Vacant(e) => e.insert(crate::output::to_yaml(source)?),
                        };
                        hasher.update(text.as_bytes());
                    }
                    let digest = crate::hex::hex(&hasher.finalize());
                    digests.insert(sources, digest.clone());
                    digest
                }
            };
            resolved.push((i, key.clone(), digest));
        }
    }
    // Checksums are inserted before any user annotation the builder already wrote; order within
    // a map does not matter to Kubernetes.
    for (i, key, digest) in resolved {
        if let Some(annotations) = objects
            .get_mut(i)
            .and_then(|o| pod_annotations(&mut o.body))
        {
            annotations.insert(key, Json::String(digest));
        }
    }
    for object in objects.iter_mut() {
        object.pending_checksums.clear();
    }
    Ok(())
}

enum Part<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_parts(path: &str) -> impl Iterator<Item = Part<'_>> {
    path.split('.').flat_map(|segment| {
        let mut out = Vec::new();
        let (key, rest) = segment
            .split_once('[')
            .map_or((segment, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Part::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Part::Index(i));
            }
        }
        out
    })
}

/// Helm's install order by kind (`kind_sorter.go`); kinds not listed go last.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

fn kind_rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Sort objects by install order, then name: a total order, so output is deterministic.
pub fn sort(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        (kind_rank(&a.kind), &a.kind, &a.name).cmp(&(kind_rank(&b.kind), &b.kind, &b.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_null_reaches_list_items() {
        let mut o = Object {
            api_version: "v1".into(),
            kind: "Service".into(),
            name: "x".into(),
            body: serde_json::json!({"spec": {"ports": [{"port": 1}, {"port": 2}]}}),
            pending_checksums: Vec::new(),
        };
        o.set_null("spec.ports[1].nodePort");
        o.set_null("spec.missing.deeper");
        assert_eq!(
            o.body,
            serde_json::json!({"spec": {"ports": [{"port": 1}, {"port": 2, "nodePort": null}]}})
        );
    }
}
