//! Which `mongodb.*` keys the user changed that st2k8s does not implement (issue: never ignore a
//! subchart key silently). A key is supported when it is listed in [`SUPPORTED`] or lies below a
//! listed key; any other key whose value differs from the built-in default is reported.

use crate::render::Ctx;
use crate::values::{self, Layer, Value};

/// Keys below `mongodb.` that st2k8s reads (a listed key covers everything below it). Not listed,
/// hence reported: `tls.*` (needs per-render CA generation), `externalAccess.*`,
/// `metrics.serviceMonitor.*` and `metrics.prometheusRule.*` (Prometheus-operator objects).
const SUPPORTED: &[&str] = &[
    "enabled",
    "nameOverride",
    "fullnameOverride",
    "clusterDomain",
    "architecture",
    "useStatefulSet",
    "replicaSetName",
    "replicaSetHostnames",
    "replicaCount",
    "strategyType",
    "podManagementPolicy",
    "image.registry",
    "image.repository",
    "image.tag",
    "image.pullPolicy",
    "image.pullSecrets",
    "image.debug",
    "auth.enabled",
    "auth.rootPassword",
    "auth.username",
    "auth.password",
    "auth.database",
    "auth.replicaSetKey",
    "auth.existingSecret",
    "enableIPv6",
    "directoryPerDB",
    "systemLogVerbosity",
    "disableSystemLog",
    "configuration",
    "existingConfigmap",
    "initdbScripts",
    "initdbScriptsConfigMap",
    "command",
    "args",
    "extraFlags",
    "extraEnvVars",
    "extraEnvVarsCM",
    "extraEnvVarsSecret",
    "annotations",
    "labels",
    "podLabels",
    "podAnnotations",
    "schedulerName",
    "affinity",
    "nodeSelector",
    "tolerations",
    "priorityClassName",
    "podSecurityContext",
    "containerSecurityContext",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "customLivenessProbe",
    "customReadinessProbe",
    "initContainers",
    "sidecars",
    "extraVolumeMounts",
    "extraVolumes",
    "pdb.create",
    "pdb.minAvailable",
    "pdb.maxUnavailable",
    "persistence.enabled",
    "persistence.accessModes",
    "persistence.size",
    "persistence.annotations",
    "persistence.mountPath",
    "persistence.subPath",
    "persistence.existingClaim",
    "persistence.storageClass",
    "service.type",
    "service.port",
    "service.portName",
    "service.nodePort",
    "service.clusterIP",
    "service.loadBalancerIP",
    "service.externalIPs",
    "service.loadBalancerSourceRanges",
    "service.annotations",
    "arbiter.enabled",
    "arbiter.configuration",
    "arbiter.existingConfigmap",
    "arbiter.command",
    "arbiter.args",
    "arbiter.extraFlags",
    "arbiter.extraEnvVars",
    "arbiter.extraEnvVarsCM",
    "arbiter.extraEnvVarsSecret",
    "arbiter.annotations",
    "arbiter.labels",
    "arbiter.podLabels",
    "arbiter.podAnnotations",
    "arbiter.affinity",
    "arbiter.nodeSelector",
    "arbiter.tolerations",
    "arbiter.priorityClassName",
    "arbiter.podSecurityContext",
    "arbiter.containerSecurityContext",
    "arbiter.resources",
    "arbiter.livenessProbe",
    "arbiter.readinessProbe",
    "arbiter.customLivenessProbe",
    "arbiter.customReadinessProbe",
    "arbiter.initContainers",
    "arbiter.sidecars",
    "arbiter.extraVolumeMounts",
    "arbiter.extraVolumes",
    "arbiter.pdb.create",
    "arbiter.pdb.minAvailable",
    "arbiter.pdb.maxUnavailable",
    "serviceAccount.create",
    "serviceAccount.name",
    "rbac.create",
    "volumePermissions.enabled",
    "volumePermissions.image.registry",
    "volumePermissions.image.repository",
    "volumePermissions.image.tag",
    "volumePermissions.image.pullPolicy",
    "volumePermissions.image.pullSecrets",
    "volumePermissions.resources",
    "volumePermissions.securityContext",
    "metrics.enabled",
    "metrics.image.registry",
    "metrics.image.repository",
    "metrics.image.tag",
    "metrics.image.pullPolicy",
    "metrics.image.pullSecrets",
    "metrics.extraFlags",
    "metrics.extraUri",
    "metrics.resources",
    "metrics.service.annotations",
    "metrics.service.type",
    "metrics.service.port",
    "metrics.livenessProbe",
    "metrics.readinessProbe",
];

/// The `mongodb.*` key paths whose value differs from the built-in default and that st2k8s does
/// not implement, in key order. Empty when MongoDB is disabled.
pub fn unsupported_keys(ctx: &Ctx) -> Vec<String> {
    if !ctx.v("mongodb.enabled").truthy() {
        return Vec::new();
    }
    let mut out = Vec::new();
    walk(ctx.v("mongodb"), defaults().at("mongodb"), "", &mut out);
    out
}

/// The built-in values with MongoDB enabled (the subchart defaults merged in).
fn defaults() -> Value {
    let layer = Layer::File {
        name: "mongodb defaults".into(),
        text: "mongodb:\n  enabled: true\n".into(),
    };
    // The built-in values always load; should they not, every changed key gets reported.
    values::load(&[layer])
        .map(|loaded| loaded.values)
        .unwrap_or_default()
}

fn walk(user: &Value, default: &Value, path: &str, out: &mut Vec<String>) {
    for (key, value) in user.entries() {
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let default = default.key(key);
        if supported(&child) || value == default {
            continue;
        }
        if matches!(value, Value::Map(m) if !m.is_empty()) {
            walk(value, default, &child, out);
        } else {
            out.push(format!("mongodb.{child}"));
        }
    }
}

/// Is `path` a supported key or below one?
fn supported(path: &str) -> bool {
    SUPPORTED.iter().any(|s| {
        path == *s
            || path
                .strip_prefix(s)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}
