//! The Kubernetes building blocks every builder shares, st2 and bundled backends alike: volume
//! mounts, volumes, probes and string maps.
//!
//! These are plain constructors of k8s-openapi structs with no knowledge of any chart: each exists
//! once so that st2 and the backends spell a mount, a ConfigMap volume or a timed probe the same
//! way. Chart-specific fragments (the st2 config files, a backend's health scripts) stay with their
//! builders and are made from these.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, EnvVar, EnvVarSource, ExecAction, KeyToPath,
    ObjectFieldSelector, Probe, SecretKeySelector, SecretVolumeSource, Volume, VolumeMount,
};

use serde_json::Value as Json;

use crate::values::Value;

/// A mount of volume `name` at `path`.
pub fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        ..Default::default()
    }
}

/// A mount of one file (`sub_path`) of volume `name` at `path`.
pub fn mount_file(name: &str, path: &str, sub_path: &str) -> VolumeMount {
    VolumeMount {
        sub_path: Some(sub_path.into()),
        ..mount(name, path)
    }
}

/// A read-only mount of one file (`sub_path`) of volume `name` at `path`.
pub fn mount_file_ro(name: &str, path: &str, sub_path: &str) -> VolumeMount {
    VolumeMount {
        read_only: Some(true),
        ..mount_file(name, path, sub_path)
    }
}

/// A mount with an explicit `readOnly` (charts write `readOnly: false` in places).
pub fn mount_ro(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        read_only: Some(read_only),
        ..mount(name, path)
    }
}

/// A volume `name` holding ConfigMap `config_map`.
pub fn config_map_volume(name: &str, config_map: String) -> Volume {
    config_map_volume_mode(name, config_map, None)
}

/// [`config_map_volume`] with the files' `defaultMode` (`0o755` for scripts).
pub fn config_map_volume_mode(name: &str, config_map: String, mode: Option<i32>) -> Volume {
    Volume {
        name: name.into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map,
            default_mode: mode,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A volume `name` holding Secret `secret` (all keys, or only `items`).
pub fn secret_volume(name: &str, secret: String, items: Option<Vec<KeyToPath>>) -> Volume {
    secret_volume_mode(name, secret, items, None)
}

/// [`secret_volume`] with the files' `defaultMode`.
pub fn secret_volume_mode(
    name: &str,
    secret: String,
    items: Option<Vec<KeyToPath>>,
    mode: Option<i32>,
) -> Volume {
    Volume {
        name: name.into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret),
            items,
            default_mode: mode,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An `emptyDir` volume, in memory (`medium: Memory`) or on disk (`emptyDir: {}`).
pub fn empty_dir(name: &str, memory: bool) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: memory.then(|| "Memory".to_string()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An environment variable `name` with a literal value.
pub fn env_value(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

/// An environment variable `name` from the pod's own field `path` (`metadata.name`…).
pub fn env_field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An environment variable `name` from key `key` of Secret `secret`, marked `optional: true`
/// when `optional` (else the field is left out, as the charts do).
pub fn env_secret(
    name: &str,
    secret: impl Into<String>,
    key: impl Into<String>,
    optional: bool,
) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: optional.then_some(true),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A probe running `command`.
pub fn exec_probe<S: Into<String>>(command: impl IntoIterator<Item = S>) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(command.into_iter().map(Into::into).collect()),
        }),
        ..Default::default()
    }
}

/// `check` with the five timing fields (`initialDelaySeconds`, `periodSeconds`,
/// `timeoutSeconds`, `successThreshold`, `failureThreshold`) read by `timing`, which is given
/// each field's name: the shape of every chart's `livenessProbe` / `readinessProbe` block.
pub fn timed_probe(check: Probe, timing: impl Fn(&str) -> Result<i32>) -> Result<Probe> {
    Ok(Probe {
        initial_delay_seconds: Some(timing("initialDelaySeconds")?),
        period_seconds: Some(timing("periodSeconds")?),
        timeout_seconds: Some(timing("timeoutSeconds")?),
        success_threshold: Some(timing("successThreshold")?),
        failure_threshold: Some(timing("failureThreshold")?),
        ..check
    })
}

/// A values map printed as strings (labels, annotations, node selectors).
pub fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .entries()
        .map(|(k, v)| (k.clone(), v.to_go_string()))
        .collect()
}

/// Put an explicit `null` at `field` of the container named `container` in the pod spec's `list`
/// (`containers` or `initContainers`), or, with `mount`, of that container's volume mount named
/// `mount`. Containers and mounts are found by name, never by position, so a container or mount
/// added before them cannot be patched by mistake; a name that is missing or names two entries is
/// an internal error rather than a silent no-op.
pub fn set_null_in_pod(
    pod: &mut Json,
    list: &str,
    container: &str,
    mount: Option<&str>,
    field: &str,
) -> Result<()> {
    let target = named_entry(pod.get_mut(list), container)
        .ok_or_else(|| anyhow::anyhow!("internal: no single container {container:?} in {list}"))?;
    let target = match mount {
        None => target,
        Some(mount) => named_entry(target.get_mut("volumeMounts"), mount).ok_or_else(|| {
            anyhow::anyhow!("internal: no single volume mount {mount:?} in container {container:?}")
        })?,
    };
    match target {
        Json::Object(map) => {
            map.insert(field.to_string(), Json::Null);
            Ok(())
        }
        _ => bail!("internal: container {container:?} in {list} is not a map"),
    }
}

/// The one entry of the JSON list `list` whose `name` is `name`, if exactly one has it.
fn named_entry<'a>(list: Option<&'a mut Json>, name: &str) -> Option<&'a mut Json> {
    let mut matching = list?
        .as_array_mut()?
        .iter_mut()
        .filter(|entry| entry.get("name").and_then(Json::as_str) == Some(name));
    let first = matching.next()?;
    matching.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timed_probe_reads_every_timing_field_and_keeps_the_check() -> Result<()> {
        let fields = ["initialDelaySeconds", "periodSeconds", "timeoutSeconds"];
        let probe = timed_probe(exec_probe(["sh", "-c", "true"]), |field| {
            Ok(fields
                .iter()
                .position(|f| *f == field)
                .map_or(9, |i| i32::try_from(i).unwrap_or(-1)))
        })?;
        assert_eq!(
            probe.exec.and_then(|e| e.command),
            Some(vec!["sh".to_string(), "-c".into(), "true".into()])
        );
        assert_eq!(
            [
                probe.initial_delay_seconds,
                probe.period_seconds,
                probe.timeout_seconds,
                probe.success_threshold,
                probe.failure_threshold
            ],
            [Some(0), Some(1), Some(2), Some(9), Some(9)]
        );
        Ok(())
    }

    #[test]
    fn timed_probe_passes_on_the_first_error() {
        let result = timed_probe(Probe::default(), |field| anyhow::bail!("bad {field}"));
        assert_eq!(
            result.map_err(|e| e.to_string()),
            Err("bad initialDelaySeconds".to_string())
        );
    }

    #[test]
    fn empty_dir_and_read_only_mounts() -> Result<()> {
        let disk = serde_json::to_value(empty_dir("d", false))?;
        assert_eq!(disk, serde_json::json!({"name": "d", "emptyDir": {}}));
        let memory = serde_json::to_value(empty_dir("m", true))?;
        assert_eq!(
            memory,
            serde_json::json!({"name": "m", "emptyDir": {"medium": "Memory"}})
        );
        let explicit = serde_json::to_value(mount_ro("v", "/p", false))?;
        assert_eq!(
            explicit,
            serde_json::json!({"name": "v", "mountPath": "/p", "readOnly": false})
        );
        Ok(())
    }

    #[test]
    fn set_null_in_pod_finds_containers_and_mounts_by_name() -> Result<()> {
        let mut pod = serde_json::json!({
            "initContainers": [{"name": "init", "volumeMounts": [{"name": "data"}]}],
            "containers": [
                {"name": "added", "volumeMounts": [{"name": "data"}]},
                {"name": "sentinel", "volumeMounts": [{"name": "health"}, {"name": "data"}]},
            ],
        });
        set_null_in_pod(&mut pod, "containers", "sentinel", Some("data"), "subPath")?;
        set_null_in_pod(&mut pod, "containers", "sentinel", None, "resources")?;
        set_null_in_pod(&mut pod, "initContainers", "init", Some("data"), "subPath")?;
        assert_eq!(
            pod,
            serde_json::json!({
                "initContainers": [
                    {"name": "init", "volumeMounts": [{"name": "data", "subPath": null}]}
                ],
                "containers": [
                    {"name": "added", "volumeMounts": [{"name": "data"}]},
                    {
                        "name": "sentinel",
                        "resources": null,
                        "volumeMounts": [{"name": "health"}, {"name": "data", "subPath": null}],
                    },
                ],
            })
        );
        Ok(())
    }

    #[test]
    fn set_null_in_pod_refuses_missing_or_ambiguous_names() {
        let mut pod = serde_json::json!({
            "containers": [{"name": "a", "volumeMounts": [{"name": "m"}, {"name": "m"}]}],
        });
        let before = pod.clone();
        let mut error = |container, mount| {
            set_null_in_pod(&mut pod, "containers", container, mount, "subPath")
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            error("b", None),
            Err(r#"internal: no single container "b" in containers"#.to_string())
        );
        assert_eq!(
            error("a", Some("m")),
            Err(r#"internal: no single volume mount "m" in container "a""#.to_string())
        );
        assert_eq!(
            error("a", Some("x")),
            Err(r#"internal: no single volume mount "x" in container "a""#.to_string())
        );
        assert_eq!(pod, before);
    }

    #[test]
    fn env_vars_from_values_fields_and_secrets() -> Result<()> {
        let json = |e: EnvVar| serde_json::to_value(e);
        assert_eq!(
            json(env_value("A", "1"))?,
            serde_json::json!({"name": "A", "value": "1"})
        );
        assert_eq!(
            json(env_field("POD", "metadata.name"))?,
            serde_json::json!({"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
        );
        assert_eq!(
            json(env_secret("P", "s", "k", false))?,
            serde_json::json!({"name": "P", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})
        );
        assert_eq!(
            json(env_secret("P", "s", "k", true))?["valueFrom"]["secretKeyRef"]["optional"],
            true
        );
        Ok(())
    }
}
