//! User errors: each exits 2 with an empty stdout and a message that points at the mistake
//! (file:line:column, key path, flag and argument), never a panic.

use crate::St2k8s;

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let cmd = St2k8s::render();
    let run = cmd.values("bad.yaml", "st2web:\n  replicas: [1\n").run();
    run.assert_user_error(&["bad.yaml:3:1"]);
}

#[test]
fn duplicate_key_names_the_key_path_and_position() {
    let run = St2k8s::render()
        .values("dup.yaml", "st2web:\n  replicas: 1\n  replicas: 2\n")
        .run();
    run.assert_user_error(&["dup.yaml:3:3", "duplicate key `st2web.replicas`"]);
}

#[test]
fn a_values_file_that_is_a_list() {
    let run = St2k8s::render().values("list.yaml", "- a\n- b\n").run();
    run.assert_user_error(&["list.yaml:1:1", "must be a map"]);
}

#[test]
fn a_second_document_that_is_not_a_map() {
    let run = St2k8s::render()
        .values("docs.yaml", "a: 1\n---\njust text\n")
        .run();
    run.assert_user_error(&["docs.yaml:3:1", "must be a map"]);
}

#[test]
fn infinite_numbers_are_rejected_like_helm() {
    let run = St2k8s::render()
        .values("inf.yaml", "st2web:\n  replicas: .inf\n")
        .run();
    run.assert_user_error(&["inf.yaml:2:13", "infinite"]);
}

#[test]
fn a_missing_values_file() {
    let cmd = St2k8s::render();
    let missing = cmd.file("x", "");
    let missing = missing.replace("/x", "/does-not-exist.yaml");
    let run = cmd.args(&["-f", &missing]).run();
    run.assert_user_error(&["cannot read", &missing]);
}

#[test]
fn bad_set_syntax_names_flag_argument_and_byte() {
    let run = St2k8s::render()
        .args(&["--set", "b=1", "--set", "a.b[x]=1"])
        .run();
    run.assert_user_error(&[
        "error: argument 2 of --set, at byte 5: invalid index: expected a number\n",
    ]);
}

#[test]
fn set_type_conflict_with_a_values_file() {
    let run = St2k8s::render()
        .values("v.yaml", "st2web:\n  replicas: 2\n")
        .args(&["--set", "st2web.replicas.x=1"])
        .run();
    run.assert_user_error(&[
        "error: argument 1 of --set, at byte 16: cannot use `st2web.replicas` as a map: it already holds a number (from a values file or an earlier flag)\n",
    ]);
}

#[test]
fn set_string_and_set_json_errors_name_their_flag() {
    St2k8s::render()
        .args(&["--set-string", "a="])
        .run()
        .assert_success();
    let run = St2k8s::render().args(&["--set-string", "a[-1]=x"]).run();
    run.assert_user_error(&["error: argument 1 of --set-string, at byte 3: negative index\n"]);
    let run = St2k8s::render().args(&["--set-json", "a=[1,"]).run();
    run.assert_user_error(&[
        "error: argument 1 of --set-json, at byte 5: invalid JSON: EOF while parsing a value\n",
    ]);
}

#[test]
fn set_file_with_a_missing_file_names_the_path() {
    let run = St2k8s::render()
        .args(&["--set-file", "st2.ssh_key=/nonexistent/id_rsa"])
        .run();
    let cause = std::fs::File::open("/nonexistent/id_rsa").expect_err("missing");
    run.assert_user_error(&[&format!(
        "error: argument 1 of --set-file, at byte 13: cannot read `/nonexistent/id_rsa`: {cause}\n"
    )]);
}

/// No error of the `--set` family shows any part of the argument: a value with an unescaped `,`
/// spills into key position, and the messages still name nothing of it.
#[test]
fn set_errors_never_echo_the_argument() {
    const SENTINEL: &str = "S3CRET-SENTINEL";
    for (flag, arg) in [
        ("--set", "st2.keyvalue[0].value=S3CRET-SENTINEL,zz[=1"),
        ("--set", "mongodb.auth.passwords[0]=S3CRET-SENTINEL,zz"),
        ("--set", "mongodb.auth.password=ab,S3CRET-SENTINEL"),
        ("--set-string", "st2.password=ab,S3CRET-SENTINEL[x]=1"),
        ("--set-json", "st2.password=\"S3CRET-SENTINEL"),
        (
            "--set-json",
            "{\"st2\": {\"password\": \"S3CRET-SENTINEL\"}",
        ),
        ("--set-literal", "S3CRET-SENTINEL"),
        ("--set-file", "st2.ssh_key=/nonexistent,S3CRET-SENTINEL"),
    ] {
        let run = St2k8s::render().args(&[flag, arg]).run();
        run.assert_user_error(&[&format!("error: argument 1 of {flag}, at byte ")]);
        assert!(
            !run.stderr.contains(SENTINEL),
            "{flag} {arg}: {}",
            run.stderr
        );
    }
}

/// An error states its cause once, however it is chained.
#[test]
fn causes_are_stated_once() {
    let run = St2k8s::render().args(&["-f", "/nonexistent"]).run();
    let cause = std::fs::File::open("/nonexistent").expect_err("missing");
    assert_eq!(
        run.stderr,
        format!("error: cannot read `/nonexistent`: {cause}\n")
    );
    assert_eq!(run.stderr.matches(&cause.to_string()).count(), 1);
}

/// Control bytes and bidi overrides in file names and keys are shown escaped.
#[test]
fn control_characters_in_messages_are_escaped() {
    let run = St2k8s::render()
        .args(&["-f", "/nonexistent/\u{1b}[2J\u{202e}x"])
        .run();
    run.assert_user_error(&["cannot read `/nonexistent/\\u{1b}[2J\\u{202e}x`"]);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    let run = St2k8s::render()
        .values("v.yaml", "st2web:\n  \"re\\x1b[31mplicas\\0\": 1\n")
        .args(&["--strict"])
        .run();
    run.assert_user_error(&["`st2web.re\\u{1b}[31mplicas\\u{0}`"]);
    assert!(!run.stderr.contains(['\u{1b}', '\0']), "{}", run.stderr);
}

#[test]
fn invalid_release_names() {
    St2k8s::render()
        .args(&["--release-name", "St2"])
        .run()
        .assert_user_error(&["invalid release name `St2`"]);
    let long = "a".repeat(54);
    St2k8s::render()
        .args(&["--release-name", &long])
        .run()
        .assert_user_error(&[
            &long,
            "(54 characters) is too long",
            "at most 29 characters fit",
        ]);
    St2k8s::render()
        .args(&["--release-name", "st2-"])
        .run()
        .assert_user_error(&["invalid release name `st2-`"]);
}

#[test]
fn stdin_can_only_be_read_once() {
    let run = St2k8s::render()
        .args(&["-f", "-", "-f", "-"])
        .stdin("a: 1\n")
        .run();
    run.assert_user_error(&["stdin"]);
}

/// Bundled backends off, so that their default-password warnings do not precede the error.
const NO_BACKENDS: &str = "mongodb.enabled=false,rabbitmq.enabled=false";

#[test]
fn duplicate_sensor_names_are_refused() {
    let run = St2k8s::render()
        .args(&["--set", NO_BACKENDS])
        .values(
            "sensors.yaml",
            "st2:\n  packs:\n    sensors:\n      - {name: a, ref: p.one}\n      - {name: a, ref: p.two}\n",
        )
        .run();
    run.assert_user_error(&["two objects would be `Deployment/st2-st2sensorcontainer-a`"]);
}

#[test]
fn disruption_budget_with_both_limits_is_refused() {
    let run = St2k8s::render()
        .args(&[
            "--set",
            NO_BACKENDS,
            "--set",
            "podDisruptionBudgets.enabled=true,podDisruptionBudgets.maxUnavailable=1,podDisruptionBudgets.minAvailable=1",
        ])
        .run();
    run.assert_user_error(&[
        "`podDisruptionBudgets`: set `maxUnavailable` or `minAvailable`, not both",
    ]);
}

#[test]
fn network_policy_peers_that_do_not_fit_are_refused() {
    let run = St2k8s::render()
        .args(&[
            "--set",
            "networkPolicy.enabled=true",
            "--set-json",
            r#"networkPolicy.st2webClients=[{"ipBlock":{"cidr":7}}]"#,
        ])
        .run();
    run.assert_user_error(&[
        "`networkPolicy.st2webClients` does not fit a Kubernetes NetworkPolicyPeer",
    ]);
}

#[test]
fn autoscaling_a_single_pod_component_is_refused() {
    let run = St2k8s::render()
        .args(&[
            "--set",
            NO_BACKENDS,
            "--set",
            "st2timersengine.autoscaling.enabled=true,st2timersengine.autoscaling.maxReplicas=3",
        ])
        .run();
    run.assert_user_error(&[
        "`st2timersengine.autoscaling.enabled`: st2timersengine cannot be autoscaled",
    ]);
}

/// A user error: exit 2, nothing on stdout, and stderr ends with the one error line `message`
/// (after the warnings of a render that got that far).
fn assert_exact_error(run: &crate::Run, message: &str) {
    assert_eq!(run.code, Some(2), "exit code; stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert_eq!(last, format!("error: {message}"), "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .lines()
            .all(|l| l == last || l.starts_with("warning: ")),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn helm_template_command_gets_a_hint() {
    let run = St2k8s::command(&["template", "st2", "."]).run();
    assert_exact_error(
        &run,
        "st2k8s has no `template` command: `st2k8s render` prints what `helm template` prints (release name with `--release-name`, no chart argument)",
    );
    let run = St2k8s::command(&["install", "st2", "."]).run();
    assert_exact_error(
        &run,
        "st2k8s has no `install` command: it does not talk to the cluster; apply what it renders: `st2k8s render -f values.yaml | kubectl apply -f -`",
    );
}

#[test]
fn positional_release_name_and_chart_get_a_hint() {
    let run = St2k8s::render().args(&["st2", "."]).run();
    assert_exact_error(
        &run,
        "unexpected argument `st2`: st2k8s takes no positional arguments; give the release name as `--release-name st2` (the chart is built in: no chart directory is needed)",
    );
    let run = St2k8s::lint().args(&["./stackstorm-ha"]).run();
    assert_exact_error(
        &run,
        "unexpected argument `./stackstorm-ha`: st2k8s takes no positional arguments; the chart is built in, so no chart directory is needed (give the release name as `--release-name NAME`)",
    );
}

#[test]
fn helm_only_flags_say_why_they_are_not_needed() {
    let cases = [
        (
            &["--kube-version", "1.30"][..],
            "`--kube-version` is a Helm flag st2k8s does not need: the objects do not depend on the cluster's Kubernetes version (only stable API versions are rendered)",
        ),
        (
            &["--api-versions=networking.k8s.io/v1"][..],
            "`--api-versions` is a Helm flag st2k8s does not need: the objects do not depend on the cluster's API versions (Ingress is always networking.k8s.io/v1)",
        ),
        (
            &["--skip-tests"][..],
            "`--skip-tests` is a Helm flag st2k8s does not need: the `helm test` Pod is left out unless `--include-tests` is given",
        ),
        (
            &["--is-upgrade"][..],
            "`--is-upgrade` is a Helm flag st2k8s does not need: install and upgrade render the same objects (for the setup Jobs see `--target`)",
        ),
        (
            &["--include-crds"][..],
            "`--include-crds` is a Helm flag st2k8s does not need: the chart installs no CRDs (external-dns's `crd.create` is not supported)",
        ),
    ];
    for (args, message) in cases {
        assert_exact_error(&St2k8s::render().args(args).run(), message);
    }
    // Other unknown flags keep clap's message and its "similar argument" tip.
    let run = St2k8s::render().args(&["--valuse", "x.yaml"]).run();
    run.assert_user_error(&["unexpected argument '--valuse'", "'--values'"]);
}

#[test]
fn values_urls_are_not_fetched_and_not_echoed() {
    let run = St2k8s::render()
        .args(&["-f", "https://user:s3cr3t-token@example.com/values.yaml"])
        .run();
    assert_exact_error(
        &run,
        "-f `https://…`: URLs are not fetched; download the file first (e.g. `curl -fsSLo values.yaml URL`) and pass its path",
    );
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
}

#[test]
fn show_only_with_a_template_file_explains_kind_and_name() {
    let run = St2k8s::render()
        .seeded()
        .args(&["-s", "templates/services.yaml"])
        .run();
    assert_exact_error(
        &run,
        "--show-only `templates/services.yaml`: st2k8s selects rendered objects, not template files: use KIND/NAME or NAME (e.g. `Deployment/st2-st2api`); objects of that kind: Service/st2-mongodb-headless, Service/st2-rabbitmq, Service/st2-rabbitmq-headless, Service/st2-redis, Service/st2-redis-headless, Service/st2-st2api, … (3 more)",
    );
}

#[test]
fn show_only_fails_when_one_selector_matches_nothing() {
    let run = St2k8s::render()
        .seeded()
        .args(&["-s", "Deployment/st2-st2api", "-s", "deployment/st2-st2ap"])
        .run();
    assert_exact_error(
        &run,
        "--show-only `deployment/st2-st2ap` matches no object; did you mean `Deployment/st2-st2api`?",
    );
    let run = St2k8s::render()
        .seeded()
        .args(&["-s", "Deployment/st2-st2api", "-s", "st2-st2web"])
        .run();
    run.assert_success();
    let names: Vec<String> = crate::documents(&run.stdout)
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "Service/st2-st2web",
            "Deployment/st2-st2api",
            "Deployment/st2-st2web"
        ]
    );
}
