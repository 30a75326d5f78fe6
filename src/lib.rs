//! st2k8s: render the stackstorm-ha chart's objects from its values, without Helm.
//!
//! Data flows one way: [`config`] resolves the command line, [`values`] loads and merges the
//! values layers as Helm does, [`render`] turns the merged values into typed Kubernetes objects
//! (one builder per component), and [`output`] writes them.

pub mod argocd;
pub mod cli;
pub mod components;
pub mod config;
pub mod diff;
pub mod error;
pub mod findings;
pub mod hex;
pub mod hints;
pub mod object;
pub mod output;
pub mod release;
pub mod render;
pub mod secrets;
pub mod select;
pub mod stackstorm;
pub mod templates;
pub mod tpl;
pub mod values;

use std::process::ExitCode;

use clap::Parser as _;
use cli::{Cli, Command};

/// Parse the process's command line and run it; a command line that does not parse gets clap's
/// message, or a [`hints`] line when it was typed as for Helm.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => run(cli),
        Err(err) => {
            let text: Vec<String> = args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            match hints::hint(&err, &text) {
                Some(hint) => {
                    eprintln!("error: {hint}");
                    ExitCode::from(error::EXIT_ERROR)
                }
                None => {
                    // `--help` and `--version` print to stdout and exit 0; errors go to stderr.
                    let _ = err.print();
                    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(error::EXIT_ERROR))
                }
            }
        }
    }
}

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

/// `st2k8s argocd parameters`: the UI announcement, with the current values of the app. Values
/// that cannot be read are an error, as for `generate`: showing the built-in defaults instead
/// would present values the application does not use.
fn run_argocd_parameters() -> anyhow::Result<bool> {
    let dir = std::env::current_dir()?;
    let config = argocd::parameters_config(&dir)?;
    let values = values::load(&config.layers)?.values;
    let text = serde_json::to_string(&argocd::parameters(&values, &config.release))?;
    output::write_stdout(format!("{text}\n").as_bytes())?;
    Ok(true)
}
