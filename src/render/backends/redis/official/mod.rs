//! `redis.flavor: official`: Redis with Sentinel on a maintained upstream image, Valkey by
//! default (`valkey/valkey`, BSD-3-Clause, speaking the Redis 7.2 protocol and configuration that
//! st2's sentinel client uses); `redis.image.repository: redis` selects docker-library's Redis,
//! whose releases since 7.4 are under the RSALv2/SSPL (and AGPLv3 since 8.0) licences.
//!
//! The chart's bitnami pods keep their data in the volume mounted at `/data` and run as
//! 1001:1001 with `fsGroup: 1001`: these pods mount the same claim at `/data`, run as the same
//! user and read the same `appendonly.aof`/`dump.rdb`, so switching flavors keeps the data.
//! Every name an `apply` cannot change (StatefulSet, `serviceName`, selector, claim template,
//! Services) is the bitnami flavor's; the Secret, Services and optional objects are the same
//! builders'.
//!
//! Servers and sentinels announce their pods' DNS names (`<pod>.<fullname>-headless…`), not pod
//! IPs: a recreated pod keeps its name, and the sentinels keep knowing it.

mod config;
mod statefulset;

use anyhow::{Result, bail};

use super::{Redis, extras, services};
use crate::object::Object;
use crate::render::backends::{SubValues, default_section, unread_keys};

/// The image repository run unless `redis.image.repository` names another (non-bitnami) one.
pub const DEFAULT_REPOSITORY: &str = "valkey/valkey";
/// Its tag: a pinned Valkey 8.1 release.
pub const DEFAULT_TAG: &str = "8.1.11";

/// Every object of the official flavor.
pub(super) fn objects(redis: &Redis) -> Result<Vec<Object>> {
    if redis.v.at("tls.enabled").truthy() {
        bail!(
            "`redis.tls.enabled`: `redis.flavor: official` does not implement TLS; turn it off or keep the bitnami flavor"
        );
    }
    let mut out = Vec::new();
    out.extend(extras::secret(redis)?);
    out.extend(config::objects(redis)?);
    out.extend(services::objects(redis, false)?);
    out.push(statefulset::object(redis)?);
    out.extend(extras::objects(redis, false)?);
    Ok(out)
}

/// Whether `repository` is one of bitnami's images (`bitnami/redis`, a mirror's
/// `…/bitnamilegacy/redis`), which the official flavor never runs.
fn is_bitnami(repository: &str) -> bool {
    repository
        .split('/')
        .any(|part| part == "bitnami" || part == "bitnamilegacy")
}

/// The image of both containers: `<registry>/<repository>:<tag>` from `redis.image` (the
/// registry `global.imageRegistry` first, as for the bitnami images). A bitnami repository, the
/// chart's default included, is replaced by [`DEFAULT_REPOSITORY`]:[`DEFAULT_TAG`] (a changed one
/// is reported by [`unsupported_keys`]); another repository needs its own tag.
pub(super) fn image(redis: &Redis) -> Result<String> {
    let v = &redis.v;
    let registry = v
        .at("global")
        .key("imageRegistry")
        .or(v.at("image.registry"))
        .to_go_text();
    let repository = v.at("image.repository").to_go_text();
    let (repository, tag) = if repository.is_empty() || is_bitnami(&repository) {
        (DEFAULT_REPOSITORY.to_string(), DEFAULT_TAG.to_string())
    } else {
        let tag = v.at("image.tag").to_go_text();
        if tag.is_empty() || tag == default_section("redis").at("image.tag").to_go_text() {
            bail!(
                "`redis.image.tag`: set it together with `redis.image.repository` (the default tag is the bitnami image's)"
            );
        }
        (repository, tag)
    };
    Ok(if registry.is_empty() {
        format!("{repository}:{tag}")
    } else {
        format!("{registry}/{repository}:{tag}")
    })
}

/// Values keys under `redis` that the user changed but that do not apply to the official
/// flavor: those of the bitnami images (TLS, metrics exporter, init containers, static sentinel
/// IDs, data paths) and a bitnami `image.repository`/`image.tag`.
pub(super) fn unsupported_keys(v: &SubValues) -> Vec<String> {
    if is_bitnami(&v.at("image.repository").to_go_text()) {
        unread_keys(v, SUPPORTED)
    } else {
        unread_keys(v, &[SUPPORTED, &["image.repository", "image.tag"]].concat())
    }
}

/// Every key path below `redis` the official flavor reads (besides a non-bitnami
/// `image.repository` and its `image.tag`).
const SUPPORTED: &[&str] = &[
    "enabled",
    "flavor",
    // Globals are the parent's keys (copied into every subchart); the parent reports its own.
    "global",
    "nameOverride",
    "fullnameOverride",
    "clusterDomain",
    "image.registry",
    "image.pullPolicy",
    "image.pullSecrets",
    "cluster",
    "sentinel.enabled",
    "sentinel.usePassword",
    "sentinel.masterSet",
    "sentinel.quorum",
    "sentinel.downAfterMilliseconds",
    "sentinel.failoverTimeout",
    "sentinel.parallelSyncs",
    "sentinel.port",
    "sentinel.configmap",
    "sentinel.livenessProbe",
    "sentinel.readinessProbe",
    "sentinel.customLivenessProbe",
    "sentinel.customReadinessProbe",
    "sentinel.resources",
    "sentinel.service",
    "networkPolicy",
    "serviceAccount",
    "rbac",
    "securityContext",
    "containerSecurityContext",
    "usePassword",
    "password",
    "existingSecret",
    "existingSecretPasswordKey",
    "usePasswordFile",
    "redisPort",
    "configmap",
    "master.disableCommands",
    "master.spreadConstraints",
    "slave.disableCommands",
    "slave.extraFlags",
    "slave.affinity",
    "slave.nodeSelector",
    "slave.tolerations",
    "slave.schedulerName",
    "slave.priorityClassName",
    "slave.livenessProbe",
    "slave.readinessProbe",
    "slave.customLivenessProbe",
    "slave.customReadinessProbe",
    "slave.resources",
    "slave.podLabels",
    "slave.podAnnotations",
    "slave.persistence.enabled",
    "slave.persistence.size",
    "slave.persistence.storageClass",
    "slave.persistence.accessModes",
    "slave.persistence.matchLabels",
    "slave.persistence.matchExpressions",
    "slave.statefulset.updateStrategy",
    "slave.statefulset.rollingUpdatePartition",
    "podDisruptionBudget",
];
