//! The Argo CD config-management plugin (CMP v2) commands.
//!
//! `st2k8s argocd generate` renders the application in the current directory from Argo CD's
//! environment (`ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`, `ARGOCD_ENV_VALUES_FILES`,
//! `ARGOCD_ENV_SET`, `ARGOCD_APP_PARAMETERS`) with `--target argocd`. Like `render`, it writes
//! nothing to stdout unless the whole render succeeded: an empty "successful" output would make
//! Argo CD prune the application. `st2k8s argocd parameters` announces the main knobs to the UI.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};

use crate::cli::{RenderArgs, ValuesArgs};
use crate::config::RenderConfig;
use crate::release::Release;
use crate::render::target::Target;
use crate::values::Value;

/// Components whose replica count the UI may set (`<component>.replicas`).
const REPLICA_COMPONENTS: &[&str] = &[
    "st2web",
    "st2auth",
    "st2api",
    "st2stream",
    "st2rulesengine",
    "st2workflowengine",
    "st2scheduler",
    "st2notifier",
    "st2actionrunner",
    "st2garbagecollector",
];

/// Backends whose `<name>.enabled` the UI may toggle.
const BACKENDS: &[&str] = &["mongodb", "rabbitmq", "redis"];

/// Read an environment variable the plugin depends on.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Build the render settings from Argo CD's environment, with `dir` as the application directory.
pub fn generate_config(dir: &Path) -> Result<RenderConfig> {
    let release_name = env("ARGOCD_APP_NAME")
        .context("ARGOCD_APP_NAME is not set (run by Argo CD's repo server)")?;
    let namespace = app_namespace();
    let mut values = Vec::new();
    let default_file = dir.join("values.yaml");
    if default_file.is_file() {
        values.push(default_file.display().to_string());
    }
    for file in env("ARGOCD_ENV_VALUES_FILES")
        .iter()
        .flat_map(|v| v.split(','))
    {
        let file = file.trim();
        if file.is_empty() {
            continue;
        }
        let path = dir.join(file);
        if !path.is_file() {
            bail!(
                "ARGOCD_ENV_VALUES_FILES names `{file}`, which is not a file in the application directory"
            );
        }
        values.push(path.display().to_string());
    }
    let mut set: Vec<String> = env("ARGOCD_ENV_SET").into_iter().collect();
    if let Some(params) = env("ARGOCD_APP_PARAMETERS") {
        set.extend(parameters_to_set(&params)?);
    }
    let args = RenderArgs {
        release_name,
        namespace,
        values: ValuesArgs {
            values,
            set,
            ..ValuesArgs::default()
        },
        output_dir: None,
        show_only: Vec::new(),
        include_tests: false,
        strict: false,
        target: Target::Argocd,
        // The seed comes from ST2K8S_SECRET_SEED on the plugin sidecar (`Seed::resolve`).
        secret_seed_file: None,
        redact_secrets: false,
    };
    RenderConfig::from_args(args)
}

/// Turn Argo CD's `ARGOCD_APP_PARAMETERS` JSON into `--set` arguments.
fn parameters_to_set(json: &str) -> Result<Vec<String>> {
    let params: Vec<Json> =
        serde_json::from_str(json).context("ARGOCD_APP_PARAMETERS is not a JSON list")?;
    let mut set = Vec::new();
    for param in params {
        let name = param.get("name").and_then(Json::as_str).unwrap_or_default();
        if let Some(map) = param.get("map").and_then(Json::as_object) {
            // The `replicas` map: component → count.
            for (component, count) in map {
                if let Some(count) = count.as_str().filter(|c| !c.is_empty()) {
                    set.push(format!("{}.{name}={}", escape(component), escape(count)));
                }
            }
        } else if let Some(value) = param.get("string").and_then(Json::as_str) {
            set.push(format!("{name}={}", escape(value)));
        }
    }
    Ok(set)
}

/// Escape `--set` separators in a parameter value.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace(',', "\\,")
}

/// The release the announcement evaluates `tpl` values for when the application's own settings
/// cannot be read: Argo CD's application name and namespace when set, else the README's.
pub fn default_release() -> Release {
    Release {
        name: env("ARGOCD_APP_NAME").unwrap_or_else(|| "st2".into()),
        namespace: app_namespace(),
    }
}

/// The application's destination namespace, `default` when Argo CD does not say.
fn app_namespace() -> String {
    env("ARGOCD_APP_NAMESPACE").unwrap_or_else(|| "default".into())
}

/// The parameter announcement for the Argo CD UI, with current defaults from `values`. The
/// image tag is shown as the render uses it (`tpl` evaluated: `3.8`, not `{{ .Chart.AppVersion }}`),
/// or as written when it does not evaluate.
pub fn parameters(values: &Value, release: &Release) -> Json {
    let tag = values.at("image.tag").to_go_string();
    let budget = crate::tpl::Budget::default();
    let scope = crate::tpl::Scope::new(values, release, &budget);
    let tag = crate::tpl::render(&tag, &scope, "image.tag").unwrap_or(tag);
    let replicas: serde_json::Map<String, Json> = REPLICA_COMPONENTS
        .iter()
        .map(|c| {
            (
                (*c).to_string(),
                Json::String(values.at(&format!("{c}.replicas")).to_go_string()),
            )
        })
        .collect();
    let mut announce = vec![
        json!({"name": "replicas", "title": "Replicas per component", "collectionType": "map", "map": replicas}),
        json!({"name": "image.tag", "title": "StackStorm image tag", "string": tag}),
        json!({"name": "ingress.enabled", "title": "Expose st2web through an Ingress", "string": values.at("ingress.enabled").to_go_string()}),
    ];
    for backend in BACKENDS {
        announce.push(json!({
            "name": format!("{backend}.enabled"),
            "title": format!("Run the built-in {backend}"),
            "string": values.at(&format!("{backend}.enabled")).to_go_string(),
        }));
    }
    Json::Array(announce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_set_flags() {
        let set = parameters_to_set(
            r#"[{"name":"replicas","map":{"st2api":"3","st2web":""}},{"name":"image.tag","string":"3.8.1"},{"name":"x","string":"a,b"}]"#,
        )
        .expect("valid");
        assert_eq!(set, ["st2api.replicas=3", "image.tag=3.8.1", "x=a\\,b"]);
    }

    #[test]
    fn announcement_lists_the_main_knobs() {
        let values = crate::values::load(&[]).expect("defaults").values;
        let json = parameters(&values, &default_release());
        let names: Vec<&str> = json
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "replicas",
                "image.tag",
                "ingress.enabled",
                "mongodb.enabled",
                "rabbitmq.enabled",
                "redis.enabled"
            ]
        );
        assert_eq!(json[0]["map"]["st2actionrunner"], "5");
        assert_eq!(json[1]["string"], "3.8", "the tag as rendered");
    }
}
