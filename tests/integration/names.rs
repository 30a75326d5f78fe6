//! Object names Kubernetes would reject are refused before anything is written, for `render`,
//! `--output-dir`, `lint` and `argocd generate`, naming the values key (or the release name and
//! the longest one that fits).

use crate::{SEED, St2k8s};

const BAD_HOOK: &str = "jobs:
  extra_hooks:
    - name: x/../../pwned
      hook: post-install
      command: [st2, --version]
";

/// The error for [`BAD_HOOK`] written to the file `path`: where the key is, then the key.
fn bad_hook_error(path: &str) -> String {
    format!(
        "error: {path}:3:7: `jobs.extra_hooks[0].name`: `x/../../pwned` gives Job name \
         `st2-job-extra-helm-hook-x/../../pwned-<hash>`, which is not a valid Kubernetes name \
         (lowercase letters, digits, `-` and `.`)\n"
    )
}

#[test]
fn an_extra_hook_name_with_a_slash() {
    let cmd = St2k8s::render();
    let path = cmd.file("hook.yaml", BAD_HOOK);
    let run = cmd.args(&["-f", &path]).run();
    run.assert_user_error(&[]);
    assert_eq!(run.stderr, bad_hook_error(&path));
}

#[test]
fn output_dir_writes_nothing_for_a_bad_name() {
    let cmd = St2k8s::render();
    let path = cmd.file("hook.yaml", BAD_HOOK);
    let out = cmd.dir().join("out");
    let run = cmd
        .args(&["-f", &path, "--output-dir", &out.display().to_string()])
        .run();
    run.assert_user_error(&[]);
    assert_eq!(run.stderr, bad_hook_error(&path));
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn a_mongodb_full_name_with_a_slash() {
    let run = St2k8s::render()
        .args(&["--set", "mongodb.fullnameOverride=m/../../x"])
        .run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        "error: `mongodb.fullnameOverride`: `m/../../x` gives ServiceAccount name `m/../../x`, \
         which is not a valid Kubernetes name (lowercase letters, digits, `-` and `.`)\n"
    );
}

#[test]
fn a_sensor_name_in_uppercase() {
    let cmd = St2k8s::render();
    let path = cmd.file(
        "sensors.yaml",
        "st2:\n  packs:\n    sensors:\n      - name: Watch\n        ref: core.watch\n",
    );
    let run = cmd.args(&["-f", &path]).run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        format!(
            "error: {path}:4:9: `st2.packs.sensors[0].name`: `Watch` gives Deployment name \
             `st2-st2sensorcontainer-Watch`, which is not a valid Kubernetes name (lowercase \
             letters, digits, `-` and `.`)\n"
        )
    );
}

#[test]
fn a_service_account_name_from_a_file_names_its_line() {
    let cmd = St2k8s::render();
    let path = cmd.file(
        "sa.yaml",
        "serviceAccount:\n  create: false\n  serviceAccountName: St2\n",
    );
    let run = cmd.args(&["-f", &path]).run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        format!(
            "error: {path}:3:3: `serviceAccount.serviceAccountName`: `St2` is not a valid \
             Kubernetes name (lowercase letters, digits, `-` and `.`)\n"
        )
    );
}

#[test]
fn a_service_account_name_is_checked_even_when_not_created() {
    let run = St2k8s::render()
        .args(&[
            "--set",
            "serviceAccount.create=false,serviceAccount.serviceAccountName=St2",
        ])
        .run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        "error: `serviceAccount.serviceAccountName`: `St2` is not a valid Kubernetes name \
         (lowercase letters, digits, `-` and `.`)\n"
    );
}

#[test]
fn a_53_character_release_is_too_long_for_hashed_job_names() {
    let release = "r".repeat(53);
    let run = St2k8s::render().args(&["--release-name", &release]).run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        format!(
            "error: release name `{release}` (53 characters) is too long for these values: the \
             Job `{release}-job-st2-register-content-<hash>` would have 87 characters, more than \
             the 63 Kubernetes allows; at most 29 characters fit\n"
        )
    );
    let fits = "r".repeat(29);
    St2k8s::render()
        .args(&["--release-name", &fits])
        .run()
        .assert_success();
}

#[test]
fn without_job_hashes_a_longer_release_fits() {
    let release = "r".repeat(39);
    let run = St2k8s::render()
        .args(&["--release-name", &release, "--target", "argocd"])
        .run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        format!(
            "error: release name `{release}` (39 characters) is too long for these values: the \
             Job `{release}-job-st2-register-content` would have 64 characters, more than the 63 \
             Kubernetes allows; at most 38 characters fit\n"
        )
    );
    St2k8s::render()
        .args(&["--release-name", &"r".repeat(38), "--target", "argocd"])
        .run()
        .assert_success();
}

#[test]
fn a_release_starting_with_a_digit() {
    let run = St2k8s::render().args(&["--release-name", "1st2"]).run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        "error: release name `1st2` starts with a digit: it starts every Service name \
         (`1st2-st2api`), and Service names must start with a letter\n"
    );
}

#[test]
fn lint_reports_a_bad_name_as_an_error() {
    let cmd = St2k8s::lint();
    let path = cmd.file("hook.yaml", BAD_HOOK);
    let run = cmd.args(&["-f", &path]).run();
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .lines()
            .any(|l| format!("{l}\n") == bad_hook_error(&path)),
        "{}",
        run.stdout
    );
}

#[test]
fn lint_reports_a_release_that_is_too_long() {
    let release = "r".repeat(30);
    let run = St2k8s::lint().args(&["--release-name", &release]).run();
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "error: release name `{release}` (30 characters) is too long for these values: the \
             Job `{release}-job-st2-register-content-<hash>` would have 64 characters, more than \
             the 63 Kubernetes allows; at most 29 characters fit"
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn argocd_generate_refuses_a_release_that_is_too_long() {
    let app = "a".repeat(40);
    let run = St2k8s::command(&["argocd", "generate"])
        .in_dir()
        .env("ARGOCD_APP_NAME", &app)
        .env("ST2K8S_SECRET_SEED", SEED)
        .run();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(
        run.stderr,
        format!(
            "error: release name `{app}` (40 characters) is too long for these values: the Job \
             `{app}-job-st2-register-content` would have 65 characters, more than the 63 \
             Kubernetes allows; at most 38 characters fit\n"
        )
    );
}

#[test]
fn several_bad_names_each_name_their_line() {
    let cmd = St2k8s::render();
    let path = cmd.file(
        "two.yaml",
        "jobs:\n  extra_hooks:\n    - name: x/a\n      hook: post-install\n      command: [st2]\n\
         st2:\n  packs:\n    sensors:\n      - name: Watch\n        ref: core.watch\n",
    );
    let run = cmd.args(&["-f", &path]).run();
    run.assert_user_error(&[]);
    assert_eq!(
        run.stderr,
        format!(
            "error: 2 invalid names or labels:\n  {path}:9:9: `st2.packs.sensors[0].name`: \
             `Watch` gives Deployment name `st2-st2sensorcontainer-Watch`, which is not a valid \
             Kubernetes name (lowercase letters, digits, `-` and `.`)\n  {path}:3:7: \
             `jobs.extra_hooks[0].name`: `x/a` gives Job name `st2-job-extra-helm-hook-x/a-<hash>`, \
             which is not a valid Kubernetes name (lowercase letters, digits, `-` and `.`)\n"
        )
    );
}
