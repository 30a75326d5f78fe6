//! How RabbitMQ is reached: the client Service `<fullname>`, the headless Service
//! `<fullname>-headless` (pod DNS for clustering), and the optional management Ingress,
//! NetworkPolicy and PodDisruptionBudget.
//!
//! The chart's Ingress is `networking.k8s.io/v1beta1` and its PDB `policy/v1beta1`, both removed
//! from Kubernetes; they are rendered as `networking.k8s.io/v1` (path type
//! `ImplementationSpecific`, the v1beta1 behaviour) and `policy/v1`.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyIngressRule,
    NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Rabbit;
use crate::object::Object;
use crate::values::Value;

use super::statefulset::EPMD_PORT;

pub(super) fn objects(rabbit: &Rabbit) -> Result<Vec<Object>> {
    let mut out = vec![headless_service(rabbit)?, service(rabbit)?];
    if rabbit.v("ingress.enabled").truthy() {
        out.push(ingress(rabbit)?);
    }
    if rabbit.v("networkPolicy.enabled").truthy() {
        out.push(network_policy(rabbit)?);
    }
    if rabbit.v("pdb.create").truthy() {
        out.push(pod_disruption_budget(rabbit)?);
    }
    Ok(out)
}

fn port(name: String, port: i32, target: &str) -> ServicePort {
    ServicePort {
        name: Some(name),
        port,
        target_port: Some(IntOrString::String(target.to_string())),
        ..Default::default()
    }
}

/// `<fullname>-headless`: gives every pod a stable DNS name for peer discovery.
fn headless_service(rabbit: &Rabbit) -> Result<Object> {
    let mut ports = vec![
        port(
            rabbit.v("service.epmdPortName").to_go_string(),
            EPMD_PORT,
            "epmd",
        ),
        port(
            "amqp".into(),
            rabbit.int("service.port")?,
            &rabbit.v("service.portName").to_go_string(),
        ),
    ];
    if rabbit.v("auth.tls.enabled").truthy() {
        // The chart names the target `amqp-tls` while the container port is `amqp-ssl`; kept as
        // the chart renders it, since clients reach TLS through the client Service.
        ports.push(port(
            rabbit.v("service.tlsPortName").to_go_string(),
            rabbit.int("service.tlsPort")?,
            "amqp-tls",
        ));
    }
    ports.push(port(
        rabbit.v("service.distPortName").to_go_string(),
        rabbit.int("service.distPort")?,
        "dist",
    ));
    ports.push(port(
        rabbit.v("service.managerPortName").to_go_string(),
        rabbit.int("service.managerPort")?,
        "stats",
    ));
    Object::new(&Service {
        metadata: rabbit.meta(rabbit.name("headless")),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            ports: Some(ports),
            selector: Some(rabbit.selector()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// When the chart gives a port a `nodePort`.
#[derive(Clone, Copy)]
enum NodePortOn {
    /// NodePort and LoadBalancer Services (AMQP ports).
    NodeOrBalancer,
    /// NodePort Services only (the other ports).
    Node,
}

/// `<fullname>`: the client Service (AMQP, management, metrics).
fn service(rabbit: &Rabbit) -> Result<Object> {
    let kind = rabbit.v("service.type").to_go_string();
    let cluster_ip = kind == "ClusterIP";
    let mut specs: Vec<(&str, &str, &str, &str, NodePortOn)> = vec![(
        "service.portName",
        "service.port",
        "amqp",
        "service.nodePort",
        NodePortOn::NodeOrBalancer,
    )];
    if !rabbit.v("auth.tls.enabled").truthy() {
        // The TLS port's settings apply only with TLS.
        for key in [
            "service.tlsPortName",
            "service.tlsPort",
            "service.tlsNodePort",
        ] {
            rabbit.v(key).pass_over();
        }
    }
    if rabbit.v("auth.tls.enabled").truthy() {
        specs.push((
            "service.tlsPortName",
            "service.tlsPort",
            "amqp-ssl",
            "service.tlsNodePort",
            NodePortOn::NodeOrBalancer,
        ));
    }
    specs.push((
        "service.epmdPortName",
        "",
        "epmd",
        "service.epmdNodePort",
        NodePortOn::Node,
    ));
    specs.push((
        "service.distPortName",
        "service.distPort",
        "dist",
        "service.distNodePort",
        NodePortOn::Node,
    ));
    specs.push((
        "service.managerPortName",
        "service.managerPort",
        "stats",
        "service.managerNodePort",
        NodePortOn::Node,
    ));
    if !rabbit.v("metrics.enabled").truthy() {
        // The metrics port's settings apply only with the exporter.
        for key in [
            "service.metricsPortName",
            "service.metricsPort",
            "service.metricsNodePort",
        ] {
            rabbit.v(key).pass_over();
        }
    }
    if rabbit.v("metrics.enabled").truthy() {
        specs.push((
            "service.metricsPortName",
            "service.metricsPort",
            "metrics",
            "service.metricsNodePort",
            NodePortOn::Node,
        ));
    }
    let mut ports = Vec::new();
    for (name, number, target, node_port, on) in specs {
        let number = if number.is_empty() {
            EPMD_PORT
        } else {
            rabbit.int(number)?
        };
        let mut p = port(rabbit.v(name).to_go_string(), number, target);
        let applies = match on {
            NodePortOn::NodeOrBalancer => kind == "NodePort" || kind == "LoadBalancer",
            NodePortOn::Node => kind == "NodePort",
        };
        if applies && rabbit.v(node_port).truthy() {
            p.node_port = Some(rabbit.int(node_port)?);
        }
        ports.push(p);
    }
    let chart_ports = ports.len();
    ports.extend(
        rabbit
            .block::<Vec<ServicePort>>("service.extraPorts", true)?
            .unwrap_or_default(),
    );

    let mut metadata = rabbit.meta(rabbit.fullname.clone());
    if let Some(labels) = metadata.labels.as_mut() {
        labels.extend(rabbit.string_map("service.labels", true)?);
    }
    if rabbit.v("service.annotations").truthy() {
        metadata.annotations = Some(rabbit.string_map("service.annotations", true)?);
    }
    let load_balancer = kind == "LoadBalancer";
    let mut spec = ServiceSpec {
        type_: Some(kind.clone()),
        ports: Some(ports),
        selector: Some(rabbit.selector()),
        external_ips: rabbit.block("service.externalIPs", false)?,
        ..Default::default()
    };
    if load_balancer {
        spec.load_balancer_ip = rabbit
            .v("service.loadBalancerIP")
            .non_empty()
            .map(Value::to_go_string);
        spec.load_balancer_source_ranges =
            rabbit.block("service.loadBalancerSourceRanges", false)?;
    }
    let mut object = Object::new(&Service {
        metadata,
        spec: Some(spec),
        ..Default::default()
    })?;
    if cluster_ip {
        // The chart prints `nodePort: null` on its own ports of a ClusterIP Service.
        for i in 0..chart_ports {
            object.set_null(&format!("spec.ports[{i}].nodePort"));
        }
    }
    Ok(object)
}

/// The management UI Ingress (`ingress.*`).
fn ingress(rabbit: &Rabbit) -> Result<Object> {
    let rule = |host: String, path: String| IngressRule {
        host: Some(host),
        http: Some(HTTPIngressRuleValue {
            paths: vec![HTTPIngressPath {
                path: Some(path),
                path_type: "ImplementationSpecific".into(),
                backend: IngressBackend {
                    service: Some(IngressServiceBackend {
                        name: rabbit.fullname.clone(),
                        port: Some(ServiceBackendPort {
                            name: Some("http-stats".into()),
                            ..Default::default()
                        }),
                    }),
                    ..Default::default()
                },
            }],
        }),
    };
    let hostname = rabbit
        .v("ingress.hostname")
        .non_empty()
        .map(Value::to_go_string);
    let mut rules = Vec::new();
    if let Some(host) = &hostname {
        rules.push(rule(host.clone(), rabbit.v("ingress.path").to_go_string()));
    }
    for host in rabbit.v("ingress.extraHosts").as_list() {
        let path = host
            .key("path")
            .non_empty()
            .map_or_else(|| "/".to_string(), Value::to_go_string);
        rules.push(rule(host.key("name").to_go_string(), path));
    }
    let mut tls = Vec::new();
    if rabbit.v("ingress.tls").truthy() {
        let host = hostname.clone().unwrap_or_default();
        let secret = rabbit
            .v("ingress.existingSecret")
            .non_empty()
            .map_or_else(|| format!("{host}-tls"), Value::to_go_string);
        tls.push(IngressTLS {
            hosts: Some(vec![host]),
            secret_name: Some(secret),
        });
    }
    tls.extend(
        rabbit
            .block::<Vec<IngressTLS>>("ingress.extraTls", false)?
            .unwrap_or_default(),
    );

    let mut annotations = BTreeMap::new();
    if rabbit.v("ingress.certManager").truthy() {
        annotations.insert("kubernetes.io/tls-acme".to_string(), "true".to_string());
    }
    annotations.extend(rabbit.string_map("ingress.annotations", true)?);
    let mut metadata = rabbit.meta(rabbit.fullname.clone());
    let no_annotations = annotations.is_empty();
    metadata.annotations = Some(annotations);
    let no_rules = rules.is_empty();
    let mut object = Object::new(&Ingress {
        metadata,
        spec: Some(IngressSpec {
            rules: Some(rules),
            tls: (!tls.is_empty()).then_some(tls),
            ..Default::default()
        }),
        ..Default::default()
    })?;
    // The chart always prints the `annotations:` and `rules:` keys, null when empty.
    if no_annotations {
        object.set_null("metadata.annotations");
    }
    if no_rules {
        object.set_null("spec.rules");
    }
    Ok(object)
}

/// Limits who may connect (`networkPolicy.*`); metrics stay reachable for scrapers.
fn network_policy(rabbit: &Rabbit) -> Result<Object> {
    let ports = |paths: &[&str]| -> Result<Vec<NetworkPolicyPort>> {
        paths
            .iter()
            .map(|path| {
                let port = if path.is_empty() {
                    EPMD_PORT
                } else {
                    rabbit.int(path)?
                };
                Ok(NetworkPolicyPort {
                    port: Some(IntOrString::Int(port)),
                    ..Default::default()
                })
            })
            .collect()
    };
    let pods = |labels: BTreeMap<String, String>| NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(labels),
            ..Default::default()
        }),
        ..Default::default()
    };
    let from = if rabbit.v("networkPolicy.allowExternal").truthy() {
        None
    } else {
        let mut peers = vec![
            pods(BTreeMap::from([(
                format!("{}-client", rabbit.fullname),
                "true".to_string(),
            )])),
            pods(BTreeMap::from([
                ("app".to_string(), rabbit.name.clone()),
                ("release".to_string(), rabbit.ctx.release.name.clone()),
            ])),
        ];
        peers.extend(
            rabbit
                .block::<Vec<NetworkPolicyPeer>>("networkPolicy.additionalRules", true)?
                .unwrap_or_default(),
        );
        Some(peers)
    };
    let amqp = NetworkPolicyIngressRule {
        ports: Some(ports(&[
            "",
            "service.port",
            "service.tlsPort",
            "service.distPort",
            "service.managerPort",
        ])?),
        from,
    };
    let metrics = NetworkPolicyIngressRule {
        ports: Some(ports(&["service.metricsPort"])?),
        from: None,
    };
    Object::new(&NetworkPolicy {
        metadata: rabbit.meta(rabbit.fullname.clone()),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(rabbit.selector()),
                ..Default::default()
            }),
            ingress: Some(vec![amqp, metrics]),
            ..Default::default()
        }),
    })
}

/// `pdb.minAvailable` / `pdb.maxUnavailable`: a count or a percentage, emitted when truthy.
fn int_or_string(value: &Value) -> Option<IntOrString> {
    match value {
        v if !v.truthy() => None,
        Value::Int(i) => i32::try_from(*i).ok().map(IntOrString::Int),
        v => Some(IntOrString::String(v.to_go_string())),
    }
}

fn pod_disruption_budget(rabbit: &Rabbit) -> Result<Object> {
    Object::new(&PodDisruptionBudget {
        metadata: rabbit.meta(rabbit.fullname.clone()),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: int_or_string(rabbit.v("pdb.minAvailable").value()),
            max_unavailable: int_or_string(rabbit.v("pdb.maxUnavailable").value()),
            selector: Some(LabelSelector {
                match_labels: Some(rabbit.selector()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}
