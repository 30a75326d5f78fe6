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
        "rabbitmq/rabbitmq.conf",
        include_str!("../templates/rabbitmq/rabbitmq.conf"),
    ),
    (
        "st2/st2.docker.conf",
        include_str!("../templates/st2/st2.docker.conf"),
    ),
    (
        "st2/rabbitmq-definitions.json",
        include_str!("../templates/st2/rabbitmq-definitions.json"),
    ),
    (
        "st2tests/st2tests.sh",
        include_str!("../templates/st2tests/st2tests.sh"),
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
