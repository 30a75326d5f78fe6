//! `<release>-st2-config`: `st2.docker.conf`, generated from the release (service
//! URLs, system user, bundled backends' connection settings, keyvalue, rbac), and
//! `st2.user.conf`, the user's `tpl(st2.config)`; and the Secret `<release>-st2-credentials`
//! with `st2.credentials.conf`, the options of those connection settings that carry a
//! credential.
//!
//! A ConfigMap is readable by anyone who may read the namespace's configuration and is written
//! world-readable by `--output-dir`, so no credential goes into one: the MongoDB user and
//! password, the AMQP URL (it holds the RabbitMQ password) and a Redis URL with a password live
//! in the Secret, in the same sections and options. st2 reads its config files in order, later
//! ones winning, and gets the Secret's file right after st2.docker.conf, so the split changes
//! nothing st2 sees, and st2.user.conf and `st2.existingConfigSecret` still override both.
//!
//! Backend host names come from [`meta::subchart_fullname`], so they follow the backends'
//! name overrides (the chart hard-codes `<release>-rabbitmq` and the like, which an override or
//! a release name containing the backend's name breaks); standalone MongoDB gets a single-host
//! URL without a replica set (the chart lists replica-set members that do not exist).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde::Serialize;

use super::config_map;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::pod::{ssh_key, volumes};
use crate::render::st2::secrets::secret;
use crate::render::st2::{conf_check, text, version};
use crate::render::{backends, meta};

/// Text sections of `st2.docker.conf`; `None` leaves a section or option out.
#[derive(Debug, Serialize)]
struct DockerConf {
    api_url: String,
    system_user: String,
    ssh_key_file: String,
    /// The Redis URL when it carries no password (else it is a credential).
    coordination_url: Option<String>,
    database: Option<Database>,
    keyvalue: bool,
    rbac: bool,
}

#[derive(Debug, Serialize)]
struct Database {
    host: String,
    db_name: Option<String>,
    port: String,
}

/// Sections of `st2.credentials.conf`: every option of the generated configuration whose value
/// holds a credential.
#[derive(Debug, Serialize)]
struct CredentialsConf {
    /// The Redis URL when it carries a password.
    coordination_url: Option<String>,
    messaging_url: Option<String>,
    database: Option<DatabaseAuth>,
}

#[derive(Debug, Serialize)]
struct DatabaseAuth {
    username: String,
    password: String,
}

/// The ConfigMap `<release>-st2-config` and the Secret `<release>-st2-credentials`.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    // Checked in the order the chart's template reads them, so the first error is the chart's.
    let ssh_key_file = ssh_key::paths(ctx)?.file;
    let redis = ctx
        .v("redis.enabled")
        .truthy()
        .then(|| redis_url(ctx))
        .transpose()?;
    let (coordination_plain, coordination_secret) = match redis {
        Some(redis) if redis.password => (None, Some(redis.url)),
        Some(redis) => (Some(redis.url), None),
        None => (None, None),
    };
    let messaging_url = ctx
        .v("rabbitmq.enabled")
        .truthy()
        .then(|| amqp_url(ctx))
        .transpose()?;
    let (database, database_auth) = match ctx
        .v("mongodb.enabled")
        .truthy()
        .then(|| database(ctx))
        .transpose()?
    {
        Some((database, auth)) => (Some(database), auth),
        None => (None, None),
    };
    let docker = DockerConf {
        api_url: format!("http://{}:9101/", ctx.name("st2api")),
        system_user: ctx.v("st2.system_user.user").to_go_text(),
        ssh_key_file,
        coordination_url: coordination_plain,
        database,
        keyvalue: datastore_encryption_on(ctx),
        rbac: ctx.v("st2.rbac.enabled").truthy(),
    };
    let credentials = CredentialsConf {
        coordination_url: coordination_secret,
        messaging_url,
        database: database_auth,
    };
    let user_conf = ctx.tpl_value("st2.config")?;
    conf_check::report_conf(
        ctx,
        "st2.config",
        &ctx.v("st2.config").to_go_text(),
        &user_conf,
        version::release(ctx),
    );
    let data = BTreeMap::from([
        (
            "st2.docker.conf".to_string(),
            crate::templates::render("st2/st2.docker.conf", &docker)?,
        ),
        ("st2.user.conf".to_string(), text::block_text(&user_conf)),
    ]);
    let config = config_map(
        ctx,
        ctx.name("st2-config"),
        "st2",
        Some("Custom StackStorm config which will apply settings on top of default st2.conf"),
        data,
    )?;
    let credentials = secret(
        ctx,
        volumes::credentials_secret(ctx),
        "st2",
        "StackStorm config options holding the backends' credentials, read after st2.docker.conf",
        [(
            volumes::CREDENTIALS_FILE,
            crate::templates::render("st2/st2.credentials.conf", &credentials)?,
        )],
    )?;
    Ok(vec![config, credentials])
}

/// Datastore encryption, unless `st2.datastore_crypto_key` is `disable`.
pub fn datastore_encryption_on(ctx: &Ctx) -> bool {
    ctx.v("st2.datastore_crypto_key")
        .non_empty()
        .is_none_or(|k| k.to_go_string() != "disable")
}

/// `redis://[:<password>@]<node-0>:<port>?sentinel=<master>[&sentinel_fallback=<node-i>:<port>…]`:
/// every Redis node's sentinel, through the headless Service.
fn redis_url(ctx: &Ctx) -> Result<Redis> {
    if !ctx.v("redis.sentinel.enabled").truthy() {
        bail!("value for redis.sentinel.enabled MUST be true");
    }
    let full = meta::subchart_fullname(ctx, "redis");
    let domain = format!(
        "{}.svc.{}",
        ctx.release.namespace,
        ctx.v("clusterDomain").to_go_text()
    );
    let port = ctx.v("redis.sentinel.port").to_go_text();
    let mut url = String::from("redis://");
    // `redis.password` whenever set, as the chart; else the password of the Redis Secret, so a
    // generated one reaches st2 too.
    let password = match ctx.v("redis.password").non_empty() {
        Some(password) => Some(password.to_go_string()),
        None => backends::redis::secret_password(ctx),
    };
    if let Some(password) = &password {
        url.push_str(&format!(":{password}@"));
    }
    for i in 0..text::go_int(ctx.v("redis.cluster.slaveCount").value()) {
        let node = format!("{full}-node-{i}.{full}-headless.{domain}:{port}");
        if i == 0 {
            url.push_str(&format!(
                "{node}?sentinel={}",
                ctx.v("redis.sentinel.masterSet").to_go_text()
            ));
        } else {
            url.push_str(&format!("&sentinel_fallback={node}"));
        }
    }
    Ok(Redis {
        url,
        password: password.is_some(),
    })
}

/// The st2 coordination URL and whether it holds a password.
struct Redis {
    url: String,
    password: bool,
}

/// `amqp://<user>:<password>@<rabbitmq>:5672<vhost>`; the vhost is `rabbitmq.ingress.path`, the
/// password the RabbitMQ Secret's (generated when `rabbitmq.auth.password` is empty).
fn amqp_url(ctx: &Ctx) -> Result<String> {
    let user = text::required(
        ctx.v("rabbitmq.auth.username").value(),
        "rabbitmq.auth.username is required!",
    )?;
    let password = backends::rabbitmq::password(ctx)?;
    let vhost = text::required(
        ctx.v("rabbitmq.ingress.path").value(),
        "rabbitmq.ingress.path is required!",
    )?;
    Ok(format!(
        "amqp://{user}:{password}@{}:5672{vhost}",
        meta::subchart_fullname(ctx, "rabbitmq")
    ))
}

/// The `[database]` section, its credentials apart: a replica set is reached through every
/// member's headless-Service name (with `replicaSet=`), a standalone server through its Service.
fn database(ctx: &Ctx) -> Result<(Database, Option<DatabaseAuth>)> {
    let full = meta::subchart_fullname(ctx, "mongodb");
    let domain = format!(
        "{}.svc.{}",
        ctx.release.namespace,
        ctx.v("clusterDomain").to_go_text()
    );
    let replica_set = (ctx.v("mongodb.architecture").to_go_text() == "replicaset")
        .then(|| ctx.v("mongodb.replicaSetName").to_go_text());
    let hosts = match replica_set {
        Some(_) => (0..text::go_int(ctx.v("mongodb.replicaCount").value()))
            .map(|i| format!("{full}-{i}.{full}-headless.{domain}"))
            .collect::<Vec<_>>()
            .join(","),
        None => format!("{full}.{domain}"),
    };
    let (host, db_name, auth) = if ctx.v("mongodb.auth.enabled").truthy() {
        let db = text::required(
            ctx.v("mongodb.auth.database").value(),
            "mongodb.auth.database is required!",
        )?;
        let auth = DatabaseAuth {
            username: text::required(
                ctx.v("mongodb.auth.username").value(),
                "mongodb.auth.username is required!",
            )?,
            password: backends::mongodb::user_password(ctx)?,
        };
        let rs = replica_set
            .map(|rs| format!("&replicaSet={rs}"))
            .unwrap_or_default();
        (
            format!("mongodb://{hosts}/{db}?authSource={db}{rs}"),
            Some(db),
            Some(auth),
        )
    } else {
        let rs = replica_set
            .map(|rs| format!("?replicaSet={rs}"))
            .unwrap_or_default();
        (format!("mongodb://{hosts}/{rs}"), None, None)
    };
    let database = Database {
        host,
        db_name,
        port: ctx.v("mongodb.service.port").to_go_text(),
    };
    Ok((database, auth))
}

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use base64::Engine;

    use super::*;
    use crate::render::test_support::{body, with_ctx};

    /// A file of ConfigMap `st2-st2-config` (`st2.docker.conf`, `st2.user.conf`) or, for
    /// `st2.credentials.conf`, of Secret `st2-st2-credentials`, decoded.
    fn conf(values: &str, key: &str) -> Result<String> {
        with_ctx(values, |ctx| {
            let objects = objects(ctx)?;
            if key == volumes::CREDENTIALS_FILE {
                let secret = body(&objects, "Secret", "st2-st2-credentials")?;
                let encoded = secret["data"][key].as_str().unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD.decode(encoded)?;
                return Ok(String::from_utf8(bytes)?);
            }
            let config = body(&objects, "ConfigMap", "st2-st2-config")?;
            Ok(config["data"][key].as_str().unwrap_or_default().to_string())
        })
    }

    fn credentials(values: &str) -> Result<String> {
        conf(values, volumes::CREDENTIALS_FILE)
    }

    /// The options of section `[name]` of a config file.
    fn section_of(text: &str, name: &str) -> Vec<String> {
        text.lines()
            .skip_while(|l| *l != format!("[{name}]"))
            .skip(1)
            .take_while(|l| !l.starts_with('['))
            .map(String::from)
            .collect()
    }

    /// Section `[name]` of `st2.docker.conf`.
    fn section(values: &str, name: &str) -> Result<Vec<String>> {
        Ok(section_of(&conf(values, "st2.docker.conf")?, name))
    }

    /// Section `[name]` of `st2.credentials.conf`.
    fn secret_section(values: &str, name: &str) -> Result<Vec<String>> {
        Ok(section_of(&credentials(values)?, name))
    }

    #[test]
    fn default_docker_conf() -> Result<()> {
        let nodes = |i: i32| format!("st2-mongodb-{i}.st2-mongodb-headless.ns.svc.cluster.local");
        let want = format!(
            "[auth]\napi_url = http://st2-st2api:9101/\n[system_user]\nuser = stanley\nssh_key_file = /home/stanley/.ssh/stanley_rsa\n\
             [coordination]\nurl = redis://st2-redis-node-0.st2-redis-headless.ns.svc.cluster.local:26379?sentinel=mymaster\
             &sentinel_fallback=st2-redis-node-1.st2-redis-headless.ns.svc.cluster.local:26379\
             &sentinel_fallback=st2-redis-node-2.st2-redis-headless.ns.svc.cluster.local:26379\n\
             [database]\nhost = mongodb://{},{},{}/st2?authSource=st2&replicaSet=rs0\ndb_name = st2\nport = 27017\n\
             [keyvalue]\nencryption_key_path = /etc/st2/keys/datastore_key.json\n",
            nodes(0),
            nodes(1),
            nodes(2)
        );
        assert_eq!(conf("{}", "st2.docker.conf")?, want);
        assert_eq!(
            credentials("{}")?,
            "[messaging]\nurl = amqp://admin:9jS+w1u07NbHtZke1m+jW4Cj@st2-rabbitmq:5672/\n\
             [database]\nusername = st2-admin\npassword = XeL5Rxwj7F0Wt43tFZVTN7H8Sg5XDHmK\n"
        );
        Ok(())
    }

    #[test]
    fn credentials_secret_is_an_opaque_st2_secret() -> Result<()> {
        with_ctx("{}", |ctx| {
            let objects = objects(ctx)?;
            let secret = body(&objects, "Secret", "st2-st2-credentials")?;
            assert_eq!(secret["type"], "Opaque");
            assert_eq!(
                secret["metadata"]["labels"]["app.kubernetes.io/name"],
                "st2"
            );
            assert_eq!(
                secret["metadata"]["annotations"]["description"],
                "StackStorm config options holding the backends' credentials, read after st2.docker.conf"
            );
            Ok(())
        })
    }

    #[test]
    fn mongodb_hosts_follow_architecture_and_auth() -> Result<()> {
        for (values, want, want_secret) in [
            (
                "mongodb: {replicaCount: 2, replicaSetName: rs9, auth: {enabled: false}}",
                vec![
                    "host = mongodb://st2-mongodb-0.st2-mongodb-headless.ns.svc.cluster.local,\
                     st2-mongodb-1.st2-mongodb-headless.ns.svc.cluster.local/?replicaSet=rs9",
                    "port = 27017",
                ],
                vec![],
            ),
            (
                "clusterDomain: k8s.internal\nmongodb: {architecture: standalone, auth: {username: u, password: p, database: db}}",
                vec![
                    "host = mongodb://st2-mongodb.ns.svc.k8s.internal/db?authSource=db",
                    "db_name = db",
                    "port = 27017",
                ],
                vec!["username = u", "password = p"],
            ),
            (
                "mongodb: {architecture: standalone, auth: {enabled: false}}",
                vec![
                    "host = mongodb://st2-mongodb.ns.svc.cluster.local/",
                    "port = 27017",
                ],
                vec![],
            ),
            (
                "mongodb: {fullnameOverride: docs, replicaCount: 1}",
                vec![
                    "host = mongodb://docs-0.docs-headless.ns.svc.cluster.local/st2?authSource=st2&replicaSet=rs0",
                    "db_name = st2",
                    "port = 27017",
                ],
                vec![
                    "username = st2-admin",
                    "password = XeL5Rxwj7F0Wt43tFZVTN7H8Sg5XDHmK",
                ],
            ),
        ] {
            assert_eq!(section(values, "database")?, want, "{values}");
            assert_eq!(secret_section(values, "database")?, want_secret, "{values}");
        }
        Ok(())
    }

    #[test]
    fn redis_and_rabbitmq_urls() -> Result<()> {
        // With a password the Redis URL is a credential: it lives in the Secret only.
        let with_password =
            "redis: {password: pw, cluster: {slaveCount: 1}, sentinel: {port: 1234, masterSet: m}}";
        assert_eq!(
            secret_section(with_password, "coordination")?,
            [
                "url = redis://:pw@st2-redis-node-0.st2-redis-headless.ns.svc.cluster.local:1234?sentinel=m"
            ]
        );
        assert_eq!(
            section(with_password, "coordination")?,
            Vec::<String>::new()
        );
        let without = "redis: {nameOverride: cache, cluster: {slaveCount: 2}}";
        assert_eq!(
            section(without, "coordination")?,
            [
                "url = redis://st2-cache-node-0.st2-cache-headless.ns.svc.cluster.local:26379?sentinel=mymaster\
              &sentinel_fallback=st2-cache-node-1.st2-cache-headless.ns.svc.cluster.local:26379"
            ]
        );
        assert_eq!(
            secret_section(without, "coordination")?,
            Vec::<String>::new()
        );
        let rabbitmq = "rabbitmq: {fullnameOverride: mq, auth: {username: u, password: p}, ingress: {path: /vh}}";
        assert_eq!(
            secret_section(rabbitmq, "messaging")?,
            ["url = amqp://u:p@mq:5672/vh"]
        );
        assert_eq!(section(rabbitmq, "messaging")?, Vec::<String>::new());
        Ok(())
    }

    #[test]
    fn optional_sections() -> Result<()> {
        let bare =
            "mongodb: {enabled: false}\nrabbitmq: {enabled: false}\nredis: {enabled: false}\n";
        let text = conf(bare, "st2.docker.conf")?;
        let headers: Vec<&str> = text.lines().filter(|l| l.starts_with('[')).collect();
        assert_eq!(headers, ["[auth]", "[system_user]", "[keyvalue]"]);
        // Without bundled backends there is no credential, and the file st2 reads is empty.
        assert_eq!(credentials(bare)?, "");
        let text = conf(
            &format!("{bare}st2: {{datastore_crypto_key: disable, rbac: {{enabled: true}}}}"),
            "st2.docker.conf",
        )?;
        assert!(text.ends_with("[system_user]\nuser = stanley\nssh_key_file = /home/stanley/.ssh/stanley_rsa\n[rbac]\nenable = True\nbackend = default\n"));
        Ok(())
    }

    #[test]
    fn chart_checks_fail_with_its_messages() {
        for (values, message) in [
            (
                "redis: {sentinel: {enabled: false}}",
                "value for redis.sentinel.enabled MUST be true",
            ),
            (
                "rabbitmq: {auth: {username: ''}}",
                "rabbitmq.auth.username is required!",
            ),
            (
                "rabbitmq: {auth: {password: null, existingPasswordSecret: mine}}",
                "rabbitmq.auth.password is required! `rabbitmq.auth.existingPasswordSecret` is set, \
                 so st2k8s cannot generate it: set the password that Secret holds",
            ),
            (
                "rabbitmq: {ingress: {path: ''}}",
                "rabbitmq.ingress.path is required!",
            ),
            (
                "mongodb: {auth: {database: null}}",
                "mongodb.auth.database is required!",
            ),
            (
                "mongodb: {auth: {username: ''}}",
                "mongodb.auth.username is required!",
            ),
            (
                "mongodb: {auth: {password: '', existingSecret: mine}}",
                "mongodb.auth.password is required! `mongodb.auth.existingSecret` is set, so st2k8s \
                 cannot generate it: set the password that Secret holds",
            ),
        ] {
            let err = conf(values, "st2.docker.conf").err().map(|e| e.to_string());
            assert_eq!(err.as_deref(), Some(message), "{values}");
        }
    }

    /// The `password` of a `scheme://user:password@` or `redis://:password@` URL line.
    fn url_password(line: &str) -> &str {
        let credentials = line.split("://").nth(1).and_then(|r| r.split('@').next());
        credentials
            .and_then(|c| c.split(':').nth(1))
            .unwrap_or_default()
    }

    #[test]
    fn empty_backend_passwords_are_generated() -> Result<()> {
        let values = "mongodb: {auth: {password: ''}}\nrabbitmq: {auth: {password: null}}\n\
                      redis: {usePassword: true, password: ''}";
        let text = credentials(values)?;
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_default()
                .to_string()
        };
        let alphanumeric = |s: &str| s.len() == 10 && s.bytes().all(|b| b.is_ascii_alphanumeric());
        let mongo = line("password = ");
        let mongo = mongo.trim_start_matches("password = ");
        assert!(alphanumeric(mongo), "{mongo}");
        let amqp = line("url = amqp://");
        assert!(alphanumeric(url_password(&amqp)), "{amqp}");
        let redis = line("url = redis://");
        assert!(alphanumeric(url_password(&redis)), "{redis}");
        // None of them is in the ConfigMap.
        let docker = conf(values, "st2.docker.conf")?;
        for password in [mongo, url_password(&amqp), url_password(&redis)] {
            assert!(!docker.contains(password), "{password} in {docker}");
        }
        // Without `usePassword` Redis has no password and st2 connects without one, as before.
        let plain = conf("redis: {password: ''}", "st2.docker.conf")?;
        assert!(plain.contains("url = redis://st2-redis-node-0."), "{plain}");
        Ok(())
    }

    #[test]
    fn user_conf_is_templated_and_ends_with_one_newline() -> Result<()> {
        let values = "st2:\n  config: |\n    [api]\n    allow_origin = '{{ .Release.Name }}'\n\n\n";
        assert_eq!(
            conf(values, "st2.user.conf")?,
            "[api]\nallow_origin = 'st2'\n"
        );
        assert_eq!(conf("st2: {config: '[log]'}", "st2.user.conf")?, "[log]\n");
        assert_eq!(conf("st2: {config: ''}", "st2.user.conf")?, "");
        Ok(())
    }

    /// st2k8s generates the same st2.docker.conf and st2.credentials.conf for StackStorm 3.8 and
    /// 3.9: every option it can write (no `[database]` TLS options; the bundled MongoDB has no
    /// TLS) means the same in both.
    #[test]
    fn docker_conf_is_valid_for_both_versions() -> Result<()> {
        use crate::render::st2::conf_check::check;
        use crate::render::st2::version::Version;
        let everything = "st2: {rbac: {enabled: true}}\nredis: {password: pw}\nmongodb: {architecture: standalone}\n";
        let v39_values = format!("{everything}image: {{tag: 3.9.0}}\n");
        let v38 = conf(everything, "st2.docker.conf")?;
        let v39 = conf(&v39_values, "st2.docker.conf")?;
        assert_eq!(v38, v39);
        let secret38 = credentials(everything)?;
        assert_eq!(secret38, credentials(&v39_values)?);
        let headers = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with('['))
                .map(String::from)
                .collect()
        };
        assert_eq!(
            headers(&v38),
            [
                "[auth]",
                "[system_user]",
                "[database]",
                "[keyvalue]",
                "[rbac]"
            ]
        );
        assert_eq!(
            headers(&secret38),
            ["[coordination]", "[messaging]", "[database]"]
        );
        for version in [Version::V3_8, Version::V3_9] {
            assert_eq!(check(&v38, version), [], "{version:?}");
            assert_eq!(check(&secret38, version), [], "{version:?}");
            assert_eq!(
                check(&conf("{}", "st2.user.conf")?, version),
                [],
                "{version:?}"
            );
        }
        Ok(())
    }
}
