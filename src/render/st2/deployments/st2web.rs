//! `<release>-st2web`: the web UI's nginx. It keeps the image's own entrypoint, waits for
//! nothing, and switches to HTTPS on 443 when `st2web.env.ST2WEB_HTTPS` is `"1"`.

use anyhow::Result;
use k8s_openapi::api::core::v1::{Container, ContainerPort, HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::kit::{config_map_volume, mount_file};
use crate::render::pod::containers::{component_security_context, env, post_start_lifecycle, urls};
use crate::render::pod::convert::resources_at;
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{PodPlan, checksums, count};

/// HTTPS mode: `toString(st2web.env.ST2WEB_HTTPS) == "1"` (also decides the Service port).
pub fn https(ctx: &Ctx) -> bool {
    ctx.v("st2web.env").key("ST2WEB_HTTPS").to_go_string() == "1"
}

pub fn deployment(ctx: &Ctx) -> Result<Vec<Object>> {
    let settings = ctx.v("st2web");
    let script = settings.key("postStartScript");
    let post_start = script.truthy();
    let (port, scheme) = if https(ctx) {
        (443, "HTTPS")
    } else {
        (80, "HTTP")
    };

    let mut plan = PodPlan::component(ctx, "st2web")?;
    plan.checksums.push(checksums::web_config(ctx));
    plan.hash_post_start_script(script.value());
    plan.termination_grace_period_seconds = Some(count(
        settings.key("terminationGracePeriodSeconds").value(),
        30,
        "st2web.terminationGracePeriodSeconds",
    )?);

    let extra = volumes::extra(ctx, settings.key("extra_volumes").value(), "st2web")?;
    let web_config = if settings.key("config").truthy() {
        Piece::one(
            mount_file(
                "st2web-config-vol",
                "/opt/stackstorm/static/webui/config.js",
                "st2web.config.js",
            ),
            config_map_volume("st2web-config-vol", ctx.name("st2web-config")),
        )
    } else {
        Piece::default()
    };
    let post = volumes::post_start(ctx, "st2web", post_start);
    let pod = Piece::join(&[&extra, &web_config, &post]);
    plan.volumes = pod.volumes;

    plan.containers = vec![Container {
        name: "st2web".into(),
        image: Some(images::st2_of(ctx, "st2web", "st2web")?),
        image_pull_policy: images::pull_policy(ctx),
        security_context: component_security_context(ctx, "st2web")?,
        ports: Some(vec![ContainerPort {
            container_port: port,
            ..Default::default()
        }]),
        liveness_probe: Some(Probe {
            http_get: Some(HTTPGetAction {
                scheme: Some(scheme.into()),
                path: Some("/".into()),
                port: IntOrString::Int(port),
                ..Default::default()
            }),
            initial_delay_seconds: Some(1),
            ..Default::default()
        }),
        env: env(settings.key("env").value()),
        env_from: Some(vec![urls(ctx)]),
        volume_mounts: Some(pod.mounts),
        lifecycle: post_start
            .then(|| post_start_lifecycle(Some(settings.key("preStopSleep").value()))),
        resources: resources_at(ctx, &settings.key("resources"))?,
        ..Default::default()
    }];
    let replicas = count(settings.key("replicas").value(), 2, "st2web.replicas")?;
    super::scaled(ctx, plan, "st2web", replicas)
}
