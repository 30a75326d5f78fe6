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
//!   their connection, as under RabbitMQ 3 where mirroring never applied to them.
//! - **Credentials.** The same Secret `<fullname>` (or the `existing…Secret`s): the Erlang
//!   cookie through `RABBITMQ_ERLANG_COOKIE`, the st2 user through the definitions and, for a
//!   node without definitions, `RABBITMQ_DEFAULT_USER` / `RABBITMQ_DEFAULT_PASS`.
//!
//! The chart's keys keep their meaning where the image has the feature (ports, persistence,
//! resources, scheduling, TLS, LDAP, metrics through the image's `rabbitmq_prometheus`
//! plugin on the chart's metrics port, plugins, extra configuration and environment…); the
//! bitnami-only ones in [`NOT_APPLYING`] are reported when set.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Container, EnvVar, VolumeMount};

use super::statefulset::{
    container_ports, env_from, lifecycle, pod_template, probe,
    resources, stateful_set_of, volumes_with,
};
use super::{Rabbit, access, config, monitoring, network};
use crate::object::Object;
use crate::render::backends::default_section;
use crate::render::kit::{env_field, env_secret, env_value, mount, mount_ro};
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
/// Both probes: the Erlang node is up and the CLI can talk to it (see the module docs).
const PING: &str = "rabbitmq-diagnostics -q ping";

/// Keys (below `rabbitmq.`) of the bitnami flavor that the official one has no use for: the
/// bitnami scripts' settings (`image.debug`, `logs`, `ulimitNofiles`, `communityPlugins`),
/// its peer discovery (`clustering.addressType`, `rbac.create`), `clustering.forceBoot` (see
/// the module docs) and the root `volumePermissions` init container (the pod's `fsGroup`
/// makes the volume writable). A user value for one of them is reported as ignored.
pub const NOT_APPLYING: &[&str] = &[
    "image.debug",
    "logs",
    "ulimitNofiles",
    "communityPlugins",
    "clustering.addressType",
    "clustering.forceBoot",
    "rbac.create",
    "volumePermissions",
];

/// Every RabbitMQ object of the official flavor.
pub(super) fn objects(rabbit: &Rabbit) -> Result<Vec<Object>> {
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
        (!value.is_null() && value != defaults.at(path)).then(|| value.to_go_text())
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

fn warn(path: &str, message: String) {
    crate::render::pod::convert::report(Finding {
        severity: Severity::Warning,
        path: format!("rabbitmq.{path}"),
        location: None,
        within: None,
        message,
    });
}

/// What the official `rabbitmq.conf` template needs.
#[derive(Debug, serde::Serialize)]
struct Conf {
    amqp_port: i32,
    management_port: i32,
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
    let mut data = BTreeMap::from([
        (
            "rabbitmq.conf".to_string(),
            config::block_text(&rabbitmq_conf(rabbit)?),
        ),
        ("enabled_plugins".to_string(), enabled_plugins(rabbit)),
    ]);
    if rabbit.v("advancedConfiguration").truthy() {
        data.insert(
            "advanced.config".into(),
            config::block_text(&rabbit.tpl_value("advancedConfiguration")?),
        );
    }
    Object::new(&k8s_openapi::api::core::v1::ConfigMap {
        metadata: rabbit.meta(rabbit.name("config")),
        data: Some(data),
        ..Default::default()
    })
}

/// The text of `rabbitmq.conf`: a user-written `configuration`, else the official template.
fn rabbitmq_conf(rabbit: &Rabbit) -> Result<String> {
    if let Some(custom) = config::custom_configuration(rabbit)? {
        return Ok(custom);
    }
    let conf = Conf {
        amqp_port: super::statefulset::AMQP_PORT,
        management_port: super::statefulset::STATS_PORT,
        metrics_port: super::statefulset::METRICS_PORT,
        replicas: rabbit.int("replicaCount")?,
        memory_bytes: memory_limit(rabbit)?,
        extra_configuration: rabbit.tpl_value("extraConfiguration")?,
        tls: config::tls(rabbit, CERTS_DIR),
        ldap: config::ldap(rabbit),
        metrics: rabbit.v("metrics.enabled").truthy(),
        watermark: config::memory(rabbit)?,
    };
    templates::render("rabbitmq/official/rabbitmq.conf", &conf)
}

/// The pod's memory limit in bytes (`resources.limits.memory`), so that RabbitMQ's memory
/// alarm relates to the limit rather than to the node's memory.
fn memory_limit(rabbit: &Rabbit) -> Result<Option<u128>> {
    let Some(limit) = rabbit.v("resources.limits.memory").non_empty() else {
        return Ok(None);
    };
    let limit = limit.to_go_string();
    config::quantity_bytes(&limit)
        .with_context(|| {
            format!("`rabbitmq.resources.limits.memory`: cannot read `{limit}` as a memory size")
        })
        .map(Some)
}

/// `enabled_plugins`: `plugins`, `extraPlugins` and, with `metrics.enabled`, `metrics.plugins`,
/// each once, as the Erlang list the image reads.
fn enabled_plugins(rabbit: &Rabbit) -> String {
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
            if !plugins.iter().any(|p| p == name) {
                plugins.push(name.to_string());
            }
        }
    }
    format!("[{}].\n", plugins.join(","))
}

/// The RabbitMQ container.
fn container(rabbit: &Rabbit) -> Result<Container> {
    let mut mounts = vec![mount("configuration", CONFIG_DIR), mount("data", DATA_DIR)];
    if rabbit.v("auth.tls.enabled").truthy() {
        mounts.push(mount("certs", CERTS_DIR));
    }
    if rabbit.v("loadDefinition.enabled").truthy() {
        // Where `extraConfiguration`'s `load_definitions` line finds the definitions.
        mounts.push(mount_ro("load-definition-volume", "/app", true));
    }
    mounts.extend(
        rabbit
            .block::<Vec<VolumeMount>>("extraVolumeMounts", false)?
            .unwrap_or_default(),
    );
    Ok(Container {
        name: "rabbitmq".into(),
        image: Some(image(rabbit)),
        image_pull_policy: Some(rabbit.v("image.pullPolicy").to_go_string()),
        security_context: rabbit.block("containerSecurityContext", false)?,
        command: rabbit.block("command", true)?,
        args: rabbit.block("args", true)?,
        env: Some(environment(rabbit)?),
        env_from: env_from(rabbit)?,
        ports: Some(container_ports(rabbit)?),
        liveness_probe: probe(rabbit, "livenessProbe", "customLivenessProbe", PING)?,
        readiness_probe: probe(rabbit, "readinessProbe", "customReadinessProbe", PING)?,
        resources: resources(rabbit, "resources")?,
        lifecycle: Some(lifecycle(rabbit)?),
        volume_mounts: Some(mounts),
        ..Default::default()
    })
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
    if rabbit.v("maxAvailableSchedulers").truthy() {
        let schedulers = format!(
            "+S {}:{}",
            rabbit.v("maxAvailableSchedulers").to_go_string(),
            rabbit.v("onlineSchedulers").to_go_string()
        );
        vars.push(env_value("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", schedulers));
    }
    let erlang_secret = rabbit
        .v("auth.existingErlangSecret")
        .non_empty()
        .map_or_else(|| rabbit.fullname.clone(), Value::to_go_string);
    vars.push(env_secret(
        "RABBITMQ_ERLANG_COOKIE",
        erlang_secret,
        "rabbitmq-erlang-cookie",
        false,
    ));
    vars.push(env_value(
        "RABBITMQ_DEFAULT_USER",
        rabbit.v("auth.username").to_go_string(),
    ));
    let password_secret = if rabbit.v("auth.existingPasswordSecret").truthy() {
        rabbit.tpl_value("auth.existingPasswordSecret")?
    } else {
        rabbit.fullname.clone()
    };
    vars.push(env_secret(
        "RABBITMQ_DEFAULT_PASS",
        password_secret,
        "rabbitmq-password",
        false,
    ));
    vars.extend(
        rabbit
            .block::<Vec<EnvVar>>("extraEnvVars", true)?
            .unwrap_or_default(),
    );
    Ok(vars)
}
