//! A JSON Schema (draft-07) of the values, generated from the built-in `values.yaml`: each key's
//! type from its default, its `description` from the comment lines just above it. Maps are open
//! (`additionalProperties: true`): unknown keys are warnings, reported by `st2k8s lint`.
//!
//! st2k8s's own keys that are off by default have no default to take a type from (values.yaml
//! only shows them commented out); [`extensions`] gives their schemas, so editors complete and
//! check them too.

use serde_json::{Map as JsonMap, Value as Json, json};

use super::{Origins, Value, parse_document};

/// The schema of the built-in values, as pretty JSON with a trailing newline.
pub fn values_schema() -> String {
    let (defaults, origins) = parse_document(super::DEFAULTS, "values.yaml").unwrap_or_default();
    let lines: Vec<&str> = super::DEFAULTS.lines().collect();
    let mut root = node(&Value::Map(defaults), "", &origins, &lines);
    for (path, schema) in extensions() {
        extend(&mut root, &path, schema);
    }
    if let Json::Object(m) = &mut root {
        m.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-07/schema#"),
        );
        m.insert("title".into(), json!("st2k8s values (stackstorm-ha 1.1.0)"));
    }
    let mut text = serde_json::to_string_pretty(&root).unwrap_or_default();
    text.push('\n');
    text
}

fn node(value: &Value, path: &str, origins: &Origins, lines: &[&str]) -> Json {
    let mut schema = JsonMap::new();
    let kind = match value {
        Value::Map(m) => {
            let properties: JsonMap<String, Json> = m
                .iter()
                .map(|(k, v)| {
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    (k.clone(), node(v, &child, origins, lines))
                })
                .collect();
            if !properties.is_empty() {
                schema.insert("properties".into(), Json::Object(properties));
            }
            schema.insert("additionalProperties".into(), json!(true));
            json!(["object", "null"])
        }
        Value::List(_) => json!(["array", "null"]),
        Value::Int(_) => json!(["integer", "string", "null"]),
        Value::Float(_) => json!(["number", "string", "null"]),
        Value::Bool(_) => json!(["boolean", "null"]),
        Value::String(_) => json!(["string", "number", "boolean", "null"]),
        Value::Null => Json::Null,
    };
    if !kind.is_null() {
        schema.insert("type".into(), kind);
    }
    let description = origins
        .get(path)
        .map(|l| comment_above(lines, l.line))
        .unwrap_or_default();
    if !description.is_empty() {
        schema.insert("description".into(), json!(description));
    }
    Json::Object(schema)
}

/// Schemas of st2k8s's own keys without a default: (path, schema); `[]` is a list's items.
fn extensions() -> Vec<(String, Json)> {
    let count = |description: &str| json!({"type": ["integer", "string", "null"], "description": description});
    let count_or_percent = |description: &str| json!({"type": ["integer", "string", "null"], "pattern": "^([0-9]+|[0-9]{1,3}%)$", "description": description});
    let flavor = |backend: &str, images: &str| json!({"enum": ["bitnami", "official", "", null], "description": format!("st2k8s: which images run the built-in {backend}: `bitnami` (the chart's, the default) or `official` ({images}), under the same StatefulSet, Service and volume names.")});
    let mut out = vec![
        (
            "podDisruptionBudgets".to_string(),
            json!({
                "type": ["object", "null"],
                "description": "st2k8s: a PodDisruptionBudget (policy/v1) for every st2 Deployment running more than one pod (autoscaled ones: when minReplicas > 1), named like the Deployment and selecting exactly its pods.",
                "properties": {
                    "enabled": {"type": ["boolean", "null"], "description": "Render the PodDisruptionBudgets (default false)."},
                    "maxUnavailable": count_or_percent("Pods a voluntary disruption may take down at once: a count or a percentage (\"25%\"); 1 when neither this nor minAvailable is set."),
                    "minAvailable": count_or_percent("Pods that must stay up: a count or a percentage; set maxUnavailable or minAvailable, not both."),
                },
                "additionalProperties": true,
            }),
        ),
        (
            "podSecurity".to_string(),
            json!({
                "enum": ["restricted", null],
                "description": "st2k8s: `restricted` makes every pod meet the Kubernetes Pod Security Standards \"restricted\" level (non-root UIDs, fsGroup, seccomp RuntimeDefault, no privilege escalation, all capabilities dropped, writable emptyDirs where the images write); values that cannot be restricted are an error. Unset: the chart's security contexts.",
            }),
        ),
        (
            "mongodb.flavor".to_string(),
            flavor("MongoDB", "docker-library's `mongo`"),
        ),
        (
            "mongodb.official".to_string(),
            json!({
                "type": ["object", "null"],
                "description": "st2k8s: settings of `mongodb.flavor: official`.",
                "properties": {
                    "version": {
                        "enum": ["5.0", "6.0", "7.0", 5.0, 6.0, 7.0, "", null],
                        "description": "The MongoDB release series to run (default 7.0, for new installs). A switch from the chart's MongoDB 4.4 data goes one series per rollout: 5.0, then 6.0, then 7.0; after each, the member with ordinal 0 raises the featureCompatibilityVersion once every member runs it.",
                    },
                },
                "additionalProperties": true,
            }),
        ),
        (
            "rabbitmq.flavor".to_string(),
            flavor("RabbitMQ", "docker-library's `rabbitmq`"),
        ),
        (
            "redis.flavor".to_string(),
            flavor("Redis", "a maintained upstream image"),
        ),
        (
            "networkPolicy".to_string(),
            json!({
                "type": ["object", "null"],
                "description": "st2k8s: NetworkPolicies (networking.k8s.io/v1) limiting ingress to every pod of the release: the backends accept only the st2 pods that read st2.conf, the st2 API only st2 pods that call it, pods without a port nothing. Egress is not restricted.",
                "properties": {
                    "enabled": {"type": ["boolean", "null"], "description": "Render the NetworkPolicies (default false)."},
                    "apiClients": {"type": ["array", "null"], "items": {"type": "object"}, "description": "More NetworkPolicyPeers (podSelector, namespaceSelector, ipBlock) allowed to reach st2api, st2auth, st2stream and st2chatops."},
                    "st2webClients": {"type": ["array", "null"], "items": {"type": "object"}, "description": "NetworkPolicyPeers allowed to reach st2web (e.g. the ingress controller's namespace); unset or empty: from anywhere."},
                },
                "additionalProperties": true,
            }),
        ),
        (
            "ingress.hosts[].paths[].pathType".to_string(),
            json!({
                "enum": ["Prefix", "Exact", "ImplementationSpecific", "", null],
                "description": "st2k8s: the path's pathType; Prefix (the default, as in the chart), Exact or ImplementationSpecific (regex paths with ingress-nginx).",
            }),
        ),
    ];
    for component in crate::components::ACTIVE_ACTIVE {
        out.push((
            format!("{component}.autoscaling"),
            json!({
                "type": ["object", "null"],
                "description": "st2k8s: size the Deployment with a HorizontalPodAutoscaler (autoscaling/v2) instead of `replicas`; the Deployment then has no `replicas`.",
                "properties": {
                    "enabled": {"type": ["boolean", "null"], "description": "Render the HorizontalPodAutoscaler (default false)."},
                    "minReplicas": count("Fewest pods (default 1)."),
                    "maxReplicas": count("Most pods (required)."),
                    "targetCPUUtilizationPercentage": count("Average CPU use to keep, in % of the container's CPU request."),
                    "targetMemoryUtilizationPercentage": count("Average memory use to keep, in % of the container's memory request."),
                },
                "additionalProperties": true,
            }),
        ));
    }
    for component in crate::components::OWN_SECURITY_CONTEXTS {
        out.push((
            format!("{component}.podSecurityContext"),
            json!({"type": ["object", "null"], "additionalProperties": true, "description": "st2k8s: pod security context; replaces the global `podSecurityContext` when set (the chart ignores it here)."}),
        ));
        out.push((
            format!("{component}.securityContext"),
            json!({"type": ["object", "null"], "additionalProperties": true, "description": "st2k8s: security context of the containers running this component's image; replaces the global `securityContext` when set (the chart ignores it here)."}),
        ));
    }
    out
}

/// Merge `schema` into the node at `path` of `root`, creating the nodes on the way.
fn extend(root: &mut Json, path: &str, schema: Json) {
    let mut node = root;
    for segment in path.split('.') {
        let (key, items) = match segment.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (segment, false),
        };
        node = child(node, "properties", key);
        if items {
            node = child(node, "items", "");
        }
    }
    if let (Json::Object(target), Json::Object(fields)) = (node, schema) {
        for (k, v) in fields {
            target.entry(k).or_insert(v);
        }
    }
}

/// The schema below `node` under `field` (`properties` then `key`, or `items` when `key` is
/// empty), created empty (any value) when missing.
fn child<'j>(node: &'j mut Json, field: &str, key: &str) -> &'j mut Json {
    if !node.is_object() {
        *node = json!({});
    }
    let slot = &mut node[field];
    if key.is_empty() {
        if slot.is_null() {
            *slot = json!({});
        }
        return slot;
    }
    if !slot.is_object() {
        *slot = json!({});
    }
    let entry = &mut slot[key];
    if entry.is_null() {
        *entry = json!({});
    }
    entry
}

/// The comment lines directly above line `line` (1-based), without their `#`.
fn comment_above(lines: &[&str], line: usize) -> String {
    let mut out: Vec<&str> = lines
        .iter()
        .take(line.saturating_sub(1))
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    out.reverse();
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::Value as Json;

    #[test]
    fn extension_keys_have_typed_schemas() {
        let schema: Json = serde_json::from_str(&super::values_schema()).unwrap_or_default();
        let at = |pointer: &str| schema.pointer(pointer).cloned().unwrap_or_default();
        assert_eq!(
            at("/properties/podDisruptionBudgets/properties/enabled/type"),
            serde_json::json!(["boolean", "null"])
        );
        assert_eq!(at("/properties/redis/properties/flavor/enum/1"), "official");
        assert_eq!(
            at("/properties/podSecurity/enum"),
            serde_json::json!(["restricted", null])
        );
        assert_eq!(
            at("/properties/st2actionrunner/properties/autoscaling/properties/maxReplicas/type"),
            serde_json::json!(["integer", "string", "null"])
        );
        assert_eq!(
            at(
                "/properties/ingress/properties/hosts/items/properties/paths/items/properties/pathType/enum/2"
            ),
            "ImplementationSpecific"
        );
        // The generated parts stay as they were.
        assert_eq!(
            at("/properties/ingress/properties/hosts/type"),
            serde_json::json!(["array", "null"])
        );
        assert_eq!(
            at("/properties/st2api/properties/securityContext/type"),
            serde_json::json!(["object", "null"])
        );
        assert!(at("/properties/st2timersengine/properties/autoscaling").is_null());
    }

    #[test]
    fn committed_schema_is_up_to_date() {
        let committed = include_str!("../../values.schema.json");
        assert!(
            committed == super::values_schema(),
            "values.schema.json is stale: run `st2k8s schema > values.schema.json`"
        );
    }
}
