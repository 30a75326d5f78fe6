//! Broken and hostile values files and flags: each gives one error naming the file, line
//! and column, exits 2 with an empty stdout, and fails fast (parsing limits: depth, alias
//! expansion, file size) instead of eating memory or time.

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

/// Render `cmd` with `args`; assert a fast user error whose one error line, the last line of
/// stderr (warnings may come first), is `message`.
fn rejects_run(cmd: St2k8s, args: &[&str], message: &str) {
    let started = Instant::now();
    let run = cmd.args(args).run();
    assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    assert_eq!(run.stderr.matches("error: ").count(), 1, "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().last(),
        Some(format!("error: {message}").as_str())
    );
}

fn rejects_args(args: &[&str], message: &str) {
    rejects_run(St2k8s::render(), args, message);
}

/// [`rejects_run`] with one values file holding `text`.
fn rejects_values(text: &str, message: &str) {
    let cmd = St2k8s::render();
    let path = cmd.file("values.yaml", text);
    rejects_run(cmd, &["-f", &path], message);
}

#[test]
fn alias_copies_of_a_long_string_fail_fast() {
    // 400 KB of text, referred to 150 000 times: 60 GB once expanded.
    let doc = format!(
        "big: &b \"{}\"\nl: [{}]\n",
        "x".repeat(400_000),
        vec!["*b"; 150_000].join(",")
    );
    rejects(
        "alias-text.yaml",
        doc.as_bytes(),
        &["alias-text.yaml:2:128: alias expansion copies more than 16 MiB of text"],
    );
}

#[test]
fn template_output_is_bounded() {
    // 13 KB: six nested `replace ""` multiply 2000 bytes by 9 each time (over 1 GB).
    let mut bomb = format!("\"{}\"", "a".repeat(2000));
    for _ in 0..6 {
        bomb = format!("({bomb} | replace \"\" \"bbbbbbbb\")");
    }
    let over = "`image.tag`: the template would make more than 16 MiB of text";
    rejects_values(
        &format!("image:\n  tag: '{{{{ {bomb} }}}}'\n"),
        &format!("{over} (line 1, column 1)"),
    );
    // 640 KB: one 400 KB string printed 20 000 times by one printf, then by plain actions.
    let big = "x".repeat(400_000);
    let printf = format!(
        "big: {big}\nimage:\n  tag: '{{{{ printf \"{}\" {} }}}}'\n",
        "%s".repeat(20_000),
        vec![".Values.big"; 20_000].join(" ")
    );
    rejects_values(&printf, &format!("{over} (line 1, column 1)"));
    let refs = format!(
        "big: {big}\nimage:\n  tag: '{}'\n",
        "{{.Values.big}}".repeat(40_000)
    );
    rejects_values(&refs, &format!("{over} (line 1, column 616)"));
}

#[test]
fn set_list_padding_is_bounded() {
    // Helm's largest index, 2000 times: 131 million list items in Helm.
    let args: Vec<String> = (0..2000).map(|i| format!("k{i}[65536]=x")).collect();
    let mut argv: Vec<&str> = Vec::new();
    for arg in &args {
        argv.extend(["--set", arg]);
    }
    rejects_args(
        &argv,
        "argument 16 of --set, at byte 5: `k15[65536]` pads its list past 1000000 list items created by all `--set` flags together",
    );
    let json: Vec<String> = (0..20).map(|i| format!("j{i}[65536]=1")).collect();
    let mut argv: Vec<&str> = Vec::new();
    for arg in &json {
        argv.extend(["--set-json", arg]);
    }
    rejects_args(
        &argv,
        "argument 16 of --set-json, at byte 5: `j15[65536]` pads its list past 1000000 list items created by all `--set` flags together",
    );
}

#[test]
fn set_json_with_many_values_stays_linear() {
    // 120 KB (about the most one argument may hold), 30 000 values: each value is read
    // without copying the rest of the argument.
    let arg = vec!["a=1"; 30_000].join(",") + ",b=[";
    rejects_args(
        &["--set-json", &arg],
        "argument 1 of --set-json, at byte 120003: invalid JSON: EOF while parsing a list",
    );
}

#[test]
fn deep_set_and_json_nesting_fail_cleanly() {
    let lists = format!("a{}=1", "[0]".repeat(300));
    rejects_args(
        &["--set", &lists],
        "argument 1 of --set, at byte 773: lists nested more than 256 levels deep",
    );
    let json = format!("a={}{}", "[".repeat(200), "]".repeat(200));
    rejects_args(
        &["--set-json", &json],
        "argument 1 of --set-json, at byte 130: invalid JSON: recursion limit exceeded",
    );
}

#[test]
fn counts_that_multiply_work_are_capped() {
    for (set, message) in [
        (
            "st2sensorcontainer.deployments=100000",
            "error: `st2sensorcontainer.deployments` asks for more than st2k8s renders: at most 256",
        ),
        (
            "mongodb.replicaCount=10000000",
            "error: `mongodb.replicaCount` asks for more than st2k8s renders: at most 50",
        ),
        (
            "redis.cluster.slaveCount=10000000",
            "error: `redis.cluster.slaveCount` asks for more than st2k8s renders: at most 256",
        ),
    ] {
        let run = St2k8s::render().args(&["--set", set]).run();
        run.assert_user_error(&[message]);
    }
}

#[test]
fn output_is_capped_before_anything_is_written() {
    // 200 sensor partitions, each carrying a 400 KB environment: 80 MB of YAML from 400 KB of
    // values. Nothing reaches stdout or the output directory.
    let env = format!("    BIG: \"{}\"\n", "x".repeat(400 * 1024));
    let values = format!("st2sensorcontainer:\n  deployments: 200\n  env:\n{env}");
    let message = "the rendered objects would be more than 64 MiB of YAML";
    // Seeded and without the bundled backends: no warning precedes the error.
    let quiet = ["--set", "mongodb.enabled=false,rabbitmq.enabled=false"];
    St2k8s::render()
        .seeded()
        .args(&quiet)
        .values("big.yaml", &values)
        .run()
        .assert_user_error(&[message]);
    let cmd = St2k8s::render()
        .seeded()
        .args(&quiet)
        .values("big.yaml", &values);
    let out = cmd.dir().join("out");
    let run = cmd
        .args(&["--output-dir", &out.display().to_string()])
        .run();
    run.assert_user_error(&[message]);
    assert!(!out.exists(), "nothing may be written");
}
