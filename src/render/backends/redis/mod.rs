//! Built-in equivalent of the bitnami redis 12.3.2 subchart as stackstorm-ha renders it: Redis
//! with Sentinel, one StatefulSet of nodes each running a server and a sentinel.
//!
//! Objects are named after `<fullname>`, bitnami's fullname of the chart (`<release>-redis`
//! unless overridden, see [`meta::bitnami_fullname`]).
//!
//! Only sentinel mode exists here (the parent chart requires it). Object names, selectors and
//! volume claim templates are exactly the chart's so that a live Helm release can be taken over.
//! Labels keep the chart's legacy `{app, release}` style without the Helm-only `chart`/`heritage`.
//!
//! `redis.flavor: official` runs a maintained upstream image (Valkey by default) under the same
//! names, see [`official`]; the Secret, Services and optional objects are shared.

mod config;
mod extras;
mod official;
mod services;
mod statefulset;

pub use extras::secret_password;

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Flavor, SubValues, bitnami_image};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::meta;
use crate::values::Value;

/// The subchart's name, the default of `nameOverride` and of the `app` label.
const CHART_NAME: &str = "redis";

/// All Redis objects (called when `redis.enabled`).
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let redis = Redis::new(ctx)?;
    if Flavor::of(ctx, "redis")? == Flavor::Official {
        return official::objects(&redis);
    }
    let metrics = redis.v.at("metrics.enabled").truthy();
    let mut out = Vec::new();
    out.extend(extras::secret(&redis)?);
    out.extend(config::objects(&redis)?);
    out.extend(services::objects(&redis, metrics)?);
    out.push(statefulset::object(&redis)?);
    out.extend(extras::objects(&redis, metrics)?);
    Ok(out)
}

/// The StatefulSet `<fullname>-node` as `networkPolicy.enabled` protects it: st2 and the other
/// Redis pods connect to redis and sentinel; the exporter's port is open when metrics are on.
pub fn network_target(ctx: &Ctx) -> Result<crate::render::backends::NetworkTarget> {
    let redis = Redis::new(ctx)?;
    let v = &redis.v;
    Ok(crate::render::backends::NetworkTarget {
        name: redis.name("-node"),
        selector: redis.node_selector(),
        peers: redis.labels(),
        client_ports: vec![v.int("redisPort")?, v.int("sentinel.port")?],
        peer_ports: Vec::new(),
        // The official flavor runs no exporter.
        open_ports: if v.at("metrics.enabled").truthy()
            && Flavor::of(ctx, "redis")? == Flavor::Bitnami
        {
            vec![statefulset::METRICS_PORT]
        } else {
            Vec::new()
        },
    })
}

/// What every Redis builder needs: the values and the names derived from them.
pub(super) struct Redis<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub v: SubValues<'a>,
    /// `<fullname>`: the prefix of every object name.
    pub fullname: String,
    /// The `app` label and the redis container's name.
    pub app: String,
}

impl<'c, 'a> Redis<'c, 'a> {
    fn new(ctx: &'c Ctx<'a>) -> Result<Self> {
        let v = SubValues::new(ctx, CHART_NAME);
        // The parent's st2.conf only speaks to sentinels, and fails the same way without them.
        if !v.at("sentinel.enabled").truthy() {
            bail!("value for redis.sentinel.enabled MUST be true");
        }
        if !v.at("cluster.enabled").truthy() {
            bail!(
                "`redis.cluster.enabled`: st2k8s renders Redis only as a sentinel-managed cluster; it must be true"
            );
        }
        // The domain ends the host names that the start scripts and configuration files name.
        if !v
            .string("clusterDomain")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            bail!(
                "`{}`: expected a DNS domain (letters, digits, `-` and `.`)",
                v.key("clusterDomain")
            );
        }
        Ok(Self {
            ctx,
            fullname: meta::subchart_fullname(ctx, CHART_NAME),
            app: meta::bitnami_name(CHART_NAME, &v.values),
            v,
        })
    }

    /// `<fullname><suffix>`.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.fullname)
    }

    /// The labels every Redis object carries and every Redis selector uses: `{app, release}`.
    pub fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app".to_string(), self.app.clone()),
            ("release".to_string(), self.ctx.release.name.clone()),
        ])
    }

    /// The selector of the StatefulSet `<fullname>-node`: [`Redis::labels`] and `role: node`.
    pub fn node_selector(&self) -> BTreeMap<String, String> {
        let mut labels = self.labels();
        labels.insert("role".into(), "node".into());
        labels
    }

    /// Metadata of a Redis object: name, the release namespace, labels.
    pub fn meta(&self, name: String) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.ctx.release.namespace.clone()),
            labels: Some(self.labels()),
            ..Default::default()
        }
    }

    /// `<fqdn of a Service>`: `<name>.<namespace>.svc.<redis.clusterDomain>`.
    pub fn service_host(&self, service: &str) -> String {
        format!(
            "{service}.{}.svc.{}",
            self.ctx.release.namespace,
            self.v.string("clusterDomain")
        )
    }

    /// The Secret holding the password: `existingSecret`, else `<fullname>`.
    pub fn secret_name(&self) -> String {
        self.v
            .at("existingSecret")
            .non_empty()
            .map_or_else(|| self.fullname.clone(), Value::to_go_string)
    }

    /// The password's key in that Secret.
    pub fn secret_key(&self) -> String {
        match (
            self.v.at("existingSecret").truthy(),
            self.v.at("existingSecretPasswordKey").non_empty(),
        ) {
            (true, Some(key)) => key.to_go_string(),
            _ => extras::PASSWORD_KEY.to_string(),
        }
    }

    /// The ServiceAccount the pods run as (`redis.serviceAccountName`).
    pub fn service_account(&self) -> String {
        let fallback = if self.v.at("serviceAccount.create").truthy() {
            self.fullname.clone()
        } else {
            "default".into()
        };
        self.v
            .at("serviceAccount.name")
            .non_empty()
            .map_or(fallback, Value::to_go_string)
    }

    /// The image of the block at `path` (`image`, `sentinel.image`…), see [`bitnami_image`].
    pub fn image(&self, path: &str) -> Result<String> {
        bitnami_image(self.v.at(path), self.v.at("global"), &self.v.key(path))
    }

    /// A TLS file path under the certificates mount; `fail`s like the chart when the file name is missing.
    pub fn tls_file(&self, key: &str, what: &str) -> Result<String> {
        match self.v.at(&format!("tls.{key}")).non_empty() {
            Some(file) => Ok(format!("/opt/bitnami/redis/certs/{}", file.to_go_string())),
            None => bail!("{what} is required when TLS in enabled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::test_support::unread;

    #[test]
    fn keys_nothing_reads_are_reported() {
        let yaml = "redis:\n  cluster: {slaveCount: 5}\n  podSecurityPolicy: {create: true}\n  \
             master: {extraFlags: [--x], persistence: {path: /data}}\n  slave: {spreadConstraints: {a: b}}\n  \
             networkPolicy: {enabled: false}\n";
        assert_eq!(
            unread(yaml),
            [
                "redis.master.extraFlags",
                "redis.podSecurityPolicy.create",
                "redis.slave.spreadConstraints.a"
            ]
        );
        assert!(unread("{}").is_empty());
        // Parent globals are copied into the section; they are the parent's to report.
        assert!(unread("global: {foo: 1}").is_empty());
    }
}
