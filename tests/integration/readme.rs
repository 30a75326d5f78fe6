//! The README's examples stay valid: every fenced `yaml` block (Argo CD Application snippets,
//! values examples) parses as a YAML stream, and the Application snippet names the plugin that
//! `deploy/argocd/plugin.yaml` defines.

use serde_json::{Value as Json, json};

/// Every fenced `yaml` block of README.md: (line of the opening fence, body).
fn yaml_blocks() -> Vec<(usize, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut blocks = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((start, line)) = lines.next() {
        let fence = line.trim_start();
        if !fence.starts_with("```") {
            continue;
        }
        let is_yaml = matches!(fence.trim_start_matches('`').trim(), "yaml" | "yml");
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
