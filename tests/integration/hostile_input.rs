//! Broken and hostile values files: each gives one error naming the file, line and column, exits
//! 2 with an empty stdout, and fails fast (parsing limits: depth, alias expansion, file size)
//! instead of eating memory or time.

use std::time::{Duration, Instant};

use crate::St2k8s;

/// Generous: each of these fails in well under a second on a release build.
const FAST: Duration = Duration::from_secs(10);

/// Render with one values file holding `bytes`; assert a fast user error naming `needles`.
fn rejects(name: &str, bytes: &[u8], needles: &[&str]) {
    let cmd = St2k8s::render();
    let path = cmd.file(name, "");
    std::fs::write(&path, bytes).expect("write values file");
    let started = Instant::now();
    let run = cmd.args(&["-f", &path]).run();
    assert!(
        started.elapsed() < FAST,
        "{name}: took {:?}",
        started.elapsed()
    );
    run.assert_user_error(needles);
    assert_eq!(run.stderr.lines().count(), 1, "one error: {}", run.stderr);
}

#[test]
fn yaml_syntax_errors_point_at_the_mistake() {
    let rows: &[(&str, &str, &[&str])] = &[
        (
            "quote.yaml",
            "a: 'open\nb: 1\n",
            &["quote.yaml:1:4", "quoted scalar"],
        ),
        ("indent.yaml", "a:\n  b: 1\n c: 2\n", &["indent.yaml:3:"]),
        ("flow.yaml", "a: {b: 1\n", &["flow.yaml:2:1"]),
        ("colon.yaml", "a: b: c\n", &["colon.yaml:1:5"]),
        ("anchor.yaml", "a: *nowhere\n", &["anchor.yaml:1:"]),
    ];
    for (name, text, needles) in rows {
        rejects(name, text.as_bytes(), needles);
    }
}

#[test]
fn duplicate_keys_in_flow_maps_are_errors() {
    rejects(
        "dup.yaml",
        b"st2:\n  packs: {configs: {}, configs: {}}\n",
        &["dup.yaml:2:", "duplicate key `st2.packs.configs`"],
    );
}

#[test]
fn documents_that_are_not_maps() {
    rejects(
        "scalar.yaml",
        b"hello\n",
        &["scalar.yaml:1:1", "must be a map"],
    );
    rejects(
        "list.yaml",
        b"---\n- 1\n",
        &["list.yaml:2:1", "must be a map"],
    );
}

#[test]
fn tab_indentation_is_an_error() {
    rejects(
        "tabs.yaml",
        b"st2web:\n\treplicas: 2\n",
        &["tabs.yaml:2:", "tab"],
    );
}

#[test]
fn binary_junk_is_rejected() {
    rejects(
        "latin1.yaml",
        b"st2:\n  caf\xE9: 1\n",
        &["latin1.yaml:2:6", "not UTF-8"],
    );
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    rejects("junk.bin", &junk, &["junk.bin:1:", "not UTF-8"]);
    rejects("controls.yaml", b"a: \x01\x02\x00\n", &["controls.yaml:1:"]);
}

#[test]
fn deep_nesting_fails_fast() {
    let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    rejects("flow-deep.yaml", flow.as_bytes(), &["flow-deep.yaml:1:"]);
    let block: String = (0..1000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    rejects(
        "block-deep.yaml",
        block.as_bytes(),
        &["block-deep.yaml:130:", "nesting deeper than 128 levels"],
    );
}

#[test]
fn alias_bombs_fail_fast() {
    // Each level holds ten references to the one before: 10^12 values once expanded.
    let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        doc.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    rejects(
        "bomb.yaml",
        doc.as_bytes(),
        &["bomb.yaml:", "alias expansion"],
    );
    // About 1 MB of references to one big anchor.
    let big: Vec<String> = (0..1000).map(|i| format!("k{i}: v")).collect();
    let doc = format!(
        "big: &b {{{}}}\nl: [{}]\n",
        big.join(", "),
        vec!["*b"; 300_000].join(",")
    );
    rejects(
        "bomb-1mb.yaml",
        doc.as_bytes(),
        &["bomb-1mb.yaml:2:", "alias expansion"],
    );
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let huge = vec![b'#'; 17 * 1024 * 1024];
    rejects("huge.yaml", &huge, &["huge.yaml", "larger than 16 MiB"]);
}

#[test]
fn set_file_with_non_utf8_content() {
    let cmd = St2k8s::render();
    let path = cmd.file("key.bin", "");
    std::fs::write(&path, b"\xFF\xFE").expect("write");
    let run = cmd
        .args(&["--set-file", &format!("st2.datastore_crypto_key={path}")])
        .run();
    run.assert_user_error(&["--set-file", "key.bin:1:1", "not UTF-8"]);
}
