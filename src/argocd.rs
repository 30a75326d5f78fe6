//! The Argo CD config-management plugin (CMP v2) commands.
//!
//! `st2k8s argocd generate` renders the application in the current directory from Argo CD's
//! environment (`ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`, and the plugin env of the
//! Application, which Argo CD prefixes with `ARGOCD_ENV_`: `RELEASE_NAME`, `VALUES_FILES`, `SET`,
//! `STRICT`; UI parameters in `ARGOCD_APP_PARAMETERS`) with `--target argocd`. Like `render`, it
//! writes nothing to stdout unless the whole render succeeded: an empty "successful" output would
//! make Argo CD prune the application.
//!
//! Argo CD shows nothing of a successful plugin's stderr, so the warnings `render` prints there
//! would go unseen: `generate` also lists them in a ConfigMap `<release>-st2k8s-warnings`
//! ([`warnings_config_map`]), which appears in the Application's resource tree. Its content is
//! the warning text only (key paths, never values) with file names relative to the application
//! directory, so the same input gives the same object and Argo CD sees no drift.
//!
//! `st2k8s argocd parameters` announces the main knobs to the UI, with the application's current
//! values; when they cannot be read it fails like `generate`, rather than showing defaults the
//! application does not use.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value as Json, json};

use crate::cli::{RenderArgs, ValuesArgs};
use crate::config::RenderConfig;
use crate::release::Release;
use crate::render::target::Target;

use crate::values::{Layer, Value};

/// Backends whose `<name>.enabled` the UI may toggle.
const BACKENDS: &[&str] = &["mongodb", "rabbitmq", "redis"];

/// Read an environment variable the plugin depends on.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Build the render settings of `argocd generate` from Argo CD's environment, with `dir` as the
/// application directory.
pub fn generate_config(dir: &Path) -> Result<RenderConfig> {
    let release_name = release_name().context(
        "neither ARGOCD_ENV_RELEASE_NAME nor ARGOCD_APP_NAME is set (`st2k8s argocd generate` is run by Argo CD's repo server)",
    )?;
    let mut config = app_config(dir, release_name)?;
    config.warnings_config_map = true;
    Ok(config)
}

/// The settings `argocd parameters` reads the application's values with: as for `generate`, but
/// the release name defaults to `st2` while Argo CD gives none (an Application being created in
/// the UI has no name yet); it only matters for `tpl` values.
pub fn parameters_config(dir: &Path) -> Result<RenderConfig> {
    app_config(dir, release_name().unwrap_or_else(|| "st2".into()))
}

/// The release name: the plugin env `RELEASE_NAME` when set (to keep a Helm release's name that
/// differs from the Application's), else the Application's name. With applications in any
/// namespace, Argo CD sets `ARGOCD_APP_NAME` to `<app namespace>_<name>`; Kubernetes names cannot
/// contain `_`, so the name is what follows the first `_`.
fn release_name() -> Option<String> {
    env("ARGOCD_ENV_RELEASE_NAME").or_else(|| {
        env("ARGOCD_APP_NAME").map(|app| match app.split_once('_') {
            Some((_, name)) => name.to_string(),
            None => app,
        })
    })
}

/// The plugin env `STRICT` (`ARGOCD_ENV_STRICT`): `--strict` when true.
fn strict() -> Result<bool> {
    let Some(value) = env("ARGOCD_ENV_STRICT") else {
        return Ok(false);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => bail!("ARGOCD_ENV_STRICT (plugin env STRICT) is `{value}`: use true, false, 1 or 0"),
    }
}

/// The settings for the application in `dir`, rendered as release `release_name`.
fn app_config(dir: &Path, release_name: String) -> Result<RenderConfig> {
    let namespace = app_namespace();
    let mut values = Vec::new();
    // `values.yaml` is optional, but when present (even as a dangling link) it is checked.
    if dir.join(DEFAULT_VALUES).symlink_metadata().is_ok() {
        let path = app_file(dir, DEFAULT_VALUES).context("the application's values file")?;
        values.push(path.display().to_string());
    }
    for file in env(VALUES_FILES_VAR).iter().flat_map(|v| v.split(',')) {
        let file = file.trim();
        if file.is_empty() {
            continue;
        }
        let path = app_file(dir, file).context(VALUES_FILES_VAR)?;
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
        no_hooks: false,
        strict: strict()?,
        target: Target::Argocd,
        // The seed comes from ST2K8S_SECRET_SEED on the plugin sidecar (`Seed::resolve`).
        secret_seed_file: None,
        redact_secrets: false,
    };
    let mut config = RenderConfig::from_args(args)?;
    relative_file_names(&mut config.layers, dir);
    Ok(config)
}

/// Name the values files relative to the application directory in messages: Argo CD checks the
/// repository out into a fresh temporary directory for every run, which would make every warning
/// (and the warnings ConfigMap) differ from the last.
fn relative_file_names(layers: &mut [Layer], dir: &Path) {
    let canonical = dir.canonicalize().ok();
    for layer in layers {
        if let Layer::File { name, .. } = layer {
            let path = Path::new(name.as_str());
            let relative = path
                .strip_prefix(dir)
                .ok()
                .or_else(|| path.strip_prefix(canonical.as_deref()?).ok());
            if let Some(relative) = relative {
                *name = relative.display().to_string();
            }
        }
    }
}

/// The values file the application directory always contributes when it has one.
const DEFAULT_VALUES: &str = "values.yaml";

/// The variable naming extra values files, relative to the application directory.
const VALUES_FILES_VAR: &str = "ARGOCD_ENV_VALUES_FILES";

/// The file `name` of the application directory `dir`, canonical, as the values loader reads it.
///
/// The repo server holds every repository it has cloned, and `name` comes from the Application,
/// which anyone allowed to create one controls: a name that escapes `dir` would read another
/// application's files into this render (the path traversal Argo CD itself once had in its
/// Helm values files). So absolute names and `..` components are refused outright, the name is
/// resolved through every symbolic link and must stay under `dir` (itself resolved, compared
/// component by component), and the result must be a regular file: a FIFO or a device would
/// block the render forever or stream without end. Returning the resolved path means the loader
/// opens the file that was checked, not whatever a link points at by then.
fn app_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let relative = Path::new(name);
    if relative.has_root()
        || relative
            .components()
            .any(|c| matches!(c, Component::Prefix(_)))
    {
        bail!("`{name}` is an absolute path; name a file inside the application directory");
    }
    if relative.components().any(|c| c == Component::ParentDir) {
        bail!("`{name}` leaves the application directory");
    }
    let root = dir.canonicalize().with_context(|| {
        format!(
            "cannot resolve the application directory `{}`",
            dir.display()
        )
    })?;
    let Ok(path) = dir.join(relative).canonicalize() else {
        bail!("`{name}` is not a file in the application directory");
    };
    if !path.starts_with(&root) {
        bail!("`{name}` leaves the application directory (a symbolic link points outside it)");
    }
    match path.metadata() {
        Ok(meta) if meta.is_file() => Ok(path),
        Ok(_) => bail!("`{name}` is not a regular file"),
        Err(_) => bail!("`{name}` is not a file in the application directory"),
    }
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
        } else if let Some(items) = param.get("array").and_then(Json::as_array) {
            // A list in `--set` syntax, `name={a,b}`: each item escaped so that `,` and `}`
            // stay inside it.
            let items = items
                .iter()
                .map(|item| item.as_str().map(|s| escape(s).replace('}', "\\}")))
                .collect::<Option<Vec<String>>>()
                .with_context(|| {
                    format!("ARGOCD_APP_PARAMETERS: `{name}`: array items must be strings")
                })?;
            set.push(format!("{name}={{{}}}", items.join(",")));
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
    let replicas: serde_json::Map<String, Json> = crate::components::scalable()
        .map(|c| {
            (
                c.to_string(),
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

    /// A fresh directory tree for one test: `app/` (the application) and `outside/` next to it.
    struct Tree(PathBuf);

    impl Tree {
        fn new(test: &str) -> Self {
            let root =
                std::env::temp_dir().join(format!("st2k8s-argocd-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            for dir in ["app/sub", "outside"] {
                std::fs::create_dir_all(root.join(dir)).expect("create test dirs");
            }
            for file in [
                "app/values.yaml",
                "app/sub/prod.yaml",
                "outside/secrets.yaml",
            ] {
                std::fs::write(root.join(file), "{}\n").expect("write test file");
            }
            Self(root)
        }

        fn app(&self) -> PathBuf {
            self.0.join("app")
        }

        /// The error of `app_file` for `name`, as the user sees it.
        fn refusal(&self, name: &str) -> String {
            match app_file(&self.app(), name).context(VALUES_FILES_VAR) {
                Ok(path) => panic!("`{name}` accepted as {}", path.display()),
                Err(e) => format!("{e:#}"),
            }
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn values_files_inside_the_application_are_read() {
        let tree = Tree::new("inside");
        let root = tree.app().canonicalize().expect("app dir");
        for name in ["values.yaml", "./sub/prod.yaml", "sub//prod.yaml"] {
            let path = app_file(&tree.app(), name).expect(name);
            assert!(path.starts_with(&root), "{name}: {}", path.display());
            assert!(path.is_file(), "{name}");
        }
    }

    #[test]
    fn absolute_and_parent_paths_are_refused() {
        let tree = Tree::new("escape");
        let outside = tree.0.join("outside/secrets.yaml");
        let absolute = outside.display().to_string();
        assert_eq!(
            tree.refusal(&absolute),
            format!(
                "ARGOCD_ENV_VALUES_FILES: `{absolute}` is an absolute path; name a file inside the application directory"
            )
        );
        for name in [
            "../outside/secrets.yaml",
            "sub/../../outside/secrets.yaml",
            "sub/../values.yaml",
            "..",
        ] {
            assert_eq!(
                tree.refusal(name),
                format!("ARGOCD_ENV_VALUES_FILES: `{name}` leaves the application directory")
            );
        }
        assert_eq!(
            tree.refusal("missing.yaml"),
            "ARGOCD_ENV_VALUES_FILES: `missing.yaml` is not a file in the application directory"
        );
        assert_eq!(
            tree.refusal("sub"),
            "ARGOCD_ENV_VALUES_FILES: `sub` is not a regular file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_must_stay_inside_the_application() {
        use std::os::unix::fs::symlink;
        let tree = Tree::new("links");
        let app = tree.app();
        symlink(tree.0.join("outside/secrets.yaml"), app.join("out.yaml")).expect("link");
        symlink("../outside", app.join("outdir")).expect("link");
        symlink("sub/prod.yaml", app.join("in.yaml")).expect("link");
        for name in ["out.yaml", "outdir/secrets.yaml"] {
            assert_eq!(
                tree.refusal(name),
                format!(
                    "ARGOCD_ENV_VALUES_FILES: `{name}` leaves the application directory (a symbolic link points outside it)"
                )
            );
        }
        let inside = app_file(&app, "in.yaml").expect("a link inside the application");
        assert_eq!(
            inside,
            app.join("sub/prod.yaml").canonicalize().expect("target")
        );
        // The application's own values.yaml is held to the same rule (the integration test
        // runs `generate` on such a directory).
        std::fs::remove_file(app.join("values.yaml")).expect("remove");
        symlink(tree.0.join("outside/secrets.yaml"), app.join("values.yaml")).expect("link");
        assert!(tree.refusal("values.yaml").ends_with("points outside it)"));
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_refused_without_blocking() {
        let tree = Tree::new("fifo");
        let fifo = tree.app().join("pipe.yaml");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("run mkfifo");
        assert!(status.success(), "mkfifo");
        assert_eq!(
            tree.refusal("pipe.yaml"),
            "ARGOCD_ENV_VALUES_FILES: `pipe.yaml` is not a regular file"
        );
        assert_eq!(
            tree.refusal("/dev/null"),
            "ARGOCD_ENV_VALUES_FILES: `/dev/null` is an absolute path; name a file inside the application directory"
        );
    }

    #[test]
    fn array_parameters_become_set_lists_with_escaped_items() {
        let set = parameters_to_set(
            r#"[{"name":"jobs.skip","array":["key_load","a,b}c\\d"]},{"name":"e","array":[]}]"#,
        )
        .expect("valid");
        assert_eq!(set, [r"jobs.skip={key_load,a\,b\}c\\d}", "e={}"]);
        // The list reads back as the items Argo CD sent.
        let loaded = crate::values::load(&[crate::values::Layer::Set {
            kind: crate::values::SetKind::Set,
            arg: set[0].clone(),
        }])
        .expect("loads");
        assert_eq!(
            loaded.values.at("jobs.skip").to_go_string(),
            r"[key_load a,b}c\d]"
        );
        let err = parameters_to_set(r#"[{"name":"jobs.skip","array":[1]}]"#)
            .err()
            .map(|e| format!("{e:#}"));
        assert_eq!(
            err.as_deref(),
            Some("ARGOCD_APP_PARAMETERS: `jobs.skip`: array items must be strings")
        );
    }

    #[test]
    fn announcement_lists_the_main_knobs() {
        let values = crate::values::load(&[]).expect("defaults").values;
        let release = Release {
            name: "st2".into(),
            namespace: "default".into(),
        };
        let json = parameters(&values, &release);
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
