//! Packs plumbing shared by st2api, sensors, st2actionrunner, st2client and the content Jobs:
//! the packs/virtualenvs volumes, the pack configs volume, the init containers copying packs out
//! of `st2.packs.images`, and their pull secrets.

use std::sync::Arc;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{Container, VolumeMount};
use sha1::{Digest, Sha1};

use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::kit::{config_map_volume, empty_dir, mount, mount_ro};
use crate::render::pod::containers::{runner_security_context, security_context};
use crate::render::pod::convert::chain;
use crate::render::pod::volumes::{Piece, user_volume};
use crate::render::pod::{SharedInits, container_json, global_pull_secret};
use crate::values::Value;

/// Whether `st2.packs.images` is set: pack images are copied into emptyDir volumes.
pub fn images_set(ctx: &Ctx) -> bool {
    ctx.v("st2.packs.images").truthy()
}

/// Whether `st2.packs.volumes.enabled`: packs live on user-supplied shared volumes.
pub fn shared_volumes(ctx: &Ctx) -> bool {
    ctx.v("st2.packs.volumes.enabled").truthy()
}

/// Pack init containers run in the pods themselves only with images and no shared volumes;
/// with shared volumes the register-content Job fills them once.
pub fn copy_in_pods(ctx: &Ctx) -> bool {
    images_set(ctx) && !shared_volumes(ctx)
}

/// The chart's render-time checks on `st2.packs`: the renamed `st2.packs.image` and shared
/// volumes without both `packs` and `virtualenvs` fail with the chart's messages.
pub fn check(ctx: &Ctx) -> Result<()> {
    if ctx.v("st2.packs.image").truthy() {
        bail!("Value st2.packs.image was renamed to st2.packs.images and is now a list of images");
    }
    if shared_volumes(ctx)
        && !(ctx.v("st2.packs.volumes.packs").truthy()
            && ctx.v("st2.packs.volumes.virtualenvs").truthy())
    {
        bail!(
            "Volume definition(s) missing! When st2.packs.volumes.enabled, you must define volumes for both packs and virtualenvs."
        );
    }
    Ok(())
}

/// Who mounts the packs volumes: the content Jobs always write to them; Deployments only when
/// they are shared volumes (copies from images are read-only there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Deployment,
    Job,
}

/// Packs and virtualenvs, from the user's shared volumes or as emptyDirs the image copies land
/// in; Deployments mount the emptyDirs read-only, Jobs (which fill them) read-write.
pub fn volumes(ctx: &Ctx, access: Access) -> Result<Piece> {
    let read_only = access == Access::Deployment && !shared_volumes(ctx);
    let mounts = vec![
        mount_ro("st2-packs-vol", "/opt/stackstorm/packs", read_only),
        mount_ro(
            "st2-virtualenvs-vol",
            "/opt/stackstorm/virtualenvs",
            read_only,
        ),
    ];
    if shared_volumes(ctx) {
        Ok(Piece {
            mounts,
            volumes: vec![
                user_volume(
                    ctx,
                    "st2-packs-vol",
                    ctx.v("st2.packs.volumes.packs").value(),
                    "st2.packs.volumes.packs",
                )?,
                user_volume(
                    ctx,
                    "st2-virtualenvs-vol",
                    ctx.v("st2.packs.volumes.virtualenvs").value(),
                    "st2.packs.volumes.virtualenvs",
                )?,
            ],
        })
    } else if images_set(ctx) {
        Ok(Piece {
            mounts,
            volumes: vec![
                empty_dir("st2-packs-vol", false),
                empty_dir("st2-virtualenvs-vol", false),
            ],
        })
    } else {
        Ok(Piece::default())
    }
}

/// Pack configs from values are copied into a shared configs volume (instead of mounting the
/// ConfigMap) when there is one.
fn configs_copied(ctx: &Ctx) -> bool {
    shared_volumes(ctx) && ctx.v("st2.packs.volumes.configs").truthy()
}

/// The mount of the pack configs directory.
fn configs_mount() -> VolumeMount {
    mount_ro("st2-pack-configs-vol", "/opt/stackstorm/configs/", false)
}

/// Pack configs, from the `<release>-st2-pack-configs` ConfigMap, or from the
/// shared configs volume with the ConfigMap mounted beside it for the copy.
pub fn configs(ctx: &Ctx) -> Result<Piece> {
    if !configs_copied(ctx) {
        return Ok(Piece::one(
            configs_mount(),
            config_map_volume("st2-pack-configs-vol", ctx.name("st2-pack-configs")),
        ));
    }
    let mut piece = Piece::one(
        configs_mount(),
        user_volume(
            ctx,
            "st2-pack-configs-vol",
            ctx.v("st2.packs.volumes.configs").value(),
            "st2.packs.volumes.configs",
        )?,
    );
    if ctx.v("st2.packs.configs").truthy() {
        piece.mounts.push(mount(
            "st2-pack-configs-from-helm-vol",
            "/opt/stackstorm/configs-helm/",
        ));
        piece.volumes.push(config_map_volume(
            "st2-pack-configs-from-helm-vol",
            ctx.name("st2-pack-configs"),
        ));
    }
    Ok(piece)
}

/// Pack configs only for Deployments that mount them with shared volumes (st2api, st2actionrunner).
pub fn configs_if_shared(ctx: &Ctx) -> Result<Piece> {
    if shared_volumes(ctx) {
        configs(ctx)
    } else {
        Ok(Piece::default())
    }
}

/// The shared configs volume alone (iff `st2.packs.volumes.configs`), for the writability check.
///
/// The chart mounts `st2-pack-configs-vol` there even without that volume, which the API server
/// rejects (the volume is not found); st2k8s leaves the mount out.
pub fn shared_configs_volume(ctx: &Ctx) -> Result<Piece> {
    let source = ctx.v("st2.packs.volumes.configs");
    if !source.truthy() {
        return Ok(Piece::default());
    }
    Ok(Piece::one(
        configs_mount(),
        user_volume(
            ctx,
            "st2-pack-configs-vol",
            source.value(),
            "st2.packs.volumes.configs",
        )?,
    ))
}

/// The copy command of a packs image: its packs and virtualenvs into the shared volumes.
const COPY_PACKS: &str = "/bin/cp -aR /opt/stackstorm/packs/. /opt/stackstorm/packs-shared &&\n/bin/cp -aR /opt/stackstorm/virtualenvs/. /opt/stackstorm/virtualenvs-shared\n";

/// Mounts of the shared packs volumes where copy containers write.
fn copy_mounts() -> Vec<VolumeMount> {
    vec![
        mount("st2-packs-vol", "/opt/stackstorm/packs-shared"),
        mount("st2-virtualenvs-vol", "/opt/stackstorm/virtualenvs-shared"),
    ]
}

/// Go's `%s` of a value, as `printf "%s-%s"` prints it: non-strings print as `%!s(type=value)`
/// (numbers from values files are float64 in Helm; YAML 1.1 reads `name: n` as `false`).
fn printf_s(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".into(),
        Value::Bool(b) => format!("%!s(bool={b})"),
        Value::Int(_) | Value::Float(_) => format!("%!s(float64={})", value.to_go_string()),
        other => other.to_go_string(),
    }
}

/// [`copy_containers`], the same in every pod: built and converted once per render.
pub fn init_containers(ctx: &Ctx) -> Result<SharedInits> {
    if let Some(built) = ctx.shared.pack_inits.get() {
        return Ok(Arc::clone(built));
    }
    let json = copy_containers(ctx)?
        .iter()
        .map(container_json)
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::clone(
        ctx.shared.pack_inits.get_or_init(|| Arc::new(json)),
    ))
}

/// The pack copy init containers: one per pack image, the system packs of the
/// st2actionrunner image, and the copy of pack configs into the shared configs volume.
fn copy_containers(ctx: &Ctx) -> Result<Vec<Container>> {
    let images = ctx.v("st2.packs.images").as_list();
    let mut out = Vec::with_capacity(images.len() + 2);
    let runner_chain = chain(ctx, &["st2actionrunner.securityContext"]);
    let mounts = copy_mounts();
    let command: Vec<String> = vec!["sh".into(), "-ec".into(), COPY_PACKS.into()];
    for (i, img) in images.iter().enumerate() {
        let id = format!(
            "{}-{}",
            printf_s(img.key("repository")),
            printf_s(img.key("name"))
        );
        let hash = crate::hex::hex(&Sha1::digest(id.as_bytes()));
        let own = (
            img.key("securityContext"),
            format!("st2.packs.images[{i}].securityContext"),
        );
        let mut sc_chain = Vec::with_capacity(runner_chain.len() + 2);
        sc_chain.push(own);
        sc_chain.extend(runner_chain.iter().cloned());
        out.push(Container {
            name: format!("st2-custom-pack-{hash}"),
            image: Some(format!(
                "{}/{}:{}",
                img.key("repository").to_go_text(),
                img.key("name").to_go_text(),
                img.key("tag").to_go_text()
            )),
            // Used as given: a missing pullPolicy stays null, as in the chart.
            image_pull_policy: img.key("pullPolicy").non_empty().map(Value::to_go_string),
            volume_mounts: Some(mounts.clone()),
            command: Some(command.clone()),
            security_context: security_context(ctx, sc_chain)?,
            ..Default::default()
        });
    }
    let system_image = || images::st2_of(ctx, "st2actionrunner", "st2actionrunner");
    if images_set(ctx) || shared_volumes(ctx) {
        out.push(Container {
            name: "st2-system-packs".into(),
            image: Some(system_image()?),
            image_pull_policy: images::pull_policy(ctx),
            volume_mounts: Some(mounts),
            command: Some(command),
            security_context: runner_security_context(ctx)?,
            ..Default::default()
        });
    }
    if ctx.v("st2.packs.configs").truthy() && configs_copied(ctx) {
        out.push(Container {
            name: "st2-pack-configs-from-helm".into(),
            image: Some(system_image()?),
            image_pull_policy: images::pull_policy(ctx),
            volume_mounts: Some(vec![
                mount("st2-pack-configs-vol", "/opt/stackstorm/configs-shared"),
                mount("st2-pack-configs-from-helm-vol", "/opt/stackstorm/configs"),
            ]),
            command: Some(vec![
                "sh".into(),
                "-ec".into(),
                "/bin/cp -aR /opt/stackstorm/configs/. /opt/stackstorm/configs-shared\n".into(),
            ]),
            security_context: runner_security_context(ctx)?,
            ..Default::default()
        });
    }
    Ok(out)
}

/// [`init_containers`] for a Deployment: only when packs are copied into each pod.
pub fn deployment_init_containers(ctx: &Ctx) -> Result<SharedInits> {
    if copy_in_pods(ctx) {
        init_containers(ctx)
    } else {
        Ok(SharedInits::default())
    }
}

/// `imagePullSecrets` of pods that pull pack images: `image.pullSecret`, then each pack image's
/// `pullSecret`. (The chart emits the pack items outside any list and fails to render; this is
/// what its templates mean to produce.)
pub fn pull_secrets(ctx: &Ctx) -> Vec<String> {
    let mut secrets = global_pull_secret(ctx);
    secrets.extend(
        ctx.v("st2.packs.images")
            .as_list()
            .iter()
            .filter_map(|img| img.key("pullSecret").non_empty().map(Value::to_go_string)),
    );
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::with_release;

    #[test]
    fn pull_secrets_list_global_then_pack_images() {
        let yaml = "image: {pullSecret: reg}\nst2: {packs: {images: [{name: a, pullSecret: one}, {name: b}, {name: c, pullSecret: two}]}}\n";
        assert_eq!(with_release("r", yaml, pull_secrets), ["reg", "one", "two"]);
        assert_eq!(
            with_release(
                "r",
                "st2: {packs: {images: [{name: a, pullSecret: one}]}}\n",
                pull_secrets
            ),
            ["one"]
        );
        assert!(with_release("r", "{}", pull_secrets).is_empty());
    }

    #[test]
    fn pack_image_init_container_is_named_by_sha1_of_repository_and_name() -> Result<()> {
        let inits = with_release(
            "r",
            "st2: {packs: {images: [{repository: reg/x, name: packs, tag: '1'}]}}\n",
            copy_containers,
        )?;
        let names: Vec<&str> = inits.iter().map(|c| c.name.as_str()).collect();
        // sha1("reg/x-packs")
        assert_eq!(
            names,
            [
                "st2-custom-pack-08401dee3718a16e642768bbe95eb27e2e5d16fe",
                "st2-system-packs"
            ]
        );
        assert_eq!(
            inits.first().and_then(|c| c.image.as_deref()),
            Some("reg/x/packs:1")
        );
        // No pullPolicy given: the chart prints null.
        assert_eq!(
            inits.first().and_then(|c| c.image_pull_policy.as_deref()),
            None
        );
        Ok(())
    }

    #[test]
    fn pack_names_hash_go_printf_of_non_strings() -> Result<()> {
        // `name: n` is YAML 1.1 `false`: Go prints `r-%!s(bool=false)` (hash checked against Helm).
        let yaml = "st2: {packs: {images: [{repository: r, name: n, tag: t}]}}\n";
        let first = with_release("r", yaml, copy_containers)?.into_iter().next();
        assert_eq!(
            first.map(|c| (c.name, c.image)),
            Some((
                "st2-custom-pack-f6df0c3de70863f32f733e6a0096da34ccf341e0".to_string(),
                Some("r/false:t".to_string())
            ))
        );
        assert_eq!(printf_s(&Value::Int(5)), "%!s(float64=5)");
        assert_eq!(printf_s(&Value::Null), "%!s(<nil>)");
        Ok(())
    }
}
