//! StatefulSet `<fullname>`: the RabbitMQ pods.
//!
//! The fields Kubernetes never lets a StatefulSet change (`serviceName`, `selector`,
//! `podManagementPolicy`, `volumeClaimTemplates`) are exactly the chart's, so an existing Helm
//! release is patched in place and keeps its volumes.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy};
use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort, EnvFromSource, EnvVar,
    ExecAction, KeyToPath, Lifecycle, LifecycleHandler, LocalObjectReference,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SecretEnvSource, SecurityContext, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::Rabbit;
use super::access::{ERLANG_COOKIE_KEY, PASSWORD_KEY};
use crate::object::Object;
use crate::render::backends::bitnami_image;
use crate::render::kit::{
    empty_dir, env_field, env_secret, env_value, exec_probe, mount, mount_ro, secret_volume,
    timed_probe,
};
use crate::values::Value;

/// Where the image keeps its data; the `data` volume is mounted here.
const MNESIA_DIR: &str = "/bitnami/rabbitmq/mnesia";
/// The health check both probes run.
const CHECK_RUNNING: &str = "rabbitmq-diagnostics -q check_running";
/// After a pod (re)joins, wait for the cluster and spread queue leaders again
/// (`clustering.rebalance`).
const REBALANCE_SCRIPT: &str = "until rabbitmqctl cluster_status >/dev/null; do
    echo \"Waiting for cluster readiness...\"
    sleep 5
done
rabbitmq-queues rebalance \"all\"
";

pub(super) fn stateful_set(rabbit: &Rabbit) -> Result<Object> {
    let template = pod_template(
        rabbit,
        rabbitmq_container(rabbit)?,
        volumes(rabbit)?,
        volume_permissions_init(rabbit)?,
    )?;
    stateful_set_of(rabbit, template)
}

/// StatefulSet `<fullname>` running `template`: the fields Kubernetes never lets change, the
/// strategy and the checksum annotations are the same for every flavor.
pub(super) fn stateful_set_of(rabbit: &Rabbit, template: PodTemplateSpec) -> Result<Object> {
    let persistent_claims = volume_claim_templates(rabbit)?;
    let update_strategy = rabbit.v("updateStrategyType").to_go_string();
    let mut object = Object::new(&StatefulSet {
        metadata: rabbit.meta(rabbit.fullname.clone()),
        spec: Some(StatefulSetSpec {
            service_name: Some(rabbit.name("headless")),
            pod_management_policy: Some(rabbit.v("podManagementPolicy").to_go_string()),
            replicas: Some(rabbit.int("replicaCount")?),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some(update_strategy.clone()),
                ..Default::default()
            }),
            selector: LabelSelector {
                match_labels: Some(rabbit.selector()),
                ..Default::default()
            },
            template,
            volume_claim_templates: persistent_claims,
            ..Default::default()
        }),
        ..Default::default()
    })?;
    object.untype_claim_templates();
    if update_strategy == "OnDelete" {
        object.set_null("spec.updateStrategy.rollingUpdate");
    }
    let annotated = object
        .body()
        .pointer("/spec/template/metadata/annotations")
        .is_some();
    let cert_checksum =
        rabbit.v("auth.tls.enabled").truthy() && !rabbit.v("auth.tls.existingSecret").truthy();
    if !annotated && !rabbit.owns_secret() && !cert_checksum {
        // The chart always prints `annotations:`, null when there is nothing to put there.
        object.set_null("spec.template.metadata.annotations");
    }
    if rabbit.owns_secret() {
        object = object.checksum("checksum/secret", &[("Secret", &rabbit.fullname)]);
    }
    if cert_checksum {
        object = object.checksum("checksum/secret-cert", &[("Secret", &rabbit.name("certs"))]);
    }
    Ok(object)
}

/// The `volumePermissions` init container, when the chart renders it.
fn volume_permissions_init(rabbit: &Rabbit) -> Result<Option<Container>> {
    let enabled = rabbit.v("volumePermissions.enabled").truthy()
        && rabbit.v("persistence.enabled").truthy()
        && rabbit.v("podSecurityContext").truthy();
    enabled.then(|| volume_permissions(rabbit)).transpose()
}

/// The pod of `<fullname>`: `main` (the RabbitMQ container) and the user's sidecars, the
/// `first_init` container before the user's init containers, and `volumes`.
pub(super) fn pod_template(
    rabbit: &Rabbit,
    main: Container,
    volumes: Vec<Volume>,
    first_init: Option<Container>,
) -> Result<PodTemplateSpec> {
    let mut labels = rabbit.labels();
    labels.extend(rabbit.string_map("podLabels", true)?);
    let mut annotations = rabbit.string_map("podAnnotations", false)?;
    if rabbit.v("metrics.enabled").truthy() {
        annotations.extend(rabbit.string_map("metrics.podAnnotations", true)?);
    }
    let mut containers = vec![main];
    containers.extend(
        rabbit
            .block::<Vec<Container>>("sidecars", true)?
            .unwrap_or_default(),
    );
    let mut init_containers: Vec<Container> = first_init.into_iter().collect();
    init_containers.extend(
        rabbit
            .block::<Vec<Container>>("initContainers", true)?
            .unwrap_or_default(),
    );
    Ok(PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            image_pull_secrets: image_pull_secrets(rabbit),
            scheduler_name: rabbit
                .v("schedulerName")
                .non_empty()
                .map(Value::to_go_string),
            service_account_name: Some(rabbit.service_account_name()),
            affinity: rabbit.block("affinity", true)?,
            node_selector: rabbit.block("nodeSelector", true)?,
            tolerations: rabbit.block("tolerations", true)?,
            priority_class_name: rabbit
                .v("priorityClassName")
                .non_empty()
                .map(Value::to_go_string),
            security_context: rabbit.block("podSecurityContext", false)?,
            termination_grace_period_seconds: Some(10),
            init_containers: (!init_containers.is_empty()).then_some(init_containers),
            containers,
            volumes: Some(volumes),
            ..Default::default()
        }),
    })
}

/// bitnami common's pull secrets: `global.imagePullSecrets`, then each image's `pullSecrets`.
pub(super) fn image_pull_secrets(rabbit: &Rabbit) -> Option<Vec<LocalObjectReference>> {
    let names: Vec<LocalObjectReference> = [
        rabbit.global().key("imagePullSecrets").value(),
        rabbit.v("image.pullSecrets").value(),
        rabbit.v("volumePermissions.image.pullSecrets").value(),
    ]
    .into_iter()
    .flat_map(Value::as_list)
    .map(|name| LocalObjectReference {
        name: name.to_go_string(),
    })
    .collect();
    (!names.is_empty()).then_some(names)
}

/// A container's resources; numbers are written as quantity strings.
pub(super) fn resources(rabbit: &Rabbit, path: &str) -> Result<Option<ResourceRequirements>> {
    let view = rabbit.v(path);
    if !view.truthy() {
        return Ok(None);
    }
    crate::render::pod::convert::resources_at(rabbit.ctx, &view)
}

pub(super) fn yes_no(value: &Value) -> &'static str {
    if value.truthy() { "yes" } else { "no" }
}

/// `rabbitmq.plugins`: the plugin list, comma separated.
fn plugins(rabbit: &Rabbit) -> String {
    let mut plugins = rabbit.v("plugins").to_go_string();
    if let Some(extra) = rabbit.v("extraPlugins").non_empty() {
        plugins = format!("{plugins} {}", extra.to_go_string());
    }
    if rabbit.v("metrics.enabled").truthy() {
        plugins = format!("{plugins} {}", rabbit.v("metrics.plugins").to_go_string());
    }
    plugins.replace(' ', ", ")
}

fn environment(rabbit: &Rabbit) -> Result<Vec<EnvVar>> {
    let cluster_domain = rabbit.v("clusterDomain").to_go_string();
    let mut vars = vec![
        env_value(
            "BITNAMI_DEBUG",
            if rabbit.v("image.debug").truthy() {
                "true"
            } else {
                "false"
            },
        ),
        env_field("MY_POD_IP", "status.podIP"),
        env_field("MY_POD_NAME", "metadata.name"),
        env_field("MY_POD_NAMESPACE", "metadata.namespace"),
        env_value("K8S_SERVICE_NAME", rabbit.name("headless")),
        env_value(
            "K8S_ADDRESS_TYPE",
            rabbit.v("clustering.addressType").to_go_string(),
        ),
        env_value(
            "RABBITMQ_FORCE_BOOT",
            yes_no(rabbit.v("clustering.forceBoot").value()),
        ),
    ];
    if rabbit.v("clustering.addressType").as_str() == Some("hostname") {
        let suffix = format!(".$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{cluster_domain}");
        vars.push(env_value(
            "RABBITMQ_NODE_NAME",
            format!("rabbit@$(MY_POD_NAME){suffix}"),
        ));
        vars.push(env_value("K8S_HOSTNAME_SUFFIX", suffix));
    } else {
        vars.push(env_value("RABBITMQ_NODE_NAME", "rabbit@$(MY_POD_NAME)"));
    }
    vars.push(env_value(
        "RABBITMQ_MNESIA_DIR",
        format!("{MNESIA_DIR}/$(RABBITMQ_NODE_NAME)"),
    ));
    vars.push(env_value(
        "RABBITMQ_LDAP_ENABLE",
        yes_no(rabbit.v("ldap.enabled").value()),
    ));
    if rabbit.v("ldap.enabled").truthy() {
        let servers: Vec<String> = rabbit
            .v("ldap.servers")
            .as_list()
            .iter()
            .map(Value::to_go_string)
            .collect();
        vars.push(env_value(
            "RABBITMQ_LDAP_TLS",
            yes_no(rabbit.v("ldap.tls.enabled").value()),
        ));
        vars.push(env_value("RABBITMQ_LDAP_SERVERS", servers.join(",")));
        vars.push(env_value(
            "RABBITMQ_LDAP_SERVERS_PORT",
            rabbit.v("ldap.port").to_go_string(),
        ));
        vars.push(env_value(
            "RABBITMQ_LDAP_USER_DN_PATTERN",
            rabbit.v("ldap.user_dn_pattern").to_go_string(),
        ));
    }
    vars.push(env_value("RABBITMQ_LOGS", rabbit.v("logs").to_go_string()));
    vars.push(env_value(
        "RABBITMQ_ULIMIT_NOFILES",
        rabbit.v("ulimitNofiles").to_go_string(),
    ));
    vars.extend(schedulers_env(rabbit));
    vars.push(env_value("RABBITMQ_USE_LONGNAME", "true"));
    vars.extend(credentials_env(
        rabbit,
        [
            "RABBITMQ_ERL_COOKIE",
            "RABBITMQ_USERNAME",
            "RABBITMQ_PASSWORD",
        ],
    )?);
    vars.push(env_value("RABBITMQ_PLUGINS", plugins(rabbit)));
    if let Some(community) = rabbit.v("communityPlugins").non_empty() {
        vars.push(env_value(
            "RABBITMQ_COMMUNITY_PLUGINS",
            community.to_go_string(),
        ));
    }
    vars.extend(
        rabbit
            .block::<Vec<EnvVar>>("extraEnvVars", true)?
            .unwrap_or_default(),
    );
    Ok(vars)
}

/// `RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS` with the Erlang schedulers (`maxAvailableSchedulers`,
/// `onlineSchedulers`), when set.
pub(super) fn schedulers_env(rabbit: &Rabbit) -> Option<EnvVar> {
    rabbit.v("maxAvailableSchedulers").truthy().then(|| {
        let schedulers = format!(
            "+S {}:{}",
            rabbit.v("maxAvailableSchedulers").to_go_string(),
            rabbit.v("onlineSchedulers").to_go_string()
        );
        env_value("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", schedulers)
    })
}

/// The Erlang cookie, the st2 user and its password as the image's variables `names` (in that
/// order): the secrets from Secret `<fullname>` or the `auth.existing…Secret`s, never as values.
pub(super) fn credentials_env(rabbit: &Rabbit, names: [&str; 3]) -> Result<[EnvVar; 3]> {
    let [cookie, user, password] = names;
    let erlang_secret = rabbit
        .v("auth.existingErlangSecret")
        .non_empty()
        .map_or_else(|| rabbit.fullname.clone(), Value::to_go_string);
    let password_secret = if rabbit.v("auth.existingPasswordSecret").truthy() {
        rabbit.tpl_value("auth.existingPasswordSecret")?
    } else {
        rabbit.fullname.clone()
    };
    Ok([
        env_secret(cookie, erlang_secret, ERLANG_COOKIE_KEY, false),
        env_value(user, rabbit.v("auth.username").to_go_string()),
        env_secret(password, password_secret, PASSWORD_KEY, false),
    ])
}

pub(super) fn env_from(rabbit: &Rabbit) -> Result<Option<Vec<EnvFromSource>>> {
    let mut sources = Vec::new();
    if rabbit.v("extraEnvVarsCM").truthy() {
        sources.push(EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: rabbit.tpl_value("extraEnvVarsCM")?,
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    if rabbit.v("extraEnvVarsSecret").truthy() {
        sources.push(EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: rabbit.tpl_value("extraEnvVarsSecret")?,
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    Ok((!sources.is_empty()).then_some(sources))
}

fn container_port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.into()),
        container_port: port,
        ..Default::default()
    }
}

pub(super) fn exec(command: &[&str]) -> LifecycleHandler {
    LifecycleHandler {
        exec: Some(ExecAction {
            command: Some(command.iter().map(|s| s.to_string()).collect()),
        }),
        ..Default::default()
    }
}

/// `livenessProbe` / `readinessProbe`: the fixed health check `check` with the configured
/// timings, or the `custom…` probe when the built-in one is disabled.
pub(super) fn probe(
    rabbit: &Rabbit,
    key: &str,
    custom: &str,
    check: &str,
) -> Result<Option<Probe>> {
    if !rabbit.v(&format!("{key}.enabled")).truthy() {
        return rabbit.block(custom, true);
    }
    // The chart's custom probe replaces only a disabled one.
    rabbit.v(custom).pass_over();
    timed_probe(exec_probe(["/bin/bash", "-ec", check]), |field| {
        rabbit.int(&format!("{key}.{field}"))
    })
    .map(Some)
}

/// The container ports of the rabbitmq container.
pub(super) const AMQP_PORT: i32 = 5672;
pub(super) const AMQP_TLS_PORT: i32 = 5671;
pub(super) const DIST_PORT: i32 = 25672;
pub(super) const STATS_PORT: i32 = 15672;
/// The Erlang port mapper's fixed port.
pub(super) const EPMD_PORT: i32 = 4369;
pub(super) const METRICS_PORT: i32 = 9419;

/// The RabbitMQ container's ports (the same for every flavor).
pub(super) fn container_ports(rabbit: &Rabbit) -> Result<Vec<ContainerPort>> {
    let tls = rabbit.v("auth.tls.enabled").truthy();
    let mut ports = vec![container_port("amqp", AMQP_PORT)];
    if tls {
        ports.push(container_port("amqp-ssl", AMQP_TLS_PORT));
    }
    ports.push(container_port("dist", DIST_PORT));
    ports.push(container_port("stats", STATS_PORT));
    ports.push(container_port("epmd", EPMD_PORT));
    if rabbit.v("metrics.enabled").truthy() {
        ports.push(container_port("metrics", METRICS_PORT));
    }
    ports.extend(
        rabbit
            .block::<Vec<ContainerPort>>("extraContainerPorts", false)?
            .unwrap_or_default(),
    );
    Ok(ports)
}

/// The start and stop hooks: `clustering.rebalance` spreads queue leaders again after a pod
/// (re)joins; the node stops its application before the pod goes.
pub(super) fn lifecycle(rabbit: &Rabbit) -> Result<Lifecycle> {
    lifecycle_with(rabbit, REBALANCE_SCRIPT)
}

/// [`lifecycle`] of either flavor, `rebalance` being the flavor's `postStart` script.
pub(super) fn lifecycle_with(rabbit: &Rabbit, rebalance: &str) -> Result<Lifecycle> {
    let replicas = rabbit.int("replicaCount")?;
    let post_start = (rabbit.v("clustering.rebalance").truthy() && replicas > 1)
        .then(|| exec(&["/bin/bash", "-ec", rebalance]));
    Ok(Lifecycle {
        post_start,
        pre_stop: Some(exec(&["bash", "-ec", "rabbitmqctl stop_app"])),
        ..Default::default()
    })
}

fn rabbitmq_container(rabbit: &Rabbit) -> Result<Container> {
    rabbitmq_container_of(
        rabbit,
        Flavored {
            dirs: [
                "/bitnami/rabbitmq/conf",
                MNESIA_DIR,
                "/opt/bitnami/rabbitmq/certs",
            ],
            image: bitnami_image(rabbit.v("image"), rabbit.global(), "rabbitmq.image")?,
            env: environment(rabbit)?,
            health_check: CHECK_RUNNING,
            lifecycle: lifecycle(rabbit)?,
        },
    )
}

/// What the flavors' RabbitMQ containers do differently.
pub(super) struct Flavored {
    /// Where the configuration, the `data` volume and the TLS certificates are mounted.
    pub dirs: [&'static str; 3],
    pub image: String,
    pub env: Vec<EnvVar>,
    /// The command both probes run.
    pub health_check: &'static str,
    pub lifecycle: Lifecycle,
}

/// The RabbitMQ container of either flavor: the chart's ports, mounts, probes, resources and
/// user blocks around what `flavored` says.
pub(super) fn rabbitmq_container_of(rabbit: &Rabbit, flavored: Flavored) -> Result<Container> {
    let [config_dir, data_dir, certs_dir] = flavored.dirs;
    let ports = container_ports(rabbit)?;
    let mut mounts = vec![mount("configuration", config_dir), mount("data", data_dir)];
    if rabbit.v("auth.tls.enabled").truthy() {
        mounts.push(mount("certs", certs_dir));
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
    let check = flavored.health_check;
    Ok(Container {
        name: "rabbitmq".into(),
        image: Some(flavored.image),
        image_pull_policy: Some(rabbit.v("image.pullPolicy").to_go_string()),
        security_context: rabbit.block("containerSecurityContext", false)?,
        command: rabbit.block("command", true)?,
        args: rabbit.block("args", true)?,
        env: Some(flavored.env),
        env_from: env_from(rabbit)?,
        ports: Some(ports),
        liveness_probe: probe(rabbit, "livenessProbe", "customLivenessProbe", check)?,
        readiness_probe: probe(rabbit, "readinessProbe", "customReadinessProbe", check)?,
        resources: resources(rabbit, "resources")?,
        lifecycle: Some(flavored.lifecycle),
        volume_mounts: Some(mounts),
        ..Default::default()
    })
}

/// `volumePermissions`: a root init container that hands the data volume to the pod's user.
fn volume_permissions(rabbit: &Rabbit) -> Result<Container> {
    let owner = format!(
        "{}:{}",
        rabbit.v("podSecurityContext.runAsUser").to_go_string(),
        rabbit.v("podSecurityContext.fsGroup").to_go_string()
    );
    let script = format!("mkdir -p \"{MNESIA_DIR}\"\nchown -R \"{owner}\" \"{MNESIA_DIR}\"\n");
    Ok(Container {
        name: "volume-permissions".into(),
        // bitnami still publishes minideb under `bitnami/`.
        image: Some(bitnami_image(
            rabbit.v("volumePermissions.image"),
            rabbit.global(),
            "rabbitmq.volumePermissions.image",
        )?),
        image_pull_policy: Some(
            rabbit
                .v("volumePermissions.image.pullPolicy")
                .to_go_string(),
        ),
        command: Some(vec!["/bin/bash".into()]),
        args: Some(vec!["-ec".into(), script]),
        security_context: Some(SecurityContext {
            run_as_user: Some(0),
            ..Default::default()
        }),
        resources: resources(rabbit, "volumePermissions.resources")?,
        volume_mounts: Some(vec![mount("data", MNESIA_DIR)]),
        ..Default::default()
    })
}

/// Does the chart define the `data` volume itself (no `data` in `persistence.volumes`)?
pub(super) fn chart_owns_data_volume(rabbit: &Rabbit) -> bool {
    // The chart searches the printed `persistence.volumes` for the text "data".
    !matches!(rabbit.v("persistence.volumes"), v if !v.is_null() && v.to_go_string().contains("data"))
}

fn volumes(rabbit: &Rabbit) -> Result<Vec<Volume>> {
    volumes_with(rabbit, &[])
}

/// The pod's volumes; ConfigMap `<fullname>-config` holds `rabbitmq.conf`, `extra_files` and,
/// when given, `advanced.config`.
pub(super) fn volumes_with(rabbit: &Rabbit, extra_files: &[&str]) -> Result<Vec<Volume>> {
    let mut volumes: Vec<Volume> = rabbit
        .block("persistence.volumes", false)?
        .unwrap_or_default();
    if rabbit.v("auth.tls.enabled").truthy() {
        let secret_name = rabbit
            .v("auth.tls.existingSecret")
            .non_empty()
            .map_or_else(|| rabbit.name("certs"), Value::to_go_string);
        let items = [
            ("ca.crt", "ca_certificate.pem"),
            ("tls.crt", "server_certificate.pem"),
            ("tls.key", "server_key.pem"),
        ];
        let items = items.iter().map(|(k, p)| key_to_path(k, p)).collect();
        volumes.push(secret_volume("certs", secret_name, Some(items)));
    }
    let mut config_items = vec![key_to_path("rabbitmq.conf", "rabbitmq.conf")];
    config_items.extend(extra_files.iter().map(|file| key_to_path(file, file)));
    if rabbit.v("advancedConfiguration").truthy() {
        config_items.push(key_to_path("advanced.config", "advanced.config"));
    }
    volumes.push(Volume {
        name: "configuration".into(),
        config_map: Some(ConfigMapVolumeSource {
            name: rabbit.name("config"),
            items: Some(config_items),
            ..Default::default()
        }),
        ..Default::default()
    });
    if rabbit.v("loadDefinition.enabled").truthy() {
        volumes.push(secret_volume(
            "load-definition-volume",
            rabbit.tpl_value("loadDefinition.existingSecret")?,
            None,
        ));
    }
    volumes.extend(
        rabbit
            .block::<Vec<Volume>>("extraVolumes", false)?
            .unwrap_or_default(),
    );
    if chart_owns_data_volume(rabbit) {
        if !rabbit.v("persistence.enabled").truthy() {
            volumes.push(empty_dir("data", false));
        } else if rabbit.v("persistence.existingClaim").truthy() {
            volumes.push(Volume {
                name: "data".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: rabbit.tpl_value("persistence.existingClaim")?,
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    Ok(volumes)
}

pub(super) fn key_to_path(key: &str, path: &str) -> KeyToPath {
    KeyToPath {
        key: key.into(),
        path: path.into(),
        ..Default::default()
    }
}

/// The `data` claim template (persistence enabled, no existing claim, no user `data` volume).
fn volume_claim_templates(rabbit: &Rabbit) -> Result<Option<Vec<PersistentVolumeClaim>>> {
    if !chart_owns_data_volume(rabbit)
        || !rabbit.v("persistence.enabled").truthy()
        || rabbit.v("persistence.existingClaim").truthy()
    {
        return Ok(None);
    }
    // bitnami common's storage class: `global.storageClass` wins; `-` means "no class".
    let storage_class = rabbit
        .global()
        .key("storageClass")
        .or(rabbit.v("persistence.storageClass"));
    let storage_class_name = storage_class.non_empty().map(|c| {
        if c.as_str() == Some("-") {
            String::new()
        } else {
            c.to_go_string()
        }
    });
    Ok(Some(vec![PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("data".into()),
            labels: Some(rabbit.selector()),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![rabbit.v("persistence.accessMode").to_go_string()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(rabbit.v("persistence.size").to_go_string()),
                )])),
                ..Default::default()
            }),
            storage_class_name,
            selector: rabbit.block("persistence.selector", true)?,
            ..Default::default()
        }),
        ..Default::default()
    }]))
}

#[cfg(test)]
mod tests {
    use super::super::tests::with_rabbit;
    use super::*;

    #[test]
    fn plugins_grow_with_extra_and_metrics() {
        let list = with_rabbit("rabbitmq: {metrics: {enabled: true}}", plugins);
        assert_eq!(
            list,
            "rabbitmq_management, rabbitmq_peer_discovery_k8s, rabbitmq_auth_backend_ldap, rabbitmq_prometheus"
        );
        let list = with_rabbit("rabbitmq: {extraPlugins: ''}", plugins);
        assert_eq!(list, "rabbitmq_management, rabbitmq_peer_discovery_k8s");
    }

    #[test]
    fn data_volume_follows_persistence() {
        let volume_names = |yaml: &str| {
            with_rabbit(yaml, |r| {
                volumes(r).map(|v| v.into_iter().map(|v| v.name).collect::<Vec<_>>())
            })
            .unwrap_or_default()
        };
        assert_eq!(
            volume_names("{}"),
            ["configuration", "load-definition-volume"]
        );
        assert_eq!(
            volume_names("rabbitmq: {persistence: {enabled: false}}"),
            ["configuration", "load-definition-volume", "data"]
        );
        assert_eq!(
            volume_names("rabbitmq: {persistence: {volumes: [{name: data, emptyDir: {}}]}}"),
            ["data", "configuration", "load-definition-volume"]
        );
        let claims = with_rabbit(
            "rabbitmq: {persistence: {existingClaim: x}}",
            volume_claim_templates,
        );
        assert!(claims.is_ok_and(|c| c.is_none()));
    }

    #[test]
    fn storage_class_dash_means_none() {
        for (yaml, want) in [
            ("{}", None),
            (
                "rabbitmq: {persistence: {storageClass: '-'}}",
                Some(String::new()),
            ),
            (
                "rabbitmq: {persistence: {storageClass: fast}}",
                Some("fast".to_string()),
            ),
            (
                "{global: {storageClass: gl}, rabbitmq: {persistence: {storageClass: fast}}}",
                Some("gl".to_string()),
            ),
        ] {
            let class = with_rabbit(yaml, |r| {
                volume_claim_templates(r)
                    .ok()
                    .flatten()
                    .and_then(|c| c.into_iter().next())
                    .and_then(|c| c.spec)
                    .and_then(|s| s.storage_class_name)
            });
            assert_eq!(class, want, "{yaml}");
        }
    }
}
