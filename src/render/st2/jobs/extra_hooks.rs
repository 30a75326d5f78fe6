//! `jobs.extra_hooks`: the user's own Jobs `<release>-job-extra-helm-hook-<name>`, run with the
//! st2 CLI configured, packs in place and the hook timing the entry asks for.

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::Container;

use super::{client_config, extra, hook_annotations, image, job_env, skipped};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::pod::containers::{
    runner_security_context, security_context, urls_and_secrets, wait_for_db,
};
use crate::render::pod::convert::{chain, required, resources_at, setting};
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{InitContainers, PodPlan, checksums, pod_security_context};
use crate::render::st2::packs::{self, Access};
use crate::values::{Value, View};

pub fn jobs(ctx: &Ctx) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    for hook in ctx.v("jobs.extra_hooks").items() {
        let name = required(hook.key("name").value(), || {
            "You must name each entry in jobs.extra_hooks.".into()
        })?;
        // `hyphenPrefix`: a falsy name (`false`, `0`) adds no suffix.
        let given = name.truthy().then(|| name.to_go_string());
        let name = match &given {
            Some(given) => format!("extra-helm-hook-{given}"),
            None => "extra-helm-hook".to_string(),
        };
        if skipped(ctx, &name) {
            continue;
        }
        let job = job(ctx, &hook, name)?;
        out.push(match given {
            Some(given) => job.named_by(hook.key("name").path().to_string(), given),
            None => job,
        });
    }
    Ok(out)
}

fn job(ctx: &Ctx, hook: &View, name: String) -> Result<Object> {
    let key = hook.path();
    let when = required(hook.key("hook").value(), || {
        "Each entry in jobs.extra_hooks must include 'hook' (the helm.sh/hook value)".into()
    })?
    .to_go_string();
    let command = match required(hook.key("command").value(), || {
        "Each entry in jobs.extra_hooks must include the 'command' to run.".into()
    })? {
        Value::List(items) => items
            .iter()
            .enumerate()
            .map(|(j, c)| match c {
                Value::String(s) => ctx.tpl(s, &format!("{key}.command[{j}]")),
                other => Err(crate::tpl::TplError::not_a_string(
                    &format!("{key}.command[{j}]"),
                    other,
                )
                .into()),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => bail!("`{key}.command` must be a list of strings"),
    };
    let weight = hook
        .key("hook_weight")
        .value()
        .or(&Value::Int(10))
        .to_go_string();

    let mut plan = PodPlan::job_pod(ctx, &name, format!("job-{name}"))?;
    plan.checksums = vec![checksums::config(ctx), checksums::packs(ctx)];
    plan.checksums.extend(checksums::overrides(ctx));
    plan.pull_secrets = packs::pull_secrets(ctx);
    let mut pod_chain = vec![setting(&hook.key("podSecurityContext"))];
    pod_chain.extend(chain(ctx, &["st2actionrunner.podSecurityContext"]));
    plan.security_context = pod_security_context(ctx, pod_chain)?;

    let mut init = wait_for_db(ctx)?;
    plan.share_inits(init.len(), packs::init_containers(ctx)?);
    init.push(client_config(ctx, runner_security_context(ctx)?)?);
    plan.init_containers = InitContainers::Listed(init);

    let pod = Piece::join(&[
        &volumes::client_config(),
        &volumes::overrides(ctx),
        &volumes::config(ctx),
        &packs::volumes(ctx, Access::Job)?,
        &packs::configs(ctx)?,
        &extra(ctx)?,
    ]);
    plan.volumes = pod.volumes;

    let mut sc_chain = vec![setting(&hook.key("securityContext"))];
    sc_chain.extend(chain(ctx, &["st2actionrunner.securityContext"]));
    let hook_resources = hook.key("resources");
    plan.containers = vec![Container {
        name: name.clone(),
        image: Some(image(ctx)?),
        image_pull_policy: images::pull_policy(ctx),
        security_context: security_context(ctx, sc_chain)?,
        env: job_env(ctx),
        env_from: Some(urls_and_secrets(ctx, ctx.v("jobs.envFromSecrets").value())),
        command: Some(command),
        volume_mounts: Some(pod.mounts),
        resources: if hook_resources.truthy() {
            resources_at(ctx, &hook_resources)?
        } else {
            None
        },
        ..Default::default()
    }];
    let annotations = hook_annotations(ctx, when, weight, "before-hook-creation");
    plan.job(ctx, ctx.name(&format!("job-{name}")), annotations)
}
