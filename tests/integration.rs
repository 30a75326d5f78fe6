//! End-to-end tests of the `st2k8s` binary: one test binary, one module per feature under
//! `tests/integration/`. [`St2k8s`] builds a command line (with values files written to a
//! private temp dir), runs the real binary and returns what it printed.

#[path = "integration/cli_errors.rs"]
mod cli_errors;
#[path = "integration/immutable_fields.rs"]
mod immutable_fields;
#[path = "integration/validation.rs"]
mod validation;
#[path = "integration/values_input.rs"]
mod values_input;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A command line for the `st2k8s` binary under test.
pub struct St2k8s {
    args: Vec<String>,
    stdin: Option<String>,
    dir: TempDir,
}

/// What one run printed.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl St2k8s {
    /// `st2k8s render` with no other arguments yet.
    pub fn render() -> Self {
        Self {
            args: vec!["render".into()],
            stdin: None,
            dir: TempDir::new(),
        }
    }

    /// `st2k8s lint` with no other arguments yet.
    pub fn lint() -> Self {
        Self {
            args: vec!["lint".into()],
            ..Self::render()
        }
    }

    /// Add command-line arguments as typed.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Write `text` to a file called `name` in the private temp dir and pass it with `-f`.
    pub fn values(self, name: &str, text: &str) -> Self {
        let path = self.file(name, text);
        self.args(&["-f", &path])
    }

    /// Write `text` to a file called `name` in the private temp dir; returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.0.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path.display().to_string()
    }

    /// Feed `text` on standard input.
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }

    pub fn run(self) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_st2k8s"))
            .args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the st2k8s binary starts");
        if let (Some(text), Some(mut pipe)) = (&self.stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("st2k8s finishes");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// A user error: exit code 2, nothing on stdout, no panic, and stderr names every `needle`.
    pub fn assert_user_error(&self, needles: &[&str]) {
        assert_eq!(self.code, Some(2), "exit code; stderr: {}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty on error, got: {}",
            self.stdout
        );
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        assert!(
            self.stderr.starts_with("error: "),
            "stderr: {}",
            self.stderr
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr should name `{needle}`: {}",
                self.stderr
            );
        }
    }

    /// Success: exit code 0 and some YAML on stdout.
    pub fn assert_success(&self) {
        assert_eq!(self.code, Some(0), "exit code; stderr: {}", self.stderr);
        assert!(self.stdout.starts_with("---\n"), "stdout: {}", self.stdout);
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
    }
}

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("st2k8s-it-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
