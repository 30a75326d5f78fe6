//! The parent chart's own objects: everything StackStorm itself needs.

mod conf_check;
mod configmaps;
mod deployments;
mod ingress;
mod jobs;
mod packs;
mod scaling;
mod secrets;
mod sensors;
mod service_account;
mod services;
mod tests;
mod text;
pub mod version;

use anyhow::Result;

use crate::object::Object;
use crate::render::ctx::Ctx;

/// All st2 objects for the release.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    version::check(ctx);
    let mut out = Vec::new();
    out.extend(service_account::objects(ctx)?);
    out.extend(secrets::objects(ctx)?);
    out.extend(configmaps::objects(ctx)?);
    out.extend(services::objects(ctx)?);
    out.extend(ingress::objects(ctx)?);
    out.extend(deployments::objects(ctx)?);
    out.extend(sensors::objects(ctx)?);
    out.extend(jobs::objects(ctx)?);
    out.extend(tests::objects(ctx)?);
    Ok(out)
}
