//! The st2 Deployments, one file per component family: the st2 python services ([`services`]),
//! st2web, st2actionrunner, st2client and st2chatops. The sensor Deployments are in
//! `st2::sensors`. Every one is a [`PodPlan`](crate::render::pod::PodPlan).

mod services;
mod st2actionrunner;
mod st2chatops;
mod st2client;
mod st2web;

use anyhow::Result;

use super::packs;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::values::Value;

/// All st2 Deployments except the sensors, in the chart's order.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    packs::check(ctx)?;
    let mut out = Vec::new();
    for service in &services::SERVICES {
        if service.key == "st2rulesengine" {
            out.push(st2web::deployment(ctx)?);
        }
        out.push(services::deployment(ctx, service)?);
    }
    out.push(st2actionrunner::deployment(ctx)?);
    out.push(st2client::deployment(ctx)?);
    if ctx.v("st2chatops.enabled").truthy() {
        out.push(st2chatops::deployment(ctx)?);
    }
    Ok(out)
}

/// The image of a component that may replace the whole reference (st2actionrunner, st2chatops):
/// `<repository>/<name>:<tag>`, each part the component's own when set: `<key>.image.repository`
/// else the st2 repository, `<key>.image.name` else `default_name`, `<key>.image.tag` else
/// `image.tag` (evaluated as a template).
fn own_image(ctx: &Ctx, key: &str, default_name: &str) -> Result<String> {
    let image = ctx.v(key).key("image");
    let repository = image
        .key("repository")
        .non_empty()
        .map_or_else(|| images::repository(ctx), Value::to_go_string);
    let name = image
        .key("name")
        .non_empty()
        .map_or_else(|| default_name.to_string(), Value::to_go_string);
    let tag = images::tag(ctx, &[&format!("{key}.image.tag")])?;
    Ok(format!("{repository}/{name}:{tag}"))
}

/// `<key>.image.pullPolicy`, else `image.pullPolicy`.
fn own_pull_policy(ctx: &Ctx, key: &str) -> Option<String> {
    ctx.v(key)
        .at("image.pullPolicy")
        .non_empty()
        .map(Value::to_go_string)
        .or_else(|| images::pull_policy(ctx))
}
