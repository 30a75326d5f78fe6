//! The render pipeline: check the counts that multiply work and the values that form names,
//! build every object (st2 services, then bundled backends), apply the `podSecurity` profile, add
//! the NetworkPolicies that protect what was built, fill in the checksum annotations, apply the
//! target's Job handling, sort into install order, check every name Kubernetes will see, and
//! redact Secret values when asked. Each step reads what the one before produced; nothing is
//! written.

use anyhow::Result;

use super::ctx::{Ctx, Options};
use super::{
    backends, checksums, limits, names, network_policy, pod_security, st2, target, unread,
};
use crate::object::{self, Object};
use crate::release::Release;
use crate::secrets::{SecretGenerator, SshKeyType};
use std::rc::Rc;

use crate::values::check::Finding;
use crate::values::{Reads, Value, View};

/// Render every object for the release, in output order.
pub fn render(values: &Value, release: &Release, options: &Options) -> Result<Vec<Object>> {
    render_report(values, release, options).map(|r| r.objects)
}

/// A render's objects and what the caller should tell the user about them.
pub struct Rendered {
    pub objects: Vec<Object>,
    /// Some secret was generated at random (no seed): the output is not reproducible.
    pub random_secrets: bool,
}

/// [`render`], also reporting whether random secrets were generated.
pub fn render_report(values: &Value, release: &Release, options: &Options) -> Result<Rendered> {
    render_checked(values, None, release, options).0
}

/// [`render_report`] and the findings the builders reported about the values, in the order
/// reported, each once. With the user's own values (`user`: their layers stacked, and the
/// findings already made about them), a successful render also reports the keys the user set
/// that nothing read ([`unread`]), except those at or below a key already reported.
pub fn render_checked(
    values: &Value,
    user: Option<(&Value, &[Finding])>,
    release: &Release,
    options: &Options,
) -> (Result<Rendered>, Vec<Finding>) {
    let (ctx, restricted) = match prepare(values, release, options) {
        Ok(prepared) => prepared,
        Err(e) => return (Err(e), Vec::new()),
    };
    let rendered = build(&ctx, restricted);
    let mut found = ctx.take_findings();
    if let (Ok(_), Some((user, known))) = (&rendered, user) {
        let covered = |path: &str| {
            known.iter().any(|f| {
                path.strip_prefix(f.path.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
        };
        found.extend(
            unread::findings(&ctx, user)
                .into_iter()
                .filter(|f| !covered(&f.path)),
        );
    }
    (rendered, found)
}

/// The checks that come before any builder, and the context the builders share; whether the
/// `restricted` pod security profile applies.
fn prepare<'a>(
    values: &'a Value,
    release: &'a Release,
    options: &'a Options,
) -> Result<(Ctx<'a>, bool)> {
    limits::check(values)?;
    // What these checks read counts as read, like what the builders read.
    let reads = Rc::new(Reads::default());
    let root = View::root(values, Rc::clone(&reads));
    names::check_values(&root)?;
    let restricted = pod_security::restricted(&root)?;
    let ctx = Ctx::with_reads(
        values,
        reads,
        release,
        options,
        SecretGenerator::new(
            release,
            options.secret_seed.as_ref(),
            SshKeyType::from_values(&root)?,
        ),
    );
    Ok((ctx, restricted))
}

/// Every object, built, checked and in output order.
fn build(ctx: &Ctx, restricted: bool) -> Result<Rendered> {
    let options = ctx.options;
    let release = ctx.release;
    if restricted {
        pod_security::check_values(ctx)?;
    }
    let mut objects = st2::objects(ctx)?;
    objects.extend(backends::objects(ctx)?);
    if options.no_hooks {
        objects.retain(|o| !target::is_setup_hook(o));
    }
    if restricted {
        pod_security::apply(ctx, &mut objects)?;
    }
    let policies = network_policy::objects(ctx, &objects)?;
    objects.extend(policies);
    checksums::resolve(&mut objects)?;
    let ttl = match ctx.v("jobs.ttlSecondsAfterFinished").value() {
        // Kubernetes accepts 0..=i32::MAX seconds.
        Value::Int(i) if (0..=i64::from(i32::MAX)).contains(i) => Some(*i),
        Value::Null => None,
        other => anyhow::bail!(
            "`jobs.ttlSecondsAfterFinished`: expected a number of seconds (0 or more), found {}",
            other.kind_unfit()
        ),
    };
    target::apply(options.target, &mut objects, ttl)?;
    object::sort(&mut objects);
    object::check_unique(&objects)?;
    // Before `--redact-secrets` and the writer: nothing is printed for a name Kubernetes rejects.
    names::check(&objects, &release.name, options.target)?;
    if options.redact_secrets {
        crate::secrets::redact::redact(&mut objects);
    }
    Ok(Rendered {
        objects,
        random_secrets: ctx.secrets.generated_random(),
    })
}
