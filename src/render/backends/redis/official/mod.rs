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
use crate::render::backends::default_section;

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
    // The scripts write the password into the servers' configuration files, one setting a line.
    if redis.v.at("usePassword").truthy() && redis.v.string("password").contains('\n') {
        bail!(
            "`{}`: a line break cannot be part of a Redis password in configuration files; choose a password without one",
            redis.v.key("password")
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
/// chart's default included, is replaced by [`DEFAULT_REPOSITORY`]:[`DEFAULT_TAG`] (a tag set for
/// it is then never read, so it is reported as not applying); another repository needs its own tag.
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

#[cfg(test)]
mod tests {
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::render::backends::network_targets;
    use crate::render::test_support::with_ctx;

    /// The Redis objects of `values` with `redis.flavor` set to `flavor`, by `kind/name`.
    fn objects_of(values: &str, flavor: &str) -> Result<Vec<(String, Json)>, String> {
        let text = if values.contains("redis: {") {
            values.replacen("redis: {", &format!("redis: {{flavor: {flavor}, "), 1)
        } else if values.contains("redis:\n") {
            values.replacen("redis:\n", &format!("redis:\n  flavor: {flavor}\n"), 1)
        } else if values == "{}" {
            format!("redis: {{flavor: {flavor}}}\n")
        } else {
            format!("{values}\nredis: {{flavor: {flavor}}}\n")
        };
        with_ctx(&text, |ctx| {
            super::super::objects(ctx)
                .map(|objects| {
                    objects
                        .iter()
                        .map(|o| (format!("{}/{}", o.kind, o.name), o.body().clone()))
                        .collect()
                })
                .map_err(|e| format!("{e:#}"))
        })
    }

    fn object<'a>(objects: &'a [(String, Json)], key: &str) -> &'a Json {
        &objects
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("{key} rendered"))
            .1
    }

    /// What `kubectl apply` of the switch cannot change or must find again: the StatefulSet's
    /// immutable fields, the Services and the password Secret.
    fn kept(objects: &[(String, Json)]) -> Json {
        let (key, set) = objects
            .iter()
            .find(|(k, _)| k.starts_with("StatefulSet/"))
            .expect("a StatefulSet");
        let spec = &set["spec"];
        let services: Vec<&(String, Json)> = objects
            .iter()
            .filter(|(k, _)| k.starts_with("Service/") || k.starts_with("Secret/"))
            .collect();
        json!({
            "statefulset": key,
            "serviceName": spec["serviceName"],
            "selector": spec["selector"],
            "podManagementPolicy": spec.get("podManagementPolicy"),
            "replicas": spec["replicas"],
            "podLabels": spec["template"]["metadata"]["labels"],
            "volumeClaimTemplates": spec.get("volumeClaimTemplates"),
            "services": services,
        })
    }

    #[test]
    fn names_selectors_claims_and_services_are_the_bitnami_flavors() {
        for values in [
            "{}",
            "redis:\n  fullnameOverride: kv\n  cluster: {slaveCount: 5}\n  slave: {persistence: {size: 2Gi, storageClass: '-', accessModes: [ReadWriteMany], matchLabels: {pv: redis}}}",
            "redis:\n  nameOverride: cache\n  slave: {persistence: {enabled: false}, statefulset: {updateStrategy: OnDelete}}",
            "redis:\n  usePassword: true\n  existingSecret: mine\n  existingSecretPasswordKey: pw\n  redisPort: 6380\n  sentinel: {port: 26380, service: {type: NodePort, redisNodePort: 30001}}",
            "redis:\n  usePassword: true\n  password: s3cret\n  global: {storageClass: fast}",
        ] {
            let bitnami = objects_of(values, "bitnami").expect("bitnami render");
            let official = objects_of(values, "official").expect("official render");
            assert_eq!(kept(&official), kept(&bitnami), "{values}");
        }
    }

    #[test]
    fn pods_run_as_the_bitnami_user_with_the_data_at_slash_data() {
        let objects = objects_of("{}", "official").expect("render");
        let pod = &object(&objects, "StatefulSet/st2-redis-node")["spec"]["template"]["spec"];
        assert_eq!(
            pod["securityContext"],
            json!({"fsGroup": 1001, "runAsGroup": 1001, "runAsUser": 1001})
        );
        let server = &pod["containers"][0];
        assert_eq!(server["name"], "redis");
        assert!(
            server["volumeMounts"]
                .as_array()
                .expect("mounts")
                .contains(&json!({"name": "redis-data", "mountPath": "/data"}))
        );
        assert!(
            server["env"]
                .as_array()
                .expect("env")
                .contains(&json!({"name": "REDIS_DATA_DIR", "value": "/data"}))
        );
        // A user's pod security context still applies on top.
        let objects = objects_of(
            "redis:\n  securityContext: {enabled: true, fsGroup: 2000, runAsUser: 2000}",
            "official",
        )
        .expect("render");
        assert_eq!(
            object(&objects, "StatefulSet/st2-redis-node")["spec"]["template"]["spec"]["securityContext"],
            json!({"fsGroup": 2000, "runAsGroup": 1001, "runAsUser": 2000})
        );
    }

    #[test]
    fn the_password_reaches_the_pods_as_a_file_only() {
        let objects = objects_of("redis: {usePassword: true}", "official").expect("render");
        let set = object(&objects, "StatefulSet/st2-redis-node");
        let text = set.to_string();
        assert!(!text.contains("secretKeyRef"), "{text}");
        assert!(text.contains("\"REDIS_PASSWORD_FILE\""), "{text}");
        let volume = set["spec"]["template"]["spec"]["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == "redis-password")
            .cloned()
            .expect("password volume");
        assert_eq!(
            volume["secret"],
            json!({"defaultMode": 0o440, "items": [{"key": "redis-password", "path": "redis-password"}], "secretName": "st2-redis"})
        );
    }

    fn image_of(values: &str) -> Result<String, String> {
        let objects = objects_of(values, "official")?;
        let set = object(&objects, "StatefulSet/st2-redis-node");
        Ok(set["spec"]["template"]["spec"]["containers"][1]["image"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    #[test]
    fn images_are_valkey_unless_a_non_bitnami_repository_is_named() {
        assert_eq!(image_of("{}"), Ok("docker.io/valkey/valkey:8.1.11".into()));
        assert_eq!(
            image_of("redis:\n  image: {repository: redis, tag: 7.4.6}"),
            Ok("docker.io/redis:7.4.6".into())
        );
        assert_eq!(
            image_of(
                "redis:\n  image: {registry: mirror.example, repository: bitnami/redis, tag: 6.2.7}"
            ),
            Ok("mirror.example/valkey/valkey:8.1.11".into())
        );
        assert_eq!(
            image_of("global: {imageRegistry: mirror.example}"),
            Ok("mirror.example/valkey/valkey:8.1.11".into())
        );
        assert_eq!(
            image_of("redis:\n  image: {repository: redis}"),
            Err("`redis.image.tag`: set it together with `redis.image.repository` (the default tag is the bitnami image's)".into())
        );
    }

    fn unsupported(values: &str) -> Vec<String> {
        crate::render::test_support::unread(values)
    }

    #[test]
    fn bitnami_only_keys_are_reported() {
        assert!(unsupported("redis: {flavor: official}").is_empty());
        assert_eq!(
            unsupported(
                "redis:\n  flavor: official\n  cluster: {slaveCount: 5}\n  metrics: {enabled: true}\n  sentinel: {staticID: false, quorum: 3}\n  \
                 slave: {persistence: {path: /bitnami, size: 1Gi}}\n  volumePermissions: {enabled: true}\n  image: {tag: 6.2.7}"
            ),
            [
                "redis.image.tag",
                "redis.metrics.enabled",
                "redis.sentinel.staticID",
                "redis.slave.persistence.path",
                "redis.volumePermissions.enabled",
            ]
        );
        // A repository of the user's own is used, with its tag.
        assert!(
            unsupported("redis: {flavor: official, image: {repository: redis, tag: 7.4.6}}")
                .is_empty()
        );
        // The bitnami flavor reads its own keys, and `flavor` is one of them.
        assert!(unsupported("redis: {flavor: bitnami, metrics: {enabled: true}}").is_empty());
    }

    #[test]
    fn what_the_scripts_cannot_run_is_refused() {
        assert_eq!(
            objects_of("redis:\n  tls: {enabled: true}", "official").map(|_| ()),
            Err("`redis.tls.enabled`: `redis.flavor: official` does not implement TLS; turn it off or keep the bitnami flavor".into())
        );
        assert_eq!(
            objects_of("redis:\n  sentinel: {masterSet: 'my set'}", "official").map(|_| ()),
            Err("`redis.sentinel.masterSet`: expected a name of letters, digits, `.`, `_` and `-` (the official flavor's scripts name it)".into())
        );
        assert_eq!(
            objects_of(
                "redis:\n  slave: {disableCommands: ['CONFIG \"x']}",
                "official"
            )
            .map(|_| ()),
            Err("`redis.slave.disableCommands`: expected command names".into())
        );
    }

    /// Values that would reach the start scripts or the configuration files as code are refused
    /// at render time, naming the key and never the value.
    #[test]
    fn values_that_would_inject_are_refused_without_quoting() {
        let error = |values: &str, flavor: &str| objects_of(values, flavor).map(|_| ());
        for flavor in ["official", "bitnami"] {
            assert_eq!(
                error(
                    "redis:\n  clusterDomain: 'cluster.local$(touch /tmp/x)'",
                    flavor
                ),
                Err(
                    "`redis.clusterDomain`: expected a DNS domain (letters, digits, `-` and `.`)"
                        .into()
                ),
                "{flavor}"
            );
        }
        assert_eq!(
            error("redis:\n  redisPort: 70000", "official"),
            Err("`redis.redisPort`: expected a port number (1 to 65535)".into())
        );
        assert_eq!(
            error("redis:\n  sentinel: {port: 0}", "official"),
            Err("`redis.sentinel.port`: expected a port number (1 to 65535)".into())
        );
        for key in [
            "quorum",
            "downAfterMilliseconds",
            "failoverTimeout",
            "parallelSyncs",
        ] {
            assert_eq!(
                error(&format!("redis:\n  sentinel: {{{key}: 0}}"), "official"),
                Err(format!(
                    "`redis.sentinel.{key}`: expected a whole number of at least 1"
                )),
            );
        }
        assert_eq!(
            error("redis:\n  usePassword: true\n  password: \"s3cret\\nreplicaof evil 6379\"", "official"),
            Err("`redis.password`: a line break cannot be part of a Redis password in configuration files; choose a password without one".into())
        );
    }

    #[test]
    fn extra_flags_are_single_quoted_shell_words() {
        let objects = objects_of(
            "redis:\n  slave: {extraFlags: ['$(id)', '`id`', \"it's\", --maxmemory 1mb]}",
            "official",
        )
        .expect("render");
        let script = object(&objects, "ConfigMap/st2-redis-scripts")["data"]["start-node.sh"]
            .as_str()
            .expect("start-node.sh")
            .to_string();
        assert!(
            script.contains(
                "\nexec \"$server\" \"$conf\" '$(id)' '`id`' 'it'\\''s' '--maxmemory 1mb'\n"
            ),
            "{script}"
        );
    }

    #[test]
    fn network_policy_ports_have_no_exporter() {
        let targets = with_ctx(
            "networkPolicy: {enabled: true}\nredis: {flavor: official, metrics: {enabled: true}}",
            |ctx| network_targets(ctx).map_err(|e| e.to_string()),
        )
        .expect("targets");
        let redis = targets
            .iter()
            .find(|t| t.name == "st2-redis-node")
            .expect("redis target");
        assert_eq!(redis.client_ports, [6379, 26379]);
        assert!(redis.open_ports.is_empty());
        let objects = objects_of(
            "redis: {metrics: {enabled: true, serviceMonitor: {enabled: true}}}",
            "official",
        )
        .expect("render");
        assert!(
            objects
                .iter()
                .all(|(k, _)| !k.contains("metrics") && !k.starts_with("ServiceMonitor")),
            "{:?}",
            objects.iter().map(|(k, _)| k).collect::<Vec<_>>()
        );
    }
}
