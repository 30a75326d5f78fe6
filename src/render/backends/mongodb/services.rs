//! MongoDB's Services (headless for the replica set and the arbiter, client Service for
//! standalone, metrics), PodDisruptionBudgets and the standalone PersistentVolumeClaim. PDBs are
//! `policy/v1`: the chart's `policy/v1beta1` is gone from Kubernetes since 1.25.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, Service, ServicePort, ServiceSpec,
    VolumeResourceRequirements,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Mongo;
use crate::object::Object;
use crate::values::Value;

pub(super) fn objects(m: &Mongo) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if m.replicaset() {
        // The standalone server's Service alone has node ports.
        m.v("service.nodePort").pass_over();
        out.push(headless(m)?);
        if m.v("pdb.create").truthy() {
            out.push(pdb(m, m.fullname.clone(), "mongodb", "pdb")?);
        }
    } else {
        out.push(standalone(m)?);
        if m.v("persistence.enabled").truthy()
            && !m.v("persistence.existingClaim").truthy()
            && !m.v("useStatefulSet").truthy()
        {
            out.push(Object::new(&PersistentVolumeClaim {
                metadata: m.meta(m.fullname.clone(), Some("mongodb")),
                spec: Some(claim_spec(m)),
                ..Default::default()
            })?);
        }
    }
    if m.arbiter_enabled() {
        out.push(arbiter_headless(m)?);
        if m.v("arbiter.pdb.create").truthy() {
            out.push(pdb(m, m.name("arbiter"), "arbiter", "arbiter.pdb")?);
        }
    }
    // The official flavor has no exporter to serve.
    if m.flavor == crate::render::backends::Flavor::Bitnami && m.v("metrics.enabled").truthy() {
        out.push(metrics(m)?);
    }
    Ok(out)
}

/// The claim of the data volume: standalone PVC `<fullname>` and the `datadir` claim template.
pub(super) fn claim_spec(m: &Mongo) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(
            m.v("persistence.accessModes")
                .as_list()
                .iter()
                .map(Value::to_go_text)
                .collect(),
        ),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_string(),
                Quantity(m.text("persistence.size")),
            )])),
            ..Default::default()
        }),
        storage_class_name: m.storage_class(),
        ..Default::default()
    }
}

/// The MongoDB port as every Service names it.
fn mongodb_port(m: &Mongo, name: String) -> Result<ServicePort> {
    Ok(ServicePort {
        name: Some(name),
        port: m.int("service.port")?,
        target_port: Some(IntOrString::String("mongodb".into())),
        ..Default::default()
    })
}

/// Service `<fullname>-headless`: stable per-pod DNS names of the replica-set members, also for
/// pods that are not ready yet (members must find each other while starting).
fn headless(m: &Mongo) -> Result<Object> {
    Object::new(&Service {
        metadata: m.annotated_meta(m.name("headless"), Some("mongodb"), "service.annotations")?,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            ports: Some(vec![mongodb_port(m, m.text("service.portName"))?]),
            selector: Some(m.match_labels(Some("mongodb"))),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Service `<fullname>-arbiter-headless`: the arbiter's governing Service.
fn arbiter_headless(m: &Mongo) -> Result<Object> {
    Object::new(&Service {
        metadata: m.annotated_meta(
            m.name("arbiter-headless"),
            Some("arbiter"),
            "service.annotations",
        )?,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some("None".into()),
            ports: Some(vec![mongodb_port(m, "tcp-mongodb".into())?]),
            selector: Some(m.match_labels(Some("arbiter"))),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// Service `<fullname>` of the standalone server, `service.type` with its type-specific settings.
fn standalone(m: &Mongo) -> Result<Object> {
    let service_type = m.text("service.type");
    let mut port = mongodb_port(m, m.text("service.portName"))?;
    let node_port = matches!(service_type.as_str(), "LoadBalancer" | "NodePort")
        && m.v("service.nodePort").truthy();
    if node_port {
        port.node_port = Some(m.int("service.nodePort")?);
    } else {
        // Only a LoadBalancer or NodePort Service has node ports.
        m.v("service.nodePort").pass_over();
    }
    let when = |cond: bool, path: &str| {
        cond.then(|| m.v(path))
            .and_then(|v| v.non_empty())
            .map(Value::to_go_text)
    };
    let mut object = Object::new(&Service {
        metadata: m.annotated_meta(m.fullname.clone(), Some("mongodb"), "service.annotations")?,
        spec: Some(ServiceSpec {
            type_: Some(service_type.clone()),
            cluster_ip: when(service_type == "ClusterIP", "service.clusterIP"),
            load_balancer_ip: when(service_type == "LoadBalancer", "service.loadBalancerIP"),
            external_ips: m.typed_raw("service.externalIPs")?,
            load_balancer_source_ranges: m.typed_raw("service.loadBalancerSourceRanges")?,
            ports: Some(vec![port]),
            selector: Some(m.match_labels(Some("mongodb"))),
            ..Default::default()
        }),
        ..Default::default()
    })?;
    if !node_port && service_type == "ClusterIP" {
        // The chart clears a nodePort left over from a previous NodePort type.
        object.set_null("spec.ports[0].nodePort");
    }
    Ok(object)
}

/// Service `<fullname>-metrics`: the exporter sidecar's port.
fn metrics(m: &Mongo) -> Result<Object> {
    Object::new(&Service {
        metadata: m.annotated_meta(
            m.name("metrics"),
            Some("metrics"),
            "metrics.service.annotations",
        )?,
        spec: Some(ServiceSpec {
            type_: Some(m.text("metrics.service.type")),
            ports: Some(vec![ServicePort {
                name: Some("http-metrics".into()),
                port: m.int("metrics.service.port")?,
                target_port: Some(IntOrString::String("metrics".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            selector: Some(m.match_labels(Some("mongodb"))),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// PodDisruptionBudget for the pods of `component`, limits from `<path>.minAvailable` and
/// `<path>.maxUnavailable` (each only when set and non-zero, as in the chart).
fn pdb(m: &Mongo, name: String, component: &str, path: &str) -> Result<Object> {
    let bound = |key: &str| -> Result<Option<IntOrString>> {
        let key = format!("{path}.{key}");
        Ok(match m.v(&key).value() {
            v if !v.truthy() => None,
            Value::Int(_) | Value::Float(_) => Some(IntOrString::Int(m.int(&key)?)),
            v => Some(IntOrString::String(v.to_go_text())),
        })
    };
    Object::new(&PodDisruptionBudget {
        metadata: m.meta(name, Some(component)),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: bound("minAvailable")?,
            max_unavailable: bound("maxUnavailable")?,
            selector: Some(LabelSelector {
                match_labels: Some(m.match_labels(Some(component))),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}
