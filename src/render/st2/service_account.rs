//! The ServiceAccount `serviceAccount.serviceAccountName`, else `stackstorm-ha`.
//!
//! Its name is not release-scoped, as in the chart, so existing pods keep their account.

use anyhow::Result;
use k8s_openapi::api::core::v1::{LocalObjectReference, ServiceAccount};

use crate::render::meta;

use crate::render::ctx::Ctx;

use crate::object::Object;

pub use crate::render::pod::service_account_name as name;

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    if !ctx.v("serviceAccount.create").truthy() {
        return Ok(Vec::new());
    }
    // The `app.kubernetes.io/name` label is the chart name (or `nameOverride`), trimmed like Helm's.
    let label_name = meta::bitnami_name("stackstorm-ha", &ctx.values);
    let mut metadata = meta::object_meta(ctx, name(ctx), &label_name)?;
    if let Some(labels) = metadata.labels.as_mut() {
        for (k, v) in ctx.v("serviceAccount.serviceAccountLabels").entries() {
            labels.insert(k.clone(), v.to_go_string());
        }
    }
    if let Some(annotations) = ctx
        .v("serviceAccount.serviceAccountAnnotations")
        .non_empty()
    {
        metadata.annotations = Some(
            annotations
                .entries()
                .map(|(k, v)| (k.clone(), v.to_go_string()))
                .collect(),
        );
    }
    let image_pull_secrets = ctx.v("serviceAccount.pullSecret").non_empty().map(|s| {
        vec![LocalObjectReference {
            name: s.to_go_string(),
        }]
    });
    let object = Object::new(&ServiceAccount {
        metadata,
        image_pull_secrets,
        ..Default::default()
    })?;
    // `nameOverride` only shows in the `app.kubernetes.io/name` label.
    Ok(vec![match ctx.v("nameOverride").non_empty() {
        Some(name) => object.named_by("nameOverride", name.to_go_string()),
        None => object,
    }])
}
