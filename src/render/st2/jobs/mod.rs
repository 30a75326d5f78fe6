//! The st2 setup Jobs: RBAC definitions, API keys, key/value pairs, content registration, the
//! packs-volume writability check and the user's `jobs.extra_hooks`.
//!
//! They keep the chart's `helm.sh/hook*` annotations: they say when each Job runs relative to
//! the other objects (after them, in ascending weight; the check before them).

mod canary;
mod extra_hooks;
mod loaders;
mod register_content;

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::{Container, EnvFromSource, EnvVar, SecurityContext};

use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::pod::PodPlan;
use crate::render::pod::containers::{ClientConfigInit, client_config_init, env, secret_refs};
use crate::render::pod::volumes::{self, Piece};

/// All Jobs, in the chart's order.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if ctx.v("st2.rbac.enabled").truthy() && !skipped(ctx, "apply_rbac_definitions") {
        out.push(loaders::apply_rbac_definitions(ctx)?);
    }
    if !skipped(ctx, "apikey_load") {
        out.push(loaders::apikey_load(ctx)?);
    }
    if !skipped(ctx, "key_load") {
        out.push(loaders::key_load(ctx)?);
    }
    if !skipped(ctx, "register_content") {
        out.push(register_content::job(ctx)?);
    }
    out.extend(canary::job(ctx)?);
    out.extend(extra_hooks::jobs(ctx)?);
    Ok(out)
}

/// Is `name` listed in `jobs.skip`?
fn skipped(ctx: &Ctx, name: &str) -> bool {
    ctx.v("jobs.skip")
        .as_list()
        .iter()
        .any(|s| s.as_str() == Some(name))
}

/// When the setup Jobs run: after every install, upgrade and rollback.
const AFTER_CHANGES: &str = "post-install, post-upgrade, post-rollback";

/// The Job's hook annotations, then `jobs.annotations`.
fn hook_annotations(
    ctx: &Ctx,
    hook: String,
    weight: String,
    delete_policy: &str,
) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::from([
        ("helm.sh/hook".to_string(), hook),
        (
            "helm.sh/hook-delete-policy".to_string(),
            delete_policy.to_string(),
        ),
        ("helm.sh/hook-weight".to_string(), weight),
    ]);
    annotations.extend(crate::render::kit::string_map(
        ctx.v("jobs.annotations").value(),
    ));
    annotations
}

/// A Job run after every change: `<release>-job-<id>`, ordered among the others by `weight`.
struct SetupJob {
    /// `<id>` in `<release>-job-<id>` and the pod's `job-<id>`.
    id: &'static str,
    weight: &'static str,
}

impl SetupJob {
    const fn new(id: &'static str, weight: &'static str) -> Self {
        Self { id, weight }
    }

    /// The Job's pod plan, labelled `n`.
    fn plan(&self, ctx: &Ctx, n: &str) -> Result<PodPlan> {
        PodPlan::job_pod(ctx, n, format!("job-{}", self.id))
    }

    /// The Job object from its finished plan.
    fn build(self, ctx: &Ctx, plan: PodPlan) -> Result<Object> {
        let annotations = hook_annotations(
            ctx,
            AFTER_CHANGES.into(),
            self.weight.into(),
            "before-hook-creation",
        );
        plan.job(ctx, ctx.name(&format!("job-{}", self.id)), annotations)
    }
}

/// The st2actionrunner image the Jobs run, its tag the first set of `jobs.image.tag`,
/// `st2actionrunner.image.tag` and `image.tag`.
fn image(ctx: &Ctx) -> Result<String> {
    images::st2_of(ctx, "st2actionrunner", "jobs")
}

/// `generate-st2client-config` of a Job: job image, `jobs.st2clientConfig`, `jobs.envFromSecrets`.
fn client_config(ctx: &Ctx, security_context: Option<SecurityContext>) -> Result<Container> {
    client_config_init(
        ctx,
        ClientConfigInit {
            image: image(ctx)?,
            security_context,
            config_path: "jobs.st2clientConfig",
            env_from_secrets: ctx.v("jobs.envFromSecrets").value(),
        },
    )
}

/// The variables of `jobs.env` (see [`env()`]).
fn job_env(ctx: &Ctx) -> Option<Vec<EnvVar>> {
    env(ctx.v("jobs.env").value())
}

/// `envFrom` of Jobs that need no service URLs: only `jobs.envFromSecrets`, iff set.
fn secrets_only(ctx: &Ctx) -> Option<Vec<EnvFromSource>> {
    ctx.v("jobs.envFromSecrets").non_empty().map(secret_refs)
}

/// `EXTRA(jobs)`.
fn extra(ctx: &Ctx) -> Result<Piece> {
    volumes::extra(ctx, ctx.v("jobs.extra_volumes").value(), "jobs")
}
