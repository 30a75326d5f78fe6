//! Mistakes in values: each is reported with the file, line, column and key path; errors leave
//! stdout empty, warnings let the render through, and `lint` lists every finding at once.

use crate::St2k8s;

/// Render `text` as `custom.yaml`; it must fail naming every needle (file:line:col and key).
fn render_fails(text: &str, needles: &[&str]) {
    let cmd = St2k8s::render();
    let path = cmd.file("custom.yaml", text);
    let run = cmd.args(&["-f", &path]).run();
    let located: Vec<String> = needles.iter().map(|n| n.replace("FILE", &path)).collect();
    let located: Vec<&str> = located.iter().map(String::as_str).collect();
    run.assert_user_error(&located);
}

#[test]
fn wrong_types_are_errors() {
    render_fails(
        "st2web:\n  replicas: three\n",
        &["FILE:2:3: `st2web.replicas`: expected a whole number"],
    );
    render_fails(
        "st2:\n  packs:\n    images: {a: 1}\n",
        &["FILE:3:5: `st2.packs.images`: expected a list, found a map"],
    );
    render_fails(
        "st2web:\n  env: [a]\n",
        &["FILE:2:3: `st2web.env`: expected a map"],
    );
}

#[test]
fn bad_quantities_are_errors() {
    render_fails(
        "st2api:\n  resources:\n    limits:\n      memory: 1 GB\n",
        &["FILE:4:7: `st2api.resources.limits.memory`: expected a Kubernetes quantity"],
    );
}

#[test]
fn kubernetes_typos_warn_and_fail_under_strict() {
    let text = "st2web:\n  securityContext:\n    runAsUsr: 1000\n";
    let cmd = St2k8s::render();
    let path = cmd.file("custom.yaml", text);
    let run = cmd.args(&["-f", &path]).run();
    run.assert_success();
    assert!(
        run.stderr.contains(&format!(
            "warning: {path}:3:5: `st2web.securityContext.runAsUsr`: unknown field of a Kubernetes SecurityContext; Kubernetes would drop it; did you mean `st2web.securityContext.runAsUser`?"
        )),
        "{}",
        run.stderr
    );
    let cmd = St2k8s::render();
    let path = cmd.file("custom.yaml", text);
    cmd.args(&["-f", &path, "--strict"])
        .run()
        .assert_user_error(&[&format!("{path}:3:5: `st2web.securityContext.runAsUsr`")]);
}

#[test]
fn unsupported_backend_keys_warn_and_fail_under_strict() {
    let text = "rabbitmq:\n  rabbitmqMemoryHighWatermark: 512MB\n";
    let cmd = St2k8s::render();
    let path = cmd.file("custom.yaml", text);
    let run = cmd.args(&["-f", &path]).run();
    run.assert_success();
    let want = format!("{path}:2:3: `rabbitmq.rabbitmqMemoryHighWatermark`: not implemented");
    assert!(
        run.stderr.contains(&format!("warning: {want}")),
        "{}",
        run.stderr
    );
    let cmd = St2k8s::render();
    let path = cmd.file("custom.yaml", text);
    cmd.args(&["-f", &path, "--strict"])
        .run()
        .assert_user_error(&[&format!(
            "{path}:2:3: `rabbitmq.rabbitmqMemoryHighWatermark`: not implemented"
        )]);
}

#[test]
fn set_flags_are_checked_too() {
    St2k8s::render()
        .args(&["--set", "st2web.replicas=three"])
        .run()
        .assert_user_error(&["`st2web.replicas`: expected a whole number"]);
    St2k8s::render()
        .args(&["--set-string", "st2web.replicas=3"])
        .run()
        .assert_success();
}

#[test]
fn lint_lists_every_finding_and_exits_1_on_errors() {
    let text = "st2web:
  replica: 3
  securityContext:
    runAsUsr: 1000
st2:
  rbac:
    enabled: \"false\"
st2api:
  resources:
    requests:
      cpu: lots
";
    let cmd = St2k8s::lint();
    let path = cmd.file("custom.yaml", text);
    let run = cmd.args(&["-f", &path]).run();
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    for want in [
        format!(
            "warning: {path}:2:3: `st2web.replica`: unknown key; did you mean `st2web.replicas`?"
        ),
        format!("error: {path}:7:5: `st2.rbac.enabled`: expected true or false"),
        format!("warning: {path}:4:5: `st2web.securityContext.runAsUsr`"),
        format!(
            "error: {path}:11:7: `st2api.resources.requests.cpu`: expected a Kubernetes quantity"
        ),
    ] {
        assert!(
            run.stdout.contains(&want),
            "lint should list `{want}`:\n{}",
            run.stdout
        );
    }
}

#[test]
fn lint_of_clean_values_exits_0() {
    let cmd = St2k8s::lint();
    let path = cmd.file("custom.yaml", "st2web:\n  replicas: 3\n");
    let run = cmd.args(&["-f", &path]).run();
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("error:"), "{}", run.stdout);
}

#[test]
fn st2_conf_typos_warn_on_their_line_and_fail_under_strict() {
    let text = "st2:\n  config: |\n    [api]\n    allow_orign = '*'\n";
    let cmd = St2k8s::render();
    let path = cmd.file("custom.yaml", text);
    let run = cmd.args(&["-f", &path]).run();
    run.assert_success();
    let want = |path: &str| {
        format!(
            "{path}:4:5: `st2.config`: unknown st2.conf option `[api] allow_orign`: StackStorm 3.8 ignores it; did you mean `allow_origin`?"
        )
    };
    assert!(
        run.stderr.contains(&format!("warning: {}", want(&path))),
        "{}",
        run.stderr
    );
    let cmd = St2k8s::render();
    let path = cmd.file("custom.yaml", text);
    cmd.args(&["-f", &path, "--strict"])
        .run()
        .assert_user_error(&[&want(&path)]);
}

#[test]
fn lint_checks_st2_conf_against_the_stackstorm_version() {
    let text = "image:
  tag: 3.9.0
st2:
  config: |
    [database]
    ssl = True
    ssl_keyfile = /etc/st2/mongo.key
  packs:
    images:
      - {repository: registry.example.com, name: packs, tag: '1'}
";
    let cmd = St2k8s::lint();
    let path = cmd.file("custom.yaml", text);
    let run = cmd.args(&["-f", &path]).run();
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| !l.contains("published default"))
            .collect::<Vec<_>>(),
        [
            format!(
                "note: {path}:9:5: `st2.packs.images`: pack images carry virtualenvs built for one StackStorm version: make sure they were built for StackStorm 3.9 (rebuild them on every StackStorm upgrade)"
            ),
            format!(
                "warning: {path}:6:5: `st2.config`: st2.conf option `[database] ssl` is deprecated in StackStorm 3.9: use `tls`"
            ),
            format!(
                "error: {path}:7:5: `st2.config`: st2.conf option `[database] ssl_keyfile` was removed in StackStorm 3.9, which ignores it; use `tls_certificate_key_file` (one file holding both the key and the certificate)"
            ),
        ]
    );
    assert!(
        !run.stdout.contains("/etc/st2/mongo.key"),
        "values are never echoed"
    );
}

#[test]
fn mongodb_newer_than_stackstorm_supports_is_an_error() {
    render_fails(
        "mongodb:\n  image:\n    tag: '6.0'\n",
        &[
            "FILE:3:5: `mongodb.image.tag`: MongoDB 6.0 (tag `6.0`) with StackStorm 3.8: the release runs 3.8 (`image.tag`), and StackStorm 3.8 supports MongoDB up to 4.4",
        ],
    );
}

#[test]
fn pack_configs_must_be_yaml() {
    render_fails(
        "st2:\n  packs:\n    configs:\n      mine.yaml: |\n        a: [1\n",
        &[
            "FILE:6:9: `st2.packs.configs.mine.yaml`: not valid YAML (while parsing a flow sequence, expected ',' or ']'); st2 cannot load this file",
        ],
    );
}
