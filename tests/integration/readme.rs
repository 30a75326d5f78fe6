//! The README's examples stay valid: every fenced `yaml` block (Argo CD Application snippets,
//! values examples) parses as a YAML stream, the Application snippet names the plugin that
//! `deploy/argocd/plugin.yaml` defines, and every command of the `sh` blocks runs and succeeds,
//! except those listed in [`NOT_RUN`] (they need a cluster, Docker, network or minutes of
//! compiling). The Argo CD kustomize component is built with the real `kubectl kustomize`.

use std::path::Path;
use std::process::Command;

use serde_json::{Value as Json, json};

/// Every fenced `yaml` block of README.md: (line of the opening fence, body).
fn yaml_blocks() -> Vec<(usize, String)> {
    blocks(&["yaml", "yml"])
}

/// Every fenced block of README.md in one of `languages`: (line of the opening fence, body).
fn blocks(languages: &[&str]) -> Vec<(usize, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut blocks = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((start, line)) = lines.next() {
        let fence = line.trim_start();
        if !fence.starts_with("```") {
            continue;
        }
        let is_yaml = languages.contains(&fence.trim_start_matches('`').trim());
        let indent = line.len() - fence.len();
        let mut body = String::new();
        for (_, line) in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            // Blocks inside list items are indented: drop the fence's indentation.
            body.push_str(line.get(indent..).unwrap_or(line.trim_start()));
            body.push('\n');
        }
        if is_yaml {
            blocks.push((start + 1, body));
        }
    }
    blocks
}

#[test]
fn readme_yaml_blocks_parse() {
    let blocks = yaml_blocks();
    assert!(!blocks.is_empty(), "README.md has no yaml block");
    for (line, body) in blocks {
        if let Err(e) = serde_saphyr::from_multiple::<Json>(&body) {
            panic!("README.md:{line}: yaml block does not parse: {e}");
        }
    }
}

#[test]
fn readme_application_names_the_shipped_plugin() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/argocd/plugin.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let plugin = &super::documents(&text)[0];
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    assert_eq!(
        plugin["spec"]["generate"]["command"],
        json!(["st2k8s", "argocd", "generate"])
    );
    assert_eq!(
        plugin["spec"]["parameters"]["dynamic"]["command"],
        json!(["st2k8s", "argocd", "parameters"])
    );
    // Argo CD names a plugin `<name>-<version>` when it has a version.
    let name = plugin["metadata"]["name"].as_str().unwrap_or_default();
    let effective = match plugin["spec"]["version"].as_str() {
        Some(version) => format!("{name}-{version}"),
        None => name.to_string(),
    };
    let documents: Vec<Json> = yaml_blocks()
        .iter()
        .flat_map(|(_, body)| super::documents(body))
        .collect();
    let referenced: Vec<&str> = documents
        .iter()
        .filter_map(|doc| doc["spec"]["source"]["plugin"]["name"].as_str())
        .collect();
    assert!(
        !referenced.is_empty(),
        "no Application snippet in README.md"
    );
    for name in referenced {
        assert_eq!(name, effective, "README Application plugin name");
    }
}

/// README commands not run by [`readme_commands_run`], by how they start, and why.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo ",
        "compiles st2k8s (Quick start, static binary, benchmarks): minutes",
    ),
    ("rustup ", "installs a toolchain target from the network"),
    ("docker ", "needs a Docker engine and a registry"),
    (
        "cd deploy/argocd && kustomize edit",
        "edits the repository (emulated below)",
    ),
    ("kubectl -n argocd ", "needs a cluster"),
    (
        "st2k8s render -f custom_values.yaml | kubectl apply",
        "needs a cluster",
    ),
    ("hyperfine ", "a benchmark: hundreds of release-build runs"),
    ("/usr/bin/time ", "measures the release build"),
    ("valgrind ", "measures the release build"),
    (
        "ST2K8S=target/dist/st2k8s bench/compare-helm.sh ",
        "needs Helm and the chart",
    ),
];

/// The commands of README.md's `sh` blocks, continuation lines joined: (block line, commands).
fn sh_commands() -> Vec<(usize, Vec<String>)> {
    blocks(&["sh"])
        .into_iter()
        .map(|(line, body)| {
            let mut commands = Vec::new();
            let mut current = String::new();
            for text in body.lines() {
                if let Some(head) = text.strip_suffix('\\') {
                    current.push_str(head);
                    continue;
                }
                current.push_str(text.trim_start());
                let command = std::mem::take(&mut current).trim().to_string();
                if !command.is_empty() && !command.starts_with('#') {
                    commands.push(command.split_whitespace().collect::<Vec<_>>().join(" "));
                }
            }
            (line, commands)
        })
        .collect()
}

fn kubectl_available() -> bool {
    super::gitops::kubectl().is_some_and(|kubectl| {
        Command::new(kubectl)
            .args(["version", "--client"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}

#[test]
fn readme_commands_run() {
    let dir = super::TempDir::new();
    let root = &dir.0;
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write fixture");
    };
    // What the commands expect to find: values files, a Git repository whose `main` branch has
    // `deploy/values.yaml`, and the Argo CD deployment files.
    write("custom_values.yaml", "st2web:\n  replicas: 3\n");
    write("deploy/values.yaml", "st2web:\n  replicas: 2\n");
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(root)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "deploy/values.yaml"]);
    git(&["commit", "-q", "-m", "values"]);
    write("deploy/values.yaml", "st2web:\n  replicas: 4\n");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&repo.join("deploy/argocd"), &root.join("deploy/argocd"));

    let bin_dir = Path::new(env!("CARGO_BIN_EXE_st2k8s"))
        .parent()
        .expect("binary dir")
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let kubectl = kubectl_available();
    let mut used = vec![false; NOT_RUN.len()];
    let mut ran = 0;
    for (line, commands) in sh_commands() {
        let mut script = String::from("set -e\n");
        for command in &commands {
            if let Some(i) = NOT_RUN.iter().position(|(p, _)| command.starts_with(p)) {
                used[i] = true;
                continue;
            }
            if command.starts_with("kubectl ") && !kubectl {
                eprintln!("note: no kubectl: README.md:{line}: `{command}` not run");
                continue;
            }
            // Scratch files go to the test's own directory, not the shared /tmp.
            script.push_str(&command.replace("/tmp/", &format!("{}/", root.display())));
            script.push('\n');
            ran += 1;
        }
        let out = Command::new("sh")
            .args(["-c", &script])
            .current_dir(root)
            .env("PATH", &path)
            .env("HOME", root)
            // As a CI job has it (the CI recipe refuses to run without one).
            .env("ST2K8S_SECRET_SEED", super::SEED)
            .output()
            .expect("sh runs");
        assert!(
            out.status.success(),
            "README.md:{line}: the block fails:\n{script}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(ran >= 8, "only {ran} README commands ran");
    for ((prefix, why), used) in NOT_RUN.iter().zip(used) {
        assert!(
            used,
            "NOT_RUN lists `{prefix}` ({why}), which no README command starts with"
        );
    }
}

#[test]
fn argocd_component_points_the_sidecar_at_the_image_the_readme_builds() {
    let version = env!("CARGO_PKG_VERSION");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let image = format!("st2k8s:{version}");
    assert!(
        readme.contains(&format!("docker build -t {image} .")),
        "the README builds {image}"
    );
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/argocd");
    let patch = std::fs::read_to_string(deploy.join("repo-server-patch.yaml")).expect("read patch");
    let patch = &super::documents(&patch)[0];
    let sidecar = &patch["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(sidecar["image"], image.as_str());
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let kustomization =
        std::fs::read_to_string(deploy.join("kustomization.yaml")).expect("read kustomization");
    let kustomization = &super::documents(&kustomization)[0];
    assert_eq!(
        kustomization["images"],
        json!([{"name": "st2k8s", "newName": "st2k8s", "newTag": version}])
    );
    let dockerfile = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile"))
        .expect("read Dockerfile");
    for needed in [
        "--profile dist --target x86_64-unknown-linux-musl",
        "FROM scratch",
        "USER 999:999",
    ] {
        assert!(dockerfile.contains(needed), "Dockerfile: {needed}");
    }

    if !kubectl_available() {
        eprintln!("note: no kubectl: the kustomize component is not built");
        return;
    }
    // An Argo CD installation with the component, then with the image pointed at a registry as
    // `kustomize edit set image st2k8s=registry.example.com/st2k8s:0.1.0` writes it.
    let dir = super::TempDir::new();
    let component = dir.0.join("st2k8s");
    copy_dir(&deploy, &component);
    let install = dir.0.join("argocd");
    std::fs::create_dir_all(&install).expect("mkdir");
    std::fs::write(
        install.join("repo-server.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argocd-repo-server\nspec:\n  template:\n    spec:\n      containers:\n        - name: argocd-repo-server\n          image: quay.io/argoproj/argocd:v3.1.0\n",
    )
    .expect("write");
    std::fs::write(
        install.join("kustomization.yaml"),
        "resources: [repo-server.yaml]\ncomponents: [../st2k8s]\n",
    )
    .expect("write");
    let build = || {
        let out = Command::new("kubectl")
            .args(["kustomize", &install.display().to_string()])
            .output()
            .expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        super::documents(&String::from_utf8_lossy(&out.stdout))
    };
    let sidecar_image = |objects: &[Json]| {
        let deployment = objects
            .iter()
            .find(|o| o["kind"] == "Deployment")
            .expect("the repo server");
        let containers = deployment["spec"]["template"]["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let names: Vec<&str> = containers
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["st2k8s", "argocd-repo-server"]);
        containers[0]["image"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let objects = build();
    assert_eq!(sidecar_image(&objects), image);
    let config_map = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "st2k8s-cmp")
        .expect("the plugin ConfigMap");
    let plugin = std::fs::read_to_string(deploy.join("plugin.yaml")).expect("read plugin.yaml");
    assert_eq!(config_map["data"]["plugin.yaml"], plugin.as_str());
    let text = std::fs::read_to_string(component.join("kustomization.yaml")).expect("read");
    let edited = text.replace(
        "    newName: st2k8s\n",
        "    newName: registry.example.com/st2k8s\n",
    );
    assert_ne!(
        edited, text,
        "the images entry as `kustomize edit set image` writes it"
    );
    std::fs::write(component.join("kustomization.yaml"), edited).expect("write");
    assert_eq!(
        sidecar_image(&build()),
        format!("registry.example.com/st2k8s:{version}")
    );
}
