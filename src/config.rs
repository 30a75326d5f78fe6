//! Resolved settings for each subcommand: the command line checked and turned into what the
//! engine needs (validated names, values layers read from disk).

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::cli::{RenderArgs, ValuesArgs};
use crate::release::Release;
use crate::render;
use crate::render::target::Target;
use crate::secrets::Seed;
use crate::values::{self, Layer, SetKind};

/// Everything `st2k8s render` needs, resolved.
#[derive(Debug)]
pub struct RenderConfig {
    pub release: Release,
    pub layers: Vec<Layer>,
    pub output_dir: Option<PathBuf>,
    pub show_only: Vec<String>,
    pub include_tests: bool,
    pub no_hooks: bool,
    pub target: Target,
    pub strict: bool,
    pub secret_seed: Option<Seed>,
    pub redact_secrets: bool,
    /// Also list the warnings in a ConfigMap `<release>-st2k8s-warnings` (`argocd generate`:
    /// Argo CD shows nothing of a successful plugin's stderr).
    pub warnings_config_map: bool,
}

impl RenderConfig {
    pub fn from_args(args: RenderArgs) -> Result<Self> {
        let RenderArgs {
            release_name,
            namespace,
            values,
            output_dir,
            show_only,
            include_tests,
            no_hooks,
            strict,
            target,
            secret_seed_file,
            redact_secrets,
        } = args;
        render::names::check_release(&release_name)?;
        crate::render::names::check_namespace(&namespace)?;
        Ok(Self {
            release: Release {
                name: release_name,
                namespace,
            },
            layers: read_layers(&values)?,
            output_dir,
            show_only,
            include_tests,
            no_hooks,
            target,
            strict,
            secret_seed: Seed::resolve(secret_seed_file.as_deref())?,
            redact_secrets,
            warnings_config_map: false,
        })
    }

    /// Load values, render, and write — nothing is written unless the whole render succeeded.
    pub fn execute(self) -> Result<()> {
        let loaded = values::load(&self.layers)?;
        let options = render::Options {
            include_tests: self.include_tests,
            no_hooks: self.no_hooks,
            target: self.target,
            secret_seed: self.secret_seed,
            redact_secrets: self.redact_secrets,
        };
        let checked = crate::findings::check(&loaded, &self.release, &options, self.strict);
        crate::findings::report(&checked.findings)?;
        // A failed render says only why it failed.
        let rendered = checked.rendered?;
        // Past `report`, every finding is a warning or a note; notes are for `lint` only.
        let mut warnings: Vec<String> = checked
            .findings
            .iter()
            .filter(|f| f.severity == crate::values::check::Severity::Warning)
            .map(crate::findings::line)
            .collect();
        for warning in crate::secrets::default_password_warnings(&loaded.values) {
            eprintln!("warning: {warning}");
            warnings.push(format!("warning: {warning}"));
        }
        if rendered.random_secrets {
            eprintln!("{}", crate::secrets::NOT_REPRODUCIBLE);
            warnings.push(crate::secrets::NOT_REPRODUCIBLE.to_string());
        }
        let mut objects = rendered.objects;
        if self.warnings_config_map && !warnings.is_empty() {
            objects.push(crate::findings::warnings_config_map(
                &self.release,
                &warnings,
            )?);
            crate::object::sort(&mut objects);
        }
        if !self.show_only.is_empty() {
            objects = crate::select::show_only(objects, &self.show_only)?;
        }
        let written = match &self.output_dir {
            Some(dir) => crate::output::write_dir(dir, &objects),
            None => crate::output::write_stream(&objects, &mut std::io::stdout().lock()),
        };
        // The process exits next: freeing the values and objects node by node would only cost
        // time (a tenth of a large render), the operating system takes the memory back at once.
        std::mem::forget(objects);
        std::mem::forget(loaded.values);
        written
    }
}

/// `st2k8s lint`: load and render without output, listing every problem. `Ok(true)` when clean.
pub fn lint(args: crate::cli::LintArgs) -> Result<bool> {
    let crate::cli::LintArgs {
        release_name,
        namespace,
        values,
        strict,
    } = args;
    render::names::check_release(&release_name)?;
    crate::render::names::check_namespace(&namespace)?;
    let loaded = values::load(&read_layers(&values)?)?;
    let release = Release {
        name: release_name,
        namespace,
    };
    let checked = crate::findings::check(&loaded, &release, &render::Options::default(), strict);
    let mut errors = 0;
    for finding in &checked.findings {
        errors += usize::from(finding.severity == values::check::Severity::Error);
        println!("{}", crate::findings::line(finding));
    }
    for warning in crate::secrets::default_password_warnings(&loaded.values) {
        println!("warning: {warning}");
    }
    if let Err(err) = checked.rendered {
        errors += 1;
        println!("error: {}", crate::error::report(err.as_ref()));
    }
    Ok(errors == 0)
}

/// Read every `-f` file (stdin for `-`) and collect `--set` flags in Helm's order (helm v4.1.4
/// `pkg/cli/values/options.go`): files, then `--set-json`, `--set`, `--set-string`, `--set-file`,
/// `--set-literal`.
pub fn read_layers(args: &ValuesArgs) -> Result<Vec<Layer>> {
    let mut layers = Vec::new();
    let mut stdin_used = false;
    for file in &args.values {
        if let Some((scheme, _)) = file.split_once("://")
            && !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
        {
            // Only the scheme: a URL may carry a token (`https://user:token@…`, `?token=…`).
            bail!(
                "-f `{scheme}://…`: URLs are not fetched; download the file first (e.g. `curl -fsSLo values.yaml URL`) and pass its path"
            );
        }
        let text = if file == "-" {
            if stdin_used {
                bail!("`-f -` (stdin) can only be given once");
            }
            stdin_used = true;
            values::read_text(std::io::stdin().lock(), "<stdin>")?
        } else {
            let opened =
                std::fs::File::open(file).map_err(|source| crate::error::ValuesError::Read {
                    file: file.clone(),
                    source,
                })?;
            values::read_text(opened, file)?
        };
        let name = if file == "-" {
            "<stdin>".to_string()
        } else {
            file.clone()
        };
        layers.push(Layer::File { name, text });
    }
    for (kind, args) in [
        (SetKind::Json, &args.set_json),
        (SetKind::Set, &args.set),
        (SetKind::String, &args.set_string),
        (SetKind::File, &args.set_file),
        (SetKind::Literal, &args.set_literal),
    ] {
        layers.extend(args.iter().map(|arg| Layer::Set {
            kind,
            arg: arg.clone(),
        }));
    }
    Ok(layers)
}

#[cfg(test)]
mod tests {

    /// helm v4.1.4 `MergeValues`: files, then --set-json, --set, --set-string, --set-file,
    /// --set-literal, whatever order they were typed in.
    #[test]
    fn layers_follow_helms_flag_order() {
        use crate::cli::ValuesArgs;
        use crate::values::{Layer, SetKind};
        let args = ValuesArgs {
            values: vec![],
            set: vec!["a=set".into()],
            set_string: vec!["a=string".into()],
            set_file: vec!["a=/dev/null".into()],
            set_json: vec!["a=1".into(), "a=2".into()],
            set_literal: vec!["a=literal".into()],
        };
        let kinds: Vec<SetKind> = super::read_layers(&args)
            .expect("no files to read")
            .into_iter()
            .filter_map(|l| match l {
                Layer::Set { kind, .. } => Some(kind),
                Layer::File { .. } => None,
            })
            .collect();
        use SetKind::*;
        assert_eq!(kinds, [Json, Json, Set, String, File, Literal]);
    }

    #[test]
    fn namespaces_are_dns_labels() {
        use crate::render::names::check_namespace;
        assert!(check_namespace("st2").is_ok());
        assert!(check_namespace("my-st2-2").is_ok());
        assert!(check_namespace(&"a".repeat(63)).is_ok());
        for (bad, reason) in [
            ("", "it is empty"),
            ("St2", "lowercase letters, digits and `-`"),
            (
                "st2-",
                "lowercase letters, digits and `-`, starting and ending with a letter or digit",
            ),
            (
                "-st2",
                "lowercase letters, digits and `-`, starting and ending with a letter or digit",
            ),
            ("st_2", "lowercase letters, digits and `-`"),
            ("st2.prod", "lowercase letters, digits and `-`"),
        ] {
            assert_eq!(
                check_namespace(bad).map_err(|e| e.to_string()),
                Err(format!("invalid namespace `{bad}`: {reason}")),
                "{bad}"
            );
        }
        assert_eq!(
            check_namespace(&"a".repeat(64)).map_err(|e| e.to_string()),
            Err(format!(
                "invalid namespace `{}`: 64 characters, at most 63 for Namespace names",
                "a".repeat(64)
            ))
        );
    }
}
