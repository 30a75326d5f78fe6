//! Every remedy a message of st2k8s suggests works: for each warning or error that tells the
//! user what to set, use, pass, rename or run, an input that triggers it, and the input with the
//! suggested remedy applied, which must render without that message. The table names the
//! message that makes each suggestion; a new message that suggests something belongs here.

use std::path::Path;

use super::{Run, SEED, St2k8s};

/// One suggested remedy: `says` is (part of) the message that suggests it, `broken` the
/// arguments that trigger that message, `fixed` the arguments with the remedy applied.
struct Remedy {
    says: &'static str,
    broken: &'static [&'static str],
    fixed: &'static [&'static str],
}

/// `st2k8s render ARGS`, seeded unless `seed` says otherwise (`None`: no seed at all).
fn render(args: &[&str], seed: Option<&str>) -> Run {
    let mut cmd = St2k8s::render().args(args);
    if let Some(seed) = seed {
        cmd = cmd.env("ST2K8S_SECRET_SEED", seed);
    }
    cmd.run()
}

/// The broken run prints `says` (as a warning or an error); the fixed run succeeds without it.
fn check(says: &str, broken: &Run, fixed: &Run, what: &str) {
    assert!(
        broken.stderr.contains(says),
        "{what}: the broken input should print `{says}`, stderr: {}",
        broken.stderr
    );
    assert_eq!(
        fixed.code,
        Some(0),
        "{what}: the remedy fails; stderr: {}",
        fixed.stderr
    );
    assert!(fixed.stdout.starts_with("---\n"), "{what}: no output");
    assert!(
        !fixed.stderr.contains(says) && !fixed.stderr.contains("error:"),
        "{what}: still `{says}` after the remedy; stderr: {}",
        fixed.stderr
    );
}

/// Remedies given as values and flags.
const REMEDIES: &[Remedy] = &[
    // The published-default warnings: set your own, or `--set-string KEY=""` to derive one.
    Remedy {
        says: "`mongodb.auth.rootPassword` still holds the chart's published default",
        broken: &[],
        fixed: &["--set-string", "mongodb.auth.rootPassword="],
    },
    Remedy {
        says: "`mongodb.auth.rootPassword` still holds the chart's published default",
        broken: &[],
        fixed: &["--set", "mongodb.auth.rootPassword=My-Own-Root-Pa55"],
    },
    Remedy {
        says: "`mongodb.auth.password` still holds the chart's published default",
        broken: &[],
        fixed: &["--set-string", "mongodb.auth.password="],
    },
    Remedy {
        says: "`mongodb.auth.password` still holds the chart's published default",
        broken: &[],
        fixed: &["--set", "mongodb.auth.password=My-Own-Pa55"],
    },
    Remedy {
        says: "`mongodb.auth.replicaSetKey` still holds the chart's published default",
        broken: &[],
        fixed: &["--set-string", "mongodb.auth.replicaSetKey="],
    },
    Remedy {
        says: "`mongodb.auth.replicaSetKey` still holds the chart's published default",
        broken: &[],
        fixed: &["--set", "mongodb.auth.replicaSetKey=My-Own-Replica-Set-Key"],
    },
    Remedy {
        says: "`rabbitmq.auth.password` still holds the chart's published default",
        broken: &[],
        fixed: &["--set-string", "rabbitmq.auth.password="],
    },
    Remedy {
        says: "`rabbitmq.auth.password` still holds the chart's published default",
        broken: &[],
        fixed: &["--set", "rabbitmq.auth.password=My-Own-Pa55"],
    },
    Remedy {
        says: "`rabbitmq.auth.erlangCookie` still holds the chart's published default",
        broken: &[],
        fixed: &["--set-string", "rabbitmq.auth.erlangCookie="],
    },
    Remedy {
        says: "`rabbitmq.auth.erlangCookie` still holds the chart's published default",
        broken: &[],
        fixed: &["--set", "rabbitmq.auth.erlangCookie=My-Own-Erlang-Cookie"],
    },
    // With an existing Secret the password must be the one that Secret holds.
    Remedy {
        says: "`mongodb.auth.password` still holds the chart's published default; set it (`--set mongodb.auth.password=…` or a values file) to the password the Secret named by `mongodb.auth.existingSecret` holds",
        broken: &["--set", "mongodb.auth.existingSecret=mine"],
        fixed: &[
            "--set",
            "mongodb.auth.existingSecret=mine,mongodb.auth.password=Their-Pa55",
        ],
    },
    Remedy {
        says: "`rabbitmq.auth.password` still holds the chart's published default; set it (`--set rabbitmq.auth.password=…` or a values file) to the password the Secret named by `rabbitmq.auth.existingPasswordSecret` holds",
        broken: &["--set", "rabbitmq.auth.existingPasswordSecret=mine"],
        fixed: &[
            "--set",
            "rabbitmq.auth.existingPasswordSecret=mine,rabbitmq.auth.password=Their-Pa55",
        ],
    },
    Remedy {
        says: "mongodb.auth.password is required! `mongodb.auth.existingSecret` is set, so st2k8s cannot generate it: set the password that Secret holds",
        broken: &[
            "--set",
            "mongodb.auth.existingSecret=mine",
            "--set-string",
            "mongodb.auth.password=",
        ],
        fixed: &[
            "--set",
            "mongodb.auth.existingSecret=mine",
            "--set-string",
            "mongodb.auth.password=Their-Pa55",
        ],
    },
    Remedy {
        says: "rabbitmq.auth.password is required! `rabbitmq.auth.existingPasswordSecret` is set, so st2k8s cannot generate it: set the password that Secret holds",
        broken: &[
            "--set",
            "rabbitmq.auth.existingPasswordSecret=mine",
            "--set-string",
            "rabbitmq.auth.password=",
        ],
        fixed: &[
            "--set",
            "rabbitmq.auth.existingPasswordSecret=mine",
            "--set-string",
            "rabbitmq.auth.password=Their-Pa55",
        ],
    },
    // Values st2k8s checks itself.
    Remedy {
        says: "`st2.ssh_key_type`: not a supported SSH key type; use `ed25519` (default) or `rsa`",
        broken: &["--set", "st2.ssh_key_type=dsa"],
        fixed: &["--set", "st2.ssh_key_type=ed25519"],
    },
    // `rsa`, the other suggestion, takes minutes to generate in a debug build; the unit tests
    // of `SshKeyType` and of the RSA key cover it.
    Remedy {
        says: "`mongodb.architecture`: not a known architecture, use `standalone` or `replicaset`",
        broken: &["--set", "mongodb.architecture=sharded"],
        fixed: &["--set", "mongodb.architecture=standalone"],
    },
    Remedy {
        says: "`mongodb.architecture`: not a known architecture, use `standalone` or `replicaset`",
        broken: &["--set", "mongodb.architecture=sharded"],
        fixed: &["--set", "mongodb.architecture=replicaset"],
    },
    Remedy {
        says: "`mongodb.auth.username` and `mongodb.auth.database`: set both",
        broken: &[
            "--set",
            "mongodb.auth.enabled=false,mongodb.auth.username=app,mongodb.auth.database=null",
        ],
        fixed: &[
            "--set",
            "mongodb.auth.enabled=false,mongodb.auth.username=app,mongodb.auth.database=appdb",
        ],
    },
    Remedy {
        says: "`rabbitmq.auth.tls.caCertificate` is required when `rabbitmq.auth.tls.enabled` (or set `rabbitmq.auth.tls.existingSecret`)",
        broken: &["--set", "rabbitmq.auth.tls.enabled=true"],
        fixed: &[
            "--set",
            "rabbitmq.auth.tls.enabled=true,rabbitmq.auth.tls.existingSecret=rabbit-tls",
        ],
    },
    Remedy {
        says: "`rabbitmq.auth.tls.caCertificate` is required when `rabbitmq.auth.tls.enabled` (or set `rabbitmq.auth.tls.existingSecret`)",
        broken: &["--set", "rabbitmq.auth.tls.enabled=true"],
        fixed: &[
            "--set",
            "rabbitmq.auth.tls.enabled=true,rabbitmq.auth.tls.caCertificate=CA,rabbitmq.auth.tls.serverCertificate=CERT,rabbitmq.auth.tls.serverKey=KEY",
        ],
    },
    Remedy {
        says: "`st2web.replica`: unknown key; did you mean `st2web.replicas`?",
        broken: &["--set", "st2web.replica=2"],
        fixed: &["--set", "st2web.replicas=2"],
    },
    Remedy {
        says: "`st2web.replica`: unknown key; did you mean `st2web.replicas`?",
        broken: &["--strict", "--set", "st2web.replica=2"],
        fixed: &["--strict", "--set", "st2web.replicas=2"],
    },
    Remedy {
        says: "did you mean `st2web.securityContext.runAsUser`?",
        broken: &["--set", "st2web.securityContext.runAsUsr=1000"],
        fixed: &["--set", "st2web.securityContext.runAsUser=1000"],
    },
    Remedy {
        says: "expected true or false, found the string \"true\"; write it unquoted",
        broken: &["--set-string", "st2.rbac.enabled=true"],
        fixed: &["--set", "st2.rbac.enabled=true"],
    },
    Remedy {
        says: "invalid release name `My_Rel`: use lowercase letters, digits and `-`",
        broken: &["--release-name", "My_Rel"],
        fixed: &["--release-name", "my-rel"],
    },
    Remedy {
        says: "expected a Kubernetes quantity (e.g. `500m`",
        broken: &["--set", "st2web.resources.requests.cpu=lots"],
        fixed: &["--set", "st2web.resources.requests.cpu=500m"],
    },
    // The chart's own messages, which st2k8s keeps word for word.
    Remedy {
        says: "Please update your values! The ssh_key value moved from secrets.st2.* to st2.*",
        broken: &["--set-string", "secrets.st2.ssh_key=KEY"],
        fixed: &["--set-string", "st2.ssh_key=KEY"],
    },
    Remedy {
        says: "Please update your values! The datastore_crypto_key value moved from secrets.st2.* to st2.*",
        broken: &["--set-string", "secrets.st2.datastore_crypto_key=disable"],
        fixed: &["--set-string", "st2.datastore_crypto_key=disable"],
    },
    Remedy {
        says: "Please update your values! Values for username and password moved from secrets.st2.* to st2.*",
        broken: &["--set-string", "secrets.st2.password=Pa55word"],
        fixed: &["--set-string", "st2.password=Pa55word"],
    },
    Remedy {
        says: "Value st2.packs.image was renamed to st2.packs.images and is now a list of images",
        broken: &[
            "--set-json",
            r#"st2.packs.image={"repository":"r","name":"p","tag":"1"}"#,
        ],
        fixed: &[
            "--set-json",
            r#"st2.packs.images=[{"repository":"r","name":"p","tag":"1"}]"#,
        ],
    },
    Remedy {
        says: "To use one-sensor-per-pod, use `st2.packs.sensors`. To use multiple-sensors-per-pod, use `st2sensorcontainer.deployments > 1`. Do not use both!",
        broken: &[
            "--set",
            "st2sensorcontainer.deployments=2",
            "--set-json",
            r#"st2.packs.sensors=[{"name":"s","ref":"p.s"}]"#,
        ],
        fixed: &["--set", "st2sensorcontainer.deployments=2"],
    },
    Remedy {
        says: "To use one-sensor-per-pod, use `st2.packs.sensors`. To use multiple-sensors-per-pod, use `st2sensorcontainer.deployments > 1`. Do not use both!",
        broken: &[
            "--set",
            "st2sensorcontainer.deployments=2",
            "--set-json",
            r#"st2.packs.sensors=[{"name":"s","ref":"p.s"}]"#,
        ],
        fixed: &[
            "--set-json",
            r#"st2.packs.sensors=[{"name":"s","ref":"p.s"}]"#,
        ],
    },
    Remedy {
        says: "You must define `ref` for everything in st2.packs.sensors.",
        broken: &["--set-json", r#"st2.packs.sensors=[{"name":"s"}]"#],
        fixed: &[
            "--set-json",
            r#"st2.packs.sensors=[{"name":"s","ref":"p.s"}]"#,
        ],
    },
    Remedy {
        says: "You must name each entry in jobs.extra_hooks.",
        broken: &[
            "--set-json",
            r#"jobs.extra_hooks=[{"hook":"post-install","command":["true"]}]"#,
        ],
        fixed: &[
            "--set-json",
            r#"jobs.extra_hooks=[{"name":"x","hook":"post-install","command":["true"]}]"#,
        ],
    },
    Remedy {
        says: "Each entry in jobs.extra_hooks must include 'hook'",
        broken: &[
            "--set-json",
            r#"jobs.extra_hooks=[{"name":"x","command":["true"]}]"#,
        ],
        fixed: &[
            "--set-json",
            r#"jobs.extra_hooks=[{"name":"x","hook":"post-install","command":["true"]}]"#,
        ],
    },
    Remedy {
        says: "Each entry in jobs.extra_hooks must include the 'command' to run.",
        broken: &[
            "--set-json",
            r#"jobs.extra_hooks=[{"name":"x","hook":"post-install"}]"#,
        ],
        fixed: &[
            "--set-json",
            r#"jobs.extra_hooks=[{"name":"x","hook":"post-install","command":["true"]}]"#,
        ],
    },
    Remedy {
        says: "Each volume must have a 'name' in st2web.extra_volumes",
        broken: &[
            "--set-json",
            r#"st2web.extra_volumes=[{"mount":{"mountPath":"/x"},"volume":{"emptyDir":{}}}]"#,
        ],
        fixed: &[
            "--set-json",
            r#"st2web.extra_volumes=[{"name":"x","mount":{"mountPath":"/x"},"volume":{"emptyDir":{}}}]"#,
        ],
    },
    Remedy {
        says: "Each volume must have a 'mount' definition in st2web.extra_volumes",
        broken: &[
            "--set-json",
            r#"st2web.extra_volumes=[{"name":"x","volume":{"emptyDir":{}}}]"#,
        ],
        fixed: &[
            "--set-json",
            r#"st2web.extra_volumes=[{"name":"x","mount":{"mountPath":"/x"},"volume":{"emptyDir":{}}}]"#,
        ],
    },
    Remedy {
        says: "Each volume must have a 'volume' definition in st2web.extra_volumes",
        broken: &[
            "--set-json",
            r#"st2web.extra_volumes=[{"name":"x","mount":{"mountPath":"/x"}}]"#,
        ],
        fixed: &[
            "--set-json",
            r#"st2web.extra_volumes=[{"name":"x","mount":{"mountPath":"/x"},"volume":{"emptyDir":{}}}]"#,
        ],
    },
    Remedy {
        says: "When st2.packs.volumes.enabled, you must define volumes for both packs and virtualenvs.",
        broken: &[
            "--set-json",
            r#"st2.packs.volumes={"enabled":true,"packs":{"emptyDir":{}}}"#,
        ],
        fixed: &[
            "--set-json",
            r#"st2.packs.volumes={"enabled":true,"packs":{"emptyDir":{}},"virtualenvs":{"emptyDir":{}}}"#,
        ],
    },
    Remedy {
        says: "`mongodb.image.repository` and `mongodb.image.tag` must both be set",
        broken: &["--set-string", "mongodb.image.tag="],
        fixed: &["--set-string", "mongodb.image.tag=4.4"],
    },
    Remedy {
        says: "value for redis.sentinel.enabled MUST be true",
        broken: &["--set", "redis.sentinel.enabled=false"],
        fixed: &["--set", "redis.sentinel.enabled=true"],
    },
    Remedy {
        says: "`redis.cluster.enabled`: st2k8s renders Redis only as a sentinel-managed cluster; it must be true",
        broken: &["--set", "redis.cluster.enabled=false"],
        fixed: &["--set", "redis.cluster.enabled=true"],
    },
    Remedy {
        says: "A secret containing the certificates for the TLS traffic is required when TLS in enabled",
        broken: &[
            "--set",
            "redis.tls.enabled=true,redis.tls.certFilename=tls.crt,redis.tls.certKeyFilename=tls.key,redis.tls.certCAFilename=ca.crt",
        ],
        fixed: &[
            "--set",
            "redis.tls.enabled=true,redis.tls.certificatesSecret=redis-tls,redis.tls.certFilename=tls.crt,redis.tls.certKeyFilename=tls.key,redis.tls.certCAFilename=ca.crt",
        ],
    },
    Remedy {
        says: "Certificate CA filename is required when TLS in enabled",
        broken: &[
            "--set",
            "redis.tls.enabled=true,redis.tls.certificatesSecret=redis-tls",
        ],
        fixed: &[
            "--set",
            "redis.tls.enabled=true,redis.tls.certificatesSecret=redis-tls,redis.tls.certFilename=tls.crt,redis.tls.certKeyFilename=tls.key,redis.tls.certCAFilename=ca.crt",
        ],
    },
    Remedy {
        says: "you must set a provider (aws, google, azure, cloudflare, ...)",
        broken: &[
            "--set",
            "external-dns.enabled=true",
            "--set-string",
            "external-dns.provider=",
        ],
        fixed: &[
            "--set",
            "external-dns.enabled=true,external-dns.provider=google",
        ],
    },
    Remedy {
        says: "the AWS role to assume must be an ARN like `arn:aws:iam::123455567:role/external-dns`",
        broken: &[
            "--set",
            "external-dns.enabled=true,external-dns.provider=aws,external-dns.aws.assumeRoleArn=external-dns",
        ],
        fixed: &[
            "--set",
            "external-dns.enabled=true,external-dns.provider=aws,external-dns.aws.assumeRoleArn=arn:aws:iam::123455567:role/external-dns",
        ],
    },
    Remedy {
        says: "rfc2136.host must be supplied for provider 'rfc2136'",
        broken: &[
            "--set",
            "external-dns.enabled=true,external-dns.provider=rfc2136,external-dns.rfc2136.zone=example.com",
        ],
        fixed: &[
            "--set",
            "external-dns.enabled=true,external-dns.provider=rfc2136,external-dns.rfc2136.zone=example.com,external-dns.rfc2136.host=ns.example.com",
        ],
    },
    Remedy {
        says: "`rabbitmq.memoryHighWatermark.type` must be `absolute` or `relative`",
        broken: &[
            "--set",
            "rabbitmq.memoryHighWatermark.enabled=true,rabbitmq.memoryHighWatermark.type=percent,rabbitmq.resources.limits.memory=1Gi",
        ],
        fixed: &[
            "--set",
            "rabbitmq.memoryHighWatermark.enabled=true,rabbitmq.memoryHighWatermark.type=relative,rabbitmq.resources.limits.memory=1Gi",
        ],
    },
    Remedy {
        says: "`rabbitmq.ingress.secrets[0]` needs a `certificate`",
        broken: &[
            "--set",
            "rabbitmq.ingress.enabled=true",
            "--set-json",
            r#"rabbitmq.ingress.secrets=[{"name":"rabbit-tls","key":"KEY"}]"#,
        ],
        fixed: &[
            "--set",
            "rabbitmq.ingress.enabled=true",
            "--set-json",
            r#"rabbitmq.ingress.secrets=[{"name":"rabbit-tls","key":"KEY","certificate":"CERT"}]"#,
        ],
    },
    Remedy {
        says: "`rabbitmq.memoryHighWatermark.enabled` needs a memory limit in `rabbitmq.resources.limits.memory`",
        broken: &["--set", "rabbitmq.memoryHighWatermark.enabled=true"],
        fixed: &[
            "--set",
            "rabbitmq.memoryHighWatermark.enabled=true,rabbitmq.resources.limits.memory=1Gi",
        ],
    },
];

#[test]
fn every_suggested_value_or_flag_works() {
    for Remedy {
        says,
        broken,
        fixed,
    } in REMEDIES
    {
        let what = format!("{broken:?} → {fixed:?}");
        check(
            says,
            &render(broken, Some(SEED)),
            &render(fixed, Some(SEED)),
            &what,
        );
    }
}

/// The output of `openssl rand -base64 32`, as the seed messages suggest.
fn openssl_seed() -> Option<String> {
    let out = std::process::Command::new("openssl")
        .args(["rand", "-base64", "32"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn every_suggested_seed_works() {
    let Some(random) = openssl_seed() else {
        eprintln!("note: openssl not found; the suggested `openssl rand -base64 32` is not run");
        return;
    };
    // NOT_REPRODUCIBLE: pass a seed with `--secret-seed-file FILE` (mode 0600) or the variable.
    let says = "pass a seed with `--secret-seed-file FILE` (mode 0600) or the ST2K8S_SECRET_SEED environment variable";
    let unseeded = render(&[], None);
    check(says, &unseeded, &render(&[], Some(&random)), "env seed");
    let cmd = St2k8s::render();
    let file = seed_file(cmd.dir(), &random, 0o600);
    let from_file = cmd.args(&["--secret-seed-file", &file]).run();
    check(says, &unseeded, &from_file, "seed file");
    // Seeds without entropy: "for example the output of `openssl rand -base64 32`".
    for (bad, says) in [
        ("short", "must be at least 16 bytes long"),
        ("   ", "is empty or only whitespace"),
        ("xxxxxxxxxxxxxxxxxxxxxxxx", "is one character repeated"),
    ] {
        let broken = render(&[], Some(bad));
        assert!(
            broken
                .stderr
                .contains("(for example the output of `openssl rand -base64 32`)"),
            "{}",
            broken.stderr
        );
        check(says, &broken, &render(&[], Some(&random)), bad);
    }
}

/// Write `text` as the seed file of `dir` with `mode`; returns its path.
fn seed_file(dir: &Path, text: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("seed");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write seed: {e}"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod seed: {e}"));
    path.display().to_string()
}

#[test]
fn suggested_chmod_works() {
    let cmd = St2k8s::render();
    let file = seed_file(cmd.dir(), SEED, 0o644);
    let args = ["--secret-seed-file", file.as_str()];
    let broken = St2k8s::render().args(&args).run();
    let says = format!("restrict it with `chmod 600 {file}`");
    let status = std::process::Command::new("chmod")
        .args(["600", &file])
        .status();
    assert!(status.is_ok_and(|s| s.success()), "chmod");
    let fixed = St2k8s::render().args(&args).run();
    check(&says, &broken, &fixed, "chmod 600");
    drop(cmd);
}

#[test]
fn suggested_argocd_values_file_works() {
    let says = "is an absolute path; name a file inside the application directory";
    let generate = |files: &str| {
        let mut cmd = St2k8s::command(&["argocd", "generate"]).in_dir();
        let prod = cmd.file("prod.yaml", "st2auth:\n  replicas: 6\n");
        cmd.file("values.yaml", "{}\n");
        let files = files.replace("ABSOLUTE", &prod);
        for (key, value) in [
            ("ARGOCD_APP_NAME", "chat"),
            ("ARGOCD_ENV_VALUES_FILES", files.as_str()),
            ("ST2K8S_SECRET_SEED", SEED),
        ] {
            cmd = cmd.env(key, value);
        }
        cmd.run()
    };
    check(
        says,
        &generate("ABSOLUTE"),
        &generate("prod.yaml"),
        "argocd",
    );
}
