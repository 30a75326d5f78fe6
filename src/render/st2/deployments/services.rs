//! The st2 python services that differ only in a few traits: st2auth, st2api, st2stream,
//! st2rulesengine, st2timersengine, st2workflowengine, st2scheduler, st2notifier and
//! st2garbagecollector. One table row per service, one builder for all.

use anyhow::Result;
use k8s_openapi::api::core::v1::{Container, ContainerPort};

use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::kit::{empty_dir, mount, mount_file_ro};
use crate::render::pod::containers::{
    component_security_context, env, post_start_lifecycle, secret_ref, st2_command, urls,
    wait_for_backends,
};
use crate::render::pod::convert::resources_at;
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{InitContainers, PodPlan, checksums, count};
use crate::render::st2::packs::{self, Access};

/// Where a service's pod lists the datastore key volume, if it uses the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatastoreKey {
    None,
    /// Volume listed first (st2api, st2scheduler).
    First,
    /// Volume listed after the st2 config (st2rulesengine, st2workflowengine).
    AfterConfig,
}

/// What sets one service apart.
#[derive(Debug)]
pub struct Service {
    /// Values key, component name and binary name.
    pub key: &'static str,
    pub port: Option<i32>,
    /// `replicas` fallback; `None` = always one pod (the chart ignores `replicas`).
    pub replicas: Option<i64>,
    /// `terminationGracePeriodSeconds` fallback, for services that set it.
    pub grace_period: Option<i64>,
    pub datastore_key: DatastoreKey,
    /// Mounts packs (and pack configs with shared volumes).
    pub packs: bool,
    /// Sleeps `preStopSleep` before stopping (only with a post-start script, as in the chart).
    pub pre_stop: bool,
    /// st2auth: builds the htpasswd file from the auth Secret in an init container.
    pub htpasswd: bool,
}

const fn service(key: &'static str) -> Service {
    Service {
        key,
        port: None,
        replicas: Some(2),
        grace_period: None,
        datastore_key: DatastoreKey::None,
        packs: false,
        pre_stop: false,
        htpasswd: false,
    }
}

/// The services, in the chart's document order.
pub const SERVICES: [Service; 9] = [
    Service {
        port: Some(9100),
        grace_period: Some(30),
        pre_stop: true,
        htpasswd: true,
        ..service("st2auth")
    },
    Service {
        port: Some(9101),
        grace_period: Some(30),
        datastore_key: DatastoreKey::First,
        packs: true,
        pre_stop: true,
        ..service("st2api")
    },
    Service {
        port: Some(9102),
        grace_period: Some(30),
        pre_stop: true,
        ..service("st2stream")
    },
    Service {
        datastore_key: DatastoreKey::AfterConfig,
        ..service("st2rulesengine")
    },
    Service {
        replicas: None,
        ..service("st2timersengine")
    },
    Service {
        grace_period: Some(300),
        datastore_key: DatastoreKey::AfterConfig,
        ..service("st2workflowengine")
    },
    Service {
        datastore_key: DatastoreKey::First,
        ..service("st2scheduler")
    },
    service("st2notifier"),
    Service {
        replicas: Some(1),
        ..service("st2garbagecollector")
    },
];

/// The htpasswd file st2auth serves basic auth from, written into memory at start.
const HTPASSWD: &str = r#"printf "${ST2_AUTH_USERNAME}:$(openssl passwd -apr1 "${ST2_AUTH_PASSWORD}")\n" > /tmp/st2/htpasswd"#;

/// The Deployment of one service.
pub fn deployment(ctx: &Ctx, s: &Service) -> Result<Vec<Object>> {
    let key = s.key;
    let settings = ctx.v(key);
    let image = images::st2_of(ctx, key, key)?;
    let script = settings.key("postStartScript");
    let post_start = script.truthy();

    let mut plan = PodPlan::component(ctx, key)?;
    plan.checksums.push(checksums::config(ctx));
    if s.htpasswd {
        plan.checksums.extend(checksums::auth(ctx));
    }
    if s.datastore_key != DatastoreKey::None {
        plan.checksums.extend(checksums::datastore_key(ctx));
    }
    plan.hash_post_start_script(script.value());

    let config = volumes::config(ctx);
    let htpasswd = if s.htpasswd {
        Piece::one(
            mount_file_ro("htpasswd-vol", "/etc/st2/htpasswd", "htpasswd"),
            empty_dir("htpasswd-vol", true),
        )
    } else {
        Piece::default()
    };
    let datastore = if s.datastore_key == DatastoreKey::None {
        Piece::default()
    } else {
        volumes::datastore_key(ctx)
    };
    let (packs_piece, pack_configs) = if s.packs {
        (
            packs::volumes(ctx, Access::Deployment)?,
            packs::configs_if_shared(ctx)?,
        )
    } else {
        (Piece::default(), Piece::default())
    };
    let extra = volumes::extra(ctx, settings.key("extra_volumes").value(), key)?;
    let post = volumes::post_start(ctx, key, post_start);
    let pieces = [
        &config,
        &htpasswd,
        &datastore,
        &packs_piece,
        &pack_configs,
        &extra,
        &post,
    ];
    let pod = match s.datastore_key {
        DatastoreKey::First => Piece::join_led_by(&datastore, &pieces),
        _ => Piece::join(&pieces),
    };
    plan.volumes = pod.volumes;

    let mut init = wait_for_backends(ctx)?;
    if s.htpasswd {
        init.push(Container {
            name: "generate-htpasswd".into(),
            image: Some(image.clone()),
            image_pull_policy: images::pull_policy(ctx),
            security_context: component_security_context(ctx, key)?,
            env_from: Some(vec![secret_ref(volumes::auth_secret(ctx))]),
            volume_mounts: Some(vec![mount("htpasswd-vol", "/tmp/st2")]),
            command: Some(vec!["sh".into(), "-ec".into(), HTPASSWD.into()]),
            ..Default::default()
        });
    }
    if s.packs {
        plan.share_inits(init.len(), packs::deployment_init_containers(ctx)?);
        plan.pull_secrets = packs::pull_secrets(ctx);
    }
    plan.init_containers = InitContainers::Listed(init);
    plan.termination_grace_period_seconds = s
        .grace_period
        .map(|d| {
            let grace = settings.key("terminationGracePeriodSeconds");
            count(grace.value(), d, grace.path())
        })
        .transpose()?;

    plan.containers = vec![Container {
        name: key.into(),
        image: Some(image),
        image_pull_policy: images::pull_policy(ctx),
        security_context: component_security_context(ctx, key)?,
        ports: s.port.map(|p| {
            vec![ContainerPort {
                container_port: p,
                ..Default::default()
            }]
        }),
        command: Some(st2_command(ctx, key)),
        env: env(settings.key("env").value()),
        env_from: Some(vec![urls(ctx)]),
        volume_mounts: Some(pod.mounts),
        lifecycle: post_start.then(|| {
            post_start_lifecycle(s.pre_stop.then(|| settings.key("preStopSleep").value()))
        }),
        resources: resources_at(ctx, &settings.key("resources"))?,
        ..Default::default()
    }];

    let replicas = match s.replicas {
        Some(d) => {
            let replicas = settings.key("replicas");
            count(replicas.value(), d, replicas.path())?
        }
        None => 1,
    };
    super::scaled(ctx, plan, key, replicas)
}
