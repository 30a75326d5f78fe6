//! The Redis ConfigMaps: `<fullname>` with the server and sentinel configuration files (compared
//! byte for byte with the chart), `<fullname>-scripts` with the start scripts and
//! `<fullname>-health` with the probe scripts (st2k8s's own, under `templates/redis/`).

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::ConfigMap;
use serde::Serialize;

use super::Redis;
use crate::object::Object;
use crate::templates;
use crate::values::Value;

/// The three ConfigMaps.
pub(super) fn objects(redis: &Redis) -> Result<Vec<Object>> {
    Ok(vec![
        config_map(redis, redis.name("-scripts"), scripts(redis)?)?,
        config_map(redis, redis.name("-health"), health(redis)?)?,
        config_map(redis, redis.fullname.clone(), config_files(redis)?)?,
    ])
}

pub(super) fn config_map(
    redis: &Redis,
    name: String,
    data: BTreeMap<String, String>,
) -> Result<Object> {
    Object::new(&ConfigMap {
        metadata: redis.meta(name),
        data: Some(data),
        ..Default::default()
    })
}

/// What the configuration file templates read.
#[derive(Serialize)]
struct ConfigFiles {
    configmap: String,
    master_dir: String,
    master_configmap: String,
    master_disabled: Vec<String>,
    replica_dir: String,
    replica_configmap: String,
    replica_disabled: Vec<String>,
    sentinel_port: String,
    master_set: String,
    initial_master: String,
    redis_port: String,
    quorum: String,
    down_after_ms: String,
    failover_timeout: String,
    parallel_syncs: String,
    sentinel_configmap: String,
}

/// `redis.conf`, `master.conf`, `replica.conf` and `sentinel.conf`.
fn config_files(redis: &Redis) -> Result<BTreeMap<String, String>> {
    let v = &redis.v;
    let tpl = |path: &str| user_text(redis, path);
    let names = |path: &str| {
        v.at(path)
            .as_list()
            .iter()
            .map(Value::to_go_string)
            .collect()
    };
    let headless = redis.service_host(&redis.name("-headless"));
    let context = ConfigFiles {
        configmap: tpl("configmap")?,
        master_dir: v.string("master.persistence.path"),
        master_configmap: tpl("master.configmap")?,
        master_disabled: names("master.disableCommands"),
        replica_dir: v.string("slave.persistence.path"),
        replica_configmap: tpl("slave.configmap")?,
        replica_disabled: names("slave.disableCommands"),
        sentinel_port: v.string("sentinel.port"),
        master_set: v.string("sentinel.masterSet"),
        initial_master: format!("{}.{headless}", redis.name("-node-0")),
        redis_port: v.string("redisPort"),
        quorum: v.string("sentinel.quorum"),
        down_after_ms: v.string("sentinel.downAfterMilliseconds"),
        failover_timeout: v.string("sentinel.failoverTimeout"),
        parallel_syncs: v.string("sentinel.parallelSyncs"),
        sentinel_configmap: tpl("sentinel.configmap")?,
    };
    ["redis.conf", "master.conf", "replica.conf", "sentinel.conf"]
        .into_iter()
        .map(|file| {
            Ok((
                file.to_string(),
                block_text(&templates::render(&format!("redis/{file}"), &context)?),
            ))
        })
        .collect()
}

/// The configuration text at `path` (`configmap`, `sentinel.configmap`…), rendered with `tpl`
/// like the chart's; empty when unset.
pub(super) fn user_text(redis: &Redis, path: &str) -> Result<String> {
    let v = &redis.v;
    match v.at(path).value() {
        Value::Null => Ok(String::new()),
        Value::String(s) => redis.ctx.tpl(s, &v.key(path)),
        other => Ok(other.to_go_string()),
    }
}

/// The chart writes these files as `|-` block scalars, which drop trailing line breaks.
pub(super) fn block_text(text: &str) -> String {
    text.trim_end_matches('\n').to_string()
}

/// What the start and probe scripts read.
#[derive(Serialize)]
struct Scripts {
    headless_host: String,
    sentinel_host: String,
    redis_port: String,
    sentinel_port: String,
    master_set: String,
    quorum: String,
    use_password: bool,
    sentinel_password: bool,
    static_id: bool,
    /// `<fullname>-node-`: pod names are this plus an ordinal.
    node_prefix: String,
    last_node: i32,
    data_dir: String,
    /// `slave.extraFlags`, each as a double-quoted shell word (the chart's `quote`).
    extra_flags: Vec<String>,
    command: String,
    tls: bool,
    tls_dh_params: bool,
    /// Prefix of the TLS variables of the container running the script.
    tls_env: &'static str,
}

fn scripts_context(redis: &Redis, tls_env: &'static str) -> Result<Scripts> {
    let v = &redis.v;
    Ok(Scripts {
        headless_host: redis.service_host(&redis.name("-headless")),
        sentinel_host: redis.service_host(&redis.fullname),
        redis_port: v.string("redisPort"),
        sentinel_port: v.string("sentinel.port"),
        master_set: v.string("sentinel.masterSet"),
        quorum: v.string("sentinel.quorum"),
        use_password: v.at("usePassword").truthy(),
        sentinel_password: v.at("sentinel.usePassword").truthy(),
        static_id: v.at("sentinel.staticID").truthy(),
        node_prefix: redis.name("-node-"),
        last_node: v.int("cluster.slaveCount")? - 1,
        data_dir: v.string("slave.persistence.path"),
        extra_flags: v
            .at("slave.extraFlags")
            .as_list()
            .iter()
            .map(|f| shell_double_quote(&f.to_go_string()))
            .collect(),
        command: v
            .at("slave.command")
            .non_empty()
            .map_or_else(|| "redis-server".to_string(), Value::to_go_string),
        tls: v.at("tls.enabled").truthy(),
        tls_dh_params: v.at("tls.dhParamsFilename").truthy(),
        tls_env,
    })
}

/// `start-node.sh` and `start-sentinel.sh`.
fn scripts(redis: &Redis) -> Result<BTreeMap<String, String>> {
    Ok(BTreeMap::from([
        (
            "start-node.sh".to_string(),
            templates::render("redis/start-node.sh", scripts_context(redis, "REDIS_TLS")?)?,
        ),
        (
            "start-sentinel.sh".to_string(),
            templates::render(
                "redis/start-sentinel.sh",
                scripts_context(redis, "REDIS_SENTINEL_TLS")?,
            )?,
        ),
    ]))
}

/// What the probe scripts read.
#[derive(Serialize)]
struct Health {
    master_set: String,
    tls: bool,
    tls_auth_clients: bool,
    tls_ca: String,
    tls_cert: String,
    tls_key: String,
    /// The variable holding the port the local server (or sentinel) listens on.
    local_port_env: &'static str,
    sentinel_port_env: &'static str,
}

/// Script names of `<fullname>-health`, the chart's (the probes and other tooling call them by
/// name).
const HEALTH_SCRIPTS: [&str; 8] = [
    "ping_readiness_local.sh",
    "ping_liveness_local.sh",
    "ping_sentinel.sh",
    "parse_sentinels.awk",
    "ping_readiness_master.sh",
    "ping_liveness_master.sh",
    "ping_readiness_local_and_master.sh",
    "ping_liveness_local_and_master.sh",
];

fn health(redis: &Redis) -> Result<BTreeMap<String, String>> {
    let v = &redis.v;
    let tls = v.at("tls.enabled").truthy();
    let file = |key: &str, what: &str| {
        if tls {
            redis.tls_file(key, what)
        } else {
            Ok(String::new())
        }
    };
    let context = Health {
        master_set: v.string("sentinel.masterSet"),
        tls,
        tls_auth_clients: v.at("tls.authClients").truthy(),
        tls_ca: file("certCAFilename", "Certificate CA filename")?,
        tls_cert: file("certFilename", "Certificate filename")?,
        tls_key: file("certKeyFilename", "Certificate Key filename")?,
        local_port_env: if tls { "REDIS_TLS_PORT" } else { "REDIS_PORT" },
        sentinel_port_env: if tls {
            "REDIS_SENTINEL_TLS_PORT_NUMBER"
        } else {
            "REDIS_SENTINEL_PORT"
        },
    };
    HEALTH_SCRIPTS
        .into_iter()
        .map(|name| {
            Ok((
                name.to_string(),
                templates::render(&format!("redis/health/{name}"), &context)?,
            ))
        })
        .collect()
}

/// A double-quoted shell word, as Go's `quote` writes it: `"` and `\` escaped, `$` left to expand.
pub(super) fn shell_double_quote(word: &str) -> String {
    format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::with_release;

    /// The configuration files for a release (in namespace `ns`) and a user values file.
    fn render(release: &str, values: &str) -> BTreeMap<String, String> {
        with_release(release, values, |ctx| {
            config_files(&Redis::new(ctx).expect("redis values")).expect("config files")
        })
    }

    #[test]
    fn sentinel_conf_points_at_the_first_node() {
        let files = render("st2", "{}");
        assert_eq!(
            files["sentinel.conf"],
            "dir \"/tmp\"\nbind 0.0.0.0\nport 26379\n\
             sentinel monitor mymaster st2-redis-node-0.st2-redis-headless.ns.svc.cluster.local 6379 2\n\
             sentinel down-after-milliseconds mymaster 60000\nsentinel failover-timeout mymaster 18000\n\
             sentinel parallel-syncs mymaster 1"
        );
    }

    #[test]
    fn sentinel_conf_follows_values() {
        let files = render(
            "prod",
            "redis: {fullnameOverride: kv, clusterDomain: k8s.local, redisPort: 6380, sentinel: \
             {masterSet: main, quorum: 3, port: 26380, configmap: sentinel resolve-hostnames yes}}",
        );
        let conf = &files["sentinel.conf"];
        assert!(
            conf.starts_with("dir \"/tmp\"\nbind 0.0.0.0\nport 26380\n"),
            "{conf}"
        );
        assert!(
            conf.contains(
                "\nsentinel monitor main kv-node-0.kv-headless.ns.svc.k8s.local 6380 3\n"
            ),
            "{conf}"
        );
        assert!(
            conf.ends_with(
                "\n# User-supplied sentinel configuration:\nsentinel resolve-hostnames yes"
            ),
            "{conf}"
        );
    }

    #[test]
    fn server_confs_carry_user_text_and_disabled_commands() {
        let values = "redis:\n  configmap: maxmemory 1gb\n  slave:\n    configmap: |\n      a\n    disableCommands: [CONFIG]\n";
        let files = render("st2", values);
        assert_eq!(
            files["redis.conf"],
            "# User-supplied configuration:\nmaxmemory 1gb"
        );
        assert_eq!(
            files["master.conf"],
            "dir /data\nrename-command FLUSHDB \"\"\nrename-command FLUSHALL \"\""
        );
        // A user block ending in a line break leaves an empty line before the next entry, as in Helm.
        assert_eq!(
            files["replica.conf"],
            "dir /data\nslave-read-only yes\n# User-supplied slave configuration:\na\n\nrename-command CONFIG \"\""
        );
        let empty = render("st2", "redis: {configmap: ''}");
        assert_eq!(empty["redis.conf"], "");
    }

    #[test]
    fn shell_words_keep_expansion_like_go_quote() {
        assert_eq!(
            shell_double_quote(r#"--a "b" \c $D"#),
            r#""--a \"b\" \\c $D""#
        );
    }
}
