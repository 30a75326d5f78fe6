//! RabbitMQ identity and credentials: ServiceAccount, the endpoint-reader Role and RoleBinding
//! (peer discovery reads Endpoints), Secret `<fullname>` (password, Erlang cookie), the TLS
//! Secret `<fullname>-certs`, `extraSecrets`, and the Ingress TLS Secrets of `ingress.secrets`.
//!
//! Generated values come from the release's secret generator; explicit values always win.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ObjectReference, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::{CHART_NAME, Rabbit};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::meta;
use crate::values::Value;

/// Lengths of the values the chart generates when none is given (`randAlphaNum`).
const PASSWORD_LEN: usize = 10;
const ERLANG_COOKIE_LEN: usize = 32;

/// Data key of the password in Secret `<fullname>`.
pub(super) const PASSWORD_KEY: &str = "rabbitmq-password";

/// Data key of the Erlang cookie in Secret `<fullname>`.
pub(super) const ERLANG_COOKIE_KEY: &str = "rabbitmq-erlang-cookie";

/// The st2 user's password (`rabbitmq.auth.password`) as everything that uses it sees it: Secret
/// `<fullname>` (the server's `RABBITMQ_PASSWORD`), the parent's definitions Secret and its st2.conf
/// connection URL. When empty it is generated for Secret `<fullname>` key `rabbitmq-password` (from the
/// seed when there is one), and all three get the same value. The chart instead fails
/// (`required`) on an empty password, so its published default stays the only working choice.
/// With `auth.existingPasswordSecret` the server reads a Secret st2k8s does not know, so the
/// password must be given.
pub fn password(ctx: &Ctx) -> Result<String> {
    let given = ctx.v("rabbitmq.auth.password");
    if given.non_empty().is_none() && ctx.v("rabbitmq.auth.existingPasswordSecret").truthy() {
        bail!(
            "rabbitmq.auth.password is required! `rabbitmq.auth.existingPasswordSecret` is set, so \
             st2k8s cannot generate it: set the password that Secret holds"
        );
    }
    let fullname = meta::subchart_fullname(ctx, CHART_NAME);
    Ok(ctx
        .secrets
        .given_or_alphanumeric(given.value(), &fullname, PASSWORD_KEY, PASSWORD_LEN))
}

/// The identity and credential objects; `rbac` is false for a flavor whose peer discovery
/// reads nothing from the Kubernetes API (no Role, no RoleBinding).
pub(super) fn objects(rabbit: &Rabbit, rbac: bool) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if rabbit.v("serviceAccount.create").truthy() {
        out.push(service_account(rabbit)?);
    }
    if rbac && rabbit.v("rbac.create").truthy() {
        out.push(role(rabbit)?);
        if rabbit.v("serviceAccount.create").truthy() {
            out.push(role_binding(rabbit)?);
        }
    }
    if rabbit.owns_secret() {
        out.push(credentials(rabbit)?);
    }
    if rabbit.v("auth.tls.enabled").truthy() && !rabbit.v("auth.tls.existingSecret").truthy() {
        out.push(certificates(rabbit)?);
    }
    for (name, data) in rabbit.v("extraSecrets").entries() {
        out.push(extra_secret(rabbit, name, data)?);
    }
    if rabbit.v("ingress.enabled").truthy() {
        for (i, entry) in rabbit.v("ingress.secrets").as_list().iter().enumerate() {
            out.push(ingress_tls_secret(rabbit, i, entry)?);
        }
    }
    Ok(out)
}

fn service_account(rabbit: &Rabbit) -> Result<Object> {
    Object::new(&ServiceAccount {
        metadata: rabbit.meta(rabbit.service_account_name()),
        secrets: Some(vec![ObjectReference {
            name: Some(rabbit.fullname.clone()),
            ..Default::default()
        }]),
        ..Default::default()
    })
}

/// The Role's name, shared with the RoleBinding.
fn endpoint_reader(rabbit: &Rabbit) -> String {
    rabbit.name("endpoint-reader")
}

fn role(rabbit: &Rabbit) -> Result<Object> {
    let rule = |resource: &str, verb: &str| PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(vec![resource.to_string()]),
        verbs: vec![verb.to_string()],
        ..Default::default()
    };
    Object::new(&Role {
        metadata: rabbit.meta(endpoint_reader(rabbit)),
        rules: Some(vec![rule("endpoints", "get"), rule("events", "create")]),
    })
}

fn role_binding(rabbit: &Rabbit) -> Result<Object> {
    Object::new(&RoleBinding {
        metadata: rabbit.meta(endpoint_reader(rabbit)),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: endpoint_reader(rabbit),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: rabbit.service_account_name(),
            ..Default::default()
        }]),
    })
}

/// Secret `<fullname>`: `rabbitmq-password` ([`password`]) and `rabbitmq-erlang-cookie`, each unless
/// an existing Secret provides it.
fn credentials(rabbit: &Rabbit) -> Result<Object> {
    let name = rabbit.fullname.clone();
    let mut data = BTreeMap::new();
    if !rabbit.v("auth.existingPasswordSecret").truthy() {
        let password = password(rabbit.ctx)?;
        data.insert(PASSWORD_KEY.to_string(), ByteString(password.into_bytes()));
    }
    if !rabbit.v("auth.existingErlangSecret").truthy() {
        let key = ERLANG_COOKIE_KEY;
        let cookie = rabbit.ctx.secrets.given_or_alphanumeric(
            rabbit.v("auth.erlangCookie").value(),
            &name,
            key,
            ERLANG_COOKIE_LEN,
        );
        data.insert(key.to_string(), ByteString(cookie.into_bytes()));
    }
    Object::new(&Secret {
        metadata: rabbit.meta(name.clone()),
        type_: Some("Opaque".into()),
        data: Some(data),
        ..Default::default()
    })
}

/// Secret `<fullname>-certs` (`kubernetes.io/tls`) from the PEM values under `auth.tls`.
fn certificates(rabbit: &Rabbit) -> Result<Object> {
    let mut data = BTreeMap::new();
    for (key, path) in [
        ("ca.crt", "auth.tls.caCertificate"),
        ("tls.crt", "auth.tls.serverCertificate"),
        ("tls.key", "auth.tls.serverKey"),
    ] {
        let Some(value) = rabbit.v(path).non_empty() else {
            bail!(
                "`rabbitmq.{path}` is required when `rabbitmq.auth.tls.enabled` (or set `rabbitmq.auth.tls.existingSecret`)"
            );
        };
        data.insert(
            key.to_string(),
            ByteString(value.to_go_string().into_bytes()),
        );
    }
    Object::new(&Secret {
        metadata: rabbit.meta(rabbit.name("certs")),
        type_: Some("kubernetes.io/tls".into()),
        data: Some(data),
        ..Default::default()
    })
}

/// One `extraSecrets` entry: a Secret named by its key, its map as `stringData`.
fn extra_secret(rabbit: &Rabbit, name: &str, data: &Value) -> Result<Object> {
    let string_data = data
        .entries()
        .map(|(k, v)| (k.clone(), v.to_go_string()))
        .collect();
    Object::new(&Secret {
        metadata: rabbit.meta(name.to_string()),
        type_: Some("Opaque".into()),
        string_data: Some(string_data),
        ..Default::default()
    })
}

/// One `ingress.secrets` entry (`name`, `certificate`, `key`) as a TLS Secret. The chart's
/// template for these cannot render (it reads the release from the list item); this is what
/// it means to produce.
fn ingress_tls_secret(rabbit: &Rabbit, i: usize, entry: &Value) -> Result<Object> {
    let field = |key: &str| -> Result<String> {
        match entry.key(key).non_empty() {
            Some(v) => Ok(v.to_go_string()),
            None => bail!("`rabbitmq.ingress.secrets[{i}]` needs a `{key}`"),
        }
    };
    let data = BTreeMap::from([
        (
            "tls.crt".to_string(),
            ByteString(field("certificate")?.into_bytes()),
        ),
        (
            "tls.key".to_string(),
            ByteString(field("key")?.into_bytes()),
        ),
    ]);
    Object::new(&Secret {
        metadata: rabbit.meta(field("name")?),
        type_: Some("kubernetes.io/tls".into()),
        data: Some(data),
        ..Default::default()
    })
}
