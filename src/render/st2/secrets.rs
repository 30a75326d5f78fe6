//! The parent chart's Secrets: datastore crypto key, RabbitMQ definitions, SSH key, API keys,
//! auth credentials, chatops environment, key/value pairs. Explicit values always win;
//! generated ones come from [`crate::secrets`].
//!
//! Also the chart's guard against the legacy `secrets.st2.*` keys, which fails the render,
//! including the `secrets.st2.password` key the chart misses because its template checks a
//! misspelt `pasword`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde::Serialize;

use super::configmaps::datastore_encryption_on;
use super::text;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::{backends, meta};
use crate::values::{Value, to_go_yaml};

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    check_legacy_keys(ctx)?;
    let mut out = Vec::new();
    if datastore_encryption_on(ctx) && !ctx.v("st2.existingDatastoreSecret").truthy() {
        let name = ctx.name("st2-datastore-crypto-key");
        let key = match ctx.v("st2.datastore_crypto_key").non_empty() {
            Some(explicit) => explicit.to_go_string(),
            None => ctx.secrets.datastore_key(&name, "datastore_crypto_key"),
        };
        out.push(secret(
            ctx,
            name,
            "st2",
            "StackStorm crypto key used to encrypt/decrypt KV records",
            [("datastore_crypto_key", key)],
        )?);
    }
    if ctx.v("rabbitmq.enabled").truthy() {
        let official = backends::Flavor::of(ctx, "rabbitmq")? == backends::Flavor::Official;
        let description = if official {
            "A rabbitmq definition which will be loaded by RabbitMQ at start: the st2 user, and quorum queues for Rabbit HA"
        } else {
            "A rabbitmq definition which will be loaded by the rabbitmq subchart to enable mirroring for Rabbit HA"
        };
        out.push(secret(
            ctx,
            ctx.name("rabbitmq-definitions"),
            "st2",
            description,
            [(
                "rabbitmq-definitions.json",
                rabbitmq_definitions(ctx, official)?,
            )],
        )?);
    }
    let ssh_name = ctx.name("st2-ssh");
    let private_key = match ctx.v("st2.ssh_key").non_empty() {
        Some(explicit) => explicit.to_go_string(),
        None => ctx.secrets.ssh_private_key(&ssh_name, "private_key")?,
    };
    out.push(secret(
        ctx,
        ssh_name,
        "st2",
        "StackStorm SSH secret key for 'stanley' user, used to run actions on remote machines",
        [("private_key", private_key)],
    )?);
    out.push(secret(
        ctx,
        ctx.name("st2-apikeys"),
        "st2",
        "A list of StackStorm API keys with metadata that will be imported into the system",
        [("apikeys.yaml", to_go_yaml(ctx.v("st2.apikeys").value()))],
    )?);
    if !ctx.v("st2.existingAuthSecret").truthy() {
        out.push(auth(ctx)?);
    }
    if ctx.v("st2chatops.enabled").truthy() {
        out.push(chatops(ctx)?);
    }
    // `st2.keyvalue` is serialized first and the YAML text evaluated as a template, so template
    // strings in values become single-quoted literals before they are expanded.
    let keyvalue = ctx.tpl(&to_go_yaml(ctx.v("st2.keyvalue").value()), "st2.keyvalue")?;
    out.push(secret(
        ctx,
        ctx.name("st2-kv"),
        "st2",
        "Key/Value pairs to save in StackStorm's datastore",
        [("st2kv.yaml", keyvalue)],
    )?);
    Ok(out)
}

/// The Secret holding the st2 credentials: `st2.existingAuthSecret`, else `<release>-st2-auth`.
pub fn auth_secret_name(ctx: &Ctx) -> String {
    ctx.v("st2.existingAuthSecret")
        .non_empty()
        .map_or_else(|| ctx.name("st2-auth"), Value::to_go_text)
}

/// Values moved from `secrets.st2.*` to `st2.*` in chart 0.x; the chart refuses to render them.
fn check_legacy_keys(ctx: &Ctx) -> Result<()> {
    let legacy = |key: &str| ctx.v("secrets.st2").key(key).truthy();
    if legacy("datastore_crypto_key") {
        bail!(
            "Please update your values! The datastore_crypto_key value moved from secrets.st2.* to st2.*"
        );
    }
    if legacy("ssh_key") {
        bail!("Please update your values! The ssh_key value moved from secrets.st2.* to st2.*");
    }
    if legacy("username") || legacy("password") {
        bail!(
            "Please update your values! Values for username and password moved from secrets.st2.* to st2.*"
        );
    }
    Ok(())
}

/// `<release>-st2-auth`: the st2 admin credentials; a password is generated unless given.
fn auth(ctx: &Ctx) -> Result<Object> {
    let name = auth_secret_name(ctx);
    let username = text::required(
        ctx.v("st2.username").value(),
        "A valid secret 'st2.username' is required for StackStorm auth!",
    )?;
    let password = match ctx.v("st2.password").non_empty() {
        Some(explicit) => explicit.to_go_string(),
        None => ctx.secrets.alphanumeric(&name, "ST2_AUTH_PASSWORD", 12),
    };
    secret(
        ctx,
        name,
        "st2",
        "StackStorm username and password, used for basic .htaccess auth",
        [
            ("ST2_AUTH_USERNAME", username),
            ("ST2_AUTH_PASSWORD", password),
        ],
    )
}

/// `<release>-st2chatops`: every `st2chatops.env` entry, its value printed and evaluated with
/// `tpl`.
fn chatops(ctx: &Ctx) -> Result<Object> {
    let env = ctx.v("st2chatops.env");
    let data = env
        .entries()
        .map(|(key, value)| {
            Ok((
                key.clone(),
                ctx.tpl(&value.to_go_string(), &format!("st2chatops.env.{key}"))?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut object = secret(
        ctx,
        ctx.name("st2chatops"),
        "st2chatops",
        "Custom StackStorm chatops config, passed to hubot as ENV vars",
        data,
    )?;
    // An empty `env` leaves `data:` without entries, i.e. null.
    if env.entries().next().is_none() {
        object.set_null("data");
    }
    Ok(object)
}

/// The user and permissions RabbitMQ loads at boot, with HA mirroring for every queue; the
/// password is the RabbitMQ Secret's (generated when `rabbitmq.auth.password` is empty).
///
/// RabbitMQ 4 (`rabbitmq.flavor: official`) has no mirroring and refuses its `ha-*` policy keys;
/// its definitions make `quorum` the vhost's default queue type instead, so that st2's durable
/// queues are replicated (see the official RabbitMQ builder).
fn rabbitmq_definitions(ctx: &Ctx, official: bool) -> Result<String> {
    #[derive(Serialize)]
    struct Definitions {
        user: String,
        password: String,
        vhost: String,
    }
    // The chart quotes as Go does, which is JSON only for printable text; the official
    // flavor's definitions are JSON strings whatever the values hold.
    let quote = |text: &str| {
        if official {
            serde_json::Value::from(text).to_string()
        } else {
            text::go_quote(text)
        }
    };
    let quoted = |path: &str| quote(&ctx.v(path).to_go_text());
    crate::templates::render(
        if official {
            "rabbitmq/official/definitions.json"
        } else {
            "st2/rabbitmq-definitions.json"
        },
        Definitions {
            user: quoted("rabbitmq.auth.username"),
            password: quote(&backends::rabbitmq::password(ctx)?),
            vhost: quoted("rabbitmq.ingress.path"),
        },
    )
}

/// An Opaque parent-chart Secret of component `n` with the chart's description.
pub(super) fn secret<K: Into<String>>(
    ctx: &Ctx,
    name: String,
    n: &str,
    description: &str,
    data: impl IntoIterator<Item = (K, String)>,
) -> Result<Object> {
    let data: BTreeMap<String, ByteString> = data
        .into_iter()
        .map(|(k, v)| (k.into(), ByteString(v.into_bytes())))
        .collect();
    Object::new(&Secret {
        metadata: meta::described_meta(ctx, name, n, description)?,
        type_: Some("Opaque".into()),
        data: Some(data),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use anyhow::Result;

    use super::*;
    use crate::render::test_support::{body, names, with_ctx};

    /// A Secret's data entry, decoded.
    fn data(values: &str, name: &str, key: &str) -> Result<String> {
        with_ctx(values, |ctx| {
            let objects = objects(ctx)?;
            let secret = body(&objects, "Secret", name)?;
            let encoded = secret["data"][key].as_str().unwrap_or_default();
            use base64::Engine;
            Ok(String::from_utf8(
                base64::engine::general_purpose::STANDARD.decode(encoded)?,
            )?)
        })
    }

    #[test]
    fn default_secrets() -> Result<()> {
        with_ctx("{}", |ctx| -> Result<()> {
            let objects = objects(ctx)?;
            assert_eq!(
                names(&objects, "Secret"),
                [
                    "st2-rabbitmq-definitions",
                    "st2-st2-apikeys",
                    "st2-st2-auth",
                    "st2-st2-datastore-crypto-key",
                    "st2-st2-kv",
                    "st2-st2-ssh"
                ]
            );
            assert_eq!(body(&objects, "Secret", "st2-st2-ssh")?["type"], "Opaque");
            Ok(())
        })?;
        assert_eq!(data("{}", "st2-st2-auth", "ST2_AUTH_USERNAME")?, "st2admin");
        assert_eq!(data("{}", "st2-st2-auth", "ST2_AUTH_PASSWORD")?.len(), 12);
        assert_eq!(data("{}", "st2-st2-apikeys", "apikeys.yaml")?, "null");
        assert_eq!(data("{}", "st2-st2-kv", "st2kv.yaml")?, "null");
        Ok(())
    }

    #[test]
    fn explicit_values_win() -> Result<()> {
        let values = "st2: {password: s3cret, ssh_key: KEY, datastore_crypto_key: '{\"k\": 1}'}";
        assert_eq!(data(values, "st2-st2-auth", "ST2_AUTH_PASSWORD")?, "s3cret");
        assert_eq!(data(values, "st2-st2-ssh", "private_key")?, "KEY");
        assert_eq!(
            data(
                values,
                "st2-st2-datastore-crypto-key",
                "datastore_crypto_key"
            )?,
            "{\"k\": 1}"
        );
        Ok(())
    }

    #[test]
    fn existing_or_disabled_secrets_are_not_rendered() -> Result<()> {
        for (values, absent) in [
            ("st2: {existingAuthSecret: mine}", "st2-st2-auth"),
            (
                "st2: {existingDatastoreSecret: mine}",
                "st2-st2-datastore-crypto-key",
            ),
            (
                "st2: {datastore_crypto_key: disable}",
                "st2-st2-datastore-crypto-key",
            ),
            ("rabbitmq: {enabled: false}", "st2-rabbitmq-definitions"),
        ] {
            with_ctx(values, |ctx| -> Result<()> {
                assert!(
                    !names(&objects(ctx)?, "Secret").contains(&absent.to_string()),
                    "{values}"
                );
                Ok(())
            })?;
        }
        Ok(())
    }

    #[test]
    fn keyvalue_templates_are_evaluated_after_serializing() -> Result<()> {
        let values = "st2:\n  keyvalue:\n    - {name: release, value: '{{ .Release.Name }}'}\n    - {name: v, value: '3.8'}\n";
        assert_eq!(
            data(values, "st2-st2-kv", "st2kv.yaml")?,
            "- name: release\n  value: 'st2'\n- name: v\n  value: \"3.8\""
        );
        let values = "st2:\n  apikeys:\n    - {user: ci, created_at: '2018-12-15T00:21:48.507388Z', metadata: {comment: x}}\n";
        assert_eq!(
            data(values, "st2-st2-apikeys", "apikeys.yaml")?,
            "- created_at: \"2018-12-15T00:21:48.507388Z\"\n  metadata:\n    comment: x\n  user: ci"
        );
        Ok(())
    }

    #[test]
    fn chatops_env_is_printed_and_templated() -> Result<()> {
        let values = "st2chatops: {enabled: true, env: {HUBOT_NAME: '{{ .Release.Name }}bot', EXPRESS_PORT: 8081}}";
        assert_eq!(data(values, "st2-st2chatops", "HUBOT_NAME")?, "st2bot");
        assert_eq!(data(values, "st2-st2chatops", "EXPRESS_PORT")?, "8081");
        with_ctx("st2chatops: {enabled: true, env: null}", |ctx| {
            let objects = objects(ctx)?;
            let secret = body(&objects, "Secret", "st2-st2chatops")?;
            assert!(secret["data"].is_null());
            assert_eq!(
                secret["metadata"]["labels"]["app.kubernetes.io/name"],
                "st2chatops"
            );
            Ok(())
        })
    }

    #[test]
    fn rabbitmq_definitions_quote_credentials() -> Result<()> {
        let text = data(
            "rabbitmq: {auth: {username: u, password: 'p\"w'}}",
            "st2-rabbitmq-definitions",
            "rabbitmq-definitions.json",
        )?;
        assert!(
            text.contains("\"name\": \"u\",\n      \"password\": \"p\\\"w\",\n"),
            "{text}"
        );
        assert!(
            text.contains("\"vhost\": \"/\",") && text.ends_with("}\n"),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn official_rabbitmq_definitions_make_quorum_the_default_queue_type() -> Result<()> {
        let yaml = "rabbitmq: {flavor: official, auth: {password: 'p\"w'}}";
        let text = data(
            yaml,
            "st2-rabbitmq-definitions",
            "rabbitmq-definitions.json",
        )?;
        let parsed: serde_json::Value = serde_json::from_str(&text)?;
        assert_eq!(
            parsed,
            serde_json::json!({
                "users": [{"name": "admin", "password": "p\"w", "tags": "administrator"}],
                "permissions": [{"user": "admin", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}],
                "vhosts": [{"name": "/", "metadata": {
                    "description": "StackStorm: durable queues are replicated quorum queues",
                    "default_queue_type": "quorum"
                }}],
                "policies": [{
                    "vhost": "/",
                    "name": "st2-watch-queues-expire",
                    "pattern": "\\.(sensor|trigger)\\.watch\\.",
                    "apply-to": "queues",
                    "priority": 0,
                    "definition": {"expires": 3600000},
                }],
            })
        );
        // The bitnami flavor keeps the chart's mirroring policy.
        let chart = data(
            "{}",
            "st2-rabbitmq-definitions",
            "rabbitmq-definitions.json",
        )?;
        assert!(chart.contains("\"ha-mode\":\"all\""), "{chart}");
        Ok(())
    }

    #[test]
    fn legacy_and_required_values_fail() {
        for (values, message) in [
            (
                "secrets: {st2: {datastore_crypto_key: x}}",
                "Please update your values! The datastore_crypto_key value moved from secrets.st2.* to st2.*",
            ),
            (
                "secrets: {st2: {ssh_key: x}}",
                "Please update your values! The ssh_key value moved from secrets.st2.* to st2.*",
            ),
            (
                "secrets: {st2: {password: x}}",
                "Please update your values! Values for username and password moved from secrets.st2.* to st2.*",
            ),
            (
                "st2: {username: ''}",
                "A valid secret 'st2.username' is required for StackStorm auth!",
            ),
        ] {
            let err = with_ctx(values, objects).err().map(|e| e.to_string());
            assert_eq!(err.as_deref(), Some(message), "{values}");
        }
    }
}
