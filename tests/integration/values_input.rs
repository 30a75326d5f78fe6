//! Values input that must work: stdin, empty files, `--set` flags in Helm's order.

use crate::St2k8s;

/// The `spec.replicas` line of the Deployment `name` in a render.
fn replicas_of(stdout: &str, name: &str) -> Option<String> {
    let doc = stdout.split("---\n").find(|d| {
        d.starts_with("apiVersion: apps/v1\nkind: Deployment\n")
            && d.contains(&format!("\n  name: {name}\n"))
    })?;
    doc.lines()
        .find(|l| l.starts_with("  replicas: "))
        .map(|l| l.trim_start_matches("  replicas: ").to_string())
}

#[test]
fn set_changes_the_rendered_object() {
    let default = St2k8s::render().run();
    default.assert_success();
    assert_eq!(
        replicas_of(&default.stdout, "st2-st2web").as_deref(),
        Some("2")
    );
    let run = St2k8s::render().args(&["--set", "st2web.replicas=3"]).run();
    run.assert_success();
    assert_eq!(replicas_of(&run.stdout, "st2-st2web").as_deref(), Some("3"));
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
fn empty_and_comment_only_values_files_render_the_defaults() {
    let default = St2k8s::render().seeded().run();
    default.assert_success();
    for (name, text) in [
        ("empty.yaml", ""),
        ("comments.yaml", "# nothing here\n---\n"),
    ] {
        let run = St2k8s::render().seeded().values(name, text).run();
        run.assert_success();
        assert!(
            run.stdout == default.stdout,
            "{name}: render differs from the defaults"
        );
        assert_eq!(run.stderr, default.stderr, "{name}");
    }
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
