//! The three ways users apply st2k8s output, end to end through the binary:
//! `--target kubectl` (content-hashed Job names), `--target argocd` and the Argo CD plugin
//! commands, `--output-dir` read back by the real `kubectl kustomize` (skipped with a note when
//! no kubectl is found), `st2k8s diff` exit codes and report (never a secret), and
//! `render | head` exiting 0.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::path::Path;

use serde_json::Value as Json;

use super::{Run, SEED, Scenario, St2k8s, TempDir, documents};

/// The Jobs of a render: name without the hash suffix → full name.
fn job_names(run: &Run) -> BTreeMap<String, String> {
    run.assert_success();
    documents(&run.stdout)
        .iter()
        .filter(|o| o["kind"] == "Job")
        .map(|o| {
            let name = o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let base = name.rsplit_once('-').map_or("", |(b, _)| b).to_string();
            (base, name)
        })
        .collect()
}

/// A `kubectl` hash suffix: 8 lowercase hex digits.
fn is_hash_suffix(suffix: &str) -> bool {
    suffix.len() == 8
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn kubectl_job_names_follow_the_job_pod_only() {
    let baseline = job_names(&St2k8s::render().seeded().run());
    let unrelated = job_names(
        &St2k8s::render()
            .seeded()
            .args(&["--set", "st2web.replicas=4"])
            .run(),
    );
    let new_image = job_names(
        &St2k8s::render()
            .seeded()
            .args(&["--set", "image.tag=3.8.1"])
            .run(),
    );
    let bases: Vec<&String> = baseline.keys().collect();
    assert_eq!(
        bases,
        [
            "st2-job-st2-apikey-load",
            "st2-job-st2-key-load",
            "st2-job-st2-register-content"
        ]
    );
    for (base, name) in &baseline {
        let suffix = &name[base.len() + 1..];
        assert!(is_hash_suffix(suffix), "{name}: suffix `{suffix}`");
    }
    assert_eq!(
        baseline, unrelated,
        "an unrelated change must keep every Job name"
    );
    assert_eq!(
        baseline.keys().collect::<Vec<_>>(),
        new_image.keys().collect::<Vec<_>>()
    );
    for (base, name) in &baseline {
        assert_ne!(
            Some(name),
            new_image.get(base),
            "{base}: a new image must give a new Job"
        );
    }
}

#[test]
fn kubectl_job_names_follow_the_data_the_job_reads() {
    // `st2.keyvalue` reaches the key-load Job only through a Secret it mounts: Helm re-runs the
    // hook on every upgrade, so with kubectl the changed data must give a new Job.
    let scenario = Scenario::named("credentials-datastore");
    let baseline = job_names(&scenario.render().run());
    let changed = job_names(
        &scenario
            .render()
            .args(&["--set", "st2.keyvalue[0].value=3.9"])
            .run(),
    );
    let renamed: Vec<&String> = baseline
        .iter()
        .filter(|(base, name)| changed.get(*base) != Some(name))
        .map(|(base, _)| base)
        .collect();
    assert_eq!(renamed, ["st2-job-st2-key-load"]);
}

#[test]
fn kubectl_ttl_is_set_without_renaming_jobs() {
    let plain = St2k8s::render().seeded().run();
    assert!(
        !plain.stdout.contains("ttlSecondsAfterFinished"),
        "unset by default, as the chart"
    );
    let with_ttl = St2k8s::render()
        .seeded()
        .args(&["--set", "jobs.ttlSecondsAfterFinished=600"])
        .run();
    assert_eq!(job_names(&plain), job_names(&with_ttl));
    let jobs: Vec<Json> = documents(&with_ttl.stdout)
        .into_iter()
        .filter(|o| o["kind"] == "Job")
        .collect();
    assert_eq!(jobs.len(), 3);
    for job in &jobs {
        assert_eq!(job["spec"]["ttlSecondsAfterFinished"], 600, "{job}");
    }
    let negative = St2k8s::render()
        .seeded()
        .args(&["--set", "jobs.ttlSecondsAfterFinished=-1"])
        .run();
    assert_eq!(negative.code, Some(2), "{}", negative.stderr);
    assert!(negative.stdout.is_empty());
    assert!(
        negative
            .stderr
            .contains("error: `jobs.ttlSecondsAfterFinished`: expected a number of seconds"),
        "{}",
        negative.stderr
    );
}

/// Helm or Argo CD annotations on an object's own metadata that the user did not set: Jobs
/// carry `jobs.annotations` on both the Job and its pod template, so keys also on the pod
/// template with the same value are the user's.
fn hook_annotations(object: &Json) -> Vec<String> {
    let template = &object["spec"]["template"]["metadata"]["annotations"];
    object["metadata"]["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("helm.sh/") || k.starts_with("argocd.argoproj.io/"))
        .filter(|(k, v)| template.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

#[test]
fn kubectl_target_emits_no_hook_annotations() {
    // chatops-jobs puts `argocd.argoproj.io/hook: Sync` in `jobs.annotations`: that one stays.
    for scenario in [
        "default",
        "packs-volumes",
        "rbac-serviceaccount",
        "chatops-jobs",
    ] {
        let run = Scenario::named(scenario)
            .render()
            .args(&["--target", "kubectl"])
            .run();
        run.assert_success();
        for object in documents(&run.stdout) {
            let found = hook_annotations(&object);
            assert!(
                found.is_empty(),
                "{scenario}: {}/{} has {found:?}",
                object["kind"],
                object["metadata"]["name"]
            );
        }
    }
}

/// A Job's expected Argo CD hook: (name, phase, sync wave).
type HookJob = (&'static str, &'static str, &'static str);

#[test]
fn argocd_target_maps_chart_hooks_to_argocd_hooks() {
    // (scenario, Job, Argo CD phase, sync wave = the chart's hook weight)
    let table: &[(&str, &[HookJob])] = &[
        (
            "default",
            &[
                ("st2-job-st2-apikey-load", "PostSync", "6"),
                ("st2-job-st2-key-load", "PostSync", "6"),
                ("st2-job-st2-register-content", "PostSync", "7"),
            ],
        ),
        (
            "rbac-serviceaccount",
            &[
                ("st2-job-st2-apikey-load", "PostSync", "6"),
                ("st2-job-st2-apply-rbac-definitions", "PostSync", "5"),
                ("st2-job-st2-key-load", "PostSync", "6"),
                ("st2-job-st2-register-content", "PostSync", "7"),
            ],
        ),
        (
            "packs-volumes",
            &[
                ("st2-job-ensure-packs-volumes-are-writable", "PreSync", "-5"),
                ("st2-job-st2-apikey-load", "PostSync", "6"),
                ("st2-job-st2-key-load", "PostSync", "6"),
                ("st2-job-st2-register-content", "PostSync", "7"),
            ],
        ),
        (
            "chatops-jobs",
            &[
                ("st2-job-extra-helm-hook-init-workflow", "PostSync", "10"),
                ("st2-job-extra-helm-hook-upgrade-warning", "PreSync", "-5"),
                ("st2-job-st2-apikey-load", "PostSync", "6"),
                ("st2-job-st2-register-content", "PostSync", "7"),
            ],
        ),
    ];
    for (scenario, expected) in table {
        // Without the user's own `argocd.argoproj.io/hook` (chatops-jobs), checked below.
        let run = Scenario::named(scenario)
            .render()
            .args(&["--target", "argocd", "--set", "jobs.annotations=null"])
            .run();
        run.assert_success();
        let mut jobs = Vec::new();
        for object in documents(&run.stdout) {
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            let annotations = &object["metadata"]["annotations"];
            let keys = hook_annotations(&object);
            assert!(
                keys.iter().all(|k| !k.starts_with("helm.sh/")),
                "{scenario}: {name} keeps {keys:?}"
            );
            if object["kind"] != "Job" {
                assert!(keys.is_empty(), "{scenario}: {name} has {keys:?}");
                continue;
            }
            assert_eq!(
                annotations["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation",
                "{scenario}: {name}"
            );
            jobs.push((
                name.to_string(),
                annotations["argocd.argoproj.io/hook"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                annotations["argocd.argoproj.io/sync-wave"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
        jobs.sort();
        let expected: Vec<(String, String, String)> = expected
            .iter()
            .map(|(n, p, w)| (n.to_string(), p.to_string(), w.to_string()))
            .collect();
        assert_eq!(jobs, expected, "{scenario}");
    }
    // An Argo CD hook set in `jobs.annotations` wins, as it does over Helm hooks in Argo CD.
    let run = Scenario::named("chatops-jobs")
        .render()
        .args(&["--target", "argocd"])
        .run();
    run.assert_success();
    let jobs: Vec<Json> = documents(&run.stdout)
        .into_iter()
        .filter(|o| o["kind"] == "Job")
        .collect();
    assert_eq!(jobs.len(), 4);
    for job in &jobs {
        let annotations = &job["metadata"]["annotations"];
        assert_eq!(annotations["argocd.argoproj.io/hook"], "Sync", "{job}");
        assert!(annotations.get("argocd.argoproj.io/sync-wave").is_some());
    }
}

/// `st2k8s argocd <sub>` run in a temp dir holding `files`, with Argo CD's environment.
fn argocd(sub: &str, files: &[(&str, &str)], env: &[(&str, &str)]) -> Run {
    let mut cmd = St2k8s::command(&["argocd", sub]).in_dir();
    for (name, text) in files {
        cmd.file(name, text);
    }
    for (key, value) in env {
        cmd = cmd.env(key, value);
    }
    cmd.run()
}

/// Argo CD's environment for an application `chat` in namespace `ops`.
const ARGO_ENV: &[(&str, &str)] = &[
    ("ARGOCD_APP_NAME", "chat"),
    ("ARGOCD_APP_NAMESPACE", "ops"),
    ("ARGOCD_ENV_VALUES_FILES", "prod.yaml"),
    ("ARGOCD_ENV_SET", "st2api.replicas=3"),
    (
        "ARGOCD_APP_PARAMETERS",
        r#"[{"name":"replicas","map":{"st2stream":"5"}},{"name":"image.tag","string":"3.8.1"}]"#,
    ),
    ("ST2K8S_SECRET_SEED", SEED),
];

#[test]
fn argocd_generate_renders_the_application_from_argo_environment() {
    let files = [
        ("values.yaml", "st2web:\n  replicas: 4\n"),
        ("prod.yaml", "st2auth:\n  replicas: 6\n"),
    ];
    let run = argocd("generate", &files, ARGO_ENV);
    run.assert_success();
    let objects = documents(&run.stdout);
    let replicas = |name: &str| {
        objects
            .iter()
            .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == name)
            .map(|o| o["spec"]["replicas"].clone())
    };
    assert_eq!(replicas("chat-st2web"), Some(Json::from(4)), "values.yaml");
    assert_eq!(
        replicas("chat-st2auth"),
        Some(Json::from(6)),
        "VALUES_FILES"
    );
    assert_eq!(replicas("chat-st2api"), Some(Json::from(3)), "ENV_SET");
    assert_eq!(
        replicas("chat-st2stream"),
        Some(Json::from(5)),
        "parameters"
    );
    let mut jobs = 0;
    for object in &objects {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        assert!(!name.starts_with("st2-"), "default release name in {name}");
        // Redis keeps bitnami's legacy `release` label instead of `app.kubernetes.io/instance`.
        let labels = &object["metadata"]["labels"];
        let instance = labels
            .get("app.kubernetes.io/instance")
            .or_else(|| labels.get("release"));
        assert_eq!(instance, Some(&Json::from("chat")), "{name}");
        if let Some(ns) = object["metadata"].get("namespace") {
            assert_eq!(ns, "ops", "{name}");
        }
        if object["kind"] == "Job" {
            jobs += 1;
            assert!(name.starts_with("chat-job-"), "{name}");
            let hook = &object["metadata"]["annotations"]["argocd.argoproj.io/hook"];
            assert!(hook == "PreSync" || hook == "PostSync", "{name}: {hook}");
            let image = object["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or_default();
            assert!(image.ends_with(":3.8.1"), "{name}: {image}");
        }
    }
    assert_eq!(jobs, 3);
    // The seed makes the plugin's output stable between repo-server runs.
    assert_eq!(argocd("generate", &files, ARGO_ENV).stdout, run.stdout);
}

/// A (file name, content) or (variable, value) pair.
type Pair = (&'static str, &'static str);

#[test]
fn argocd_generate_fails_with_empty_stdout() {
    let broken: &[(&str, &[Pair], &[Pair])] = &[
        (
            "invalid YAML",
            &[("values.yaml", "st2web: [\n"), ("prod.yaml", "")],
            ARGO_ENV,
        ),
        (
            "invalid value",
            &[
                ("values.yaml", "jobs:\n  ttlSecondsAfterFinished: soon\n"),
                ("prod.yaml", ""),
            ],
            ARGO_ENV,
        ),
        ("missing values file", &[("values.yaml", "")], ARGO_ENV),
        (
            "no application name",
            &[("values.yaml", "")],
            &[("ST2K8S_SECRET_SEED", SEED)],
        ),
    ];
    for (what, files, env) in broken {
        let run = argocd("generate", files, env);
        assert!(
            matches!(run.code, Some(c) if c != 0),
            "{what}: exit {:?}",
            run.code
        );
        assert!(run.stdout.is_empty(), "{what}: stdout {}", run.stdout);
        assert!(run.stderr.contains("error: "), "{what}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    }
}

/// Prepares an application directory before a run.
#[cfg(unix)]
type Setup = Box<dyn FnOnce(&Path)>;

/// `argocd generate` in an application directory prepared by `setup`, with [`ARGO_ENV`] but
/// `ARGOCD_ENV_VALUES_FILES` set to `values_files`.
#[cfg(unix)]
fn generate_in(values_files: &str, setup: impl FnOnce(&Path)) -> Run {
    let mut cmd = St2k8s::command(&["argocd", "generate"]).in_dir();
    cmd.file("values.yaml", "st2web:\n  replicas: 4\n");
    cmd.file("prod.yaml", "st2auth:\n  replicas: 6\n");
    setup(cmd.dir());
    for (key, value) in ARGO_ENV {
        let value = if *key == "ARGOCD_ENV_VALUES_FILES" {
            values_files
        } else {
            value
        };
        cmd = cmd.env(key, value);
    }
    cmd.run()
}

#[cfg(unix)]
#[test]
fn argocd_values_files_stay_inside_the_application_directory() {
    use std::os::unix::fs::symlink;
    // A file of another application on the same repo server.
    let other = St2k8s::command(&[]);
    let secret = other.file("secrets.yaml", "st2auth:\n  replicas: 9\n");
    let link_out = |name: &'static str| {
        let secret = secret.clone();
        move |dir: &Path| {
            let _ = std::fs::remove_file(dir.join(name));
            symlink(&secret, dir.join(name)).expect("symlink");
        }
    };
    let refused: Vec<(&str, String, Setup)> = vec![
        (
            "../secrets.yaml",
            "ARGOCD_ENV_VALUES_FILES: `../secrets.yaml` leaves the application directory".into(),
            Box::new(|_: &Path| {}),
        ),
        (
            "prod.yaml, a/../../secrets.yaml",
            "ARGOCD_ENV_VALUES_FILES: `a/../../secrets.yaml` leaves the application directory".into(),
            Box::new(|_: &Path| {}),
        ),
        (
            &secret,
            format!(
                "ARGOCD_ENV_VALUES_FILES: `{secret}` is an absolute path; name a file inside the application directory"
            ),
            Box::new(|_: &Path| {}),
        ),
        (
            "out.yaml",
            "ARGOCD_ENV_VALUES_FILES: `out.yaml` leaves the application directory (a symbolic link points outside it)".into(),
            Box::new(link_out("out.yaml")),
        ),
        (
            "prod.yaml",
            "the application's values file: `values.yaml` leaves the application directory (a symbolic link points outside it)".into(),
            Box::new(link_out("values.yaml")),
        ),
    ];
    for (files, message, setup) in refused {
        let run = generate_in(files, setup);
        run.assert_user_error(&[]);
        assert_eq!(run.stderr, format!("error: {message}\n"), "{files}");
    }
    // A link that stays inside the application is an ordinary values file.
    let run = generate_in("linked.yaml", |dir| {
        symlink("prod.yaml", dir.join("linked.yaml")).expect("symlink");
    });
    run.assert_success();
    let auth = documents(&run.stdout)
        .into_iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "chat-st2auth")
        .map(|o| o["spec"]["replicas"].clone());
    assert_eq!(auth, Some(Json::from(6)));
}

#[test]
fn argocd_parameters_announce_the_main_knobs_as_json() {
    let files = [("values.yaml", "st2web:\n  replicas: 7\n")];
    let env = [("ARGOCD_APP_NAME", "chat")];
    for (files, st2web) in [(&files[..], "7"), (&[][..], "2")] {
        let run = argocd("parameters", files, &env);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let json: Json = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
        let params = json.as_array().expect("a JSON list of parameters");
        let names: BTreeSet<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
        for name in [
            "replicas",
            "image.tag",
            "ingress.enabled",
            "mongodb.enabled",
        ] {
            assert!(names.contains(name), "{name} missing: {names:?}");
        }
        let replicas = params.iter().find(|p| p["name"] == "replicas");
        assert_eq!(
            replicas.map(|p| &p["map"]["st2web"]),
            Some(&Json::from(st2web))
        );
    }
}

/// The `kubectl` to test with: `$KUBECTL`, else `kubectl` on PATH. CI sets
/// `ST2K8S_TEST_REQUIRE_KUBECTL=1`, so a missing kubectl fails there instead of skipping checks.
pub fn kubectl() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("KUBECTL")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join("kubectl"))
                .find(|p| p.is_file())
        });
    if found.is_none() && std::env::var_os("ST2K8S_TEST_REQUIRE_KUBECTL").is_some() {
        panic!("ST2K8S_TEST_REQUIRE_KUBECTL is set but there is no kubectl (KUBECTL or PATH)");
    }
    found
}

/// A document with its map keys sorted, as text: equal objects give equal strings.
fn canonical(value: &Json) -> String {
    fn sorted(value: &Json) -> Json {
        match value {
            Json::Object(map) => {
                let entries: BTreeMap<&String, Json> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                Json::Object(entries.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

fn object_set(yaml: &str) -> BTreeSet<String> {
    documents(yaml).iter().map(canonical).collect()
}

#[test]
fn output_dir_builds_the_rendered_objects_with_kustomize() {
    let kubectl = kubectl();
    if kubectl.is_none() {
        eprintln!("note: no kubectl (set KUBECTL or put it on PATH): kustomize build not checked");
    }
    for scenario in Scenario::all() {
        let dir = TempDir::new();
        let out = dir.0.join("out");
        let out_arg = out.display().to_string();
        let written = scenario.render().args(&["--output-dir", &out_arg]).run();
        assert_eq!(
            written.code,
            Some(0),
            "{}: {}",
            scenario.name,
            written.stderr
        );
        assert!(written.stdout.is_empty(), "{}: stdout", scenario.name);
        let printed = scenario.render().run();
        printed.assert_success();
        let expected = object_set(&printed.stdout);

        // Every file is listed in kustomization.yaml, and Secret files are private.
        let kustomization = std::fs::read_to_string(out.join("kustomization.yaml"))
            .unwrap_or_else(|e| panic!("{}: kustomization.yaml: {e}", scenario.name));
        let listed: BTreeSet<String> = documents(&kustomization)[0]["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect();
        let mut files = BTreeSet::new();
        let mut concatenated = String::new();
        for entry in std::fs::read_dir(&out).expect("read output dir") {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name == "kustomization.yaml" {
                continue;
            }
            if name.starts_with('.') {
                // st2k8s's bookkeeping: neither kustomize nor `kubectl apply -f` reads them.
                assert!(
                    name == ".st2k8s-files" || name == ".st2k8s.lock",
                    "{}: {name}",
                    scenario.name
                );
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read object file");
            let docs = documents(&text);
            assert_eq!(docs.len(), 1, "{name}: one object per file");
            if docs[0]["kind"] == "Secret" {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{name}");
            }
            concatenated.push_str("---\n");
            concatenated.push_str(&text);
            files.insert(name);
        }
        assert_eq!(listed, files, "{}: kustomization resources", scenario.name);
        assert_eq!(
            object_set(&concatenated),
            expected,
            "{}: files hold the rendered objects",
            scenario.name
        );

        if let Some(kubectl) = &kubectl {
            let built = std::process::Command::new(kubectl)
                .args(["kustomize", &out_arg])
                .output()
                .expect("kubectl runs");
            assert!(
                built.status.success(),
                "{}: kubectl kustomize: {}",
                scenario.name,
                String::from_utf8_lossy(&built.stderr)
            );
            let built = object_set(&String::from_utf8_lossy(&built.stdout));
            assert_eq!(
                built.len(),
                expected.len(),
                "{}: object count",
                scenario.name
            );
            assert!(
                built == expected,
                "{}: kustomize differs from render",
                scenario.name
            );
        }
    }
}

#[test]
fn output_dir_keeps_the_users_kustomize_overlay() {
    let dir = TempDir::new();
    let out = dir.0.join("out");
    let out_arg = out.display().to_string();
    let render = |args: &[&str]| {
        let run = St2k8s::render()
            .seeded()
            .args(&["--output-dir", &out_arg])
            .args(args)
            .run();
        assert_eq!(run.code, Some(0), "{}", run.stderr);
    };
    render(&[]);
    // The user adds an object of their own and a patch, and sets a namespace.
    let ours = std::fs::read_to_string(out.join("kustomization.yaml")).expect("kustomization");
    let listed = ours.lines().filter(|l| l.starts_with("  - ")).count();
    std::fs::write(
        out.join("extra.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  k: v\n",
    )
    .expect("extra");
    std::fs::write(
        out.join("patch.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: st2-st2web\nspec:\n  replicas: 5\n",
    )
    .expect("patch");
    std::fs::write(
        out.join("kustomization.yaml"),
        format!("{ours}  - extra.yaml\nnamespace: ops\npatches:\n  - path: patch.yaml\n"),
    )
    .expect("user kustomization");
    // Rendering again with one component fewer keeps all of it and drops only its files.
    render(&[
        "--set",
        "st2chatops.enabled=false",
        "--set",
        "st2web.replicas=2",
    ]);
    let text = std::fs::read_to_string(out.join("kustomization.yaml")).expect("kustomization");
    let doc = &documents(&text)[0];
    assert_eq!(doc["namespace"], "ops");
    assert_eq!(doc["patches"][0]["path"], "patch.yaml");
    let resources: Vec<&str> = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert_eq!(resources.last(), Some(&"extra.yaml"));
    assert!(resources.len() <= listed + 1);
    for resource in &resources {
        assert!(
            out.join(resource).is_file(),
            "{resource} listed and present"
        );
    }
    assert!(
        out.join("patch.yaml").is_file(),
        "the user's unlisted file stays"
    );

    if let Some(kubectl) = kubectl() {
        let built = std::process::Command::new(kubectl)
            .args(["kustomize", &out_arg])
            .output()
            .expect("kubectl runs");
        assert!(
            built.status.success(),
            "kubectl kustomize: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let objects = documents(&String::from_utf8_lossy(&built.stdout));
        let web = objects
            .iter()
            .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "st2-st2web")
            .expect("st2web");
        assert_eq!(web["spec"]["replicas"], 5, "the user's patch applies");
        assert_eq!(web["metadata"]["namespace"], "ops");
        assert!(objects.iter().any(|o| o["metadata"]["name"] == "extra"));
        assert_eq!(objects.len(), resources.len());
    } else {
        eprintln!("note: no kubectl (set KUBECTL or put it on PATH): kustomize build not checked");
    }
}

#[cfg(unix)]
#[test]
fn output_dir_never_writes_through_a_link() {
    let dir = TempDir::new();
    let out = dir.0.join("out");
    std::fs::create_dir(&out).expect("out");
    let outside = dir.0.join("outside.yaml");
    std::fs::write(&outside, "not st2k8s's\n").expect("outside");
    std::os::unix::fs::symlink(&outside, out.join("configmap-st2-st2-config.yaml")).expect("link");
    std::os::unix::fs::symlink(dir.0.join("dangling"), out.join("kustomization.yaml"))
        .expect("link");
    let out_arg = out.display().to_string();
    let run = St2k8s::render().args(&["--output-dir", &out_arg]).run();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr.lines().last(),
        Some(
            format!(
                "error: `{out_arg}/kustomization.yaml` is a symbolic link; st2k8s does not follow \
                 links in the output directory, replace it with a regular file"
            )
            .as_str()
        )
    );
    assert!(!dir.0.join("dangling").exists());
    std::fs::remove_file(out.join("kustomization.yaml")).expect("remove link");
    let run = St2k8s::render().args(&["--output-dir", &out_arg]).run();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&outside).expect("outside"),
        "not st2k8s's\n"
    );
    let config = std::fs::read_to_string(out.join("configmap-st2-st2-config.yaml")).expect("file");
    assert!(config.contains("kind: ConfigMap"));
}

/// Write two renders into a temp dir; returns the dir and the two paths.
fn two_renders(old: St2k8s, new: St2k8s) -> (TempDir, String, String, Run, Run) {
    let dir = TempDir::new();
    let (old, new) = (old.run(), new.run());
    old.assert_success();
    new.assert_success();
    let old_path = dir.0.join("old.yaml");
    let new_path = dir.0.join("new.yaml");
    std::fs::write(&old_path, &old.stdout).expect("write old");
    std::fs::write(&new_path, &new.stdout).expect("write new");
    (
        dir,
        old_path.display().to_string(),
        new_path.display().to_string(),
        old,
        new,
    )
}

fn diff(old: &str, new: &str) -> Run {
    St2k8s::command(&["diff", old, new]).run()
}

#[test]
fn diff_of_equal_renders_exits_0_silently() {
    let (_dir, old, new, _, _) = two_renders(St2k8s::render().seeded(), St2k8s::render().seeded());
    let run = diff(&old, &new);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    // Document order does not matter: the objects are compared, not the text.
    let text = std::fs::read_to_string(&new).expect("read");
    let mut docs: Vec<String> = Vec::new();
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else if let Some(doc) = docs.last_mut() {
            doc.push_str(line);
            doc.push('\n');
        }
    }
    assert!(docs.len() > 10);
    docs.reverse();
    let stdin = St2k8s::command(&["diff", &old, "-"])
        .stdin(&format!("---\n{}", docs.join("---\n")))
        .run();
    assert_eq!(stdin.code, Some(0), "{}{}", stdin.stdout, stdin.stderr);
}

#[test]
fn diff_reports_added_removed_and_changed_fields_with_exit_1() {
    let (_dir, old, new, _, _) = two_renders(
        St2k8s::render().seeded(),
        St2k8s::render().seeded().args(&[
            "--set",
            "ingress.enabled=true",
            "--set",
            "st2web.service.hostname=st2.example.com",
            "--set",
            "st2web.replicas=4",
        ]),
    );
    let run = diff(&old, &new);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "+ Ingress/st2-st2web-ingress\n\
         ~ Deployment/st2-st2web\n    spec.replicas: 2 -> 4\n\
         ~ Service/st2-st2web\n    \
         metadata.annotations[\"external-dns.alpha.kubernetes.io/hostname\"]: <absent> -> \"st2.example.com\"\n\
         1 added, 0 removed, 2 changed\n"
    );

    let back = diff(&new, &old);
    assert_eq!(back.code, Some(1));
    assert!(
        back.stdout.contains("- Ingress/st2-st2web-ingress\n"),
        "{}",
        back.stdout
    );
    assert!(
        back.stdout.contains("spec.replicas: 4 -> 2"),
        "{}",
        back.stdout
    );
}

#[test]
fn diff_shows_secret_values_only_as_fingerprints() {
    let (_dir, old, new, old_run, new_run) = two_renders(
        St2k8s::render().seeded(),
        St2k8s::render().env("ST2K8S_SECRET_SEED", "another seed for the diff test"),
    );
    let run = diff(&old, &new);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stdout.contains("~ Secret/st2-st2-auth\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("redacted:sha256:"), "{}", run.stdout);
    for render in [&old_run, &new_run] {
        for secret in documents(&render.stdout)
            .iter()
            .filter(|o| o["kind"] == "Secret")
        {
            for field in ["data", "stringData"] {
                for value in secret[field]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    let value = value.as_str().unwrap_or_default();
                    assert!(
                        value.len() < 4 || !run.stdout.contains(value),
                        "{}: a secret value leaked into the diff",
                        secret["metadata"]["name"]
                    );
                }
            }
        }
    }
}

#[test]
fn diff_of_changed_backend_passwords_never_prints_them() {
    let render = |suffix: &str| {
        St2k8s::render().seeded().args(&[
            "--set",
            "redis.usePassword=true",
            "--set-string",
            &format!("mongodb.auth.password=mongo-pw-{suffix}"),
            "--set-string",
            &format!("rabbitmq.auth.password=rabbit-pw-{suffix}"),
            "--set-string",
            &format!("redis.password=redis-pw-{suffix}"),
        ])
    };
    let (_dir, old, new, old_run, _) = two_renders(render("old"), render("new"));
    // The st2 configuration holds the passwords only in the credentials Secret, base64-encoded:
    // not one appears as text anywhere in the render.
    for password in ["mongo-pw-old", "rabbit-pw-old", "redis-pw-old"] {
        assert!(
            !old_run.stdout.contains(password),
            "{password} in plain text in the render"
        );
    }
    let run = diff(&old, &new);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    for backend in ["mongo", "rabbit", "redis"] {
        for suffix in ["old", "new"] {
            let password = format!("{backend}-pw-{suffix}");
            assert!(
                !run.stdout.contains(&password) && !run.stderr.contains(&password),
                "{password} leaked:\n{}{}",
                run.stdout,
                run.stderr
            );
        }
    }
    assert!(
        !run.stdout.contains("ConfigMap/st2-st2-config"),
        "the st2 ConfigMap changed with the passwords:\n{}",
        run.stdout
    );
    let print = st2k8s::diff::fingerprint;
    // The whole credentials file the st2 pods read, for one set of passwords.
    let credentials = |suffix: &str| {
        let node = |i: u8| {
            format!("st2-redis-node-{i}.st2-redis-headless.default.svc.cluster.local:26379")
        };
        format!(
            "[coordination]\nurl = redis://:redis-pw-{suffix}@{}?sentinel=mymaster\
             &sentinel_fallback={}&sentinel_fallback={}\n\
             [messaging]\nurl = amqp://admin:rabbit-pw-{suffix}@st2-rabbitmq:5672/\n\
             [database]\nusername = st2-admin\npassword = mongo-pw-{suffix}\n",
            node(0),
            node(1),
            node(2)
        )
    };
    for line in [
        format!(
            "~ Secret/st2-mongodb (namespace default)\n    data.mongodb-password: {} -> {}\n",
            print("mongo-pw-old"),
            print("mongo-pw-new")
        ),
        format!(
            "~ Secret/st2-st2-credentials\n    data[\"st2.credentials.conf\"]: {} -> {}\n",
            print(&credentials("old")),
            print(&credentials("new"))
        ),
    ] {
        assert!(
            run.stdout.contains(&line),
            "no `{line}` in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn diff_exits_2_on_unreadable_or_invalid_input() {
    let dir = TempDir::new();
    let file = |name: &str, text: &str| {
        let path = dir.0.join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    let good = file(
        "good.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    );
    let invalid = file("invalid.yaml", "kind: [\n");
    let scalar = file("scalar.yaml", "just text\n");
    let anonymous = file("anonymous.yaml", "replicas: 3\n");
    let twice = file(
        "twice.yaml",
        &format!("{0}---\n{0}", std::fs::read_to_string(&good).expect("read")),
    );
    let missing = dir.0.join("missing.yaml").display().to_string();
    let cases: &[(&str, &[&str], &str)] = &[
        ("missing file", &[&good, &missing], "missing.yaml"),
        ("invalid YAML", &[&invalid, &good], "invalid.yaml"),
        ("not an object", &[&good, &scalar], "scalar.yaml"),
        (
            "object without kind/name",
            &[&anonymous, &good],
            "anonymous.yaml",
        ),
        ("duplicate object", &[&good, &twice], "twice.yaml"),
        ("stdin twice", &["-", "-"], "stdin"),
    ];
    for (what, args, needle) in cases {
        let mut cmd = St2k8s::command(&["diff"]).args(args);
        if args.contains(&"-") {
            cmd = cmd.stdin("");
        }
        let run = cmd.run();
        assert_eq!(run.code, Some(2), "{what}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains(needle),
            "{what}: {}",
            run.stderr
        );
    }
}

#[test]
fn render_into_a_closed_pipe_exits_0() {
    // A pack config far larger than a pipe buffer, so the writer is still writing when the
    // reader goes away after the first line.
    let big = "x".repeat(4 << 20);
    let cmd = St2k8s::render().seeded();
    let values = cmd.file(
        "big.yaml",
        &format!("st2:\n  packs:\n    configs:\n      big.yaml: \"{big}\"\n"),
    );
    let cmd = cmd.args(&["-f", &values]);
    let mut child = cmd.spawn();
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read the first line");
    assert_eq!(first, "---\n");
    // The reader is dropped here: like `st2k8s render | head -1`.
    let out = child.wait_with_output().expect("st2k8s finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("error") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

/// The names of a render's objects, as `Kind/name`.
fn object_names(run: &Run) -> Vec<String> {
    documents(&run.stdout)
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or_default(),
                o["metadata"]["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn argocd_release_name_from_apps_in_any_namespace_and_from_release_name_env() {
    let files = [("values.yaml", "")];
    let seed = ("ST2K8S_SECRET_SEED", SEED);
    // Applications in any namespace: `<app namespace>_<name>`.
    let run = argocd(
        "generate",
        &files,
        &[("ARGOCD_APP_NAME", "team-a_stackstorm"), seed],
    );
    run.assert_success();
    assert!(
        object_names(&run).contains(&"StatefulSet/stackstorm-mongodb".to_string()),
        "{:?}",
        object_names(&run)
    );
    // The plugin env RELEASE_NAME keeps a Helm release's name that differs from the app's.
    let run = argocd(
        "generate",
        &files,
        &[
            ("ARGOCD_APP_NAME", "team-a_stackstorm"),
            ("ARGOCD_ENV_RELEASE_NAME", "st2"),
            seed,
        ],
    );
    run.assert_success();
    let names = object_names(&run);
    assert!(
        names.contains(&"StatefulSet/st2-mongodb".to_string()),
        "{names:?}"
    );
    assert!(
        !names.contains(&"StatefulSet/stackstorm-mongodb".to_string()),
        "{names:?}"
    );
    // The same for the UI announcement, which evaluates `tpl` values for the release.
    let run = argocd(
        "parameters",
        &[("values.yaml", "image:\n  tag: '{{ .Release.Name }}'\n")],
        &[("ARGOCD_APP_NAME", "team-a_stackstorm"), seed],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stdout.contains(r#""string":"stackstorm""#),
        "{}",
        run.stdout
    );
}

#[test]
fn argocd_strict_env_turns_warnings_into_errors() {
    let files = [("values.yaml", "st2web:\n  replica: 3\n")];
    let env = |strict: &'static str| {
        [
            ("ARGOCD_APP_NAME", "chat"),
            ("ST2K8S_SECRET_SEED", SEED),
            ("ARGOCD_ENV_STRICT", strict),
        ]
    };
    for strict in ["true", "1", "TRUE"] {
        let run = argocd("generate", &files, &env(strict));
        assert_eq!(run.code, Some(2), "{strict}: {}", run.stderr);
        assert!(run.stdout.is_empty());
        assert_eq!(
            run.stderr,
            "error: values.yaml:2:3: `st2web.replica`: unknown key; did you mean `st2web.replicas`?\n",
            "{strict}"
        );
    }
    for strict in ["false", "0"] {
        argocd("generate", &files, &env(strict)).assert_success();
    }
    let run = argocd("generate", &files, &env("yes"));
    assert_eq!(run.code, Some(2));
    assert!(run.stdout.is_empty());
    assert_eq!(
        run.stderr,
        "error: ARGOCD_ENV_STRICT (plugin env STRICT) is `yes`: use true, false, 1 or 0\n"
    );
}

#[test]
fn argocd_generate_lists_warnings_in_a_configmap_render_does_not() {
    let files = [
        ("values.yaml", "st2web:\n  replica: 3\n"),
        ("prod.yaml", "st2api:\n  replcas: 2\n"),
    ];
    let env = [
        ("ARGOCD_APP_NAME", "chat"),
        ("ARGOCD_ENV_VALUES_FILES", "prod.yaml"),
        ("ST2K8S_SECRET_SEED", SEED),
        ("ARGOCD_ENV_SET", "mongodb.auth.rootPassword=hunter2-root"),
    ];
    let run = argocd("generate", &files, &env);
    run.assert_success();
    let objects = documents(&run.stdout);
    let warnings: Vec<&Json> = objects
        .iter()
        .filter(|o| o["metadata"]["name"] == "chat-st2k8s-warnings")
        .collect();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0]["kind"], "ConfigMap");
    assert_eq!(
        warnings[0]["metadata"]["labels"]["app.kubernetes.io/instance"],
        "chat"
    );
    let text = warnings[0]["data"]["warnings"].as_str().unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "prod.yaml:2:3: `st2api.replcas`: unknown key; did you mean `st2api.replicas`?",
            "values.yaml:2:3: `st2web.replica`: unknown key; did you mean `st2web.replicas`?",
        ],
        "file names relative to the application directory: {text}"
    );
    assert!(
        lines[2..]
            .iter()
            .all(|l| l.contains("still holds the chart's published default")),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        !text.contains("mongodb.auth.rootPassword`"),
        "set by the app: {text}"
    );
    // Deterministic: the same application renders the same ConfigMap (no drift in Argo CD).
    assert_eq!(argocd("generate", &files, &env).stdout, run.stdout);
    // No warnings, no ConfigMap.
    let quiet = argocd(
        "generate",
        &[(
            "values.yaml",
            "mongodb:\n  auth:\n    rootPassword: own-1\n    password: own-2\n    replicaSetKey: own-3\nrabbitmq:\n  auth:\n    password: not-the-default\n    erlangCookie: not-the-default-either\n",
        )],
        &[("ARGOCD_APP_NAME", "chat"), ("ST2K8S_SECRET_SEED", SEED)],
    );
    quiet.assert_success();
    assert_eq!(quiet.stderr, "");
    assert!(!quiet.stdout.contains("st2k8s-warnings"));
    // Plain `render` keeps the chart's objects only.
    let render = St2k8s::render()
        .seeded()
        .values("v.yaml", "st2web:\n  replica: 3\n")
        .run();
    render.assert_success();
    assert!(render.stderr.contains("`st2web.replica`"));
    assert!(!render.stdout.contains("st2k8s-warnings"));
}

#[test]
fn argocd_parameters_fail_on_broken_values() {
    for (files, needle) in [
        (&[("values.yaml", "st2web: [\n")][..], "values.yaml:2:1"),
        (&[("values.yaml", "a: 1\na: 2\n")][..], "duplicate key `a`"),
    ] {
        let run = argocd("parameters", files, &[("ARGOCD_APP_NAME", "chat")]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains(needle),
            "{}",
            run.stderr
        );
    }
    let run = argocd(
        "parameters",
        &[("values.yaml", "")],
        &[
            ("ARGOCD_APP_NAME", "chat"),
            ("ARGOCD_ENV_VALUES_FILES", "missing.yaml"),
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn argocd_array_parameters_become_lists() {
    let env = [
        ("ARGOCD_APP_NAME", "chat"),
        ("ST2K8S_SECRET_SEED", SEED),
        (
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"jobs.skip","array":["key_load","apikey_load"]}]"#,
        ),
    ];
    let run = argocd("generate", &[("values.yaml", "")], &env);
    run.assert_success();
    let jobs: Vec<String> = object_names(&run)
        .into_iter()
        .filter(|n| n.starts_with("Job/"))
        .collect();
    assert_eq!(jobs, ["Job/chat-job-st2-register-content"]);
}

#[test]
fn no_hooks_leaves_out_the_setup_jobs_only() {
    let scenario = Scenario::named("packs-volumes");
    let all = scenario.render().run();
    let without = scenario.render().args(&["--no-hooks"]).run();
    all.assert_success();
    without.assert_success();
    let expected: Vec<String> = object_names(&all)
        .into_iter()
        .filter(|n| !n.starts_with("Job/"))
        .collect();
    assert!(object_names(&all).len() > expected.len() + 3);
    assert_eq!(object_names(&without), expected);
    let tests = St2k8s::render()
        .seeded()
        .args(&["--no-hooks", "--include-tests"])
        .run();
    tests.assert_success();
    assert!(object_names(&tests).contains(&"Pod/st2-st2tests".to_string()));
}

#[test]
fn help_lists_the_plugin_environment_and_no_hooks() {
    let run = St2k8s::command(&["argocd", "generate", "--help"]).run();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for var in [
        "ARGOCD_ENV_RELEASE_NAME",
        "ARGOCD_APP_NAME",
        "ARGOCD_APP_NAMESPACE",
        "ARGOCD_ENV_VALUES_FILES",
        "ARGOCD_ENV_SET",
        "ARGOCD_ENV_STRICT",
        "ARGOCD_APP_PARAMETERS",
        "ST2K8S_SECRET_SEED",
        "<release>-st2k8s-warnings",
    ] {
        assert!(run.stdout.contains(var), "{var} missing:\n{}", run.stdout);
    }
    let run = St2k8s::command(&["render", "--help"]).run();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("--no-hooks"), "{}", run.stdout);
}

#[test]
fn argocd_warnings_config_map_leaves_out_notes() {
    // StackStorm 3.9 with pack images: `lint` notes that the images must be rebuilt; that note is
    // advice for `lint`, not a warning of the render.
    let files = [(
        "values.yaml",
        "st2:\n  version: \"3.9\"\n  packs:\n    images:\n      - {repository: r, name: n, tag: '1'}\nst2web:\n  replica: 3\n",
    )];
    let env = [("ARGOCD_APP_NAME", "chat"), ("ST2K8S_SECRET_SEED", SEED)];
    let run = argocd("generate", &files, &env);
    run.assert_success();
    let objects = documents(&run.stdout);
    let text = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "chat-st2k8s-warnings")
        .and_then(|o| o["data"]["warnings"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(text.contains("`st2web.replica`: unknown key"), "{text}");
    assert!(!text.contains("virtualenvs"), "{text}");
}
