//! The `st2k8s` binary: parse the command line, run, and map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    st2k8s::run(st2k8s::cli::Cli::parse())
}
