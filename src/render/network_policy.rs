//! `networkPolicy.enabled` (an st2k8s extension, off by default): `networking.k8s.io/v1`
//! NetworkPolicies that limit who may connect to every pod of the release.
//!
//! The chart has none for the st2 pods, and the bitnami subcharts' own policies (off by default)
//! let in any pod that carries a client label. With this on:
//!
//! - MongoDB, RabbitMQ and Redis accept connections only from the st2 pods that read st2.conf
//!   (the only place st2 learns the backends' addresses and credentials) and from their own pods
//!   (replica set members and arbiter, RabbitMQ clustering, Redis replication and sentinels);
//!   ports only the backend's own pods use (RabbitMQ's epmd, inter-node and management ports)
//!   are closed to st2. Metrics ports stay open, since the scraper runs elsewhere.
//! - st2api, st2auth and st2stream (and chatops' listener) accept connections from the st2 pods
//!   that call the API (everything but the daemons that only use the backends) and from
//!   `networkPolicy.apiClients`; st2web from anywhere, or only from `networkPolicy.st2webClients`.
//! - Every other pod (the daemons, the setup Jobs, the test Pod) accepts nothing.
//!
//! Which st2 pods exist, which ports they listen on and whether they read st2.conf is read from
//! the rendered workloads, so sensor partitions, hooks and disabled components are always
//! accounted for; each policy selects its pods with the same label helpers the workloads use.
//! Egress is not restricted. Policies add up in Kubernetes: a bitnami policy that is also
//! enabled can only let more in, which is reported when it lets every pod in.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;

use super::backends;
use super::ctx::Ctx;
use super::meta;
use super::pod::convert::{report, typed_if_set};
use super::pod::volumes::CONFIG_VOLUME;
use crate::object::Object;
use crate::values::check::{Finding, Severity};

/// st2 components that never call the st2 API: they only use MongoDB, RabbitMQ and Redis.
const NOT_API_CLIENTS: &[&str] = &[
    "st2rulesengine",
    "st2scheduler",
    "st2workflowengine",
    "st2notifier",
    "st2timersengine",
    "st2garbagecollector",
    "st2-register-content",
    "st2-apply-rbac-definitions",
    "st2canary",
];

/// The pods of a bundled backend workload, as its policy protects them.
#[derive(Debug, Clone)]
pub struct Backend {
    /// Name of the workload (the policy is `<name>-ingress`).
    pub name: String,
    /// The workload's pod selector.
    pub selector: BTreeMap<String, String>,
    /// Every pod of the backend (its peers), e.g. replica set members and the arbiter.
    pub peers: BTreeMap<String, String>,
    /// Ports st2 connects to (the peers too).
    pub client_ports: Vec<i32>,
    /// Ports only the backend's own pods use.
    pub peer_ports: Vec<i32>,
    /// Ports open to every source (metrics).
    pub open_ports: Vec<i32>,
}

/// The st2 pods of a render: `app.kubernetes.io/name` → what the pods of that name do.
#[derive(Debug, Default, Clone)]
struct St2Pod {
    ports: Vec<i32>,
    reads_config: bool,
}

/// Every NetworkPolicy for `objects` (the render so far), iff `networkPolicy.enabled`.
pub fn objects(ctx: &Ctx, objects: &[Object]) -> Result<Vec<Object>> {
    let section = ctx.v("networkPolicy");
    if !section.key("enabled").truthy() {
        return Ok(Vec::new());
    }
    let api_clients: Vec<NetworkPolicyPeer> =
        typed_if_set(section.key("apiClients"), "networkPolicy.apiClients")?.unwrap_or_default();
    let web_clients: Option<Vec<NetworkPolicyPeer>> =
        typed_if_set(section.key("st2webClients"), "networkPolicy.st2webClients")?;
    let pods = st2_pods(ctx, objects);
    let peers = |keep: &dyn Fn(&str, &St2Pod) -> bool| -> Vec<NetworkPolicyPeer> {
        pods.iter()
            .filter(|(n, pod)| keep(n, pod))
            .map(|(n, _)| peer(meta::selector_labels(ctx, n)))
            .collect()
    };
    let api_peers = {
        let mut all = peers(&|n, _| !NOT_API_CLIENTS.contains(&n));
        all.extend(api_clients);
        all
    };
    let backend_peers = peers(&|_, pod| pod.reads_config);

    let mut out = Vec::new();
    for (n, pod) in &pods {
        let ingress = if pod.ports.is_empty() {
            None
        } else if n == "st2web" {
            Some(vec![rule(&pod.ports, web_clients.clone())])
        } else {
            Some(vec![rule(&pod.ports, Some(api_peers.clone()))])
        };
        out.push(policy(
            ctx,
            ctx.name(n),
            meta::selector_labels(ctx, n),
            ingress,
        )?);
    }
    for backend in backends::network_targets(ctx)? {
        let mut peer_ports = backend.client_ports.clone();
        peer_ports.extend(&backend.peer_ports);
        // A rule without ports opens every port, and one without peers lets in everyone:
        // both are left out when there is nothing to let in.
        let mut ingress = Vec::new();
        if !peer_ports.is_empty() {
            ingress.push(rule(&peer_ports, Some(vec![peer(backend.peers.clone())])));
        }
        if !backend.client_ports.is_empty() && !backend_peers.is_empty() {
            ingress.push(rule(&backend.client_ports, Some(backend_peers.clone())));
        }
        if !backend.open_ports.is_empty() {
            ingress.push(rule(&backend.open_ports, None));
        }
        let name = format!("{}-ingress", backend.name);
        out.push(policy(ctx, name, backend.selector, Some(ingress))?);
    }
    warn_open_subchart_policies(ctx);
    Ok(out)
}

/// The st2 pods among `objects`, by `app.kubernetes.io/name`: pods of this release labelled
/// `app.kubernetes.io/part-of: stackstorm` (what [`meta::labels`] gives every st2 pod).
fn st2_pods(ctx: &Ctx, objects: &[Object]) -> BTreeMap<String, St2Pod> {
    let mut pods: BTreeMap<String, St2Pod> = BTreeMap::new();
    for object in objects {
        let pointer = match object.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => "/spec/template",
            "Pod" => "",
            _ => continue,
        };
        let body = object.full_body();
        let Some(template) = body.pointer(pointer) else {
            continue;
        };
        let labels = &template["metadata"]["labels"];
        let label = |key: &str| labels.get(key).and_then(Json::as_str);
        if label("app.kubernetes.io/part-of") != Some("stackstorm")
            || label("app.kubernetes.io/instance") != Some(ctx.release.name.as_str())
        {
            continue;
        }
        let Some(n) = label("app.kubernetes.io/name") else {
            continue;
        };
        let spec = &template["spec"];
        let pod = pods.entry(n.to_string()).or_default();
        for container in spec["containers"].as_array().into_iter().flatten() {
            for port in container["ports"].as_array().into_iter().flatten() {
                let number = port["containerPort"]
                    .as_i64()
                    .and_then(|p| i32::try_from(p).ok());
                if let Some(number) = number.filter(|p| !pod.ports.contains(p)) {
                    pod.ports.push(number);
                }
            }
        }
        pod.reads_config |= spec["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["name"] == CONFIG_VOLUME);
    }
    pods
}

/// A peer selecting the pods with `labels` in the policy's namespace.
fn peer(labels: BTreeMap<String, String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(labels),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Ingress to TCP `ports` from `from` (`None`: from anywhere).
fn rule(ports: &[i32], from: Option<Vec<NetworkPolicyPeer>>) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule {
        ports: Some(
            ports
                .iter()
                .map(|p| NetworkPolicyPort {
                    port: Some(IntOrString::Int(*p)),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                })
                .collect(),
        ),
        from,
    }
}

/// The policy `name` for the pods `selector` selects, letting in `ingress` (`None`: nothing).
fn policy(
    ctx: &Ctx,
    name: String,
    selector: BTreeMap<String, String>,
    ingress: Option<Vec<NetworkPolicyIngressRule>>,
) -> Result<Object> {
    Object::new(&NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(name),
            labels: Some(meta::labels(ctx, "network-policy")?),
            ..Default::default()
        },
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress,
            egress: None,
        }),
    })
}

/// Warn when a bundled backend's own policy is on with `allowExternal` (its default): it lets
/// every pod connect, and policies add up, so st2k8s's policy restricts nothing on those ports.
fn warn_open_subchart_policies(ctx: &Ctx) {
    for chart in ["rabbitmq", "redis"] {
        let section = ctx.v(chart);
        let own = section.key("networkPolicy");
        if section.key("enabled").truthy()
            && own.key("enabled").truthy()
            && own.key("allowExternal").truthy()
        {
            report(Finding {
                severity: Severity::Warning,
                path: format!("{chart}.networkPolicy.allowExternal"),
                location: None,
                within: None,
                message: format!(
                    "lets every pod connect to {chart}, so `networkPolicy.enabled` cannot restrict it (NetworkPolicies add up); set it to false"
                ),
            });
        }
    }
}
