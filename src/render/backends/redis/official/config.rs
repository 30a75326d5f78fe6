//! The official flavor's ConfigMaps: `<fullname>-scripts` (start scripts and the probe script)
//! and `<fullname>` (server and sentinel settings), from `templates/redis/official/`.
//!
//! Only validated names and numbers reach the scripts: the master set name and the cluster
//! domain are checked, ports are port numbers, counts are integers, `slave.extraFlags` are
//! single-quoted shell words (nothing in them expands), a user's configuration text goes into
//! configuration files only, and the password reaches the scripts as a mounted file.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Serialize;

use super::super::Redis;
use super::super::config::{block_text, config_map, user_text};
use crate::object::Object;
use crate::templates;

/// Where the containers find the scripts (`<fullname>-scripts`).
pub(super) const SCRIPTS_DIR: &str = "/opt/st2k8s/scripts";
/// Where the containers find the settings (`<fullname>`).
pub(super) const CONFIG_DIR: &str = "/opt/st2k8s/config";
/// Each container's own emptyDir, for the configuration its start script writes.
pub(super) const RUN_DIR: &str = "/opt/st2k8s/run";
/// Where the password Secret is mounted (with `usePassword`).
pub(super) const SECRET_DIR: &str = "/opt/st2k8s/secrets";
/// The data volume, where the bitnami images kept it too.
pub(super) const DATA_DIR: &str = "/data";
/// Seconds a start script waits for one sentinel or server to answer.
const CLI_TIMEOUT: i32 = 3;

/// The two ConfigMaps.
pub(super) fn objects(redis: &Redis) -> Result<Vec<Object>> {
    Ok(vec![
        config_map(redis, redis.name("-scripts"), scripts(redis)?)?,
        config_map(redis, redis.fullname.clone(), settings(redis)?)?,
    ])
}

/// What the scripts read.
#[derive(Serialize)]
struct Scripts {
    headless_host: String,
    /// `<fullname>-node-`: pod names are this plus an ordinal.
    node_prefix: String,
    last_node: i32,
    redis_port: i32,
    sentinel_port: i32,
    master_set: String,
    quorum: i32,
    sentinel_password: bool,
    /// `slave.extraFlags`, each as a single-quoted shell word.
    extra_flags: Vec<String>,
    cli_timeout: i32,
}

/// `sentinel.masterSet`, which the scripts and configuration files name unquoted.
fn master_set(redis: &Redis) -> Result<String> {
    let name = redis.v.string("sentinel.masterSet");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        bail!(
            "`redis.sentinel.masterSet`: expected a name of letters, digits, `.`, `_` and `-` (the official flavor's scripts name it)"
        );
    }
    Ok(name)
}

/// The port number at `path` (`redisPort`, `sentinel.port`).
fn port(redis: &Redis, path: &str) -> Result<i32> {
    let port = redis.v.int(path)?;
    if !(1..=65535).contains(&port) {
        bail!(
            "`{}`: expected a port number (1 to 65535)",
            redis.v.key(path)
        );
    }
    Ok(port)
}

/// The whole number at `path`, at least 1 (sentinel settings a sentinel refuses otherwise).
fn positive(redis: &Redis, path: &str) -> Result<i32> {
    let number = redis.v.int(path)?;
    if number < 1 {
        bail!(
            "`{}`: expected a whole number of at least 1",
            redis.v.key(path)
        );
    }
    Ok(number)
}

/// `word` as one single-quoted shell word: nothing in it expands.
fn shell_single_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

fn scripts(redis: &Redis) -> Result<BTreeMap<String, String>> {
    let v = &redis.v;
    let nodes = v.int("cluster.slaveCount")?;
    if nodes < 1 {
        bail!("`redis.cluster.slaveCount`: expected at least 1 Redis node");
    }
    let context = Scripts {
        headless_host: redis.service_host(&redis.name("-headless")),
        node_prefix: redis.name("-node-"),
        last_node: nodes - 1,
        redis_port: port(redis, "redisPort")?,
        sentinel_port: port(redis, "sentinel.port")?,
        master_set: master_set(redis)?,
        quorum: positive(redis, "sentinel.quorum")?,
        sentinel_password: v.at("sentinel.usePassword").truthy(),
        extra_flags: v
            .at("slave.extraFlags")
            .as_list()
            .iter()
            .map(|f| shell_single_quote(&f.to_go_string()))
            .collect(),
        cli_timeout: CLI_TIMEOUT,
    };
    ["start-node.sh", "start-sentinel.sh", "probe.sh"]
        .into_iter()
        .map(|file| {
            Ok((
                file.to_string(),
                templates::render(&format!("redis/official/{file}"), &context)?,
            ))
        })
        .collect()
}

/// What the configuration files read.
#[derive(Serialize)]
struct Settings {
    redis_port: i32,
    /// `master.disableCommands` and `slave.disableCommands`: any node may become master.
    disabled: Vec<String>,
    configmap: String,
    sentinel_port: i32,
    master_set: String,
    down_after_ms: i32,
    failover_timeout: i32,
    parallel_syncs: i32,
    sentinel_configmap: String,
}

fn settings(redis: &Redis) -> Result<BTreeMap<String, String>> {
    let v = &redis.v;
    let mut disabled: Vec<String> = Vec::new();
    for path in ["master.disableCommands", "slave.disableCommands"] {
        for command in v.at(path).as_list() {
            let command = command.to_go_string();
            if command.is_empty()
                || !command
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '|' || c == '-' || c == '_')
            {
                bail!("`{}`: expected command names", v.key(path));
            }
            if !disabled.contains(&command) {
                disabled.push(command);
            }
        }
    }
    let context = Settings {
        redis_port: port(redis, "redisPort")?,
        disabled,
        configmap: user_text(redis, "configmap")?,
        sentinel_port: port(redis, "sentinel.port")?,
        master_set: master_set(redis)?,
        down_after_ms: positive(redis, "sentinel.downAfterMilliseconds")?,
        failover_timeout: positive(redis, "sentinel.failoverTimeout")?,
        parallel_syncs: positive(redis, "sentinel.parallelSyncs")?,
        sentinel_configmap: user_text(redis, "sentinel.configmap")?,
    };
    ["redis.conf", "sentinel.conf", "sentinel-master.conf"]
        .into_iter()
        .map(|file| {
            let text = templates::render(&format!("redis/official/{file}"), &context)?;
            Ok((file.to_string(), format!("{}\n", block_text(&text))))
        })
        .collect()
}
