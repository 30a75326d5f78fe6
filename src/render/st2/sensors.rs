//! The st2sensorcontainer Deployments: one for all sensors, `N` hash-range partitions
//! (`st2sensorcontainer.deployments: N`), or one per `st2.packs.sensors` entry, each entry
//! overriding `st2sensorcontainer` settings key by key (a shallow merge, as in the chart).

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::Container;

use super::packs::{self, Access};
use super::scaling;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::kit::{empty_dir, mount, mount_file_ro};
use crate::render::pod::containers::{
    env, post_start_lifecycle, security_context, st2_command, urls_and_secrets, wait_for_backends,
};
use crate::render::pod::convert::{Setting, required, resources, typed_if_set};
use crate::render::pod::volumes::{self, Piece};
use crate::render::pod::{InitContainers, Placement, PodPlan, checksums, pod_security_context};
use crate::values::{Map, Value, View};

/// Upper end of the sensor hash space (the chart's `max_hash`).
const MAX_HASH: i64 = 4_294_967_296;

/// How sensors are spread over pods.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    AllInOne,
    /// One of `st2sensorcontainer.deployments` partitions, owning the sensors whose hash falls in `range`.
    Partition {
        range: String,
    },
    /// The single sensor `ref`.
    OnePerPod {
        sensor_ref: String,
    },
}

impl Mode {
    fn annotation(&self) -> &'static str {
        match self {
            Mode::AllInOne => "all-sensors-in-one-pod",
            Mode::Partition { .. } => "multiple-sensors-per-pod",
            Mode::OnePerPod { .. } => "one-sensor-per-pod",
        }
    }
}

/// `start..end` of partition `i` of `n`: equal slices of the hash space, the last one reaching
/// [`MAX_HASH`] to absorb the rounding.
fn hash_range(i: i64, n: i64) -> String {
    let size = (MAX_HASH + 1) / n;
    let start = i * size;
    let end = if i + 1 == n {
        MAX_HASH
    } else {
        start + size - 1
    };
    format!("{start}..{end}")
}

/// `max(1, int(st2sensorcontainer.deployments))`.
fn partitions(ctx: &Ctx) -> i64 {
    let n = match ctx.v("st2sensorcontainer.deployments").value() {
        Value::Int(i) => *i,
        Value::Float(f) => f.trunc() as i64,
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    };
    n.max(1)
}

/// One sensor Deployment's settings: `st2sensorcontainer` minus the keys that do not apply
/// per pod, with the sensor entry's keys replacing whole values.
struct Sensor<'v> {
    settings: Value,
    /// The `st2.packs.sensors` entry and its index (one-sensor-per-pod).
    entry: Option<(usize, &'v Value)>,
}

impl Sensor<'_> {
    /// The values key a setting came from, for error messages.
    fn key(&self, field: &str) -> String {
        match self.entry {
            Some((i, entry)) if entry.as_map().is_some_and(|m| m.contains_key(field)) => {
                format!("st2.packs.sensors[{i}].{field}")
            }
            _ => format!("st2sensorcontainer.{field}"),
        }
    }

    fn get(&self, field: &str) -> &Value {
        self.settings.key(field)
    }

    /// The setting `field` as a fallback-chain link.
    fn setting(&self, field: &str) -> Setting<'_> {
        (self.get(field), self.key(field))
    }
}

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let n = partitions(ctx);
    let entries = ctx.v("st2.packs.sensors").as_list();
    if !entries.is_empty() && n > 1 {
        bail!(
            "The sensor values are ambiguous. To use one-sensor-per-pod, use `st2.packs.sensors`. To use multiple-sensors-per-pod, use `st2sensorcontainer.deployments > 1`. Do not use both!"
        );
    }
    let mut base: Map = ctx
        .v("st2sensorcontainer")
        .as_map()
        .cloned()
        .unwrap_or_default();
    for omitted in ["name", "ref", "deployments", "postStartScript"] {
        base.remove(omitted);
    }
    let mut out = Vec::new();
    if !entries.is_empty() {
        for (i, entry) in entries.iter().enumerate() {
            let mut settings = base.clone();
            for (k, v) in entry.entries() {
                settings.insert(k.clone(), v.clone());
            }
            let sensor = Sensor {
                settings: Value::Map(settings),
                entry: Some((i, entry)),
            };
            let sensor_ref = required(sensor.get("ref"), || {
                "You must define `ref` for everything in st2.packs.sensors. This assigns each sensor to a pod.".into()
            })?
            .to_go_string();
            let objects = deployment(ctx, &sensor, &Mode::OnePerPod { sensor_ref })?;
            let name = sensor.get("name");
            out.extend(objects.into_iter().map(|object| {
                if name.truthy() {
                    object.named_by(format!("st2.packs.sensors[{i}].name"), name.to_go_string())
                } else {
                    object
                }
            }));
        }
    } else if n > 1 {
        for i in 0..n {
            let mut settings = base.clone();
            settings.insert("name".into(), Value::String(i.to_string()));
            let sensor = Sensor {
                settings: Value::Map(settings),
                entry: None,
            };
            out.extend(deployment(
                ctx,
                &sensor,
                &Mode::Partition {
                    range: hash_range(i, n),
                },
            )?);
        }
    } else {
        let sensor = Sensor {
            settings: Value::Map(base),
            entry: None,
        };
        out.extend(deployment(ctx, &sensor, &Mode::AllInOne)?);
    }
    Ok(out)
}

/// The partition's config file, written by its init container.
fn partition_config(name: &str, range: &str) -> String {
    format!(
        "cat <<EOT > /tmp/st2/st2.sensorcontainer.conf\n[sensorcontainer]\nsensor_node_name = {name}\npartition_provider = name:hash, hash_ranges:{range}\nsingle_sensor_mode = False\nEOT\n"
    )
}

fn deployment(ctx: &Ctx, sensor: &Sensor, mode: &Mode) -> Result<Vec<Object>> {
    let suffix = sensor.get("name");
    let name = if suffix.truthy() {
        format!("st2sensorcontainer-{}", suffix.to_go_string())
    } else {
        "st2sensorcontainer".to_string()
    };
    // Only the global post-start script applies; a per-sensor one is ignored, as in the chart.
    let script = ctx.v("st2sensorcontainer.postStartScript");
    let post_start = script.truthy();

    let mut plan = PodPlan {
        name: name.clone(),
        pull_secrets: packs::pull_secrets(ctx),
        service_account: sensor.get("serviceAccount").key("attach").truthy(),
        security_context: pod_security_context(ctx, vec![sensor.setting("podSecurityContext")])?,
        // A merged copy of `st2sensorcontainer` and the entry, both read whole above.
        placement: Placement::of(
            ctx,
            &View::root(&sensor.settings, Default::default()),
            |f| sensor.key(f),
        )?,
        ..Default::default()
    };
    plan.checksums.push(checksums::config(ctx));
    plan.checksums.push(checksums::packs(ctx));
    plan.checksums.extend(checksums::datastore_key(ctx));
    plan.hash_post_start_script(script.value());
    plan.annotations
        .insert("stackstorm/sensor-mode".into(), mode.annotation().into());
    let mut init = Vec::new();
    let mut partition = Piece::default();
    let mut extra_args = Vec::new();
    match mode {
        Mode::AllInOne => {}
        Mode::Partition { range } => {
            plan.annotations
                .insert("stackstorm/sensor-hash-ranges".into(), range.clone());
            init.push(Container {
                name: format!("{name}-init-config"),
                image: Some(images::utility(ctx)),
                image_pull_policy: images::pull_policy(ctx),
                volume_mounts: Some(vec![mount("st2-sensor-config-vol", "/tmp/st2")]),
                command: Some(vec![
                    "sh".into(),
                    "-ec".into(),
                    partition_config(&name, range),
                ]),
                ..Default::default()
            });
            partition = Piece::one(
                mount_file_ro(
                    "st2-sensor-config-vol",
                    "/etc/st2/st2.sensorcontainer.conf",
                    "st2.sensorcontainer.conf",
                ),
                empty_dir("st2-sensor-config-vol", true),
            );
            extra_args.push("--config-file=/etc/st2/st2.sensorcontainer.conf".to_string());
        }
        Mode::OnePerPod { sensor_ref } => {
            extra_args.push("--single-sensor-mode".into());
            extra_args.push(format!("--sensor-ref={sensor_ref}"));
        }
    }
    plan.annotations
        .extend(crate::render::kit::string_map(sensor.get("annotations")));
    init.extend(wait_for_backends(ctx)?);
    plan.share_inits(init.len(), packs::deployment_init_containers(ctx)?);
    plan.init_containers = InitContainers::Listed(init);

    let datastore = volumes::datastore_key(ctx);
    let pod = Piece::join_led_by(
        &datastore,
        &[
            &volumes::config(ctx),
            &packs::volumes(ctx, Access::Deployment)?,
            &partition,
            &datastore,
            &volumes::extra(ctx, sensor.get("extra_volumes"), "$sensor")?,
            &volumes::post_start(ctx, "st2sensorcontainer", post_start),
        ],
    );
    plan.volumes = pod.volumes;

    let tag_key = format!("{}.tag", sensor.key("image"));
    let tag = match sensor.get("image").key("tag") {
        Value::String(t) if !t.is_empty() => ctx.tpl(t, &tag_key)?,
        other if other.truthy() => {
            return Err(crate::tpl::TplError::not_a_string(&tag_key, other).into());
        }
        _ => ctx.tpl_value("image.tag")?,
    };
    let mut command = st2_command(ctx, "st2sensorcontainer");
    command.extend(extra_args);
    plan.containers = vec![Container {
        name: name.clone(),
        image: Some(format!(
            "{}/st2sensorcontainer:{tag}",
            images::repository(ctx)
        )),
        image_pull_policy: images::pull_policy(ctx),
        security_context: security_context(ctx, vec![sensor.setting("securityContext")])?,
        readiness_probe: typed_if_set(
            ctx,
            sensor.get("readinessProbe"),
            &sensor.key("readinessProbe"),
        )?,
        liveness_probe: typed_if_set(
            ctx,
            sensor.get("livenessProbe"),
            &sensor.key("livenessProbe"),
        )?,
        command: Some(command),
        env: env(sensor.get("env")),
        env_from: Some(urls_and_secrets(ctx, sensor.get("envFromSecrets"))),
        volume_mounts: Some(pod.mounts),
        lifecycle: post_start.then(|| post_start_lifecycle(None)),
        resources: resources(ctx, sensor.get("resources"), &sensor.key("resources"))?,
        ..Default::default()
    }];
    scaling::deployment(
        ctx,
        plan,
        "st2sensorcontainer",
        sensor.setting("autoscaling"),
        1,
        sensor.get("annotations"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ranges_split_the_space_and_end_at_max() {
        assert_eq!(hash_range(0, 2), "0..2147483647");
        assert_eq!(hash_range(1, 2), "2147483648..4294967296");
        let three: Vec<String> = (0..3).map(|i| hash_range(i, 3)).collect();
        assert_eq!(
            three,
            [
                "0..1431655764",
                "1431655765..2863311529",
                "2863311530..4294967296"
            ]
        );
        assert_eq!(hash_range(0, 1), "0..4294967296");
    }
}
