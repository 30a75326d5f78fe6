//! The official MongoDB flavor's start script, as rendered, run against stub `mongod` and
//! `mongosh` executables (there is no MongoDB server to run here): each stub records its
//! arguments, the mongosh scripts it was given and the environment they read, and answers
//! canned replies, so every test asserts exactly what the script would have run for one pod:
//! pod 0 on a fresh volume, pod 1 joining, pod 0 restarting in an existing replica set, a
//! featureCompatibilityVersion step, data mongod refuses, a silent peer, a SIGTERM during a call,
//! and values from the environment that must not run as code. Also `shellcheck` on the script.
//!
//! The tests skip with a note when `bash` or `shellcheck` is missing, unless
//! `ST2K8S_TEST_REQUIRE_SERVERS=1` (then they fail). Every process started is stopped by its PID
//! (a guard kills it on failure too), and every wait is bounded.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value as Json;

use super::{St2k8s, documents};

/// The values rendered for every test: the official flavor with an arbiter, StackStorm 3.9.
const VALUES: &str = "image: {tag: '3.9'}\nmongodb:\n  flavor: official\n  arbiter: {enabled: true}\n  auth:\n    rootPassword: root-pw-1234\n    password: app-pw-5678\n    replicaSetKey: rsKeyAbcdef0\n";

/// The credentials of [`VALUES`]: none may show on a command line. (The replica-set key is one
/// mongod accepts: base64 characters only.)
const CREDENTIALS: &[&str] = &["root-pw-1234", "app-pw-5678", "rsKeyAbcdef0"];

/// Whether `tool` can be run; when not, a note (or a failure under
/// `ST2K8S_TEST_REQUIRE_SERVERS=1`).
fn available(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("ST2K8S_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "{tool} is required (ST2K8S_TEST_REQUIRE_SERVERS=1)"
        );
        eprintln!("note: {tool} not found; skipping the MongoDB start-script test");
    }
    found
}

/// The rendered script and the pods' environments.
struct Rendered {
    script: String,
    /// Container env of the member StatefulSet and of the arbiter, unresolved.
    member_env: Vec<Json>,
    arbiter_env: Vec<Json>,
    secret: BTreeMap<String, String>,
}

fn rendered() -> Rendered {
    let run = St2k8s::render()
        .seeded()
        .values("values.yaml", VALUES)
        .run();
    run.assert_success();
    let docs = documents(&run.stdout);
    let find = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{kind}/{name} rendered"))
            .clone()
    };
    let env = |name: &str| {
        find("StatefulSet", name)["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .expect("env")
            .clone()
    };
    let secret = find("Secret", "st2-mongodb")["data"]
        .as_object()
        .expect("secret data")
        .iter()
        .map(|(k, v)| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().expect("base64"))
                .expect("base64");
            (k.clone(), String::from_utf8(raw).expect("utf8"))
        })
        .collect();
    Rendered {
        script: find("ConfigMap", "st2-mongodb-scripts")["data"]["start.sh"]
            .as_str()
            .expect("start.sh")
            .to_string(),
        member_env: env("st2-mongodb"),
        arbiter_env: env("st2-mongodb-arbiter"),
        secret,
    }
}

/// A private scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "st2k8s-mongodb-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The running start script; killed (with the stub mongod it started) when dropped.
struct Pod {
    child: Option<Child>,
    stub: PathBuf,
}

impl Pod {
    /// Send SIGTERM (as the kubelet does) and wait, bounded, for the script's exit status.
    fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        wait_bounded(&mut child, Duration::from_secs(20))
    }

    /// Wait, bounded, for the script to end on its own.
    fn exit(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        wait_bounded(&mut child, Duration::from_secs(30))
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The stub mongod and a hanging stub mongosh, should the script have left them running.
        for stub in ["mongod.pid", "mongosh.pid"] {
            if let Ok(pid) = std::fs::read_to_string(self.stub.join(stub)) {
                let _ = Command::new("kill")
                    .args(["-KILL", pid.trim()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the start script did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A file's text, empty when it does not exist (yet).
fn read_file(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The stub `mongod`: records its arguments and PID; runs until SIGTERM (then exits 0), or
/// exits at once with `STUB_MONGOD_EXIT`. Bounded life: 60 s.
const STUB_MONGOD: &str = r#"#!/bin/bash
printf '%s\n' "$@" > "$STUB_DIR/mongod.args"
echo $$ > "$STUB_DIR/mongod.pid"
if [[ -n "${STUB_MONGOD_EXIT:-}" ]]; then exit "$STUB_MONGOD_EXIT"; fi
trap 'exit 0' TERM
for _ in $(seq 600); do sleep 0.1; done
exit 1
"#;

/// The stub `mongosh`: logs one line per call (`<script name> <uri>`), the full argument list,
/// the environment the scripts read, and prints the next canned reply for that script
/// (`replies/<name>`: one reply per line, the last one repeated; `FAIL` fails the call, `HANG`
/// never answers).
const STUB_MONGOSH: &str = r#"#!/bin/bash
uri="$3"; script="$5"
name="$(sed -n 's|^/\* st2k8s:\([a-z]*\) \*/.*|\1|p' <<< "$script" | head -n 1)"
echo "$name $uri" >> "$STUB_DIR/mongosh.log"
printf '%s\n' "$@" >> "$STUB_DIR/mongosh.args"
printf '%s\n' "$script" > "$STUB_DIR/script.$name"
echo "$name self=${MONGODB_SELF:-} role=${MONGODB_ROLE:-} version=${MONGODB_VERSION:-} root=${MONGODB_ROOT_PASSWORD:+set} user=${MONGODB_USERNAME:-}" >> "$STUB_DIR/mongosh.env"
replies="$STUB_DIR/replies/$name"
reply="$(head -n 1 "$replies")"
if [[ "$(wc -l < "$replies")" -gt 1 ]]; then sed -i 1d "$replies"; fi
if [[ "$reply" == FAIL* ]]; then echo "MongoServerError: ${reply#FAIL }" >&2; exit 1; fi
if [[ "$reply" == HANG ]]; then echo $$ > "$STUB_DIR/mongosh.pid"; exec sleep 60; fi
echo "$reply"
"#;

/// Canned replies of the stub mongosh: script name, replies in order.
type Replies = &'static [(&'static str, &'static [&'static str])];

/// The stub `getent`: a pod's DNS name resolves (to a loopback address) only with
/// `STUB_RESOLVES=1`, as a peer pod's name does while that pod exists.
const STUB_GETENT: &str = r#"#!/bin/bash
if [[ "${STUB_RESOLVES:-}" == 1 ]]; then echo "127.0.23.1 $2"; exit 0; fi
exit 2
"#;

/// One emulated pod: its name, whether its volume holds data already, the canned replies.
struct Case<'a> {
    pod: &'a str,
    arbiter: bool,
    data: bool,
    replies: Replies,
    mongod_exit: Option<i32>,
    /// Extra environment of the script, over the rendered one and the test's short retries.
    env: &'a [(&'a str, &'a str)],
    /// Stop the pod (SIGTERM) as soon as mongosh was called, instead of once it is ready.
    stop_at_first_call: bool,
}

impl<'a> Case<'a> {
    /// Replica-set member `pod` (on a volume with `data` or an empty one) whose mongod runs.
    fn member(pod: &'a str, data: bool, replies: Replies) -> Self {
        Case {
            pod,
            arbiter: false,
            data,
            replies,
            mongod_exit: None,
            env: &[],
            stop_at_first_call: false,
        }
    }
}

/// What one run left behind.
struct Outcome {
    status: Option<i32>,
    log: String,
    calls: Vec<String>,
    mongosh_args: String,
    mongosh_env: Vec<String>,
    mongod_args: Vec<String>,
    keyfile: Option<(String, u32)>,
    scripts: BTreeMap<String, String>,
    /// Whether anything created `$STUB_DIR/injected` (what the injection tests try).
    injected: bool,
}

fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write stub");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Run the rendered script as `case.pod` would, with the rendered environment (Kubernetes'
/// `$(VAR)` references expanded, field and secret references resolved, the pod's paths moved
/// into the scratch dir), and stop it once it reports `ready` (or let it end on its own).
fn run(rendered: &Rendered, case: &Case, name: &str) -> Outcome {
    let scratch = Scratch::new(name);
    let root = &scratch.0;
    let stub = root.join("stub");
    let bin = stub.join("bin");
    std::fs::create_dir_all(bin.clone()).expect("stub bin");
    std::fs::create_dir_all(stub.join("replies")).expect("replies");
    write_executable(&bin.join("mongod"), STUB_MONGOD);
    write_executable(&bin.join("mongosh"), STUB_MONGOSH);
    write_executable(&bin.join("getent"), STUB_GETENT);
    for (script, replies) in case.replies {
        std::fs::write(
            stub.join("replies").join(script),
            replies.iter().map(|r| format!("{r}\n")).collect::<String>(),
        )
        .expect("replies");
    }
    write_executable(&root.join("start.sh"), &rendered.script);

    let env_list = if case.arbiter {
        &rendered.arbiter_env
    } else {
        &rendered.member_env
    };
    let mut env: Vec<(String, String)> = Vec::new();
    for entry in env_list {
        let name = entry["name"].as_str().expect("env name").to_string();
        let value = if let Some(value) = entry.get("value") {
            value.as_str().expect("env value").to_string()
        } else if let Some(field) = entry.pointer("/valueFrom/fieldRef/fieldPath") {
            match field.as_str() {
                Some("metadata.name") => case.pod.to_string(),
                _ => "default".to_string(),
            }
        } else {
            let key = entry
                .pointer("/valueFrom/secretKeyRef/key")
                .and_then(Json::as_str)
                .expect("secret key");
            rendered.secret[key].clone()
        };
        // Kubernetes expands $(VAR) of variables defined earlier.
        let mut expanded = value;
        for (k, v) in &env {
            expanded = expanded.replace(&format!("$({k})"), v);
        }
        // The pod's paths, inside the scratch dir.
        for prefix in ["/bitnami/", "/st2k8s/"] {
            if expanded.starts_with(prefix) {
                expanded = format!("{}{}", root.display(), expanded);
            }
        }
        env.push((name, expanded));
    }
    let get = |key: &str| {
        env.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let data_dir = PathBuf::from(get("MONGODB_DATA_DIR"));
    std::fs::create_dir_all(&data_dir).expect("data dir");
    if case.data {
        std::fs::write(
            data_dir.join("WiredTiger"),
            "data the chart's MongoDB wrote",
        )
        .expect("old data");
    }
    for key in ["MONGODB_KEY_SOURCE", "MONGODB_KEY_FILE"] {
        let path = PathBuf::from(get(key));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("key dir");
    }
    std::fs::write(
        get("MONGODB_KEY_SOURCE"),
        &rendered.secret["mongodb-replica-set-key"],
    )
    .expect("key secret");
    std::fs::create_dir_all(get("HOME")).expect("home");

    let mut command = Command::new("bash");
    command
        .arg(root.join("start.sh"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("STUB_DIR", &stub)
        .env("MONGODB_SETUP_TRIES", "3")
        .env("MONGODB_SETUP_DELAY", "0")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .envs(case.env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(code) = case.mongod_exit {
        command.env("STUB_MONGOD_EXIT", code.to_string());
    }
    let log_path = root.join("log");
    let log_file = std::fs::File::create(&log_path).expect("log");
    command
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file);
    let mut pod = Pod {
        child: Some(command.spawn().expect("bash starts")),
        stub: stub.clone(),
    };
    let status = if case.mongod_exit.is_some() {
        pod.exit()
    } else {
        let start = Instant::now();
        let called = || !read_file(&stub.join("mongosh.log")).is_empty();
        let ready = || read_file(&log_path).contains("st2k8s-mongodb: ready");
        let stop_now = || ready() || (case.stop_at_first_call && called());
        while !stop_now() {
            if let Some(Ok(Some(_))) = pod.child.as_mut().map(Child::try_wait) {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "not ready within 30 s: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        pod.stop()
    };
    let read = |name: &str| std::fs::read_to_string(stub.join(name)).unwrap_or_default();
    let keyfile = std::fs::metadata(get("MONGODB_KEY_FILE")).ok().map(|meta| {
        (
            std::fs::read_to_string(get("MONGODB_KEY_FILE")).unwrap_or_default(),
            meta.permissions().mode() & 0o777,
        )
    });
    let scripts = std::fs::read_dir(&stub)
        .expect("stub dir")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let script = name.strip_prefix("script.")?.to_string();
            Some((script, std::fs::read_to_string(e.path()).ok()?))
        })
        .collect();
    let root_text = root.display().to_string();
    let outcome = Outcome {
        status,
        log: std::fs::read_to_string(&log_path).unwrap_or_default(),
        calls: read("mongosh.log").lines().map(str::to_string).collect(),
        mongosh_args: read("mongosh.args"),
        mongosh_env: read("mongosh.env").lines().map(str::to_string).collect(),
        mongod_args: read("mongod.args")
            .lines()
            .map(|l| l.replace(&root_text, ""))
            .collect(),
        keyfile,
        scripts,
        injected: stub.join("injected").exists(),
    };
    // The stub mongod ended with the script.
    if let Ok(pid) = std::fs::read_to_string(stub.join("mongod.pid")) {
        let alive = Command::new("kill")
            .args(["-0", pid.trim()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(!alive, "mongod still runs after the script ended");
    }
    drop(pod);
    outcome
}

const LOCAL: &str = "mongodb://127.0.0.1:27017/admin?directConnection=true";
const SET: &str = "mongodb://st2-mongodb-0.st2-mongodb-headless.default.svc.cluster.local:27017/admin?replicaSet=rs0";
const PEER: &str = "mongodb://st2-mongodb-1.st2-mongodb-headless.default.svc.cluster.local:27017/admin?directConnection=true&serverSelectionTimeoutMS=5000";

fn no_credentials_on_command_lines(outcome: &Outcome) {
    let lines = format!(
        "{}\n{}",
        outcome.mongosh_args,
        outcome.mongod_args.join("\n")
    );
    for credential in CREDENTIALS {
        assert!(
            !lines.contains(credential),
            "a credential on a command line: {lines}"
        );
    }
}

fn member_mongod_args() -> Vec<String> {
    [
        "--dbpath",
        "/bitnami/mongodb/data/db",
        "--port",
        "27017",
        "--bind_ip_all",
        "--replSet",
        "rs0",
        "--keyFile",
        "/st2k8s/keyfile/key",
    ]
    .map(String::from)
    .to_vec()
}

/// The rendered objects, or `None` (after a note) when `bash` is missing.
fn setup() -> Option<Rendered> {
    available("bash").then(rendered)
}

/// Pod 0 on an empty volume, as the first member of a new set sees its server.
const FRESH: Replies = &[
    ("state", &["uninitialized", "primary"]),
    ("peer", &["no set"]),
    ("initiate", &["initiated"]),
    ("users", &["users ready"]),
    ("fcv", &["fcv 7.0"]),
];

/// A member or the arbiter on an empty volume, not in the set yet.
const JOINING: Replies = &[("state", &["uninitialized"]), ("join", &["added"])];

/// Run `case` on a fresh render (see [`run`]) and require a clean start and stop; `None` when
/// `bash` is missing.
fn started(case: &Case, name: &str) -> Option<Outcome> {
    let outcome = run(&setup()?, case, name);
    assert_eq!(outcome.status, Some(0), "{}", outcome.log);
    Some(outcome)
}

#[test]
fn pod_0_on_an_empty_volume_initiates_the_set_and_creates_the_users() {
    let Some(outcome) = started(&Case::member("st2-mongodb-0", false, FRESH), "fresh") else {
        return;
    };
    assert_eq!(outcome.mongod_args, member_mongod_args());
    assert_eq!(
        outcome.calls,
        [
            format!("state {LOCAL}"),
            format!("peer {PEER}"),
            format!("initiate {LOCAL}"),
            format!("state {LOCAL}"),
            format!("users {LOCAL}"),
            format!("fcv {SET}"),
        ]
    );
    let self_line = "self=st2-mongodb-0.st2-mongodb-headless.default.svc.cluster.local:27017 role=member version=7.0 root=set user=st2-admin";
    assert_eq!(outcome.mongosh_env[2], format!("initiate {self_line}"));
    // The key file is the Secret's key, readable by its owner only.
    assert_eq!(outcome.keyfile, Some(("rsKeyAbcdef0".to_string(), 0o400)));
    no_credentials_on_command_lines(&outcome);
    // The users script reads the passwords from the environment.
    let users = &outcome.scripts["users"];
    assert!(users.contains("pwd: env.MONGODB_ROOT_PASSWORD"), "{users}");
    assert!(
        users.contains(r#"roles: [{role: "readWrite", db: env.MONGODB_DATABASE}]"#),
        "{users}"
    );
    assert!(outcome.log.contains("data in "), "{}", outcome.log);
    assert!(outcome.log.contains("(empty)"), "{}", outcome.log);
}

#[test]
fn pod_0_on_an_empty_volume_beside_a_running_set_does_not_initiate_a_second_one() {
    let Some(outcome) = started(
        &Case::member(
            "st2-mongodb-0",
            false,
            &[("state", &["uninitialized"]), ("peer", &["in a set"])],
        ),
        "resync",
    ) else {
        return;
    };
    assert_eq!(
        outcome.calls,
        [format!("state {LOCAL}"), format!("peer {PEER}")]
    );
    assert!(
        outcome.log.contains("st2k8s-mongodb: the other members already run replica set rs0: not initiating; waiting for the initial sync"),
        "{}",
        outcome.log
    );
}

#[test]
fn pod_0_on_an_empty_volume_beside_a_silent_peer_waits_and_never_initiates() {
    let Some(rendered) = setup() else {
        return;
    };
    let silent = Case {
        env: &[("STUB_RESOLVES", "1")],
        ..Case::member(
            "st2-mongodb-0",
            false,
            &[
                ("state", &["uninitialized"]),
                ("peer", &["FAIL connect ECONNREFUSED"]),
            ],
        )
    };
    let outcome = run(&rendered, &silent, "silent-peer");
    assert_eq!(outcome.status, Some(1), "{}", outcome.log);
    // Asked once, then three bounded tries; nothing initiated, no user created.
    assert_eq!(
        outcome.calls,
        [
            format!("state {LOCAL}"),
            format!("peer {PEER}"),
            format!("peer {PEER}"),
            format!("peer {PEER}"),
            format!("peer {PEER}"),
        ]
    );
    assert!(
        outcome.log.contains("st2k8s-mongodb: st2-mongodb-1.st2-mongodb-headless.default.svc.cluster.local exists but does not answer: not initiating a second replica set beside it (MongoServerError: connect ECONNREFUSED)"),
        "{}",
        outcome.log
    );
    // The peer answers in time: this member waits for its initial sync.
    let late = Case {
        replies: &[
            ("state", &["uninitialized"]),
            ("peer", &["FAIL connect ECONNREFUSED", "in a set"]),
        ],
        ..silent
    };
    let outcome = run(&rendered, &late, "late-peer");
    assert_eq!(outcome.status, Some(0), "{}", outcome.log);
    assert!(
        outcome
            .log
            .contains("not initiating; waiting for the initial sync"),
        "{}",
        outcome.log
    );
    // No such pod (a new install): the set is initiated.
    let absent = Case {
        env: &[],
        replies: &[
            ("state", &["uninitialized", "primary"]),
            ("peer", &["FAIL getaddrinfo ENOTFOUND"]),
            ("initiate", &["initiated"]),
            ("users", &["users ready"]),
            ("fcv", &["fcv 7.0"]),
        ],
        ..silent
    };
    let outcome = run(&rendered, &absent, "no-peer");
    assert_eq!(outcome.status, Some(0), "{}", outcome.log);
    assert_eq!(outcome.calls[2], format!("initiate {LOCAL}"));
}

#[test]
fn pod_1_joins_through_the_primary_and_the_arbiter_as_an_arbiter() {
    let Some(outcome) = started(&Case::member("st2-mongodb-1", false, JOINING), "join") else {
        return;
    };
    assert_eq!(outcome.mongod_args, member_mongod_args());
    assert_eq!(
        outcome.calls,
        [format!("state {LOCAL}"), format!("join {SET}")]
    );
    assert_eq!(
        outcome.mongosh_env[1],
        "join self=st2-mongodb-1.st2-mongodb-headless.default.svc.cluster.local:27017 role=member version=7.0 root=set user=st2-admin"
    );
    assert!(outcome.scripts["join"].contains("rs.add({host: self})"));
    no_credentials_on_command_lines(&outcome);

    let arbiter = started(
        &Case {
            arbiter: true,
            ..Case::member("st2-mongodb-arbiter-0", false, JOINING)
        },
        "arbiter",
    )
    .expect("bash found before");
    assert_eq!(
        arbiter.calls,
        [format!("state {LOCAL}"), format!("join {SET}")]
    );
    assert_eq!(
        arbiter.mongosh_env[1],
        "join self=st2-mongodb-arbiter-0.st2-mongodb-arbiter-headless.default.svc.cluster.local:27017 role=arbiter version=7.0 root=set user="
    );
    assert_eq!(arbiter.mongod_args[1], "/st2k8s/arbiter/data/db");
    no_credentials_on_command_lines(&arbiter);
}

#[test]
fn pod_0_restarting_in_a_set_keeps_data_set_and_users() {
    let Some(outcome) = started(
        &Case::member(
            "st2-mongodb-0",
            true,
            &[
                ("state", &["uninitialized", "uninitialized", "member"]),
                ("fcv", &["fcv 7.0"]),
            ],
        ),
        "restart",
    ) else {
        return;
    };
    // The configuration loads a moment after mongod answers: asked again, not initiated again,
    // and no users touched on a secondary; the data is where it was.
    assert_eq!(
        outcome.calls,
        [
            format!("state {LOCAL}"),
            format!("state {LOCAL}"),
            format!("state {LOCAL}"),
            format!("fcv {SET}"),
        ]
    );
    assert!(outcome.log.contains("(kept)"), "{}", outcome.log);
    assert_eq!(outcome.mongod_args, member_mongod_args());
}

#[test]
fn pod_0_raises_the_feature_compatibility_version_once_every_member_runs_the_release() {
    let Some(outcome) = started(
        &Case::member(
            "st2-mongodb-0",
            true,
            &[
                ("state", &["primary"]),
                ("users", &["users ready"]),
                (
                    "fcv",
                    &[
                        "waiting: st2-mongodb-1.st2-mongodb-headless.default.svc.cluster.local:27017 runs 6.0.28",
                        "fcv 7.0 (raised now)",
                    ],
                ),
            ],
        ),
        "fcv",
    ) else {
        return;
    };
    assert_eq!(
        outcome.calls,
        [
            format!("state {LOCAL}"),
            format!("users {LOCAL}"),
            format!("fcv {SET}"),
            format!("fcv {SET}"),
        ]
    );
    assert!(
        outcome
            .log
            .contains("st2k8s-mongodb: featureCompatibilityVersion 7.0 (raised now)"),
        "{}",
        outcome.log
    );
    let fcv = &outcome.scripts["fcv"];
    for needle in [
        "const target = process.env.MONGODB_VERSION;",
        "const command = {setFeatureCompatibilityVersion: target};",
        "if (number(target) >= number(\"7.0\")) { command.confirm = true; }",
        "if (!String(version).startsWith(target + \".\")) { behind.push(",
    ] {
        assert!(fcv.contains(needle), "{needle} missing from {fcv}");
    }
    no_credentials_on_command_lines(&outcome);
}

#[test]
fn data_mongod_refuses_is_explained_and_left_alone() {
    let Some(rendered) = setup() else {
        return;
    };
    let outcome = run(
        &rendered,
        &Case {
            mongod_exit: Some(62),
            ..Case::member(
                "st2-mongodb-2",
                true,
                &[("state", &["FAIL connect ECONNREFUSED"])],
            )
        },
        "refused",
    );
    assert_eq!(outcome.status, Some(62), "{}", outcome.log);
    assert!(
        outcome.log.contains("st2k8s-mongodb: mongod 7.0 refused the data files: their featureCompatibilityVersion is more than one release series older. Nothing was changed."),
        "{}",
        outcome.log
    );
    // At most the state was asked while mongod was ending; nothing was initiated or joined.
    assert!(
        outcome.calls.iter().all(|c| c.starts_with("state ")),
        "{:?}",
        outcome.calls
    );
}

#[test]
fn sigterm_during_a_mongosh_call_stops_mongod_at_once() {
    let Some(rendered) = setup() else {
        return;
    };
    let case = Case {
        stop_at_first_call: true,
        ..Case::member("st2-mongodb-0", true, &[("state", &["HANG"])])
    };
    let start = Instant::now();
    let outcome = run(&rendered, &case, "sigterm");
    // mongosh would hang for a minute; the kubelet's grace period is 30 s.
    assert!(start.elapsed() < Duration::from_secs(10), "{}", outcome.log);
    assert_eq!(outcome.status, Some(0), "{}", outcome.log);
    assert!(
        outcome.log.contains(
            "st2k8s-mongodb: stopping mongod\nst2k8s-mongodb: mongod ended with status 0"
        ),
        "{}",
        outcome.log
    );
}

#[test]
fn retry_settings_from_the_environment_are_numbers_not_code() {
    let Some(outcome) = started(
        &Case {
            env: &[
                ("MONGODB_SETUP_TRIES", "a[$(touch $STUB_DIR/injected)]"),
                ("MONGODB_SETUP_DELAY", "b[$(touch $STUB_DIR/injected)]"),
            ],
            ..Case::member("st2-mongodb-1", false, JOINING)
        },
        "tries",
    ) else {
        return;
    };
    assert!(!outcome.injected, "{}", outcome.log);
    for line in [
        "st2k8s-mongodb: MONGODB_SETUP_TRIES is not a whole number from 1 to 9999; using 60",
        "st2k8s-mongodb: MONGODB_SETUP_DELAY is not a whole number of seconds from 0 to 999; using 5",
    ] {
        assert!(outcome.log.contains(line), "{}", outcome.log);
    }
}

#[test]
fn every_retry_logs_what_it_waits_for() {
    let Some(outcome) = started(
        &Case::member(
            "st2-mongodb-0",
            true,
            &[
                ("state", &["FAIL connect ECONNREFUSED", "primary"]),
                ("users", &["users ready"]),
                (
                    "fcv",
                    &["waiting: m1:27017 runs 6.0.28", "fcv 7.0 (raised now)"],
                ),
            ],
        ),
        "waits",
    ) else {
        return;
    };
    let waits: Vec<&str> = outcome
        .log
        .lines()
        .filter(|l| l.contains("waiting for"))
        .collect();
    assert_eq!(
        waits,
        [
            "st2k8s-mongodb: waiting for mongod to answer (1/3): MongoServerError: connect ECONNREFUSED",
            "st2k8s-mongodb: waiting for every member to run MongoDB 7.0 (1/3): waiting: m1:27017 runs 6.0.28",
        ]
    );
}

#[test]
fn the_rendered_start_script_passes_shellcheck() {
    if !crate::shellcheck::available("the MongoDB start script") {
        return;
    }
    let rendered = rendered();
    let scratch = Scratch::new("shellcheck");
    let path = scratch.0.join("start.sh");
    std::fs::write(&path, &rendered.script).expect("script");
    // Also the optional check that a failing command substitution is not masked.
    crate::shellcheck::assert_clean(&["--enable=check-extra-masked-returns"], &[path]);
}

/// A stand-in for the mongosh API the scripts use (`db`, `rs`, `Mongo`, `print`), over a fake
/// server state given in `FAKE` (JSON); every call that changes something is logged, and the
/// log is printed last as `CALLS <json>`.
const MONGOSH_FAKE: &str = r#"
const fake = JSON.parse(process.env.FAKE);
const calls = [];
globalThis.print = (...args) => console.log(args.join(" "));
globalThis.db = {
  getSiblingDB(name) {
    return {
      auth(user, pwd) {
        calls.push(["auth", name, user, pwd === process.env.MONGODB_ROOT_PASSWORD]);
        if (!fake.authOk) { throw new Error("Authentication failed"); }
        return {ok: 1};
      },
      createUser(doc) {
        calls.push(["createUser", name, doc.user, doc.pwd.length > 0, doc.roles]);
        // The first user ends the localhost exception: from now on, authenticate as it.
        if (name === "admin" && doc.user === "root") { fake.authOk = true; }
      },
      getUser(user) { return fake.users.includes(user) ? {user} : null; },
    };
  },
  adminCommand(command) {
    if ("getParameter" in command) { return {featureCompatibilityVersion: fake.fcv}; }
    if ("getDefaultRWConcern" in command) { return {defaultWriteConcernSource: fake.dwc}; }
    calls.push(["adminCommand", command]);
    return {ok: 1};
  },
};
globalThis.rs = {
  status() { return {members: fake.members.map((m) => ({name: m.name, health: m.health}))}; },
  conf() { return {members: fake.members.map((m) => ({host: m.name}))}; },
  add(member) { calls.push(["rs.add", member]); },
  addArb(host) { calls.push(["rs.addArb", host]); },
};
globalThis.Mongo = function (uri) {
  return {getDB() { return {runCommand() {
    const m = fake.members.find((m) => uri === "mongodb://" + m.name + "/?directConnection=true");
    return {version: m.version};
  }}; }};
};
process.on("exit", () => console.log("CALLS " + JSON.stringify(calls)));
"#;

/// Run a captured mongosh script on the fake state; returns what it printed and the calls.
fn on_fake(script: &str, fake: &str, env: &[(&str, &str)]) -> (String, Json) {
    let out = Command::new("node")
        .arg("-e")
        .arg(format!("{MONGOSH_FAKE}\n{script}"))
        .env("FAKE", fake)
        .env("MONGODB_ROOT_PASSWORD", "root-pw-1234")
        .envs(env.iter().copied())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (printed, calls) = stdout.rsplit_once("CALLS ").expect("calls printed");
    (
        printed.trim().to_string(),
        serde_json::from_str(calls.trim()).expect("calls json"),
    )
}

#[test]
fn the_mongosh_scripts_create_join_and_step_as_they_say() {
    let Some(rendered) = setup() else {
        return;
    };
    // node is not among the CI's required tools: without it, this test only notes the skip.
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("note: node not found; skipping the mongosh script logic test");
        return;
    }
    let fresh = run(
        &rendered,
        &Case::member("st2-mongodb-0", false, FRESH),
        "scripts",
    );
    let joined = run(
        &rendered,
        &Case::member("st2-mongodb-1", false, JOINING),
        "scripts-join",
    );
    let member = |name: &str, version: &str| {
        format!(r#"{{"name": "{name}:27017", "health": 1, "version": "{version}"}}"#)
    };
    let members = |versions: [&str; 3]| {
        format!(
            "[{}, {}, {}]",
            member("m0", versions[0]),
            member("m1", versions[1]),
            member("m2", versions[2])
        )
    };
    let fake = |auth_ok: bool, users: &str, fcv: &str, versions: [&str; 3]| {
        format!(
            r#"{{"authOk": {auth_ok}, "users": {users}, "fcv": {fcv}, "dwc": "implicit", "members": {}}}"#,
            members(versions)
        )
    };
    let app = [
        ("MONGODB_USERNAME", "st2-admin"),
        ("MONGODB_DATABASE", "st2"),
        ("MONGODB_PASSWORD", "app-pw-5678"),
    ];

    // A fresh set: root (localhost exception), then the application user, readWrite on st2.
    let users = &fresh.scripts["users"];
    let (printed, calls) = on_fake(
        users,
        &fake(false, "[]", r#"{"version": "7.0"}"#, ["7.0.37"; 3]),
        &app,
    );
    assert_eq!(
        printed,
        "created the root user\ncreated the application user\nusers ready"
    );
    assert_eq!(
        calls,
        serde_json::json!([
            ["auth", "admin", "root", true],
            ["createUser", "admin", "root", true, [{"role": "root", "db": "admin"}]],
            ["auth", "admin", "root", true],
            ["createUser", "st2", "st2-admin", true, [{"role": "readWrite", "db": "st2"}]],
        ])
    );
    // Users the chart's MongoDB created are kept.
    let (printed, calls) = on_fake(
        users,
        &fake(
            true,
            r#"["st2-admin"]"#,
            r#"{"version": "4.4"}"#,
            ["5.0.33"; 3],
        ),
        &app,
    );
    assert_eq!(printed, "users ready");
    assert_eq!(calls, serde_json::json!([["auth", "admin", "root", true]]));

    // The step is taken only once every member runs the release, with `confirm` from 7.0 on.
    let fcv = &fresh.scripts["fcv"];
    let step = |from: &str, target: &str, versions: [&str; 3]| {
        on_fake(
            fcv,
            &fake(true, "[]", &format!(r#"{{"version": "{from}"}}"#), versions),
            &[("MONGODB_VERSION", target)],
        )
    };
    let (printed, calls) = step("6.0", "7.0", ["7.0.37", "6.0.28", "7.0.37"]);
    assert_eq!(printed, "waiting: m1:27017 runs 6.0.28");
    assert_eq!(calls, serde_json::json!([["auth", "admin", "root", true]]));
    let (printed, calls) = step("6.0", "7.0", ["7.0.37"; 3]);
    assert_eq!(printed, "fcv 7.0 (raised now)");
    assert_eq!(
        calls[1],
        serde_json::json!(["adminCommand", {"setFeatureCompatibilityVersion": "7.0", "confirm": true}])
    );
    let (printed, calls) = step("4.4", "5.0", ["5.0.33"; 3]);
    assert_eq!(printed, "fcv 5.0 (raised now)");
    assert_eq!(
        calls[1],
        serde_json::json!(["adminCommand", {"setFeatureCompatibilityVersion": "5.0"}])
    );
    // Already there (or above): nothing is changed.
    let (printed, calls) = step("7.0", "7.0", ["7.0.37"; 3]);
    assert_eq!(printed, "fcv 7.0");
    assert_eq!(calls.as_array().map(Vec::len), Some(1));

    // Joining: a member already in the configuration is left alone; a new one is added; an
    // arbiter first makes the default write concern explicit.
    let join = &joined.scripts["join"];
    let state = fake(true, "[]", r#"{"version": "7.0"}"#, ["7.0.37"; 3]);
    let (printed, calls) = on_fake(join, &state, &[("MONGODB_SELF", "m1:27017")]);
    assert_eq!(printed, "member");
    assert_eq!(calls.as_array().map(Vec::len), Some(1));
    let (printed, calls) = on_fake(join, &state, &[("MONGODB_SELF", "m3:27017")]);
    assert_eq!(printed, "added");
    assert_eq!(
        calls[1],
        serde_json::json!(["rs.add", {"host": "m3:27017"}])
    );
    let (printed, calls) = on_fake(
        join,
        &state,
        &[("MONGODB_SELF", "a0:27017"), ("MONGODB_ROLE", "arbiter")],
    );
    assert_eq!(printed, "added");
    assert_eq!(
        calls,
        serde_json::json!([
            ["auth", "admin", "root", true],
            ["adminCommand", {"setDefaultRWConcern": 1, "defaultWriteConcern": {"w": "majority"}}],
            ["rs.addArb", "a0:27017"],
        ])
    );
}

#[test]
fn lint_strict_makes_bitnami_only_keys_errors() {
    let values = format!("{VALUES}  metrics:\n    enabled: true\n");
    let line = |text: &str| {
        text.lines()
            .find(|l| l.contains("`mongodb.metrics.enabled`"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let want = ":10:5: `mongodb.metrics.enabled`: does not apply to `mongodb.flavor: official` (a setting of the chart's bitnami MongoDB); ignored";
    let warned = St2k8s::lint().seeded().values("values.yaml", &values).run();
    assert_eq!(warned.code, Some(0), "{}{}", warned.stdout, warned.stderr);
    let got = line(&warned.stdout);
    assert!(
        got.starts_with("warning: ") && got.ends_with(want),
        "{}",
        warned.stdout
    );
    let strict = St2k8s::lint()
        .seeded()
        .args(&["--strict"])
        .values("values.yaml", &values)
        .run();
    assert_eq!(strict.code, Some(1), "{}{}", strict.stdout, strict.stderr);
    let got = line(&strict.stdout);
    assert!(
        got.starts_with("error: ") && got.ends_with(want),
        "{}",
        strict.stdout
    );
}

#[test]
fn st2_connects_as_before() {
    let render = |flavor: &str| {
        let run = St2k8s::render()
            .seeded()
            .values("values.yaml", &VALUES.replace("flavor: official", flavor))
            .run();
        run.assert_success();
        documents(&run.stdout)
            .into_iter()
            .filter(|d| {
                matches!(
                    d["metadata"]["name"].as_str(),
                    Some("st2-st2-config" | "st2-st2-credentials")
                )
            })
            .collect::<Vec<_>>()
    };
    let official = render("flavor: official");
    assert_eq!(official.len(), 2);
    assert_eq!(official, render("flavor: bitnami"));
}
