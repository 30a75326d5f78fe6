//! Built-in equivalents of the chart's bitnami subcharts: MongoDB, RabbitMQ, Redis and
//! external-dns (SPEC-chart.md §6). Each renders only when `<name>.enabled`.

mod external_dns;
mod mongodb;
pub mod rabbitmq;
mod redis;

use anyhow::Result;

use super::{Ctx, Object};
use crate::values::Value;

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

/// A bitnami subchart image, `<registry>/<repository>:<tag>` (bitnami common's image helper):
/// `image` is the subchart's image block, `global` its `.Values.global`, whose `imageRegistry`
/// wins over `image.registry`. Bitnami moved its published tags to `bitnamilegacy/`, so when the
/// repository is the chart's default `moved_default` (`bitnami/<name>`) it is rewritten there so
/// the default image can still be pulled; a repository the user chose is kept as written. Pass
/// `None` for images bitnami still publishes (`bitnami/minideb`).
pub fn bitnami_image(image: &Value, global: &Value, moved_default: Option<&str>) -> String {
    let registry = global
        .key("imageRegistry")
        .or(image.key("registry"))
        .to_go_string();
    let repository = image.key("repository").to_go_string();
    let repository = match repository.strip_prefix("bitnami/") {
        Some(rest) if Some(repository.as_str()) == moved_default => format!("bitnamilegacy/{rest}"),
        _ => repository,
    };
    format!(
        "{registry}/{repository}:{}",
        image.key("tag").to_go_string()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse_document;

    fn value(yaml: &str) -> Value {
        parse_document(yaml, "test")
            .map(|(m, _)| Value::Map(m))
            .unwrap_or_default()
    }

    #[test]
    fn bitnami_image_moves_only_the_default_repository() {
        let global = value("{}");
        for (image, want) in [
            (
                "{registry: docker.io, repository: bitnami/rabbitmq, tag: 3.8.9}",
                "docker.io/bitnamilegacy/rabbitmq:3.8.9",
            ),
            (
                "{registry: docker.io, repository: acme/rabbitmq, tag: 3.8.9}",
                "docker.io/acme/rabbitmq:3.8.9",
            ),
            (
                "{registry: quay.io, repository: bitnami/rabbitmq-extra, tag: 1}",
                "quay.io/bitnami/rabbitmq-extra:1",
            ),
        ] {
            assert_eq!(
                bitnami_image(&value(image), &global, Some("bitnami/rabbitmq")),
                want,
                "{image}"
            );
        }
        let global = value("{imageRegistry: reg.example}");
        let image = value("{registry: docker.io, repository: bitnami/rabbitmq, tag: 3.8.9}");
        assert_eq!(
            bitnami_image(&image, &global, Some("bitnami/rabbitmq")),
            "reg.example/bitnamilegacy/rabbitmq:3.8.9"
        );
        let minideb = value("{registry: docker.io, repository: bitnami/minideb, tag: buster}");
        assert_eq!(
            bitnami_image(&minideb, &value("{}"), None),
            "docker.io/bitnami/minideb:buster"
        );
    }
}
