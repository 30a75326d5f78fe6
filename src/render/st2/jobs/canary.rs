//! `<release>-job-ensure-packs-volumes-are-writable` (iff `st2.packs.volumes.enabled`): before
//! anything else is applied, checks that the shared pack volumes accept writes, since every st2
//! pod relies on seeing packs installed by any other.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::Container;

use super::hook_annotations;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::pod::containers::global_security_context;
use crate::render::pod::volumes::Piece;
use crate::render::pod::{InitContainers, PodPlan};
use crate::render::st2::packs::{self, Access};

/// The check: write and remove a probe file in each shared directory; on failure explain what
/// the volumes need. (st2k8s's own script; `dirs` are the directories below /opt/stackstorm.)
fn script(dirs: &[&str]) -> String {
    format!(
        r#"echo "Checking that the st2.packs.volumes directories are writable."
for dir in {dirs}; do
  probe="/opt/stackstorm/${{dir}}/.st2k8s-write-check"
  if ! touch "$probe" || ! rm -f "$probe"; then
    echo "ERROR: /opt/stackstorm/${{dir}} is not writable from this pod."
    echo "The volumes in st2.packs.volumes must be shared read-write (access mode ReadWriteMany)"
    echo "so that packs installed by one st2actionrunner are visible in every st2 pod."
    echo "Fix the volume, then delete this Job's pod."
    exit 1
  fi
  echo "/opt/stackstorm/${{dir}} is writable."
done
echo DONE
"#,
        dirs = dirs.join(" ")
    )
}

pub fn job(ctx: &Ctx) -> Result<Option<Object>> {
    if !packs::shared_volumes(ctx) {
        return Ok(None);
    }
    let packs_piece = packs::volumes(ctx, Access::Job)?;
    let configs = packs::shared_configs_volume(ctx)?;
    let mut dirs = vec!["packs", "virtualenvs"];
    if !configs.volumes.is_empty() {
        dirs.push("configs");
    }
    let mut plan = PodPlan::job_pod(
        ctx,
        "st2canary",
        "job-st2canary-for-writable-packs-volumes".into(),
    )?;
    plan.restart_policy = Some("Never".into());
    plan.init_containers = InitContainers::EmptyList;
    let pod = Piece::join(&[&packs_piece, &configs]);
    plan.volumes = pod.volumes;
    plan.containers = vec![Container {
        name: "st2canary-for-writable-packs-volumes".into(),
        // The check only needs a shell: the plain st2actionrunner image of `image.tag`.
        image: Some(images::st2(ctx, "st2actionrunner", &[])?),
        image_pull_policy: images::pull_policy(ctx),
        security_context: global_security_context(ctx)?,
        command: Some(vec!["bash".into(), "-ec".into(), script(&dirs)]),
        volume_mounts: Some(pod.mounts),
        ..Default::default()
    }];
    let annotations: BTreeMap<String, String> = hook_annotations(
        ctx,
        "pre-install, pre-upgrade, pre-rollback".into(),
        "-5".into(),
        "hook-succeeded",
    );
    Ok(Some(plan.job(
        ctx,
        ctx.name("job-ensure-packs-volumes-are-writable"),
        annotations,
    )?))
}
