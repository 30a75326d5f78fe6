//! End-to-end tests of the `st2k8s` binary: one test binary, one module per feature under
//! `tests/integration/`. [`St2k8s`] builds a command line (with values files written to a
//! private temp dir), runs the real binary and returns what it printed.

#[path = "integration/backend_redis.rs"]
mod backend_redis;
#[path = "integration/cli_errors.rs"]
mod cli_errors;
#[path = "integration/config_maps.rs"]
mod config_maps;
#[path = "integration/gitops.rs"]
mod gitops;
#[path = "integration/hostile_input.rs"]
mod hostile_input;
#[path = "integration/immutable_fields.rs"]
mod immutable_fields;
#[path = "integration/mongodb_official.rs"]
mod mongodb_official;
#[path = "integration/names.rs"]
mod names;
#[path = "integration/pod_security.rs"]
mod pod_security;
#[path = "integration/readme.rs"]
mod readme;
#[path = "integration/remedies.rs"]
mod remedies;
#[path = "support/shellcheck.rs"]
mod shellcheck;
#[path = "integration/snapshots.rs"]
mod snapshots;
#[path = "integration/validation.rs"]
mod validation;
#[path = "integration/value_leaks.rs"]
mod value_leaks;
#[path = "integration/values_input.rs"]
mod values_input;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The fixed secret seed of reproducible test renders (`ST2K8S_SECRET_SEED`).
pub const SEED: &str = "st2k8s integration-test seed";

/// A command line for the `st2k8s` binary under test. It runs with none of the caller's
/// `ST2K8S_SECRET_SEED` / `ARGOCD_*` variables, only those set with [`St2k8s::env`].
pub struct St2k8s {
    args: Vec<String>,
    stdin: Option<String>,
    env: Vec<(String, String)>,
    in_dir: bool,
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
        Self::command(&["render"])
    }

    /// Any subcommand, e.g. `&["diff"]` or `&["argocd", "generate"]`, with no other arguments yet.
    pub fn command(args: &[&str]) -> Self {
        Self {
            args: args.iter().map(|a| a.to_string()).collect(),
            stdin: None,
            env: Vec::new(),
            in_dir: false,
            dir: TempDir::new(),
        }
    }

    /// Set an environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Render reproducibly: the fixed [`SEED`] in `ST2K8S_SECRET_SEED`.
    pub fn seeded(self) -> Self {
        self.env("ST2K8S_SECRET_SEED", SEED)
    }

    /// Run in the private temp dir (as Argo CD runs a plugin in the application's directory).
    pub fn in_dir(mut self) -> Self {
        self.in_dir = true;
        self
    }

    /// The private temp dir, removed when the builder is dropped.
    pub fn dir(&self) -> &Path {
        &self.dir.0
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

    /// Start the binary with stdout and stderr piped (stdin fed when set).
    pub fn spawn(&self) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_st2k8s"));
        command.args(&self.args);
        for (key, _) in std::env::vars() {
            if key == "ST2K8S_SECRET_SEED" || key.starts_with("ARGOCD_") {
                command.env_remove(key);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        if self.in_dir {
            command.current_dir(&self.dir.0);
        }
        let mut child = command
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
        child
    }

    pub fn run(self) -> Run {
        let out = self.spawn().wait_with_output().expect("st2k8s finishes");
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

/// The documents of a YAML stream, as JSON (empty documents dropped); panics on invalid YAML.
pub fn documents(yaml: &str) -> Vec<serde_json::Value> {
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(yaml).unwrap_or_else(|e| panic!("invalid YAML stream: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// One scenario's inputs under `tests/scenarios/<name>/`: `values.yaml` and `scenario.yaml`
/// (`release`, `namespace`; defaults `st2`, `default`), copied from the golden renders.
pub struct Scenario {
    pub name: String,
    pub values: PathBuf,
    pub release: String,
    pub namespace: String,
}

impl Scenario {
    /// Every scenario directory, sorted by name: adding a scenario is adding a directory.
    pub fn all() -> Vec<Scenario> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
        let mut names: Vec<String> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
            .filter_map(Result::ok)
            .filter(|e| e.path().join("values.yaml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.iter().map(|n| Scenario::named(n)).collect()
    }

    /// The scenario in `tests/scenarios/<name>/`.
    pub fn named(name: &str) -> Scenario {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios")
            .join(name);
        let meta = std::fs::read_to_string(dir.join("scenario.yaml")).unwrap_or_default();
        let meta: serde_json::Value =
            serde_saphyr::from_str(&meta).unwrap_or_else(|e| panic!("{name}/scenario.yaml: {e}"));
        let field = |key: &str, default: &str| {
            meta.get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        Scenario {
            name: name.to_string(),
            values: dir.join("values.yaml"),
            release: field("release", "st2"),
            namespace: field("namespace", "default"),
        }
    }

    /// `st2k8s render` of this scenario (release, namespace, `-f values.yaml`), seeded.
    pub fn render(&self) -> St2k8s {
        St2k8s::render().seeded().args(&[
            "--release-name",
            &self.release,
            "--namespace",
            &self.namespace,
            "-f",
            &self.values.display().to_string(),
        ])
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
