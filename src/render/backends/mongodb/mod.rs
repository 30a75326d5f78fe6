//! Built-in equivalent of the bitnami `mongodb` 10.0.1 subchart as stackstorm-ha configures it:
//! replica set or standalone, arbiter, metrics, PDB, RBAC.
//!
//! Objects are named after `<fullname>`, bitnami's fullname of the chart (`<release>-mongodb`
//! unless overridden, see [`fullname`]).
//!
//! Names, selectors and StatefulSet identity fields are exactly the chart's, so a live Helm
//! release can be taken over without recreating StatefulSets or losing PVCs. TLS, external
//! access and the Prometheus-operator objects are not implemented: the keys that configure them are
//! never read, so setting them is reported (`render::unread`).
//!
//! `mongodb.flavor: official` swaps the bitnami image and scripts for docker-library's `mongo`
//! (module `official`) under the same object names, selectors and claim templates; everything
//! that is not a workload (Secret, ServiceAccount, Services, PDBs, RBAC) is built here alike.

mod config;
mod containers;
mod official;
mod services;
mod workloads;

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use super::Flavor;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::meta;
use crate::render::pod::convert::{resources_json, typed_json};
use crate::tpl;
use crate::values::{Value, View};

pub use official::effective_tag;

/// The chart name bitnami's naming helpers start from.
const CHART_NAME: &str = "mongodb";

/// Every MongoDB object for the release (only called when `mongodb.enabled`).
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let m = Mongo::new(ctx)?;
    let mut out = Vec::new();
    out.extend(config::objects(&m)?);
    out.extend(services::objects(&m)?);
    match m.flavor {
        Flavor::Bitnami => out.extend(workloads::objects(&m)?),
        Flavor::Official => out.extend(official::workloads(&m)?),
    }
    Ok(out)
}

/// The workloads `<fullname>` (and `<fullname>-arbiter`) as `networkPolicy.enabled` protects
/// them: st2 and every MongoDB pod (replica set members and the arbiter) connect to 27017.
pub fn network_targets(ctx: &Ctx) -> Result<Vec<crate::render::backends::NetworkTarget>> {
    let m = Mongo::new(ctx)?;
    // The official flavor has no exporter sidecar.
    let open_ports = if m.flavor == Flavor::Bitnami && m.v("metrics.enabled").truthy() {
        vec![containers::METRICS_PORT]
    } else {
        Vec::new()
    };
    let mut components = vec![(m.fullname.clone(), "mongodb")];
    if m.arbiter_enabled() {
        components.push((m.name("arbiter"), "arbiter"));
    }
    Ok(components
        .into_iter()
        .map(|(name, component)| crate::render::backends::NetworkTarget {
            name,
            selector: m.match_labels(Some(component)),
            peers: m.match_labels(None),
            client_ports: vec![containers::MONGODB_PORT],
            peer_ports: Vec::new(),
            // The exporter runs only next to the server, but an open port nobody listens on
            // on the arbiter lets nothing in.
            open_ports: open_ports.clone(),
        })
        .collect())
}

/// `mongodb.fullname`: bitnami's `common.names.fullname` rule ([`meta::subchart_fullname`])
/// applied to the `mongodb` values. The parent's MongoDB connection string uses the same rule.
pub fn fullname(ctx: &Ctx) -> String {
    meta::subchart_fullname(ctx, CHART_NAME)
}

/// Data key of the application user's password in Secret `<fullname>`.
const USER_PASSWORD_KEY: &str = "mongodb-password";

/// Data key of the root password in Secret `<fullname>`.
const ROOT_PASSWORD_KEY: &str = "mongodb-root-password";

/// Data key of the replica set's shared key in Secret `<fullname>`.
const REPLICA_SET_KEY_KEY: &str = "mongodb-replica-set-key";

/// Length of the passwords the chart generates (`randAlphaNum 10`).
const GENERATED_LEN: usize = 10;

/// The application user's password (`mongodb.auth.password`) as everything that uses it sees it:
/// Secret `<fullname>` (what the server sets) and the parent's st2.conf (what st2 connects with). When
/// empty it is generated for Secret `<fullname>` key `mongodb-password` (from the seed when there is
/// one), and both get the same value. The chart instead fails (`required`) on an empty password,
/// so its published default stays the only working choice. With `auth.existingSecret` the server
/// reads a Secret st2k8s does not know, so the password must be given.
pub fn user_password(ctx: &Ctx) -> Result<String> {
    let given = ctx.v("mongodb.auth.password");
    if given.non_empty().is_none() && ctx.v("mongodb.auth.existingSecret").truthy() {
        bail!(
            "mongodb.auth.password is required! `mongodb.auth.existingSecret` is set, so st2k8s cannot \
             generate it: set the password that Secret holds"
        );
    }
    Ok(ctx.secrets.given_or_alphanumeric(
        given.value(),
        &fullname(ctx),
        USER_PASSWORD_KEY,
        GENERATED_LEN,
    ))
}

/// What the subchart templates see: its values (`.Values` = the parent's `mongodb` section), the
/// derived names, and the release.
pub(super) struct Mongo<'a> {
    ctx: &'a Ctx<'a>,
    values: View<'a>,
    /// `<fullname>`: the base name of every object.
    fullname: String,
    /// `app.kubernetes.io/name` label value.
    name: String,
    /// `metadata.namespace` of every object (`global.namespaceOverride`, else the release
    /// namespace).
    namespace: String,
    /// `mongodb.flavor`: which images and scripts run the workloads.
    flavor: Flavor,
}

impl<'a> Mongo<'a> {
    fn new(ctx: &'a Ctx<'a>) -> Result<Self> {
        let values = ctx.v("mongodb");
        let namespace = match ctx.v("global.namespaceOverride").non_empty() {
            Some(ns) => ns.to_go_string(),
            None => ctx.release.namespace.clone(),
        };
        let m = Self {
            ctx,
            fullname: fullname(ctx),
            name: meta::bitnami_name(CHART_NAME, &values),
            values,
            namespace,
            flavor: Flavor::of(ctx, "mongodb")?,
        };
        m.validate()?;
        if m.flavor == Flavor::Official {
            official::validate(&m)?;
        }
        Ok(m)
    }

    /// The subchart's own value checks (`mongodb.validateValues`), as errors.
    fn validate(&self) -> Result<()> {
        let architecture = self.text("architecture");
        if architecture != "replicaset" && architecture != "standalone" {
            bail!(
                "`mongodb.architecture`: not a known architecture, use `standalone` or `replicaset`"
            );
        }
        if self.v("auth.username").truthy() != self.v("auth.database").truthy() {
            bail!(
                "`mongodb.auth.username` and `mongodb.auth.database`: set both; st2 connects as that user to that database"
            );
        }
        Ok(())
    }

    /// The value at a path below `mongodb.` (null when missing).
    fn v(&self, path: &str) -> View<'a> {
        self.values.at(path)
    }

    /// A value as the chart's templates print it: Go `%v`, null as the empty string.
    fn text(&self, path: &str) -> String {
        self.v(path).to_go_text()
    }

    /// An integer the chart interpolates unquoted (`replicas: {{ .Values.replicaCount }}`).
    fn int(&self, path: &str) -> Result<i32> {
        self.v(path).int()
    }

    /// `replicaset` architecture (else standalone).
    fn replicaset(&self) -> bool {
        self.text("architecture") == "replicaset"
    }

    /// `mongodb.arbiter.enabled`: the arbiter exists only next to a replica set.
    fn arbiter_enabled(&self) -> bool {
        self.replicaset() && self.v("arbiter.enabled").truthy()
    }

    fn auth_enabled(&self) -> bool {
        self.v("auth.enabled").truthy()
    }

    /// `mongodb.secretName`: `auth.existingSecret`, else `<fullname>`.
    fn secret_name(&self) -> String {
        self.v("auth.existingSecret")
            .non_empty()
            .map_or_else(|| self.fullname.clone(), Value::to_go_string)
    }

    /// `mongodb.serviceAccountName`: `serviceAccount.name`, else `<fullname>` when created, else
    /// `default`.
    fn service_account_name(&self) -> String {
        match self.v("serviceAccount.name").non_empty() {
            Some(name) => name.to_go_string(),
            None if self.v("serviceAccount.create").truthy() => self.fullname.clone(),
            None => "default".to_string(),
        }
    }

    /// `mongodb.createConfigmap`: `configuration` set and no `existingConfigmap`.
    fn create_configmap(&self) -> bool {
        self.v("configuration").truthy() && !self.v("existingConfigmap").truthy()
    }

    /// `<fullname>-<suffix>`.
    fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.fullname)
    }

    /// Evaluate a string as a template with the subchart's scope (`.Values` = `mongodb.*`).
    fn tpl(&self, text: &str, path: &str) -> Result<String> {
        let scope = tpl::Scope::new(self.values.peek(), self.ctx.release, &self.ctx.tpl_budget)
            .with_reads(&self.ctx.reads);
        Ok(tpl::render(text, &scope, &format!("mongodb.{path}"))?)
    }

    /// A user block rendered as bitnami's `common.tplvalues.render` does: a string is evaluated as
    /// a template and parsed as YAML; any other value has its strings evaluated. `None` when the
    /// value is empty (the chart's `{{- if .Values.x }}`).
    fn block(&self, path: &str) -> Result<Option<Json>> {
        let value = self.v(path);
        if !value.truthy() {
            return Ok(None);
        }
        let json = match value.value() {
            Value::String(s) => {
                let text = self.tpl(s, path)?;
                serde_saphyr::from_str::<Json>(&text).with_context(|| {
                    format!("`{}`: the rendered text is not valid YAML", value.path())
                })?
            }
            other => self.tpl_json(other, path)?,
        };
        Ok(Some(json))
    }

    /// [`Mongo::block`] converted into a typed field.
    fn typed_block<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        self.block(path)?
            .map(|json| typed(self.ctx, json, path))
            .transpose()
    }

    /// A user block passed through with `toYaml` (no template evaluation), converted into a typed
    /// field; `None` when empty.
    fn typed_raw<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        self.v(path)
            .non_empty()
            .map(|v| typed(self.ctx, v.to_json(), path))
            .transpose()
    }

    /// A `*SecurityContext` block without its `enabled` switch (`omit … "enabled"`), `None`
    /// unless enabled.
    fn security_context<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let value = self.v(path);
        if !value.key("enabled").truthy() {
            return Ok(None);
        }
        let mut json = value.to_json();
        if let Some(map) = json.as_object_mut() {
            map.remove("enabled");
        }
        typed(self.ctx, json, path).map(Some)
    }

    /// A `resources` block. Quantities are strings in the Kubernetes API, so numbers given in
    /// values (`cpu: 1`) are written as strings.
    fn resources(&self, path: &str) -> Result<Option<ResourceRequirements>> {
        let view = self.v(path);
        view.non_empty()
            .map(|value| resources_json(self.ctx, value.to_json(), view.path()))
            .transpose()
    }

    /// A map of strings (labels, annotations) from a user block, templates evaluated.
    fn string_map(&self, path: &str) -> Result<BTreeMap<String, String>> {
        let Some(json) = self.block(path)? else {
            return Ok(BTreeMap::new());
        };
        let Json::Object(map) = json else {
            bail!("`mongodb.{path}`: expected a map");
        };
        Ok(map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Json::String(s) => s,
                    Json::Null => String::new(),
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect())
    }

    /// Strings of a value tree evaluated as templates (keys too), for `tpl (toYaml x)`.
    fn tpl_json(&self, value: &Value, path: &str) -> Result<Json> {
        let eval = |s: &str| {
            if s.contains("{{") {
                self.tpl(s, path)
            } else {
                Ok(s.to_string())
            }
        };
        Ok(match value {
            Value::String(s) => Json::String(eval(s)?),
            Value::List(items) => Json::Array(
                items
                    .iter()
                    .map(|v| self.tpl_json(v, path))
                    .collect::<Result<_>>()?,
            ),
            Value::Map(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| Ok((eval(k)?, self.tpl_json(v, path)?)))
                    .collect::<Result<_>>()?,
            ),
            other => other.to_json(),
        })
    }

    /// `common.labels.standard` (minus `helm.sh/chart`, which st2k8s puts on no object) plus
    /// `app.kubernetes.io/component` when given.
    fn labels(&self, component: Option<&str>) -> BTreeMap<String, String> {
        let mut labels = self.match_labels(component);
        labels.insert(
            "app.kubernetes.io/managed-by".into(),
            crate::render::meta::MANAGED_BY.into(),
        );
        labels
    }

    /// `common.labels.matchLabels` plus `app.kubernetes.io/component` when given: selectors.
    fn match_labels(&self, component: Option<&str>) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), self.name.clone()),
            (
                "app.kubernetes.io/instance".to_string(),
                self.ctx.release.name.clone(),
            ),
        ]);
        if let Some(component) = component {
            labels.insert("app.kubernetes.io/component".into(), component.into());
        }
        labels
    }

    /// Metadata of a subchart object: name, namespace, standard labels.
    fn meta(&self, name: String, component: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels(component)),
            ..Default::default()
        }
    }

    /// Metadata with annotations from a user block (omitted when empty).
    fn annotated_meta(
        &self,
        name: String,
        component: Option<&str>,
        annotations: &str,
    ) -> Result<ObjectMeta> {
        let annotations = self.string_map(annotations)?;
        Ok(ObjectMeta {
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..self.meta(name, component)
        })
    }

    /// `common.storage.class`: `global.storageClass`, else `persistence.storageClass`; `-` means
    /// the empty class (no dynamic provisioning).
    fn storage_class(&self) -> Option<String> {
        let class = self
            .ctx
            .v("global.storageClass")
            .or(self.v("persistence.storageClass"));
        class.non_empty().map(|c| match c.to_go_text().as_str() {
            "-" => String::new(),
            other => other.to_string(),
        })
    }
}

/// `Some(items)` unless empty: the chart omits empty lists.
fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// Convert JSON into a typed field ([`typed_json`]), naming the values key on failure.
fn typed<T: DeserializeOwned>(ctx: &Ctx, json: Json, path: &str) -> Result<T> {
    typed_json(ctx, json, &format!("mongodb.{path}"))
}

#[cfg(test)]
mod tests;
