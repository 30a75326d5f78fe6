//! The official flavor's StatefulSet `<fullname>-node`: per pod a server (`redis`) and a
//! sentinel (`sentinel`) on the same image, each started by its script from `<fullname>-scripts`.
//!
//! Name, `serviceName`, selector, `podManagementPolicy` (unset), replicas and the `redis-data`
//! claim template are built exactly as the bitnami flavor's, so that a switch is an in-place
//! update of the StatefulSet that keeps every claim. The pods run as 1001:1001 with
//! `fsGroup: 1001` like bitnami's (the chart's `securityContext`/`containerSecurityContext` keys
//! still apply on top), so the files the bitnami images wrote stay readable: the official images
//! change the owner of their data only when started as root, which these never are.

use anyhow::Result;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, KeyToPath, LocalObjectReference, PodSecurityContext, PodSpec,
    PodTemplateSpec, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::super::Redis;
use super::super::statefulset::{
    claim_selector_set, claim_template, enabled_block, probe, pull_policy, resources,
    update_strategy,
};
use super::config::{CONFIG_DIR, DATA_DIR, RUN_DIR, SCRIPTS_DIR, SECRET_DIR};
use crate::object::Object;
use crate::render::backends::tpl_typed;
use crate::render::kit::{
    config_map_volume, config_map_volume_mode, empty_dir, env_value, mount, secret_volume_mode,
    string_map,
};
use crate::render::pod_security::BITNAMI_UID;
use crate::values::Value;

/// The password file's name in [`SECRET_DIR`].
const PASSWORD_FILE: &str = "redis-password";

pub(super) fn object(redis: &Redis) -> Result<Object> {
    let v = &redis.v;
    let persistence = v.at("slave.persistence.enabled").truthy();
    let selector = redis.node_selector();
    let mut labels = selector.clone();
    labels.extend(string_map(v.at("slave.podLabels").value()));
    let annotations = string_map(v.at("slave.podAnnotations").value());

    let pod = PodSpec {
        image_pull_secrets: pull_secrets(redis),
        security_context: Some(pod_security_context(redis)?),
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
        topology_spread_constraints: v
            .at("master.spreadConstraints")
            .non_empty()
            .map(|_| v.typed("master.spreadConstraints"))
            .transpose()?,
        affinity: tpl_typed(redis.ctx, v, "slave.affinity")?,
        containers: vec![server(redis)?, sentinel(redis)?],
        volumes: Some(volumes(redis)),
        ..Default::default()
    };

    let set = StatefulSet {
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
            volume_claim_templates: persistence
                .then(|| claim_template(redis))
                .transpose()?
                .map(|c| vec![c]),
            update_strategy: Some(update_strategy(redis)),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut object = Object::new(&set)?
        .checksum(
            "checksum/scripts",
            &[("ConfigMap", &redis.name("-scripts"))],
        )
        .checksum("checksum/configmap", &[("ConfigMap", &redis.fullname)])
        .checksum("checksum/secret", &[("Secret", &redis.fullname)]);
    // The bitnami flavor's claim template carries the chart's explicit `selector: null`; the
    // template cannot change on a live StatefulSet, so this one does too.
    if persistence && !claim_selector_set(redis) {
        object.set_null("spec.volumeClaimTemplates[0].spec.selector");
    }
    if v.at("slave.statefulset.rollingUpdatePartition").truthy()
        && v.string("slave.statefulset.updateStrategy") == "Recreate"
    {
        object.set_null("spec.updateStrategy.rollingUpdate");
    }
    object.untype_claim_templates();
    Ok(object)
}

/// 1001:1001 with `fsGroup: 1001`, the bitnami images' user, under the user's
/// `securityContext` block when enabled.
fn pod_security_context(redis: &Redis) -> Result<PodSecurityContext> {
    let mut context: PodSecurityContext =
        enabled_block(redis, "securityContext")?.unwrap_or_default();
    context.run_as_user.get_or_insert(BITNAMI_UID);
    context.run_as_group.get_or_insert(BITNAMI_UID);
    context.fs_group.get_or_insert(BITNAMI_UID);
    Ok(context)
}

/// `global.imagePullSecrets`, else `image.pullSecrets` (the only image of these pods).
fn pull_secrets(redis: &Redis) -> Option<Vec<LocalObjectReference>> {
    let v = &redis.v;
    let global = v.global(redis.ctx, "imagePullSecrets");
    let names = if global.truthy() {
        global.as_list()
    } else {
        v.at("image.pullSecrets").as_list()
    };
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|n| LocalObjectReference {
                name: n.to_go_string(),
            })
            .collect()
    })
}

/// The variables both start scripts read: where the settings are, where to write, the password
/// file when there is a password.
fn script_env(redis: &Redis) -> Vec<EnvVar> {
    let mut out = vec![
        env_value("REDIS_CONFIG_DIR", CONFIG_DIR),
        env_value("REDIS_RUN_DIR", RUN_DIR),
    ];
    if redis.v.at("usePassword").truthy() {
        out.push(env_value(
            "REDIS_PASSWORD_FILE",
            format!("{SECRET_DIR}/{PASSWORD_FILE}"),
        ));
    }
    out
}

/// The mounts both containers have: scripts, settings, the password, a writable `run` volume.
fn common_mounts(redis: &Redis, run_volume: &str) -> Vec<VolumeMount> {
    let mut out = vec![
        mount("scripts", SCRIPTS_DIR),
        mount("config", CONFIG_DIR),
        mount(run_volume, RUN_DIR),
    ];
    if redis.v.at("usePassword").truthy() {
        out.push(VolumeMount {
            read_only: Some(true),
            ..mount("redis-password", SECRET_DIR)
        });
    }
    out
}

fn start_command(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), format!("{SCRIPTS_DIR}/{script}")]
}

/// The probe script's command for `which` (`server`, `sentinel`) and `kind` (`liveness`,
/// `readiness`), with the timeout of the probe block at `path`.
fn probe_script(redis: &Redis, which: &str, kind: &str, path: &str) -> String {
    let seconds = redis.v.string(&format!("{path}.timeoutSeconds"));
    format!("{SCRIPTS_DIR}/probe.sh {which} {kind} {seconds}")
}

/// The server container, named like the bitnami flavor's.
fn server(redis: &Redis) -> Result<Container> {
    let v = &redis.v;
    let mut env = script_env(redis);
    env.push(env_value("REDIS_DATA_DIR", DATA_DIR));
    let mut mounts = common_mounts(redis, "server-run");
    mounts.push(mount("redis-data", DATA_DIR));
    Ok(Container {
        name: redis.app.clone(),
        image: Some(super::image(redis)?),
        image_pull_policy: pull_policy(redis, "image.pullPolicy"),
        security_context: enabled_block(redis, "containerSecurityContext")?,
        command: Some(start_command("start-node.sh")),
        env: Some(env),
        ports: Some(vec![ContainerPort {
            name: Some("redis".into()),
            container_port: v.int("redisPort")?,
            ..Default::default()
        }]),
        liveness_probe: probe(
            redis,
            "slave.livenessProbe",
            "slave.customLivenessProbe",
            &probe_script(redis, "server", "liveness", "slave.livenessProbe"),
        )?,
        readiness_probe: probe(
            redis,
            "slave.readinessProbe",
            "slave.customReadinessProbe",
            &probe_script(redis, "server", "readiness", "slave.readinessProbe"),
        )?,
        resources: resources(redis, "slave.resources")?,
        volume_mounts: Some(mounts),
        ..Default::default()
    })
}

/// The sentinel container.
fn sentinel(redis: &Redis) -> Result<Container> {
    let v = &redis.v;
    Ok(Container {
        name: "sentinel".into(),
        image: Some(super::image(redis)?),
        image_pull_policy: pull_policy(redis, "image.pullPolicy"),
        security_context: enabled_block(redis, "containerSecurityContext")?,
        command: Some(start_command("start-sentinel.sh")),
        env: Some(script_env(redis)),
        ports: Some(vec![ContainerPort {
            name: Some("redis-sentinel".into()),
            container_port: v.int("sentinel.port")?,
            ..Default::default()
        }]),
        liveness_probe: probe(
            redis,
            "sentinel.livenessProbe",
            "sentinel.customLivenessProbe",
            &probe_script(redis, "sentinel", "liveness", "sentinel.livenessProbe"),
        )?,
        readiness_probe: probe(
            redis,
            "sentinel.readinessProbe",
            "sentinel.customReadinessProbe",
            &probe_script(redis, "sentinel", "readiness", "sentinel.readinessProbe"),
        )?,
        resources: resources(redis, "sentinel.resources")?,
        volume_mounts: Some(common_mounts(redis, "sentinel-run")),
        ..Default::default()
    })
}

fn volumes(redis: &Redis) -> Vec<Volume> {
    let v = &redis.v;
    let mut out = vec![
        config_map_volume_mode("scripts", redis.name("-scripts"), Some(0o755)),
        config_map_volume("config", redis.fullname.clone()),
        empty_dir("server-run", false),
        empty_dir("sentinel-run", false),
    ];
    if v.at("usePassword").truthy() {
        // Readable by the pod's group (fsGroup) only.
        out.push(secret_volume_mode(
            "redis-password",
            redis.secret_name(),
            Some(vec![KeyToPath {
                key: redis.secret_key(),
                path: PASSWORD_FILE.into(),
                ..Default::default()
            }]),
            Some(0o440),
        ));
    }
    if !v.at("slave.persistence.enabled").truthy() {
        out.push(empty_dir("redis-data", false));
    }
    out
}
