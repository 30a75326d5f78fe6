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
use super::pod::convert::typed_if_set;
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
    let api_clients: Vec<NetworkPolicyPeer> = typed_if_set(
        ctx,
        section.key("apiClients").value(),
        "networkPolicy.apiClients",
    )?
    .unwrap_or_default();
    let web_clients: Option<Vec<NetworkPolicyPeer>> = typed_if_set(
        ctx,
        section.key("st2webClients").value(),
        "networkPolicy.st2webClients",
    )?;
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
        let Some(pointer) = object.pod_template_pointer() else {
            continue;
        };
        // Containers, volumes and labels only: the shared init containers need not be put in place.
        let body = object.body();
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
        if backends::is_enabled(ctx, chart)
            && own.key("enabled").truthy()
            && own.key("allowExternal").truthy()
        {
            ctx.report(Finding {
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

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use serde_json::{Value as Json, json};

    use crate::object::Object;
    use crate::release::Release;
    use crate::render::Options;
    use crate::render::test_support::{body, names, values};
    use crate::values::check::Finding;

    /// Every feature that adds pods: chatops, sensor partitions, RBAC, an extra hook, the
    /// MongoDB arbiter, metrics, external-dns, the test Pod.
    const EVERYTHING: &str = "networkPolicy: {enabled: true}
st2chatops: {enabled: true}
st2:
  rbac: {enabled: true}
  packs:
    sensors:
      - name: github-watcher
        ref: github.GithubRepositorySensor
      - name: file-watch
        ref: linux.FileWatchSensor
jobs:
  extra_hooks:
    - name: upgrade-warning
      hook: pre-upgrade
      command: [st2, run, core.local, cmd=date]
mongodb: {architecture: replicaset, arbiter: {enabled: true}, metrics: {enabled: true}}
rabbitmq: {metrics: {enabled: true}}
redis: {metrics: {enabled: true}}
external-dns: {enabled: true}
";

    fn render(yaml: &str) -> Result<Vec<Object>> {
        render_with_findings(yaml).0
    }

    /// [`render`] and the findings the builders reported.
    fn render_with_findings(yaml: &str) -> (Result<Vec<Object>>, Vec<Finding>) {
        let release = Release {
            name: "st2".into(),
            namespace: "ns".into(),
        };
        let options = Options {
            include_tests: true,
            ..Options::default()
        };
        let (rendered, findings) =
            crate::render::pipeline::render_checked(&values(yaml), None, &release, &options);
        (rendered.map(|r| r.objects), findings)
    }

    fn error(yaml: &str) -> String {
        render(yaml)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    }

    /// `(name, podSelector.matchLabels, spec)` of every NetworkPolicy.
    fn policies(objects: &[Object]) -> Vec<(String, Json, Json)> {
        objects
            .iter()
            .filter(|o| o.kind == "NetworkPolicy")
            .map(|o| {
                let spec = o.full_body()["spec"].clone();
                (
                    o.name.clone(),
                    spec["podSelector"]["matchLabels"].clone(),
                    spec,
                )
            })
            .collect()
    }

    /// `(kind/name, selector.matchLabels or None, pod template labels)` of every pod template.
    fn pod_templates(objects: &[Object]) -> Vec<(String, Option<Json>, Json)> {
        objects
            .iter()
            .filter_map(|o| {
                let body = o.full_body();
                let (selector, labels) = match o.kind.as_str() {
                    "Deployment" | "StatefulSet" => (
                        Some(body["spec"]["selector"]["matchLabels"].clone()),
                        body["spec"]["template"]["metadata"]["labels"].clone(),
                    ),
                    "Job" => (None, body["spec"]["template"]["metadata"]["labels"].clone()),
                    "Pod" => (None, body["metadata"]["labels"].clone()),
                    _ => return None,
                };
                Some((format!("{}/{}", o.kind, o.name), selector, labels))
            })
            .collect()
    }

    /// Does `selector` (matchLabels) select pods labelled `labels`?
    fn selects(selector: &Json, labels: &Json) -> bool {
        selector
            .as_object()
            .is_some_and(|s| s.iter().all(|(k, v)| labels.get(k) == Some(v)))
    }

    #[test]
    fn off_by_default() -> Result<()> {
        assert!(policies(&render("{}")?).is_empty());
        assert!(policies(&render("networkPolicy: {enabled: false}")?).is_empty());
        Ok(())
    }

    #[test]
    fn each_workload_has_a_policy_with_its_own_selector() -> Result<()> {
        let objects = render(EVERYTHING)?;
        let policies = policies(&objects);
        let workloads = pod_templates(&objects);
        let mut protected = 0;
        for (workload, selector, _) in &workloads {
            let Some(selector) = selector else { continue };
            let name = workload.split_once('/').map_or("", |(_, n)| n);
            let own: Vec<_> = policies
                .iter()
                .filter(|(policy, ..)| *policy == name || *policy == format!("{name}-ingress"))
                .collect();
            assert_eq!(own.len(), 1, "{workload}: policies {own:?}");
            assert_eq!(&own[0].1, selector, "{workload}");
            protected += 1;
        }
        // 15 st2 Deployments (chatops and two sensor Deployments among them), MongoDB and
        // its arbiter, RabbitMQ, Redis, external-dns.
        assert_eq!(protected, 20, "{workloads:?}");
        Ok(())
    }

    #[test]
    fn every_pod_is_selected_by_a_policy() -> Result<()> {
        for yaml in [EVERYTHING, "networkPolicy: {enabled: true}"] {
            let objects = render(yaml)?;
            let policies = policies(&objects);
            let pods = pod_templates(&objects);
            assert!(pods.iter().any(|(w, ..)| w.starts_with("Job/")));
            assert!(pods.iter().any(|(w, ..)| w == "Pod/st2-st2tests"));
            for (workload, _, labels) in pods {
                assert!(
                    policies.iter().any(|(_, s, _)| selects(s, &labels)),
                    "{workload} ({labels}) is selected by no policy"
                );
            }
        }
        Ok(())
    }

    /// The `app.kubernetes.io/name` of each pod a rule lets in.
    fn peer_names(rule: &Json) -> Vec<String> {
        rule["from"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let labels = &p["podSelector"]["matchLabels"];
                labels["app.kubernetes.io/name"]
                    .as_str()
                    .or(labels["app"].as_str())
                    .unwrap_or("?")
                    .to_string()
            })
            .collect()
    }

    fn spec(objects: &[Object], name: &str) -> Result<Json> {
        Ok(body(objects, "NetworkPolicy", name)?["spec"].clone())
    }

    #[test]
    fn backends_accept_the_st2_pods_that_read_st2_conf_and_their_peers() -> Result<()> {
        let objects = render(EVERYTHING)?;
        let readers = [
            "extra-helm-hook-upgrade-warning",
            "st2",
            "st2-apply-rbac-definitions",
            "st2-register-content",
            "st2actionrunner",
            "st2api",
            "st2auth",
            "st2client",
            "st2garbagecollector",
            "st2notifier",
            "st2rulesengine",
            "st2scheduler",
            "st2sensorcontainer-file-watch",
            "st2sensorcontainer-github-watcher",
            "st2stream",
            "st2timersengine",
            "st2workflowengine",
        ];
        let mongodb = spec(&objects, "st2-mongodb-ingress")?;
        assert_eq!(
            mongodb["ingress"],
            json!([
                {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "st2", "app.kubernetes.io/name": "mongodb"}}}],
                 "ports": [{"port": 27017, "protocol": "TCP"}]},
                mongodb["ingress"][1].clone(),
                {"ports": [{"port": 9216, "protocol": "TCP"}]},
            ])
        );
        assert_eq!(peer_names(&mongodb["ingress"][1]), readers);
        assert_eq!(
            spec(&objects, "st2-mongodb-arbiter-ingress")?["ingress"][0],
            mongodb["ingress"][0]
        );

        let rabbitmq = spec(&objects, "st2-rabbitmq-ingress")?;
        let ports = |rule: &Json| -> Vec<i64> {
            rule["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["port"].as_i64())
                .collect()
        };
        assert_eq!(ports(&rabbitmq["ingress"][0]), [5672, 25672, 4369, 15672]);
        assert_eq!(peer_names(&rabbitmq["ingress"][0]), ["rabbitmq"]);
        assert_eq!(ports(&rabbitmq["ingress"][1]), [5672]);
        assert_eq!(peer_names(&rabbitmq["ingress"][1]), readers);
        assert_eq!(ports(&rabbitmq["ingress"][2]), [9419]);
        assert!(rabbitmq["ingress"][2].get("from").is_none());

        let redis = spec(&objects, "st2-redis-node-ingress")?;
        assert_eq!(ports(&redis["ingress"][0]), [6379, 26379]);
        assert_eq!(peer_names(&redis["ingress"][0]), ["redis"]);
        assert_eq!(peer_names(&redis["ingress"][1]), readers);
        assert_eq!(ports(&redis["ingress"][2]), [9121]);

        let dns = spec(&objects, "st2-external-dns-ingress")?;
        assert_eq!(
            dns["ingress"],
            json!([{"ports": [{"port": 7979, "protocol": "TCP"}]}])
        );
        Ok(())
    }

    /// Ports added to the RabbitMQ container are open to st2 and the RabbitMQ pods, in both
    /// flavors; a UDP one cannot be and is reported.
    #[test]
    fn rabbitmq_extra_container_ports_are_open_to_st2_and_peers() -> Result<()> {
        for flavor in ["bitnami", "official"] {
            let (objects, findings) = render_with_findings(&format!(
                "networkPolicy: {{enabled: true}}\nrabbitmq:\n  flavor: {flavor}\n  extraContainerPorts:\n    - {{name: mqtt, containerPort: 1883}}\n    - {{name: amqp-again, containerPort: 5672, protocol: TCP}}\n    - {{name: coap, containerPort: 5683, protocol: UDP}}\n"
            ));
            let objects = objects?;
            let rules = &spec(&objects, "st2-rabbitmq-ingress")?["ingress"];
            let ports = |rule: &Json| -> Vec<i64> {
                rule["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["port"].as_i64())
                    .collect()
            };
            assert_eq!(
                ports(&rules[0]),
                [5672, 1883, 25672, 4369, 15672],
                "{flavor}"
            );
            assert_eq!(peer_names(&rules[0]), ["rabbitmq"], "{flavor}");
            assert_eq!(ports(&rules[1]), [5672, 1883], "{flavor}");
            assert!(
                peer_names(&rules[1]).contains(&"st2api".to_string()),
                "{flavor}"
            );
            let messages: Vec<String> = findings
                .iter()
                .map(|f| format!("{}: {}", f.path, f.message))
                .filter(|m| m.contains("extraContainerPorts"))
                .collect();
            assert_eq!(
                messages,
                [
                    "rabbitmq.extraContainerPorts[2].protocol: `networkPolicy.enabled` opens TCP ports only, so UDP port 5683 stays closed"
                ],
                "{flavor}"
            );
        }
        Ok(())
    }

    #[test]
    fn the_api_accepts_its_clients_and_st2web_anyone() -> Result<()> {
        let objects = render(&EVERYTHING.replacen(
            "networkPolicy: {enabled: true}\n",
            "networkPolicy:\n  enabled: true\n  apiClients:\n    - namespaceSelector: {matchLabels: {team: ops}}\n",
            1,
        ))?;
        let clients = [
            "extra-helm-hook-upgrade-warning",
            "st2",
            "st2actionrunner",
            "st2api",
            "st2auth",
            "st2chatops",
            "st2client",
            "st2sensorcontainer-file-watch",
            "st2sensorcontainer-github-watcher",
            "st2stream",
            "st2tests",
            "st2web",
            "?",
        ];
        for (name, port) in [
            ("st2-st2api", 9101),
            ("st2-st2auth", 9100),
            ("st2-st2stream", 9102),
            ("st2-st2chatops", 8081),
        ] {
            let rules = &spec(&objects, name)?["ingress"];
            assert_eq!(
                rules[0]["ports"],
                json!([{"port": port, "protocol": "TCP"}])
            );
            assert_eq!(peer_names(&rules[0]), clients, "{name}");
            assert_eq!(
                rules[0]["from"][12],
                json!({"namespaceSelector": {"matchLabels": {"team": "ops"}}})
            );
        }
        assert_eq!(
            spec(&objects, "st2-st2web")?["ingress"],
            json!([{"ports": [{"port": 80, "protocol": "TCP"}]}])
        );
        Ok(())
    }

    #[test]
    fn st2web_clients_narrow_st2web() -> Result<()> {
        let objects = render(
            "networkPolicy:\n  enabled: true\n  st2webClients:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}\n",
        )?;
        assert_eq!(
            spec(&objects, "st2-st2web")?["ingress"],
            json!([{
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}],
                "ports": [{"port": 80, "protocol": "TCP"}],
            }])
        );
        Ok(())
    }

    #[test]
    fn pods_without_a_port_accept_nothing() -> Result<()> {
        let objects = render(EVERYTHING)?;
        for name in [
            "st2-st2rulesengine",
            "st2-st2scheduler",
            "st2-st2workflowengine",
            "st2-st2notifier",
            "st2-st2timersengine",
            "st2-st2garbagecollector",
            "st2-st2actionrunner",
            "st2-st2sensorcontainer-file-watch",
            "st2-st2client",
            "st2-st2-register-content",
            "st2-st2tests",
        ] {
            let spec = spec(&objects, name)?;
            assert_eq!(spec["policyTypes"], json!(["Ingress"]), "{name}");
            assert!(spec.get("ingress").is_none(), "{name}: {spec}");
            assert!(spec.get("egress").is_none(), "{name}: {spec}");
        }
        Ok(())
    }

    #[test]
    fn external_backends_get_no_policy() -> Result<()> {
        let objects = render(
            "networkPolicy: {enabled: true}\nmongodb: {enabled: false}\nrabbitmq: {enabled: false}\nredis: {enabled: false}\n",
        )?;
        let names = names(&objects, "NetworkPolicy");
        assert!(names.iter().all(|n| n.starts_with("st2-st2")), "{names:?}");
        assert!(names.contains(&"st2-st2api".to_string()));
        Ok(())
    }

    #[test]
    fn peers_that_are_not_peers_name_their_key() {
        assert_eq!(
            error("networkPolicy:\n  enabled: true\n  apiClients: [{podSelector: nope}]\n"),
            "`networkPolicy.apiClients` does not fit a Kubernetes NetworkPolicyPeer: at `networkPolicy.apiClients[0].podSelector`, expected LabelSelector, found a string"
        );
    }

    #[test]
    fn an_open_bitnami_policy_is_reported() -> Result<()> {
        let (objects, findings) = render_with_findings(
            "networkPolicy: {enabled: true}\nrabbitmq: {networkPolicy: {enabled: true}}\n",
        );
        assert!(!names(&objects?, "NetworkPolicy").is_empty());
        let messages: Vec<String> = findings
            .iter()
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect();
        assert!(
            messages.contains(&"rabbitmq.networkPolicy.allowExternal: lets every pod connect to rabbitmq, so `networkPolicy.enabled` cannot restrict it (NetworkPolicies add up); set it to false".to_string()),
            "{messages:?}"
        );
        let (_, findings) = render_with_findings(
            "networkPolicy: {enabled: true}\nrabbitmq: {networkPolicy: {enabled: true, allowExternal: false}}\n",
        );
        assert!(findings.iter().all(|f| !f.path.contains("networkPolicy")));
        Ok(())
    }
}
