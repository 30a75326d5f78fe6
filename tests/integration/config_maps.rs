//! No value of any Secret appears in any ConfigMap, in any configuration: ConfigMaps are readable
//! by whoever may read the namespace's configuration and `--output-dir` writes them
//! world-readable. Renders through the library (every scenario, each as is and with backend
//! passwords set, generated or with Redis on), plus the warnings ConfigMap of `argocd generate`.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use st2k8s::object::Object;
use st2k8s::release::Release;
use st2k8s::render::Options;
use st2k8s::secrets::Seed;
use st2k8s::values::{self, Layer, SetKind};

use super::{SEED, Scenario};

/// Secret values shorter than this are not searched for (`abc` is in any script).
const MIN_LEN: usize = 4;

/// Extra `--set` (`true`: `--set`, else `--set-string`) flags each scenario is also rendered with.
const VARIANTS: &[&[(bool, &str)]] = &[
    &[],
    // Every backend password set.
    &[
        (false, "mongodb.auth.password=Mongo-Set-Pw"),
        (false, "mongodb.auth.rootPassword=Mongo-Root-Pw"),
        (false, "rabbitmq.auth.password=Rabbit-Set-Pw"),
        (true, "redis.usePassword=true"),
        (false, "redis.password=Redis-Set-Pw"),
    ],
    // Every backend password empty: generated.
    &[
        (false, "mongodb.auth.password="),
        (false, "rabbitmq.auth.password="),
        (true, "redis.usePassword=true"),
        (false, "redis.password="),
    ],
    // Redis password on, standalone MongoDB, RabbitMQ password kept in a Secret of the user's.
    &[
        (true, "redis.usePassword=true"),
        (false, "mongodb.architecture=standalone"),
        (false, "rabbitmq.auth.existingPasswordSecret=mine"),
        (false, "rabbitmq.auth.password=Rabbit-Own-Pw"),
    ],
    // The st2 admin, the datastore key, an SSH key and chatops tokens given.
    &[
        (false, "st2.password=St2-Admin-Pw"),
        (false, "st2.datastore_crypto_key=Datastore-Key-Given"),
        (false, "st2.ssh_key=Ssh-Key-Given"),
        (true, "st2chatops.enabled=true"),
        (false, "st2chatops.env.HUBOT_SLACK_TOKEN=xoxb-chatops-token"),
    ],
];

/// What a Secret value may leak as: the value itself and, inside a configuration file, each
/// `password = …` option and the password of each `scheme://user:password@` URL.
fn leakable(value: &str, out: &mut BTreeSet<String>) {
    out.insert(value.to_string());
    for line in value.lines() {
        if let Some(password) = line.trim().strip_prefix("password = ") {
            out.insert(password.to_string());
        }
        if let Some(userinfo) = line
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .map(|(userinfo, _)| userinfo)
            && let Some((_, password)) = userinfo.split_once(':')
        {
            out.insert(password.to_string());
        }
    }
}

/// Whether entry `key` of Secret `name` is a secret. A user name is not (the RBAC assignments
/// name the st2 admin, `ST2_AUTH_USERNAME`); and the chatops Secret carries the whole hubot
/// environment, settings too (`HUBOT_ADAPTER: slack`, also the name of a pack's config file), so
/// only its credential-named variables are.
fn is_secret(name: &str, key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    if key.contains("username") {
        return false;
    }
    !name.ends_with("-st2chatops")
        || ["password", "key", "token", "cookie", "secret"]
            .iter()
            .any(|word| key.contains(word))
}

/// Every Secret value of the render (decoded `data`, `stringData`) of at least [`MIN_LEN`].
fn secret_values(objects: &[Object]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for secret in objects.iter().filter(|o| o.kind == "Secret") {
        let body = secret.full_body();
        for (field, encoded) in [("data", true), ("stringData", false)] {
            for (key, value) in body[field].as_object().into_iter().flatten() {
                if !is_secret(&secret.name, key) {
                    continue;
                }
                let text = value.as_str().unwrap_or_default();
                let plain = if encoded {
                    let bytes = STANDARD
                        .decode(text)
                        .unwrap_or_else(|e| panic!("{}: {e}", secret.name));
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    text.to_string()
                };
                leakable(&plain, &mut out);
            }
        }
    }
    // `null` is how an unset list is written (`st2.apikeys`, `st2.keyvalue`), not a secret.
    out.retain(|v| v.len() >= MIN_LEN && v != "null");
    out
}

/// Render `layers` as `argocd generate` would, with the test Pod: the objects plus the warnings
/// ConfigMap.
fn render(layers: &[Layer], release: &Release) -> Vec<Object> {
    let loaded = values::load(layers).unwrap_or_else(|e| panic!("{e:#}"));
    let options = Options {
        secret_seed: Some(
            Seed::from_bytes(SEED.as_bytes().to_vec(), "test").unwrap_or_else(|e| panic!("{e}")),
        ),
        // The test Pod's ConfigMap too.
        include_tests: true,
        ..Options::default()
    };
    let checked = st2k8s::findings::check(&loaded, release, &options, false);
    let mut objects = checked.rendered.unwrap_or_else(|e| panic!("{e:#}")).objects;
    let mut warnings: Vec<String> = checked
        .findings
        .iter()
        .map(st2k8s::findings::line)
        .collect();
    warnings.extend(
        st2k8s::secrets::default_password_warnings(&loaded.values)
            .into_iter()
            .map(|w| format!("warning: {w}")),
    );
    if !warnings.is_empty() {
        objects.push(
            st2k8s::findings::warnings_config_map(release, &warnings)
                .unwrap_or_else(|e| panic!("{e:#}")),
        );
    }
    objects
}

/// The first Secret value found in a ConfigMap's data (keys and values): (ConfigMap, key, value).
fn leak(objects: &[Object]) -> Option<(String, String, String)> {
    let secrets = secret_values(objects);
    for config_map in objects.iter().filter(|o| o.kind == "ConfigMap") {
        let body = config_map.full_body();
        for field in ["data", "binaryData"] {
            for (key, value) in body[field].as_object().into_iter().flatten() {
                let text = value
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| serde_json::to_string(value).unwrap_or_default());
                if let Some(secret) = secrets
                    .iter()
                    .find(|s| text.contains(s.as_str()) || key.contains(s.as_str()))
                {
                    return Some((config_map.name.clone(), key.clone(), secret.clone()));
                }
            }
        }
    }
    None
}

#[test]
fn no_secret_value_appears_in_any_config_map() {
    let (mut checked, mut warned) = (0, 0);
    for scenario in Scenario::all() {
        let text = std::fs::read_to_string(&scenario.values)
            .unwrap_or_else(|e| panic!("{}: {e}", scenario.values.display()));
        let release = Release {
            name: scenario.release.clone(),
            namespace: scenario.namespace.clone(),
        };
        for sets in VARIANTS {
            let mut layers = vec![Layer::File {
                name: scenario.values.display().to_string(),
                text: text.clone(),
            }];
            layers.extend(sets.iter().map(|(typed, arg)| Layer::Set {
                kind: if *typed {
                    SetKind::Set
                } else {
                    SetKind::String
                },
                arg: (*arg).to_string(),
            }));
            let objects = render(&layers, &release);
            assert!(
                objects.iter().any(|o| o.kind == "Secret")
                    && objects.iter().any(|o| o.kind == "ConfigMap"),
                "{}: nothing to compare",
                scenario.name
            );
            if let Some((config_map, key, secret)) = leak(&objects) {
                panic!(
                    "{} with {sets:?}: ConfigMap {config_map} key {key} holds the Secret value `{secret}`",
                    scenario.name
                );
            }
            checked += 1;
            warned += usize::from(
                objects
                    .iter()
                    .any(|o| o.kind == "ConfigMap" && o.name.ends_with("-st2k8s-warnings")),
            );
        }
    }
    assert!(checked >= 5 * 17, "only {checked} renders checked");
    assert!(warned > 0, "no render had a warnings ConfigMap to check");
}

/// The check itself: a Secret value inside a ConfigMap is found, whole or as a password of a
/// configuration file.
#[test]
fn a_secret_value_in_a_config_map_is_found() {
    let objects = |config_map_text: &str, secret_text: &str| {
        let config_map = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
            "data": {"st2.docker.conf": config_map_text}
        });
        let secret = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"f": STANDARD.encode(secret_text)}
        });
        vec![
            Object::from_json("v1", "ConfigMap", "cm".into(), config_map),
            Object::from_json("v1", "Secret", "s".into(), secret),
        ]
    };
    let conf =
        "[messaging]\nurl = amqp://admin:Rabbit-Pw@mq:5672/\n[database]\npassword = Mongo-Pw\n";
    for (config_map, want) in [
        ("url = amqp://admin:Rabbit-Pw@mq:5672/", Some("Rabbit-Pw")),
        ("x = Mongo-Pw", Some("Mongo-Pw")),
        // Found first of the three it holds, in sorted order.
        (conf, Some("Mongo-Pw")),
        ("[messaging]\n[database]\n", None),
    ] {
        assert_eq!(
            leak(&objects(config_map, conf)),
            want.map(|s| (
                "cm".to_string(),
                "st2.docker.conf".to_string(),
                s.to_string()
            )),
            "{config_map}"
        );
    }
}
