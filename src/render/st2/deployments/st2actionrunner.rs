//! `<release>-st2actionrunner`: runs actions. Unlike the other services it honours a full image
//! override, its own security contexts, `envFromSecrets`, `hostAliases`, the SSH key for remote
//! actions, and always installs that key with its post-start script.

use anyhow::Result;
use k8s_openapi::api::core::v1::Container;

use super::{own_image, own_pull_policy};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::pod::containers::{
    component_security_context, env, post_start_lifecycle, st2_command, urls_and_secrets,
    wait_for_backends,
};
use crate::render::pod::convert::{resources_at, typed_if_set};
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{InitContainers, PodPlan, checksums, count};
use crate::render::st2::packs::{self, Access};
use crate::values::Value;

pub fn deployment(ctx: &Ctx) -> Result<Vec<Object>> {
    let key = "st2actionrunner";
    let settings = ctx.v(key);

    let mut plan = PodPlan::component(ctx, key)?;
    plan.checksums.push(checksums::config(ctx));
    plan.checksums.push(checksums::ssh(ctx));
    plan.checksums.extend(checksums::datastore_key(ctx));
    plan.hash_post_start_script(settings.key("postStartScript").value());
    plan.host_aliases = typed_if_set(
        ctx,
        settings.key("hostAliases").value(),
        "st2actionrunner.hostAliases",
    )?;
    // The chart only renders the runner's own pull secret next to `image.pullSecret`; st2k8s
    // always lists it, after the pack images' secrets, as the chart means to.
    plan.pull_secrets = packs::pull_secrets(ctx);
    plan.pull_secrets.extend(
        settings
            .at("image.pullSecret")
            .non_empty()
            .map(Value::to_go_string),
    );
    let init = wait_for_backends(ctx)?;
    plan.share_inits(init.len(), packs::deployment_init_containers(ctx)?);
    plan.init_containers = InitContainers::Listed(init);
    plan.termination_grace_period_seconds = Some(count(
        settings.key("terminationGracePeriodSeconds").value(),
        300,
        "st2actionrunner.terminationGracePeriodSeconds",
    )?);

    let datastore = volumes::datastore_key(ctx);
    let pod = Piece::join_led_by(
        &datastore,
        &[
            &volumes::config(ctx),
            &volumes::ssh_key(ctx)?,
            &datastore,
            &packs::volumes(ctx, Access::Deployment)?,
            &packs::configs_if_shared(ctx)?,
            &volumes::extra(ctx, settings.key("extra_volumes").value(), key)?,
            // The post-start script installs the SSH key, so it always runs here.
            &volumes::post_start(ctx, key, true),
        ],
    );
    plan.volumes = pod.volumes;

    plan.containers = vec![Container {
        name: key.into(),
        image: Some(own_image(ctx, key, "st2actionrunner")?),
        image_pull_policy: own_pull_policy(ctx, key),
        security_context: component_security_context(ctx, key)?,
        command: Some(st2_command(ctx, key)),
        env: env(settings.key("env").value()),
        env_from: Some(urls_and_secrets(
            ctx,
            settings.key("envFromSecrets").value(),
        )),
        volume_mounts: Some(pod.mounts),
        lifecycle: Some(post_start_lifecycle(None)),
        resources: resources_at(ctx, &settings.key("resources"))?,
        ..Default::default()
    }];
    let replicas = count(
        settings.key("replicas").value(),
        5,
        "st2actionrunner.replicas",
    )?;
    super::scaled(ctx, plan, key, replicas)
}
