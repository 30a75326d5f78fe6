//! Warnings for the chart's publicly known backend credentials (values.yaml ships fixed MongoDB
//! and RabbitMQ passwords, replica-set key and Erlang cookie). Only credentials the render uses
//! are checked (enabled backend, authentication on, not replaced by an existing Secret), and each
//! warning suggests a remedy that works in that setting. Warnings name the key, never its value.

use crate::values::{self, Value};

/// A credential the chart publishes a default for, and when the render uses it.
struct Published {
    /// Backend whose `enabled` gates the check.
    backend: &'static str,
    /// The values key holding the published default.
    key: &'static str,
    /// A key that must be true for the value to be used at all.
    used_if: Option<&'static str>,
    /// An existing Secret that, when named, replaces the value: it is not rendered anywhere.
    replaced_by: Option<&'static str>,
    /// An existing Secret that, when named, holds the server's copy while st2 still connects
    /// with the value: it must then be that Secret's password, which st2k8s cannot generate.
    held_by: Option<&'static str>,
}

const PUBLISHED_DEFAULTS: &[Published] = &[
    Published {
        backend: "mongodb",
        key: "mongodb.auth.rootPassword",
        used_if: Some("mongodb.auth.enabled"),
        replaced_by: Some("mongodb.auth.existingSecret"),
        held_by: None,
    },
    Published {
        backend: "mongodb",
        key: "mongodb.auth.password",
        used_if: Some("mongodb.auth.enabled"),
        replaced_by: None,
        held_by: Some("mongodb.auth.existingSecret"),
    },
    Published {
        backend: "mongodb",
        key: "mongodb.auth.replicaSetKey",
        used_if: Some("mongodb.auth.enabled"),
        replaced_by: Some("mongodb.auth.existingSecret"),
        held_by: None,
    },
    Published {
        backend: "rabbitmq",
        key: "rabbitmq.auth.password",
        used_if: None,
        replaced_by: None,
        held_by: Some("rabbitmq.auth.existingPasswordSecret"),
    },
    Published {
        backend: "rabbitmq",
        key: "rabbitmq.auth.erlangCookie",
        used_if: None,
        replaced_by: Some("rabbitmq.auth.existingErlangSecret"),
        held_by: None,
    },
];

/// One warning per credential the render uses that still holds the chart's default.
pub fn default_password_warnings(merged: &Value) -> Vec<String> {
    // The built-in defaults alone; loading them cannot fail (they are tested), and if it ever
    // did there would be nothing to compare against, so no warning is the honest answer.
    let Ok(builtin) = values::builtin() else {
        return Vec::new();
    };
    let set = |key: Option<&str>| key.is_some_and(|k| merged.at(k).truthy());
    PUBLISHED_DEFAULTS
        .iter()
        .filter(|p| merged.key(p.backend).key("enabled").truthy())
        .filter(|p| p.used_if.is_none_or(|k| merged.at(k).truthy()) && !set(p.replaced_by))
        .filter(|p| {
            let default = builtin.at(p.key);
            !default.is_null() && merged.at(p.key) == default
        })
        .map(|p| {
            let key = p.key;
            match p.held_by.filter(|k| merged.at(k).truthy()) {
                Some(secret) => format!(
                    "`{key}` still holds the chart's published default; set it (`--set {key}=…` or a values \
                     file) to the password the Secret named by `{secret}` holds, and change both"
                ),
                None => format!(
                    "`{key}` still holds the chart's published default; set your own (`--set {key}=…` or a values \
                     file) or `--set-string {key}=\"\"` to have st2k8s derive one from the secret seed"
                ),
            }
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
            .map(|p| p.key)
            .filter(|k| warnings.iter().any(|w| w.starts_with(&format!("`{k}`"))))
            .collect()
    }

    #[test]
    fn names_each_default_key_of_enabled_backends() {
        let all: Vec<&str> = PUBLISHED_DEFAULTS.iter().map(|p| p.key).collect();
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
    fn credentials_the_render_does_not_use_are_not_named() {
        let all: Vec<&str> = PUBLISHED_DEFAULTS.iter().map(|p| p.key).collect();
        for (sets, want) in [
            (vec!["mongodb.auth.enabled=false"], all[3..].to_vec()),
            (
                vec!["mongodb.auth.existingSecret=mine"],
                vec![all[1], all[3], all[4]],
            ),
            (
                vec!["rabbitmq.auth.existingErlangSecret=mine"],
                all[..4].to_vec(),
            ),
        ] {
            assert_eq!(keys(&warnings(&sets)), want, "{sets:?}");
        }
    }

    #[test]
    fn with_an_existing_secret_the_password_must_be_given() {
        let got = warnings(&[
            "mongodb.enabled=false",
            "rabbitmq.auth.existingPasswordSecret=mine,rabbitmq.auth.existingErlangSecret=mine",
        ]);
        assert_eq!(
            got,
            [
                "`rabbitmq.auth.password` still holds the chart's published default; set it (`--set \
                 rabbitmq.auth.password=…` or a values file) to the password the Secret named by \
                 `rabbitmq.auth.existingPasswordSecret` holds, and change both"
            ]
        );
    }

    #[test]
    fn never_prints_the_value() {
        let builtin = values::load(&[]).map(|l| l.values).unwrap_or_default();
        for warning in warnings(&[]) {
            for key in PUBLISHED_DEFAULTS.iter().map(|p| p.key) {
                let value = builtin.at(key).to_go_string();
                assert!(!warning.contains(&value), "{warning}");
            }
            assert!(warning.contains("--set-string"), "{warning}");
        }
    }
}
