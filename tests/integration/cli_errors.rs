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
fn bad_set_syntax_names_flag_argument_and_column() {
    let run = St2k8s::render().args(&["--set", "a.b[x]=1"]).run();
    run.assert_user_error(&["--set `a.b[x]=1`", "invalid index `x`", "at column 5"]);
}

#[test]
fn set_type_conflict_with_a_values_file() {
    let run = St2k8s::render()
        .values("v.yaml", "st2web:\n  replicas: 2\n")
        .args(&["--set", "st2web.replicas.x=1"])
        .run();
    run.assert_user_error(&[
        "--set `st2web.replicas.x=1`",
        "cannot use `st2web.replicas` as a map",
        "at column 16",
    ]);
}

#[test]
fn set_string_and_set_json_errors_name_their_flag() {
    St2k8s::render()
        .args(&["--set-string", "a="])
        .run()
        .assert_success();
    let run = St2k8s::render().args(&["--set-string", "a[-1]=x"]).run();
    run.assert_user_error(&["--set-string `a[-1]=x`", "negative index", "at column 3"]);
    let run = St2k8s::render().args(&["--set-json", "a=[1,"]).run();
    run.assert_user_error(&["--set-json `a=[1,`", "invalid JSON"]);
}

#[test]
fn set_file_with_a_missing_file_names_the_path() {
    let run = St2k8s::render()
        .args(&["--set-file", "st2.ssh_key=/nonexistent/id_rsa"])
        .run();
    run.assert_user_error(&[
        "--set-file",
        "cannot read `/nonexistent/id_rsa`",
        "at column 13",
    ]);
}

#[test]
fn secret_values_are_masked_in_set_errors() {
    let run = St2k8s::render()
        .args(&["--set", "mongodb.auth.password=hunter2,x[y]=1"])
        .run();
    run.assert_user_error(&[
        "--set `mongodb.auth.password=*******,x[y]=1`",
        "at column 33",
    ]);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
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
        .assert_user_error(&[&long, "54 characters, at most 53"]);
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
