//! Shared pod plumbing for every st2 Deployment and Job.
//!
//! Each workload describes its pod as a [`PodPlan`] — containers, volumes, annotations, checksum
//! sources, placement — and [`PodPlan::deployment`] / [`PodPlan::job`] turn it into the typed
//! object with the pod-level settings every pod shares (pull secrets, DNS, security context,
//! placement). Fragments live in [`volumes`] and [`containers`]; pass-through blocks in [`convert`].

pub mod checksums;
pub mod containers;
pub mod convert;
pub mod ssh_key;
pub mod volumes;

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, HostAlias, LocalObjectReference, PodDNSConfig, PodSecurityContext,
    PodSpec, PodTemplateSpec, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use self::convert::{Setting, first_set, setting, typed_if_set};
use super::kit::string_map;
use super::meta;
use crate::object::Object;
use crate::object::{SharedItems, Splice};
use crate::render::ctx::Ctx;
use crate::values::{Value, View};

/// Init containers many pods share (the pack copies), converted to JSON once per render and
/// spliced into each pod's list by reference ([`super::object::Splice`]): large releases copy
/// dozens of pack images into every pod.
pub type SharedInits = SharedItems;

/// A checksum annotation and the objects (kind, name) it hashes.
pub type Checksum = (&'static str, Vec<(&'static str, String)>);

/// Where a pod is scheduled: `nodeSelector`, `affinity`, `tolerations` of one values block.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub node_selector: Option<BTreeMap<String, String>>,
    pub affinity: Option<Affinity>,
    pub tolerations: Option<Vec<Toleration>>,
}

impl Placement {
    /// The placement keys of `settings`, each iff set; `key_of(field)` names the values key a
    /// field was read from.
    pub fn of(ctx: &Ctx, settings: &View, key_of: impl Fn(&str) -> String) -> Result<Self> {
        Ok(Self {
            node_selector: typed_if_set(
                ctx,
                settings.key("nodeSelector").value(),
                &key_of("nodeSelector"),
            )?,
            affinity: typed_if_set(ctx, settings.key("affinity").value(), &key_of("affinity"))?,
            tolerations: typed_if_set(
                ctx,
                settings.key("tolerations").value(),
                &key_of("tolerations"),
            )?,
        })
    }
}

/// How a pod's `initContainers` key is printed.
#[derive(Debug, Clone, Default)]
pub enum InitContainers {
    /// No key.
    #[default]
    Absent,
    /// The chart's `initContainers:` header followed by items; with no items it reads as null.
    Listed(Vec<Container>),
    /// An explicit empty list, `initContainers: []`.
    EmptyList,
}

/// Everything that differs between the chart's pods; the rest is filled in by [`PodPlan::build`].
#[derive(Debug, Clone, Default)]
pub struct PodPlan {
    /// The name the pod's labels and selector carry as `app.kubernetes.io/name`.
    pub name: String,
    /// Pod template `metadata.name` (Jobs only).
    pub template_name: Option<String>,
    /// Pod annotations besides the object checksums: the user's, the post-start script hash and
    /// the sensor mode.
    pub annotations: BTreeMap<String, String>,
    /// Checksum annotations resolved once every object exists.
    pub checksums: Vec<Checksum>,
    /// `imagePullSecrets`, in order; omitted when empty.
    pub pull_secrets: Vec<String>,
    pub host_aliases: Option<Vec<HostAlias>>,
    pub init_containers: InitContainers,
    /// Shared init containers, placed after the first `.0` of [`PodPlan::init_containers`].
    pub shared_inits: Option<(usize, SharedInits)>,
    pub termination_grace_period_seconds: Option<i64>,
    pub containers: Vec<Container>,
    /// Attach the pods to the chart's ServiceAccount (`<component>.serviceAccount.attach`).
    pub service_account: bool,
    pub volumes: Vec<Volume>,
    pub restart_policy: Option<String>,
    pub security_context: Option<PodSecurityContext>,
    pub placement: Placement,
}

impl PodPlan {
    /// A plan with the defaults of a component whose settings live under values key `key`:
    /// pod name `key`, its placement, service account and annotations, the global pull secret
    /// and the pod security context `<key>.podSecurityContext`, else the top-level one.
    ///
    /// The chart reads the component's own pod security context only for st2web,
    /// st2actionrunner, st2client and the sensors and silently drops it elsewhere; st2k8s gives
    /// every component the same fallback.
    pub fn component(ctx: &Ctx, key: &str) -> Result<Self> {
        let settings = ctx.v(key);
        Ok(Self {
            name: key.to_string(),
            annotations: string_map(settings.key("annotations").value()),
            pull_secrets: global_pull_secret(ctx),
            service_account: settings.at("serviceAccount.attach").truthy(),
            security_context: pod_security_context(
                ctx,
                vec![setting(&settings.key("podSecurityContext"))],
            )?,
            placement: Placement::of(ctx, &settings, |f| format!("{key}.{f}"))?,
            ..Default::default()
        })
    }

    /// A Job's plan: pod name `n`, template name `job-<x>`, `jobs.*` placement and annotations.
    pub fn job_pod(ctx: &Ctx, n: &str, template_name: String) -> Result<Self> {
        Ok(Self {
            name: n.to_string(),
            template_name: Some(template_name),
            annotations: string_map(ctx.v("jobs.annotations").value()),
            pull_secrets: global_pull_secret(ctx),
            restart_policy: Some("OnFailure".into()),
            security_context: pod_security_context(ctx, Vec::new())?,
            placement: Placement::of(ctx, &ctx.v("jobs"), |f| format!("jobs.{f}"))?,
            ..Default::default()
        })
    }

    /// Add `checksum/post-start-script` (sha256 of the raw script) iff `script` is set.
    pub fn hash_post_start_script(&mut self, script: &Value) {
        if let Some(text) = script.non_empty() {
            let digest = Sha256::digest(text.to_go_string().as_bytes());
            self.annotations.insert(
                "checksum/post-start-script".into(),
                crate::hex::hex(&digest),
            );
        }
    }

    /// Place `shared` after the init containers listed so far (`at` of them).
    pub fn share_inits(&mut self, at: usize, shared: SharedInits) {
        self.shared_inits = Some((at, shared));
    }

    /// Build the pod template. Returns it with the paths (below `spec.template`) the chart prints
    /// as explicit nulls, and the shared init containers still to splice in.
    fn build(self, ctx: &Ctx) -> Result<(PodTemplateSpec, Finish)> {
        let mut nulls = Vec::new();
        if self.annotations.is_empty() && self.checksums.is_empty() {
            nulls.push("metadata.annotations".to_string());
        }
        let shared = self.shared_inits.filter(|(_, inits)| !inits.is_empty());
        let init_containers = match self.init_containers {
            InitContainers::Absent => None,
            InitContainers::Listed(list) if list.is_empty() && shared.is_none() => {
                nulls.push("spec.initContainers".into());
                None
            }
            InitContainers::Listed(list) if list.is_empty() => None,
            InitContainers::Listed(list) => Some(list),
            InitContainers::EmptyList => Some(Vec::new()),
        };
        let all = [
            (
                "initContainers",
                init_containers.as_deref().unwrap_or_default(),
            ),
            ("containers", &self.containers),
        ];
        for (list, containers) in all {
            for (i, c) in containers.iter().enumerate() {
                nulls.extend(
                    container_nulls(c)
                        .into_iter()
                        .map(|path| format!("spec.{list}[{i}].{path}")),
                );
            }
        }
        let pull_secrets: Vec<LocalObjectReference> = self
            .pull_secrets
            .into_iter()
            .map(|name| LocalObjectReference { name })
            .collect();
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                name: self.template_name,
                labels: Some(meta::labels(ctx, &self.name)?),
                annotations: (!self.annotations.is_empty()).then_some(self.annotations),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                host_aliases: self.host_aliases,
                image_pull_secrets: (!pull_secrets.is_empty()).then_some(pull_secrets),
                init_containers,
                termination_grace_period_seconds: self.termination_grace_period_seconds,
                containers: self.containers,
                service_account_name: self.service_account.then(|| service_account_name(ctx)),
                volumes: Some(self.volumes),
                restart_policy: self.restart_policy,
                dns_policy: ctx.v("dnsPolicy").non_empty().map(Value::to_go_string),
                dns_config: typed_if_set::<PodDNSConfig>(
                    ctx,
                    ctx.v("dnsConfig").value(),
                    "dnsConfig",
                )?,
                security_context: self.security_context,
                node_selector: self.placement.node_selector,
                affinity: self.placement.affinity,
                tolerations: self.placement.tolerations,
                ..Default::default()
            }),
        };
        Ok((
            template,
            Finish {
                nulls,
                checksums: self.checksums,
                shared_inits: shared,
            },
        ))
    }

    /// The Deployment `<release>-<name>`: `replicas` pods (no `replicas` key when `None`: an
    /// autoscaler sets it), object annotations `annotations` (iff set).
    ///
    /// Every Deployment's main container prints `resources:`, so a main container without
    /// resources (the user nulled them) gets an explicit `resources: null`.
    pub fn deployment(
        self,
        ctx: &Ctx,
        replicas: Option<i64>,
        annotations: &Value,
    ) -> Result<Object> {
        let name = self.name.clone();
        let resources_null = self
            .containers
            .first()
            .is_some_and(|c| c.resources.is_none());
        let (template, mut finish) = self.build(ctx)?;
        if resources_null {
            finish.nulls.push("spec.containers[0].resources".into());
        }
        let mut metadata = meta::object_meta(ctx, ctx.name(&name), &name)?;
        metadata.annotations = annotations.non_empty().map(string_map);
        let deployment = Deployment {
            metadata,
            spec: Some(DeploymentSpec {
                selector: LabelSelector {
                    match_labels: Some(meta::selector_labels(ctx, &name)),
                    ..Default::default()
                },
                replicas: replicas
                    .map(|r| {
                        i32::try_from(r)
                            .with_context(|| format!("`{name}.replicas` is out of range"))
                    })
                    .transpose()?,
                template,
                ..Default::default()
            }),
            ..Default::default()
        };
        finish.apply(Object::new(&deployment)?)
    }

    /// The Job `name` with object annotations `annotations` (hook annotations, then `jobs.annotations`).
    pub fn job(
        self,
        ctx: &Ctx,
        name: String,
        annotations: BTreeMap<String, String>,
    ) -> Result<Object> {
        let n = self.name.clone();
        let (template, finish) = self.build(ctx)?;
        let mut metadata = meta::object_meta(ctx, name, &n)?;
        metadata.annotations = Some(annotations);
        let job = Job {
            metadata,
            spec: Some(JobSpec {
                template,
                ..Default::default()
            }),
            ..Default::default()
        };
        finish.apply(Object::new(&job)?)
    }
}

/// What is left to do to a pod's object once it is serialized.
struct Finish {
    /// Paths below `spec.template` the chart prints as explicit nulls.
    nulls: Vec<String>,
    checksums: Vec<Checksum>,
    /// Shared init containers and the index in `initContainers` they go to.
    shared_inits: Option<(usize, SharedInits)>,
}

impl Finish {
    /// Apply explicit nulls, attach the shared init containers and request the checksums.
    fn apply(self, mut object: Object) -> Result<Object> {
        for path in &self.nulls {
            object.set_null(&format!("spec.template.{path}"));
        }
        if let Some((at, items)) = self.shared_inits {
            init_containers_list(object.body_mut());
            object.splice = Some(Splice {
                pointer: INIT_CONTAINERS,
                at,
                items,
            });
        }
        for (key, sources) in self.checksums {
            let sources: Vec<(&str, &str)> =
                sources.iter().map(|(k, n)| (*k, n.as_str())).collect();
            object = object.checksum(key, &sources);
        }
        Ok(object)
    }
}

/// Where a pod's init containers are in a Deployment or Job body.
const INIT_CONTAINERS: &str = "/spec/template/spec/initContainers";

/// Give the pod spec an `initContainers` list when it has none, for shared init containers to
/// go into. k8s-openapi writes a PodSpec's fields in name order, so a new list goes where
/// serialization would have put it.
fn init_containers_list(body: &mut Json) {
    let Some((spec, key)) = INIT_CONTAINERS.rsplit_once('/') else {
        return;
    };
    let Some(spec) = body.pointer_mut(spec).and_then(Json::as_object_mut) else {
        return;
    };
    if !spec.contains_key(key) {
        let index = spec.keys().take_while(|k| k.as_str() < key).count();
        spec.shift_insert(index, key.into(), Json::Array(Vec::new()));
    }
}

/// Paths (relative to a container) the chart prints as explicit nulls: `imagePullPolicy` (the
/// chart writes it on every container; an empty policy reads as null) and the `value` of every
/// variable without one (`quote nil` leaves it null).
fn container_nulls(container: &Container) -> Vec<String> {
    let mut nulls = Vec::new();
    if container.image_pull_policy.is_none() {
        nulls.push("imagePullPolicy".to_string());
    }
    for (j, var) in container.env.iter().flatten().enumerate() {
        if var.value.is_none() && var.value_from.is_none() {
            nulls.push(format!("env[{j}].value"));
        }
    }
    nulls
}

/// A container as JSON, with the explicit nulls a pod template would give it.
pub fn container_json(container: &Container) -> Result<Json> {
    let mut json = serde_json::to_value(container).context("serializing an init container")?;
    for path in container_nulls(container) {
        crate::object::set_null(&mut json, &path);
    }
    Ok(json)
}

/// The st2 ServiceAccount's name (`serviceAccount.serviceAccountName`, else `stackstorm-ha`),
/// which pods attach to with `<component>.serviceAccount.attach`. Not release-scoped, as in the
/// chart, so existing pods keep their account.
pub fn service_account_name(ctx: &Ctx) -> String {
    ctx.v("serviceAccount.serviceAccountName")
        .non_empty()
        .map_or_else(|| "stackstorm-ha".to_string(), Value::to_go_string)
}

/// `[image.pullSecret]` iff set: every Deployment and Job pulls with it.
pub fn global_pull_secret(ctx: &Ctx) -> Vec<String> {
    ctx.v("image.pullSecret")
        .non_empty()
        .map(Value::to_go_string)
        .into_iter()
        .collect()
}

/// The pod security context: the first set block of `chain`, the top-level `podSecurityContext`
/// last. A set block replaces the later ones whole; nothing is merged.
pub fn pod_security_context<'v>(
    ctx: &Ctx<'v>,
    mut chain: Vec<Setting<'v>>,
) -> Result<Option<PodSecurityContext>> {
    chain.push((
        ctx.v("podSecurityContext").value(),
        "podSecurityContext".into(),
    ));
    first_set(ctx, &chain)
}

/// `default d v` for a count (`replicas`, `terminationGracePeriodSeconds`): `v` when truthy —
/// so `0` falls back to the default, as in the chart — read as a whole number.
pub fn count(value: &Value, default: i64, key: &str) -> Result<i64> {
    match value {
        v if !v.truthy() => Ok(default),
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 => Ok(*f as i64),
        Value::String(s) => s.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "`{key}` must be a whole number, found {}",
                value.kind_unfit()
            )
        }),
        other => bail!(
            "`{key}` must be a whole number, found {}",
            other.kind_unfit()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_falls_back_like_go_default() -> Result<()> {
        for (value, want) in [
            (Value::Null, 2),
            (Value::Int(0), 2),
            (Value::Float(0.0), 2),
            (Value::String(String::new()), 2),
            (Value::Int(5), 5),
            (Value::Float(3.0), 3),
            (Value::String("4".into()), 4),
        ] {
            assert_eq!(count(&value, 2, "x.replicas")?, want, "{value:?}");
        }
        for (value, found) in [
            (Value::Float(987654321.5), "a number"),
            (Value::String("S3CRET-SENTINEL".into()), "a string"),
        ] {
            let err = count(&value, 2, "x.replicas")
                .err()
                .map(|e| format!("{e:#}"));
            assert_eq!(
                err.as_deref(),
                Some(
                    format!("`x.replicas` must be a whole number, found {found} that does not fit")
                        .as_str()
                )
            );
        }
        Ok(())
    }
}
