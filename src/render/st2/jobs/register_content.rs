//! `<release>-job-st2-register-content`: copies packs into their volumes (always, also with
//! shared volumes), runs `jobs.preRegisterContentCommand`, then registers all content.

use anyhow::Result;
use k8s_openapi::api::core::v1::Container;

use super::{SetupJob, extra, image, job_env, secrets_only};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::pod::containers::{runner_security_context, wait_for_db};
use crate::render::pod::convert::{chain, typed};
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{InitContainers, checksums, pod_security_context};
use crate::render::st2::packs::{self, Access};

pub fn job(ctx: &Ctx) -> Result<Object> {
    let job = SetupJob::new("st2-register-content", "7");
    let mut plan = job.plan(ctx, "st2-register-content")?;
    plan.checksums = vec![checksums::config(ctx), checksums::packs(ctx)];
    plan.checksums.extend(checksums::overrides(ctx));
    plan.pull_secrets = packs::pull_secrets(ctx);
    plan.security_context =
        pod_security_context(ctx, chain(ctx, &["st2actionrunner.podSecurityContext"]))?;

    let overrides = volumes::overrides(ctx);
    let config = volumes::config(ctx);
    let packs_piece = packs::volumes(ctx, Access::Job)?;
    let pack_configs = packs::configs(ctx)?;
    let extra = extra(ctx)?;
    let pod = Piece::join(&[&overrides, &config, &packs_piece, &pack_configs, &extra]);
    plan.volumes = pod.volumes;

    let sc = runner_security_context(ctx)?;
    let mut init = wait_for_db(ctx)?;
    plan.share_inits(init.len(), packs::init_containers(ctx)?);
    let custom = ctx.v("jobs.preRegisterContentCommand");
    if custom.truthy() {
        init.push(Container {
            name: "st2-register-content-custom-init".into(),
            image: Some(image(ctx)?),
            image_pull_policy: images::pull_policy(ctx),
            security_context: sc.clone(),
            command: Some(typed(
                ctx,
                custom.value(),
                "jobs.preRegisterContentCommand",
            )?),
            // The chart mounts pack configs before packs here, unlike in the main container.
            volume_mounts: Some(
                Piece::join(&[&overrides, &config, &pack_configs, &packs_piece]).mounts,
            ),
            ..Default::default()
        });
    }
    plan.init_containers = InitContainers::Listed(init);

    let mut command = vec!["st2-register-content".to_string()];
    command.extend(volumes::config_args(ctx));
    command.extend(["--register-all", "--register-fail-on-failure"].map(String::from));
    plan.containers = vec![Container {
        name: "st2-register-content".into(),
        image: Some(image(ctx)?),
        image_pull_policy: images::pull_policy(ctx),
        security_context: sc,
        command: Some(command),
        env: job_env(ctx),
        env_from: secrets_only(ctx),
        volume_mounts: Some(pod.mounts),
        ..Default::default()
    }];
    job.build(ctx, plan)
}
