//! The command line, as clap types only: what the user typed, with help text. No logic here;
//! the `config` module turns it into resolved settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::render::target::Target;

/// Render StackStorm for Kubernetes from stackstorm-ha values, without Helm.
///
/// st2k8s reads the same values files as the stackstorm-ha Helm chart (1.1.0) and prints the
/// same Kubernetes objects as plain YAML, ready for `kubectl apply -f -`, CI diffs or Argo CD.
#[derive(Debug, Parser)]
#[command(name = "st2k8s", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render every Kubernetes object for a release as YAML
    Render(RenderArgs),
    /// Print the built-in default values (the chart's values.yaml)
    Values,
    /// Print a JSON Schema of the values (for editors: yaml-language-server)
    Schema,
    /// Check values (and st2.conf, pack files) without printing objects: every problem and note listed at once (exit 1 on errors)
    Lint(LintArgs),
    /// Compare two rendered manifests object by object (exit 0 equal, 1 different, 2 error)
    ///
    /// Every value of a Secret in either manifest is shown only as its `redacted:sha256:<12 hex>`
    /// fingerprint, wherever it appears (st2.conf URLs, env values, map keys); a changed
    /// multi-line string is shown as a line diff.
    Diff(DiffArgs),
    /// Argo CD config-management plugin commands
    #[command(subcommand)]
    Argocd(ArgocdCommand),
}

#[derive(Debug, Subcommand)]
pub enum ArgocdCommand {
    /// Render the application in the current directory from Argo CD's environment
    #[command(after_help = GENERATE_ENV)]
    Generate,
    /// Print the parameter announcement (JSON) for the Argo CD UI
    Parameters,
}

/// The environment `argocd generate` reads, for its `--help`.
const GENERATE_ENV: &str = "\
Environment (set by Argo CD; the Application's `spec.source.plugin.env` entries arrive prefixed
with ARGOCD_ENV_):
  ARGOCD_ENV_RELEASE_NAME  release name; wins over the Application's name
  ARGOCD_APP_NAME          the Application's name (`<app namespace>_<name>`: the part after `_`)
  ARGOCD_APP_NAMESPACE     namespace (default `default`)
  ARGOCD_ENV_VALUES_FILES  extra values files in the directory, comma-separated, after values.yaml
  ARGOCD_ENV_SET           extra --set pairs
  ARGOCD_ENV_STRICT        true/1: warnings are errors (as --strict); false/0 (default)
  ARGOCD_APP_PARAMETERS    the UI's parameters (JSON): strings, maps and arrays become --set
  ST2K8S_SECRET_SEED       the secret seed (set on the plugin sidecar, never in the Application)
Warnings are also listed in a ConfigMap `<release>-st2k8s-warnings` (Argo CD hides stderr).";

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Release name (as for `render`)
    #[arg(long, default_value = "st2", value_name = "NAME")]
    pub release_name: String,

    /// Namespace (as for `render`)
    #[arg(short = 'n', long, default_value = "default", value_name = "NS")]
    pub namespace: String,

    #[command(flatten)]
    pub values: ValuesArgs,

    /// Treat warnings (unknown keys, keys nothing reads, unknown st2.conf options) as errors
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old manifest (`-` for stdin)
    pub old: String,
    /// The new manifest (`-` for stdin)
    pub new: String,
}

/// Values layers, in the order Helm applies them.
#[derive(Debug, Args, Clone, Default)]
pub struct ValuesArgs {
    /// A values file layered over the defaults; repeatable, later files win; `-` reads stdin
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<String>,

    /// Set a value: `a.b=c,d=e`, `list[0].x=y`, `{a,b}` lists; infers bool, int and null
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,

    /// Set a value, always as a string
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,

    /// Set a value from a file's contents: `st2.ssh_key=./id_rsa`
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,

    /// Set a value from JSON: `st2.packs.images=[{"name":"x"}]`
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,

    /// Set a value to the rest of the argument, verbatim (no `,` splitting, no escapes)
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct RenderArgs {
    /// Release name: prefixes every object name (lowercase letters, digits and `-`, starting with
    /// a letter; too long a name is refused with the longest one these values allow)
    #[arg(long, default_value = "st2", value_name = "NAME")]
    pub release_name: String,

    /// Namespace the release is installed into
    #[arg(short = 'n', long, default_value = "default", value_name = "NS")]
    pub namespace: String,

    #[command(flatten)]
    pub values: ValuesArgs,

    /// Write one file per object into DIR, plus a kustomization.yaml, instead of printing to stdout
    ///
    /// Files are replaced atomically under a lock (DIR/.st2k8s.lock), links are never followed,
    /// and only files st2k8s wrote before (recorded in DIR/.st2k8s-files) are removed; your own
    /// files and kustomization.yaml entries are kept.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Only print objects matching KIND/NAME (repeatable), e.g. `Deployment/st2-st2api`
    #[arg(short = 's', long = "show-only", value_name = "KIND/NAME")]
    pub show_only: Vec<String>,

    /// Also render the `helm test` Pod (st2tests), which is not a deployable object
    #[arg(long)]
    pub include_tests: bool,

    /// Leave out the setup Jobs (the chart's Helm hooks: register-content, key and API key
    /// loading, RBAC, pack volume checks, `jobs.extra_hooks`), as `helm template --no-hooks` does
    #[arg(long)]
    pub no_hooks: bool,

    /// Treat warnings (unknown keys, keys nothing reads, unknown st2.conf options) as errors
    #[arg(long)]
    pub strict: bool,

    /// How setup Jobs are applied: `kubectl` (hashed names) or `argocd` (hook annotations)
    #[arg(long, value_enum, default_value_t = Target::Kubectl)]
    pub target: Target,

    /// Derive every generated secret from the seed in FILE (a regular file you own, mode 0600;
    /// at least 16 random characters), so renders are reproducible; overrides the
    /// ST2K8S_SECRET_SEED environment variable
    #[arg(long, value_name = "FILE")]
    pub secret_seed_file: Option<PathBuf>,

    /// Replace every Secret value by `redacted:sha256:<12 hex>` (safe to post as a CI diff)
    #[arg(long)]
    pub redact_secrets: bool,
}
