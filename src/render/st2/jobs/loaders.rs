//! The Jobs that load data into st2: RBAC definitions
//! (`<release>-job-st2-apply-rbac-definitions`), API keys (`<release>-job-st2-apikey-load`) and
//! key/value pairs (`<release>-job-st2-key-load`).

use anyhow::Result;
use k8s_openapi::api::core::v1::Container;

use super::{SetupJob, client_config, extra, image, job_env, secrets_only};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::kit::{mount_file, secret_volume};
use crate::render::pod::containers::{global_security_context, urls_and_secrets, wait_for_db};
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{InitContainers, checksums};

/// A loader's main container: job image, top-level `securityContext`, `jobs.env`.
fn loader(ctx: &Ctx, name: &str, command: Vec<String>) -> Result<Container> {
    Ok(Container {
        name: name.into(),
        image: Some(image(ctx)?),
        image_pull_policy: images::pull_policy(ctx),
        security_context: global_security_context(ctx)?,
        command: Some(command),
        env: job_env(ctx),
        ..Default::default()
    })
}

/// `<release>-job-st2-apply-rbac-definitions` (iff `st2.rbac.enabled`): applies roles and
/// assignments.
pub fn apply_rbac_definitions(ctx: &Ctx) -> Result<Object> {
    let job = SetupJob::new("st2-apply-rbac-definitions", "5");
    let mut plan = job.plan(ctx, "st2-apply-rbac-definitions")?;
    plan.checksums = vec![checksums::config(ctx), checksums::rbac(ctx)];
    let config = volumes::config(ctx);
    let rbac = volumes::rbac(ctx);
    let extra = extra(ctx)?;
    let pod = Piece::join(&[&config, &rbac, &extra]);
    plan.volumes = pod.volumes;
    let mut command = vec![
        "st2-apply-rbac-definitions".to_string(),
        "--verbose".to_string(),
    ];
    command.extend(volumes::config_args(ctx));
    plan.containers = vec![Container {
        env_from: secrets_only(ctx),
        volume_mounts: Some(pod.mounts),
        ..loader(ctx, "st2-apply-rbac-definitions", command)?
    }];
    job.build(ctx, plan)
}

/// `<release>-job-st2-apikey-load`: loads `st2.apikeys` once st2api answers.
pub fn apikey_load(ctx: &Ctx) -> Result<Object> {
    let job = SetupJob::new("st2-apikey-load", "6");
    let mut plan = job.plan(ctx, "st2")?;
    plan.checksums = vec![checksums::urls(ctx), checksums::apikeys(ctx)];
    let api = ctx.name("st2api");
    let mut init = wait_for_db(ctx)?;
    init.push(Container {
        name: "wait-for-api".into(),
        image: Some(images::utility(ctx)),
        image_pull_policy: images::pull_policy(ctx),
        security_context: global_security_context(ctx)?,
        command: Some(vec![
            "sh".into(),
            "-c".into(),
            format!("until nc -z -w 2 {api} 9101 && echo st2api ready;\n  do sleep 2;\ndone\n"),
        ]),
        ..Default::default()
    });
    init.push(client_config(ctx, global_security_context(ctx)?)?);
    plan.init_containers = InitContainers::Listed(init);
    let client = volumes::client_config();
    let apikeys = Piece::one(
        mount_file("st2-apikeys-vol", "/etc/st2/apikeys.yaml", "apikeys.yaml"),
        secret_volume("st2-apikeys-vol", ctx.name("st2-apikeys"), None),
    );
    let extra = extra(ctx)?;
    let pod = Piece::join(&[&client, &apikeys, &extra]);
    plan.volumes = pod.volumes;
    let command = ["st2", "apikey", "load", "/etc/st2/apikeys.yaml"]
        .map(String::from)
        .to_vec();
    plan.containers = vec![Container {
        env_from: Some(urls_and_secrets(ctx, ctx.v("jobs.envFromSecrets").value())),
        volume_mounts: Some(pod.mounts),
        ..loader(ctx, "st2-apikey-load", command)?
    }];
    job.build(ctx, plan)
}

/// `<release>-job-st2-key-load`: loads `st2.keyvalue` into the datastore (`--convert` stores
/// non-string values as JSON).
pub fn key_load(ctx: &Ctx) -> Result<Object> {
    let job = SetupJob::new("st2-key-load", "6");
    let mut plan = job.plan(ctx, "st2")?;
    plan.checksums = vec![checksums::config(ctx), checksums::urls(ctx)];
    let mut init = wait_for_db(ctx)?;
    init.push(client_config(ctx, global_security_context(ctx)?)?);
    plan.init_containers = InitContainers::Listed(init);
    let config = volumes::config(ctx);
    let client = volumes::client_config();
    let kv = Piece::one(
        mount_file("st2-kv-vol", "/etc/st2/st2kv.yaml", "st2kv.yaml"),
        secret_volume("st2-kv-vol", ctx.name("st2-kv"), None),
    );
    let extra = extra(ctx)?;
    let pod = Piece::join(&[&config, &client, &kv, &extra]);
    plan.volumes = pod.volumes;
    let command = ["st2", "key", "load", "--convert", "/etc/st2/st2kv.yaml"]
        .map(String::from)
        .to_vec();
    plan.containers = vec![Container {
        env_from: Some(urls_and_secrets(ctx, ctx.v("jobs.envFromSecrets").value())),
        volume_mounts: Some(pod.mounts),
        ..loader(ctx, "st2-key-load", command)?
    }];
    job.build(ctx, plan)
}
