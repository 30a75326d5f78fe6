//! Built-in equivalents of the chart's bitnami subcharts: MongoDB, RabbitMQ, Redis and
//! external-dns (SPEC-chart.md §6). Each renders only when `<name>.enabled`.

mod external_dns;
pub mod mongodb;
pub mod rabbitmq;
mod redis;

use anyhow::{Result, bail};

use super::{Ctx, Object};
use crate::values::Value;
use crate::values::check::{Finding, Severity};

/// All backend objects for the release.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    report_unsupported_keys(ctx);
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

/// Warn about each backend key the user changed that the built-in backends do not implement.
fn report_unsupported_keys(ctx: &Ctx) {
    let unsupported = [
        ("MongoDB", mongodb::unsupported_keys(ctx)),
        ("RabbitMQ", rabbitmq::unsupported_keys(ctx)),
    ];
    for (backend, keys) in unsupported {
        for path in keys {
            crate::render::pod::convert::report(Finding {
                severity: Severity::Warning,
                path,
                location: None,
                message: format!("not implemented by st2k8s's built-in {backend}; ignored"),
            });
        }
    }
}

/// Images bitnami still publishes under `bitnami/` (everything else moved to `bitnamilegacy/`).
const STILL_PUBLISHED: &[&str] = &["bitnami/minideb"];

/// A bitnami subchart image, `<registry>/<repository>:<tag>` (bitnami common's image helper):
/// `image` is the image block at values path `path` (for errors), `global` the subchart's
/// `global`, whose `imageRegistry` wins over `image.registry` (SPEC-chart.md §6.0).
///
/// Bitnami removed its old images from Docker Hub and kept them under `bitnamilegacy/`, so a
/// `bitnami/<name>` repository on `docker.io` becomes `bitnamilegacy/<name>` (same tag). Other
/// repositories, and any repository on another registry (a user's mirror), stay as given.
pub fn bitnami_image(image: &Value, global: &Value, path: &str) -> Result<String> {
    let registry = go_text(global.key("imageRegistry").or(image.key("registry")));
    let repository = go_text(image.key("repository"));
    let tag = go_text(image.key("tag"));
    if repository.is_empty() || tag.is_empty() {
        bail!("`{path}.repository` and `{path}.tag` must both be set");
    }
    let repository = match repository.strip_prefix("bitnami/") {
        Some(name)
            if registry == "docker.io" && !STILL_PUBLISHED.contains(&repository.as_str()) =>
        {
            format!("bitnamilegacy/{name}")
        }
        _ => repository,
    };
    Ok(format!("{registry}/{repository}:{tag}"))
}

/// A value as the subchart templates print it: Go `%v`, null as the empty string (what `quote`
/// and `toString` give for a missing key).
pub fn go_text(value: &Value) -> String {
    if value.is_null() {
        String::new()
    } else {
        value.to_go_string()
    }
}
