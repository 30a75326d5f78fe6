//! st2k8s: render the stackstorm-ha chart's objects from its values, without Helm.
//!
//! Data flows one way: [`config`] resolves the command line, [`values`] loads and merges the
//! values layers as Helm does, [`render`] turns the merged values into typed Kubernetes objects
//! (one builder per component), and [`output`] writes them.

pub mod argocd;
pub mod cli;
pub mod config;
pub mod diff;
pub mod error;
pub mod findings;
pub mod hex;
pub mod object;
pub mod output;
pub mod release;
pub mod render;
pub mod secrets;
pub mod templates;
pub mod tpl;
pub mod values;

use std::process::ExitCode;

use cli::{Cli, Command};

/// Run a parsed command line and decide the exit code in one place.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Render(args) => config::RenderConfig::from_args(args)
            .and_then(|c| c.execute())
            .map(|()| true),
        Command::Values => output::write_stdout(values::DEFAULTS.as_bytes())
            .map(|()| true)
            .map_err(Into::into),
        Command::Schema => output::write_stdout(values::schema::values_schema().as_bytes())
            .map(|()| true)
            .map_err(Into::into),
        Command::Lint(args) => config::lint(args),
        Command::Diff(args) => run_diff(&args),
        Command::Argocd(cli::ArgocdCommand::Generate) => std::env::current_dir()
            .map_err(anyhow::Error::from)
            .and_then(|dir| argocd::generate_config(&dir))
            .and_then(config::RenderConfig::execute)
            .map(|()| true),
        Command::Argocd(cli::ArgocdCommand::Parameters) => run_argocd_parameters(),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(error::EXIT_DIFFERENT),
        Err(err) => {
            // `st2k8s render | head` must not report an error.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", error::report(err.as_ref()));
            ExitCode::from(error::EXIT_ERROR)
        }
    }
}

/// `st2k8s diff`: `Ok(true)` when the manifests are equal.
fn run_diff(args: &cli::DiffArgs) -> anyhow::Result<bool> {
    if args.old == "-" && args.new == "-" {
        anyhow::bail!("only one of the two manifests can be read from stdin");
    }
    let old = diff::read_manifest(&args.old)?;
    let new = diff::read_manifest(&args.new)?;
    let report = diff::diff(&old, &new, &args.old, &args.new)?;
    output::write_stdout(report.render().as_bytes())?;
    Ok(report.is_empty())
}

/// `st2k8s argocd parameters`: the UI announcement, with defaults from the app's values.
fn run_argocd_parameters() -> anyhow::Result<bool> {
    let dir = std::env::current_dir()?;
    let (values, release) = argocd::generate_config(&dir)
        .and_then(|config| Ok((values::load(&config.layers)?.values, config.release)))
        .or_else(|_| -> anyhow::Result<_> {
            Ok((values::load(&[])?.values, argocd::default_release()))
        })?;
    let text = serde_json::to_string(&argocd::parameters(&values, &release))?;
    output::write_stdout(format!("{text}\n").as_bytes())?;
    Ok(true)
}
