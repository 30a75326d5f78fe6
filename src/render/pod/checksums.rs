//! The checksum annotations of st2 pods: each names the objects whose rendered text it hashes,
//! so a change to them rolls the pods. Conditional ones return `None` when the chart leaves them
//! out.

use super::Checksum;
use super::volumes::{credentials_secret, datastore_key_rendered};
use crate::render::ctx::Ctx;

fn one(key: &'static str, kind: &'static str, name: String) -> Checksum {
    (key, vec![(kind, name)])
}

/// `checksum/config`: the st2.conf overrides ConfigMap and the credentials Secret that
/// completes it, so a changed backend password rolls the pods too.
pub fn config(ctx: &Ctx) -> Checksum {
    (
        "checksum/config",
        vec![
            ("ConfigMap", ctx.name("st2-config")),
            ("Secret", credentials_secret(ctx)),
        ],
    )
}

/// st2web's `checksum/config`: its config.js ConfigMap.
pub fn web_config(ctx: &Ctx) -> Checksum {
    one("checksum/config", "ConfigMap", ctx.name("st2web-config"))
}

/// `checksum/auth`, iff st2k8s renders the auth Secret (no `st2.existingAuthSecret`).
pub fn auth(ctx: &Ctx) -> Option<Checksum> {
    (!ctx.v("st2.existingAuthSecret").truthy())
        .then(|| one("checksum/auth", "Secret", ctx.name("st2-auth")))
}

/// `checksum/datastore-key`, iff st2k8s renders the datastore key Secret.
pub fn datastore_key(ctx: &Ctx) -> Option<Checksum> {
    datastore_key_rendered(ctx).then(|| {
        one(
            "checksum/datastore-key",
            "Secret",
            ctx.name("st2-datastore-crypto-key"),
        )
    })
}

/// `checksum/ssh`: the SSH key Secret.
pub fn ssh(ctx: &Ctx) -> Checksum {
    one("checksum/ssh", "Secret", ctx.name("st2-ssh"))
}

/// `checksum/packs`: the pack configs ConfigMap.
pub fn packs(ctx: &Ctx) -> Checksum {
    one("checksum/packs", "ConfigMap", ctx.name("st2-pack-configs"))
}

/// `checksum/rbac`: the three RBAC ConfigMaps (absent ones hash as nothing).
pub fn rbac(ctx: &Ctx) -> Checksum {
    let names = ["roles", "assignments", "mappings"];
    (
        "checksum/rbac",
        names
            .iter()
            .map(|k| ("ConfigMap", ctx.name(&format!("st2-rbac-{k}"))))
            .collect(),
    )
}

/// `checksum/overrides`, iff `st2.overrides` is set.
pub fn overrides(ctx: &Ctx) -> Option<Checksum> {
    ctx.v("st2.overrides").truthy().then(|| {
        one(
            "checksum/overrides",
            "ConfigMap",
            ctx.name("st2-overrides-configs"),
        )
    })
}

/// `checksum/urls`: the service URLs ConfigMap.
pub fn urls(ctx: &Ctx) -> Checksum {
    one("checksum/urls", "ConfigMap", ctx.name("st2-urls"))
}

/// `checksum/apikeys`: the API keys Secret.
pub fn apikeys(ctx: &Ctx) -> Checksum {
    one("checksum/apikeys", "Secret", ctx.name("st2-apikeys"))
}

/// `checksum/chatops`: the chatops environment Secret.
pub fn chatops(ctx: &Ctx) -> Checksum {
    one("checksum/chatops", "Secret", ctx.name("st2chatops"))
}
