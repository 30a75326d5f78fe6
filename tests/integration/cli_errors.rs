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
