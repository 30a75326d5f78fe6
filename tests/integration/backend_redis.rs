//! `redis.flavor: official` on real servers: the rendered start scripts and settings run three
//! emulated pods (server + sentinel each) with Debian's `redis-server` on loopback addresses
//! 127.0.21.x, and the group must elect, replicate, fail over and take its old master back.
//!
//! Each pod is emulated as Kubernetes runs it as far as the scripts can tell: its own
//! `/etc/hosts` (a private mount namespace per process, `unshare --mount`) resolving every pod's
//! headless-Service name and `localhost` to its address, `HOSTNAME` set to the pod name, the
//! container's variables from the rendered StatefulSet with its mount paths moved into a temp
//! dir (each variable is checked to name the mount it stands for), and as root the pod's user
//! 1001:1001. A `redis-server` first in `PATH` adds `--bind <pod address>` (in Kubernetes each
//! pod has its own network; here all share the loopback).
//!
//! The start scripts are also run on their own against stub programs (`run_script`): what
//! hostile values, passwords and sentinel answers can make them do needs no servers.
//!
//! Needs `redis-server`, `redis-cli`, `unshare` and mount rights; without them the tests are
//! skipped with a note, unless `ST2K8S_TEST_REQUIRE_SERVERS=1` (then they fail). Every process
//! is stopped by its PID when the test ends, failed or not, and the temp dir is removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value as Json;

use super::{St2k8s, TempDir, documents};

const NAMESPACE: &str = "default";
const HEADLESS: &str = "st2-redis-headless.default.svc.cluster.local";
const PODS: usize = 3;
/// The password of the password variant.
const PASSWORD: &str = "be-check \"redis\" pw";

/// Whether the servers and the namespace tools are here; prints why not.
fn servers_available() -> bool {
    let missing: Vec<&str> = ["redis-server", "redis-cli", "unshare", "timeout"]
        .into_iter()
        .filter(|program| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {program}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    let usable = missing.is_empty() && namespace_prefix().is_some();
    if !usable {
        skip(
            "the Redis real-server test",
            &if missing.is_empty() {
                "no private mount namespace (unshare --mount) allowed".to_string()
            } else {
                format!("missing {}", missing.join(", "))
            },
        );
    }
    usable
}

/// Note that `what` is skipped and why; a failure under `ST2K8S_TEST_REQUIRE_SERVERS=1`.
fn skip(what: &str, why: &str) {
    assert!(
        std::env::var("ST2K8S_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
        "ST2K8S_TEST_REQUIRE_SERVERS=1 but {what} cannot run: {why}"
    );
    eprintln!("note: skipping {what}: {why}");
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The `unshare` arguments that give a process its own mount namespace where it may bind-mount:
/// as root a plain one, else one inside a user namespace; `None` when neither works.
fn namespace_prefix() -> Option<Vec<&'static str>> {
    let prefix: Vec<&str> = if is_root() {
        vec!["unshare", "--mount", "--propagation", "private", "--"]
    } else {
        vec!["unshare", "--user", "--map-root-user", "--mount", "--"]
    };
    let works = Command::new(prefix[0])
        .args(&prefix[1..])
        .args([
            "sh",
            "-c",
            "mount -t tmpfs none /mnt 2>/dev/null || mount --bind /etc/hostname /etc/hostname",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(prefix)
}

/// What the render gives the pods.
struct Rendered {
    scripts: BTreeMap<String, String>,
    config: BTreeMap<String, String>,
    /// Per container (`redis`, `sentinel`): its variables and its mounts (volume → path).
    env: BTreeMap<String, Vec<(String, String)>>,
    mounts: BTreeMap<String, BTreeMap<String, String>>,
    password: Option<String>,
}

/// Where an emulated pod keeps the volumes of its containers: `shared` holds the scripts,
/// settings and password (every pod mounts the same ConfigMaps and Secret), `pod` its own.
fn local_volumes(shared: &Path, pod: &Path) -> BTreeMap<&'static str, PathBuf> {
    BTreeMap::from([
        ("scripts", shared.join("scripts")),
        ("config", shared.join("config")),
        ("redis-password", shared.join("secrets")),
        ("server-run", pod.join("server-run")),
        ("sentinel-run", pod.join("sentinel-run")),
        ("redis-data", pod.join("data")),
    ])
}

impl Rendered {
    /// `path` in container `container`, moved to where `local` keeps the volume mounted there;
    /// `None` when it is on no mount.
    fn local_path(
        &self,
        container: &str,
        local: &BTreeMap<&str, PathBuf>,
        path: &str,
    ) -> Option<String> {
        let (volume, mount) = self.mounts[container]
            .iter()
            .find(|(_, mount)| path == mount.as_str() || path.starts_with(&format!("{mount}/")))?;
        let base = local
            .get(volume.as_str())
            .unwrap_or_else(|| panic!("{container}: unexpected volume {volume}"));
        Some(format!("{}{}", base.display(), &path[mount.len()..]))
    }

    /// The variables of container `container`, each path (`*_DIR`, `*_FILE`) moved by
    /// [`Rendered::local_path`].
    fn local_env(&self, container: &str, local: &BTreeMap<&str, PathBuf>) -> Vec<(String, String)> {
        self.env[container]
            .iter()
            .map(|(name, value)| {
                if name.ends_with("_DIR") || name.ends_with("_FILE") {
                    let moved = self
                        .local_path(container, local, value)
                        .unwrap_or_else(|| panic!("{container}: {value} is on no mount"));
                    (name.clone(), moved)
                } else {
                    (name.clone(), value.clone())
                }
            })
            .collect()
    }

    /// Write the scripts, the settings and `password` where [`local_volumes`] has them below
    /// `shared`.
    fn write_shared(&self, shared: &Path, password: Option<&str>) {
        for (volume, files, mode) in [
            ("scripts", &self.scripts, 0o755),
            ("config", &self.config, 0o644),
        ] {
            let dir = mkdir(&shared.join(volume));
            for (name, text) in files {
                write(&dir.join(name), text, mode);
            }
        }
        if let Some(password) = password {
            let secrets = mkdir(&shared.join("secrets"));
            write(&secrets.join("redis-password"), password, 0o440);
        }
    }
}

fn render(extra: &str) -> Rendered {
    let values = format!(
        "redis:\n  flavor: official\n  cluster: {{slaveCount: {PODS}}}\n  sentinel: {{downAfterMilliseconds: 2000, failoverTimeout: 10000}}\n{extra}"
    );
    let run = St2k8s::render()
        .seeded()
        .args(&["--namespace", NAMESPACE])
        .values("values.yaml", &values)
        .run();
    run.assert_success();
    let docs = documents(&run.stdout);
    let find = |kind: &str, name: &str| -> Json {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{kind}/{name} rendered"))
    };
    let strings = |json: &Json| -> BTreeMap<String, String> {
        json.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let set = find("StatefulSet", "st2-redis-node");
    let mut env = BTreeMap::new();
    let mut mounts = BTreeMap::new();
    for c in set["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
    {
        let name = c["name"].as_str().expect("name").to_string();
        let vars = c["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|e| {
                let value = e["value"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: variable {} is not a literal", e["name"]));
                (
                    e["name"].as_str().unwrap_or_default().to_string(),
                    value.to_string(),
                )
            })
            .collect();
        env.insert(name.clone(), vars);
        mounts.insert(
            name,
            c["volumeMounts"]
                .as_array()
                .expect("mounts")
                .iter()
                .map(|m| {
                    (
                        m["name"].as_str().unwrap_or_default().to_string(),
                        m["mountPath"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        );
    }
    let password = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "st2-redis")
        .map(|secret| {
            let data = secret["data"]["redis-password"].as_str().expect("password");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .expect("base64");
            String::from_utf8(bytes).expect("utf-8 password")
        });
    Rendered {
        scripts: strings(&find("ConfigMap", "st2-redis-scripts")["data"]),
        config: strings(&find("ConfigMap", "st2-redis")["data"]),
        env,
        mounts,
        password,
    }
}

/// Every process the test started, killed by PID and reaped when dropped.
#[derive(Default)]
struct Processes(Vec<(String, Child)>);

impl Processes {
    fn stop(&mut self, name: &str) {
        for (n, child) in &mut self.0 {
            if n == name {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        self.0.retain(|(n, _)| n != name);
    }

    /// The exit status of process `name` once it ends, within `seconds`.
    fn exit_status(&mut self, name: &str, seconds: u64) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < deadline {
            let (_, child) = self.0.iter_mut().find(|(n, _)| n == name)?;
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    fn pid(&self, name: &str) -> Option<u32> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, c)| c.id())
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One emulated StatefulSet of three pods.
struct Group {
    dir: PathBuf,
    /// The last byte of pod 0's address 127.0.21.x.
    first: usize,
    rendered: Rendered,
    processes: Processes,
    namespace: Vec<&'static str>,
    root: bool,
}

fn write(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn mkdir(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
    path.to_path_buf()
}

/// Give `path` to the pods' user (as Kubernetes' fsGroup and emptyDirs would).
fn chown(path: &Path, root: bool) {
    if root {
        let status = Command::new("chown")
            .args(["-R", "1001:1001"])
            .arg(path)
            .status()
            .expect("chown");
        assert!(status.success(), "chown {}", path.display());
    }
}

impl Group {
    fn new(temp: &TempDir, first: usize, rendered: Rendered) -> Self {
        let root = is_root();
        let dir = mkdir(&temp.0.join("redis"));
        rendered.write_shared(&dir, rendered.password.as_deref());
        if rendered.password.is_some() && root {
            let status = Command::new("chown")
                .args(["root:1001"])
                .arg(dir.join("secrets/redis-password"))
                .status()
                .expect("chown");
            assert!(status.success());
        }
        // The pod network shim: each server listens on, and connects from, its pod's address.
        let bin = mkdir(&dir.join("bin"));
        let real = String::from_utf8(
            Command::new("sh")
                .args(["-c", "command -v redis-server"])
                .output()
                .expect("sh")
                .stdout,
        )
        .expect("path");
        write(
            &bin.join("redis-server"),
            &format!(
                "#!/bin/sh\nexec {} \"$@\" --bind \"$POD_IP\" --bind-source-addr \"$POD_IP\"\n",
                real.trim()
            ),
            0o755,
        );
        let hosts: String = std::iter::once(String::new())
            .chain((0..PODS).map(|i| {
                format!(
                    "127.0.21.{} st2-redis-node-{i}.{HEADLESS} st2-redis-node-{i}\n",
                    first + i
                )
            }))
            .collect();
        for i in 0..PODS {
            let pod = mkdir(&dir.join(format!("pod-{i}")));
            for sub in ["data", "server-run", "sentinel-run"] {
                mkdir(&pod.join(sub));
            }
            write(
                &pod.join("hosts"),
                &format!("127.0.21.{} localhost\n{hosts}", first + i),
                0o644,
            );
        }
        chown(&dir, root);
        let namespace = namespace_prefix().expect("checked by servers_available");
        Group {
            dir,
            first,
            rendered,
            processes: Processes::default(),
            namespace,
            root,
        }
    }

    fn ip(&self, pod: usize) -> String {
        format!("127.0.21.{}", self.first + pod)
    }

    fn fqdn(pod: usize) -> String {
        format!("st2-redis-node-{pod}.{HEADLESS}")
    }

    /// The command running `args` in container `container` of pod `pod`.
    fn command(&self, pod: usize, container: &str, args: &[&str]) -> Command {
        let pod_dir = self.dir.join(format!("pod-{pod}"));
        let local = local_volumes(&self.dir, &pod_dir);
        let mut env = self.rendered.local_env(container, &local);
        env.extend([
            ("HOSTNAME".to_string(), format!("st2-redis-node-{pod}")),
            ("POD_IP".to_string(), self.ip(pod)),
            (
                "PATH".to_string(),
                format!(
                    "{}:/usr/sbin:/usr/bin:/sbin:/bin",
                    self.dir.join("bin").display()
                ),
            ),
            ("HOME".to_string(), "/tmp".to_string()),
        ]);
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                self.rendered
                    .local_path(container, &local, a)
                    .unwrap_or_else(|| a.to_string())
            })
            .collect();
        let mut inner = String::from("mount --bind \"$0\" /etc/hosts && exec ");
        if self.root {
            inner.push_str("setpriv --reuid=1001 --regid=1001 --clear-groups ");
        }
        inner.push_str("\"$@\"");
        let mut command = Command::new(self.namespace[0]);
        command
            .args(&self.namespace[1..])
            .args(["/bin/sh", "-c", &inner])
            .arg(pod_dir.join("hosts"))
            .args(&args)
            .env_clear()
            .envs(env);
        command
    }

    /// Start the container `container` (`redis`, `sentinel`) of pod `pod` with its start command.
    fn start(&mut self, pod: usize, container: &str) {
        let script = if container == "sentinel" {
            "start-sentinel.sh"
        } else {
            "start-node.sh"
        };
        let path = format!("{}/{script}", self.rendered.mounts[container]["scripts"]);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("pod-{pod}/{container}.log")))
            .expect("log file");
        let child = self
            .command(pod, container, &["/bin/sh", &path])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start container");
        self.processes.0.push((format!("{pod}/{container}"), child));
    }

    fn start_pod(&mut self, pod: usize) {
        self.start(pod, "redis");
        self.start(pod, "sentinel");
    }

    /// The rendered probe script of the container, run in the pod.
    fn probe(&self, pod: usize, container: &str, kind: &str) -> bool {
        let path = format!("{}/probe.sh", self.rendered.mounts[container]["scripts"]);
        let which = if container == "sentinel" {
            "sentinel"
        } else {
            "server"
        };
        self.command(pod, container, &["/bin/sh", &path, which, kind, "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `redis-cli` against a pod's server (6379) or sentinel (26379), by address.
    fn cli(&self, pod: usize, port: u16, args: &[&str]) -> String {
        let mut command = Command::new("timeout");
        command
            .args([
                "5",
                "redis-cli",
                "-h",
                &self.ip(pod),
                "-p",
                &port.to_string(),
            ])
            .args(args)
            .env_remove("REDISCLI_AUTH");
        if let Some(password) = &self.rendered.password {
            command.env("REDISCLI_AUTH", password);
        }
        command
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }

    fn info(&self, pod: usize) -> BTreeMap<String, String> {
        self.cli(pod, 6379, &["info", "replication"])
            .lines()
            .filter_map(|l| l.trim().split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sentinel_master(&self, pod: usize) -> String {
        self.cli(
            pod,
            26379,
            &["sentinel", "get-master-addr-by-name", "mymaster"],
        )
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
    }

    fn sentinel_view(&self, pod: usize) -> BTreeMap<String, String> {
        let lines: Vec<String> = self
            .cli(pod, 26379, &["sentinel", "master", "mymaster"])
            .lines()
            .map(str::to_string)
            .collect();
        lines
            .chunks(2)
            .filter_map(|p| Some((p.first()?.clone(), p.get(1)?.clone())))
            .collect()
    }

    /// `None` when `master` and every pod in `replicas` form the expected group: one master, the
    /// replicas linked to it by name, every listed sentinel naming it and seeing the others;
    /// else what differs.
    fn problem(&self, master: usize, replicas: &[usize], sentinels: &[usize]) -> Option<String> {
        let info = self.info(master);
        if info.get("role").map(String::as_str) != Some("master") {
            return Some(format!("pod {master}: {info:?}"));
        }
        for &r in replicas {
            let info = self.info(r);
            if info.get("role").map(String::as_str) != Some("slave")
                || info.get("master_host") != Some(&Self::fqdn(master))
                || info.get("master_link_status").map(String::as_str) != Some("up")
            {
                return Some(format!("pod {r}: {info:?}"));
            }
        }
        for &s in sentinels {
            let named = self.sentinel_master(s);
            let view = self.sentinel_view(s);
            if named != Self::fqdn(master)
                || view.get("num-slaves") != Some(&replicas.len().to_string())
                || view.get("num-other-sentinels") != Some(&(sentinels.len() - 1).to_string())
                || view.get("flags").map(String::as_str) != Some("master")
            {
                return Some(format!("sentinel {s}: names {named:?}, sees {view:?}"));
            }
        }
        None
    }

    fn wait_for(&self, what: &str, seconds: u64, mut check: impl FnMut() -> Option<String>) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut last = None;
        while Instant::now() < deadline {
            match check() {
                None => return,
                problem => last = problem,
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!(
            "{what} within {seconds}s: {}\n{}",
            last.unwrap_or_default(),
            self.logs()
        );
    }

    /// What container `container` of pod `pod` wrote so far.
    fn log(&self, pod: usize, container: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("pod-{pod}/{container}.log")))
            .unwrap_or_default()
    }

    fn assert_logged(&self, pod: usize, container: &str, text: &str) {
        let log = self.log(pod, container);
        assert!(log.contains(text), "pod {pod} {container}: {log}");
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for pod in 0..PODS {
            for c in ["redis", "sentinel"] {
                let text = self.log(pod, c);
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                out.push_str(&format!("--- pod {pod} {c}\n"));
                for line in tail.into_iter().rev() {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// A write on `master` is read back on every pod.
    fn replicates(&self, master: usize, key: &str) {
        assert_eq!(self.cli(master, 6379, &["set", key, "v1"]), "OK");
        self.wait_for(&format!("{key} replicated"), 10, || {
            let reads: Vec<String> = (0..PODS)
                .map(|p| self.cli(p, 6379, &["get", key]))
                .collect();
            reads
                .iter()
                .any(|r| r != "v1")
                .then(|| format!("{reads:?}"))
        });
    }
}

/// What a chart-era bitnami Redis 6.0 leaves in `/data`: an append-only file of one key.
const BITNAMI_AOF: &str =
    "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$7\r\nbitnami\r\n$4\r\nkept\r\n";

/// The last byte of the first pod address of group `group` (0 or 1) of this test process: 40
/// slots of two groups in 127.0.21.1-240, the slot chosen by process ID, so that the suite run
/// in several checkouts at once rarely has two groups on one address.
fn first_address(group: usize) -> usize {
    let slot = std::process::id() as usize % 40;
    1 + slot * 2 * PODS + group * PODS
}

/// The whole story for pods at 127.0.21.`first`.. with `extra` values under `redis`.
fn scenario(first: usize, extra: &str) {
    if !servers_available() {
        return;
    }
    // One group at a time: on a loaded machine, two groups' worth of servers and sentinels delay
    // the sentinels' timers enough to put them in TILT mode (30 s without failovers).
    static ONE_GROUP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _running = ONE_GROUP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let rendered = render(extra);
    // Each path variable names one of the container's mounts (the emulation moves the mount).
    for (container, vars) in &rendered.env {
        for (name, value) in vars {
            if name.ends_with("_DIR") || name.ends_with("_FILE") {
                assert!(
                    rendered.mounts[container]
                        .values()
                        .any(|m| value == m || value.starts_with(&format!("{m}/"))),
                    "{container}: {name}={value} is on no mount"
                );
            }
        }
    }
    let temp = TempDir::new();
    let mut group = Group::new(&temp, first, rendered);
    // Pod 0's volume holds the bitnami flavor's data; it must be read as it is.
    let data0 = group.dir.join("pod-0/data/appendonly.aof");
    write(&data0, BITNAMI_AOF, 0o644);
    chown(&data0, group.root);

    // Bootstrap, one pod after the other (OrderedReady).
    for pod in 0..PODS {
        group.start_pod(pod);
        group.wait_for(&format!("pod {pod} ready"), 20, || {
            (!(group.probe(pod, "redis", "readiness") && group.probe(pod, "sentinel", "readiness")))
                .then(|| format!("pod {pod} probes fail"))
        });
    }
    group.wait_for(
        "pod 0 master of pods 1 and 2, three sentinels agreeing",
        40,
        || group.problem(0, &[1, 2], &[0, 1, 2]),
    );
    for pod in 0..PODS {
        assert_eq!(
            group.cli(pod, 6379, &["get", "bitnami"]),
            "kept",
            "pod {pod}"
        );
    }
    group.replicates(0, "bootstrap");

    if let Some(password) = group.rendered.password.clone() {
        let plain = Command::new("redis-cli")
            .args(["-h", &group.ip(0), "ping"])
            .env_remove("REDISCLI_AUTH")
            .output()
            .expect("redis-cli");
        assert!(String::from_utf8_lossy(&plain.stdout).contains("NOAUTH"));
        for name in ["0/redis", "0/sentinel", "1/redis", "2/sentinel"] {
            let pid = group.processes.pid(name).expect("running");
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&cmdline).contains(&password),
                "{name}: password on the command line"
            );
        }
    }

    // The master's server dies: a replica is promoted and the sentinels agree.
    group.processes.stop("0/redis");
    let started = Instant::now();
    let mut promoted = None;
    group.wait_for("a replica promoted", 40, || {
        let named = group.sentinel_master(1);
        let Some(new) = (1..PODS).find(|&p| named == Group::fqdn(p)) else {
            return Some(format!("sentinel 1 names {named:?}"));
        };
        promoted = Some(new);
        let other = if new == 1 { 2 } else { 1 };
        let names: Vec<String> = (0..PODS).map(|s| group.sentinel_master(s)).collect();
        if names.iter().any(|n| *n != Group::fqdn(new)) {
            return Some(format!("sentinels disagree: {names:?}"));
        }
        let info = group.info(other);
        (group.info(new).get("role").map(String::as_str) != Some("master")
            || info.get("master_host") != Some(&Group::fqdn(new)))
        .then(|| format!("not yet switched: {info:?}"))
    });
    let new = promoted.unwrap_or_else(|| panic!("no promoted replica\n{}", group.logs()));
    let other = if new == 1 { 2 } else { 1 };
    assert!(started.elapsed() < Duration::from_secs(40));

    // The old master's server restarts with its start script: it rejoins as a replica.
    group.start(0, "redis");
    group.wait_for("old master rejoins as replica of the new one", 40, || {
        group.problem(new, &[0, other], &[0, 1, 2])
    });
    // Its start script chose that itself, from the sentinels' answer (a master that came back
    // as master would be turned into a replica by the sentinels too, a moment later).
    group.assert_logged(
        0,
        "redis",
        &format!("starting as replica of {}:6379", Group::fqdn(new)),
    );
    group.replicates(new, "after-failover");
    assert_eq!(group.cli(0, 6379, &["get", "bitnami"]), "kept");

    // Its sentinel restarts too (the whole pod was replaced): it watches the new master.
    group.processes.stop("0/sentinel");
    group.start(0, "sentinel");
    group.wait_for("the restarted sentinel agrees", 30, || {
        group.problem(new, &[0, other], &[0, 1, 2])
    });
    group.assert_logged(
        0,
        "sentinel",
        &format!("monitoring {}:6379", Group::fqdn(new)),
    );

    // A sentinel starting while the others still name a master that is gone does not start
    // watching it: it stops, and its restart after the election watches the successor.
    group.processes.stop("0/sentinel");
    group.processes.stop(&format!("{new}/redis"));
    group.start(0, "sentinel");
    let status = group.processes.exit_status("0/sentinel", 10);
    assert!(
        status.is_some_and(|s| !s.success()),
        "{status:?}\n{}",
        group.logs()
    );
    group.assert_logged(0, "sentinel", "and it does not answer");
    group.processes.stop("0/sentinel");
    group.wait_for("a second failover", 40, || {
        let names: Vec<String> = (0..PODS)
            .filter(|&s| s != 0)
            .map(|s| group.sentinel_master(s))
            .collect();
        (names.iter().any(|n| *n == Group::fqdn(new)) || names[0] != names[1])
            .then(|| format!("{names:?}"))
    });
    group.start(0, "sentinel");
    let last = group.sentinel_master(other);
    group.wait_for("the restarted sentinel watches the successor", 30, || {
        (group.sentinel_master(0) != last)
            .then(|| format!("{:?} vs {last:?}", group.sentinel_master(0)))
    });
}

#[test]
fn official_flavor_elects_fails_over_and_rejoins_on_real_servers() {
    scenario(first_address(0), "");
}

#[test]
fn official_flavor_with_a_password_keeps_it_off_command_lines() {
    scenario(
        first_address(1),
        &format!(
            "  usePassword: true\n  password: {}\n",
            serde_json::to_string(PASSWORD).unwrap_or_default()
        ),
    );
}

/// The rendered scripts pass `shellcheck` as POSIX sh (the Valkey and Redis images' `/bin/sh`
/// may be dash or busybox), with and without a password.
#[test]
fn official_flavor_scripts_pass_shellcheck() {
    if !crate::shellcheck::available("the Redis scripts") {
        return;
    }
    for extra in ["", "  usePassword: true\n"] {
        let rendered = render(extra);
        let temp = TempDir::new();
        let mut files = Vec::new();
        for (name, text) in &rendered.scripts {
            let path = temp.0.join(name);
            write(&path, text, 0o644);
            files.push(path);
        }
        crate::shellcheck::assert_clean(&["-s", "sh"], &files);
    }
}

/// A bitnami-only key set with the official flavor is a warning naming it (an error under
/// `--strict`); the render goes on without it.
#[test]
fn official_flavor_reports_bitnami_only_keys() {
    let values = "redis:\n  flavor: official\n  metrics:\n    enabled: true\n";
    let run = St2k8s::render()
        .seeded()
        .values("values.yaml", values)
        .run();
    run.assert_success();
    assert!(
        run.stderr.lines().any(|l| l.starts_with("warning: ") && l.ends_with(
            "values.yaml:4:5: `redis.metrics.enabled`: does not apply to `redis.flavor: official` (a setting of the chart's bitnami Redis); ignored"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("redis_exporter"));
    St2k8s::render()
        .seeded()
        .args(&["--strict"])
        .values("values.yaml", values)
        .run()
        .assert_user_error(&[
            "`redis.metrics.enabled`: does not apply to `redis.flavor: official`",
        ]);
    let lint = St2k8s::lint()
        .seeded()
        .args(&["--strict"])
        .values("values.yaml", values)
        .run();
    assert_eq!(lint.code, Some(1), "{}", lint.stderr);
}

/// Switching the flavor changes Redis objects only: st2's configuration (its coordination URL
/// with the sentinels, master set and password) and every other object stay as they are, and
/// the password is in no ConfigMap.
#[test]
fn official_flavor_changes_nothing_outside_redis() {
    let render = |flavor: &str| {
        let run = St2k8s::render()
            .seeded()
            .values(
                "values.yaml",
                &format!(
                    "redis:\n  flavor: {flavor}\n  usePassword: true\n  password: {PASSWORD:?}\n"
                ),
            )
            .run();
        run.assert_success();
        documents(&run.stdout)
    };
    let is_redis = |d: &Json| {
        d["metadata"]["labels"]["app"] == "redis"
            || d["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("st2-redis"))
    };
    let bitnami = render("bitnami");
    let official = render("official");
    let others =
        |docs: &[Json]| -> Vec<Json> { docs.iter().filter(|d| !is_redis(d)).cloned().collect() };
    assert_eq!(others(&official), others(&bitnami));
    assert!(
        official
            .iter()
            .any(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "st2-st2-credentials"),
        "st2.conf's credentials (with the coordination URL) are among the compared objects"
    );
    for doc in official.iter().filter(|d| d["kind"] == "ConfigMap") {
        assert!(
            !doc.to_string().contains("be-check"),
            "password in ConfigMap {}",
            doc["metadata"]["name"]
        );
    }
}

/// What a start script did when run on stubs by [`run_script`].
struct ScriptRun {
    /// The environment the server was started with.
    env: String,
    success: bool,
    /// Its standard output and error.
    output: String,
    /// The arguments the server stub was started with, one a line, and the configuration file
    /// it was given; both empty when the script never started it.
    args: String,
    conf: String,
}

/// The server stub: records its arguments and its configuration file, then ends.
const SERVER_STUB: &str = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$STUB_DIR/server-args\"\ncp \"$1\" \"$STUB_DIR/server-conf\"\nenv > \"$STUB_DIR/server-env\"\n";
/// The CLI stub: no sentinel or server answers.
const SILENT_CLI_STUB: &str = "#!/bin/sh\nexit 1\n";

/// Run the rendered start script `script` of pod 0 as its container would, on stubs instead of
/// servers (no server binaries or namespaces needed): `valkey-server` is [`SERVER_STUB`],
/// `valkey-cli` [`SILENT_CLI_STUB`] (a new group: pod 0 starts as master), then `stubs`
/// (program name, script) first in `PATH`. `password` is the mounted Secret file's content.
fn run_script(
    rendered: &Rendered,
    script: &str,
    password: Option<&str>,
    stubs: &[(&str, &str)],
) -> ScriptRun {
    let temp = TempDir::new();
    let dir = &temp.0;
    rendered.write_shared(dir, password);
    let pod = mkdir(&dir.join("pod"));
    for sub in ["data", "server-run", "sentinel-run"] {
        mkdir(&pod.join(sub));
    }
    let bin = mkdir(&dir.join("bin"));
    for (name, text) in [
        ("valkey-server", SERVER_STUB),
        ("valkey-cli", SILENT_CLI_STUB),
    ]
    .iter()
    .chain(stubs)
    {
        write(&bin.join(name), text, 0o755);
    }
    let container = if script == "start-sentinel.sh" {
        "sentinel"
    } else {
        "redis"
    };
    let mut env = rendered.local_env(container, &local_volumes(dir, &pod));
    env.extend([
        ("HOSTNAME".to_string(), "st2-redis-node-0".to_string()),
        (
            "PATH".to_string(),
            format!("{}:/usr/bin:/bin", bin.display()),
        ),
        ("HOME".to_string(), dir.display().to_string()),
        ("STUB_DIR".to_string(), dir.display().to_string()),
    ]);
    let out = Command::new("timeout")
        .arg("30")
        .arg("/bin/sh")
        .arg(dir.join("scripts").join(script))
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    ScriptRun {
        success: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        args: read("server-args"),
        env: read("server-env"),
        conf: read("server-conf"),
    }
}

/// `slave.extraFlags` reach the server as they are written: nothing in them runs or expands.
#[test]
fn official_flavor_passes_extra_flags_verbatim() {
    let marker = TempDir::new();
    let touch = marker.0.join("expanded").display().to_string();
    let flags = [
        format!("$(touch {touch})"),
        format!("`touch {touch}`"),
        "it's ${HOME}".to_string(),
        "--maxmemory 1mb".to_string(),
    ];
    let rendered = render(&format!(
        "  slave:\n    extraFlags: {}\n",
        serde_json::to_string(&flags).unwrap_or_default()
    ));
    let run = run_script(&rendered, "start-node.sh", None, &[]);
    assert!(run.success, "{}", run.output);
    let args: Vec<&str> = run.args.lines().skip(1).collect();
    assert_eq!(args, flags, "{}", run.output);
    assert!(!marker.0.join("expanded").exists(), "a flag ran a command");
}

/// A password the configuration files cannot hold, an empty one, or one the scripts cannot
/// quote stops the start scripts with an error naming the file, never the password, before any
/// server starts; a quotable one is written quoted.
#[test]
fn official_flavor_start_scripts_refuse_unusable_passwords() {
    let rendered = render("  usePassword: true\n");
    for script in ["start-node.sh", "start-sentinel.sh"] {
        for (password, stubs, message) in [
            (
                "s3cret\nreplicaof evil.example 6379",
                &[][..],
                "holds a line break",
            ),
            ("", &[][..], "is empty"),
            (
                "s3cret",
                &[("sed", "#!/bin/sh\nexit 1\n")][..],
                "could not quote",
            ),
        ] {
            let run = run_script(&rendered, script, Some(password), stubs);
            assert!(!run.success, "{script}: {}\n{}", run.output, run.conf);
            assert!(run.args.is_empty(), "{script}: started:\n{}", run.conf);
            assert!(
                run.output.contains(message) && run.output.contains("/secrets/redis-password"),
                "{script}: {}",
                run.output
            );
            assert!(!run.output.contains("s3cret"), "{script}: {}", run.output);
        }
        let run = run_script(&rendered, script, Some(r#"a"b\c"#), &[]);
        assert!(run.success, "{script}: {}", run.output);
        assert!(run.conf.contains(r#" "a\"b\\c""#), "{script}: {}", run.conf);
        // The server has it in its configuration only, not in its environment.
        assert!(
            run.env.contains("PATH=") && !run.env.contains(r#"a"b\c"#),
            "{script}: {}",
            run.env
        );
    }
}

/// What a sentinel answers is written into the configuration only when it is a host name or
/// address; anything else counts as no answer.
#[test]
fn official_flavor_start_scripts_ignore_a_master_that_is_no_host() {
    let rendered = render("");
    let lying_cli = "#!/bin/sh\ncase \"$*\" in\n  *get-master-addr-by-name*) printf '%s\\n' 'evil\"host' 6379 ;;\n  *ping*) echo PONG ;;\n  *) exit 1 ;;\nesac\n";
    let run = run_script(
        &rendered,
        "start-node.sh",
        None,
        &[("valkey-cli", lying_cli)],
    );
    assert!(run.success, "{}", run.output);
    assert!(!run.conf.contains("evil"), "{}", run.conf);
    assert!(!run.conf.contains("replicaof"), "{}", run.conf);
    assert!(
        run.output.contains(
            "no sentinel of pods 0 to 2 names a master of mymaster\nstarting as master\n"
        ),
        "{}",
        run.output
    );
}
