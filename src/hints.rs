//! Command lines typed as for `helm template`, answered with what to type instead.
//!
//! People moving from the chart reach for Helm's habits: `st2k8s template`, a release name and a
//! chart directory as positional arguments, flags that only mean something to Helm. clap would
//! answer with a generic "unexpected argument" and a "similar argument" tip that points the wrong
//! way (`--kube-version` → `--values`); [`hint`] replaces such errors with one line saying what
//! st2k8s does instead. Like every user error, they exit 2 with nothing on stdout.

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// `helm template` flags that have no meaning for st2k8s, and why.
const HELM_ONLY_FLAGS: &[(&str, &str)] = &[
    (
        "--kube-version",
        "the objects do not depend on the cluster's Kubernetes version (only stable API versions are rendered)",
    ),
    (
        "--api-versions",
        "the objects do not depend on the cluster's API versions (Ingress is always networking.k8s.io/v1)",
    ),
    (
        "--skip-tests",
        "the `helm test` Pod is left out unless `--include-tests` is given",
    ),
    (
        "--is-upgrade",
        "install and upgrade render the same objects (for the setup Jobs see `--target`)",
    ),
    (
        "--include-crds",
        "the chart installs no CRDs (external-dns's `crd.create` is not supported)",
    ),
];

/// A hint replacing clap's message for `err`, given the whole command line `args` (program
/// name first); `None` when clap's own message is the right one.
pub fn hint(err: &clap::Error, args: &[String]) -> Option<String> {
    let invalid = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.as_str()),
        _ => None,
    };
    match err.kind() {
        ErrorKind::InvalidSubcommand => {
            let command = invalid(ContextKind::InvalidSubcommand)?;
            match command {
                "template" => Some(
                    "st2k8s has no `template` command: `st2k8s render` prints what `helm template` prints (release name with `--release-name`, no chart argument)"
                        .into(),
                ),
                "install" | "upgrade" => Some(format!(
                    "st2k8s has no `{command}` command: it does not talk to the cluster; apply what it renders: `st2k8s render -f values.yaml | kubectl apply -f -`"
                )),
                _ => None,
            }
        }
        ErrorKind::UnknownArgument => {
            let arg = invalid(ContextKind::InvalidArg)?;
            let flag = arg.split_once('=').map_or(arg, |(flag, _)| flag);
            if let Some((_, why)) = HELM_ONLY_FLAGS.iter().find(|(f, _)| *f == flag) {
                return Some(format!(
                    "`{flag}` is a Helm flag st2k8s does not need: {why}"
                ));
            }
            let subcommand = args.get(1).map(String::as_str);
            if !arg.starts_with('-') && matches!(subcommand, Some("render" | "lint")) {
                return Some(positional(arg));
            }
            None
        }
        _ => None,
    }
}

/// The hint for a positional argument to `render`/`lint` (`helm template NAME CHART`).
fn positional(arg: &str) -> String {
    let is_name = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if is_name {
        format!(
            "unexpected argument `{arg}`: st2k8s takes no positional arguments; give the release name as `--release-name {arg}` (the chart is built in: no chart directory is needed)"
        )
    } else {
        format!(
            "unexpected argument `{arg}`: st2k8s takes no positional arguments; the chart is built in, so no chart directory is needed (give the release name as `--release-name NAME`)"
        )
    }
}
