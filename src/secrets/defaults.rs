//! Warnings for the chart's publicly known backend credentials (values.yaml ships fixed MongoDB
//! and RabbitMQ passwords, replica-set key and Erlang cookie). Only enabled backends are checked;
//! warnings name the key, never its value.

use crate::values::{self, Value};

/// (backend whose `enabled` gates the check, values key holding a published default).
const PUBLISHED_DEFAULTS: &[(&str, &str)] = &[
    ("mongodb", "mongodb.auth.rootPassword"),
    ("mongodb", "mongodb.auth.password"),
    ("mongodb", "mongodb.auth.replicaSetKey"),
    ("rabbitmq", "rabbitmq.auth.password"),
    ("rabbitmq", "rabbitmq.auth.erlangCookie"),
];

/// One warning per credential of an enabled backend that still holds the chart's default.
pub fn default_password_warnings(merged: &Value) -> Vec<String> {
    // The built-in defaults alone; loading them cannot fail (they are tested), and if it ever
    // did there would be nothing to compare against, so no warning is the honest answer.
    let Ok(builtin) = values::builtin() else {
        return Vec::new();
    };
    PUBLISHED_DEFAULTS
        .iter()
        .filter(|(backend, _)| merged.key(backend).key("enabled").truthy())
        .filter(|(_, key)| {
            let default = builtin.at(key);
            !default.is_null() && merged.at(key) == default
        })
        .map(|(_, key)| {
            format!(
                "`{key}` still holds the chart's published default; set your own (`--set {key}=…` or a values \
                 file) or `--set-string {key}=\"\"` to have st2k8s derive one from the secret seed"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Layer, SetKind};

    fn warnings(sets: &[&str]) -> Vec<String> {
        let layers: Vec<Layer> = sets
            .iter()
            .map(|s| Layer::Set {
                kind: SetKind::Set,
                arg: (*s).to_string(),
            })
            .collect();
        match values::load(&layers) {
            Ok(loaded) => default_password_warnings(&loaded.values),
            Err(e) => panic!("values: {e}"),
        }
    }

    fn keys(warnings: &[String]) -> Vec<&str> {
        PUBLISHED_DEFAULTS
            .iter()
            .map(|(_, k)| *k)
            .filter(|k| warnings.iter().any(|w| w.starts_with(&format!("`{k}`"))))
            .collect()
    }

    #[test]
    fn names_each_default_key_of_enabled_backends() {
        let all: Vec<&str> = PUBLISHED_DEFAULTS.iter().map(|(_, k)| *k).collect();
        for (sets, want) in [
            (vec![], all.clone()),
            (vec!["mongodb.enabled=false"], all[3..].to_vec()),
            (vec!["rabbitmq.enabled=false"], all[..3].to_vec()),
            (
                vec!["mongodb.enabled=false", "rabbitmq.enabled=false"],
                vec![],
            ),
            (
                vec![
                    "mongodb.auth.password=mine-and-long",
                    "rabbitmq.auth.erlangCookie=",
                ],
                vec![all[0], all[2], all[3]],
            ),
        ] {
            let got = warnings(&sets);
            assert_eq!(keys(&got), want, "{sets:?}");
            assert_eq!(got.len(), want.len(), "{sets:?}");
        }
    }

    #[test]
    fn never_prints_the_value() {
        let builtin = values::load(&[]).map(|l| l.values).unwrap_or_default();
        for warning in warnings(&[]) {
            for (_, key) in PUBLISHED_DEFAULTS {
                let value = builtin.at(key).to_go_string();
                assert!(!warning.contains(&value), "{warning}");
            }
            assert!(warning.contains("--set-string"), "{warning}");
        }
    }
}
