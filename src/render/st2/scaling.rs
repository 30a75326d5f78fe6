//! What keeps the st2 Deployments available and sized: st2k8s extensions the chart does not
//! have, both off by default.
//!
//! - `podDisruptionBudgets.enabled`: a `policy/v1` PodDisruptionBudget named like its Deployment
//!   and selecting exactly its pods (the Deployment's own selector), for every Deployment that
//!   runs more than one pod. A single pod gets none: a budget there would either block every node
//!   drain (`minAvailable: 1`) or protect nothing.
//! - `<component>.autoscaling`: an `autoscaling/v2` HorizontalPodAutoscaler on CPU and/or memory
//!   utilization for the components StackStorm runs active-active. The Deployment then has no
//!   `replicas`, so `kubectl apply` does not reset what the autoscaler chose; its budget follows
//!   `minReplicas`. Components that must stay one pod refuse it, saying why.

use crate::render::backends::whole_number;
use anyhow::{Result, bail};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::meta;
use crate::render::pod::PodPlan;
use crate::render::pod::convert::Setting;
use crate::values::Value;

/// A component's `autoscaling` block, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Autoscaling {
    min: i32,
    max: i32,
    cpu: Option<i32>,
    memory: Option<i32>,
}

/// The Deployment of `plan` (values settings of `component`; `autoscaling` is its
/// `autoscaling` block and key), running `replicas` pods unless autoscaled, with its
/// PodDisruptionBudget and HorizontalPodAutoscaler where they apply.
pub fn deployment(
    ctx: &Ctx,
    plan: PodPlan,
    component: &str,
    autoscaling: Setting,
    replicas: i64,
    annotations: &Value,
) -> Result<Vec<Object>> {
    let scaling = autoscaling_of(component, &autoscaling, &plan)?;
    let budget = disruption_budget(ctx)?;
    let n = plan.name.clone();
    let pods = scaling.as_ref().map_or(replicas, |a| i64::from(a.min));
    let fixed = scaling.is_none().then_some(replicas);
    let mut out = vec![plan.deployment(ctx, fixed, annotations)?];
    if let Some(scaling) = scaling {
        out.push(autoscaler(ctx, &n, &scaling)?);
    }
    if let Some(budget) = budget.filter(|_| pods > 1) {
        out.push(pod_disruption_budget(ctx, &n, budget)?);
    }
    Ok(out)
}

/// How many pods a disruption may take (`maxUnavailable`) or must leave (`minAvailable`).
#[derive(Debug, Clone, PartialEq)]
enum Budget {
    MaxUnavailable(IntOrString),
    MinAvailable(IntOrString),
}

/// `podDisruptionBudgets`, iff enabled: exactly one of `maxUnavailable` / `minAvailable`,
/// `maxUnavailable: 1` when neither is set.
fn disruption_budget(ctx: &Ctx) -> Result<Option<Budget>> {
    if !ctx.v("podDisruptionBudgets.enabled").truthy() {
        return Ok(None);
    }
    let max = ctx.v("podDisruptionBudgets.maxUnavailable");
    let min = ctx.v("podDisruptionBudgets.minAvailable");
    Ok(Some(match (max.is_null(), min.is_null()) {
        (true, true) => Budget::MaxUnavailable(IntOrString::Int(1)),
        (false, true) => Budget::MaxUnavailable(count_or_percent(
            max.value(),
            "podDisruptionBudgets.maxUnavailable",
        )?),
        (true, false) => Budget::MinAvailable(count_or_percent(
            min.value(),
            "podDisruptionBudgets.minAvailable",
        )?),
        (false, false) => bail!(
            "`podDisruptionBudgets`: set `maxUnavailable` or `minAvailable`, not both (Kubernetes takes only one)"
        ),
    }))
}

/// A pod count (0 or more) or a percentage (`"25%"`), as a PodDisruptionBudget takes them.
fn count_or_percent(value: &Value, key: &str) -> Result<IntOrString> {
    if let Some(n) = whole_number(value) {
        if n >= 0 {
            return Ok(IntOrString::Int(n));
        }
    } else if let Value::String(s) = value {
        let percent = s.strip_suffix('%').and_then(|p| p.parse::<u8>().ok());
        if percent.is_some_and(|p| p <= 100) {
            return Ok(IntOrString::String(s.clone()));
        }
    }
    bail!(
        "`{key}`: expected a number of pods (0 or more) or a percentage such as \"25%\", found {}",
        value.kind_unfit()
    )
}

/// `<key>.<field>` as a whole number in `range`; `None` when unset.
fn number_in(
    block: &Value,
    key: &str,
    field: &str,
    range: std::ops::RangeInclusive<i32>,
) -> Result<Option<i32>> {
    let value = block.key(field);
    if value.is_null() {
        return Ok(None);
    }
    match whole_number(value) {
        Some(n) if range.contains(&n) => Ok(Some(n)),
        _ => bail!(
            "`{key}.{field}`: expected a whole number from {} to {}, found {}",
            range.start(),
            range.end(),
            value.kind_unfit()
        ),
    }
}

/// The checked `autoscaling` block of `component`, iff enabled.
fn autoscaling_of(
    component: &str,
    (block, key): &Setting,
    plan: &PodPlan,
) -> Result<Option<Autoscaling>> {
    if !block.key("enabled").truthy() {
        return Ok(None);
    }
    if let Some(reason) = crate::components::single_pod_reason(component) {
        bail!("`{key}.enabled`: {component} cannot be autoscaled: {reason}");
    }
    let min = number_in(block, key, "minReplicas", 1..=i32::MAX)?.unwrap_or(1);
    let Some(max) = number_in(block, key, "maxReplicas", 1..=i32::MAX)? else {
        bail!("`{key}.maxReplicas` is required when `{key}.enabled` is true");
    };
    if min > max {
        bail!("`{key}.minReplicas` is more than `{key}.maxReplicas`");
    }
    let cpu = number_in(block, key, "targetCPUUtilizationPercentage", 1..=i32::MAX)?;
    let memory = number_in(
        block,
        key,
        "targetMemoryUtilizationPercentage",
        1..=i32::MAX,
    )?;
    if cpu.is_none() && memory.is_none() {
        bail!(
            "`{key}`: set `targetCPUUtilizationPercentage` or `targetMemoryUtilizationPercentage` (or both): the autoscaler needs a target"
        );
    }
    // Utilization is a share of the container's request: without one the autoscaler cannot
    // compute it and never scales.
    let requests = plan
        .containers
        .first()
        .and_then(|c| c.resources.as_ref())
        .and_then(|r| r.requests.as_ref());
    for (target, resource, field) in [
        (cpu, "cpu", "targetCPUUtilizationPercentage"),
        (memory, "memory", "targetMemoryUtilizationPercentage"),
    ] {
        if target.is_some() && !requests.is_some_and(|r| r.contains_key(resource)) {
            bail!(
                "`{key}.{field}` needs `{component}.resources.requests.{resource}`: utilization is measured against the request"
            );
        }
    }
    Ok(Some(Autoscaling {
        min,
        max,
        cpu,
        memory,
    }))
}

/// The HorizontalPodAutoscaler `<release>-<n>` of the Deployment `<release>-<n>`.
fn autoscaler(ctx: &Ctx, n: &str, scaling: &Autoscaling) -> Result<Object> {
    let name = ctx.name(n);
    let metric = |resource: &str, utilization: i32| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: resource.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(utilization),
                ..Default::default()
            },
        }),
        ..Default::default()
    };
    let metrics = [("cpu", scaling.cpu), ("memory", scaling.memory)]
        .into_iter()
        .filter_map(|(resource, target)| target.map(|t| metric(resource, t)))
        .collect();
    Object::new(&HorizontalPodAutoscaler {
        metadata: meta::object_meta(ctx, name.clone(), n)?,
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name,
            },
            min_replicas: Some(scaling.min),
            max_replicas: scaling.max,
            metrics: Some(metrics),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The PodDisruptionBudget `<release>-<n>`, selecting the pods of the Deployment `<release>-<n>`.
fn pod_disruption_budget(ctx: &Ctx, n: &str, budget: Budget) -> Result<Object> {
    let (max_unavailable, min_available) = match budget {
        Budget::MaxUnavailable(v) => (Some(v), None),
        Budget::MinAvailable(v) => (None, Some(v)),
    };
    Object::new(&PodDisruptionBudget {
        metadata: meta::object_meta(ctx, ctx.name(n), n)?,
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable,
            min_available,
            selector: Some(LabelSelector {
                match_labels: Some(meta::selector_labels(ctx, n)),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use serde_json::{Value as Json, json};

    use crate::render::test_support::{body, names, with_ctx};

    /// All st2 objects for `values`.
    fn render(values: &str) -> Result<Vec<crate::render::Object>> {
        with_ctx(values, super::super::objects)
    }

    fn error(values: &str) -> String {
        render(values)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default()
    }

    fn object(values: &str, kind: &str, name: &str) -> Result<Json> {
        Ok(body(&render(values)?, kind, name)?.into_owned())
    }

    const ACTIVE_ACTIVE: [&str; 9] = [
        "st2-st2actionrunner",
        "st2-st2api",
        "st2-st2auth",
        "st2-st2notifier",
        "st2-st2rulesengine",
        "st2-st2scheduler",
        "st2-st2stream",
        "st2-st2web",
        "st2-st2workflowengine",
    ];

    #[test]
    fn nothing_extra_by_default() -> Result<()> {
        let objects = render("{}")?;
        assert!(names(&objects, "PodDisruptionBudget").is_empty());
        assert!(names(&objects, "HorizontalPodAutoscaler").is_empty());
        assert_eq!(
            body(&objects, "Deployment", "st2-st2api")?["spec"]["replicas"],
            2
        );
        Ok(())
    }

    #[test]
    fn budgets_cover_every_deployment_with_more_than_one_pod() -> Result<()> {
        let objects = render(
            "podDisruptionBudgets: {enabled: true}\nst2sensorcontainer: {deployments: 3}\nst2chatops: {enabled: true}\n",
        )?;
        assert_eq!(names(&objects, "PodDisruptionBudget"), ACTIVE_ACTIVE);
        for name in ACTIVE_ACTIVE {
            let pdb = body(&objects, "PodDisruptionBudget", name)?;
            let deployment = body(&objects, "Deployment", name)?;
            assert_eq!(pdb["apiVersion"], "policy/v1");
            assert_eq!(
                pdb["spec"],
                json!({"maxUnavailable": 1, "selector": deployment["spec"]["selector"]}),
                "{name}"
            );
            assert_eq!(pdb["metadata"]["labels"], deployment["metadata"]["labels"]);
        }
        // st2garbagecollector runs one pod by default; with more it gets a budget too.
        let objects =
            render("podDisruptionBudgets: {enabled: true}\nst2garbagecollector: {replicas: 2}\n")?;
        assert!(names(&objects, "PodDisruptionBudget").contains(&"st2-st2garbagecollector".into()));
        Ok(())
    }

    #[test]
    fn budget_takes_min_available_or_a_percentage() -> Result<()> {
        let pdb = object(
            "podDisruptionBudgets: {enabled: true, minAvailable: '50%'}",
            "PodDisruptionBudget",
            "st2-st2api",
        )?;
        assert_eq!(pdb["spec"]["minAvailable"], "50%");
        assert_eq!(pdb["spec"].get("maxUnavailable"), None);
        let pdb = object(
            "podDisruptionBudgets: {enabled: true, maxUnavailable: 2}",
            "PodDisruptionBudget",
            "st2-st2api",
        )?;
        assert_eq!(pdb["spec"]["maxUnavailable"], 2);
        Ok(())
    }

    #[test]
    fn budget_refuses_both_and_bad_values() {
        assert_eq!(
            error("podDisruptionBudgets: {enabled: true, maxUnavailable: 1, minAvailable: 1}"),
            "`podDisruptionBudgets`: set `maxUnavailable` or `minAvailable`, not both (Kubernetes takes only one)"
        );
        for (value, shown) in [
            ("'1 pod'", "a string"),
            ("-1", "a number"),
            ("'150%'", "a string"),
        ] {
            assert_eq!(
                error(&format!(
                    "podDisruptionBudgets: {{enabled: true, minAvailable: {value}}}"
                )),
                format!(
                    "`podDisruptionBudgets.minAvailable`: expected a number of pods (0 or more) or a percentage such as \"25%\", found {shown} that does not fit"
                )
            );
        }
    }

    const API_AUTOSCALED: &str = "st2api:\n  autoscaling:\n    enabled: true\n    minReplicas: 2\n    maxReplicas: 6\n    targetCPUUtilizationPercentage: 75\n    targetMemoryUtilizationPercentage: 90\n";

    #[test]
    fn autoscaled_deployment_leaves_replicas_to_its_autoscaler() -> Result<()> {
        let objects = render(API_AUTOSCALED)?;
        let deployment = body(&objects, "Deployment", "st2-st2api")?;
        assert_eq!(deployment["spec"].get("replicas"), None);
        let hpa = body(&objects, "HorizontalPodAutoscaler", "st2-st2api")?;
        assert_eq!(hpa["apiVersion"], "autoscaling/v2");
        assert_eq!(hpa["metadata"]["labels"], deployment["metadata"]["labels"]);
        assert_eq!(
            hpa["spec"],
            json!({
                "maxReplicas": 6,
                "metrics": [
                    {"resource": {"name": "cpu", "target": {"averageUtilization": 75, "type": "Utilization"}}, "type": "Resource"},
                    {"resource": {"name": "memory", "target": {"averageUtilization": 90, "type": "Utilization"}}, "type": "Resource"},
                ],
                "minReplicas": 2,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "st2-st2api"},
            })
        );
        assert_eq!(names(&objects, "HorizontalPodAutoscaler"), ["st2-st2api"]);
        Ok(())
    }

    #[test]
    fn autoscaled_budget_follows_min_replicas() -> Result<()> {
        let with_budgets = format!("podDisruptionBudgets: {{enabled: true}}\n{API_AUTOSCALED}");
        let objects = render(&with_budgets)?;
        assert!(names(&objects, "PodDisruptionBudget").contains(&"st2-st2api".into()));
        let one = "podDisruptionBudgets: {enabled: true}\nst2actionrunner:\n  autoscaling: {enabled: true, maxReplicas: 9, targetCPUUtilizationPercentage: 80}\n";
        let objects = render(one)?;
        let budgets = names(&objects, "PodDisruptionBudget");
        assert!(
            !budgets.contains(&"st2-st2actionrunner".into()),
            "{budgets:?}"
        );
        let hpa = body(&objects, "HorizontalPodAutoscaler", "st2-st2actionrunner")?;
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        Ok(())
    }

    #[test]
    fn single_pod_components_refuse_autoscaling() {
        let on = "{enabled: true, maxReplicas: 3, targetCPUUtilizationPercentage: 80}";
        assert_eq!(
            error(&format!("st2timersengine: {{autoscaling: {on}}}")),
            "`st2timersengine.autoscaling.enabled`: st2timersengine cannot be autoscaled: every st2timersengine pod fires every timer, so it must run as one pod"
        );
        for (values, key) in [
            (
                format!("st2garbagecollector: {{autoscaling: {on}}}"),
                "st2garbagecollector.autoscaling.enabled",
            ),
            (
                format!("st2chatops: {{enabled: true, autoscaling: {on}}}"),
                "st2chatops.autoscaling.enabled",
            ),
            (
                format!("st2client: {{autoscaling: {on}}}"),
                "st2client.autoscaling.enabled",
            ),
            (
                format!("st2sensorcontainer: {{autoscaling: {on}}}"),
                "st2sensorcontainer.autoscaling.enabled",
            ),
            (
                format!("st2: {{packs: {{sensors: [{{name: a, ref: p.s, autoscaling: {on}}}]}}}}"),
                "st2.packs.sensors[0].autoscaling.enabled",
            ),
        ] {
            let err = error(&values);
            assert!(err.starts_with(&format!("`{key}`: ")), "{err}");
            assert!(err.contains("cannot be autoscaled: "), "{err}");
        }
    }

    #[test]
    fn autoscaling_settings_are_checked() {
        for (block, want) in [
            (
                "{enabled: true, targetCPUUtilizationPercentage: 80}",
                "`st2api.autoscaling.maxReplicas` is required when `st2api.autoscaling.enabled` is true",
            ),
            (
                "{enabled: true, minReplicas: 5, maxReplicas: 3, targetCPUUtilizationPercentage: 80}",
                "`st2api.autoscaling.minReplicas` is more than `st2api.autoscaling.maxReplicas`",
            ),
            (
                "{enabled: true, minReplicas: 0, maxReplicas: 3, targetCPUUtilizationPercentage: 80}",
                "`st2api.autoscaling.minReplicas`: expected a whole number from 1 to 2147483647, found a number that does not fit",
            ),
            (
                "{enabled: true, maxReplicas: 3}",
                "`st2api.autoscaling`: set `targetCPUUtilizationPercentage` or `targetMemoryUtilizationPercentage` (or both): the autoscaler needs a target",
            ),
            (
                "{enabled: true, maxReplicas: 3, targetCPUUtilizationPercentage: 0}",
                "`st2api.autoscaling.targetCPUUtilizationPercentage`: expected a whole number from 1 to 2147483647, found a number that does not fit",
            ),
        ] {
            assert_eq!(error(&format!("st2api: {{autoscaling: {block}}}")), want);
        }
        assert_eq!(
            error(
                "st2api:\n  resources: {requests: {cpu: null}}\n  autoscaling: {enabled: true, maxReplicas: 3, targetCPUUtilizationPercentage: 80}\n"
            ),
            "`st2api.autoscaling.targetCPUUtilizationPercentage` needs `st2api.resources.requests.cpu`: utilization is measured against the request"
        );
    }

    #[test]
    fn disabled_autoscaling_changes_nothing() -> Result<()> {
        let objects = render("st2timersengine: {autoscaling: {enabled: false}}")?;
        assert!(names(&objects, "HorizontalPodAutoscaler").is_empty());
        assert_eq!(
            body(&objects, "Deployment", "st2-st2timersengine")?["spec"]["replicas"],
            1
        );
        Ok(())
    }
}
