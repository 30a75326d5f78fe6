//! The README's examples stay valid: every fenced `yaml` block (Argo CD Application snippets,
//! values examples) parses as a YAML stream.

#[test]
fn readme_yaml_blocks_parse() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let mut blocks = 0;
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
            blocks += 1;
            if let Err(e) = serde_saphyr::from_multiple::<serde_json::Value>(&body) {
                panic!("README.md:{}: yaml block does not parse: {e}", start + 1);
            }
        }
    }
    assert!(blocks > 0, "README.md has no yaml block");
}
