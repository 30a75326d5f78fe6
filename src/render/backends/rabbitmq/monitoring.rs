//! Prometheus Operator objects for the RabbitMQ metrics endpoint (`metrics.enabled`):
//! ServiceMonitor `<fullname>` (`metrics.serviceMonitor.enabled`) and PrometheusRule `<fullname>`
//! (`metrics.prometheusRule.enabled`).
//!
//! These are custom resources, absent from `k8s-openapi`, so they are typed here.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::{Metadata, NamespaceResourceScope, Resource};
use serde::Serialize;
use serde_json::Value as Json;

use super::Rabbit;
use crate::object::Object;
use crate::values::Value;

const MONITORING_API: &str = "monitoring.coreos.com/v1";

pub(super) fn objects(rabbit: &Rabbit) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if !rabbit.v("metrics.enabled").truthy() {
        return Ok(out);
    }
    if rabbit.v("metrics.serviceMonitor.enabled").truthy() {
        out.push(service_monitor(rabbit)?);
    }
    if rabbit.v("metrics.prometheusRule.enabled").truthy() {
        out.push(prometheus_rule(rabbit)?);
    }
    Ok(out)
}

/// A `monitoring.coreos.com/v1` ServiceMonitor.
#[derive(Debug, Serialize)]
struct ServiceMonitor {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: ServiceMonitorSpec,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ServiceMonitorSpec {
    endpoints: Vec<Endpoint>,
    namespace_selector: NamespaceSelector,
    selector: LabelSelector,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    port: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    interval: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scrape_timeout: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    honor_labels: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric_relabelings: Option<Json>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceSelector {
    match_names: Vec<String>,
}

/// A `monitoring.coreos.com/v1` PrometheusRule.
#[derive(Debug, Serialize)]
struct PrometheusRule {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: PrometheusRuleSpec,
}

#[derive(Debug, Serialize)]
struct PrometheusRuleSpec {
    groups: Option<Vec<RuleGroup>>,
}

#[derive(Debug, Serialize)]
struct RuleGroup {
    name: String,
    rules: Json,
}

macro_rules! monitoring_resource {
    ($ty:ident, $kind:literal, $plural:literal) => {
        impl Resource for $ty {
            const API_VERSION: &'static str = MONITORING_API;
            const GROUP: &'static str = "monitoring.coreos.com";
            const KIND: &'static str = $kind;
            const VERSION: &'static str = "v1";
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = NamespaceResourceScope;
        }

        impl Metadata for $ty {
            type Ty = ObjectMeta;

            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

monitoring_resource!(ServiceMonitor, "ServiceMonitor", "servicemonitors");
monitoring_resource!(PrometheusRule, "PrometheusRule", "prometheusrules");

/// Metadata of a monitoring object: its own namespace when configured, extra labels.
fn monitoring_meta(rabbit: &Rabbit, key: &str) -> Result<ObjectMeta> {
    let mut metadata = rabbit.meta(rabbit.fullname.clone());
    if let Some(namespace) = rabbit.v(&format!("{key}.namespace")).non_empty() {
        metadata.namespace = Some(namespace.to_go_string());
    }
    let extra: BTreeMap<String, String> =
        rabbit.string_map(&format!("{key}.additionalLabels"), true)?;
    if let Some(labels) = metadata.labels.as_mut() {
        labels.extend(extra);
    }
    Ok(metadata)
}

fn service_monitor(rabbit: &Rabbit) -> Result<Object> {
    let optional = |field: &str| {
        rabbit
            .v(&format!("metrics.serviceMonitor.{field}"))
            .non_empty()
            .map(Value::to_json)
    };
    Object::new(&ServiceMonitor {
        api_version: MONITORING_API,
        kind: "ServiceMonitor",
        metadata: monitoring_meta(rabbit, "metrics.serviceMonitor")?,
        spec: ServiceMonitorSpec {
            endpoints: vec![Endpoint {
                port: "metrics".into(),
                interval: optional("interval"),
                scrape_timeout: optional("scrapeTimeout"),
                honor_labels: optional("honorLabels"),
                metric_relabelings: optional("relabellings"),
            }],
            namespace_selector: NamespaceSelector {
                match_names: vec![rabbit.namespace().to_string()],
            },
            selector: LabelSelector {
                match_labels: Some(rabbit.selector()),
                ..Default::default()
            },
        },
    })
}

fn prometheus_rule(rabbit: &Rabbit) -> Result<Object> {
    let groups = if rabbit.v("metrics.prometheusRule.rules").truthy() {
        Some(vec![RuleGroup {
            name: rabbit.name.clone(),
            rules: rabbit.tpl_json("metrics.prometheusRule.rules")?,
        }])
    } else {
        None
    };
    // Without rules the chart prints `groups:` with no value: `None` serializes as that null.
    Object::new(&PrometheusRule {
        api_version: MONITORING_API,
        kind: "PrometheusRule",
        metadata: monitoring_meta(rabbit, "metrics.prometheusRule")?,
        spec: PrometheusRuleSpec { groups },
    })
}
