//! `rabbitmq.flavor: official`: RabbitMQ 4 from docker-library's `rabbitmq` image (with the
//! management plugin), under the same StatefulSet, Services, claim template and Secrets as the
//! bitnami flavor, so that switching flavors keeps every volume.
//!
//! Why it looks the way it does:
//!
//! - **Data.** RabbitMQ 4 cannot open the data of the chart's RabbitMQ 3.8, and st2 keeps nothing
//!   in RabbitMQ that outlives a restart of its services (they re-declare their exchanges and
//!   queues at start; work in flight is in MongoDB). The claim `data` is mounted at the image's
//!   data directory `/var/lib/rabbitmq`, and the node keeps its database in the new
//!   subdirectory `mnesia/` of it (`RABBITMQ_MNESIA_BASE`). The bitnami node directories
//!   (`rabbit@<pod>…` at the volume's root) are left untouched: nothing deletes or rewrites them,
//!   and switching back to the bitnami flavor finds them as they were. The pod runs as the
//!   chart's user and group (`podSecurityContext`, 1001 with `fsGroup` 1001), which own the
//!   volume already; the official image runs as any user.
//! - **Cluster formation.** Node names are the pods' stable DNS names
//!   (`rabbit@<fullname>-N.<fullname>-headless.<namespace>.svc.<clusterDomain>`, long names), as
//!   with the bitnami flavor. Peer discovery is RabbitMQ 4.1+'s Kubernetes backend: it needs no
//!   Kubernetes API access (so no Role is rendered); on its first boot the pod with ordinal 0
//!   forms the cluster and every other pod joins it, which scaling up keeps doing.
//! - **Restarts.** RabbitMQ 4 keeps its metadata in a Raft store (Khepri) that needs a majority
//!   of the nodes. Under the chart's `podManagementPolicy: OrderedReady` (immutable, so kept),
//!   pod 1 only starts once pod 0 is Ready; the probes therefore check that the Erlang node
//!   answers (`rabbitmq-diagnostics ping`), not that RabbitMQ finished booting, or a restart of
//!   the whole cluster would wait forever for pod 0. The bitnami flavor's
//!   `clustering.forceBoot` (start a node even though it was not the last to stop) answers a
//!   RabbitMQ 3 problem and does not apply.
//! - **High availability.** RabbitMQ 4 removed classic mirrored queues, so the definitions
//!   carry no `ha-mode` policy (RabbitMQ 4 refuses it); instead the vhost's default queue type
//!   is `quorum`. st2 declares its work queues (`st2.actionrunner.work`, `st2.workflow.work`,
//!   the rules engine's, scheduler's and notifier's queues, the trigger and sensor watch
//!   queues) durable, not exclusive, without a queue type: they become quorum queues,
//!   replicated on every node (`quorum_queue.continuous_membership_reconciliation` grows a
//!   queue declared while nodes were missing back to `replicaCount` replicas). The stream
//!   service's queues are exclusive and auto-delete: RabbitMQ keeps those classic, local to
//!   their connection, as under RabbitMQ 3 where mirroring never applied to them. The trigger
//!   and sensor watch queues are named per process (a random suffix) and never used again once
//!   their process is gone; the policy `st2-watch-queues-expire` deletes such a queue after an
//!   hour without consumers, so that restarts do not pile up replicated queues.
//! - **Credentials.** The same Secret `<fullname>` (or the `existing…Secret`s): the Erlang
//!   cookie through `RABBITMQ_ERLANG_COOKIE`, the st2 user through the definitions and, for a
//!   node without definitions, `RABBITMQ_DEFAULT_USER` / `RABBITMQ_DEFAULT_PASS`.
//! - **Values in files and on command lines.** The values the template writes into
//!   `rabbitmq.conf` (one setting a line) and the schedulers the image's start script passes
//!   to the Erlang VM word by word are checked at render time, so that no value adds settings
//!   or VM arguments; the definitions are JSON whatever the credentials hold. The
//!   `clustering.rebalance` start hook is bounded: the pod is not Ready until it returns.
//!
//! The chart's keys keep their meaning where the image has the feature (ports, persistence,
//! resources, scheduling, TLS, LDAP, metrics through the image's `rabbitmq_prometheus`
//! plugin on the chart's metrics port, plugins, extra configuration and environment…). The
//! bitnami-only ones are never read here, so a value the user gives them is reported as not
//! applying: the bitnami scripts' settings (`image.debug`, `logs`, `ulimitNofiles`,
//! `communityPlugins`), its peer discovery (`clustering.addressType`, `rbac.create`),
//! `clustering.forceBoot` (see below) and the root `volumePermissions` init container (the pod's
//! `fsGroup` makes the volume writable).

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{Container, EnvVar};

use super::statefulset::{
    Flavored, credentials_env, lifecycle_with, pod_template, rabbitmq_container_of, schedulers_env,
    stateful_set_of, volumes_with,
};
use super::{Rabbit, access, config, monitoring, network};
use crate::object::Object;
use crate::render::backends::default_section;
use crate::render::ctx::Ctx;
use crate::render::kit::{env_field, env_value};
use crate::templates;
use crate::values::Value;
use crate::values::check::{Finding, Severity};

/// The image when `rabbitmq.image` still names the chart's bitnami one: docker-library's
/// `rabbitmq` with the management plugin, pinned.
pub const IMAGE_REGISTRY: &str = "docker.io";
pub const IMAGE_REPOSITORY: &str = "library/rabbitmq";
pub const IMAGE_TAG: &str = "4.3.2-management";

/// The image's data directory (its `HOME`), where the claim `data` is mounted.
const DATA_DIR: &str = "/var/lib/rabbitmq";
/// Where the node keeps its database: a directory of its own on the volume, apart from the
/// bitnami node directories at the volume's root.
pub const MNESIA_BASE: &str = "/var/lib/rabbitmq/mnesia";
/// Where the image reads `rabbitmq.conf`, `enabled_plugins` and `advanced.config`.
const CONFIG_DIR: &str = "/etc/rabbitmq";
/// Where the TLS certificate files are mounted.
const CERTS_DIR: &str = "/etc/rabbitmq-certs";
/// The plugin of the `k8s` peer discovery backend.
const PEER_DISCOVERY_PLUGIN: &str = "rabbitmq_peer_discovery_k8s";
/// Both probes: the Erlang node is up and the CLI can talk to it (see the module docs).
const PING: &str = "rabbitmq-diagnostics -q ping";

/// Every RabbitMQ object of the official flavor.
pub(super) fn objects(rabbit: &Rabbit) -> Result<Vec<Object>> {
    check_arguments(rabbit)?;
    let mut out = access::objects(rabbit, false)?;
    out.push(config_map(rabbit)?);
    out.extend(network::objects(rabbit)?);
    let template = pod_template(
        rabbit,
        container(rabbit)?,
        volumes_with(rabbit, &["enabled_plugins"])?,
        None,
    )?;
    out.push(stateful_set_of(rabbit, template)?);
    out.extend(monitoring::objects(rabbit)?);
    Ok(out)
}

/// The container image: `rabbitmq.image` when it names an image of the user's own, else the
/// pinned official one. A bitnami repository (the chart's default or one the user set, a
/// mirror of it included) cannot run this flavor's configuration; one the user set is reported
/// and replaced, as is a tag the user set for it.
fn image(rabbit: &Rabbit) -> String {
    let defaults = default_section("rabbitmq");
    let set = |path: &str| {
        let value = rabbit.v(path);
        (!value.is_null() && value.value() != defaults.at(path)).then(|| value.to_go_text())
    };
    let registry = rabbit
        .global()
        .key("imageRegistry")
        .or(rabbit.v("image.registry"))
        .non_empty()
        .map_or_else(|| IMAGE_REGISTRY.to_string(), Value::to_go_text);
    let (repository, tag) = match set("image.repository") {
        Some(repository) if !repository.contains("bitnami") => (
            repository,
            set("image.tag").unwrap_or_else(|| IMAGE_TAG.to_string()),
        ),
        given => {
            for (path, value) in [("image.repository", given), ("image.tag", set("image.tag"))] {
                if value.is_some() {
                    warn(
                        rabbit.ctx,
                        path,
                        format!(
                            "a bitnami image cannot run `rabbitmq.flavor: official`; ignored, the image is {IMAGE_REPOSITORY}:{IMAGE_TAG} (set `rabbitmq.image.repository` to another image to use your own)"
                        ),
                    );
                }
            }
            (IMAGE_REPOSITORY.to_string(), IMAGE_TAG.to_string())
        }
    };
    format!("{registry}/{repository}:{tag}")
}

fn warn(ctx: &Ctx, path: &str, message: String) {
    ctx.report(Finding {
        severity: Severity::Warning,
        path: format!("rabbitmq.{path}"),
        location: None,
        within: None,
        message,
    });
}

/// The values that reach the Erlang VM's command line, the nodes' names and st2's vhost: the
/// image's start script splits `RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS` into words, so anything
/// but numbers there would add arguments of the user's choosing (`-eval` runs code); a cluster
/// domain that is no DNS name makes node names the other nodes cannot reach.
fn check_arguments(rabbit: &Rabbit) -> Result<()> {
    if !is_dns_name(&rabbit.v("clusterDomain").to_go_string()) {
        bail!(
            "`rabbitmq.clusterDomain` must be a DNS domain (letters, digits, `-` and `.`): it ends the RabbitMQ nodes' names"
        );
    }
    // The chart makes `ingress.path` st2's virtual host too (its connection URL ends with it,
    // the definitions grant the st2 user that vhost), while the definitions create only `/`:
    // any other path leaves st2 without a vhost it may use.
    if rabbit.v("ingress.path").to_go_string() != "/" {
        bail!(
            "`rabbitmq.ingress.path` must be `/` with `rabbitmq.flavor: official`: st2 also uses it as its RabbitMQ virtual host, and the definitions create only `/`"
        );
    }
    if rabbit.v("maxAvailableSchedulers").truthy() {
        for key in ["maxAvailableSchedulers", "onlineSchedulers"] {
            let value = rabbit.v(key).to_go_string();
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                bail!(
                    "`rabbitmq.{key}` must be a whole number: it is passed to the Erlang VM as `+S <maxAvailableSchedulers>:<onlineSchedulers>`"
                );
            }
        }
    }
    Ok(())
}

/// The values the official template writes into `rabbitmq.conf`, one `key = value` a line:
/// each must be what its setting takes, so that no value can end its line and add settings
/// (a line break) or change what the setting means. `extraConfiguration` and `configuration`
/// are configuration text by design and are not checked.
fn check_conf_values(rabbit: &Rabbit) -> Result<()> {
    if rabbit.v("auth.tls.enabled").truthy() {
        check_port(rabbit, "service.tlsPort")?;
        let verify = rabbit.v("auth.tls.sslOptionsVerify").to_go_string();
        if verify != "verify_peer" && verify != "verify_none" {
            bail!("`rabbitmq.auth.tls.sslOptionsVerify` must be `verify_peer` or `verify_none`");
        }
        let fail = rabbit.v("auth.tls.failIfNoPeerCert").to_go_string();
        if fail != "true" && fail != "false" {
            bail!("`rabbitmq.auth.tls.failIfNoPeerCert` must be true or false");
        }
    }
    if rabbit.v("ldap.enabled").truthy() {
        for (i, server) in rabbit.v("ldap.servers").as_list().iter().enumerate() {
            let host = server.to_go_string();
            let host_chars = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
            if host.is_empty() || !host.chars().all(host_chars) {
                bail!(
                    "`rabbitmq.ldap.servers[{i}]` must be a host name or an IP address: it is written into rabbitmq.conf"
                );
            }
        }
        check_port(rabbit, "ldap.port")?;
        check_line(rabbit, "ldap.user_dn_pattern")?;
    }
    if rabbit.v("memoryHighWatermark.enabled").truthy() {
        let value = rabbit.v("memoryHighWatermark.value").to_go_string();
        if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            bail!(
                "`rabbitmq.memoryHighWatermark.value` must be a number or a memory size (`0.4`, `512MB`): it is written into rabbitmq.conf"
            );
        }
    }
    Ok(())
}

/// A TCP port the configuration names.
fn check_port(rabbit: &Rabbit, path: &str) -> Result<()> {
    let value = rabbit.v(path).to_go_string();
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if !digits || value.parse::<u16>().map_or(true, |port| port == 0) {
        bail!("`rabbitmq.{path}` must be a port number (1 to 65535)");
    }
    Ok(())
}

/// A value written as the rest of one `rabbitmq.conf` line.
fn check_line(rabbit: &Rabbit, path: &str) -> Result<()> {
    let value = rabbit.v(path).to_go_string();
    if value.trim().is_empty() || value.chars().any(char::is_control) {
        bail!(
            "`rabbitmq.{path}` must be one line of text without control characters: it is written into rabbitmq.conf"
        );
    }
    Ok(())
}

/// A DNS name: labels of letters, digits and `-`, joined by `.`.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Warn about each setting of the user's configuration text (`path`) that holds a secret
/// (`default_pass`, `auth_ldap.dn_lookup_bind.password`, `….client_secret`…): `rabbitmq.conf` is
/// ConfigMap data, readable by whoever may read ConfigMaps. The warning names the line and the
/// setting, never the value.
fn warn_secret_settings(rabbit: &Rabbit, text: &str, path: &str) {
    for (n, line) in text.lines().enumerate() {
        let Some((setting, _)) = line.split_once('=') else {
            continue;
        };
        let setting = setting.trim();
        let last = setting
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_lowercase();
        if setting.starts_with('#') || !["pass", "secret"].iter().any(|s| last.contains(s)) {
            continue;
        }
        warn(
            rabbit.ctx,
            path,
            format!(
                "line {}: `{setting}` holds a secret, which this writes into ConfigMap `{}`, readable by whoever may read ConfigMaps in the namespace",
                n + 1,
                rabbit.name("config")
            ),
        );
    }
}

/// What the official `rabbitmq.conf` template needs.
#[derive(Debug, serde::Serialize)]
struct Conf {
    amqp_port: i32,
    metrics_port: i32,
    replicas: i32,
    memory_bytes: Option<u128>,
    extra_configuration: String,
    tls: Option<config::Tls>,
    ldap: Option<config::Ldap>,
    metrics: bool,
    watermark: Option<config::Memory>,
}

/// ConfigMap `<fullname>-config`: `rabbitmq.conf`, `enabled_plugins` and, when given,
/// `advanced.config`.
fn config_map(rabbit: &Rabbit) -> Result<Object> {
    config::config_map_of(
        rabbit,
        rabbitmq_conf(rabbit)?,
        [("enabled_plugins", enabled_plugins(rabbit)?)],
    )
}

/// The text of `rabbitmq.conf`: a user-written `configuration`, else the official template.
fn rabbitmq_conf(rabbit: &Rabbit) -> Result<String> {
    if let Some(custom) = config::custom_configuration(rabbit)? {
        warn_secret_settings(rabbit, &custom, "configuration");
        return Ok(custom);
    }
    check_conf_values(rabbit)?;
    let extra_configuration = rabbit.tpl_value("extraConfiguration")?;
    warn_secret_settings(rabbit, &extra_configuration, "extraConfiguration");
    let conf = Conf {
        amqp_port: super::statefulset::AMQP_PORT,
        metrics_port: super::statefulset::METRICS_PORT,
        replicas: rabbit.int("replicaCount")?,
        memory_bytes: config::memory_limit(rabbit)?,
        extra_configuration,
        tls: config::tls(rabbit, CERTS_DIR),
        ldap: config::ldap(rabbit),
        metrics: rabbit.v("metrics.enabled").truthy(),
        watermark: config::memory(rabbit)?,
    };
    templates::render("rabbitmq/official/rabbitmq.conf", &conf)
}

/// `enabled_plugins`: `plugins`, `extraPlugins` and, with `metrics.enabled`, `metrics.plugins`,
/// each once, as the Erlang list the image reads. The Kubernetes peer discovery plugin is
/// always on: `rabbitmq.conf` names its backend, and RabbitMQ refuses settings of a plugin
/// that is not enabled.
fn enabled_plugins(rabbit: &Rabbit) -> Result<String> {
    let mut keys = vec!["plugins", "extraPlugins"];
    if rabbit.v("metrics.enabled").truthy() {
        keys.push("metrics.plugins");
    }
    let mut plugins: Vec<String> = Vec::new();
    for key in keys {
        let Some(value) = rabbit.v(key).non_empty() else {
            continue;
        };
        for name in value
            .to_go_string()
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
        {
            // Written as Erlang atoms: anything else would make the file unreadable or add
            // terms to it.
            let atom = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !atom {
                bail!(
                    "`rabbitmq.{key}` must be plugin names (lowercase letters, digits and `_`) separated by spaces or commas: they are written into enabled_plugins"
                );
            }
            if !plugins.iter().any(|p| p == name) {
                plugins.push(name.to_string());
            }
        }
    }
    if !plugins.iter().any(|p| p == PEER_DISCOVERY_PLUGIN) {
        plugins.push(PEER_DISCOVERY_PLUGIN.to_string());
    }
    Ok(format!("[{}].\n", plugins.join(",")))
}

/// The `clustering.rebalance` hook: at most this many boot checks, this many seconds apart
/// (about two minutes), each cut off after `CHECK_TIMEOUT` seconds.
const REBALANCE_ATTEMPTS: u32 = 24;
const REBALANCE_INTERVAL: u32 = 5;
const CHECK_TIMEOUT: u32 = 10;
/// The longest the rebalance itself may take, in seconds.
const REBALANCE_TIMEOUT: u32 = 120;

/// The `postStart` script of `clustering.rebalance`, bounded (see the script).
fn rebalance_script() -> Result<String> {
    #[derive(serde::Serialize)]
    struct Rebalance {
        attempts: u32,
        interval: u32,
        check_timeout: u32,
        rebalance_timeout: u32,
    }
    templates::render(
        "rabbitmq/official/rebalance.sh",
        Rebalance {
            attempts: REBALANCE_ATTEMPTS,
            interval: REBALANCE_INTERVAL,
            check_timeout: CHECK_TIMEOUT,
            rebalance_timeout: REBALANCE_TIMEOUT,
        },
    )
}

/// The RabbitMQ container.
fn container(rabbit: &Rabbit) -> Result<Container> {
    rabbitmq_container_of(
        rabbit,
        Flavored {
            dirs: [CONFIG_DIR, DATA_DIR, CERTS_DIR],
            image: image(rabbit),
            env: environment(rabbit)?,
            health_check: PING,
            lifecycle: lifecycle_with(rabbit, &rebalance_script()?)?,
        },
    )
}

fn environment(rabbit: &Rabbit) -> Result<Vec<EnvVar>> {
    let cluster_domain = rabbit.v("clusterDomain").to_go_string();
    let mut vars = vec![
        env_field("MY_POD_NAME", "metadata.name"),
        env_field("MY_POD_NAMESPACE", "metadata.namespace"),
        env_value("K8S_SERVICE_NAME", rabbit.name("headless")),
        env_value(
            "RABBITMQ_NODENAME",
            format!(
                "rabbit@$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{cluster_domain}"
            ),
        ),
        env_value("RABBITMQ_USE_LONGNAME", "true"),
        env_value("RABBITMQ_MNESIA_BASE", MNESIA_BASE),
    ];
    vars.extend(schedulers_env(rabbit));
    vars.extend(credentials_env(
        rabbit,
        [
            "RABBITMQ_ERLANG_COOKIE",
            "RABBITMQ_DEFAULT_USER",
            "RABBITMQ_DEFAULT_PASS",
        ],
    )?);
    vars.extend(
        rabbit
            .block::<Vec<EnvVar>>("extraEnvVars", true)?
            .unwrap_or_default(),
    );
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::super::tests::with_rabbit;
    use super::*;
    use crate::render::test_support::with_release;
    use serde_json::json;

    /// Every RabbitMQ object of `yaml` rendered with `flavor`, as (kind/name, body).
    fn render(yaml: &str, flavor: &str) -> Vec<(String, Json)> {
        let yaml = format!("{yaml}\n---\nrabbitmq: {{flavor: {flavor}}}\n");
        with_release("st2", &yaml, |ctx| {
            super::super::objects(ctx)
                .unwrap_or_else(|e| panic!("{e:#}"))
                .into_iter()
                .map(|o| (format!("{}/{}", o.kind, o.name), o.body().clone()))
                .collect()
        })
    }

    use serde_json::Value as Json;

    fn find<'a>(objects: &'a [(String, Json)], name: &str) -> &'a Json {
        &objects
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} rendered"))
            .1
    }

    /// What `kubectl apply` cannot change on a StatefulSet, the Services and the Secret names
    /// are the bitnami flavor's, so the switch keeps every claim (several values setups).
    #[test]
    fn immutable_fields_and_names_equal_the_bitnami_flavor() {
        for yaml in [
            "{}",
            "rabbitmq: {replicaCount: 1, persistence: {size: 20Gi, storageClass: fast}}",
            "rabbitmq: {fullnameOverride: mq, podManagementPolicy: Parallel}",
            "rabbitmq: {persistence: {accessMode: ReadWriteMany, selector: {matchLabels: {a: b}}}}",
            "{global: {storageClass: gl}, rabbitmq: {nameOverride: rmq, clusterDomain: example.org}}",
            "rabbitmq: {persistence: {existingClaim: old-claim}}",
            "rabbitmq: {persistence: {enabled: false}, service: {type: NodePort, nodePort: 30672}}",
            "rabbitmq: {auth: {tls: {enabled: true, existingSecret: certs}}, metrics: {enabled: true}}",
        ] {
            let bitnami = render(yaml, "bitnami");
            let official = render(yaml, "official");
            let sts = |objects: &[(String, Json)]| {
                objects
                    .iter()
                    .find(|(n, _)| n.starts_with("StatefulSet/"))
                    .cloned()
                    .expect("a StatefulSet")
            };
            let (name, b) = sts(&bitnami);
            let (official_name, o) = sts(&official);
            assert_eq!(name, official_name, "{yaml}");
            for field in [
                "/spec/serviceName",
                "/spec/selector",
                "/spec/podManagementPolicy",
                "/spec/volumeClaimTemplates",
                "/spec/replicas",
                "/spec/template/metadata/labels",
            ] {
                assert_eq!(b.pointer(field), o.pointer(field), "{yaml}: {field}");
            }
            let image = "/spec/template/spec/containers/0/image";
            assert_ne!(b.pointer(image), o.pointer(image), "{yaml}: two flavors");
            let volume = |body: &Json, name: &str| {
                body.pointer("/spec/template/spec/volumes")
                    .and_then(Json::as_array)
                    .and_then(|v| v.iter().find(|v| v["name"] == name).cloned())
            };
            assert_eq!(volume(&b, "data"), volume(&o, "data"), "{yaml}");
            for (object, body) in &bitnami {
                if object.starts_with("Service/") || object.starts_with("Secret/") {
                    assert_eq!(
                        Some(body),
                        official.iter().find(|(n, _)| n == object).map(|(_, b)| b),
                        "{yaml}: {object}"
                    );
                }
            }
            // Peer discovery reads nothing from the Kubernetes API.
            assert!(
                !official.iter().any(|(n, _)| n.starts_with("Role")),
                "{yaml}"
            );
        }
    }

    #[test]
    fn container_runs_the_official_image_on_the_volume() {
        let objects = render("{}", "official");
        let sts = find(&objects, "StatefulSet/st2-rabbitmq");
        let container = &sts["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["image"],
            "docker.io/library/rabbitmq:4.3.2-management"
        );
        assert_eq!(
            container["volumeMounts"],
            json!([
                {"name": "configuration", "mountPath": "/etc/rabbitmq"},
                {"name": "data", "mountPath": "/var/lib/rabbitmq"},
                {"name": "load-definition-volume", "mountPath": "/app", "readOnly": true},
            ])
        );
        let env = |name: &str| {
            container["env"]
                .as_array()
                .and_then(|e| e.iter().find(|e| e["name"] == name).cloned())
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(
            env("RABBITMQ_NODENAME")["value"],
            "rabbit@$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.cluster.local"
        );
        assert_eq!(
            env("RABBITMQ_MNESIA_BASE")["value"],
            "/var/lib/rabbitmq/mnesia"
        );
        assert_eq!(
            env("RABBITMQ_ERLANG_COOKIE")["valueFrom"],
            json!({"secretKeyRef": {"name": "st2-rabbitmq", "key": "rabbitmq-erlang-cookie"}})
        );
        assert_eq!(
            env("RABBITMQ_DEFAULT_PASS")["valueFrom"],
            json!({"secretKeyRef": {"name": "st2-rabbitmq", "key": "rabbitmq-password"}})
        );
        assert_eq!(
            container["readinessProbe"]["exec"]["command"],
            json!(["/bin/bash", "-ec", "rabbitmq-diagnostics -q ping"])
        );
        // The chart's user and group, who own the bitnami volume.
        assert_eq!(
            sts["spec"]["template"]["spec"]["securityContext"],
            json!({"fsGroup": 1001, "runAsUser": 1001})
        );
    }

    #[test]
    fn default_conf_and_plugins() {
        let objects = render("{}", "official");
        let config = &find(&objects, "ConfigMap/st2-rabbitmq-config")["data"];
        assert_eq!(
            config["rabbitmq.conf"],
            "## rabbitmq.conf of the official RabbitMQ 4 image (st2k8s, rabbitmq.flavor: official).
## Users, permissions and the vhost's default queue type come from the definitions file.
## Logs go to the container's standard output.
log.console = true
log.file = false
listeners.tcp.default = 5672
## Cluster formation: the pod with ordinal 0 forms the cluster on its first boot and every
## other pod joins it (RabbitMQ 4.1+ Kubernetes peer discovery; no Kubernetes API access).
cluster_formation.peer_discovery_backend = k8s
## Quorum queues: leaders spread over the nodes; a queue declared while nodes were missing
## gets replicas on the nodes that join, up to one per pod (rabbitmq.replicaCount).
queue_leader_locator = balanced
quorum_queue.continuous_membership_reconciliation.enabled = true
quorum_queue.continuous_membership_reconciliation.target_group_size = 3
load_definitions = /app/rabbitmq-definitions.json"
        );
        assert_eq!(
            config["enabled_plugins"],
            "[rabbitmq_management,rabbitmq_peer_discovery_k8s,rabbitmq_auth_backend_ldap].\n"
        );
        let plugins = with_rabbit(
            "rabbitmq: {metrics: {enabled: true}, extraPlugins: 'rabbitmq_management, rabbitmq_shovel'}",
            enabled_plugins,
        );
        assert_eq!(
            plugins.ok().as_deref(),
            Some(
                "[rabbitmq_management,rabbitmq_peer_discovery_k8s,rabbitmq_shovel,rabbitmq_prometheus].\n"
            )
        );
        let plugins = with_rabbit(
            "rabbitmq: {plugins: rabbitmq_management, extraPlugins: ''}",
            enabled_plugins,
        );
        assert_eq!(
            plugins.ok().as_deref(),
            Some("[rabbitmq_management,rabbitmq_peer_discovery_k8s].\n")
        );
    }

    #[test]
    fn memory_limit_tls_and_metrics_in_the_conf() {
        let yaml = "rabbitmq:
  extraConfiguration: ''
  replicaCount: 1
  resources: {limits: {memory: 2Gi}}
  memoryHighWatermark: {enabled: true, type: relative, value: 0.5}
  auth: {tls: {enabled: true, existingSecret: certs}}
  metrics: {enabled: true}
";
        let conf = with_rabbit(yaml, |r| rabbitmq_conf(r).map(|t| config::block_text(&t)))
            .unwrap_or_else(|e| panic!("{e:#}"));
        let tail = conf
            .split_once("target_group_size = 1\n")
            .map(|(_, tail)| tail)
            .unwrap_or_default();
        assert_eq!(
            tail,
            "## The pod's memory limit, which RabbitMQ cannot see inside a container.
total_memory_available_override_value = 2147483648

ssl_options.verify = verify_peer
listeners.ssl.default = 5671
ssl_options.fail_if_no_peer_cert = true
ssl_options.cacertfile = /etc/rabbitmq-certs/ca_certificate.pem
ssl_options.certfile = /etc/rabbitmq-certs/server_certificate.pem
ssl_options.keyfile = /etc/rabbitmq-certs/server_key.pem
## Prometheus metrics
prometheus.tcp.port = 9419
## Memory Threshold
vm_memory_high_watermark.relative = 0.5"
        );
        let bad = "rabbitmq: {resources: {limits: {memory: 2Zi}}}";
        let err = with_rabbit(bad, |r| rabbitmq_conf(r).map_err(|e| format!("{e:#}")));
        assert_eq!(
            err,
            Err("`rabbitmq.resources.limits.memory` must be a memory size (a number of bytes, with a suffix such as `Mi` or `G`)".into())
        );
    }

    /// (image, warnings) of `yaml`.
    fn image_of(yaml: &str) -> (String, Vec<String>) {
        let (image, findings) =
            with_rabbit(yaml, |rabbit| (image(rabbit), rabbit.ctx.take_findings()));
        let warnings = findings
            .into_iter()
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect();
        (image, warnings)
    }

    #[test]
    fn bitnami_images_are_replaced_with_a_warning_and_own_images_kept() {
        assert_eq!(
            image_of("{}"),
            (
                "docker.io/library/rabbitmq:4.3.2-management".to_string(),
                vec![]
            )
        );
        let warning = "a bitnami image cannot run `rabbitmq.flavor: official`; ignored, the image is library/rabbitmq:4.3.2-management (set `rabbitmq.image.repository` to another image to use your own)";
        assert_eq!(
            image_of("rabbitmq: {image: {repository: bitnamilegacy/rabbitmq, tag: 3.8.9}}"),
            (
                "docker.io/library/rabbitmq:4.3.2-management".to_string(),
                vec![
                    format!("rabbitmq.image.repository: {warning}"),
                    format!("rabbitmq.image.tag: {warning}"),
                ]
            )
        );
        assert_eq!(
            image_of("rabbitmq: {image: {tag: 3.8.9-debian-10-r99}}"),
            (
                "docker.io/library/rabbitmq:4.3.2-management".to_string(),
                vec![format!("rabbitmq.image.tag: {warning}")]
            )
        );
        assert_eq!(
            image_of(
                "{global: {imageRegistry: mirror.example}, rabbitmq: {image: {repository: mq/rabbitmq}}}"
            ),
            (
                "mirror.example/mq/rabbitmq:4.3.2-management".to_string(),
                vec![]
            )
        );
        assert_eq!(
            image_of(
                "rabbitmq: {image: {registry: quay.example, repository: mq/rabbitmq, tag: 4.3.2}}"
            ),
            ("quay.example/mq/rabbitmq:4.3.2".to_string(), vec![])
        );
    }

    /// The error of rendering `yaml` with the official flavor, if any.
    fn error_of(yaml: &str) -> Option<String> {
        let yaml = format!("{yaml}\n---\nrabbitmq: {{flavor: official}}\n");
        with_release("st2", &yaml, |ctx| {
            super::super::objects(ctx).err().map(|e| format!("{e:#}"))
        })
    }

    /// Values that would add lines to `rabbitmq.conf` or arguments to the Erlang VM are refused,
    /// naming the key and never quoting the value.
    #[test]
    fn values_cannot_inject_settings_or_vm_arguments() {
        let conf = "it is written into rabbitmq.conf";
        for (yaml, want) in [
            (
                "rabbitmq: {maxAvailableSchedulers: 2, onlineSchedulers: \"1 -eval 'os:cmd(\\\"id\\\")'\"}".to_string(),
                "`rabbitmq.onlineSchedulers` must be a whole number: it is passed to the Erlang VM as `+S <maxAvailableSchedulers>:<onlineSchedulers>`".to_string(),
            ),
            (
                "rabbitmq: {maxAvailableSchedulers: '2 -s init stop', onlineSchedulers: 1}".into(),
                "`rabbitmq.maxAvailableSchedulers` must be a whole number: it is passed to the Erlang VM as `+S <maxAvailableSchedulers>:<onlineSchedulers>`".into(),
            ),
            (
                "rabbitmq: {extraPlugins: 'rabbitmq_shovel]. {x'}".into(),
                "`rabbitmq.extraPlugins` must be plugin names (lowercase letters, digits and `_`) separated by spaces or commas: they are written into enabled_plugins".into(),
            ),
            (
                "rabbitmq: {metrics: {enabled: true, plugins: 'Rabbitmq_prometheus'}}".into(),
                "`rabbitmq.metrics.plugins` must be plugin names (lowercase letters, digits and `_`) separated by spaces or commas: they are written into enabled_plugins".into(),
            ),
            (
                "rabbitmq: {ingress: {enabled: true, path: /rabbitmq}}".into(),
                "`rabbitmq.ingress.path` must be `/` with `rabbitmq.flavor: official`: st2 also uses it as its RabbitMQ virtual host, and the definitions create only `/`".into(),
            ),
            (
                "rabbitmq: {clusterDomain: \"cluster.local\\nx\"}".into(),
                "`rabbitmq.clusterDomain` must be a DNS domain (letters, digits, `-` and `.`): it ends the RabbitMQ nodes' names".into(),
            ),
            (
                "rabbitmq: {auth: {tls: {enabled: true, existingSecret: c, sslOptionsVerify: \"verify_none\\nloopback_users.guest = false\"}}}".into(),
                "`rabbitmq.auth.tls.sslOptionsVerify` must be `verify_peer` or `verify_none`".into(),
            ),
            (
                "rabbitmq: {auth: {tls: {enabled: true, existingSecret: c, failIfNoPeerCert: 'false # x'}}}".into(),
                "`rabbitmq.auth.tls.failIfNoPeerCert` must be true or false".into(),
            ),
            (
                "rabbitmq: {auth: {tls: {enabled: true, existingSecret: c}}, service: {tlsPort: \"5671\\ndefault_user = x\"}}".into(),
                "`rabbitmq.service.tlsPort` must be a port number (1 to 65535)".into(),
            ),
            (
                "rabbitmq: {ldap: {enabled: true, servers: [a.example, \"b\\nauth_backends.1 = internal\"]}}".into(),
                format!("`rabbitmq.ldap.servers[1]` must be a host name or an IP address: {conf}"),
            ),
            (
                "rabbitmq: {ldap: {enabled: true, servers: [a.example], port: 70000}}".into(),
                "`rabbitmq.ldap.port` must be a port number (1 to 65535)".into(),
            ),
            (
                "rabbitmq: {ldap: {enabled: true, servers: [a.example], user_dn_pattern: \"cn=${username}\\nauth_backends.1 = internal\"}}".into(),
                format!("`rabbitmq.ldap.user_dn_pattern` must be one line of text without control characters: {conf}"),
            ),
            (
                "rabbitmq: {resources: {limits: {memory: 1Gi}}, memoryHighWatermark: {enabled: true, value: \"0.4\\nx = y\"}}".into(),
                format!("`rabbitmq.memoryHighWatermark.value` must be a number or a memory size (`0.4`, `512MB`): {conf}"),
            ),
        ] {
            assert_eq!(error_of(&yaml), Some(want), "{yaml}");
        }
        // What the settings take still renders.
        for yaml in [
            "rabbitmq: {maxAvailableSchedulers: 2, onlineSchedulers: 1, clusterDomain: k8s.example}",
            "rabbitmq: {auth: {tls: {enabled: true, existingSecret: c, sslOptionsVerify: verify_none, failIfNoPeerCert: false}}}",
            "rabbitmq: {ldap: {enabled: true, servers: [ldap.example, '10.0.0.1', '[fd00::1]'], port: '636'}}",
            "rabbitmq: {resources: {limits: {memory: 1Gi}}, memoryHighWatermark: {enabled: true, type: absolute, value: 512MB}}",
            // A `configuration` of the user's own replaces the template: its values are not read.
            "rabbitmq: {configuration: 'listeners.tcp.default = 5672', ldap: {enabled: true, port: x}}",
        ] {
            assert_eq!(error_of(yaml), None, "{yaml}");
        }
    }

    /// Secrets written into the configuration text are reported, by line and setting.
    #[test]
    fn secret_settings_in_the_configuration_are_reported() {
        let warnings = |yaml: &str| {
            let (conf, findings) = with_rabbit(yaml, |rabbit| {
                (rabbitmq_conf(rabbit), rabbit.ctx.take_findings())
            });
            assert!(conf.is_ok(), "{yaml}");
            findings
                .into_iter()
                .map(|f| format!("{}: {}", f.path, f.message))
                .collect::<Vec<_>>()
        };
        let yaml = "rabbitmq:
  extraConfiguration: |
    load_definitions = /app/rabbitmq-definitions.json
    # default_pass = old
    auth_ldap.dn_lookup_bind.password = s3cret
    management.oauth_client_secret=s3cret
    default_user = st2
";
        assert_eq!(
            warnings(yaml),
            [
                "rabbitmq.extraConfiguration: line 3: `auth_ldap.dn_lookup_bind.password` holds a secret, which this writes into ConfigMap `st2-rabbitmq-config`, readable by whoever may read ConfigMaps in the namespace",
                "rabbitmq.extraConfiguration: line 4: `management.oauth_client_secret` holds a secret, which this writes into ConfigMap `st2-rabbitmq-config`, readable by whoever may read ConfigMaps in the namespace",
            ]
        );
        assert_eq!(
            warnings("rabbitmq: {configuration: \"default_pass = x\"}"),
            [
                "rabbitmq.configuration: line 1: `default_pass` holds a secret, which this writes into ConfigMap `st2-rabbitmq-config`, readable by whoever may read ConfigMaps in the namespace"
            ]
        );
        assert!(warnings("{}").is_empty());
    }

    #[test]
    fn bitnami_only_keys_are_reported_for_the_official_flavor() {
        let yaml = "rabbitmq:
  flavor: official
  clustering: {forceBoot: false, addressType: ip, rebalance: true}
  volumePermissions: {enabled: true}
  ulimitNofiles: '1024'
  extraPlugins: rabbitmq_shovel
";
        let keys = crate::render::test_support::unread(yaml);
        assert_eq!(
            keys,
            [
                "rabbitmq.clustering.addressType",
                "rabbitmq.clustering.forceBoot",
                "rabbitmq.ulimitNofiles",
                "rabbitmq.volumePermissions.enabled",
            ]
        );
        // The flavor key itself is read by either flavor (reported as unread before).
        let bitnami = "rabbitmq: {flavor: bitnami, clustering: {forceBoot: false}}";
        assert!(crate::render::test_support::unread(bitnami).is_empty());
    }
}
