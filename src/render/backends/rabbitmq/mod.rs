//! The built-in RabbitMQ: what the bitnami rabbitmq 8.0.2 subchart renders under stackstorm-ha,
//! built from the `rabbitmq:` values section. Objects are named after `<fullname>`, bitnami's
//! fullname of the chart (`<release>-rabbitmq` unless overridden).
//!
//! [`Rabbit`] is the subchart's view of the values (`.Values` = the `rabbitmq` section plus
//! `global`), its names and labels; one submodule per object family builds on it. Labels follow
//! bitnami common without `helm.sh/chart`; API versions removed from Kubernetes are replaced by
//! their successors (PodDisruptionBudget `policy/v1`, Ingress `networking.k8s.io/v1`).
//!
//! `rabbitmq.flavor: official` ([`official`]) runs RabbitMQ 4 from docker-library's image instead,
//! reusing this module's Services, Secrets, claim template and pod scaffolding, so that the
//! objects Kubernetes never lets change stay the bitnami flavor's.

mod access;
mod config;
mod monitoring;
mod network;
pub mod official;
mod statefulset;

pub use access::password;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::ContainerPort;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::render::backends::Flavor;
use crate::render::meta;

use crate::render::ctx::Ctx;

use crate::object::Object;
use crate::tpl;
use crate::values::check::{Finding, Severity};
use crate::values::{Value, View};

/// The chart name, used for the default fullname and the `app.kubernetes.io/name` label.
const CHART_NAME: &str = "rabbitmq";

/// Every RabbitMQ object for the release (only called when `rabbitmq.enabled`), of the
/// flavor `rabbitmq.flavor` selects.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let rabbit = Rabbit::new(ctx);
    if Flavor::of(ctx, "rabbitmq")? == Flavor::Official {
        return official::objects(&rabbit);
    }
    let mut out = Vec::new();
    out.extend(access::objects(&rabbit, true)?);
    out.push(config::config_map(&rabbit)?);
    out.extend(network::objects(&rabbit)?);
    out.push(statefulset::stateful_set(&rabbit)?);
    out.extend(monitoring::objects(&rabbit)?);
    Ok(out)
}

/// The StatefulSet `<fullname>` as `networkPolicy.enabled` protects it: st2 speaks AMQP (and
/// AMQPS with TLS); clustering (epmd, inter-node) and the management API are for the RabbitMQ
/// pods only, the management port also for everyone when `ingress.enabled` publishes it. Both
/// flavors listen on the same ports (the official one serves its metrics on the chart's
/// metrics port too). The TCP ports of `extraContainerPorts` (a plugin's listener, say) are
/// opened like AMQP: to st2 and the RabbitMQ pods; a UDP or SCTP one is reported, as the
/// policy's rules are TCP only.
pub fn network_target(ctx: &Ctx) -> Result<crate::render::backends::NetworkTarget> {
    use statefulset::{AMQP_PORT, AMQP_TLS_PORT, DIST_PORT, EPMD_PORT, METRICS_PORT, STATS_PORT};
    Flavor::of(ctx, "rabbitmq")?;
    let rabbit = Rabbit::new(ctx);
    let mut client_ports = vec![AMQP_PORT];
    if rabbit.v("auth.tls.enabled").truthy() {
        client_ports.push(AMQP_TLS_PORT);
    }
    let extra = rabbit
        .block::<Vec<ContainerPort>>("extraContainerPorts", false)?
        .unwrap_or_default();
    for (i, port) in extra.iter().enumerate() {
        match port.protocol.as_deref() {
            None | Some("TCP") => {
                if !client_ports.contains(&port.container_port) {
                    client_ports.push(port.container_port);
                }
            }
            Some(protocol) => ctx.report(Finding {
                severity: Severity::Warning,
                path: format!("rabbitmq.extraContainerPorts[{i}].protocol"),
                location: None,
                within: None,
                message: format!(
                    "`networkPolicy.enabled` opens TCP ports only, so {protocol} port {} stays closed",
                    port.container_port
                ),
            }),
        }
    }
    let mut peer_ports = vec![DIST_PORT, EPMD_PORT];
    let mut open_ports = Vec::new();
    if rabbit.v("ingress.enabled").truthy() {
        open_ports.push(STATS_PORT);
    } else {
        peer_ports.push(STATS_PORT);
    }
    if rabbit.v("metrics.enabled").truthy() {
        open_ports.push(METRICS_PORT);
    }
    Ok(crate::render::backends::NetworkTarget {
        name: rabbit.fullname.clone(),
        selector: rabbit.selector(),
        peers: rabbit.selector(),
        client_ports,
        peer_ports,
        open_ports,
    })
}

/// The subchart's view of a render: its values, names and labels.
pub(super) struct Rabbit<'c, 'a> {
    ctx: &'c Ctx<'a>,
    /// `.Values` as the subchart sees it: the `rabbitmq` section with `global` merged in.
    values: View<'a>,
    /// `<fullname>`, the prefix of every object name.
    fullname: String,
    /// The `app.kubernetes.io/name` label value.
    name: String,
}

impl<'c, 'a> Rabbit<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>) -> Self {
        // The loader already copied the parent's `global` into the section (Helm's coalesceGlobals).
        let values = ctx.v("rabbitmq");
        Self {
            ctx,
            fullname: meta::subchart_fullname(ctx, CHART_NAME),
            name: meta::bitnami_name(CHART_NAME, &values),
            values,
        }
    }

    /// The subchart value at a dotted path (null when missing).
    fn v(&self, path: &str) -> View<'a> {
        self.values.at(path)
    }

    /// `<fullname>-<suffix>`.
    fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.fullname)
    }

    fn namespace(&self) -> &str {
        &self.ctx.release.namespace
    }

    /// Evaluate `text` as a template in the subchart's scope (`tpl … $`); `path` names the key.
    fn tpl(&self, text: &str, path: &str) -> Result<String> {
        let scope = tpl::Scope::new(self.values.peek(), self.ctx.release, &self.ctx.tpl_budget)
            .with_reads(&self.ctx.reads);
        Ok(tpl::render(text, &scope, &format!("rabbitmq.{path}"))?)
    }

    /// `tpl` of the string at `path` (empty when unset).
    fn tpl_value(&self, path: &str) -> Result<String> {
        match self.v(path).value() {
            Value::Null => Ok(String::new()),
            Value::String(s) => self.tpl(s, path),
            other => Ok(other.to_go_string()),
        }
    }

    /// bitnami's `common.tplvalues.render` of a block: every string in it evaluated as a template.
    fn tpl_json(&self, path: &str) -> Result<Json> {
        fn walk(rabbit: &Rabbit, value: &Value, path: &str) -> Result<Json> {
            Ok(match value {
                Value::String(s) => Json::String(rabbit.tpl(s, path)?),
                Value::List(items) => items
                    .iter()
                    .map(|v| walk(rabbit, v, path))
                    .collect::<Result<_>>()?,
                Value::Map(map) => Json::Object(
                    map.iter()
                        .map(|(k, v)| Ok((k.clone(), walk(rabbit, v, path)?)))
                        .collect::<Result<_>>()?,
                ),
                other => other.to_json(),
            })
        }
        walk(self, self.v(path).value(), path)
    }

    /// A user block at `path` as a typed field, `tpl`'d first when the chart does so; `None`
    /// when the value is empty (the chart's `if`).
    fn block<T: DeserializeOwned>(&self, path: &str, templated: bool) -> Result<Option<T>> {
        if !self.v(path).truthy() {
            return Ok(None);
        }
        let json = if templated {
            self.tpl_json(path)?
        } else {
            self.v(path).to_json()
        };
        Ok(Some(from_json(self.ctx, json, path)?))
    }

    /// A user string map at `path` (labels, annotations), values `tpl`'d when `templated`.
    fn string_map(&self, path: &str, templated: bool) -> Result<BTreeMap<String, String>> {
        self.v(path)
            .entries()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) if templated => self.tpl(s, path)?,
                    other => other.to_go_string(),
                };
                Ok((k.clone(), text))
            })
            .collect()
    }

    /// An integer field the chart prints unquoted (`replicas`, probe timings, ports).
    fn int(&self, path: &str) -> Result<i32> {
        let value = self.v(path);
        value.whole_number().with_context(|| {
            format!(
                "`{}` must be a whole number, found {}",
                value.path(),
                value.kind_unfit()
            )
        })
    }

    /// `common.labels.matchLabels`: name and instance.
    fn selector(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), self.name.clone()),
            (
                "app.kubernetes.io/instance".to_string(),
                self.ctx.release.name.clone(),
            ),
        ])
    }

    /// `common.labels.standard` without `helm.sh/chart`, managed by st2k8s.
    fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.selector();
        labels.insert(
            "app.kubernetes.io/managed-by".into(),
            meta::MANAGED_BY.into(),
        );
        labels
    }

    /// Name, namespace and standard labels.
    fn meta(&self, name: String) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace().to_string()),
            labels: Some(self.labels()),
            ..Default::default()
        }
    }

    /// `rabbitmq.serviceAccountName`: the account the pods run as.
    fn service_account_name(&self) -> String {
        let fallback = if self.v("serviceAccount.create").truthy() {
            self.fullname.clone()
        } else {
            "default".into()
        };
        self.v("serviceAccount.name")
            .non_empty()
            .map_or(fallback, Value::to_go_string)
    }

    /// Whether the chart renders Secret `<fullname>` (unless both the password and the Erlang
    /// cookie come from existing Secrets).
    fn owns_secret(&self) -> bool {
        !self.v("auth.existingErlangSecret").truthy()
            || !self.v("auth.existingPasswordSecret").truthy()
    }

    /// The `global` block, for images, pull secrets and storage class.
    fn global(&self) -> View<'a> {
        self.v("global")
    }
}

/// Deserialize a user block into its typed field; the error names the values key.
fn from_json<T: DeserializeOwned>(ctx: &Ctx, json: Json, path: &str) -> Result<T> {
    crate::render::pod::convert::typed_json(ctx, json, &format!("rabbitmq.{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::with_release;

    /// Run `f` on the subchart view of `yaml` (release `st2`, namespace `ns`).
    pub(super) fn with_rabbit<T>(yaml: &str, f: impl FnOnce(&Rabbit) -> T) -> T {
        with_release("st2", yaml, |ctx| f(&Rabbit::new(ctx)))
    }

    #[test]
    fn unsupported_keys_names_only_unread_user_keys() {
        let yaml = "rabbitmq:
  replicaCount: 1
  rabbitmqMemoryHighWatermark: 512MB
  image: {foo: bar, tag: x}
  auth: {tls: {enabled: true, existingSecret: rabbitmq-tls, verifyDepth: 2}}
  affinity: {nodeAffinity: {}}
";
        let keys = crate::render::test_support::unread(yaml);
        assert_eq!(
            keys,
            [
                "rabbitmq.auth.tls.verifyDepth",
                "rabbitmq.image.foo",
                "rabbitmq.rabbitmqMemoryHighWatermark"
            ]
        );
        assert!(crate::render::test_support::unread("{}").is_empty());
        assert!(
            crate::render::test_support::unread("rabbitmq: {enabled: false, foo: 1}").is_empty()
        );
    }

    #[test]
    fn global_from_parent_wins_over_section() {
        let yaml = "global: {imageRegistry: a.example}\nrabbitmq:\n  global: {imageRegistry: b.example, storageClass: fast}\n";
        with_release("st2", yaml, |ctx| {
            let rabbit = Rabbit::new(ctx);
            assert_eq!(
                rabbit.global().key("imageRegistry").to_go_string(),
                "a.example"
            );
            assert_eq!(rabbit.global().key("storageClass").to_go_string(), "fast");
        });
    }
}
