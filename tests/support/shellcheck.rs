//! shellcheck of the scripts the backend flavors render, shared by the test crates.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Is shellcheck installed? Without it the caller skips with a note naming `what`, unless
/// `ST2K8S_TEST_REQUIRE_SERVERS=1` (CI), which makes its absence a failure.
pub fn available(what: &str) -> bool {
    let found = Command::new("shellcheck")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("ST2K8S_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "ST2K8S_TEST_REQUIRE_SERVERS=1 but shellcheck is missing (apt-get install shellcheck)"
        );
        println!("note: skipping shellcheck of {what}: shellcheck missing");
    }
    found
}

/// Assert that shellcheck with `args` finds nothing in `files`, showing its report otherwise.
pub fn assert_clean(args: &[&str], files: &[PathBuf]) {
    let out = Command::new("shellcheck")
        .args(args)
        .args(files)
        .output()
        .expect("shellcheck runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
