//! The optional Redis objects: the password Secret, NetworkPolicy,
//! PodDisruptionBudget, ServiceAccount, Role/RoleBinding and the Prometheus operator's
//! ServiceMonitor and PrometheusRule.
//!
//! The PodDisruptionBudget is `policy/v1` (the chart's `policy/v1beta1` is gone since Kubernetes
//! 1.25) and selects `{app, release}` only, since st2k8s does not put the chart's `chart` label
//! on pods. The PodSecurityPolicy (removed in 1.25) is not rendered.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::{CHART_NAME, Redis};
use crate::object::Object;
use crate::render::backends::{SubValues, custom_object, tpl_block};
use crate::render::ctx::Ctx;
use crate::render::kit::string_map;
use crate::render::meta;
use crate::values::Value;

/// Data key of the password in Secret `<fullname>`.
pub(super) const PASSWORD_KEY: &str = "redis-password";

/// The password of Secret `<fullname>`, when st2k8s renders that Secret (`usePassword` and no
/// `existingSecret`): `global.redis.password`, then `password`, generated (from the seed when
/// there is one) only when neither is set. The parent's st2.conf connects with it when
/// `redis.password` is empty, so a generated password reaches st2 too (the chart leaves st2
/// without one, and it cannot connect).
pub fn secret_password(ctx: &Ctx) -> Option<String> {
    let v = SubValues::new(ctx, "redis");
    if !v.at("usePassword").truthy() || v.at("existingSecret").truthy() {
        return None;
    }
    let given = v.global(ctx, "redis").key("password").or(v.at("password"));
    let fullname = meta::subchart_fullname(ctx, CHART_NAME);
    Some(
        ctx.secrets
            .given_or_alphanumeric(given.value(), &fullname, PASSWORD_KEY, 10),
    )
}

/// The Secret `<fullname>` with `redis-password`, iff `usePassword` and no `existingSecret`.
pub(super) fn secret(redis: &Redis) -> Result<Option<Object>> {
    let Some(password) = secret_password(redis.ctx) else {
        return Ok(None);
    };
    Ok(Some(Object::new(&Secret {
        metadata: redis.meta(redis.fullname.clone()),
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            PASSWORD_KEY.to_string(),
            ByteString(password.into_bytes()),
        )])),
        ..Default::default()
    })?))
}

/// Every optional object that is enabled; `metrics` (the exporter runs) adds the Prometheus
/// operator's objects and the exporter's port to the NetworkPolicy when enabled.
pub(super) fn objects(redis: &Redis, metrics: bool) -> Result<Vec<Object>> {
    let v = &redis.v;
    let mut out = Vec::new();
    if v.at("networkPolicy.enabled").truthy() {
        out.push(network_policy(redis, metrics)?);
    }
    if v.at("podDisruptionBudget.enabled").truthy() {
        out.push(disruption_budget(redis)?);
    }
    if v.at("serviceAccount.create").truthy() {
        let mut metadata = redis.meta(redis.service_account());
        metadata.annotations = v
            .at("serviceAccount.annotations")
            .non_empty()
            .map(string_map);
        out.push(Object::new(&ServiceAccount {
            metadata,
            ..Default::default()
        })?);
    }
    if v.at("rbac.create").truthy() {
        out.push(Object::new(&Role {
            metadata: redis.meta(redis.fullname.clone()),
            rules: Some(
                v.typed::<Option<Vec<PolicyRule>>>("rbac.role.rules")?
                    .unwrap_or_default(),
            ),
        })?);
        out.push(Object::new(&RoleBinding {
            metadata: redis.meta(redis.fullname.clone()),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: redis.fullname.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: redis.service_account(),
                ..Default::default()
            }]),
        })?);
    }
    if metrics && v.at("metrics.serviceMonitor.enabled").truthy() {
        out.push(service_monitor(redis));
    }
    if metrics && v.at("metrics.prometheusRule.enabled").truthy() {
        out.push(prometheus_rule(redis)?);
    }
    Ok(out)
}

fn port(port: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(port)),
        ..Default::default()
    }
}

fn pods(labels: BTreeMap<String, String>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(labels),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Redis pods talk to each other and to DNS; clients need the `<fullname>-client: "true"` label
/// unless `networkPolicy.allowExternal`.
fn network_policy(redis: &Redis, metrics: bool) -> Result<Object> {
    let v = &redis.v;
    let redis_ports = vec![port(v.int("redisPort")?), port(v.int("sentinel.port")?)];
    let from = (!v.at("networkPolicy.allowExternal").truthy()).then(|| {
        let mut peers = vec![
            pods(BTreeMap::from([(
                redis.name("-client"),
                "true".to_string(),
            )])),
            pods(redis.labels()),
        ];
        if let Some(namespaces) = v.at("networkPolicy.ingressNSMatchLabels").non_empty() {
            peers.push(NetworkPolicyPeer {
                namespace_selector: Some(LabelSelector {
                    match_labels: Some(string_map(namespaces)),
                    ..Default::default()
                }),
                pod_selector: v
                    .at("networkPolicy.ingressNSPodMatchLabels")
                    .non_empty()
                    .map(|p| LabelSelector {
                        match_labels: Some(string_map(p)),
                        ..Default::default()
                    }),
                ..Default::default()
            });
        }
        peers
    });
    let mut ingress = vec![NetworkPolicyIngressRule {
        ports: Some(redis_ports.clone()),
        from,
    }];
    if metrics {
        ingress.push(NetworkPolicyIngressRule {
            ports: Some(vec![port(9121)]),
            from: None,
        });
    }
    let dns = NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some("UDP".into()),
        ..Default::default()
    };
    Object::new(&NetworkPolicy {
        metadata: redis.meta(redis.fullname.clone()),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(redis.labels()),
                ..Default::default()
            }),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            egress: Some(vec![
                NetworkPolicyEgressRule {
                    ports: Some(vec![dns]),
                    to: None,
                },
                NetworkPolicyEgressRule {
                    ports: Some(redis_ports),
                    to: Some(vec![pods(redis.labels())]),
                },
            ]),
            ingress: Some(ingress),
        }),
    })
}

/// `minAvailable`/`maxUnavailable`: a count, or a percentage string.
fn int_or_percent(value: &Value) -> Option<IntOrString> {
    match value {
        Value::Int(i) => i32::try_from(*i).ok().map(IntOrString::Int),
        v if v.truthy() => Some(IntOrString::String(v.to_go_string())),
        _ => None,
    }
}

fn disruption_budget(redis: &Redis) -> Result<Object> {
    let v = &redis.v;
    let mut metadata = redis.meta(redis.fullname.clone());
    metadata.labels = Some(BTreeMap::from([("app".to_string(), redis.app.clone())]));
    Object::new(&PodDisruptionBudget {
        metadata,
        spec: Some(PodDisruptionBudgetSpec {
            min_available: v
                .at("podDisruptionBudget.minAvailable")
                .non_empty()
                .and_then(int_or_percent),
            max_unavailable: v
                .at("podDisruptionBudget.maxUnavailable")
                .non_empty()
                .and_then(int_or_percent),
            selector: Some(LabelSelector {
                match_labels: Some(redis.labels()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The namespace of a monitoring object: its own `namespace` key, else the release's.
fn monitoring_namespace(redis: &Redis, path: &str) -> String {
    redis
        .v
        .at(path)
        .non_empty()
        .map_or_else(|| redis.ctx.release.namespace.clone(), Value::to_go_string)
}

fn service_monitor(redis: &Redis) -> Object {
    let v = &redis.v;
    let mut labels = redis.labels();
    labels.extend(string_map(v.at("metrics.serviceMonitor.selector").value()));
    let mut endpoint = json!({"port": "metrics"});
    if let Some(interval) = v.at("metrics.serviceMonitor.interval").non_empty() {
        endpoint["interval"] = interval.to_json();
    }
    let mut selector = redis.labels();
    selector.insert("app.kubernetes.io/component".into(), "metrics".into());
    let name = redis.fullname.clone();
    custom_object(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        name.clone(),
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {
                "name": name,
                "namespace": monitoring_namespace(redis, "metrics.serviceMonitor.namespace"),
                "labels": labels,
            },
            "spec": {
                "endpoints": [endpoint],
                "selector": {"matchLabels": selector},
                "namespaceSelector": {"matchNames": [redis.ctx.release.namespace]},
            },
        }),
    )
}

fn prometheus_rule(redis: &Redis) -> Result<Object> {
    let v = &redis.v;
    let mut labels = redis.labels();
    labels.extend(string_map(
        v.at("metrics.prometheusRule.additionalLabels").value(),
    ));
    // The rules are passed through `tpl`; without rules the chart leaves `spec` empty.
    let spec = match v.at("metrics.prometheusRule.rules").non_empty() {
        Some(rules) => json!({"groups": [{
            "name": redis.app,
            "rules": tpl_block(redis.ctx, rules, &v.key("metrics.prometheusRule.rules"))?,
        }]}),
        None => serde_json::Value::Null,
    };
    let name = redis.fullname.clone();
    Ok(custom_object(
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        name.clone(),
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {
                "name": name,
                "namespace": monitoring_namespace(redis, "metrics.prometheusRule.namespace"),
                "labels": labels,
            },
            "spec": spec,
        }),
    ))
}
