//! Counts in the values that multiply work, checked before anything is built.
//!
//! A few bytes of values can ask for unbounded work: `st2sensorcontainer.deployments: 100000`
//! builds a hundred thousand Deployments (seconds and gigabytes before any output check could
//! see them), `mongodb.replicaCount: 10000000` lists ten million hosts in st2.conf. Each count is
//! capped well above what a real release uses (the large benchmark release has 100 sensor
//! partitions, 50 pack images and 50 hooks), and beyond what the software behind it supports
//! where it has a limit (a MongoDB replica set has at most 50 members). What the caps leave, a
//! block copied into every pod, is bounded by the output cap of the writer.

use anyhow::{Result, bail};

use crate::values::Value;

/// One count: the values key, the most st2k8s renders, and why.
struct Limit {
    key: &'static str,
    max: usize,
    why: &'static str,
}

/// Per-pod objects and lists whose length multiplies objects or what every pod holds.
const MANY: &str = "every one is a workload or is copied into every pod";

const LIMITS: [Limit; 6] = [
    Limit {
        key: "st2sensorcontainer.deployments",
        max: 256,
        why: MANY,
    },
    Limit {
        key: "st2.packs.sensors",
        max: 256,
        why: MANY,
    },
    Limit {
        key: "jobs.extra_hooks",
        max: 256,
        why: MANY,
    },
    Limit {
        key: "st2.packs.images",
        max: 256,
        why: MANY,
    },
    Limit {
        key: "mongodb.replicaCount",
        max: 50,
        why: "a MongoDB replica set has at most 50 members",
    },
    Limit {
        key: "redis.cluster.slaveCount",
        max: 256,
        why: "every node is listed in st2.conf's coordination URL",
    },
];

/// The count a value asks for: a list's length, or a number as the builders read it (a
/// string holding a number counts; anything else asks for nothing).
fn asked(value: &Value) -> Option<u128> {
    match value {
        Value::List(items) => Some(items.len() as u128),
        Value::Int(i) => u128::try_from(*i).ok(),
        Value::Float(f) if *f >= 0.0 => Some(*f as u128),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Refuse any capped count the values exceed, naming the key, the cap and why.
pub fn check(values: &Value) -> Result<()> {
    for limit in &LIMITS {
        if let Some(n) = asked(values.at(limit.key))
            && n > limit.max as u128
        {
            bail!(
                "`{}` asks for more than st2k8s renders: at most {} ({})",
                limit.key,
                limit.max,
                limit.why
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::values;

    #[test]
    fn counts_past_their_cap_are_refused_with_the_key() {
        assert!(check(&values("{}")).is_ok());
        assert!(check(&values("st2sensorcontainer: {deployments: 256}\n")).is_ok());
        let message = |yaml: &str| check(&values(yaml)).map_err(|e| e.to_string()).err();
        assert_eq!(
            message("st2sensorcontainer: {deployments: 100000}\n").as_deref(),
            Some(
                "`st2sensorcontainer.deployments` asks for more than st2k8s renders: at most 256 (every one is a workload or is copied into every pod)"
            )
        );
        assert_eq!(
            message("st2sensorcontainer: {deployments: '1e9'}\n"),
            None,
            "not a whole number: the sensor builder reports it"
        );
        assert_eq!(
            message("mongodb: {replicaCount: \"10000000\"}\n").as_deref(),
            Some(
                "`mongodb.replicaCount` asks for more than st2k8s renders: at most 50 (a MongoDB replica set has at most 50 members)"
            )
        );
        let hooks = format!(
            "jobs:\n  extra_hooks:\n{}",
            "    - {name: h, hook: pre-install, command: [x]}\n".repeat(257)
        );
        assert_eq!(
            message(&hooks).as_deref(),
            Some(
                "`jobs.extra_hooks` asks for more than st2k8s renders: at most 256 (every one is a workload or is copied into every pod)"
            )
        );
        assert!(message("redis: {cluster: {slaveCount: 9999999999999999999999}}\n").is_some());
    }
}
