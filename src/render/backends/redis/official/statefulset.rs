//! The official flavor's StatefulSet `<fullname>-node`: per pod a server (`redis`) and a
//! sentinel (`sentinel`) on the same image, each started by its script from `<fullname>-scripts`.
//!
//! Name, `serviceName`, selector, `podManagementPolicy` (unset), replicas, pod labels, the
//! `redis-data` claim template and the update strategy are built by the bitnami flavor's own
//! `node_set` (and the placement keys by its `pod_placement`), so that a switch is an in-place
//! update of the StatefulSet that keeps every claim. The pods run as 1001:1001 with
//! `fsGroup: 1001` like bitnami's (the chart's `securityContext`/`containerSecurityContext` keys
//! still apply on top), so the files the bitnami images wrote stay readable: the official images
//! change the owner of their data only when started as root, which these never are.

use anyhow::Result;
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, KeyToPath, PodSecurityContext, PodSpec, Volume, VolumeMount,
};

use super::super::Redis;
use super::super::statefulset::{
    enabled_block, finish_node_set, node_set, pod_placement, probe, pull_policy, pull_secrets,
    resources,
};
use super::config::{CONFIG_DIR, DATA_DIR, RUN_DIR, SCRIPTS_DIR, SECRET_DIR};
use crate::object::Object;
use crate::render::kit::{
    config_map_volume, config_map_volume_mode, empty_dir, env_value, mount, secret_volume_mode,
};
use crate::render::pod_security::BITNAMI_UID;

/// The password file's name in [`SECRET_DIR`].
const PASSWORD_FILE: &str = "redis-password";

pub(super) fn object(redis: &Redis) -> Result<Object> {
    let mut env = script_env(redis);
    env.push(env_value("REDIS_DATA_DIR", DATA_DIR));
    let mut mounts = common_mounts(redis, "server-run");
    mounts.push(mount("redis-data", DATA_DIR));
    let server = container(redis, redis.app.clone(), &SERVER, env, mounts)?;
    let sentinel = container(
        redis,
        "sentinel".into(),
        &SENTINEL,
        script_env(redis),
        common_mounts(redis, "sentinel-run"),
    )?;
    let pod = PodSpec {
        // The only image of these pods.
        image_pull_secrets: pull_secrets(redis, &["image.pullSecrets"]),
        security_context: Some(pod_security_context(redis)?),
        containers: vec![server, sentinel],
        volumes: Some(volumes(redis)),
        ..pod_placement(redis)?
    };
    let mut object = Object::new(&node_set(redis, pod, false)?)?
        .checksum(
            "checksum/scripts",
            &[("ConfigMap", &redis.name("-scripts"))],
        )
        .checksum("checksum/configmap", &[("ConfigMap", &redis.fullname)])
        .checksum("checksum/secret", &[("Secret", &redis.fullname)]);
    // The claim template's explicit nulls too: it cannot change on a live StatefulSet.
    finish_node_set(redis, &mut object);
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

/// What tells the two containers apart.
struct Role {
    /// The probe script's first argument.
    which: &'static str,
    /// The start script.
    script: &'static str,
    /// The container port's name (the Services target it) and the key of its number.
    port_name: &'static str,
    port_key: &'static str,
    /// The block of its probes and resources (`slave`, `sentinel`).
    block: &'static str,
}

const SERVER: Role = Role {
    which: "server",
    script: "start-node.sh",
    port_name: "redis",
    port_key: "redisPort",
    block: "slave",
};

const SENTINEL: Role = Role {
    which: "sentinel",
    script: "start-sentinel.sh",
    port_name: "redis-sentinel",
    port_key: "sentinel.port",
    block: "sentinel",
};

/// The container of `role`, started by its script, probed by `probe.sh`.
fn container(
    redis: &Redis,
    name: String,
    role: &Role,
    env: Vec<EnvVar>,
    mounts: Vec<VolumeMount>,
) -> Result<Container> {
    let v = &redis.v;
    let block = role.block;
    let probe_of = |kind: &str, custom: &str| {
        let path = format!("{block}.{kind}Probe");
        // The probe's own timeout bounds the CLI call (an integer: `probe` checks the timings).
        let seconds = v.string(&format!("{path}.timeoutSeconds"));
        let script = format!("{SCRIPTS_DIR}/probe.sh {} {kind} {seconds}", role.which);
        probe(redis, &path, &format!("{block}.{custom}"), &script)
    };
    Ok(Container {
        name,
        image: Some(super::image(redis)?),
        image_pull_policy: pull_policy(redis, "image.pullPolicy"),
        security_context: enabled_block(redis, "containerSecurityContext")?,
        command: Some(vec![
            "/bin/sh".into(),
            format!("{SCRIPTS_DIR}/{}", role.script),
        ]),
        env: Some(env),
        ports: Some(vec![ContainerPort {
            name: Some(role.port_name.into()),
            container_port: v.int(role.port_key)?,
            ..Default::default()
        }]),
        liveness_probe: probe_of("liveness", "customLivenessProbe")?,
        readiness_probe: probe_of("readiness", "customReadinessProbe")?,
        resources: resources(redis, &format!("{block}.resources"))?,
        volume_mounts: Some(mounts),
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
