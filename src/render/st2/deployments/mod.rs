//! The st2 Deployments, one file per component family: the st2 python services ([`services`]),
//! st2web, st2actionrunner, st2client and st2chatops. The sensor Deployments are in
//! `st2::sensors`. Every one is a [`PodPlan`](crate::render::pod::PodPlan).

mod services;
mod st2actionrunner;
mod st2chatops;
mod st2client;
mod st2web;

use anyhow::Result;

use super::{packs, scaling};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::images;
use crate::render::pod::PodPlan;
use crate::values::Value;

/// All st2 Deployments except the sensors, in the chart's order.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    packs::check(ctx)?;
    let mut out = Vec::new();
    for service in &services::SERVICES {
        if service.key == "st2rulesengine" {
            out.extend(st2web::deployment(ctx)?);
        }
        out.extend(services::deployment(ctx, service)?);
    }
    out.extend(st2actionrunner::deployment(ctx)?);
    out.extend(st2client::deployment(ctx)?);
    if ctx.v("st2chatops.enabled").truthy() {
        out.extend(st2chatops::deployment(ctx)?);
    }
    Ok(out)
}

/// The image of a component that may replace the whole reference (st2actionrunner, st2chatops):
/// `<repository>/<name>:<tag>`, each part the component's own when set: `<key>.image.repository`
/// else the st2 repository, `<key>.image.name` else `default_name`, `<key>.image.tag` else
/// `image.tag` (evaluated as a template).
fn own_image(ctx: &Ctx, key: &str, default_name: &str) -> Result<String> {
    let image = ctx.v(key).key("image");
    let repository = image
        .key("repository")
        .non_empty()
        .map_or_else(|| images::repository(ctx), Value::to_go_string);
    let name = image
        .key("name")
        .non_empty()
        .map_or_else(|| default_name.to_string(), Value::to_go_string);
    let tag = images::tag(ctx, &[&format!("{key}.image.tag")])?;
    Ok(format!("{repository}/{name}:{tag}"))
}

/// The Deployment of component `key` running `replicas` pods unless autoscaled, with its
/// PodDisruptionBudget and HorizontalPodAutoscaler where they apply ([`scaling`]).
fn scaled(ctx: &Ctx, plan: PodPlan, key: &str, replicas: i64) -> Result<Vec<Object>> {
    let settings = ctx.v(key);
    let autoscaling = crate::render::pod::convert::setting(&settings.key("autoscaling"));
    scaling::deployment(
        ctx,
        plan,
        key,
        autoscaling,
        replicas,
        settings.key("annotations").value(),
    )
}

/// `<key>.image.pullPolicy`, else `image.pullPolicy`.
fn own_pull_policy(ctx: &Ctx, key: &str) -> Option<String> {
    ctx.v(key)
        .at("image.pullPolicy")
        .non_empty()
        .map(Value::to_go_string)
        .or_else(|| images::pull_policy(ctx))
}

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use serde_json::{Value as Json, json};

    use super::objects;
    use crate::render::test_support::{body, with_ctx};

    /// The Deployment `st2-<component>` rendered from `values`.
    fn deployment(values: &str, component: &str) -> Result<Json> {
        with_ctx(values, |ctx| {
            Ok(body(&objects(ctx)?, "Deployment", &format!("st2-{component}"))?.into_owned())
        })
    }

    const GLOBAL: &str =
        "podSecurityContext: {runAsUser: 1000}\nsecurityContext: {readOnlyRootFilesystem: true}\n";

    /// `component`'s values block with `settings`, switched on where it is optional.
    fn block(component: &str, settings: &str) -> String {
        let enabled = if component == "st2chatops" {
            "  enabled: true\n"
        } else {
            ""
        };
        format!("{GLOBAL}{component}:\n{enabled}{settings}")
    }

    #[test]
    fn every_component_takes_its_own_security_contexts() -> Result<()> {
        for component in crate::components::OWN_SECURITY_CONTEXTS {
            let values = block(
                component,
                "  podSecurityContext: {fsGroup: 3000}\n  securityContext: {runAsNonRoot: true}\n",
            );
            let d = deployment(&values, component)?;
            let spec = &d["spec"]["template"]["spec"];
            // No deep merge with the global blocks: the component's own replace them whole.
            assert_eq!(
                spec["securityContext"],
                json!({"fsGroup": 3000}),
                "{component}"
            );
            assert_eq!(
                spec["containers"][0]["securityContext"],
                json!({"runAsNonRoot": true}),
                "{component}"
            );
            // The wait-for-* init containers keep the global container security context.
            for init in spec["initContainers"].as_array().into_iter().flatten() {
                let want = if init["name"] == "generate-htpasswd" {
                    json!({"runAsNonRoot": true})
                } else {
                    json!({"readOnlyRootFilesystem": true})
                };
                assert_eq!(
                    init["securityContext"], want,
                    "{component} {}",
                    init["name"]
                );
            }
        }
        Ok(())
    }

    #[test]
    fn components_fall_back_to_the_global_security_contexts() -> Result<()> {
        for component in crate::components::OWN_SECURITY_CONTEXTS {
            let values = block(component, "  podSecurityContext: {}\n");
            let d = deployment(&values, component)?;
            let spec = &d["spec"]["template"]["spec"];
            assert_eq!(
                spec["securityContext"],
                json!({"runAsUser": 1000}),
                "{component}"
            );
            assert_eq!(
                spec["containers"][0]["securityContext"],
                json!({"readOnlyRootFilesystem": true}),
                "{component}"
            );
        }
        Ok(())
    }

    #[test]
    fn a_component_security_context_stays_in_its_own_pods() -> Result<()> {
        let values = format!("{GLOBAL}st2api:\n  securityContext: {{runAsNonRoot: true}}\n");
        let auth = deployment(&values, "st2auth")?;
        assert_eq!(
            auth["spec"]["template"]["spec"]["containers"][0]["securityContext"],
            json!({"readOnlyRootFilesystem": true})
        );
        Ok(())
    }

    #[test]
    fn a_component_security_context_that_is_not_one_names_its_key() {
        let err = deployment(
            "st2notifier: {securityContext: {runAsUser: root}}",
            "st2notifier",
        )
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
        assert!(
            err.starts_with(
                "`st2notifier.securityContext` does not fit a Kubernetes SecurityContext"
            ),
            "{err}"
        );
    }
}
