//! The StatefulSet `<fullname>-node`: per pod a Redis server (`redis`), its
//! sentinel (`sentinel`) and optionally the exporter (`metrics`).
//!
//! Its name, `serviceName`, selector, `podManagementPolicy` (the default, unset as in the chart)
//! and volume claim template are the chart's exactly: they cannot change on a live StatefulSet.
//! That includes the claim template's `heritage: Helm` label, the one Helm label st2k8s keeps.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::api::apps::v1::{
    RollingUpdateStatefulSetStrategy, StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, HostPathVolumeSource, KeyToPath, LocalObjectReference,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec, Probe, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::Redis;
use crate::object::Object;
use crate::render::backends::tpl_typed;
use crate::render::kit::{
    config_map_volume, config_map_volume_mode, empty_dir, env_secret, env_value, exec_probe, mount,
    secret_volume, secret_volume_mode, set_null_in_pod, string_map, timed_probe,
};
use crate::values::Value;

/// Where the sentinel and server containers find their start scripts.
const START_SCRIPTS: &str = "/opt/bitnami/scripts/start-scripts";
/// The password file mounted with `usePasswordFile`.
const PASSWORD_FILE: &str = "/opt/bitnami/redis/secrets/redis-password";
/// The exporter's fixed port.
pub(super) const METRICS_PORT: i32 = 9121;

pub(super) fn object(redis: &Redis) -> Result<Object> {
    let v = &redis.v;
    let metrics = v.at("metrics.enabled").truthy();

    let mut containers = vec![server(redis)?, sentinel(redis)?];
    let init_containers = init_containers(redis)?;
    if metrics {
        containers.push(exporter(redis)?);
    }
    // Where the chart prints an explicit `null`: unset resource blocks, the sentinel's empty
    // `subPath`, the exporter's empty mount list. Each names its container (and mount), so the
    // patch follows the container wherever it sits in the pod.
    let mut pod_nulls: Vec<(&str, &str, Option<&str>, &str)> = Vec::new();
    let container = |name: &str| containers.iter().find(|c| c.name == name);
    for (name, path) in [
        (redis.app.as_str(), "slave.resources"),
        ("sentinel", "sentinel.resources"),
        ("metrics", "metrics.resources"),
    ] {
        if container(name).is_some() && v.at(path).is_null() {
            pod_nulls.push(("containers", name, None, "resources"));
        }
    }
    if container("sentinel")
        .and_then(|c| c.volume_mounts.as_ref())
        .is_some_and(|mounts| {
            mounts
                .iter()
                .any(|m| m.name == "redis-data" && m.sub_path.is_none())
        })
    {
        pod_nulls.push(("containers", "sentinel", Some("redis-data"), "subPath"));
    }
    if init_containers
        .iter()
        .flatten()
        .find(|c| c.name == "volume-permissions")
        .is_some_and(|c| {
            c.volume_mounts
                .iter()
                .flatten()
                .all(|m| m.sub_path.is_none())
        })
    {
        pod_nulls.push((
            "initContainers",
            "volume-permissions",
            Some("redis-data"),
            "subPath",
        ));
    }
    if container("metrics").is_some_and(|c| c.volume_mounts.is_none()) {
        pod_nulls.push(("containers", "metrics", None, "volumeMounts"));
    }
    let pod = PodSpec {
        image_pull_secrets: pull_secrets(
            redis,
            &[
                "image.pullSecrets",
                "metrics.image.pullSecrets",
                "sysctlImage.pullSecrets",
                "volumePermissions.image.pullSecrets",
            ],
        ),
        security_context: enabled_block(redis, "securityContext")?,
        containers,
        init_containers,
        volumes: Some(volumes(redis)?),
        ..pod_placement(redis)?
    };

    let mut object = Object::new(&node_set(redis, pod, metrics)?)?
        .checksum("checksum/health", &[("ConfigMap", &redis.name("-health"))])
        .checksum("checksum/configmap", &[("ConfigMap", &redis.fullname)])
        .checksum("checksum/secret", &[("Secret", &redis.fullname)]);
    if let Some(pod) = object.body_mut().pointer_mut("/spec/template/spec") {
        for (list, container, mount, field) in pod_nulls {
            set_null_in_pod(pod, list, container, mount, field)?;
        }
    }
    finish_node_set(redis, &mut object);
    Ok(object)
}

/// The StatefulSet `<fullname>-node` around `pod`, for both flavors: its name, `serviceName`,
/// selector, `podManagementPolicy` (unset), replicas, pod labels and annotations, the
/// `redis-data` claim template and the update strategy. These are what `kubectl apply` of a
/// flavor switch must find unchanged to keep every claim, so one function builds them for both.
/// `exporter` adds the exporter's pod labels and annotations (bitnami's `metrics.enabled`).
pub(super) fn node_set(redis: &Redis, pod: PodSpec, exporter: bool) -> Result<StatefulSet> {
    let v = &redis.v;
    let selector = redis.node_selector();
    let mut labels = selector.clone();
    labels.extend(string_map(v.at("slave.podLabels").value()));
    let mut annotations = string_map(v.at("slave.podAnnotations").value());
    if exporter {
        labels.extend(string_map(v.at("metrics.podLabels").value()));
        annotations.extend(string_map(v.at("metrics.podAnnotations").value()));
    }
    Ok(StatefulSet {
        metadata: redis.meta(redis.name("-node")),
        spec: Some(StatefulSetSpec {
            replicas: Some(v.int("cluster.slaveCount")?),
            service_name: Some(redis.name("-headless")),
            selector: LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(annotations),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            volume_claim_templates: v
                .at("slave.persistence.enabled")
                .truthy()
                .then(|| claim_template(redis))
                .transpose()?
                .map(|c| vec![c]),
            update_strategy: Some(update_strategy(redis)),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The chart's explicit nulls in the [`node_set`] shell (the claim template's unset `selector`,
/// a `Recreate` strategy's `rollingUpdate`) and the claim templates printed as the chart does.
pub(super) fn finish_node_set(redis: &Redis, object: &mut Object) {
    let v = &redis.v;
    if v.at("slave.persistence.enabled").truthy() && !claim_selector_set(redis) {
        object.set_null("spec.volumeClaimTemplates[0].spec.selector");
    }
    if v.at("slave.statefulset.rollingUpdatePartition").truthy()
        && v.string("slave.statefulset.updateStrategy") == "Recreate"
    {
        object.set_null("spec.updateStrategy.rollingUpdate");
    }
    object.untype_claim_templates();
}

/// Where and as whom the pods run, the same keys for both flavors: ServiceAccount, priority
/// class, node selector, tolerations, scheduler, spread constraints and affinity.
pub(super) fn pod_placement(redis: &Redis) -> Result<PodSpec> {
    let v = &redis.v;
    Ok(PodSpec {
        service_account_name: Some(redis.service_account()),
        priority_class_name: v
            .at("slave.priorityClassName")
            .non_empty()
            .map(Value::to_go_string),
        node_selector: v.at("slave.nodeSelector").non_empty().map(string_map),
        tolerations: v
            .at("slave.tolerations")
            .non_empty()
            .map(|_| v.typed("slave.tolerations"))
            .transpose()?,
        scheduler_name: v
            .at("slave.schedulerName")
            .non_empty()
            .map(Value::to_go_string),
        // The chart reads the master's key here, even in sentinel mode.
        topology_spread_constraints: v
            .at("master.spreadConstraints")
            .non_empty()
            .map(|_| v.typed("master.spreadConstraints"))
            .transpose()?,
        affinity: tpl_typed(redis.ctx, v, "slave.affinity")?,
        ..Default::default()
    })
}

/// Does the claim template select volumes (`slave.persistence.matchLabels`/`matchExpressions`)?
/// The chart prints an empty `selector:` otherwise.
pub(super) fn claim_selector_set(redis: &Redis) -> bool {
    redis.v.at("slave.persistence.matchLabels").truthy()
        || redis.v.at("slave.persistence.matchExpressions").truthy()
}

/// `volumeClaimTemplates[0]`: `redis-data`, from `slave.persistence.*` (in sentinel mode the
/// chart ignores `master.persistence`).
pub(super) fn claim_template(redis: &Redis) -> Result<PersistentVolumeClaim> {
    let v = &redis.v;
    let mut labels = redis.labels();
    labels.insert("component".into(), "slave".into());
    // The API server rejects any change to a claim template, labels included, and applying a
    // list replaces it whole: without the chart's `heritage` label, `kubectl apply` over a
    // release installed by Helm would fail.
    labels.insert("heritage".into(), "Helm".into());
    Ok(PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("redis-data".into()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(
                v.at("slave.persistence.accessModes")
                    .as_list()
                    .iter()
                    .map(Value::to_go_string)
                    .collect(),
            ),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(v.string("slave.persistence.size")),
                )])),
                ..Default::default()
            }),
            storage_class_name: storage_class(redis),
            selector: claim_selector_set(redis)
                .then(|| -> Result<LabelSelector> {
                    Ok(LabelSelector {
                        match_labels: v
                            .at("slave.persistence.matchLabels")
                            .non_empty()
                            .map(string_map),
                        match_expressions: match v
                            .at("slave.persistence.matchExpressions")
                            .non_empty()
                        {
                            Some(_) => Some(v.typed("slave.persistence.matchExpressions")?),
                            None => None,
                        },
                    })
                })
                .transpose()?,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// `global.storageClass`, else `slave.persistence.storageClass`; `-` means the empty class.
fn storage_class(redis: &Redis) -> Option<String> {
    let v = &redis.v;
    let class = v
        .global(redis.ctx, "storageClass")
        .non_empty()
        .or_else(|| v.at("slave.persistence.storageClass").non_empty())?;
    let class = class.to_go_string();
    Some(if class == "-" { String::new() } else { class })
}

pub(super) fn update_strategy(redis: &Redis) -> StatefulSetUpdateStrategy {
    let v = &redis.v;
    let type_ = v
        .at("slave.statefulset.updateStrategy")
        .non_empty()
        .map(Value::to_go_string);
    let rolling_update = (v.at("slave.statefulset.rollingUpdatePartition").truthy()
        && type_.as_deref() != Some("Recreate"))
    .then(|| RollingUpdateStatefulSetStrategy {
        partition: v.int("slave.statefulset.rollingUpdatePartition").ok(),
        ..Default::default()
    });
    StatefulSetUpdateStrategy {
        type_,
        rolling_update,
    }
}

/// A security context block with an `enabled` switch (`securityContext`,
/// `containerSecurityContext`): the block without `enabled`, iff enabled.
pub(super) fn enabled_block<T: serde::de::DeserializeOwned>(
    redis: &Redis,
    path: &str,
) -> Result<Option<T>> {
    let v = &redis.v;
    if !v.at(&format!("{path}.enabled")).truthy() {
        return Ok(None);
    }
    let mut json = v.at(path).to_json();
    if let Some(map) = json.as_object_mut() {
        map.remove("enabled");
    }
    crate::render::pod::convert::from_json(&json, &v.key(path)).map(Some)
}

/// `global.imagePullSecrets`, else the pull secrets at `paths` (those of every image the pod
/// may use).
pub(super) fn pull_secrets(redis: &Redis, paths: &[&str]) -> Option<Vec<LocalObjectReference>> {
    let v = &redis.v;
    let global = v.global(redis.ctx, "imagePullSecrets");
    let names: Vec<&Value> = if global.truthy() {
        global.as_list().iter().collect()
    } else {
        paths.iter().flat_map(|p| v.at(p).as_list()).collect()
    };
    (!names.is_empty()).then(|| {
        names
            .into_iter()
            .map(|n| LocalObjectReference {
                name: n.to_go_string(),
            })
            .collect()
    })
}

/// `name` from the Redis password Secret.
fn secret_env(redis: &Redis, name: &str) -> EnvVar {
    env_secret(name, redis.secret_name(), redis.secret_key(), false)
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// The password variables of a container: files with `usePasswordFile`, Secret references
/// with `usePassword`, else an explicit permission to run without one.
fn password_env(redis: &Redis, names: &[&str]) -> Vec<EnvVar> {
    let v = &redis.v;
    if !v.at("usePassword").truthy() {
        return vec![env_value("ALLOW_EMPTY_PASSWORD", "yes")];
    }
    names
        .iter()
        .map(|name| {
            if v.at("usePasswordFile").truthy() {
                env_value(&format!("{name}_FILE"), PASSWORD_FILE)
            } else {
                secret_env(redis, name)
            }
        })
        .collect()
}

/// The TLS variables (`<prefix>_CERT_FILE`…) of a container.
fn tls_env(redis: &Redis, prefix: &str) -> Result<Vec<EnvVar>> {
    let v = &redis.v;
    let mut out = vec![
        env_value(
            &format!("{prefix}_AUTH_CLIENTS"),
            yes_no(v.at("tls.authClients").truthy()),
        ),
        env_value(
            &format!("{prefix}_CERT_FILE"),
            redis.tls_file("certFilename", "Certificate filename")?,
        ),
        env_value(
            &format!("{prefix}_KEY_FILE"),
            redis.tls_file("certKeyFilename", "Certificate Key filename")?,
        ),
        env_value(
            &format!("{prefix}_CA_FILE"),
            redis.tls_file("certCAFilename", "Certificate CA filename")?,
        ),
    ];
    if let Some(dh) = v.at("tls.dhParamsFilename").non_empty() {
        out.push(env_value(
            &format!("{prefix}_DH_PARAMS_FILE"),
            format!("/opt/bitnami/redis/certs/{}", dh.to_go_string()),
        ));
    }
    Ok(out)
}

/// A probe running `sh -c "<script> <seconds>"` from the `<path>` timings when
/// `<path>.enabled`, else the `custom` probe block if any.
pub(super) fn probe(
    redis: &Redis,
    path: &str,
    custom: &str,
    script: &str,
) -> Result<Option<Probe>> {
    let v = &redis.v;
    if v.at(&format!("{path}.enabled")).truthy() {
        // The chart's custom probe replaces only a disabled one.
        v.at(custom).pass_over();
        return timed_probe(exec_probe(["sh", "-c", script]), |field| {
            v.int(&format!("{path}.{field}"))
        })
        .map(Some);
    }
    v.at(custom)
        .non_empty()
        .map(|_| v.typed(custom))
        .transpose()
}

fn certificates_mount() -> VolumeMount {
    VolumeMount {
        read_only: Some(true),
        ..mount("redis-certificates", "/opt/bitnami/redis/certs")
    }
}

/// `image.pullPolicy`-style keys are printed with `quote`: a missing one stays unset.
pub(super) fn pull_policy(redis: &Redis, path: &str) -> Option<String> {
    let value = redis.v.at(path);
    (!value.is_null()).then(|| value.to_go_string())
}

pub(super) fn resources<T: serde::de::DeserializeOwned>(
    redis: &Redis,
    path: &str,
) -> Result<Option<T>> {
    if redis.v.at(path).is_null() {
        Ok(None)
    } else {
        redis.v.typed(path).map(Some)
    }
}

/// The Redis server container.
fn server(redis: &Redis) -> Result<Container> {
    let v = &redis.v;
    let tls = v.at("tls.enabled").truthy();
    let port = v.string("redisPort");
    let mut env_vars = vec![env_value("REDIS_MASTER_PORT_NUMBER", &port)];
    env_vars.extend(password_env(
        redis,
        &["REDIS_PASSWORD", "REDIS_MASTER_PASSWORD"],
    ));
    env_vars.push(env_value("REDIS_TLS_ENABLED", yes_no(tls)));
    if tls {
        env_vars.push(env_value("REDIS_TLS_PORT", &port));
        env_vars.extend(tls_env(redis, "REDIS_TLS")?);
    } else {
        env_vars.push(env_value("REDIS_PORT", &port));
    }
    env_vars.push(env_value(
        "REDIS_DATA_DIR",
        v.string("slave.persistence.path"),
    ));

    // The chart gives both probes the liveness timeout as the script's argument.
    let seconds = v.string("slave.livenessProbe.timeoutSeconds");
    let mut mounts = vec![
        mount("start-scripts", START_SCRIPTS),
        mount("health", "/health"),
    ];
    if v.at("usePasswordFile").truthy() {
        mounts.push(mount("redis-password", "/opt/bitnami/redis/secrets/"));
    }
    mounts.extend([
        mount("redis-data", "/data"),
        mount("config", "/opt/bitnami/redis/mounted-etc"),
        mount("redis-tmp-conf", "/opt/bitnami/redis/etc"),
    ]);
    if tls {
        mounts.push(certificates_mount());
    }
    Ok(Container {
        name: redis.app.clone(),
        image: Some(redis.image("image")?),
        image_pull_policy: pull_policy(redis, "image.pullPolicy"),
        security_context: enabled_block(redis, "containerSecurityContext")?,
        command: Some(vec![
            "/bin/bash".into(),
            "-c".into(),
            format!("{START_SCRIPTS}/start-node.sh"),
        ]),
        env: Some(env_vars),
        ports: Some(vec![ContainerPort {
            name: Some("redis".into()),
            container_port: v.int("redisPort")?,
            ..Default::default()
        }]),
        liveness_probe: probe(
            redis,
            "slave.livenessProbe",
            "slave.customLivenessProbe",
            &format!("/health/ping_liveness_local.sh {seconds}"),
        )?,
        readiness_probe: probe(
            redis,
            "slave.readinessProbe",
            "slave.customReadinessProbe",
            &format!("/health/ping_readiness_local.sh {seconds}"),
        )?,
        resources: resources(redis, "slave.resources")?,
        volume_mounts: Some(mounts),
        ..Default::default()
    })
}

/// The sentinel container.
fn sentinel(redis: &Redis) -> Result<Container> {
    let v = &redis.v;
    let tls = v.at("tls.enabled").truthy();
    let port = v.string("sentinel.port");
    let mut env_vars = password_env(redis, &["REDIS_PASSWORD"]);
    env_vars.push(env_value("REDIS_SENTINEL_TLS_ENABLED", yes_no(tls)));
    if tls {
        env_vars.push(env_value("REDIS_SENTINEL_TLS_PORT_NUMBER", &port));
        env_vars.extend(tls_env(redis, "REDIS_SENTINEL_TLS")?);
    } else {
        env_vars.push(env_value("REDIS_SENTINEL_PORT", &port));
    }
    let seconds = v.string("sentinel.livenessProbe.timeoutSeconds");
    let script = format!("/health/ping_sentinel.sh {seconds}");
    let mut mounts = vec![
        mount("start-scripts", START_SCRIPTS),
        mount("health", "/health"),
    ];
    if v.at("usePasswordFile").truthy() {
        mounts.push(mount("redis-password", "/opt/bitnami/redis/secrets/"));
    }
    let sub_path = v.string("master.persistence.subPath");
    mounts.push(VolumeMount {
        sub_path: (!v.at("master.persistence.subPath").is_null() && !sub_path.is_empty())
            .then_some(sub_path),
        ..mount("redis-data", &v.string("master.persistence.path"))
    });
    mounts.extend([
        mount("config", "/opt/bitnami/redis-sentinel/mounted-etc"),
        mount("sentinel-tmp-conf", "/opt/bitnami/redis-sentinel/etc"),
    ]);
    if tls {
        mounts.push(certificates_mount());
    }
    Ok(Container {
        name: "sentinel".into(),
        image: Some(redis.image("sentinel.image")?),
        image_pull_policy: pull_policy(redis, "sentinel.image.pullPolicy"),
        security_context: enabled_block(redis, "containerSecurityContext")?,
        command: Some(vec![
            "/bin/bash".into(),
            "-c".into(),
            format!("{START_SCRIPTS}/start-sentinel.sh"),
        ]),
        env: Some(env_vars),
        ports: Some(vec![ContainerPort {
            name: Some("redis-sentinel".into()),
            container_port: v.int("sentinel.port")?,
            ..Default::default()
        }]),
        liveness_probe: probe(
            redis,
            "sentinel.livenessProbe",
            "sentinel.customLivenessProbe",
            &script,
        )?,
        readiness_probe: probe(
            redis,
            "sentinel.readinessProbe",
            "sentinel.customReadinessProbe",
            &script,
        )?,
        resources: resources(redis, "sentinel.resources")?,
        volume_mounts: Some(mounts),
        ..Default::default()
    })
}

/// The exporter's shell command: export the password from the file if mounted, then run
/// `redis_exporter` with `metrics.extraArgs` as `--key=value` flags (key order).
fn exporter_command(redis: &Redis) -> String {
    let flags: String = redis
        .v
        .at("metrics.extraArgs")
        .entries()
        .map(|(k, v)| format!(" --{k}={}", v.to_go_string()))
        .collect();
    format!(
        "if [[ -f '/secrets/redis-password' ]]; then\nexport REDIS_PASSWORD=$(cat /secrets/redis-password)\nfi\nredis_exporter{flags}\n"
    )
}

/// The Prometheus exporter container (`metrics.enabled`).
fn exporter(redis: &Redis) -> Result<Container> {
    let v = &redis.v;
    let mut env_vars = vec![env_value("REDIS_ALIAS", &redis.fullname)];
    if v.at("usePassword").truthy() && !v.at("usePasswordFile").truthy() {
        env_vars.push(secret_env(redis, "REDIS_PASSWORD"));
    }
    let tls = v.at("tls.enabled").truthy();
    if tls {
        env_vars.extend([
            env_value(
                "REDIS_ADDR",
                format!("rediss://localhost:{}", v.string("redisPort")),
            ),
            env_value(
                "REDIS_EXPORTER_TLS_CLIENT_KEY_FILE",
                redis.tls_file("certKeyFilename", "Certificate Key filename")?,
            ),
            env_value(
                "REDIS_EXPORTER_TLS_CLIENT_CERT_FILE",
                redis.tls_file("certFilename", "Certificate filename")?,
            ),
            env_value(
                "REDIS_EXPORTER_TLS_CA_CERT_FILE",
                redis.tls_file("certCAFilename", "Certificate CA filename")?,
            ),
        ]);
    }
    let mut mounts = Vec::new();
    if v.at("usePasswordFile").truthy() {
        mounts.push(mount("redis-password", "/secrets/"));
    }
    if tls {
        mounts.push(certificates_mount());
    }
    Ok(Container {
        name: "metrics".into(),
        image: Some(redis.image("metrics.image")?),
        image_pull_policy: pull_policy(redis, "metrics.image.pullPolicy"),
        security_context: enabled_block(redis, "containerSecurityContext")?,
        command: Some(vec![
            "/bin/bash".into(),
            "-c".into(),
            exporter_command(redis),
        ]),
        env: Some(env_vars),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ports: Some(vec![ContainerPort {
            name: Some("metrics".into()),
            container_port: METRICS_PORT,
            ..Default::default()
        }]),
        resources: resources(redis, "metrics.resources")?,
        ..Default::default()
    })
}

/// `volume-permissions` (chowns the data volume) and `init-sysctl`, when enabled.
fn init_containers(redis: &Redis) -> Result<Option<Vec<Container>>> {
    let v = &redis.v;
    let mut out = Vec::new();
    let data_dir = v.string("slave.persistence.path");
    if [
        "volumePermissions.enabled",
        "slave.persistence.enabled",
        "securityContext.enabled",
        "containerSecurityContext.enabled",
    ]
    .iter()
    .all(|p| v.at(p).truthy())
    {
        let owner = if v.string("volumePermissions.securityContext.runAsUser") == "auto" {
            "`id -u`:`id -G | cut -d \" \" -f2`".to_string()
        } else {
            format!(
                "{}:{}",
                v.string("containerSecurityContext.runAsUser"),
                v.string("securityContext.fsGroup")
            )
        };
        let sub_path = v.string("slave.persistence.subPath");
        out.push(Container {
            name: "volume-permissions".into(),
            image: Some(redis.image("volumePermissions.image")?),
            image_pull_policy: pull_policy(redis, "volumePermissions.image.pullPolicy"),
            command: Some(vec![
                "/bin/sh".into(),
                "-cx".into(),
                format!("chown -R {owner} {data_dir}\n"),
            ]),
            security_context: Some(v.typed("volumePermissions.securityContext")?),
            resources: resources(redis, "volumePermissions.resources")?,
            volume_mounts: Some(vec![VolumeMount {
                sub_path: (!sub_path.is_empty() && !v.at("slave.persistence.subPath").is_null())
                    .then_some(sub_path),
                ..mount("redis-data", &data_dir)
            }]),
            ..Default::default()
        });
    }
    if v.at("sysctlImage.enabled").truthy() {
        out.push(Container {
            name: "init-sysctl".into(),
            image: Some(redis.image("sysctlImage")?),
            image_pull_policy: Some(
                v.at("sysctlImage.pullPolicy")
                    .non_empty()
                    .map_or_else(String::new, Value::to_go_string),
            ),
            resources: resources(redis, "sysctlImage.resources")?,
            volume_mounts: v
                .at("sysctlImage.mountHostSys")
                .truthy()
                .then(|| vec![mount("host-sys", "/host-sys")]),
            command: Some(
                v.at("sysctlImage.command")
                    .as_list()
                    .iter()
                    .map(Value::to_go_string)
                    .collect(),
            ),
            security_context: Some(serde_json::from_value(
                serde_json::json!({"privileged": true, "runAsUser": 0}),
            )?),
            ..Default::default()
        });
    }
    Ok((!out.is_empty()).then_some(out))
}

fn volumes(redis: &Redis) -> Result<Vec<Volume>> {
    let v = &redis.v;
    let mut out = vec![
        config_map_volume_mode("start-scripts", redis.name("-scripts"), Some(0o755)),
        config_map_volume_mode("health", redis.name("-health"), Some(0o755)),
    ];
    if v.at("usePasswordFile").truthy() {
        let items = vec![KeyToPath {
            key: redis.secret_key(),
            path: "redis-password".into(),
            ..Default::default()
        }];
        out.push(secret_volume(
            "redis-password",
            redis.secret_name(),
            Some(items),
        ));
    }
    out.push(config_map_volume("config", redis.fullname.clone()));
    if v.at("sysctlImage.mountHostSys").truthy() {
        out.push(Volume {
            name: "host-sys".into(),
            host_path: Some(HostPathVolumeSource {
                path: "/sys".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    out.extend([
        empty_dir("sentinel-tmp-conf", false),
        empty_dir("redis-tmp-conf", false),
    ]);
    if v.at("tls.enabled").truthy() {
        let Some(secret) = v.at("tls.certificatesSecret").non_empty() else {
            bail!(
                "A secret containing the certificates for the TLS traffic is required when TLS in enabled"
            );
        };
        out.push(secret_volume_mode(
            "redis-certificates",
            secret.to_go_string(),
            None,
            Some(256),
        ));
    }
    if !v.at("slave.persistence.enabled").truthy() {
        out.push(empty_dir("redis-data", false));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::with_ctx;

    fn node(values: &str) -> serde_json::Value {
        with_ctx(values, |ctx| {
            object(&Redis::new(ctx).expect("redis values"))
                .expect("statefulset")
                .body()
                .clone()
        })
    }

    /// The chart's explicit nulls land on the containers and mounts they name, whatever their
    /// position in the pod.
    #[test]
    fn explicit_nulls_follow_container_and_mount_names() {
        let yaml = "redis: {metrics: {enabled: true}, volumePermissions: {enabled: true}}";
        let pod = &node(yaml)["spec"]["template"]["spec"];
        let named = |list: &str, name: &str| {
            pod[list]
                .as_array()
                .and_then(|items| items.iter().find(|c| c["name"] == name))
                .cloned()
                .unwrap_or_default()
        };
        let data_mount = |c: &serde_json::Value| {
            c["volumeMounts"]
                .as_array()
                .and_then(|m| m.iter().find(|m| m["name"] == "redis-data"))
                .cloned()
                .unwrap_or_default()
        };
        let sentinel = named("containers", "sentinel");
        assert_eq!(
            data_mount(&sentinel).get("subPath"),
            Some(&serde_json::Value::Null)
        );
        let permissions = named("initContainers", "volume-permissions");
        assert_eq!(
            data_mount(&permissions).get("subPath"),
            Some(&serde_json::Value::Null)
        );
        let metrics = named("containers", "metrics");
        assert_eq!(metrics.get("volumeMounts"), Some(&serde_json::Value::Null));
        let server = named("containers", "redis");
        assert!(data_mount(&server).get("subPath").is_none(), "{server}");
        for c in [&server, &sentinel, &metrics] {
            assert_eq!(c.get("resources"), Some(&serde_json::Value::Null), "{c}");
        }
    }

    #[test]
    fn exporter_command_appends_extra_args_in_key_order() {
        let yaml = "redis: {metrics: {extraArgs: {skip-tls-verification: true, check-keys: a}}}";
        let command = with_ctx(yaml, |ctx| {
            exporter_command(&Redis::new(ctx).expect("redis"))
        });
        assert!(
            command.ends_with("\nredis_exporter --check-keys=a --skip-tls-verification=true\n")
        );
    }

    #[test]
    fn claim_template_keeps_the_chart_shape() {
        let body = node("redis: {slave: {persistence: {size: 2Gi, storageClass: '-'}}}");
        assert_eq!(
            body["spec"]["volumeClaimTemplates"],
            serde_json::json!([{
                "metadata": {
                    "name": "redis-data",
                    "labels": {"app": "redis", "release": "st2", "component": "slave", "heritage": "Helm"},
                },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "2Gi"}},
                    "storageClassName": "",
                    "selector": null,
                },
            }])
        );
        let selected = node("redis: {slave: {persistence: {matchLabels: {pv: redis}}}}");
        assert_eq!(
            selected["spec"]["volumeClaimTemplates"][0]["spec"]["selector"],
            serde_json::json!({"matchLabels": {"pv": "redis"}})
        );
    }

    #[test]
    fn disabled_persistence_uses_an_empty_dir() {
        let body = node("redis: {slave: {persistence: {enabled: false}}}");
        assert!(body["spec"].get("volumeClaimTemplates").is_none());
        let volumes = body["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .expect("volumes");
        assert!(
            volumes
                .iter()
                .any(|v| v["name"] == "redis-data" && v["emptyDir"] == serde_json::json!({}))
        );
    }

    #[test]
    fn password_variables_follow_the_password_mode() {
        let env_names = |values: &str| -> Vec<String> {
            let body = node(values);
            body["spec"]["template"]["spec"]["containers"][0]["env"]
                .as_array()
                .expect("env")
                .iter()
                .map(|e| e["name"].as_str().unwrap_or_default().to_string())
                .collect()
        };
        assert!(env_names("{}").contains(&"ALLOW_EMPTY_PASSWORD".to_string()));
        let secret = env_names("redis: {usePassword: true}");
        assert!(
            secret.contains(&"REDIS_PASSWORD".to_string())
                && secret.contains(&"REDIS_MASTER_PASSWORD".to_string())
        );
        let files = env_names("redis: {usePassword: true, usePasswordFile: true}");
        assert!(files.contains(&"REDIS_PASSWORD_FILE".to_string()));
    }

    /// The fields a live StatefulSet cannot change, as the chart renders them by default.
    #[test]
    fn immutable_fields_match_the_chart() {
        let body = node("{}");
        assert_eq!(body["metadata"]["name"], "st2-redis-node");
        let spec = &body["spec"];
        assert_eq!(spec["serviceName"], "st2-redis-headless");
        assert_eq!(
            spec["selector"],
            serde_json::json!({"matchLabels": {"app": "redis", "release": "st2", "role": "node"}})
        );
        assert!(spec.get("podManagementPolicy").is_none());
        assert_eq!(
            spec["volumeClaimTemplates"],
            serde_json::json!([{
                "metadata": {
                    "name": "redis-data",
                    "labels": {"app": "redis", "release": "st2", "heritage": "Helm", "component": "slave"},
                },
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "8Gi"}},
                    "selector": null,
                },
            }])
        );
    }
}
