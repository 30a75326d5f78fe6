//! `<release>-st2client`: an idle pod with the st2 CLI configured, for `kubectl exec`. It mounts
//! everything an operator may need (RBAC files, overrides, SSH and datastore keys, packs) and
//! falls back to st2actionrunner's image tag and security contexts.

use anyhow::Result;
use k8s_openapi::api::core::v1::{Container, EnvVar};

use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::pod::containers::{
    ClientConfigInit, client_config_init, entrypoint, env_vars, post_start_lifecycle,
    security_context, urls_and_secrets,
};
use crate::render::pod::convert::{chain, resources_at};
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{InitContainers, PodPlan, checksums, pod_security_context};
use crate::render::st2::packs::{self, Access};

pub fn deployment(ctx: &Ctx) -> Result<Vec<Object>> {
    let key = "st2client";
    let settings = ctx.v(key);
    let rbac_on = ctx.v("st2.rbac.enabled").truthy();
    let sc = security_context(
        ctx,
        chain(
            ctx,
            &[
                "st2client.securityContext",
                "st2actionrunner.securityContext",
            ],
        ),
    )?;

    let mut plan = PodPlan::component(ctx, key)?;
    // The chart never attaches st2client to the service account.
    plan.service_account = false;
    plan.security_context = pod_security_context(
        ctx,
        chain(
            ctx,
            &[
                "st2client.podSecurityContext",
                "st2actionrunner.podSecurityContext",
            ],
        ),
    )?;
    plan.checksums.push(checksums::config(ctx));
    plan.checksums.push(checksums::rbac(ctx));
    plan.checksums.push(checksums::packs(ctx));
    plan.checksums.extend(checksums::auth(ctx));
    plan.checksums.push(checksums::ssh(ctx));
    plan.checksums.extend(checksums::datastore_key(ctx));
    plan.checksums.extend(checksums::overrides(ctx));
    plan.hash_post_start_script(settings.key("postStartScript").value());
    plan.pull_secrets = packs::pull_secrets(ctx);

    plan.share_inits(0, packs::deployment_init_containers(ctx)?);
    let client_config = client_config_init(
        ctx,
        ClientConfigInit {
            image: images::st2_of(ctx, "st2actionrunner", "st2client")?,
            security_context: sc.clone(),
            config_path: "st2client.st2clientConfig",
            env_from_secrets: settings.key("envFromSecrets").value(),
        },
    )?;
    plan.init_containers = InitContainers::Listed(vec![client_config]);

    let datastore = volumes::datastore_key(ctx);
    let rbac = if rbac_on {
        volumes::rbac(ctx)
    } else {
        Piece::default()
    };
    let pod = Piece::join_led_by(
        &datastore,
        &[
            &volumes::config(ctx),
            &rbac,
            &volumes::overrides(ctx),
            &volumes::client_config(),
            &volumes::ssh_key(ctx)?,
            &datastore,
            &packs::volumes(ctx, Access::Deployment)?,
            &packs::configs(ctx)?,
            &volumes::extra(ctx, settings.key("extra_volumes").value(), key)?,
            // The post-start script installs the SSH key, so it always runs here.
            &volumes::post_start(ctx, key, true),
        ],
    );
    plan.volumes = pod.volumes;

    let mut env = vec![EnvVar {
        name: "ST2CLIENT".into(),
        value: Some("1".into()),
        ..Default::default()
    }];
    env.extend(env_vars(settings.key("env").value()));
    let mut command = entrypoint(ctx);
    command.extend(["bash", "-ec", "while true; do sleep 999; done"].map(String::from));
    plan.containers = vec![Container {
        name: key.into(),
        image: Some(images::st2(
            ctx,
            "st2actionrunner",
            &["st2client.image.tag"],
        )?),
        image_pull_policy: images::pull_policy(ctx),
        security_context: sc,
        env: Some(env),
        env_from: Some(urls_and_secrets(
            ctx,
            settings.key("envFromSecrets").value(),
        )),
        volume_mounts: Some(pod.mounts),
        command: Some(command),
        lifecycle: Some(post_start_lifecycle(None)),
        resources: resources_at(ctx, &settings.key("resources"))?,
        ..Default::default()
    }];
    super::scaled(ctx, plan, key, 1)
}
