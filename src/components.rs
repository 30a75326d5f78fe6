//! The StackStorm components the chart deploys, and which of them each st2k8s feature applies
//! to. One list per fact, read by the builders, the values schema and the Argo CD parameter
//! announcement, so that a component added or reclassified changes everywhere at once.

/// Every st2 component with its own values section, in the chart's order.
pub const ALL: [&str; 14] = [
    "st2auth",
    "st2api",
    "st2stream",
    "st2web",
    "st2rulesengine",
    "st2timersengine",
    "st2workflowengine",
    "st2scheduler",
    "st2notifier",
    "st2sensorcontainer",
    "st2actionrunner",
    "st2garbagecollector",
    "st2client",
    "st2chatops",
];

/// Components StackStorm runs active-active: any number of pods share the work, so they take a
/// replica count that matters, an autoscaler and a disruption budget.
pub const ACTIVE_ACTIVE: [&str; 9] = [
    "st2web",
    "st2auth",
    "st2api",
    "st2stream",
    "st2rulesengine",
    "st2workflowengine",
    "st2scheduler",
    "st2notifier",
    "st2actionrunner",
];

/// Why each component StackStorm does not run active-active must run as one pod (so it refuses
/// an autoscaler): every component is in [`ACTIVE_ACTIVE`] or here.
pub const SINGLE_POD: [(&str, &str); 5] = [
    (
        "st2timersengine",
        "every st2timersengine pod fires every timer, so it must run as one pod",
    ),
    (
        "st2garbagecollector",
        "st2garbagecollector only runs periodic clean-ups; more pods repeat the same work",
    ),
    (
        "st2chatops",
        "hubot holds one connection to the chat service; a second pod would answer every message twice",
    ),
    ("st2client", "st2client is one idle pod for `kubectl exec`"),
    (
        "st2sensorcontainer",
        "a copy of a sensor pod emits every trigger twice; spread sensors with `st2sensorcontainer.deployments` or `st2.packs.sensors` instead",
    ),
];

/// Why `component` must run as one pod; `None` when StackStorm runs it active-active.
pub fn single_pod_reason(component: &str) -> Option<&'static str> {
    SINGLE_POD
        .iter()
        .find(|(name, _)| *name == component)
        .map(|(_, reason)| *reason)
}

/// Components whose `replicas` the user sets: the active-active ones, and the garbage
/// collector, which the chart lets scale although one pod does all the work.
pub fn scalable() -> impl Iterator<Item = &'static str> {
    ACTIVE_ACTIVE.into_iter().chain(["st2garbagecollector"])
}

/// Components whose own `securityContext` / `podSecurityContext` the chart ignores and st2k8s
/// applies (the chart reads them only for st2web, st2actionrunner, st2client and the sensors).
pub const OWN_SECURITY_CONTEXTS: [&str; 10] = [
    "st2auth",
    "st2api",
    "st2stream",
    "st2rulesengine",
    "st2timersengine",
    "st2workflowengine",
    "st2scheduler",
    "st2notifier",
    "st2garbagecollector",
    "st2chatops",
];

/// Components whose main container writes only to `/tmp` (given as an emptyDir) and runs with a
/// read-only root filesystem under the restricted profile: the st2 Python services that run no
/// user code, and st2web (nginx, with its own emptyDirs).
pub const READ_ONLY_ROOT: [&str; 10] = [
    "st2api",
    "st2auth",
    "st2stream",
    "st2rulesengine",
    "st2timersengine",
    "st2workflowengine",
    "st2scheduler",
    "st2notifier",
    "st2garbagecollector",
    "st2web",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_names_known_components() {
        for name in scalable()
            .chain(OWN_SECURITY_CONTEXTS)
            .chain(READ_ONLY_ROOT)
        {
            assert!(ALL.contains(&name), "{name}");
        }
    }

    #[test]
    fn every_component_is_active_active_or_one_pod_with_a_reason() {
        for name in ALL {
            let single = single_pod_reason(name).is_some();
            assert_ne!(ACTIVE_ACTIVE.contains(&name), single, "{name}");
        }
        for (name, _) in SINGLE_POD {
            assert!(ALL.contains(&name), "{name}");
        }
    }
}
