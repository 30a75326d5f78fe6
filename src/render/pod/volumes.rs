//! Volume fragments: each [`Piece`] is one block the chart's templates repeat across pods — the
//! pod volumes it needs and the main container's mounts of them. Components list their pieces
//! once, in the chart's order, and [`Piece::join`] them into the container's mounts and the pod's
//! volumes. The single mounts and volumes come from [`crate::render::kit`], shared with the
//! backends.

use anyhow::Result;
use k8s_openapi::api::core::v1::{KeyToPath, Volume, VolumeMount};

use super::convert::{required, tpl_tree, typed};
use crate::render::ctx::Ctx;
use crate::render::kit::{
    config_map_volume, empty_dir, mount, mount_file, mount_ro, secret_volume,
};
use crate::values::{Map, Value};

/// The mounts and volumes one fragment contributes.
#[derive(Debug, Clone, Default)]
pub struct Piece {
    pub mounts: Vec<VolumeMount>,
    pub volumes: Vec<Volume>,
}

impl Piece {
    /// A fragment of one volume mounted once.
    pub fn one(mount: VolumeMount, volume: Volume) -> Self {
        Self {
            mounts: vec![mount],
            volumes: vec![volume],
        }
    }

    /// The pieces together, mounts and volumes each in the order given.
    pub fn join(pieces: &[&Piece]) -> Self {
        Self {
            mounts: pieces
                .iter()
                .flat_map(|p| p.mounts.iter().cloned())
                .collect(),
            volumes: pieces
                .iter()
                .flat_map(|p| p.volumes.iter().cloned())
                .collect(),
        }
    }

    /// [`Piece::join`], except that `lead` (one of `pieces`) has its volumes listed first: most
    /// chart templates list the datastore key volume before the others, whatever the mount order.
    pub fn join_led_by(lead: &Piece, pieces: &[&Piece]) -> Self {
        let rest = pieces.iter().filter(|p| !std::ptr::eq(**p, lead));
        Self {
            mounts: Self::join(pieces).mounts,
            volumes: lead
                .volumes
                .iter()
                .cloned()
                .chain(rest.flat_map(|p| p.volumes.iter().cloned()))
                .collect(),
        }
    }
}

/// A volume `{name} ∪ source`: a user-supplied volume source map (packs volumes, hubot scripts).
pub fn user_volume(ctx: &Ctx, name: &str, source: &Value, key: &str) -> Result<Volume> {
    let mut map = source.as_map().cloned().unwrap_or_default();
    map.insert("name".into(), Value::String(name.into()));
    typed(ctx, &Value::Map(map), key)
}

/// `st2.existingConfigSecret`, when set.
fn config_secret(ctx: &Ctx) -> Option<String> {
    ctx.v("st2.existingConfigSecret")
        .non_empty()
        .map(Value::to_go_string)
}

/// The volume of the st2 configuration files: every pod that reads st2.conf has it.
pub const CONFIG_VOLUME: &str = "st2-config-vol";

/// Key (and file name) of the st2 credentials file in [`credentials_secret`].
pub const CREDENTIALS_FILE: &str = "st2.credentials.conf";

/// `<release>-st2-credentials`: the st2 config options that hold the backends' credentials,
/// kept out of the `<release>-st2-config` ConfigMap.
pub fn credentials_secret(ctx: &Ctx) -> String {
    ctx.name("st2-credentials")
}

/// The st2 configuration files: st2.docker.conf and st2.user.conf from `<release>-st2-config`,
/// st2.credentials.conf from [`credentials_secret`], plus st2.secrets.conf from
/// `st2.existingConfigSecret`.
pub fn config(ctx: &Ctx) -> Piece {
    let mut piece = Piece {
        mounts: vec![
            mount_file(CONFIG_VOLUME, "/etc/st2/st2.docker.conf", "st2.docker.conf"),
            mount_file(
                "st2-credentials-vol",
                &format!("/etc/st2/{CREDENTIALS_FILE}"),
                CREDENTIALS_FILE,
            ),
            mount_file(CONFIG_VOLUME, "/etc/st2/st2.user.conf", "st2.user.conf"),
        ],
        volumes: vec![
            config_map_volume(CONFIG_VOLUME, ctx.name("st2-config")),
            secret_volume("st2-credentials-vol", credentials_secret(ctx), None),
        ],
    };
    if let Some(secret) = config_secret(ctx) {
        piece.mounts.push(mount_file(
            "st2-config-secrets-vol",
            "/etc/st2/st2.secrets.conf",
            "st2.secrets.conf",
        ));
        piece
            .volumes
            .push(secret_volume("st2-config-secrets-vol", secret, None));
    }
    piece
}

/// The `--config-file` arguments matching [`config`], the image's own st2.conf first. st2 reads
/// them in order and later files win: the credentials right after st2.docker.conf, whose
/// options they complete, so the user's st2.user.conf and `st2.existingConfigSecret` (last)
/// override both.
pub fn config_args(ctx: &Ctx) -> Vec<String> {
    let mut files = vec![
        "st2.conf",
        "st2.docker.conf",
        CREDENTIALS_FILE,
        "st2.user.conf",
    ];
    if config_secret(ctx).is_some() {
        files.push("st2.secrets.conf");
    }
    files
        .iter()
        .map(|f| format!("--config-file=/etc/st2/{f}"))
        .collect()
}

/// Whether st2 encrypts its datastore: unless `st2.datastore_crypto_key` is `disable`.
pub fn datastore_key_on(ctx: &Ctx) -> bool {
    ctx.v("st2.datastore_crypto_key").to_go_string() != "disable"
}

/// Whether the chart renders the datastore key Secret (and pods hash it): encryption is on and
/// no `st2.existingDatastoreSecret` is given.
pub fn datastore_key_rendered(ctx: &Ctx) -> bool {
    datastore_key_on(ctx) && !ctx.v("st2.existingDatastoreSecret").truthy()
}

/// The Secret holding the datastore key: `st2.existingDatastoreSecret`, else
/// `<release>-st2-datastore-crypto-key`.
pub fn datastore_secret(ctx: &Ctx) -> String {
    ctx.v("st2.existingDatastoreSecret")
        .non_empty()
        .map_or_else(|| ctx.name("st2-datastore-crypto-key"), Value::to_go_string)
}

/// The Secret holding the st2 admin credentials: `st2.existingAuthSecret`, else
/// `<release>-st2-auth`.
pub fn auth_secret(ctx: &Ctx) -> String {
    ctx.v("st2.existingAuthSecret")
        .non_empty()
        .map_or_else(|| ctx.name("st2-auth"), Value::to_go_string)
}

/// The datastore key at /etc/st2/keys/datastore_key.json, iff [`datastore_key_on`].
pub fn datastore_key(ctx: &Ctx) -> Piece {
    if !datastore_key_on(ctx) {
        return Piece::default();
    }
    let items = vec![KeyToPath {
        key: "datastore_crypto_key".into(),
        path: "datastore_key.json".into(),
        mode: None,
    }];
    Piece::one(
        mount_ro("st2-encryption-key-vol", "/etc/st2/keys", true),
        secret_volume("st2-encryption-key-vol", datastore_secret(ctx), Some(items)),
    )
}

/// The private key from `<release>-st2-ssh`, mounted next to the user's `.ssh` directory so the
/// post-start script can copy it into place with the right owner (a Secret volume can set a
/// file's mode but not its owner).
pub fn ssh_key(ctx: &Ctx) -> Result<Piece> {
    let paths = crate::render::pod::ssh_key::paths(ctx)?;
    let items = vec![KeyToPath {
        key: "private_key".into(),
        path: paths.base.clone(),
        mode: Some(256),
    }];
    Ok(Piece::one(
        mount("st2-ssh-key-vol", &paths.volume_mount_path()),
        secret_volume("st2-ssh-key-vol", ctx.name("st2-ssh"), Some(items)),
    ))
}

/// The `st2.overrides` ConfigMap at /opt/stackstorm/overrides (iff `st2.overrides` is set).
pub fn overrides(ctx: &Ctx) -> Piece {
    if !ctx.v("st2.overrides").truthy() {
        return Piece::default();
    }
    Piece::one(
        mount("st2-overrides-vol", "/opt/stackstorm/overrides"),
        config_map_volume("st2-overrides-vol", ctx.name("st2-overrides-configs")),
    )
}

/// The three RBAC ConfigMaps (roles, assignments, mappings) under /opt/stackstorm/rbac/.
pub fn rbac(ctx: &Ctx) -> Piece {
    let kinds = ["roles", "assignments", "mappings"];
    Piece {
        mounts: kinds
            .iter()
            .map(|k| {
                mount(
                    &format!("st2-rbac-{k}-vol"),
                    &format!("/opt/stackstorm/rbac/{k}/"),
                )
            })
            .collect(),
        volumes: kinds
            .iter()
            .map(|k| {
                config_map_volume(
                    &format!("st2-rbac-{k}-vol"),
                    ctx.name(&format!("st2-rbac-{k}")),
                )
            })
            .collect(),
    }
}

/// Name of the in-memory volume holding the generated st2 CLI config.
pub const CLIENT_CONFIG_VOL: &str = "st2client-config-vol";

/// Where that volume is mounted: the st2 CLI's config directory, written by
/// `generate-st2client-config`.
pub const CLIENT_CONFIG_DIR: &str = "/root/.st2/";

/// The st2 CLI config directory (`/root/.st2/`), written by `generate-st2client-config`.
pub fn client_config() -> Piece {
    Piece::one(
        mount(CLIENT_CONFIG_VOL, CLIENT_CONFIG_DIR),
        empty_dir(CLIENT_CONFIG_VOL, true),
    )
}

/// The user's `<key>.extra_volumes` (`list`): each entry's `mount` and `volume`, evaluated as
/// templates, with its `name` added. `label` is how the chart's messages name the list.
pub fn extra(ctx: &Ctx, list: &Value, label: &str) -> Result<Piece> {
    let mut piece = Piece::default();
    for (i, entry) in list.as_list().iter().enumerate() {
        let name = required(entry.key("name"), || {
            format!("Each volume must have a 'name' in {label}.extra_volumes")
        })?;
        let mount = required(entry.key("mount"), || {
            format!("Each volume must have a 'mount' definition in {label}.extra_volumes")
        })?;
        let volume = required(entry.key("volume"), || {
            format!("Each volume must have a 'volume' definition in {label}.extra_volumes")
        })?;
        let key = format!("{label}.extra_volumes[{i}]");
        piece.mounts.push(typed(
            ctx,
            &named(name, &tpl_tree(ctx, mount, &key)?),
            &format!("{key}.mount"),
        )?);
        piece.volumes.push(typed(
            ctx,
            &named(name, &tpl_tree(ctx, volume, &key)?),
            &format!("{key}.volume"),
        )?);
    }
    Ok(piece)
}

/// `{name: name} ∪ block`.
fn named(name: &Value, block: &Value) -> Value {
    let mut map = Map::new();
    map.insert("name".into(), Value::String(name.to_go_string()));
    for (k, v) in block.entries() {
        map.insert(k.clone(), v.clone());
    }
    Value::Map(map)
}

/// The component's post-start script ConfigMap at /post-start.sh, iff `on`.
pub fn post_start(ctx: &Ctx, component: &str, on: bool) -> Piece {
    if !on {
        return Piece::default();
    }
    Piece::one(
        mount_file(
            "st2-post-start-script-vol",
            "/post-start.sh",
            "post-start.sh",
        ),
        config_map_volume(
            "st2-post-start-script-vol",
            ctx.name(&format!("{component}-post-start-script")),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::with_ctx;

    /// The credentials file comes right after st2.docker.conf, which it completes, so
    /// st2.user.conf and the existing config secret (last) still override it.
    #[test]
    fn credentials_are_read_after_docker_conf_and_before_user_overrides() {
        let files = |values: &str| {
            with_ctx(values, |ctx| {
                let piece = config(ctx);
                let mounts: Vec<(String, String)> = piece
                    .mounts
                    .into_iter()
                    .map(|m| (m.name, m.mount_path))
                    .collect();
                let volumes: Vec<(String, Option<String>)> = piece
                    .volumes
                    .into_iter()
                    .map(|v| (v.name, v.secret.and_then(|s| s.secret_name)))
                    .collect();
                (config_args(ctx), mounts, volumes)
            })
        };
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        let (args, mounts, volumes) = files("{}");
        assert_eq!(
            args,
            [
                "--config-file=/etc/st2/st2.conf",
                "--config-file=/etc/st2/st2.docker.conf",
                "--config-file=/etc/st2/st2.credentials.conf",
                "--config-file=/etc/st2/st2.user.conf",
            ]
        );
        assert_eq!(
            mounts,
            [
                pair("st2-config-vol", "/etc/st2/st2.docker.conf"),
                pair("st2-credentials-vol", "/etc/st2/st2.credentials.conf"),
                pair("st2-config-vol", "/etc/st2/st2.user.conf"),
            ]
        );
        assert_eq!(
            volumes,
            [
                ("st2-config-vol".to_string(), None),
                (
                    "st2-credentials-vol".to_string(),
                    Some("st2-st2-credentials".to_string())
                ),
            ]
        );
        let (args, mounts, volumes) = files("st2: {existingConfigSecret: mine}");
        assert_eq!(
            args.iter().skip(2).collect::<Vec<_>>(),
            [
                "--config-file=/etc/st2/st2.credentials.conf",
                "--config-file=/etc/st2/st2.user.conf",
                "--config-file=/etc/st2/st2.secrets.conf",
            ]
        );
        assert_eq!(
            mounts.last(),
            Some(&pair("st2-config-secrets-vol", "/etc/st2/st2.secrets.conf"))
        );
        assert_eq!(
            volumes.last(),
            Some(&(
                "st2-config-secrets-vol".to_string(),
                Some("mine".to_string())
            ))
        );
    }

    #[test]
    fn join_led_by_moves_only_the_lead_volumes() {
        let piece = |n: &str| Piece::one(mount(n, "/x"), empty_dir(n, false));
        let (a, b, c) = (piece("a"), piece("b"), piece("c"));
        let names = |p: Piece| {
            let m: Vec<String> = p.mounts.into_iter().map(|m| m.name).collect();
            let v: Vec<String> = p.volumes.into_iter().map(|v| v.name).collect();
            (m, v)
        };
        assert_eq!(
            names(Piece::join(&[&a, &b, &c])),
            (
                vec!["a".into(), "b".into(), "c".into()],
                vec!["a".into(), "b".into(), "c".into()]
            )
        );
        assert_eq!(
            names(Piece::join_led_by(&b, &[&a, &b, &c])),
            (
                vec!["a".into(), "b".into(), "c".into()],
                vec!["b".into(), "a".into(), "c".into()]
            )
        );
    }
}
