//! Unit tests of the MongoDB builders: naming, images, credentials, architecture switches,
//! validation and the unsupported-key report.

use serde_json::{Value as Json, json};

use super::{fullname, objects};
use crate::render::backends::bitnami_image;
use crate::render::test_support::with_release;

/// The rendered MongoDB objects as (kind, name, body).
fn render(yaml: &str) -> Vec<(String, String, Json)> {
    with_release("st2", yaml, |ctx| objects(ctx).expect("mongodb renders"))
        .into_iter()
        .map(|o| (o.kind.clone(), o.name.clone(), o.body().clone()))
        .collect()
}

fn find<'a>(objects: &'a [(String, String, Json)], kind: &str, name: &str) -> Option<&'a Json> {
    objects
        .iter()
        .find(|(k, n, _)| k == kind && n == name)
        .map(|(_, _, body)| body)
}

fn kinds_and_names(objects: &[(String, String, Json)]) -> Vec<String> {
    let mut out: Vec<String> = objects.iter().map(|(k, n, _)| format!("{k}/{n}")).collect();
    out.sort();
    out
}

#[test]
fn fullname_follows_the_bitnami_rule() {
    for (release, extra, want) in [
        ("st2", "", "st2-mongodb"),
        ("my-mongodb", "", "my-mongodb"),
        ("st2", "  nameOverride: db\n", "st2-db"),
        ("st2db", "  nameOverride: db\n", "st2db"),
        ("st2", "  fullnameOverride: custom-\n", "custom"),
        (
            "st2",
            &format!("  fullnameOverride: {}\n", "x".repeat(70)),
            &"x".repeat(63),
        ),
    ] {
        let got = with_release(release, &format!("mongodb:\n{extra}"), fullname);
        assert_eq!(got, want, "release {release}, values {extra:?}");
    }
}

#[test]
fn images_move_to_bitnamilegacy_only_on_docker_hub() {
    for (yaml, want) in [
        ("{}", "docker.io/bitnamilegacy/mongodb:4.4"),
        (
            "mongodb: {image: {tag: 4.4.18}}",
            "docker.io/bitnamilegacy/mongodb:4.4.18",
        ),
        (
            "mongodb: {image: {repository: acme/mongo}}",
            "docker.io/acme/mongo:4.4",
        ),
        (
            "mongodb: {image: {registry: mirror.local}}",
            "mirror.local/bitnami/mongodb:4.4",
        ),
        (
            "global: {imageRegistry: reg.io}",
            "reg.io/bitnami/mongodb:4.4",
        ),
    ] {
        let got = with_release("st2", yaml, |ctx| {
            bitnami_image(
                ctx.v("mongodb.image"),
                ctx.v("mongodb.global"),
                "mongodb.image",
            )
            .expect("image")
        });
        assert_eq!(got, want, "{yaml}");
    }
    let missing = with_release("st2", "mongodb: {image: {tag: ''}}", |ctx| {
        bitnami_image(
            ctx.v("mongodb.image"),
            ctx.v("mongodb.global"),
            "mongodb.image",
        )
    });
    assert!(missing.is_err());
}

#[test]
fn secret_uses_explicit_values_and_generates_the_rest() {
    let objects = render("mongodb: {auth: {rootPassword: '', password: pw, replicaSetKey: key}}");
    let data = &find(&objects, "Secret", "st2-mongodb").expect("secret")["data"];
    let decode = |key: &str| {
        use base64::Engine;
        let raw = data[key].as_str().expect("base64 string");
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(raw)
                .expect("base64"),
        )
        .expect("utf8")
    };
    assert_eq!(decode("mongodb-password"), "pw");
    assert_eq!(decode("mongodb-replica-set-key"), "key");
    let generated = decode("mongodb-root-password");
    assert_eq!(generated.len(), 10);
    assert!(generated.chars().all(|c| c.is_ascii_alphanumeric()));
}

#[test]
fn architecture_decides_the_objects() {
    let replicaset = kinds_and_names(&render("{}"));
    assert_eq!(
        replicaset,
        [
            "ConfigMap/st2-mongodb-scripts",
            "Secret/st2-mongodb",
            "Service/st2-mongodb-headless",
            "ServiceAccount/st2-mongodb",
            "StatefulSet/st2-mongodb",
        ]
    );
    let standalone = render(
        "mongodb: {architecture: standalone, arbiter: {enabled: true}, metrics: {enabled: true}}",
    );
    assert_eq!(
        kinds_and_names(&standalone),
        [
            "Deployment/st2-mongodb",
            "PersistentVolumeClaim/st2-mongodb",
            "Secret/st2-mongodb",
            "Service/st2-mongodb",
            "Service/st2-mongodb-metrics",
            "ServiceAccount/st2-mongodb",
        ]
    );
    let secret = find(&standalone, "Secret", "st2-mongodb").expect("secret");
    assert!(
        secret["data"].get("mongodb-replica-set-key").is_none(),
        "no replica-set key in standalone mode"
    );
    let deployment = find(&standalone, "Deployment", "st2-mongodb").expect("deployment");
    assert_eq!(
        deployment.pointer("/spec/template/spec/volumes/0/persistentVolumeClaim/claimName"),
        Some(&json!("st2-mongodb"))
    );
}

#[test]
fn replica_set_statefulset_keeps_the_charts_identity() {
    let objects =
        render("mongodb: {replicaCount: 2, persistence: {size: 20Gi, storageClass: '-'}}");
    let sts = find(&objects, "StatefulSet", "st2-mongodb").expect("statefulset");
    assert_eq!(sts["spec"]["serviceName"], "st2-mongodb-headless");
    assert_eq!(sts["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(sts["spec"]["replicas"], 2);
    assert_eq!(
        sts["spec"]["selector"],
        json!({"matchLabels": {
            "app.kubernetes.io/name": "mongodb",
            "app.kubernetes.io/instance": "st2",
            "app.kubernetes.io/component": "mongodb",
        }})
    );
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"],
        json!([{
            "metadata": {"name": "datadir"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "20Gi"}},
                "storageClassName": "",
            },
        }])
    );
    assert_eq!(
        sts.pointer("/spec/template/spec/containers/0/volumeMounts/0/subPath"),
        Some(&Json::Null)
    );
    assert_eq!(sts["metadata"]["namespace"], "ns");
}

#[test]
fn arbiter_and_pdbs_use_current_apis() {
    let objects =
        render("mongodb: {arbiter: {enabled: true, pdb: {create: true}}, pdb: {create: true}}");
    let names = kinds_and_names(&objects);
    for want in [
        "PodDisruptionBudget/st2-mongodb",
        "PodDisruptionBudget/st2-mongodb-arbiter",
        "Service/st2-mongodb-arbiter-headless",
        "StatefulSet/st2-mongodb-arbiter",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    let pdb = find(&objects, "PodDisruptionBudget", "st2-mongodb").expect("pdb");
    assert_eq!(pdb["apiVersion"], "policy/v1");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    let arbiter = find(&objects, "StatefulSet", "st2-mongodb-arbiter").expect("arbiter");
    assert_eq!(
        arbiter.pointer("/spec/template/spec/initContainers"),
        Some(&Json::Null)
    );
    assert!(arbiter["spec"].get("replicas").is_none());
}

#[test]
fn setup_script_picks_the_role_by_ordinal() {
    let objects = render("{}");
    let script =
        find(&objects, "ConfigMap", "st2-mongodb-scripts").expect("scripts")["data"]["setup.sh"]
            .as_str()
            .expect("script text")
            .to_string();
    assert!(script.starts_with("#!/bin/bash\n"));
    assert!(script.contains("${MY_POD_NAME##*-}"));
    assert!(script.contains("MONGODB_REPLICA_SET_MODE=secondary"));
    assert!(script.contains(
        "exec /opt/bitnami/scripts/mongodb/entrypoint.sh /opt/bitnami/scripts/mongodb/run.sh"
    ));
}

#[test]
fn invalid_values_are_errors() {
    for yaml in [
        "mongodb: {architecture: sharded}",
        "mongodb: {auth: {username: u, database: ''}}",
        "mongodb: {replicaCount: many}",
        "mongodb: {tolerations: [{effect: [1]}]}",
    ] {
        let result = with_release("st2", yaml, |ctx| objects(ctx).map(|_| ()));
        let message = format!("{:#}", result.expect_err(yaml));
        assert!(message.contains("`mongodb."), "{yaml}: {message}");
    }
}

#[test]
fn unsupported_keys_name_changed_keys_st2k8s_ignores() {
    for (yaml, want) in [
        ("{}", vec![]),
        (
            "mongodb: {replicaCount: 5, auth: {password: x}, affinity: {a: b}}",
            vec![],
        ),
        ("mongodb: {tls: {enabled: false}}", vec![]),
        (
            "mongodb: {tls: {enabled: true}, externalAccess: {enabled: true}, typo: 1, metrics: {enabled: true, serviceMonitor: {enabled: true}}}",
            vec![
                "mongodb.externalAccess.enabled",
                "mongodb.metrics.serviceMonitor.enabled",
                "mongodb.tls.enabled",
                "mongodb.typo",
            ],
        ),
        ("mongodb: {enabled: false, tls: {enabled: true}}", vec![]),
        // With the exporter off, the chart has nothing to monitor: its settings are not read.
        (
            "mongodb: {metrics: {enabled: false, serviceMonitor: {enabled: true}}}",
            vec![],
        ),
    ] {
        let got = crate::render::test_support::unread(yaml);
        assert_eq!(got, want, "{yaml}");
    }
}
