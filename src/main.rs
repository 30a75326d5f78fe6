//! The `st2k8s` binary: parse the command line, run, and map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    st2k8s::main()
}
