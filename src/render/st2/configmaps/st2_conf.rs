//! `R-st2-config` (SPEC-chart.md §4.1): `st2.docker.conf`, generated from the release (service
//! URLs, system user, bundled backends' connection strings, keyvalue, rbac), and
//! `st2.user.conf`, the user's `tpl(st2.config)`.
//!
//! Backend host names come from [`meta::subchart_fullname`], so they follow the backends'
//! name overrides (SPEC §7.1 #4); standalone MongoDB gets a single-host URL (§7.1 #5).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Serialize;

use super::config_map;
use crate::render::st2::{ssh_key, text};
use crate::render::{Ctx, Object, meta};

/// Text sections of `st2.docker.conf`; `None` leaves a section out.
#[derive(Debug, Serialize)]
struct DockerConf {
    api_url: String,
    system_user: String,
    ssh_key_file: String,
    coordination_url: Option<String>,
    messaging_url: Option<String>,
    database: Option<Database>,
    keyvalue: bool,
    rbac: bool,
}

#[derive(Debug, Serialize)]
struct Database {
    host: String,
    auth: Option<DatabaseAuth>,
    port: String,
}

#[derive(Debug, Serialize)]
struct DatabaseAuth {
    username: String,
    password: String,
    db_name: String,
}

pub fn object(ctx: &Ctx) -> Result<Object> {
    let docker = DockerConf {
        api_url: format!("http://{}:9101/", ctx.name("st2api")),
        system_user: text::interp(ctx.v("st2.system_user.user")),
        ssh_key_file: ssh_key::paths(ctx)?.file,
        coordination_url: ctx.v("redis.enabled").truthy().then(|| redis_url(ctx)).transpose()?,
        messaging_url: ctx.v("rabbitmq.enabled").truthy().then(|| amqp_url(ctx)).transpose()?,
        database: ctx.v("mongodb.enabled").truthy().then(|| database(ctx)).transpose()?,
        keyvalue: datastore_encryption_on(ctx),
        rbac: ctx.v("st2.rbac.enabled").truthy(),
    };
    let data = BTreeMap::from([
        ("st2.docker.conf".to_string(), crate::templates::render("st2/st2.docker.conf", &docker)?),
        ("st2.user.conf".to_string(), text::block_text(&ctx.tpl_value("st2.config")?)),
    ]);
    config_map(
        ctx,
        ctx.name("st2-config"),
        "st2",
        Some("Custom StackStorm config which will apply settings on top of default st2.conf"),
        data,
    )
}

/// `DSKEY_ON`: datastore encryption unless `st2.datastore_crypto_key` is `disable`.
pub fn datastore_encryption_on(ctx: &Ctx) -> bool {
    ctx.v("st2.datastore_crypto_key").non_empty().is_none_or(|k| k.to_go_string() != "disable")
}

/// `redis://[:<password>@]<node-0>:<port>?sentinel=<master>[&sentinel_fallback=<node-i>:<port>…]`:
/// every Redis node's sentinel, through the headless Service.
fn redis_url(ctx: &Ctx) -> Result<String> {
    if !ctx.v("redis.sentinel.enabled").truthy() {
        bail!("value for redis.sentinel.enabled MUST be true");
    }
    let full = meta::subchart_fullname(ctx, "redis");
    let domain = format!("{}.svc.{}", ctx.release.namespace, text::interp(ctx.v("clusterDomain")));
    let port = text::interp(ctx.v("redis.sentinel.port"));
    let mut url = String::from("redis://");
    if let Some(password) = ctx.v("redis.password").non_empty() {
        url.push_str(&format!(":{}@", password.to_go_string()));
    }
    for i in 0..text::go_int(ctx.v("redis.cluster.slaveCount")) {
        let node = format!("{full}-node-{i}.{full}-headless.{domain}:{port}");
        if i == 0 {
            url.push_str(&format!("{node}?sentinel={}", text::interp(ctx.v("redis.sentinel.masterSet"))));
        } else {
            url.push_str(&format!("&sentinel_fallback={node}"));
        }
    }
    Ok(url)
}

/// `amqp://<user>:<password>@<rabbitmq>:5672<vhost>`; the vhost is `rabbitmq.ingress.path`.
fn amqp_url(ctx: &Ctx) -> Result<String> {
    let user = text::required(ctx.v("rabbitmq.auth.username"), "rabbitmq.auth.username is required!")?;
    let password = text::required(ctx.v("rabbitmq.auth.password"), "rabbitmq.auth.password is required!")?;
    let vhost = text::required(ctx.v("rabbitmq.ingress.path"), "rabbitmq.ingress.path is required!")?;
    Ok(format!("amqp://{user}:{password}@{}:5672{vhost}", meta::subchart_fullname(ctx, "rabbitmq")))
}

/// The `[database]` section: a replica set is reached through every member's headless-Service
/// name (with `replicaSet=`), a standalone server through its Service.
fn database(ctx: &Ctx) -> Result<Database> {
    let full = meta::subchart_fullname(ctx, "mongodb");
    let domain = format!("{}.svc.{}", ctx.release.namespace, text::interp(ctx.v("clusterDomain")));
    let replica_set = (text::interp(ctx.v("mongodb.architecture")) == "replicaset")
        .then(|| text::interp(ctx.v("mongodb.replicaSetName")));
    let hosts = match replica_set {
        Some(_) => (0..text::go_int(ctx.v("mongodb.replicaCount")))
            .map(|i| format!("{full}-{i}.{full}-headless.{domain}"))
            .collect::<Vec<_>>()
            .join(","),
        None => format!("{full}.{domain}"),
    };
    let (host, auth) = if ctx.v("mongodb.auth.enabled").truthy() {
        let db = text::required(ctx.v("mongodb.auth.database"), "mongodb.auth.database is required!")?;
        let auth = DatabaseAuth {
            username: text::required(ctx.v("mongodb.auth.username"), "mongodb.auth.username is required!")?,
            password: text::required(ctx.v("mongodb.auth.password"), "mongodb.auth.password is required!")?,
            db_name: db.clone(),
        };
        let rs = replica_set.map(|rs| format!("&replicaSet={rs}")).unwrap_or_default();
        (format!("mongodb://{hosts}/{db}?authSource={db}{rs}"), Some(auth))
    } else {
        let rs = replica_set.map(|rs| format!("?replicaSet={rs}")).unwrap_or_default();
        (format!("mongodb://{hosts}/{rs}"), None)
    };
    Ok(Database {
        host,
        auth,
        port: text::interp(ctx.v("mongodb.service.port")),
    })
}
