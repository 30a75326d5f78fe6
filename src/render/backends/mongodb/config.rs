//! MongoDB's non-workload objects: ServiceAccount, credentials Secret, the ConfigMaps (replica-set
//! start script, `mongodb.conf` for members and arbiter, init scripts) and the optional Role and
//! RoleBinding.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use serde_json::Value as Json;

use super::{GENERATED_LEN, Mongo, REPLICA_SET_KEY_KEY, ROOT_PASSWORD_KEY, USER_PASSWORD_KEY};
use crate::object::Object;
use crate::render::backends::Flavor;

/// The bitnami flavor's replica-set start script: its key in `<fullname>-scripts`, mounted as
/// `/scripts/setup.sh`.
pub(super) const SETUP_SCRIPT: &str = "setup.sh";

/// The official flavor's start script: its key in `<fullname>-scripts`, mounted as
/// `/scripts/start.sh`.
pub(super) const START_SCRIPT: &str = "start.sh";

pub(super) fn objects(m: &Mongo) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if m.v("serviceAccount.create").truthy() {
        out.push(service_account(m)?);
    }
    if m.auth_enabled() && !m.v("auth.existingSecret").truthy() {
        out.push(secret(m)?);
    }
    if m.replicaset() {
        out.push(scripts(m)?);
    }
    if m.flavor == Flavor::Official {
        // The official flavor's start script configures mongod itself; it reads neither a
        // mongodb.conf nor init scripts (reported as not applying).
        out.extend(rbac(m)?);
        return Ok(out);
    }
    if m.create_configmap() {
        out.push(configuration(
            m,
            "configuration",
            m.fullname.clone(),
            "mongodb",
        )?);
    }
    if m.arbiter_enabled()
        && m.v("arbiter.configuration").truthy()
        && !m.v("arbiter.existingConfigmap").truthy()
    {
        out.push(configuration(
            m,
            "arbiter.configuration",
            m.name("arbiter"),
            "arbiter",
        )?);
    }
    if m.v("initdbScripts").truthy() && !m.v("initdbScriptsConfigMap").truthy() {
        out.push(init_scripts(m)?);
    }
    out.extend(rbac(m)?);
    Ok(out)
}

/// Role and RoleBinding when `rbac.create` (the binding only with the chart's ServiceAccount).
fn rbac(m: &Mongo) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if m.v("rbac.create").truthy() {
        out.push(role(m)?);
        if m.v("serviceAccount.create").truthy() {
            out.push(role_binding(m)?);
        }
    }
    Ok(out)
}

/// ServiceAccount `mongodb.serviceAccountName`, pointing at the credentials Secret as the chart's does.
fn service_account(m: &Mongo) -> Result<Object> {
    Object::new(&ServiceAccount {
        metadata: m.meta(m.service_account_name(), None),
        secrets: Some(vec![ObjectReference {
            name: Some(m.fullname.clone()),
            ..Default::default()
        }]),
        ..Default::default()
    })
}

/// Secret `<fullname>`: root password, the application user's password (when a user and database
/// are set; [`super::user_password`], shared with st2.conf) and the replica-set key (replica set
/// only). Explicit values win; otherwise a 10-character generated value, as the chart's
/// `randAlphaNum 10`.
fn secret(m: &Mongo) -> Result<Object> {
    let mut data = BTreeMap::new();
    let mut generated = |key: &str, path: &str| {
        let value =
            m.ctx
                .secrets
                .given_or_alphanumeric(m.v(path).value(), &m.fullname, key, GENERATED_LEN);
        data.insert(key.to_string(), ByteString(value.into_bytes()));
    };
    generated(ROOT_PASSWORD_KEY, "auth.rootPassword");
    if m.replicaset() {
        generated(REPLICA_SET_KEY_KEY, "auth.replicaSetKey");
    }
    if m.v("auth.username").truthy() && m.v("auth.database").truthy() {
        let password = super::user_password(m.ctx)?;
        data.insert(
            USER_PASSWORD_KEY.to_string(),
            ByteString(password.into_bytes()),
        );
    }
    Object::new(&Secret {
        metadata: m.meta(m.fullname.clone(), Some("mongodb")),
        type_: Some("Opaque".into()),
        data: Some(data),
        ..Default::default()
    })
}

/// ConfigMap `<fullname>-scripts` with st2k8s's own replica-set start script: `setup.sh` for the
/// bitnami image (`templates/mongodb/setup.sh`), `start.sh` for the official one
/// (`templates/mongodb/official/start.sh`).
fn scripts(m: &Mongo) -> Result<Object> {
    let (key, template) = match m.flavor {
        Flavor::Bitnami => (SETUP_SCRIPT, "mongodb/setup.sh"),
        Flavor::Official => (START_SCRIPT, "mongodb/official/start.sh"),
    };
    let script = crate::templates::render(template, ())?;
    Object::new(&ConfigMap {
        metadata: m.meta(m.name("scripts"), Some("mongodb")),
        data: Some(BTreeMap::from([(key.to_string(), script)])),
        ..Default::default()
    })
}

/// ConfigMap with `mongodb.conf` = the templated `configuration` text (trailing newlines dropped,
/// as the chart's `|-` block does).
fn configuration(m: &Mongo, path: &str, name: String, component: &str) -> Result<Object> {
    let Some(source) = m.v(path).as_str() else {
        bail!("`mongodb.{path}`: expected the text of mongodb.conf");
    };
    let text = m.tpl(source, path)?;
    Object::new(&ConfigMap {
        metadata: m.meta(name, Some(component)),
        data: Some(BTreeMap::from([(
            "mongodb.conf".to_string(),
            text.trim_end_matches('\n').to_string(),
        )])),
        ..Default::default()
    })
}

/// ConfigMap `<fullname>-init-scripts`: the `initdbScripts` map (file name → script), templates
/// evaluated.
fn init_scripts(m: &Mongo) -> Result<Object> {
    let Some(Json::Object(scripts)) = m.block("initdbScripts")? else {
        bail!("`mongodb.initdbScripts`: expected a map of file names to scripts");
    };
    let data = scripts
        .into_iter()
        .map(|(file, script)| match script {
            Json::String(s) => Ok((file, s)),
            _ => bail!("`mongodb.initdbScripts.{file}`: expected the script text"),
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    Object::new(&ConfigMap {
        metadata: m.meta(m.name("init-scripts"), Some("mongodb")),
        data: Some(data),
        ..Default::default()
    })
}

/// Role `<fullname>`: read Services (what the chart's external-access auto-discovery needs).
fn role(m: &Mongo) -> Result<Object> {
    Object::new(&Role {
        metadata: m.meta(m.fullname.clone(), None),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["services".into()]),
            verbs: ["get", "list", "watch"].map(String::from).to_vec(),
            ..Default::default()
        }]),
    })
}

/// RoleBinding `<fullname>`: the Role to the MongoDB ServiceAccount.
fn role_binding(m: &Mongo) -> Result<Object> {
    Object::new(&RoleBinding {
        metadata: m.meta(m.fullname.clone(), None),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: m.fullname.clone(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: m.service_account_name(),
            namespace: Some(m.namespace.clone()),
            ..Default::default()
        }]),
    })
}
