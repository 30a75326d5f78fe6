//! MongoDB's containers: the `mongodb` server, the `mongodb-arbiter`, the
//! `metrics` exporter sidecar and the `volume-permissions` init container, with their
//! environment, probes and mounts in the chart's order.

use anyhow::Result;
use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, Container, ContainerPort, EnvFromSource, EnvVar, HTTPGetAction, Probe,
    SecretEnvSource, TCPSocketAction, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::config::SETUP_SCRIPT;
use super::{Mongo, REPLICA_SET_KEY_KEY, ROOT_PASSWORD_KEY, USER_PASSWORD_KEY, non_empty};
use crate::render::backends::bitnami_image;
use crate::render::kit::{
    env_field, env_secret, env_value, exec_probe, mount, mount_file, timed_probe,
};
use crate::values::Value;

/// The `mongodb` container of a replica-set member (`replicaset`) or of the standalone server.
pub(super) fn mongodb(m: &Mongo, replicaset: bool) -> Result<Container> {
    let command = match m.typed_block::<Vec<String>>("command")? {
        Some(command) => Some(command),
        None if replicaset => Some(vec![format!("/scripts/{SETUP_SCRIPT}")]),
        None => None,
    };
    Ok(Container {
        image: Some(bitnami_image(
            m.ctx.v("mongodb.image"),
            m.ctx.v("mongodb.global"),
            "mongodb.image",
        )?),
        command,
        args: m.typed_block("args")?,
        env: Some(mongodb_env(m, replicaset)?),
        volume_mounts: Some(mongodb_mounts(m, replicaset)?),
        ..server_container(m, "mongodb", "", mongo_ping)?
    })
}

/// The container fields both flavors fill alike from `<prefix>` values (`""` for the `mongodb`
/// container, `arbiter.` for `mongodb-arbiter`): name, pull policy, security context, `envFrom`,
/// the `mongodb` port, the probes (`check` when enabled, else the user's custom probe) and
/// resources. Image, command, env and mounts are each flavor's own.
pub(super) fn server_container(
    m: &Mongo,
    name: &str,
    prefix: &str,
    check: fn(&Mongo) -> Probe,
) -> Result<Container> {
    let key = |key: &str| format!("{prefix}{key}");
    Ok(Container {
        name: name.into(),
        image_pull_policy: Some(m.text("image.pullPolicy")),
        security_context: m.security_context(&key("containerSecurityContext"))?,
        env_from: env_from(m, prefix)?,
        ports: Some(vec![mongodb_container_port()]),
        liveness_probe: probe(
            m,
            &key("livenessProbe"),
            Some(&key("customLivenessProbe")),
            check,
        )?,
        readiness_probe: probe(
            m,
            &key("readinessProbe"),
            Some(&key("customReadinessProbe")),
            check,
        )?,
        resources: m.resources(&key("resources"))?,
        ..Default::default()
    })
}

/// The port of the `mongodb` container (server and arbiter).
pub(super) const MONGODB_PORT: i32 = 27017;
/// The port of the metrics exporter container.
pub(super) const METRICS_PORT: i32 = 9216;

pub(super) fn mongodb_container_port() -> ContainerPort {
    ContainerPort {
        name: Some("mongodb".into()),
        container_port: MONGODB_PORT,
        ..Default::default()
    }
}

/// Environment of the `mongodb` container, in the chart's order. A replica-set member also
/// learns its pod name, the governing Service and the initial primary, from which the image's
/// scripts and `setup.sh` derive its role.
fn mongodb_env(m: &Mongo, replicaset: bool) -> Result<Vec<EnvVar>> {
    let mut env = vec![env_value(
        "BITNAMI_DEBUG",
        yes_no(m, "image.debug", "true", "false"),
    )];
    if replicaset {
        let domain = m.text("clusterDomain");
        env.extend([
            env_field("MY_POD_NAME", "metadata.name"),
            env_field("MY_POD_NAMESPACE", "metadata.namespace"),
            env_value("K8S_SERVICE_NAME", m.name("headless")),
            env_value(
                "MONGODB_INITIAL_PRIMARY_HOST",
                format!(
                    "{}-0.$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{domain}",
                    m.fullname
                ),
            ),
            env_value("MONGODB_REPLICA_SET_NAME", m.text("replicaSetName")),
        ]);
        if m.v("replicaSetHostnames").truthy() {
            env.push(env_value(
                "MONGODB_ADVERTISED_HOSTNAME",
                format!("$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{domain}"),
            ));
        }
    }
    if m.v("auth.username").truthy() {
        env.push(env_value("MONGODB_USERNAME", m.text("auth.username")));
    }
    if m.v("auth.database").truthy() {
        env.push(env_value("MONGODB_DATABASE", m.text("auth.database")));
    }
    if m.auth_enabled() {
        let secret = m.secret_name();
        if m.v("auth.username").truthy() && m.v("auth.database").truthy() {
            env.push(env_secret(
                "MONGODB_PASSWORD",
                &secret,
                USER_PASSWORD_KEY,
                false,
            ));
        }
        env.push(env_secret(
            "MONGODB_ROOT_PASSWORD",
            &secret,
            ROOT_PASSWORD_KEY,
            false,
        ));
        if replicaset {
            env.push(env_secret(
                "MONGODB_REPLICA_SET_KEY",
                &secret,
                REPLICA_SET_KEY_KEY,
                false,
            ));
        }
    }
    env.extend([
        env_value(
            "ALLOW_EMPTY_PASSWORD",
            yes_no(m, "auth.enabled", "no", "yes"),
        ),
        env_value("MONGODB_SYSTEM_LOG_VERBOSITY", m.text("systemLogVerbosity")),
        env_value(
            "MONGODB_DISABLE_SYSTEM_LOG",
            yes_no(m, "disableSystemLog", "yes", "no"),
        ),
        env_value("MONGODB_ENABLE_IPV6", yes_no(m, "enableIPv6", "yes", "no")),
        env_value(
            "MONGODB_ENABLE_DIRECTORY_PER_DB",
            yes_no(m, "directoryPerDB", "yes", "no"),
        ),
    ]);
    env.extend(extra_env(m, "")?);
    Ok(env)
}

/// Environment of the arbiter: it joins the replica set through the first member.
fn arbiter_env(m: &Mongo) -> Result<Vec<EnvVar>> {
    let domain = m.text("clusterDomain");
    let mut env = vec![
        env_value("BITNAMI_DEBUG", yes_no(m, "image.debug", "true", "false")),
        env_field("MY_POD_NAME", "metadata.name"),
        env_field("MY_POD_NAMESPACE", "metadata.namespace"),
        env_value("K8S_SERVICE_NAME", m.name("arbiter-headless")),
        env_value("MONGODB_REPLICA_SET_MODE", "arbiter"),
        env_value(
            "MONGODB_INITIAL_PRIMARY_HOST",
            format!(
                "{0}-0.{0}-headless.$(MY_POD_NAMESPACE).svc.{domain}",
                m.fullname
            ),
        ),
        env_value("MONGODB_REPLICA_SET_NAME", m.text("replicaSetName")),
        env_value(
            "MONGODB_ADVERTISED_HOSTNAME",
            format!("$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{domain}"),
        ),
    ];
    if m.auth_enabled() {
        let secret = m.secret_name();
        env.push(env_secret(
            "MONGODB_INITIAL_PRIMARY_ROOT_PASSWORD",
            &secret,
            ROOT_PASSWORD_KEY,
            false,
        ));
        env.push(env_secret(
            "MONGODB_REPLICA_SET_KEY",
            &secret,
            REPLICA_SET_KEY_KEY,
            false,
        ));
    }
    env.push(env_value(
        "ALLOW_EMPTY_PASSWORD",
        yes_no(m, "auth.enabled", "no", "yes"),
    ));
    env.extend(extra_env(m, "arbiter.")?);
    Ok(env)
}

/// `MONGODB_EXTRA_FLAGS` from `<prefix>extraFlags`, then the user's `<prefix>extraEnvVars`.
pub(super) fn extra_env(m: &Mongo, prefix: &str) -> Result<Vec<EnvVar>> {
    let mut env = Vec::new();
    if m.v(&format!("{prefix}extraFlags")).truthy() {
        env.push(env_value("MONGODB_EXTRA_FLAGS", extra_flags(m, prefix)));
    }
    env.extend(
        m.typed_block::<Vec<EnvVar>>(&format!("{prefix}extraEnvVars"))?
            .unwrap_or_default(),
    );
    Ok(env)
}

/// `<prefix>extraFlags` as `MONGODB_EXTRA_FLAGS` holds them: a list joined with spaces.
pub(super) fn extra_flags(m: &Mongo, prefix: &str) -> String {
    match m.v(&format!("{prefix}extraFlags")).value() {
        Value::List(items) => items
            .iter()
            .map(Value::to_go_text)
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_go_text(),
    }
}

/// `envFrom` from `<prefix>extraEnvVarsCM` and `<prefix>extraEnvVarsSecret` (names templated).
pub(super) fn env_from(m: &Mongo, prefix: &str) -> Result<Option<Vec<EnvFromSource>>> {
    let mut sources = Vec::new();
    let cm = format!("{prefix}extraEnvVarsCM");
    if m.v(&cm).truthy() {
        sources.push(EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource {
                name: m.tpl(&m.text(&cm), &cm)?,
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    let secret = format!("{prefix}extraEnvVarsSecret");
    if m.v(&secret).truthy() {
        sources.push(EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: m.tpl(&m.text(&secret), &secret)?,
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    Ok(non_empty(sources))
}

/// The `mongodb` container's mounts: data, init scripts, `mongodb.conf`, the start script
/// (replica set) and the user's extra mounts.
fn mongodb_mounts(m: &Mongo, replicaset: bool) -> Result<Vec<VolumeMount>> {
    let mut mounts = vec![VolumeMount {
        name: "datadir".into(),
        mount_path: m.text("persistence.mountPath"),
        // An empty subPath is written as `null` afterwards (see `finish_main`).
        sub_path: m
            .v("persistence.subPath")
            .non_empty()
            .map(Value::to_go_text),
        ..Default::default()
    }];
    if m.v("initdbScriptsConfigMap").truthy() || m.v("initdbScripts").truthy() {
        mounts.push(mount("custom-init-scripts", "/docker-entrypoint-initdb.d"));
    }
    if m.v("configuration").truthy() || m.v("existingConfigmap").truthy() {
        mounts.push(mount_file(
            "config",
            "/opt/bitnami/mongodb/conf/mongodb.conf",
            "mongodb.conf",
        ));
    }
    if replicaset {
        mounts.push(mount_file(
            "scripts",
            &format!("/scripts/{SETUP_SCRIPT}"),
            SETUP_SCRIPT,
        ));
    }
    mounts.extend(
        m.typed_raw::<Vec<VolumeMount>>("extraVolumeMounts")?
            .unwrap_or_default(),
    );
    Ok(mounts)
}

fn arbiter_mounts(m: &Mongo) -> Result<Vec<VolumeMount>> {
    let mut mounts = Vec::new();
    if m.v("arbiter.configuration").truthy() || m.v("arbiter.existingConfigmap").truthy() {
        mounts.push(mount_file(
            "config",
            "/opt/bitnami/mongodb/conf/mongodb.conf",
            "mongodb.conf",
        ));
    }
    mounts.extend(
        m.typed_raw::<Vec<VolumeMount>>("arbiter.extraVolumeMounts")?
            .unwrap_or_default(),
    );
    Ok(mounts)
}

/// The `mongodb-arbiter` container.
pub(super) fn arbiter(m: &Mongo) -> Result<Container> {
    Ok(Container {
        image: Some(bitnami_image(
            m.ctx.v("mongodb.image"),
            m.ctx.v("mongodb.global"),
            "mongodb.image",
        )?),
        command: m.typed_block("arbiter.command")?,
        args: m.typed_block("arbiter.args")?,
        env: Some(arbiter_env(m)?),
        volume_mounts: non_empty(arbiter_mounts(m)?),
        ..server_container(m, "mongodb-arbiter", "arbiter.", tcp_probe)?
    })
}

/// The `volume-permissions` init container: makes the data directory writable by the MongoDB
/// user on volumes that do not honour `fsGroup`.
pub(super) fn volume_permissions(m: &Mongo) -> Result<Container> {
    let mount_path = m.text("persistence.mountPath");
    let mut script = format!("mkdir -p {mount_path}\n");
    if m.v("podSecurityContext.enabled").truthy()
        && m.v("containerSecurityContext.enabled").truthy()
    {
        script.push_str(&format!(
            "chown -R \"{}:{}\" \"{mount_path}\"\n",
            m.text("containerSecurityContext.runAsUser"),
            m.text("podSecurityContext.fsGroup")
        ));
    }
    // `runAsUser: auto` leaves the user to the platform (e.g. OpenShift).
    let mut security_context = m.v("volumePermissions.securityContext").to_json();
    if m.text("volumePermissions.securityContext.runAsUser") == "auto"
        && let Some(map) = security_context.as_object_mut()
    {
        map.remove("runAsUser");
    }
    Ok(Container {
        name: "volume-permissions".into(),
        image: Some(bitnami_image(
            m.ctx.v("mongodb.volumePermissions.image"),
            m.ctx.v("mongodb.global"),
            "mongodb.volumePermissions.image",
        )?),
        image_pull_policy: Some(m.text("volumePermissions.image.pullPolicy")),
        command: Some(vec!["/bin/bash".into(), "-ec".into()]),
        args: Some(vec![script]),
        security_context: Some(super::typed(
            m.ctx,
            security_context,
            "volumePermissions.securityContext",
        )?),
        resources: m.resources("volumePermissions.resources")?,
        volume_mounts: Some(vec![mount("datadir", &mount_path)]),
        ..Default::default()
    })
}

/// The `metrics` sidecar: the MongoDB exporter, connecting as root when auth is on.
pub(super) fn metrics(m: &Mongo) -> Result<Container> {
    let suffix = format!(
        "{} {}",
        m.text("metrics.extraUri"),
        m.text("metrics.extraFlags")
    );
    let command = if m.auth_enabled() {
        format!(
            "/bin/mongodb_exporter --mongodb.uri mongodb://root:$(echo $MONGODB_ROOT_PASSWORD | sed -r \"s/@/%40/g;s/:/%3A/g\")@localhost:27017/admin{suffix}\n"
        )
    } else {
        format!("/bin/mongodb_exporter --mongodb.uri mongodb://localhost:27017/admin{suffix}\n")
    };
    let env = m.auth_enabled().then(|| {
        vec![env_secret(
            "MONGODB_ROOT_PASSWORD",
            m.secret_name(),
            ROOT_PASSWORD_KEY,
            false,
        )]
    });
    let http = |_: &Mongo| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/metrics".into()),
            port: IntOrString::String("metrics".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(Container {
        name: "metrics".into(),
        image: Some(bitnami_image(
            m.ctx.v("mongodb.metrics.image"),
            m.ctx.v("mongodb.global"),
            "mongodb.metrics.image",
        )?),
        image_pull_policy: Some(m.text("metrics.image.pullPolicy")),
        security_context: m.security_context("containerSecurityContext")?,
        command: Some(vec!["/bin/bash".into(), "-ec".into()]),
        args: Some(vec![command]),
        env,
        ports: Some(vec![ContainerPort {
            name: Some("metrics".into()),
            container_port: METRICS_PORT,
            ..Default::default()
        }]),
        liveness_probe: probe(m, "metrics.livenessProbe", None, http)?,
        readiness_probe: probe(m, "metrics.readinessProbe", None, http)?,
        resources: m.resources("metrics.resources")?,
        ..Default::default()
    })
}

/// A probe: the built-in check with the timings at `path` when `<path>.enabled`, else the
/// user's probe at `custom` (the metrics sidecar has none).
pub(super) fn probe(
    m: &Mongo,
    path: &str,
    custom: Option<&str>,
    check: fn(&Mongo) -> Probe,
) -> Result<Option<Probe>> {
    if !m.v(&format!("{path}.enabled")).truthy() {
        return custom.map_or(Ok(None), |custom| m.typed_block(custom));
    }
    // The chart's custom probe replaces only a disabled one.
    if let Some(custom) = custom {
        m.v(custom).pass_over();
    }
    timed_probe(check(m), |key| m.int(&format!("{path}.{key}"))).map(Some)
}

/// `mongo --eval "db.adminCommand('ping')"`: the server answers commands.
fn mongo_ping(_: &Mongo) -> Probe {
    exec_probe(["mongo", "--eval", "db.adminCommand('ping')"])
}

/// The arbiter holds no data: an open port is enough.
pub(super) fn tcp_probe(_: &Mongo) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String("mongodb".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The chart's `ternary a b <flag>`.
pub(super) fn yes_no(m: &Mongo, path: &str, yes: &str, no: &str) -> String {
    if m.v(path).truthy() { yes } else { no }.to_string()
}
