//! Checksum annotations: a pod template that names other objects (`Object::checksum`) gets the
//! sha256 of their YAML once every object of the render exists, so a change to a ConfigMap or
//! Secret rolls the pods that read it.

use anyhow::Result;
use serde_json::Value as Json;

use crate::object::Object;

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
pub fn resolve(objects: &mut [Object]) -> Result<()> {
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
        for (key, sources) in object.pending_checksums() {
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
            .and_then(|o| pod_annotations(o.body_mut()))
        {
            annotations.insert(key, Json::String(digest));
        }
    }
    for object in objects.iter_mut() {
        object.clear_pending_checksums();
    }
    Ok(())
}
