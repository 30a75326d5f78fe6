//! `rabbitmq.flavor: official` against a real RabbitMQ: one node of the machine's
//! `rabbitmq-server` (Debian's 3.10, the closest to the image's 4.x that CI can install) boots
//! from the rendered `rabbitmq.conf`, `enabled_plugins`, definitions and Secret values, on
//! 127.0.22.1 in a temporary directory laid out like the pod's volume, and is checked for what
//! st2 relies on: the st2 user logs in, the definitions' permissions apply, there is no `ha`
//! policy, st2's durable queues become quorum queues while its exclusive and auto-delete
//! queues stay classic, and the bitnami data on the volume is left as it was.
//!
//! What differs from the pod, each because the test runs one node outside Kubernetes:
//! - `cluster_formation.peer_discovery_backend = k8s` becomes `classic_config` (a lone node;
//!   RabbitMQ 3.10's k8s backend would ask the Kubernetes API);
//! - the `quorum_queue.continuous_membership_reconciliation.*` lines are dropped: RabbitMQ 3.10
//!   does not know them (they are RabbitMQ 3.13+/4.x), so the test cannot show replicas
//!   growing back, and with one node there is nothing to grow;
//! - the listeners bind 127.0.22.1 on the pod's ports, the node name is
//!   `<unique>@127.0.22.1`, and `load_definitions` names the temporary copy of the Secret
//!   instead of `/app`;
//! - an `epmd` of the test's own runs on a private port (`ERL_EPMD_PORT`).
//!
//! Without the server binaries the test prints a note and passes, unless
//! `ST2K8S_TEST_REQUIRE_SERVERS=1` (CI), which makes their absence a failure. Every process
//! started is stopped by its PID, also when an assertion fails; every wait is bounded.

#[path = "support/shellcheck.rs"]
mod shellcheck;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value as Json;

const RABBITMQ_BIN: &str = "/usr/lib/rabbitmq/bin";
const IP: &str = "127.0.22.1";
const AMQP_PORT: u16 = 5672;
const MANAGEMENT_PORT: u16 = 15672;
const DIST_PORT: u16 = 25672;
const EPMD_PORT: u16 = 24369;
/// RabbitMQ boots in 10–20 s here; a loaded CI machine gets more.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// The values of the render: the official flavor, a password of the test's own.
const VALUES: &str = "rabbitmq:
  flavor: official
  auth:
    password: 'st2k8s \"test\" pass'
";

#[test]
fn official_flavor_boots_a_real_rabbitmq_from_the_rendered_files() {
    let server = Path::new(RABBITMQ_BIN).join("rabbitmq-server");
    let missing: Vec<&str> = [server.to_str().unwrap_or_default(), "/usr/bin/epmd"]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        assert!(
            std::env::var("ST2K8S_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
            "ST2K8S_TEST_REQUIRE_SERVERS=1 but {} missing (apt-get install rabbitmq-server)",
            missing.join(", ")
        );
        println!(
            "note: skipping the RabbitMQ real-server test: {} missing",
            missing.join(", ")
        );
        return;
    }

    let rendered = Rendered::new();
    let dir = TempDir::new();
    let volume = dir.0.join("volume");
    // The bitnami flavor's node directory at the volume's root, as RabbitMQ 3.8 left it.
    let old_node = volume.join("rabbit@st2-rabbitmq-0.st2-rabbitmq-headless.ns.svc.cluster.local");
    std::fs::create_dir_all(&old_node).expect("create the old data dir");
    std::fs::write(old_node.join("schema.DAT"), b"bitnami 3.8 data").expect("write old data");
    let definitions = dir.0.join("rabbitmq-definitions.json");
    std::fs::write(&definitions, &rendered.definitions).expect("write definitions");
    let conf = single_node_conf(&rendered.conf, &definitions);
    std::fs::write(dir.0.join("rabbitmq.conf"), conf).expect("write rabbitmq.conf");
    std::fs::write(dir.0.join("enabled_plugins"), &rendered.enabled_plugins)
        .expect("write enabled_plugins");
    std::fs::create_dir_all(dir.0.join("log")).expect("create log dir");

    // The pod's data directory is the volume; the database goes where the StatefulSet says,
    // relative to it.
    let mnesia_base = rendered
        .env("RABBITMQ_MNESIA_BASE")
        .strip_prefix("/var/lib/rabbitmq/")
        .map(|rest| volume.join(rest))
        .expect("RABBITMQ_MNESIA_BASE lies on the volume (/var/lib/rabbitmq)");
    assert_ne!(mnesia_base, volume, "a directory of its own on the volume");

    let node = format!("st2k8s-test-{}@{IP}", std::process::id());
    let env = Env {
        vars: vec![
            ("HOME", volume.display().to_string()),
            ("RABBITMQ_NODENAME", node.clone()),
            (
                "RABBITMQ_USE_LONGNAME",
                rendered.env("RABBITMQ_USE_LONGNAME"),
            ),
            ("RABBITMQ_MNESIA_BASE", mnesia_base.display().to_string()),
            ("RABBITMQ_ERLANG_COOKIE", rendered.cookie.clone()),
            (
                "RABBITMQ_DEFAULT_USER",
                rendered.env("RABBITMQ_DEFAULT_USER"),
            ),
            ("RABBITMQ_DEFAULT_PASS", rendered.password.clone()),
            ("RABBITMQ_CONFIG_FILE", dir.path("rabbitmq.conf")),
            ("RABBITMQ_CONFIG_FILES", dir.path("conf.d/*.conf")),
            ("RABBITMQ_ADVANCED_CONFIG_FILE", dir.path("advanced.config")),
            ("RABBITMQ_CONF_ENV_FILE", dir.path("rabbitmq-env.conf")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", dir.path("enabled_plugins")),
            ("RABBITMQ_LOG_BASE", dir.path("log")),
            ("RABBITMQ_NODE_IP_ADDRESS", IP.to_string()),
            ("RABBITMQ_DIST_PORT", DIST_PORT.to_string()),
            ("ERL_EPMD_PORT", EPMD_PORT.to_string()),
            ("ERL_EPMD_ADDRESS", IP.to_string()),
        ],
    };

    let mut processes = Processes::default();
    processes.start(
        "epmd",
        env.command("/usr/bin/epmd")
            .args(["-address", IP, "-port", &EPMD_PORT.to_string()]),
        None,
    );
    wait_for_port(EPMD_PORT, Duration::from_secs(10), &mut processes, None);
    let log = dir.0.join("server.out");
    processes.start(
        "rabbitmq-server",
        &mut env.command(&server.display().to_string()),
        Some(&log),
    );
    wait_for_port(AMQP_PORT, BOOT_TIMEOUT, &mut processes, Some(&log));
    wait_for_port(
        MANAGEMENT_PORT,
        Duration::from_secs(30),
        &mut processes,
        Some(&log),
    );

    let ctl = |args: &[&str]| -> (bool, String) {
        let out = env
            .command(&format!("{RABBITMQ_BIN}/rabbitmqctl"))
            .args(["--timeout", "20"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("rabbitmqctl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };

    // The st2 user of the definitions, with the password of Secret `<fullname>`.
    let user = rendered.env("RABBITMQ_DEFAULT_USER");
    assert_eq!(user, "admin");
    let (ok, text) = ctl(&["authenticate_user", &user, &rendered.password]);
    assert!(ok, "st2 user authenticates: {text}");
    let (ok, _) = ctl(&["authenticate_user", &user, "CHANGEME"]);
    assert!(!ok, "another password is refused");
    let api = Api {
        auth: base64::engine::general_purpose::STANDARD
            .encode(format!("{user}:{}", rendered.password)),
    };
    assert_eq!(
        api.call("GET", "/api/whoami", None).0,
        200,
        "management API login"
    );

    let (ok, permissions) = ctl(&["-q", "list_permissions", "-p", "/"]);
    assert!(ok, "{permissions}");
    assert!(
        permissions
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [&user, ".*", ".*", ".*"]),
        "the definitions' permissions: {permissions}"
    );
    let (ok, policies) = ctl(&["-q", "list_policies", "-p", "/"]);
    assert!(ok, "{policies}");
    assert!(
        !policies.contains("ha-mode"),
        "no mirroring policy: {policies}"
    );
    assert!(
        policies.contains("st2-watch-queues-expire") && policies.contains("{\"expires\":3600000}"),
        "the watch queues' expiry: {policies}"
    );
    let (status, vhost) = api.call("GET", "/api/vhosts/%2F", None);
    assert_eq!(status, 200, "{vhost}");
    assert!(
        vhost.contains("\"default_queue_type\":\"quorum\""),
        "{vhost}"
    );

    // st2's work queues (kombu's defaults: durable, not exclusive, no queue type).
    let declare = |name: &str, body: &str| {
        let (status, text) = api.call("PUT", &format!("/api/queues/%2F/{name}"), Some(body));
        assert!(
            matches!(status, 201 | 204),
            "declare {name}: {status} {text}"
        );
        let (status, text) = api.call("GET", &format!("/api/queues/%2F/{name}"), None);
        assert_eq!(status, 200, "{text}");
        let queue: Json = serde_json::from_str(&text).expect("queue JSON");
        queue["type"].as_str().unwrap_or_default().to_string()
    };
    let work = r#"{"durable":true,"auto_delete":false,"arguments":{}}"#;
    assert_eq!(declare("st2.actionrunner.work", work), "quorum");
    assert_eq!(declare("st2.workflow.work", work), "quorum");
    // An auto-delete queue cannot be a quorum queue: it stays classic.
    // A sensor container's watch queue (named per process): quorum, expiring once unused.
    let watch = "st2.sensor.watch.sensorcontainer-2c9b8f5e";
    assert_eq!(declare(watch, work), "quorum");
    let (ok, queues) = ctl(&["-q", "list_queues", "name", "policy"]);
    assert!(ok, "{queues}");
    let listed = |name: &str| {
        queues
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} listed: {queues}"))
            .to_string()
    };
    let line = listed(watch);
    assert!(line.contains("st2-watch-queues-expire"), "{line}");
    let line = listed("st2.actionrunner.work");
    assert!(!line.contains("expire"), "work queues never expire: {line}");
    let auto_delete = r#"{"durable":true,"auto_delete":true,"arguments":{}}"#;
    assert_eq!(declare("st2k8s.test.autodelete", auto_delete), "classic");
    // The stream service's exclusive queues (declared by a connection, which the HTTP API
    // cannot hold open): the arguments RabbitMQ gives such a declaration (durable, exclusive,
    // auto-delete, as kombu declares them), next to those of a work queue.
    let declared_type = |durable_exclusive_auto_delete: &str| {
        let (ok, args) = ctl(&[
            "eval",
            &format!(
                "rabbit_amqqueue:augment_declare_args(<<\"/\">>, {durable_exclusive_auto_delete}, [])."
            ),
        ]);
        assert!(ok, "{args}");
        args
    };
    assert!(declared_type("true, false, false").contains("<<\"quorum\">>"));
    let exclusive = declared_type("true, true, true");
    assert!(
        !exclusive.contains("quorum"),
        "an exclusive queue is not made a quorum queue: {exclusive}"
    );

    // The bitnami data at the volume's root is untouched; the new database is beside it.
    assert_eq!(
        std::fs::read(old_node.join("schema.DAT")).expect("old data still there"),
        b"bitnami 3.8 data"
    );
    assert!(
        mnesia_base.join(&node).is_dir(),
        "the node's database is in {}",
        mnesia_base.display()
    );

    let (ok, text) = ctl(&["stop"]);
    assert!(ok, "rabbitmqctl stop: {text}");
}

/// The rendered `rabbitmq.conf` for one node outside Kubernetes (see the module docs).
fn single_node_conf(conf: &str, definitions: &Path) -> String {
    let mut out = String::new();
    let mut replaced = 0;
    for line in conf.lines() {
        let key = line.split('=').next().unwrap_or_default().trim();
        let line = match key {
            "cluster_formation.peer_discovery_backend" => {
                replaced += 1;
                "cluster_formation.peer_discovery_backend = classic_config".to_string()
            }
            "quorum_queue.continuous_membership_reconciliation.enabled"
            | "quorum_queue.continuous_membership_reconciliation.target_group_size" => {
                replaced += 1;
                continue;
            }
            "listeners.tcp.default" => {
                replaced += 1;
                format!("listeners.tcp.default = {IP}:{AMQP_PORT}")
            }
            "load_definitions" => {
                assert_eq!(line, "load_definitions = /app/rabbitmq-definitions.json");
                replaced += 1;
                format!("load_definitions = {}", definitions.display())
            }
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    assert_eq!(
        replaced, 5,
        "every line the test replaces is rendered:\n{conf}"
    );
    out.push_str(&format!(
        "management.tcp.ip = {IP}\nmanagement.tcp.port = {MANAGEMENT_PORT}\ndistribution.listener.interface = {IP}\n"
    ));
    out
}

/// What the test takes from `st2k8s render`.
struct Rendered {
    conf: String,
    enabled_plugins: String,
    definitions: String,
    password: String,
    cookie: String,
    env: Vec<Json>,
}

impl Rendered {
    fn new() -> Self {
        let (code, stdout, stderr) = st2k8s(
            &["render", "--release-name", "st2", "--namespace", "ns"],
            VALUES,
        );
        assert_eq!(code, Some(0), "render: {stderr}");
        let docs = documents(&stdout);
        let find = |kind: &str, name: &str| find(&docs, kind, name).clone();
        let secret = |name: &str, key: &str| {
            let data = find("Secret", name)["data"][key]
                .as_str()
                .unwrap_or_else(|| panic!("Secret {name} has {key}"))
                .to_string();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .expect("base64 data");
            String::from_utf8(bytes).expect("UTF-8 secret")
        };
        let config = find("ConfigMap", "st2-rabbitmq-config");
        let text = |key: &str| config["data"][key].as_str().unwrap_or_default().to_string();
        let sts = find("StatefulSet", "st2-rabbitmq");
        Rendered {
            conf: text("rabbitmq.conf"),
            enabled_plugins: text("enabled_plugins"),
            definitions: secret("st2-rabbitmq-definitions", "rabbitmq-definitions.json"),
            password: secret("st2-rabbitmq", "rabbitmq-password"),
            cookie: secret("st2-rabbitmq", "rabbitmq-erlang-cookie"),
            env: sts["spec"]["template"]["spec"]["containers"][0]["env"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The literal value of the RabbitMQ container's variable `name`.
    fn env(&self, name: &str) -> String {
        self.env
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("the container sets {name}"))
            .to_string()
    }
}

/// The environment every command of the test runs with.
struct Env {
    vars: Vec<(&'static str, String)>,
}

impl Env {
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.envs(self.vars.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// The processes the test started, stopped by PID (with their children) when dropped.
#[derive(Default)]
struct Processes(Vec<(String, Child)>);

impl Processes {
    fn start(&mut self, name: &str, command: &mut Command, log: Option<&Path>) {
        let output = |path: Option<&Path>| match path {
            Some(p) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .expect("open log"),
            ),
            None => Stdio::null(),
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(output(log))
            .stderr(output(log))
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        self.0.push((name.to_string(), child));
    }

    /// The first started process that has exited, with its status.
    fn exited(&mut self) -> Option<String> {
        self.0.iter_mut().find_map(|(name, child)| {
            child
                .try_wait()
                .ok()
                .flatten()
                .map(|status| format!("{name} exited: {status}"))
        })
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in self.0.iter_mut().rev() {
            let mut pids = Vec::new();
            descendants(child.id(), &mut pids);
            for pid in pids.iter().rev().chain([&child.id()]) {
                // SAFETY: kill(2) on a PID this test started (or a child of one).
                unsafe {
                    libc::kill(*pid as libc::pid_t, libc::SIGKILL);
                }
            }
            let _ = child.wait();
        }
    }
}

/// Every descendant of `pid` (children first listed after their parent).
fn descendants(pid: u32, out: &mut Vec<u32>) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            out.push(child);
            descendants(child, out);
        }
    }
}

/// Wait until `port` on [`IP`] accepts connections; fail early when a process exits.
fn wait_for_port(port: u16, timeout: Duration, processes: &mut Processes, log: Option<&Path>) {
    let addr: SocketAddr = format!("{IP}:{port}").parse().expect("address");
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            return;
        }
        let log_tail = || {
            log.and_then(|p| std::fs::read_to_string(p).ok())
                .map(|t| {
                    let lines: Vec<&str> = t.lines().collect();
                    lines[lines.len().saturating_sub(40)..].join("\n")
                })
                .unwrap_or_default()
        };
        if let Some(exited) = processes.exited() {
            panic!("{exited} before {addr} opened\n{}", log_tail());
        }
        if Instant::now() > deadline {
            panic!("{addr} not open after {timeout:?}\n{}", log_tail());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The management HTTP API of the node, as the st2 user.
struct Api {
    auth: String,
}

impl Api {
    /// One request; the status and the body.
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let addr: SocketAddr = format!("{IP}:{MANAGEMENT_PORT}").parse().expect("address");
        let mut stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect to the API");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let body = body.unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.0\r\nHost: {IP}\r\nAuthorization: Basic {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.auth,
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send request");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read response");
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("st2k8s-rmq-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The YAML documents of a render.
fn documents(stdout: &str) -> Vec<Json> {
    serde_saphyr::from_multiple(stdout).expect("YAML")
}

/// The rendered object `kind`/`name`.
fn find<'d>(docs: &'d [Json], kind: &str, name: &str) -> &'d Json {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind}/{name} rendered"))
}

/// `st2k8s` with `args`, seeded: (exit code, stdout, stderr).
fn st2k8s(args: &[&str], values: &str) -> (Option<i32>, String, String) {
    let dir = TempDir::new();
    let path = dir.0.join("values.yaml");
    std::fs::write(&path, values).expect("write values");
    let out = Command::new(env!("CARGO_BIN_EXE_st2k8s"))
        .args(args)
        .arg("-f")
        .arg(&path)
        .env("ST2K8S_SECRET_SEED", "st2k8s rabbitmq real-server test")
        .output()
        .expect("st2k8s runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bitnami_only_values_are_warnings_and_strict_lint_errors() {
    let values = "rabbitmq:
  flavor: official
  image:
    repository: bitnamilegacy/rabbitmq
  clustering:
    forceBoot: false
";
    let (code, stdout, stderr) = st2k8s(&["render"], values);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("image: docker.io/library/rabbitmq:4.3.2-management"));
    assert!(
        stderr.contains("/values.yaml:4:5: `rabbitmq.image.repository`: a bitnami image cannot run `rabbitmq.flavor: official`; ignored, the image is library/rabbitmq:4.3.2-management (set `rabbitmq.image.repository` to another image to use your own)\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains(":6:5: `rabbitmq.clustering.forceBoot`: does not apply to `rabbitmq.flavor: official` (a setting of the chart's bitnami RabbitMQ); ignored"),
        "{stderr}"
    );
    // `lint` lists its findings on stdout; `--strict` makes the warnings errors.
    let (code, stdout, _) = st2k8s(&["lint", "--strict"], values);
    assert_ne!(code, Some(0), "{stdout}");
    for key in ["rabbitmq.clustering.forceBoot", "rabbitmq.image.repository"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("error: ") && l.contains(&format!("`{key}`"))),
            "{stdout}"
        );
    }
}

#[test]
fn official_flavor_meets_the_restricted_profile_and_network_policy() {
    let values = "podSecurity: restricted
networkPolicy: {enabled: true}
rabbitmq: {flavor: official, metrics: {enabled: true}}
";
    let (code, stdout, stderr) = st2k8s(&["render"], values);
    assert_eq!(code, Some(0), "{stderr}");
    let docs = documents(&stdout);
    let find = |kind: &str, name: &str| find(&docs, kind, name);
    let pod = &find("StatefulSet", "st2-rabbitmq")["spec"]["template"]["spec"];
    assert_eq!(
        pod["securityContext"],
        serde_json::json!({"fsGroup": 1001, "runAsUser": 1001, "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}})
    );
    assert_eq!(
        pod["containers"][0]["securityContext"],
        serde_json::json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
    );
    let policy = &find("NetworkPolicy", "st2-rabbitmq-ingress")["spec"]["ingress"];
    let ports = |rule: &Json| -> Vec<i64> {
        rule["ports"]
            .as_array()
            .map(|p| p.iter().filter_map(|p| p["port"].as_i64()).collect())
            .unwrap_or_default()
    };
    let rules: Vec<Vec<i64>> = policy
        .as_array()
        .map(|r| r.iter().map(ports).collect())
        .unwrap_or_default();
    assert_eq!(
        rules,
        [vec![5672, 25672, 4369, 15672], vec![5672], vec![9419]],
        "peers, st2, metrics: {policy}"
    );
}

#[test]
fn volume_permissions_do_not_stop_the_restricted_profile_of_the_official_flavor() {
    let values = "podSecurity: restricted
rabbitmq: {flavor: official, volumePermissions: {enabled: true}}
";
    let (code, stdout, stderr) = st2k8s(&["render"], values);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        !stdout.contains("volume-permissions"),
        "no root init container"
    );
    assert!(
        stderr.contains("`rabbitmq.volumePermissions.enabled`: does not apply to `rabbitmq.flavor: official` (a setting of the chart's bitnami RabbitMQ); ignored"),
        "{stderr}"
    );
    // The bitnami flavor's init container runs as root: refused, as before.
    let bitnami = "podSecurity: restricted\nrabbitmq: {volumePermissions: {enabled: true}}\n";
    let (code, _, stderr) = st2k8s(&["render"], bitnami);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("`rabbitmq.volumePermissions.enabled`: its init container runs as root"),
        "{stderr}"
    );
}

/// The `clustering.rebalance` postStart script of the official flavor, as rendered.
fn rebalance_script() -> String {
    let values = "rabbitmq: {flavor: official, replicaCount: 3, clustering: {rebalance: true}}\n";
    let (code, stdout, stderr) = st2k8s(&["render"], values);
    assert_eq!(code, Some(0), "{stderr}");
    let docs = documents(&stdout);
    let command = &find(&docs, "StatefulSet", "st2-rabbitmq")["spec"]["template"]["spec"]["containers"]
        [0]["lifecycle"]["postStart"]["exec"]["command"];
    assert_eq!(command[0], "/bin/bash", "{command}");
    assert_eq!(command[1], "-ec", "{command}");
    command[2].as_str().expect("the script").to_string()
}

/// Runs the rebalance script with stand-ins for the RabbitMQ tools, `timeout` and `sleep`
/// (instant): `rabbitmq-diagnostics` succeeds from its `booted_at`-th call on (never with 0).
/// The script's log, written to the container's log (`/proc/1/fd/1`), goes to a file of the
/// test instead. Returns (exit code, log, the tools' calls); fails when the script runs for
/// more than 20 s.
fn run_rebalance(booted_at: u32) -> (Option<i32>, String, String) {
    let dir = TempDir::new();
    let bin = dir.0.join("bin");
    std::fs::create_dir_all(&bin).expect("create bin");
    let calls = dir.path("calls");
    let count = dir.path("count");
    let tools = [
        (
            "rabbitmq-diagnostics",
            format!(
                "n=$(( $(cat {count} 2>/dev/null || echo 0) + 1 )); echo $n > {count}\necho \"rabbitmq-diagnostics $*\" >> {calls}\n[ {booted_at} -gt 0 ] && [ $n -ge {booted_at} ]\n"
            ),
        ),
        (
            "rabbitmq-queues",
            format!("echo \"rabbitmq-queues $*\" >> {calls}\n"),
        ),
        ("timeout", "shift\nexec \"$@\"\n".to_string()),
        ("sleep", format!("echo \"sleep $*\" >> {calls}\n")),
    ];
    for (name, body) in tools {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/bash\n{body}")).expect("write tool");
        let mut perms = std::fs::metadata(&path).expect("tool").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&path, perms).expect("chmod tool");
    }
    let log = dir.path("log");
    let script = rebalance_script();
    assert!(script.contains(">>/proc/1/fd/1"), "{script}");
    let script = script.replace("/proc/1/fd/1", &log);
    let mut child = Command::new("/bin/bash")
        .args(["-ec", &script])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bash runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the rebalance script still runs after 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    (status.code(), read(&log), read(&calls))
}

/// The hook waits for the node a bounded number of times, saying what it waits for, then
/// succeeds without rebalancing (a failing postStart hook restarts the container).
#[test]
fn rebalance_hook_gives_up_after_its_last_check() {
    let (code, log, calls) = run_rebalance(0);
    assert_eq!(code, Some(0), "{log}");
    let mut want: String = (1..24)
        .map(|n| format!("rebalance: waiting for RabbitMQ to finish booting (check {n} of 24)\n"))
        .collect();
    want.push_str(
        "rebalance: RabbitMQ has not finished booting after 24 checks; queue leaders not rebalanced\n",
    );
    assert_eq!(log, want);
    assert_eq!(
        calls
            .matches("rabbitmq-diagnostics -q check_running\n")
            .count(),
        24
    );
    assert_eq!(calls.matches("sleep 5\n").count(), 23);
    assert!(!calls.contains("rabbitmq-queues"), "{calls}");
}

#[test]
fn rebalance_hook_rebalances_once_the_node_runs() {
    let (code, log, calls) = run_rebalance(3);
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        log,
        "rebalance: waiting for RabbitMQ to finish booting (check 1 of 24)
rebalance: waiting for RabbitMQ to finish booting (check 2 of 24)
rebalance: queue leaders rebalanced
"
    );
    assert!(
        calls.ends_with("rabbitmq-diagnostics -q check_running\nrabbitmq-queues rebalance all\n"),
        "{calls}"
    );
}

/// The rendered hook script passes `shellcheck` (bash); skipped with a note without it, unless
/// `ST2K8S_TEST_REQUIRE_SERVERS=1`.
#[test]
fn rebalance_hook_passes_shellcheck() {
    if !shellcheck::available("the rebalance hook") {
        return;
    }
    let dir = TempDir::new();
    let path = dir.0.join("rebalance.sh");
    std::fs::write(&path, rebalance_script()).expect("write script");
    shellcheck::assert_clean(&["--shell=bash", "--severity=style"], &[path]);
}

/// The official flavor's definitions are JSON whatever the user name and password hold
/// (control characters, characters beyond the Basic Multilingual Plane): RabbitMQ refuses to
/// boot on definitions it cannot parse.
#[test]
fn definitions_are_json_for_any_credentials() {
    let user = "st2\u{7}admin\u{1}";
    let password = "p\u{b}a\"s\\s\u{7f}\u{1F600}";
    let values = format!(
        "rabbitmq:\n  flavor: official\n  auth:\n    username: {}\n    password: {}\n",
        serde_json::Value::from(user),
        serde_json::Value::from(password)
    );
    let (code, stdout, stderr) = st2k8s(&["render"], &values);
    assert_eq!(code, Some(0), "{stderr}");
    let docs = documents(&stdout);
    let data =
        find(&docs, "Secret", "st2-rabbitmq-definitions")["data"]["rabbitmq-definitions.json"]
            .as_str()
            .expect("definitions");
    let text = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    let definitions: Json = serde_json::from_slice(&text).unwrap_or_else(|e| {
        panic!(
            "definitions are not JSON ({e}): {}",
            String::from_utf8_lossy(&text)
        )
    });
    assert_eq!(definitions["users"][0]["name"], user);
    assert_eq!(definitions["users"][0]["password"], password);
    assert_eq!(definitions["permissions"][0]["user"], user);
}
