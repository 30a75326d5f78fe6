//! Built-in equivalents of the chart's bitnami subcharts: MongoDB, RabbitMQ, Redis and
//! external-dns (SPEC-chart.md §6). Each renders only when `<name>.enabled`.

mod external_dns;
mod mongodb;
mod rabbitmq;
mod redis;

use anyhow::Result;

use super::{Ctx, Object};

/// All backend objects for the release.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if ctx.v("mongodb.enabled").truthy() {
        out.extend(mongodb::objects(ctx)?);
    }
    if ctx.v("rabbitmq.enabled").truthy() {
        out.extend(rabbitmq::objects(ctx)?);
    }
    if ctx.v("redis.enabled").truthy() {
        out.extend(redis::objects(ctx)?);
    }
    if ctx.values.key("external-dns").key("enabled").truthy() {
        out.extend(external_dns::objects(ctx)?);
    }
    Ok(out)
}
