//! `podSecurity: restricted`: every pod template of the default render and of every scenario
//! (with the profile added) meets the Pod Security Standards "restricted" level, checked here in
//! Rust on the rendered pod specs and, when the shared tools sit beside the repository
//! (`../shared/tools/pss-restricted`, as in CI), by that checker too. `ST2K8S_TEST_REQUIRE_SHARED=1`
//! makes a missing checker a failure instead of a skip. Scenarios whose values cannot be
//! restricted must fail with a message naming the key.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use super::{Scenario, St2k8s, documents};

const PROFILE: &[&str] = &["--set", "podSecurity=restricted", "--include-tests"];

/// Scenarios whose values contradict the profile, and the error each must give.
const INCOMPATIBLE: &[(&str, &str)] = &[
    (
        "env-volumes-lifecycle",
        "error: `st2timersengine.extra_volumes[0].volume.hostPath`: hostPath volumes are not allowed; use a persistentVolumeClaim, configMap, secret or emptyDir (`podSecurity: restricted`)\n",
    ),
    (
        "packs-volumes",
        "error: `st2.packs.volumes.virtualenvs.nfs`: nfs volumes are not allowed; use a persistentVolumeClaim (a PersistentVolume may be backed by nfs) (`podSecurity: restricted`)\n",
    ),
    (
        "security-dns",
        "error: `podSecurity: restricted` cannot be met:\n  `st2actionrunner.securityContext.runAsUser`: 0 (root) is not allowed; remove it or use a non-root UID\n  `st2actionrunner.securityContext.allowPrivilegeEscalation`: true is not allowed; remove it\n  `st2web.podSecurityContext.runAsNonRoot`: false is not allowed; remove it\n",
    ),
    (
        "sensors-one-per-pod",
        "error: `st2.packs.sensors[2].extra_volumes[0].volume.hostPath`: hostPath volumes are not allowed; use a persistentVolumeClaim, configMap, secret or emptyDir (`podSecurity: restricted`)\n",
    ),
];

/// The pod specs of a manifest stream, named `Kind/name`.
fn pod_specs(docs: &[Json]) -> Vec<(String, &Json)> {
    docs.iter()
        .filter_map(|d| {
            let kind = d["kind"].as_str()?;
            let spec = match kind {
                "Pod" => d.get("spec")?,
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                    d.pointer("/spec/template/spec")?
                }
                _ => return None,
            };
            Some((format!("{kind}/{}", d["metadata"]["name"].as_str()?), spec))
        })
        .collect()
}

/// Every violation of the restricted level in one pod spec.
fn violations(spec: &Json) -> Vec<String> {
    let allowed = [
        "name",
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    let mut v = Vec::new();
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec[field] == Json::Bool(true) {
            v.push(format!("{field} true"));
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        for key in volume.as_object().into_iter().flat_map(|m| m.keys()) {
            if !allowed.contains(&key.as_str()) {
                v.push(format!("volume {}: {key}", volume["name"]));
            }
        }
    }
    let psc = &spec["securityContext"];
    if psc["runAsUser"] == 0 {
        v.push("pod runAsUser 0".into());
    }
    for (key, value) in psc["sysctls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (&s["name"], &s["value"]))
    {
        if key != "net.ipv4.ip_unprivileged_port_start" {
            v.push(format!("sysctl {key}={value}"));
        }
    }
    let containers = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten());
    for c in containers {
        let n = &c["name"];
        let sc = &c["securityContext"];
        if sc["privileged"] == Json::Bool(true) {
            v.push(format!("{n}: privileged"));
        }
        if sc["allowPrivilegeEscalation"] != Json::Bool(false) {
            v.push(format!("{n}: allowPrivilegeEscalation not false"));
        }
        let drop = sc.pointer("/capabilities/drop").and_then(Json::as_array);
        if !drop.is_some_and(|d| d.iter().any(|c| c == "ALL")) {
            v.push(format!("{n}: capabilities.drop lacks ALL"));
        }
        for add in sc
            .pointer("/capabilities/add")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if add != "NET_BIND_SERVICE" {
                v.push(format!("{n}: adds {add}"));
            }
        }
        let non_root = sc.get("runAsNonRoot").unwrap_or(&psc["runAsNonRoot"]);
        if non_root != &Json::Bool(true) {
            v.push(format!("{n}: runAsNonRoot not true"));
        }
        // A named image user cannot be checked for non-root by the kubelet: a UID must be set.
        let uid = sc.get("runAsUser").unwrap_or(&psc["runAsUser"]);
        if uid.as_i64().is_none_or(|u| u <= 0) {
            v.push(format!("{n}: no non-root runAsUser"));
        }
        let seccomp = sc
            .pointer("/seccompProfile/type")
            .or_else(|| psc.pointer("/seccompProfile/type"));
        if !seccomp.is_some_and(|t| t == "RuntimeDefault" || t == "Localhost") {
            v.push(format!("{n}: seccompProfile not RuntimeDefault/Localhost"));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if port["hostPort"].as_i64().unwrap_or(0) != 0 {
                v.push(format!("{n}: hostPort"));
            }
        }
    }
    v
}

/// The shared checker beside the repository, if there; a failure when CI requires it.
fn checker() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/pss-restricted");
    if path.is_file() {
        return Some(path);
    }
    if std::env::var_os("ST2K8S_TEST_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!(
            "ST2K8S_TEST_REQUIRE_SHARED=1 but {} is missing",
            path.display()
        );
    }
    None
}

/// Assert that a manifest stream meets the restricted level, in Rust and with the checker.
fn assert_restricted(label: &str, yaml: &str) {
    let docs = documents(yaml);
    let specs = pod_specs(&docs);
    assert!(!specs.is_empty(), "{label}: no pod templates");
    let bad: Vec<String> = specs
        .iter()
        .filter_map(|(name, spec)| {
            let v = violations(spec);
            (!v.is_empty()).then(|| format!("{name}: {}", v.join("; ")))
        })
        .collect();
    assert!(bad.is_empty(), "{label}:\n{}", bad.join("\n"));
    if let Some(checker) = checker() {
        let file =
            std::env::temp_dir().join(format!("st2k8s-pss-{}-{label}.yaml", std::process::id()));
        std::fs::write(&file, yaml).expect("write the render");
        let out = Command::new("python3")
            .arg(&checker)
            .arg(&file)
            .output()
            .expect("run python3 with the pss-restricted checker");
        let _ = std::fs::remove_file(&file);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{label}: pss-restricted failed:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all = format!("{0}/{0} pod templates pass", specs.len());
        assert!(stdout.contains(&all), "{label}: {stdout}");
    }
}

#[test]
fn every_pod_of_the_default_render_is_restricted() {
    let run = St2k8s::render().seeded().args(PROFILE).run();
    run.assert_success();
    assert_restricted("defaults", &run.stdout);
}

#[test]
fn the_official_redis_flavor_is_restricted() {
    let run = St2k8s::render()
        .seeded()
        .args(PROFILE)
        .args(&["--set", "redis.flavor=official,redis.usePassword=true"])
        .run();
    run.assert_success();
    assert!(run.stdout.contains("valkey/valkey"));
    assert_restricted("redis.flavor=official", &run.stdout);
}

#[test]
fn the_official_mongodb_flavor_is_restricted() {
    let run = St2k8s::render()
        .seeded()
        .args(PROFILE)
        .args(&[
            "--set",
            "image.tag=3.9,mongodb.flavor=official,mongodb.arbiter.enabled=true",
        ])
        .run();
    run.assert_success();
    assert_restricted("mongodb-official", &run.stdout);
    let docs = documents(&run.stdout);
    for name in ["st2-mongodb", "st2-mongodb-arbiter"] {
        let pod = &object(&docs, "StatefulSet", name)["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsUser"], 1001, "{name}");
        assert_eq!(pod["securityContext"]["runAsGroup"], 1001, "{name}");
        assert_eq!(pod["securityContext"]["fsGroup"], 1001, "{name}");
    }
}

#[test]
fn every_compatible_scenario_is_restricted_and_the_others_name_the_key() {
    for scenario in Scenario::all() {
        let run = scenario.render().args(PROFILE).run();
        match INCOMPATIBLE.iter().find(|(n, _)| *n == scenario.name) {
            Some((_, message)) => {
                run.assert_user_error(&[]);
                assert_eq!(run.stderr, *message, "{}", scenario.name);
            }
            None => {
                run.assert_success();
                assert_restricted(&scenario.name, &run.stdout);
            }
        }
    }
}

#[test]
fn the_rust_rules_catch_the_chart_defaults() {
    // Without the profile the chart's pods are not restricted: the rules above can fail.
    let run = St2k8s::render().seeded().run();
    run.assert_success();
    let docs = documents(&run.stdout);
    let specs = pod_specs(&docs);
    assert!(specs.iter().all(|(_, spec)| !violations(spec).is_empty()));
}

/// The object `kind/name` of a render.
fn object<'a>(docs: &'a [Json], kind: &str, name: &str) -> &'a Json {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

#[test]
fn st2web_gets_writable_nginx_dirs_and_binds_port_80_unprivileged() {
    let run = St2k8s::render().seeded().args(PROFILE).run();
    run.assert_success();
    let docs = documents(&run.stdout);
    let spec = &object(&docs, "Deployment", "st2-st2web")["spec"]["template"]["spec"];
    assert_eq!(
        spec["securityContext"],
        serde_json::json!({
            "fsGroup": 1000,
            "runAsNonRoot": true,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
            "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
        })
    );
    let init = &spec["initContainers"][0];
    assert_eq!(init["name"], "copy-nginx-templates");
    assert_eq!(init["image"], "stackstorm/st2web:3.8");
    let mounts: Vec<&str> = spec["containers"][0]["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|m| m["mountPath"].as_str().expect("a mountPath"))
        .collect();
    assert_eq!(
        mounts,
        [
            "/etc/nginx/conf.d",
            "/var/cache/nginx",
            "/run",
            "/var/log/nginx"
        ]
    );
    assert_eq!(
        spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
        true
    );
    assert_eq!(spec["containers"][0]["ports"][0]["containerPort"], 80);
}

#[test]
fn st2_services_get_tmp_ssh_and_client_config_in_place() {
    let run = St2k8s::render().seeded().args(PROFILE).run();
    run.assert_success();
    let docs = documents(&run.stdout);
    let api = &object(&docs, "Deployment", "st2-st2api")["spec"]["template"]["spec"];
    let main = &api["containers"][0];
    assert_eq!(main["securityContext"]["readOnlyRootFilesystem"], true);
    assert!(
        main["volumeMounts"]
            .as_array()
            .expect("a list")
            .contains(&serde_json::json!({"name": "st2k8s-tmp", "mountPath": "/tmp"}))
    );
    let runner = &object(&docs, "Deployment", "st2-st2actionrunner")["spec"]["template"]["spec"];
    let main = &runner["containers"][0];
    // Actions write anywhere: the runner keeps a writable root filesystem.
    assert_eq!(main["securityContext"].get("readOnlyRootFilesystem"), None);
    assert!(
        main["volumeMounts"].as_array().expect("a list").contains(
            &serde_json::json!({"name": "st2k8s-ssh", "mountPath": "/home/stanley/.ssh"})
        )
    );
    let client = &object(&docs, "Deployment", "st2-st2client")["spec"]["template"]["spec"];
    assert!(
        client["containers"][0]["env"]
            .as_array()
            .expect("a list")
            .contains(
                &serde_json::json!({"name": "ST2_CONFIG_FILE", "value": "/root/.st2/config"})
            )
    );
    let mongodb = &object(&docs, "StatefulSet", "st2-mongodb")["spec"]["template"]["spec"];
    assert_eq!(mongodb["securityContext"]["runAsUser"], 1001);
    assert_eq!(mongodb["securityContext"]["fsGroup"], 1001);
}

#[test]
fn the_ssh_directory_follows_the_system_user() {
    let run = St2k8s::render()
        .seeded()
        .args(PROFILE)
        .values("user.yaml", "st2:\n  system_user:\n    user: alice\n")
        .run();
    run.assert_success();
    let docs = documents(&run.stdout);
    let runner = &object(&docs, "Deployment", "st2-st2actionrunner")["spec"]["template"]["spec"];
    let mounts = runner["containers"][0]["volumeMounts"]
        .as_array()
        .expect("a list");
    assert!(
        mounts
            .contains(&serde_json::json!({"name": "st2k8s-ssh", "mountPath": "/home/alice/.ssh"})),
        "{mounts:?}"
    );
    assert!(
        runner["volumes"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|v| v["name"] == "st2k8s-ssh"),
        "the emptyDir exists"
    );
}

#[test]
fn the_users_keys_win_over_the_profile() {
    let run = St2k8s::render()
        .seeded()
        .args(PROFILE)
        .values(
            "custom.yaml",
            "podSecurityContext:\n  runAsUser: 2000\nst2api:\n  securityContext:\n    readOnlyRootFilesystem: false\n    capabilities:\n      drop: [NET_RAW]\n      add: [NET_BIND_SERVICE]\n",
        )
        .run();
    run.assert_success();
    let docs = documents(&run.stdout);
    let api = &object(&docs, "Deployment", "st2-st2api")["spec"]["template"]["spec"];
    assert_eq!(api["securityContext"]["runAsUser"], 2000);
    assert_eq!(api["securityContext"]["fsGroup"], 2000);
    assert_eq!(
        api["containers"][0]["securityContext"],
        serde_json::json!({
            "allowPrivilegeEscalation": false,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["NET_RAW", "ALL"]},
            "readOnlyRootFilesystem": false,
        })
    );
    assert_restricted("user-keys", &run.stdout);
}

#[test]
fn values_that_cannot_be_restricted_are_errors_naming_the_key() {
    let cases = [
        (
            "podSecurity: strict\n",
            "error: `podSecurity`: expected `restricted` (or no value for the chart's security contexts)\n",
        ),
        (
            "podSecurity: restricted\nst2api:\n  securityContext:\n    privileged: true\n",
            "error: `st2api.securityContext.privileged`: true is not allowed; remove it (`podSecurity: restricted`)\n",
        ),
        (
            "podSecurity: restricted\nsecurityContext:\n  capabilities:\n    add: [NET_ADMIN]\n",
            "error: `securityContext.capabilities.add`: NET_ADMIN not allowed; only NET_BIND_SERVICE may be added (`podSecurity: restricted`)\n",
        ),
        (
            "podSecurity: restricted\nmongodb:\n  volumePermissions:\n    enabled: true\n",
            "error: `mongodb.volumePermissions.enabled`: its init container runs as root; set it to false (the pod's fsGroup makes the volume writable) (`podSecurity: restricted`)\n",
        ),
        (
            "podSecurity: restricted\nredis:\n  sysctlImage:\n    enabled: true\n",
            "error: `redis.sysctlImage.enabled`: its init container is privileged; set it to false and tune the node's sysctls outside the pod (`podSecurity: restricted`)\n",
        ),
        (
            "podSecurity: restricted\nst2:\n  packs:\n    volumes:\n      enabled: true\n      packs:\n        hostPath:\n          path: /srv/packs\n",
            "error: `st2.packs.volumes.packs.hostPath`: hostPath volumes are not allowed; use a persistentVolumeClaim (a PersistentVolume may be backed by hostPath) (`podSecurity: restricted`)\n",
        ),
        (
            "podSecurity: restricted\nst2api:\n  extra_volumes:\n    - name: srv\n      mount: {mountPath: /srv}\n      volume:\n        '{{ \"hostPath\" }}': {path: /srv}\n",
            "error: Deployment/st2-st2api: volume `srv` is of type hostPath, not allowed with `podSecurity: restricted` (allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret)\n",
        ),
    ];
    for (values, message) in cases {
        let run = St2k8s::render()
            .seeded()
            .values("custom.yaml", values)
            .run();
        run.assert_user_error(&[]);
        assert_eq!(run.stderr, message, "{values}");
    }
}
