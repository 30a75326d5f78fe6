//! MongoDB's workloads: the replica-set StatefulSet `<fullname>`, the standalone Deployment (or
//! StatefulSet with `useStatefulSet`) `<fullname>`, and the arbiter StatefulSet
//! `<fullname>-arbiter`: metadata, pod templates and volumes (the containers are in
//! `containers.rs`).
//!
//! StatefulSet `serviceName`, selector, `podManagementPolicy` and `volumeClaimTemplates` are
//! immutable in Kubernetes; they are built exactly as the chart builds them so that a release
//! moved from Helm is patched in place and keeps its volumes. The official flavor builds its
//! StatefulSets with the same functions ([`replicaset_statefulset`], [`arbiter_statefulset`],
//! [`pod`]), so a flavor switch cannot change any of them either.

use anyhow::Result;
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, StatefulSet, StatefulSetSpec,
    StatefulSetUpdateStrategy,
};
use k8s_openapi::api::core::v1::{
    Container, LocalObjectReference, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource,
    PodSpec, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{Mongo, containers, non_empty};
use crate::object::Object;
use crate::render::kit::{config_map_volume, config_map_volume_mode, empty_dir};
use crate::values::Value;

/// Path of the main container's data mount in the rendered workload (first container, first mount).
const DATADIR_SUBPATH: &str = "spec.template.spec.containers[0].volumeMounts[0].subPath";
/// Path of the metrics sidecar's `env` (always the second container).
const METRICS_ENV: &str = "spec.template.spec.containers[1].env";

/// Settings of the replica set architecture alone (its StatefulSet, headless Service, PDB, key and
/// host names; the arbiter's are switched off with it).
const REPLICA_SET_ONLY: &[&str] = &[
    "auth.replicaSetKey",
    "clusterDomain",
    "replicaSetName",
    "replicaSetHostnames",
    "replicaCount",
    "podManagementPolicy",
    "pdb",
    "arbiter",
    "persistence.annotations",
];

pub(super) fn objects(m: &Mongo) -> Result<Vec<Object>> {
    let mut out = vec![if m.replicaset() {
        replicaset(m)?
    } else {
        // The replica set's settings: the chart ignores them for a standalone server.
        for key in REPLICA_SET_ONLY {
            m.v(key).pass_over();
        }
        standalone(m)?
    }];
    if m.arbiter_enabled() {
        out.push(arbiter(m)?);
    }
    Ok(out)
}

/// StatefulSet `<fullname>` of the replica set, governed by `<fullname>-headless`.
fn replicaset(m: &Mongo) -> Result<Object> {
    let mut object = replicaset_statefulset(m, pod_template(m, true)?)?;
    if m.text("strategyType") == "OnDelete" {
        object.set_null("spec.updateStrategy.rollingUpdate");
    }
    finish_main(m, object)
}

/// StatefulSet `<fullname>` of the replica set around the pod `template`, for both flavors: its
/// name, labels, `serviceName`, selector, `podManagementPolicy`, replicas, update strategy and the
/// `datadir` claim template are what a flavor switch must leave unchanged for `kubectl apply` to
/// patch it in place and keep every PVC, so they are built here only. The claim templates are
/// still typed (see [`Object::untype_claim_templates`]).
pub(super) fn replicaset_statefulset(m: &Mongo, template: PodTemplateSpec) -> Result<Object> {
    Object::new(&StatefulSet {
        metadata: workload_meta(m, m.fullname.clone(), "mongodb", "labels", "annotations")?,
        spec: Some(StatefulSetSpec {
            service_name: Some(m.name("headless")),
            pod_management_policy: Some(m.text("podManagementPolicy")),
            replicas: Some(m.int("replicaCount")?),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some(m.text("strategyType")),
                ..Default::default()
            }),
            selector: selector(m, "mongodb"),
            template,
            volume_claim_templates: claim_templates(m, true)?,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// StatefulSet `<fullname>-arbiter` around the pod `template`, for both flavors: name, labels,
/// `serviceName` (`<fullname>-arbiter-headless`) and selector, which a flavor switch must leave
/// unchanged.
pub(super) fn arbiter_statefulset(m: &Mongo, template: PodTemplateSpec) -> Result<Object> {
    Object::new(&StatefulSet {
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
    })
}

/// The values prefix of a component: `arbiter.` for the arbiter, none for the members.
pub(super) fn prefix(component: &str) -> &'static str {
    if component == "arbiter" {
        "arbiter."
    } else {
        ""
    }
}

/// The pod template of `component` (`mongodb` for the members, `arbiter`) around `spec`, for
/// both flavors: the labels the selector matches plus the user's pod labels and annotations, and
/// the pod fields both fill alike (pull secrets, scheduler, ServiceAccount, placement). `spec`
/// brings each flavor's own security context, containers and volumes.
pub(super) fn pod(m: &Mongo, component: &str, spec: PodSpec) -> Result<PodTemplateSpec> {
    let prefix = prefix(component);
    let key = |key: &str| format!("{prefix}{key}");
    let mut labels = m.labels(Some(component));
    labels.extend(m.string_map(&key("podLabels"))?);
    let annotations = m.string_map(&key("podAnnotations"))?;
    Ok(PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            image_pull_secrets: image_pull_secrets(m),
            scheduler_name: m.v("schedulerName").non_empty().map(Value::to_go_text),
            service_account_name: Some(m.service_account_name()),
            affinity: m.typed_block(&key("affinity"))?,
            node_selector: m.typed_block(&key("nodeSelector"))?,
            tolerations: m.typed_block(&key("tolerations"))?,
            priority_class_name: m
                .v(&key("priorityClassName"))
                .non_empty()
                .map(Value::to_go_text),
            ..spec
        }),
    })
}

/// The user's `<prefix>sidecars` of `component`, after the flavor's own containers.
pub(super) fn sidecars(m: &Mongo, component: &str) -> Result<Vec<Container>> {
    Ok(
        m.typed_block::<Vec<Container>>(&format!("{}sidecars", prefix(component)))?
            .unwrap_or_default(),
    )
}

/// The standalone server: a Deployment `<fullname>` with the PVC `<fullname>`, or with
/// `useStatefulSet` a StatefulSet `<fullname>` with a claim template.
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
    object.untype_claim_templates();
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

/// StatefulSet `<fullname>-arbiter`: a voting member without data, governed by
/// `<fullname>-arbiter-headless`.
fn arbiter(m: &Mongo) -> Result<Object> {
    let mut containers = vec![containers::arbiter(m)?];
    containers.extend(sidecars(m, "arbiter")?);
    let arbiter_config =
        m.v("arbiter.configuration").truthy() && !m.v("arbiter.existingConfigmap").truthy();
    let init_containers = m.typed_block::<Vec<Container>>("arbiter.initContainers")?;
    let template = pod(
        m,
        "arbiter",
        PodSpec {
            security_context: m.security_context("arbiter.podSecurityContext")?,
            init_containers: init_containers.clone(),
            containers,
            volumes: non_empty(arbiter_volumes(m)?),
            ..Default::default()
        },
    )?;
    let mut object = arbiter_statefulset(m, template)?;
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
        init_containers.push(containers::volume_permissions(m)?);
    }
    let mut containers = vec![containers::mongodb(m, replicaset)?];
    if m.v("metrics.enabled").truthy() {
        containers.push(containers::metrics(m)?);
    }
    containers.extend(sidecars(m, "mongodb")?);
    pod(
        m,
        "mongodb",
        PodSpec {
            security_context: m.security_context("podSecurityContext")?,
            init_containers: non_empty(init_containers),
            containers,
            volumes: Some(volumes(m, replicaset)?),
            ..Default::default()
        },
    )
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
                name: name.to_go_text(),
            })
            .collect(),
    )
}

/// The main pod's volumes, in the chart's order; `datadir` comes last unless it is a claim template.
fn volumes(m: &Mongo, replicaset: bool) -> Result<Vec<Volume>> {
    let mut volumes = Vec::new();
    if m.v("initdbScriptsConfigMap").truthy() || m.v("initdbScripts").truthy() {
        let name = m
            .v("initdbScriptsConfigMap")
            .non_empty()
            .map_or_else(|| m.name("init-scripts"), Value::to_go_text);
        volumes.push(config_map_volume("custom-init-scripts", name));
    }
    if m.v("configuration").truthy() || m.v("existingConfigmap").truthy() {
        let name = match m.v("existingConfigmap").non_empty() {
            Some(name) => m.tpl(&name.to_go_text(), "existingConfigmap")?,
            None => m.fullname.clone(),
        };
        volumes.push(config_map_volume("config", name));
    }
    if replicaset {
        volumes.push(config_map_volume_mode(
            "scripts",
            m.name("scripts"),
            Some(0o755),
        ));
    }
    volumes.extend(
        m.typed_raw::<Vec<Volume>>("extraVolumes")?
            .unwrap_or_default(),
    );
    let persistence = m.v("persistence.enabled").truthy();
    let existing_claim = m.v("persistence.existingClaim");
    let datadir = if !persistence {
        Some(empty_dir("datadir", false))
    } else if replicaset {
        None
    } else if existing_claim.truthy() {
        Some(claim_volume(m.tpl(
            &existing_claim.to_go_text(),
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
            Some(name) => m.tpl(&name.to_go_text(), "arbiter.existingConfigmap")?,
            None => m.name("arbiter"),
        };
        volumes.push(config_map_volume("config", name));
    }
    volumes.extend(
        m.typed_raw::<Vec<Volume>>("arbiter.extraVolumes")?
            .unwrap_or_default(),
    );
    Ok(volumes)
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
