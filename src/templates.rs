//! File contents rendered from minijinja templates under `templates/` (st2.conf, scripts,
//! service configuration files). Kubernetes objects are never templated, only the text files
//! they carry.
//!
//! Templates are embedded in the binary and compiled once per process.

use std::sync::OnceLock;

use anyhow::{Context, Result};
use minijinja::Environment;
use serde::Serialize;

/// Every embedded template: (name, source). Names are paths below `templates/`.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "mongodb/setup.sh",
        include_str!("../templates/mongodb/setup.sh"),
    ),
    (
        "mongodb/official/start.sh",
        include_str!("../templates/mongodb/official/start.sh"),
    ),
    (
        "rabbitmq/rabbitmq.conf",
        include_str!("../templates/rabbitmq/rabbitmq.conf"),
    ),
    (
        "rabbitmq/official/rabbitmq.conf",
        include_str!("../templates/rabbitmq/official/rabbitmq.conf"),
    ),
    (
        "rabbitmq/official/definitions.json",
        include_str!("../templates/rabbitmq/official/definitions.json"),
    ),
    (
        "rabbitmq/official/rebalance.sh",
        include_str!("../templates/rabbitmq/official/rebalance.sh"),
    ),
    (
        "st2/st2.docker.conf",
        include_str!("../templates/st2/st2.docker.conf"),
    ),
    (
        "st2/st2.credentials.conf",
        include_str!("../templates/st2/st2.credentials.conf"),
    ),
    (
        "st2/rabbitmq-definitions.json",
        include_str!("../templates/st2/rabbitmq-definitions.json"),
    ),
    (
        "st2tests/st2tests.sh",
        include_str!("../templates/st2tests/st2tests.sh"),
    ),
    (
        "external-dns/aws-credentials",
        include_str!("../templates/external-dns/aws-credentials"),
    ),
    (
        "external-dns/aws-config",
        include_str!("../templates/external-dns/aws-config"),
    ),
    (
        "external-dns/alibaba-cloud.json",
        include_str!("../templates/external-dns/alibaba-cloud.json"),
    ),
    (
        "external-dns/azure.json",
        include_str!("../templates/external-dns/azure.json"),
    ),
    (
        "redis/redis.conf",
        include_str!("../templates/redis/redis.conf"),
    ),
    (
        "redis/master.conf",
        include_str!("../templates/redis/master.conf"),
    ),
    (
        "redis/replica.conf",
        include_str!("../templates/redis/replica.conf"),
    ),
    (
        "redis/sentinel.conf",
        include_str!("../templates/redis/sentinel.conf"),
    ),
    (
        "redis/common.sh",
        include_str!("../templates/redis/common.sh"),
    ),
    (
        "redis/start-node.sh",
        include_str!("../templates/redis/start-node.sh"),
    ),
    (
        "redis/start-sentinel.sh",
        include_str!("../templates/redis/start-sentinel.sh"),
    ),
    (
        "redis/health/lib.sh",
        include_str!("../templates/redis/health/lib.sh"),
    ),
    (
        "redis/health/ping_readiness_local.sh",
        include_str!("../templates/redis/health/ping_readiness_local.sh"),
    ),
    (
        "redis/health/ping_liveness_local.sh",
        include_str!("../templates/redis/health/ping_liveness_local.sh"),
    ),
    (
        "redis/health/ping_sentinel.sh",
        include_str!("../templates/redis/health/ping_sentinel.sh"),
    ),
    (
        "redis/health/parse_sentinels.awk",
        include_str!("../templates/redis/health/parse_sentinels.awk"),
    ),
    (
        "redis/health/ping_readiness_master.sh",
        include_str!("../templates/redis/health/ping_readiness_master.sh"),
    ),
    (
        "redis/health/ping_liveness_master.sh",
        include_str!("../templates/redis/health/ping_liveness_master.sh"),
    ),
    (
        "redis/health/ping_readiness_local_and_master.sh",
        include_str!("../templates/redis/health/ping_readiness_local_and_master.sh"),
    ),
    (
        "redis/health/ping_liveness_local_and_master.sh",
        include_str!("../templates/redis/health/ping_liveness_local_and_master.sh"),
    ),
    (
        "redis/official/common.sh",
        include_str!("../templates/redis/official/common.sh"),
    ),
    (
        "redis/official/start-node.sh",
        include_str!("../templates/redis/official/start-node.sh"),
    ),
    (
        "redis/official/start-sentinel.sh",
        include_str!("../templates/redis/official/start-sentinel.sh"),
    ),
    (
        "redis/official/probe.sh",
        include_str!("../templates/redis/official/probe.sh"),
    ),
    (
        "redis/official/redis.conf",
        include_str!("../templates/redis/official/redis.conf"),
    ),
    (
        "redis/official/sentinel.conf",
        include_str!("../templates/redis/official/sentinel.conf"),
    ),
    (
        "redis/official/sentinel-master.conf",
        include_str!("../templates/redis/official/sentinel-master.conf"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_loader(|name| {
            Ok(TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s.to_string()))
        });
        env
    })
}

/// Render the embedded template `name` with `context`.
pub fn render(name: &str, context: impl Serialize) -> Result<String> {
    let template = environment()
        .get_template(name)
        .with_context(|| format!("template `{name}`"))?;
    template
        .render(minijinja::value::Serde(context))
        .with_context(|| format!("rendering template `{name}`"))
}
