//! Values input that must work: stdin, empty files, `--set` flags in Helm's order.

use crate::St2k8s;

#[test]
fn render_with_set_succeeds() {
    St2k8s::render()
        .args(&["--set", "st2web.replicas=3"])
        .run()
        .assert_success();
}

#[test]
fn values_from_stdin() {
    let run = St2k8s::render()
        .args(&["-f", "-"])
        .stdin("serviceAccount:\n  serviceAccountName: from-stdin\n")
        .run();
    run.assert_success();
    assert!(run.stdout.contains("name: from-stdin"), "{}", run.stdout);
}

#[test]
fn empty_and_comment_only_values_files() {
    St2k8s::render()
        .values("empty.yaml", "")
        .run()
        .assert_success();
    St2k8s::render()
        .values("comments.yaml", "# nothing here\n---\n")
        .run()
        .assert_success();
}

#[test]
fn later_files_and_flags_win_in_helms_order() {
    let name = |run: &crate::Run| {
        run.assert_success();
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("  name: "))
            .map(str::to_string);
        line.unwrap_or_default()
            .trim_start_matches("  name: ")
            .to_string()
    };
    let cmd = St2k8s::render();
    let first = cmd.file(
        "first.yaml",
        "serviceAccount: {serviceAccountName: first}\n",
    );
    let second = cmd.file(
        "second.yaml",
        "serviceAccount: {serviceAccountName: second}\n",
    );
    assert_eq!(
        name(&cmd.args(&["-f", &first, "-f", &second]).run()),
        "second"
    );
    // --set-string applies after --set, whatever the order on the command line (Helm's order)
    let run = St2k8s::render()
        .args(&[
            "--set-string",
            "serviceAccount.serviceAccountName=from-string",
        ])
        .args(&["--set", "serviceAccount.serviceAccountName=from-set"])
        .args(&[
            "--set-json",
            r#"serviceAccount.serviceAccountName="from-json""#,
        ])
        .run();
    assert_eq!(name(&run), "from-string");
    let run = St2k8s::render()
        .args(&[
            "--set-literal",
            "serviceAccount.serviceAccountName=from-literal",
        ])
        .args(&[
            "--set-string",
            "serviceAccount.serviceAccountName=from-string",
        ])
        .run();
    assert_eq!(name(&run), "from-literal");
}

#[test]
fn set_file_and_set_json_object() {
    let cmd = St2k8s::render();
    let path = cmd.file("name.txt", "from-file");
    let run = cmd
        .args(&[
            "--set-file",
            &format!("serviceAccount.serviceAccountName={path}"),
        ])
        .run();
    run.assert_success();
    assert!(run.stdout.contains("name: from-file"), "{}", run.stdout);
    let run = St2k8s::render()
        .args(&[
            "--set-json",
            r#"{"serviceAccount": {"serviceAccountName": "from-json"}}"#,
        ])
        .run();
    run.assert_success();
    assert!(run.stdout.contains("name: from-json"), "{}", run.stdout);
}
