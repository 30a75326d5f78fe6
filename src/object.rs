//! [`Object`]: one rendered Kubernetes object, and the order objects are written in.
//!
//! Builders construct typed `k8s-openapi` structs; [`Object::new`] serializes them once into a
//! JSON tree (fields in the struct's order, `apiVersion`, `kind`, `metadata` first). The only edit
//! made to that tree afterwards is [`Object::set_null`], for the few places where the chart
//! prints an explicit `null` (e.g. `nodePort: null`) that typed structs would omit.
//!
//! Items many objects hold alike (the pack-copy init containers of every pod) are not copied
//! into each body: a [`Splice`] names them and where they go, and whoever reads a whole body
//! (the YAML writer, Job hashes, [`Object::full_body`]) puts them in place as it reads.

use std::borrow::Cow;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value as Json;

/// A rendered object: identity plus its serialized body.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// The body, without the items of [`Object::splice`]: read with [`Object::body`], edited
    /// with [`Object::body_mut`] (the shared items stay out of it either way).
    body: Json,
    /// Shared items that belong in a list of the body.
    pub splice: Option<Splice>,
    /// Pod-template checksum annotations still to fill in: (annotation key, objects it hashes).
    /// Resolved once every object exists (the render pipeline's checksum step).
    pending_checksums: Vec<(String, Vec<(String, String)>)>,
    /// The values key and string the name was formed from, if any (see [`Object::named_by`]).
    pub name_source: Option<NameSource>,
}

/// Where an object's name came from: the values key and the string of it the name holds, so a
/// name Kubernetes would reject is reported with the key the user wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameSource {
    /// Dotted values key (`jobs.extra_hooks[0].name`).
    pub key: String,
    /// The string as it appears in the name.
    pub value: String,
}

impl Object {
    /// Where the pod template (its `metadata` and `spec`) of a workload object is, as a JSON
    /// pointer into the body: the body itself for a Pod; `None` for kinds that run no pods.
    pub fn pod_template_pointer(&self) -> Option<&'static str> {
        match self.kind.as_str() {
            "Pod" => Some(""),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                Some("/spec/template")
            }
            "CronJob" => Some("/spec/jobTemplate/spec/template"),
            _ => None,
        }
    }

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
        Ok(Self::from_json(K::API_VERSION, K::KIND, name, body))
    }

    /// An object from its JSON body (kinds k8s-openapi has no type for, tests).
    pub fn from_json(api_version: &str, kind: &str, name: String, body: Json) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            name,
            body,
            splice: None,
            pending_checksums: Vec::new(),
            name_source: None,
        }
    }

    /// The body as built, without the shared items of [`Object::splice`]
    /// ([`Object::full_body`] has them in place).
    pub fn body(&self) -> &Json {
        &self.body
    }

    /// The body for an edit in place; the shared items are not in it.
    pub fn body_mut(&mut self) -> &mut Json {
        &mut self.body
    }

    /// Give the object a new name, in its identity and its `metadata.name` alike.
    pub fn rename(&mut self, name: String) {
        if let Some(meta) = self.body.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.insert("name".into(), Json::String(name.clone()));
        }
        self.name = name;
    }

    /// The checksum annotations requested with [`Object::checksum`] and not yet filled in.
    pub fn pending_checksums(&self) -> &[(String, Vec<(String, String)>)] {
        &self.pending_checksums
    }

    /// Forget the requested checksums once they are filled in.
    pub fn clear_pending_checksums(&mut self) {
        self.pending_checksums.clear();
    }

    /// Record that the name holds the string `value` of the values key `key`, so that a name
    /// Kubernetes would reject is reported with that key (the render pipeline's name check).
    pub fn named_by(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.name_source = Some(NameSource {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// The list the shared items go into, the index they go before, and the items; `None` when
    /// nothing is shared or the list is missing from the body.
    pub fn spliced(&self) -> Option<Spliced<'_>> {
        let splice = self.splice.as_ref()?;
        let list = self.body.pointer(splice.pointer)?;
        Some(Spliced {
            list,
            at: splice.at.min(list.as_array()?.len()),
            items: &splice.items,
        })
    }

    /// The whole body, shared items in place: a copy when there are any.
    pub fn full_body(&self) -> Cow<'_, Json> {
        match &self.splice {
            None => Cow::Borrowed(&self.body),
            Some(splice) => {
                let mut body = self.body.clone();
                splice.insert_into(&mut body);
                Cow::Owned(body)
            }
        }
    }

    /// Request a pod-template annotation `key` holding the sha256 of the rendered objects
    /// `(kind, name)` (a missing object hashes as empty text), so that a change to them rolls
    /// the pods. Filled in once every object exists (the render pipeline's checksum step).
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

/// Items stored once per render and shared by many objects.
pub type SharedItems = Arc<Vec<Json>>;

/// Shared items that belong in a list of an object's body.
#[derive(Debug, Clone)]
pub struct Splice {
    /// JSON pointer of the list in the body.
    pub pointer: &'static str,
    /// How many of the list's own items come before the shared ones.
    pub at: usize,
    pub items: SharedItems,
}

impl Splice {
    fn insert_into(&self, body: &mut Json) {
        if let Some(list) = body.pointer_mut(self.pointer).and_then(Json::as_array_mut) {
            let at = self.at.min(list.len());
            list.splice(at..at, self.items.iter().cloned());
        }
    }
}

/// A [`Splice`] located in a body: `items` go into the array `list` before its item `at`.
/// Readers recognize the list by address as they walk the body (another list may be equal).
#[derive(Debug, Clone, Copy)]
pub struct Spliced<'a> {
    list: &'a Json,
    pub at: usize,
    pub items: &'a SharedItems,
}

impl Spliced<'_> {
    /// Whether `node` is the list the items go into.
    pub fn is(&self, node: &Json) -> bool {
        std::ptr::eq(self.list, node)
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

/// Refuse two objects of one kind with one name in `objects` (sorted by [`sort`]): `kubectl
/// apply` would keep only the last one, silently. Names the user controls can collide: a bundled
/// backend's `fullnameOverride` equal to an st2 object's name, two `st2.packs.sensors` entries
/// with one `name`.
pub fn check_unique(objects: &[Object]) -> Result<()> {
    for pair in objects.windows(2) {
        if let [a, b] = pair
            && a.kind == b.kind
            && a.name == b.name
        {
            anyhow::bail!(
                "two objects would be `{}/{}`, and Kubernetes keeps only one: make the names unique (`st2.packs.sensors[].name`, the backends' `fullnameOverride`/`nameOverride`)",
                a.kind,
                a.name
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_objects_of_one_kind_and_name_are_refused() {
        let object = |kind: &str, name: &str| {
            Object::from_json("v1", kind, name.into(), serde_json::json!({}))
        };
        let mut objects = vec![
            object("Service", "st2-st2api"),
            object("Deployment", "st2-st2api"),
            object("Service", "st2-st2auth"),
        ];
        sort(&mut objects);
        assert!(check_unique(&objects).is_ok());
        objects.push(object("Service", "st2-st2api"));
        sort(&mut objects);
        assert_eq!(
            check_unique(&objects)
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some(
                "two objects would be `Service/st2-st2api`, and Kubernetes keeps only one: make the names unique (`st2.packs.sensors[].name`, the backends' `fullnameOverride`/`nameOverride`)"
            )
        );
    }

    #[test]
    fn set_null_reaches_list_items() {
        let mut o = Object::from_json(
            "v1",
            "Service",
            "x".into(),
            serde_json::json!({"spec": {"ports": [{"port": 1}, {"port": 2}]}}),
        );
        o.set_null("spec.ports[1].nodePort");
        o.set_null("spec.missing.deeper");
        assert_eq!(
            o.body,
            serde_json::json!({"spec": {"ports": [{"port": 1}, {"port": 2, "nodePort": null}]}})
        );
    }
}
