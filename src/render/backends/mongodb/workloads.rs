//! MongoDB's workloads (SPEC-chart.md §6.1): the replica-set StatefulSet `MF`, the standalone
//! Deployment (or StatefulSet with `useStatefulSet`) `MF`, and the arbiter StatefulSet
//! `MF-arbiter`, with the exporter sidecar and the volume-permissions init container.
//!
//! StatefulSet `serviceName`, selector, `podManagementPolicy` and `volumeClaimTemplates` are
//! immutable in Kubernetes; they are built exactly as the chart builds them so that a release
//! moved from Helm is patched in place and keeps its volumes.

use anyhow::Result;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, StatefulSet, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvFromSource, EnvVar, EnvVarSource, ExecAction, HTTPGetAction, LocalObjectReference,
    ObjectFieldSelector, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodSpec,
    PodTemplateSpec, Probe, SecretEnvSource, SecretKeySelector, TCPSocketAction, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value as Json;

use super::Mongo;
use super::config::SETUP_SCRIPT;
use crate::render::Object;
use crate::render::backends::bitnami_image;
use crate::values::Value;

/// Path of the main container's data mount in the rendered workload (first container, first mount).
const DATADIR_SUBPATH: &str = "spec.template.spec.containers[0].volumeMounts[0].subPath";
/// Path of the metrics sidecar's `env` (always the second container).
const METRICS_ENV: &str = "spec.template.spec.containers[1].env";

pub(super) fn objects(m: &Mongo) -> Result<Vec<Object>> {
    let mut out = vec![if m.replicaset() {
        replicaset(m)?
    } else {
        standalone(m)?
    }];
    if m.arbiter_enabled() {
        out.push(arbiter(m)?);
    }
    Ok(out)
}

/// StatefulSet `MF` of the replica set, governed by `MF-headless`.
fn replicaset(m: &Mongo) -> Result<Object> {
    let strategy = m.text("strategyType");
    let mut object = Object::new(&StatefulSet {
        metadata: workload_meta(m, m.fullname.clone(), "mongodb", "labels", "annotations")?,
        spec: Some(StatefulSetSpec {
            service_name: Some(m.name("headless")),
            pod_management_policy: Some(m.text("podManagementPolicy")),
            replicas: Some(m.int("replicaCount")?),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some(strategy.clone()),
                ..Default::default()
            }),
            selector: selector(m, "mongodb"),
            template: pod_template(m, true)?,
            volume_claim_templates: claim_templates(m, true)?,
            ..Default::default()
        }),
        ..Default::default()
    })?;
    if strategy == "OnDelete" {
        object.set_null("spec.updateStrategy.rollingUpdate");
    }
    finish_main(m, object)
}

/// The standalone server: a Deployment `MF` with the PVC `MF`, or with `useStatefulSet` a
/// StatefulSet `MF` with a claim template.
fn standalone(m: &Mongo) -> Result<Object> {
    let strategy = m.text("strategyType");
    let metadata = workload_meta(m, m.fullname.clone(), "mongodb", "labels", "annotations")?;
    let object = if m.v("useStatefulSet").truthy() {
        let mut object = Object::new(&StatefulSet {
            metadata,
            spec: Some(StatefulSetSpec {
                service_name: Some(m.fullname.clone()),
                update_strategy: Some(StatefulSetUpdateStrategy {
                    type_: Some(strategy.clone()),
                    ..Default::default()
                }),
                selector: selector(m, "mongodb"),
                template: pod_template(m, false)?,
                volume_claim_templates: claim_templates(
                    m,
                    !m.v("persistence.existingClaim").truthy(),
                )?,
                ..Default::default()
            }),
            ..Default::default()
        })?;
        if strategy == "OnDelete" {
            object.set_null("spec.updateStrategy.rollingUpdate");
        }
        object
    } else {
        let mut object = Object::new(&Deployment {
            metadata,
            spec: Some(DeploymentSpec {
                strategy: Some(DeploymentStrategy {
                    type_: Some(strategy.clone()),
                    ..Default::default()
                }),
                selector: selector(m, "mongodb"),
                template: pod_template(m, false)?,
                ..Default::default()
            }),
            ..Default::default()
        })?;
        if strategy == "Recreate" {
            object.set_null("spec.strategy.rollingUpdate");
        }
        object
    };
    finish_main(m, object)
}

/// The explicit nulls and the checksum annotation of the main workload.
fn finish_main(m: &Mongo, mut object: Object) -> Result<Object> {
    untyped_claim_templates(&mut object);
    if !m.v("persistence.subPath").truthy() {
        object.set_null(DATADIR_SUBPATH);
    }
    if m.v("metrics.enabled").truthy() && !m.auth_enabled() {
        object.set_null(METRICS_ENV);
    }
    if m.create_configmap() {
        object = object.checksum("checksum/configuration", &[("ConfigMap", &m.fullname)]);
    }
    Ok(object)
}

/// Claim templates are written without `apiVersion`/`kind`, as the chart writes them: they are
/// part of the immutable StatefulSet spec, so st2k8s keeps them byte-for-byte the chart's.
fn untyped_claim_templates(object: &mut Object) {
    let templates = object
        .body
        .pointer_mut("/spec/volumeClaimTemplates")
        .and_then(Json::as_array_mut);
    for template in templates
        .into_iter()
        .flatten()
        .filter_map(Json::as_object_mut)
    {
        template.remove("apiVersion");
        template.remove("kind");
    }
}

/// StatefulSet `MF-arbiter`: a voting member without data, governed by `MF-arbiter-headless`.
fn arbiter(m: &Mongo) -> Result<Object> {
    let container = Container {
        name: "mongodb-arbiter".into(),
        image: Some(bitnami_image(m.ctx, "mongodb.image")?),
        image_pull_policy: Some(m.text("image.pullPolicy")),
        security_context: m.security_context("arbiter.containerSecurityContext")?,
        command: m.typed_block("arbiter.command")?,
        args: m.typed_block("arbiter.args")?,
        env: Some(arbiter_env(m)?),
        env_from: env_from(m, "arbiter.")?,
        ports: Some(vec![mongodb_container_port()]),
        liveness_probe: probe(
            m,
            "arbiter.livenessProbe",
            Some("arbiter.customLivenessProbe"),
            tcp_probe,
        )?,
        readiness_probe: probe(
            m,
            "arbiter.readinessProbe",
            Some("arbiter.customReadinessProbe"),
            tcp_probe,
        )?,
        resources: m.resources("arbiter.resources")?,
        volume_mounts: non_empty(arbiter_mounts(m)?),
        ..Default::default()
    };
    let mut containers = vec![container];
    containers.extend(
        m.typed_block::<Vec<Container>>("arbiter.sidecars")?
            .unwrap_or_default(),
    );
    let arbiter_config =
        m.v("arbiter.configuration").truthy() && !m.v("arbiter.existingConfigmap").truthy();
    let init_containers = m.typed_block::<Vec<Container>>("arbiter.initContainers")?;
    let template = PodTemplateSpec {
        metadata: Some(pod_meta(
            m,
            "arbiter",
            "arbiter.podLabels",
            "arbiter.podAnnotations",
        )?),
        spec: Some(PodSpec {
            image_pull_secrets: image_pull_secrets(m),
            scheduler_name: m.v("schedulerName").non_empty().map(super::text),
            service_account_name: Some(m.service_account_name()),
            affinity: m.typed_block("arbiter.affinity")?,
            node_selector: m.typed_block("arbiter.nodeSelector")?,
            tolerations: m.typed_block("arbiter.tolerations")?,
            priority_class_name: m
                .v("arbiter.priorityClassName")
                .non_empty()
                .map(super::text),
            security_context: m.security_context("arbiter.podSecurityContext")?,
            init_containers: init_containers.clone(),
            containers,
            volumes: non_empty(arbiter_volumes(m)?),
            ..Default::default()
        }),
    };
    let mut object = Object::new(&StatefulSet {
        metadata: workload_meta(
            m,
            m.name("arbiter"),
            "arbiter",
            "arbiter.labels",
            "arbiter.annotations",
        )?,
        spec: Some(StatefulSetSpec {
            service_name: Some(m.name("arbiter-headless")),
            selector: selector(m, "arbiter"),
            template,
            ..Default::default()
        }),
        ..Default::default()
    })?;
    if init_containers.is_none() {
        // The chart always writes the `initContainers:` key.
        object.set_null("spec.template.spec.initContainers");
    }
    if arbiter_config {
        object = object.checksum(
            "checksum/configuration",
            &[("ConfigMap", &m.name("arbiter"))],
        );
    }
    Ok(object)
}

/// Workload metadata: standard labels with `component`, then the user's labels and annotations.
fn workload_meta(
    m: &Mongo,
    name: String,
    component: &str,
    labels: &str,
    annotations: &str,
) -> Result<ObjectMeta> {
    let mut metadata = m.annotated_meta(name, Some(component), annotations)?;
    if let Some(all) = metadata.labels.as_mut() {
        all.extend(m.string_map(labels)?);
    }
    Ok(metadata)
}

fn selector(m: &Mongo, component: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(m.match_labels(Some(component))),
        ..Default::default()
    }
}

/// Pod template metadata: standard labels plus the user's pod labels and annotations.
fn pod_meta(m: &Mongo, component: &str, labels: &str, annotations: &str) -> Result<ObjectMeta> {
    let mut all = m.labels(Some(component));
    all.extend(m.string_map(labels)?);
    let annotations = m.string_map(annotations)?;
    Ok(ObjectMeta {
        labels: Some(all),
        annotations: (!annotations.is_empty()).then_some(annotations),
        ..Default::default()
    })
}

/// The `datadir` claim template when persistence is on (and `wanted`), else none.
fn claim_templates(m: &Mongo, wanted: bool) -> Result<Option<Vec<PersistentVolumeClaim>>> {
    if !wanted || !m.v("persistence.enabled").truthy() {
        return Ok(None);
    }
    let annotations = m.string_map("persistence.annotations")?;
    Ok(Some(vec![PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("datadir".into()),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        },
        spec: Some(super::services::claim_spec(m)),
        ..Default::default()
    }]))
}

/// The pod of a replica-set member (`replicaset`) or of the standalone server.
fn pod_template(m: &Mongo, replicaset: bool) -> Result<PodTemplateSpec> {
    let mut init_containers = m
        .typed_block::<Vec<Container>>("initContainers")?
        .unwrap_or_default();
    if m.v("volumePermissions.enabled").truthy() && m.v("persistence.enabled").truthy() {
        init_containers.push(volume_permissions(m)?);
    }
    let mut containers = vec![mongodb_container(m, replicaset)?];
    if m.v("metrics.enabled").truthy() {
        containers.push(metrics_container(m)?);
    }
    containers.extend(
        m.typed_block::<Vec<Container>>("sidecars")?
            .unwrap_or_default(),
    );
    Ok(PodTemplateSpec {
        metadata: Some(pod_meta(m, "mongodb", "podLabels", "podAnnotations")?),
        spec: Some(PodSpec {
            image_pull_secrets: image_pull_secrets(m),
            scheduler_name: m.v("schedulerName").non_empty().map(super::text),
            service_account_name: Some(m.service_account_name()),
            affinity: m.typed_block("affinity")?,
            node_selector: m.typed_block("nodeSelector")?,
            tolerations: m.typed_block("tolerations")?,
            priority_class_name: m.v("priorityClassName").non_empty().map(super::text),
            security_context: m.security_context("podSecurityContext")?,
            init_containers: non_empty(init_containers),
            containers,
            volumes: Some(volumes(m, replicaset)?),
            ..Default::default()
        }),
    })
}

/// `mongodb.imagePullSecrets`: `global.imagePullSecrets`, then the pull secrets of the MongoDB,
/// metrics and volume-permissions images.
fn image_pull_secrets(m: &Mongo) -> Option<Vec<LocalObjectReference>> {
    let names = m.ctx.v("global.imagePullSecrets").as_list().iter().chain(
        ["image", "metrics.image", "volumePermissions.image"]
            .into_iter()
            .flat_map(|image| m.v(&format!("{image}.pullSecrets")).as_list()),
    );
    non_empty(
        names
            .map(|name| LocalObjectReference {
                name: super::text(name),
            })
            .collect(),
    )
}

/// The `mongodb` container.
fn mongodb_container(m: &Mongo, replicaset: bool) -> Result<Container> {
    let command = match m.typed_block::<Vec<String>>("command")? {
        Some(command) => Some(command),
        None if replicaset => Some(vec![format!("/scripts/{SETUP_SCRIPT}")]),
        None => None,
    };
    Ok(Container {
        name: "mongodb".into(),
        image: Some(bitnami_image(m.ctx, "mongodb.image")?),
        image_pull_policy: Some(m.text("image.pullPolicy")),
        security_context: m.security_context("containerSecurityContext")?,
        command,
        args: m.typed_block("args")?,
        env: Some(mongodb_env(m, replicaset)?),
        env_from: env_from(m, "")?,
        ports: Some(vec![mongodb_container_port()]),
        liveness_probe: probe(m, "livenessProbe", Some("customLivenessProbe"), mongo_ping)?,
        readiness_probe: probe(
            m,
            "readinessProbe",
            Some("customReadinessProbe"),
            mongo_ping,
        )?,
        resources: m.resources("resources")?,
        volume_mounts: Some(mongodb_mounts(m, replicaset)?),
        ..Default::default()
    })
}

fn mongodb_container_port() -> ContainerPort {
    ContainerPort {
        name: Some("mongodb".into()),
        container_port: 27017,
        ..Default::default()
    }
}

/// Environment of the `mongodb` container, in the chart's order. A replica-set member also
/// learns its pod name, the governing Service and the initial primary, from which the image's
/// scripts and `setup.sh` derive its role.
fn mongodb_env(m: &Mongo, replicaset: bool) -> Result<Vec<EnvVar>> {
    let mut env = vec![plain(
        "BITNAMI_DEBUG",
        yes_no(m, "image.debug", "true", "false"),
    )];
    if replicaset {
        let domain = m.text("clusterDomain");
        env.extend([
            field("MY_POD_NAME", "metadata.name"),
            field("MY_POD_NAMESPACE", "metadata.namespace"),
            plain("K8S_SERVICE_NAME", m.name("headless")),
            plain(
                "MONGODB_INITIAL_PRIMARY_HOST",
                format!(
                    "{}-0.$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{domain}",
                    m.fullname
                ),
            ),
            plain("MONGODB_REPLICA_SET_NAME", m.text("replicaSetName")),
        ]);
        if m.v("replicaSetHostnames").truthy() {
            env.push(plain(
                "MONGODB_ADVERTISED_HOSTNAME",
                format!("$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{domain}"),
            ));
        }
    }
    if m.v("auth.username").truthy() {
        env.push(plain("MONGODB_USERNAME", m.text("auth.username")));
    }
    if m.v("auth.database").truthy() {
        env.push(plain("MONGODB_DATABASE", m.text("auth.database")));
    }
    if m.auth_enabled() {
        let secret = m.secret_name();
        if m.v("auth.username").truthy() && m.v("auth.database").truthy() {
            env.push(secret_ref("MONGODB_PASSWORD", &secret, "mongodb-password"));
        }
        env.push(secret_ref(
            "MONGODB_ROOT_PASSWORD",
            &secret,
            "mongodb-root-password",
        ));
        if replicaset {
            env.push(secret_ref(
                "MONGODB_REPLICA_SET_KEY",
                &secret,
                "mongodb-replica-set-key",
            ));
        }
    }
    env.extend([
        plain(
            "ALLOW_EMPTY_PASSWORD",
            yes_no(m, "auth.enabled", "no", "yes"),
        ),
        plain("MONGODB_SYSTEM_LOG_VERBOSITY", m.text("systemLogVerbosity")),
        plain(
            "MONGODB_DISABLE_SYSTEM_LOG",
            yes_no(m, "disableSystemLog", "yes", "no"),
        ),
        plain("MONGODB_ENABLE_IPV6", yes_no(m, "enableIPv6", "yes", "no")),
        plain(
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
        plain("BITNAMI_DEBUG", yes_no(m, "image.debug", "true", "false")),
        field("MY_POD_NAME", "metadata.name"),
        field("MY_POD_NAMESPACE", "metadata.namespace"),
        plain("K8S_SERVICE_NAME", m.name("arbiter-headless")),
        plain("MONGODB_REPLICA_SET_MODE", "arbiter".into()),
        plain(
            "MONGODB_INITIAL_PRIMARY_HOST",
            format!(
                "{0}-0.{0}-headless.$(MY_POD_NAMESPACE).svc.{domain}",
                m.fullname
            ),
        ),
        plain("MONGODB_REPLICA_SET_NAME", m.text("replicaSetName")),
        plain(
            "MONGODB_ADVERTISED_HOSTNAME",
            format!("$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{domain}"),
        ),
    ];
    if m.auth_enabled() {
        let secret = m.secret_name();
        env.push(secret_ref(
            "MONGODB_INITIAL_PRIMARY_ROOT_PASSWORD",
            &secret,
            "mongodb-root-password",
        ));
        env.push(secret_ref(
            "MONGODB_REPLICA_SET_KEY",
            &secret,
            "mongodb-replica-set-key",
        ));
    }
    env.push(plain(
        "ALLOW_EMPTY_PASSWORD",
        yes_no(m, "auth.enabled", "no", "yes"),
    ));
    env.extend(extra_env(m, "arbiter.")?);
    Ok(env)
}

/// `MONGODB_EXTRA_FLAGS` from `<prefix>extraFlags`, then the user's `<prefix>extraEnvVars`.
fn extra_env(m: &Mongo, prefix: &str) -> Result<Vec<EnvVar>> {
    let mut env = Vec::new();
    let flags = m.v(&format!("{prefix}extraFlags"));
    if flags.truthy() {
        let joined = match flags {
            Value::List(items) => items.iter().map(super::text).collect::<Vec<_>>().join(" "),
            other => super::text(other),
        };
        env.push(plain("MONGODB_EXTRA_FLAGS", joined));
    }
    env.extend(
        m.typed_block::<Vec<EnvVar>>(&format!("{prefix}extraEnvVars"))?
            .unwrap_or_default(),
    );
    Ok(env)
}

/// `envFrom` from `<prefix>extraEnvVarsCM` and `<prefix>extraEnvVarsSecret` (names templated).
fn env_from(m: &Mongo, prefix: &str) -> Result<Option<Vec<EnvFromSource>>> {
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
        sub_path: m.v("persistence.subPath").non_empty().map(super::text),
        ..Default::default()
    }];
    if m.v("initdbScriptsConfigMap").truthy() || m.v("initdbScripts").truthy() {
        mounts.push(mount(
            "custom-init-scripts",
            "/docker-entrypoint-initdb.d",
            None,
        ));
    }
    if m.v("configuration").truthy() || m.v("existingConfigmap").truthy() {
        mounts.push(mount(
            "config",
            "/opt/bitnami/mongodb/conf/mongodb.conf",
            Some("mongodb.conf"),
        ));
    }
    if replicaset {
        mounts.push(mount(
            "scripts",
            &format!("/scripts/{SETUP_SCRIPT}"),
            Some(SETUP_SCRIPT),
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
        mounts.push(mount(
            "config",
            "/opt/bitnami/mongodb/conf/mongodb.conf",
            Some("mongodb.conf"),
        ));
    }
    mounts.extend(
        m.typed_raw::<Vec<VolumeMount>>("arbiter.extraVolumeMounts")?
            .unwrap_or_default(),
    );
    Ok(mounts)
}

fn mount(name: &str, path: &str, sub_path: Option<&str>) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        sub_path: sub_path.map(String::from),
        ..Default::default()
    }
}

/// The main pod's volumes, in the chart's order; `datadir` comes last unless it is a claim template.
fn volumes(m: &Mongo, replicaset: bool) -> Result<Vec<Volume>> {
    let mut volumes = Vec::new();
    if m.v("initdbScriptsConfigMap").truthy() || m.v("initdbScripts").truthy() {
        let name = m
            .v("initdbScriptsConfigMap")
            .non_empty()
            .map_or_else(|| m.name("init-scripts"), super::text);
        volumes.push(config_map_volume("custom-init-scripts", name, None));
    }
    if m.v("configuration").truthy() || m.v("existingConfigmap").truthy() {
        let name = match m.v("existingConfigmap").non_empty() {
            Some(name) => m.tpl(&super::text(name), "existingConfigmap")?,
            None => m.fullname.clone(),
        };
        volumes.push(config_map_volume("config", name, None));
    }
    if replicaset {
        volumes.push(config_map_volume("scripts", m.name("scripts"), Some(0o755)));
    }
    volumes.extend(
        m.typed_raw::<Vec<Volume>>("extraVolumes")?
            .unwrap_or_default(),
    );
    let persistence = m.v("persistence.enabled").truthy();
    let existing_claim = m.v("persistence.existingClaim");
    let datadir = if !persistence {
        Some(empty_dir("datadir"))
    } else if replicaset {
        None
    } else if existing_claim.truthy() {
        Some(claim_volume(m.tpl(
            &super::text(existing_claim),
            "persistence.existingClaim",
        )?))
    } else if !m.v("useStatefulSet").truthy() {
        Some(claim_volume(m.fullname.clone()))
    } else {
        None
    };
    volumes.extend(datadir);
    Ok(volumes)
}

fn arbiter_volumes(m: &Mongo) -> Result<Vec<Volume>> {
    let mut volumes = Vec::new();
    if m.v("arbiter.configuration").truthy() || m.v("arbiter.existingConfigmap").truthy() {
        let name = match m.v("arbiter.existingConfigmap").non_empty() {
            Some(name) => m.tpl(&super::text(name), "arbiter.existingConfigmap")?,
            None => m.name("arbiter"),
        };
        volumes.push(config_map_volume("config", name, None));
    }
    volumes.extend(
        m.typed_raw::<Vec<Volume>>("arbiter.extraVolumes")?
            .unwrap_or_default(),
    );
    Ok(volumes)
}

fn config_map_volume(name: &str, config_map: String, default_mode: Option<i32>) -> Volume {
    Volume {
        name: name.into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map,
            default_mode,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Default::default()
    }
}

fn claim_volume(claim: String) -> Volume {
    Volume {
        name: "datadir".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: claim,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The `volume-permissions` init container: makes the data directory writable by the MongoDB
/// user on volumes that do not honour `fsGroup`.
fn volume_permissions(m: &Mongo) -> Result<Container> {
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
        image: Some(bitnami_image(m.ctx, "mongodb.volumePermissions.image")?),
        image_pull_policy: Some(m.text("volumePermissions.image.pullPolicy")),
        command: Some(vec!["/bin/bash".into(), "-ec".into()]),
        args: Some(vec![script]),
        security_context: Some(super::typed(
            security_context,
            "volumePermissions.securityContext",
        )?),
        resources: m.resources("volumePermissions.resources")?,
        volume_mounts: Some(vec![mount("datadir", &mount_path, None)]),
        ..Default::default()
    })
}

/// The `metrics` sidecar: the MongoDB exporter, connecting as root when auth is on.
fn metrics_container(m: &Mongo) -> Result<Container> {
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
        vec![secret_ref(
            "MONGODB_ROOT_PASSWORD",
            &m.secret_name(),
            "mongodb-root-password",
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
        image: Some(bitnami_image(m.ctx, "mongodb.metrics.image")?),
        image_pull_policy: Some(m.text("metrics.image.pullPolicy")),
        security_context: m.security_context("containerSecurityContext")?,
        command: Some(vec!["/bin/bash".into(), "-ec".into()]),
        args: Some(vec![command]),
        env,
        ports: Some(vec![ContainerPort {
            name: Some("metrics".into()),
            container_port: 9216,
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
fn probe(
    m: &Mongo,
    path: &str,
    custom: Option<&str>,
    check: fn(&Mongo) -> Probe,
) -> Result<Option<Probe>> {
    if !m.v(&format!("{path}.enabled")).truthy() {
        return custom.map_or(Ok(None), |custom| m.typed_block(custom));
    }
    let int = |key: &str| m.int(&format!("{path}.{key}")).map(Some);
    Ok(Some(Probe {
        initial_delay_seconds: int("initialDelaySeconds")?,
        period_seconds: int("periodSeconds")?,
        timeout_seconds: int("timeoutSeconds")?,
        success_threshold: int("successThreshold")?,
        failure_threshold: int("failureThreshold")?,
        ..check(m)
    }))
}

/// `mongo --eval "db.adminCommand('ping')"`: the server answers commands.
fn mongo_ping(_: &Mongo) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(
                ["mongo", "--eval", "db.adminCommand('ping')"]
                    .map(String::from)
                    .to_vec(),
            ),
        }),
        ..Default::default()
    }
}

/// The arbiter holds no data: an open port is enough.
fn tcp_probe(_: &Mongo) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String("mongodb".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The chart's `ternary a b <flag>`.
fn yes_no(m: &Mongo, path: &str, yes: &str, no: &str) -> String {
    if m.v(path).truthy() { yes } else { no }.to_string()
}

fn plain(name: &str, value: String) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value),
        ..Default::default()
    }
}

fn field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn secret_ref(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}
