//! ConfigMap `<fullname>-config`: `rabbitmq.conf` (and `advanced.config` when given).
//!
//! With the chart's default `configuration`, `rabbitmq.conf` comes from the embedded template
//! `rabbitmq/rabbitmq.conf` (credentials, k8s peer discovery, `extraConfiguration`, TLS, LDAP,
//! metrics, memory high watermark). A user-supplied `configuration` is evaluated with `tpl`.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::ConfigMap;
use serde::Serialize;

use super::Rabbit;
use crate::object::Object;
use crate::render::backends::default_section;
use crate::templates;

/// What the `rabbitmq.conf` template needs.
#[derive(Debug, Serialize)]
struct Conf {
    username: String,
    cluster_domain: String,
    extra_configuration: String,
    tls: Option<Tls>,
    ldap: Option<Ldap>,
    metrics: bool,
    memory: Option<Memory>,
}

#[derive(Debug, Serialize)]
pub(super) struct Tls {
    verify: String,
    port: String,
    fail_if_no_peer_cert: String,
    /// Where the image finds the certificate files.
    dir: &'static str,
}

#[derive(Debug, Serialize)]
pub(super) struct Ldap {
    servers: Vec<String>,
    port: String,
    user_dn_pattern: String,
    use_ssl: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct Memory {
    pub(super) total_bytes: u128,
    pub(super) kind: String,
    pub(super) value: String,
}

pub(super) fn config_map(rabbit: &Rabbit) -> Result<Object> {
    config_map_of(rabbit, rabbitmq_conf(rabbit)?, [])
}

/// ConfigMap `<fullname>-config` of either flavor: `rabbitmq.conf` with the text `conf`, the
/// flavor's `files` and, when given, `advanced.config`.
pub(super) fn config_map_of<const N: usize>(
    rabbit: &Rabbit,
    conf: String,
    files: [(&str, String); N],
) -> Result<Object> {
    let mut data = BTreeMap::from([("rabbitmq.conf".to_string(), block_text(&conf))]);
    data.extend(files.map(|(name, text)| (name.to_string(), text)));
    if rabbit.v("advancedConfiguration").truthy() {
        data.insert(
            "advanced.config".into(),
            block_text(&rabbit.tpl_value("advancedConfiguration")?),
        );
    }
    Object::new(&ConfigMap {
        metadata: rabbit.meta(rabbit.name("config")),
        data: Some(data),
        ..Default::default()
    })
}

/// The chart embeds the text in a `|-` block: trailing line breaks are dropped.
pub(super) fn block_text(text: &str) -> String {
    text.trim_end_matches('\n').to_string()
}

/// The text of `rabbitmq.conf`.
fn rabbitmq_conf(rabbit: &Rabbit) -> Result<String> {
    if let Some(custom) = custom_configuration(rabbit)? {
        return Ok(custom);
    }
    let conf = Conf {
        username: rabbit.v("auth.username").to_go_string(),
        cluster_domain: rabbit.v("clusterDomain").to_go_string(),
        extra_configuration: rabbit.tpl_value("extraConfiguration")?,
        tls: tls(rabbit, "/opt/bitnami/rabbitmq/certs"),
        ldap: ldap(rabbit),
        metrics: rabbit.v("metrics.enabled").truthy(),
        memory: memory(rabbit)?,
    };
    templates::render("rabbitmq/rabbitmq.conf", &conf)
}

/// A user-written `configuration` (anything but the chart's default), evaluated with `tpl`: it
/// replaces the generated `rabbitmq.conf` whole.
pub(super) fn custom_configuration(rabbit: &Rabbit) -> Result<Option<String>> {
    if rabbit.v("configuration").value() == default_section("rabbitmq").key("configuration") {
        return Ok(None);
    }
    rabbit.tpl_value("configuration").map(Some)
}

/// The TLS listener settings (`auth.tls.enabled`), the certificates being files in `dir`.
pub(super) fn tls(rabbit: &Rabbit, dir: &'static str) -> Option<Tls> {
    rabbit.v("auth.tls.enabled").truthy().then(|| Tls {
        verify: rabbit.v("auth.tls.sslOptionsVerify").to_go_string(),
        port: rabbit.v("service.tlsPort").to_go_string(),
        fail_if_no_peer_cert: rabbit.v("auth.tls.failIfNoPeerCert").to_go_string(),
        dir,
    })
}

/// The LDAP authentication settings (`ldap.enabled`).
pub(super) fn ldap(rabbit: &Rabbit) -> Option<Ldap> {
    rabbit.v("ldap.enabled").truthy().then(|| Ldap {
        servers: rabbit
            .v("ldap.servers")
            .as_list()
            .iter()
            .map(|s| s.to_go_string())
            .collect(),
        port: rabbit.v("ldap.port").to_go_string(),
        user_dn_pattern: rabbit.v("ldap.user_dn_pattern").to_go_string(),
        use_ssl: rabbit.v("ldap.tls.enabled").truthy(),
    })
}

/// The memory high watermark settings (`memoryHighWatermark.enabled`): the pod's memory limit
/// in bytes, which RabbitMQ cannot see inside a container, and the watermark itself.
pub(super) fn memory(rabbit: &Rabbit) -> Result<Option<Memory>> {
    if !rabbit.v("memoryHighWatermark.enabled").truthy() {
        return Ok(None);
    }
    let kind = rabbit.v("memoryHighWatermark.type").to_go_string();
    if kind != "absolute" && kind != "relative" {
        bail!("`rabbitmq.memoryHighWatermark.type` must be `absolute` or `relative`");
    }
    let Some(total_bytes) = memory_limit(rabbit)? else {
        bail!(
            "`rabbitmq.memoryHighWatermark.enabled` needs a memory limit in `rabbitmq.resources.limits.memory`"
        );
    };
    Ok(Some(Memory {
        total_bytes,
        kind,
        value: rabbit.v("memoryHighWatermark.value").to_go_string(),
    }))
}

/// The pod's memory limit (`resources.limits.memory`) in bytes, when set.
pub(super) fn memory_limit(rabbit: &Rabbit) -> Result<Option<u128>> {
    let Some(limit) = rabbit.v("resources.limits.memory").non_empty() else {
        return Ok(None);
    };
    quantity_bytes(&limit.to_go_string())
        .context(
            "`rabbitmq.resources.limits.memory` must be a memory size (a number of bytes, with a suffix such as `Mi` or `G`)",
        )
        .map(Some)
}

/// Bytes of a Kubernetes memory quantity: a decimal number with an optional binary (`Ki`…`Ei`)
/// or decimal (`k`/`K`…`E`) suffix. The chart only handles whole numbers with a suffix and
/// writes an empty value otherwise; plain byte counts and fractions are read correctly here.
pub(super) fn quantity_bytes(quantity: &str) -> Option<u128> {
    let split = quantity
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(quantity.len());
    let (number, unit) = quantity.split_at(split);
    let multiplier: u128 = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        "k" | "K" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "P" => 1_000_000_000_000_000,
        "E" => 1_000_000_000_000_000_000,
        _ => return None,
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    whole
        .checked_mul(multiplier)?
        .checked_add(fraction.checked_mul(multiplier)? / scale)
}

#[cfg(test)]
mod tests {
    use super::super::tests::with_rabbit;
    use super::*;

    /// The start of every default `rabbitmq.conf`, up to `extraConfiguration`.
    const HEAD: &str = "## Username and password
default_user = admin
default_pass = CHANGEME
## Clustering
cluster_formation.peer_discovery_backend  = rabbit_peer_discovery_k8s
cluster_formation.k8s.host = kubernetes.default.svc.cluster.local
cluster_formation.node_cleanup.interval = 10
cluster_formation.node_cleanup.only_log_warning = true
cluster_partition_handling = autoheal
# queue master locator
queue_master_locator = min-masters
# enable guest user
loopback_users.guest = false
";

    fn conf(yaml: &str) -> Result<String> {
        with_rabbit(yaml, |rabbit| rabbitmq_conf(rabbit).map(|t| block_text(&t)))
    }

    #[test]
    fn default_conf_loads_definitions() {
        assert_eq!(
            conf("{}").ok(),
            Some(format!(
                "{HEAD}load_definitions = /app/rabbitmq-definitions.json"
            ))
        );
    }

    #[test]
    fn extra_configuration_and_metrics() {
        let yaml = "rabbitmq:\n  extraConfiguration: |\n    a = 1\n    b = {{ .Release.Namespace }}\n  metrics:\n    enabled: true\n";
        assert_eq!(
            conf(yaml).ok(),
            Some(format!(
                "{HEAD}a = 1\nb = ns\n\n## Prometheus metrics\nprometheus.tcp.port = 9419"
            ))
        );
    }

    #[test]
    fn tls_ldap_and_memory_sections() {
        let yaml = "rabbitmq:
  extraConfiguration: ''
  auth: {tls: {enabled: true}}
  ldap: {enabled: true, servers: [a.example, b.example], port: 636, tls: {enabled: true}}
  memoryHighWatermark: {enabled: true, type: absolute, value: 512MB}
  resources: {limits: {memory: 1280Mi}}
";
        let want = format!(
            "{HEAD}
ssl_options.verify = verify_peer
listeners.ssl.default = 5671
ssl_options.fail_if_no_peer_cert = true
ssl_options.cacertfile = /opt/bitnami/rabbitmq/certs/ca_certificate.pem
ssl_options.certfile = /opt/bitnami/rabbitmq/certs/server_certificate.pem
ssl_options.keyfile = /opt/bitnami/rabbitmq/certs/server_key.pem
auth_backends.1 = rabbit_auth_backend_ldap
auth_backends.2 = internal
auth_ldap.servers.1 = a.example
auth_ldap.servers.2 = b.example
auth_ldap.port = 636
auth_ldap.user_dn_pattern = cn=${{username}},dc=example,dc=org
auth_ldap.use_ssl = true
## Memory Threshold
total_memory_available_override_value = 1342177280
vm_memory_high_watermark.absolute = 512MB"
        );
        assert_eq!(conf(yaml).ok(), Some(want));
    }

    #[test]
    fn memory_watermark_needs_a_limit_and_a_known_type() {
        let no_limit = "rabbitmq:\n  memoryHighWatermark: {enabled: true}\n";
        assert!(conf(no_limit).is_err());
        let bad_type = "rabbitmq:\n  memoryHighWatermark: {enabled: true, type: x}\n  resources: {limits: {memory: 1Gi}}\n";
        assert!(conf(bad_type).is_err());
        let relative = "rabbitmq:\n  extraConfiguration: ''\n  memoryHighWatermark: {enabled: true}\n  resources: {limits: {memory: 2Gi}}\n";
        assert!(conf(relative).is_ok_and(|c| c.ends_with(
            "## Memory Threshold\ntotal_memory_available_override_value = 2147483648\nvm_memory_high_watermark.relative = 0.4"
        )));
    }

    #[test]
    fn custom_configuration_is_templated() {
        let yaml =
            "rabbitmq:\n  configuration: |\n    default_user = {{ .Values.auth.username }}\n";
        assert_eq!(conf(yaml).ok().as_deref(), Some("default_user = admin"));
    }

    #[test]
    fn quantities_in_bytes() {
        for (q, want) in [
            ("1280Mi", Some(1_342_177_280)),
            ("1Gi", Some(1 << 30)),
            ("512M", Some(512_000_000)),
            ("2k", Some(2_000)),
            ("1.5Gi", Some(1_610_612_736)),
            ("1048576", Some(1_048_576)),
            ("1Zi", None),
            ("Mi", None),
            ("1.2.3Mi", None),
        ] {
            assert_eq!(quantity_bytes(q), want, "{q}");
        }
    }
}
