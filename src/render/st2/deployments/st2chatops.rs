//! `<release>-st2chatops` (iff `st2chatops.enabled`): hubot with the st2 adapter. Its `env`
//! values go to the `<release>-st2chatops` Secret, read here through `envFrom`; the st2 admin
//! credentials are added unless the user supplies `ST2_API_KEY`.

use anyhow::Result;
use k8s_openapi::api::core::v1::{Container, ContainerPort, Probe, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{own_image, own_pull_policy};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::kit::mount;
use crate::render::pod::containers::{
    component_security_context, post_start_lifecycle, secret_ref, urls,
};
use crate::render::pod::convert::resources_at;
use crate::render::pod::volumes::{self, Piece, user_volume};
use crate::render::pod::{PodPlan, checksums};

/// hubot's HTTP port.
const PORT: i32 = 8081;

/// A TCP probe of hubot's port.
fn tcp_probe(initial_delay: i32, period: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::Int(PORT),
            ..Default::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        ..Default::default()
    }
}

pub fn deployment(ctx: &Ctx) -> Result<Vec<Object>> {
    let settings = ctx.v("st2chatops");
    let script = settings.key("postStartScript");
    let post_start = script.truthy();

    let mut plan = PodPlan::component(ctx, "st2chatops")?;
    plan.checksums.push(checksums::chatops(ctx));
    plan.hash_post_start_script(script.value());

    let scripts_source = settings.key("hubotScriptsVolume");
    let scripts = if scripts_source.truthy() {
        Piece::one(
            mount(
                "st2-chatops-hubot-scripts-vol",
                "/opt/stackstorm/chatops/scripts",
            ),
            user_volume(
                ctx,
                "st2-chatops-hubot-scripts-vol",
                scripts_source.value(),
                "st2chatops.hubotScriptsVolume",
            )?,
        )
    } else {
        Piece::default()
    };
    let post = volumes::post_start(ctx, "st2chatops", post_start);
    let pod = Piece::join(&[&scripts, &post]);
    plan.volumes = pod.volumes;

    let mut env_from = vec![urls(ctx)];
    if !has_key(settings.key("env").value(), "ST2_API_KEY") {
        env_from.push(secret_ref(volumes::auth_secret(ctx)));
    }
    env_from.push(secret_ref(ctx.name("st2chatops")));
    plan.containers = vec![Container {
        name: "st2chatops".into(),
        image: Some(own_image(ctx, "st2chatops", "st2chatops")?),
        image_pull_policy: own_pull_policy(ctx, "st2chatops"),
        security_context: component_security_context(ctx, "st2chatops")?,
        env_from: Some(env_from),
        ports: Some(vec![ContainerPort {
            container_port: PORT,
            ..Default::default()
        }]),
        readiness_probe: Some(tcp_probe(3, 10)),
        liveness_probe: Some(tcp_probe(10, 30)),
        resources: resources_at(ctx, &settings.key("resources"))?,
        volume_mounts: Some(pod.mounts),
        lifecycle: post_start.then(|| post_start_lifecycle(None)),
        ..Default::default()
    }];
    super::scaled(ctx, plan, "st2chatops", 1)
}

/// `hasKey`: the map has the key, whatever its value.
fn has_key(map: &crate::values::Value, key: &str) -> bool {
    map.as_map().is_some_and(|m| m.contains_key(key))
}
