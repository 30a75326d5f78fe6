//! `mongodb.flavor: official`: the replica set on docker-library's maintained `mongo` image
//! instead of the chart's frozen bitnami one.
//!
//! The workloads keep every identity field of the bitnami flavor (StatefulSet names,
//! `serviceName`, selectors, `podManagementPolicy`, the `datadir` claim template), so applying
//! the switch patches the StatefulSets in place and every PVC stays. The pods mount the claim
//! where bitnami did (`persistence.mountPath`, `/bitnami/mongodb`) and run mongod on its data
//! directory (`<mountPath>/data/db`) as bitnami's user (1001:1001, fsGroup 1001), so the data
//! the chart's MongoDB 4.4 wrote is opened as it is. The start script
//! (`templates/mongodb/official/start.sh`) replaces bitnami's entrypoint: it initiates or joins
//! the replica set, creates the users on a fresh set and raises the featureCompatibilityVersion
//! once every member runs the new release.
//!
//! MongoDB opens data only from the release series just before its own, so a switch goes
//! 4.4 → 5.0 → 6.0 → 7.0, one rollout each. The step is `mongodb.official.version` (a key of
//! its own: the chart's values always set `mongodb.image.tag: 4.4` for bitnami, so the merged
//! `image.tag` cannot say whether the user chose a release); a new install takes the default,
//! 7.0. `mongodb.image.tag` may still pin a patch release, of that series only.

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, KeyToPath, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, Volume,
    VolumeMount,
};
use serde_json::{Value as Json, json};

use super::config::START_SCRIPT;
use super::containers::{
    MONGODB_PORT, extra_env, extra_flags, server_container, tcp_probe, yes_no,
};
use super::workloads::{arbiter_statefulset, pod, prefix, replicaset_statefulset, sidecars};
use super::{Mongo, REPLICA_SET_KEY_KEY, ROOT_PASSWORD_KEY};
use crate::object::Object;
use crate::render::backends::{Flavor, default_section};
use crate::render::ctx::Ctx;
use crate::render::kit::{
    config_map_volume_mode, empty_dir, env_field, env_secret, env_value, exec_probe, mount,
    mount_file, secret_volume_mode,
};
use crate::render::st2::version::parse_tag;
use crate::values::check::{Finding, Severity};
use crate::values::{Value, View};

/// The release series the official flavor runs, each with its pinned image tag (the last
/// docker-library `mongo` release of the series), in upgrade order.
const RELEASES: &[(&str, &str)] = &[("5.0", "5.0.33"), ("6.0", "6.0.28"), ("7.0", "7.0.37")];

/// `mongodb.official.version` when unset: what a new install runs.
const DEFAULT_SERIES: &str = "7.0";

/// docker-library's image on Docker Hub (`docker.io/mongo`).
const REPOSITORY: &str = "mongo";

/// The user and group bitnami's MongoDB runs as, owner of the data a switch keeps.
const UID: i64 = 1001;

/// Where the pods get the replica-set key (Secret volume), its 0400 copy (emptyDir), a home
/// directory mongosh may write, and the arbiter its throw-away data directory.
const KEY_SECRET_DIR: &str = "/st2k8s/replica-set-key";
const KEY_DIR: &str = "/st2k8s/keyfile";
const HOME_DIR: &str = "/st2k8s/home";
const ARBITER_DATA_DIR: &str = "/st2k8s/arbiter";

/// The MongoDB release the official flavor runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `5.0`, `6.0`, `7.0`: the series, and the featureCompatibilityVersion the start script sets.
    pub series: &'static str,
    /// The image tag: the pinned release of the series, or the user's `mongodb.image.tag`.
    pub tag: String,
    /// The values key that chose the tag, for messages.
    pub key: &'static str,
}

/// The release `mongodb.official.version` (and a user's `mongodb.image.tag`) select.
pub fn release(ctx: &Ctx) -> Result<Release> {
    let stated = ctx.v("mongodb.official.version");
    let series = match stated.value() {
        Value::Null => Some(DEFAULT_SERIES.to_string()),
        Value::String(s) if s.is_empty() => Some(DEFAULT_SERIES.to_string()),
        Value::String(s) => Some(s.clone()),
        // `version: 7.0` unquoted is a number in YAML.
        Value::Float(f) => Some(format!("{f:.1}")),
        _ => None,
    };
    let Some((series, pinned)) = series
        .as_deref()
        .and_then(|s| RELEASES.iter().find(|(name, _)| *name == s))
    else {
        bail!(
            "`mongodb.official.version`: expected 5.0, 6.0 or 7.0 (from the chart's MongoDB 4.4 one step per rollout: 5.0, then 6.0, then 7.0), found {}",
            match stated.value() {
                Value::String(_) | Value::Float(_) => "another value".to_string(),
                other => other.kind_unfit(),
            }
        );
    };
    let tag = ctx.v("mongodb.image.tag");
    if !user_set(&tag, "image.tag") {
        return Ok(Release {
            series,
            tag: (*pinned).to_string(),
            key: "mongodb.official.version",
        });
    }
    let text = tag.to_go_text();
    match parse_tag(&text) {
        Some((major, minor)) if format!("{major}.{minor}") == *series => Ok(Release {
            series,
            tag: text,
            key: "mongodb.image.tag",
        }),
        Some((major, minor)) => bail!(
            "`mongodb.image.tag`: the tag is MongoDB {major}.{minor} while `mongodb.official.version` is {series}; pin a {series} release (e.g. {pinned}) or remove the tag"
        ),
        None => bail!(
            "`mongodb.image.tag`: the official flavor needs a tag naming its MongoDB release (e.g. {pinned}), so that the featureCompatibilityVersion steps follow it"
        ),
    }
}

/// The bundled MongoDB's image tag as StackStorm's version check sees it, with the key that set
/// it: `mongodb.image.tag` for the bitnami flavor, the official flavor's release otherwise.
/// `None` when the official release itself is invalid (rendering reports that).
pub fn effective_tag(ctx: &Ctx) -> Option<(String, &'static str)> {
    match Flavor::of(ctx, "mongodb") {
        Ok(Flavor::Official) => release(ctx).ok().map(|r| (r.tag, r.key)),
        _ => Some((ctx.v("mongodb.image.tag").to_go_text(), "mongodb.image.tag")),
    }
}

/// Whether the user changed `mongodb.<path>` from the built-in value (the chart's over the
/// subchart's): the chart's own bitnami settings are not the user's choice.
fn user_set(value: &View, path: &str) -> bool {
    value.non_empty().is_some() && value.value() != default_section("mongodb").at(path)
}

/// The official flavor's own checks, as errors naming the key.
pub(super) fn validate(m: &Mongo) -> Result<()> {
    if !m.replicaset() {
        bail!(
            "`mongodb.architecture`: the official flavor runs a replica set only; use `replicaset` (the chart's default)"
        );
    }
    release(m.ctx)?;
    image(m)?;
    script_values(m)
}

/// The values the start script, mongod and mongosh receive, checked before anything is written.
/// The replica set's name and the cluster domain become parts of connection strings and host
/// names, so they hold only the characters those allow. No value given as a literal env var may
/// hold `$(`: Kubernetes would expand `$(NAME)` into another variable of the pod (the root
/// password among them) before the script sees it. Control characters would cut the flags the
/// script reads as one line.
fn script_values(m: &Mongo) -> Result<()> {
    let name = m.text("replicaSetName");
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!(
            "`mongodb.replicaSetName`: use 1 to 64 letters, digits, `-`, `_` or `.` (the name is part of the members' connection strings)"
        );
    }
    let domain = m.text("clusterDomain");
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if domain.len() > 253 || !domain.split('.').all(label_ok) {
        bail!(
            "`mongodb.clusterDomain`: expected a DNS domain such as `cluster.local` (dot-separated labels of letters, digits and `-`)"
        );
    }
    let database = m.text("auth.database");
    if m.v("auth.database").truthy()
        && (database.len() > 63
            || database
                .chars()
                .any(|c| "/\\. \"$".contains(c) || c.is_control()))
    {
        bail!(
            "`mongodb.auth.database`: not a MongoDB database name (at most 63 characters, none of `/\\. \"$`)"
        );
    }
    // mongod reads the key file itself and refuses to start on anything else (the generated key
    // is alphanumeric); white space in it is ignored.
    let key: String = m
        .text("auth.replicaSetKey")
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if m.auth_enabled()
        && !m.v("auth.existingSecret").truthy()
        && m.v("auth.replicaSetKey").truthy()
        && (!(6..=1024).contains(&key.len())
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)))
    {
        bail!(
            "`mongodb.auth.replicaSetKey`: mongod takes 6 to 1024 characters of the base64 alphabet (letters, digits, `+`, `/`, `=`)"
        );
    }
    for (key, text) in [
        ("auth.username", m.text("auth.username")),
        ("extraFlags", extra_flags(m, "")),
        ("arbiter.extraFlags", extra_flags(m, "arbiter.")),
    ] {
        if text.contains("$(") || text.chars().any(char::is_control) {
            bail!(
                "`mongodb.{key}`: must not contain `$(` (Kubernetes would expand it into another variable of the pod) or control characters"
            );
        }
    }
    Ok(())
}

/// `<registry>/<repository>:<tag>`: the registry as the bitnami flavor picks it
/// (`global.imageRegistry`, else `image.registry`), docker-library's `mongo` unless the user
/// named another repository, which must not be a bitnami one.
fn image(m: &Mongo) -> Result<String> {
    let registry = m
        .v("global.imageRegistry")
        .or(m.v("image.registry"))
        .to_go_text();
    let given = m.v("image.repository");
    let repository = if user_set(&given, "image.repository") {
        let text = given.to_go_text();
        if text.starts_with("bitnami/") || text.starts_with("bitnamilegacy/") {
            bail!(
                "`mongodb.image.repository`: a bitnami image cannot run the official flavor; remove the key for docker-library's `mongo`, or name a mirror of it"
            );
        }
        text
    } else {
        REPOSITORY.to_string()
    };
    let tag = release(m.ctx)?.tag;
    Ok(if registry.is_empty() {
        format!("{repository}:{tag}")
    } else {
        format!("{registry}/{repository}:{tag}")
    })
}

/// A note on which data the release opens: st2k8s cannot see the data's version, and MongoDB
/// refuses (without harm) data more than one series older than its own.
fn report_step(ctx: &Ctx) -> Result<()> {
    let series = release(ctx)?.series;
    let before = RELEASES
        .iter()
        .position(|(name, _)| *name == series)
        .and_then(|i| i.checked_sub(1))
        .map_or("4.4", |i| RELEASES[i].0);
    let path = RELEASES
        .iter()
        .map(|(name, _)| *name)
        .take_while(|name| *name <= series)
        .collect::<Vec<_>>()
        .join(", then ");
    ctx.report(Finding {
        severity: Severity::Note,
        path: "mongodb.official.version".into(),
        location: None,
        within: None,
        message: format!(
            "MongoDB {series} starts on an empty volume or on data of MongoDB {before} or {series} (featureCompatibilityVersion); the chart's 4.4 data goes {path}, one rollout each (README \"Upgrading the backends\")"
        ),
    });
    Ok(())
}

/// The official workloads: StatefulSet `<fullname>` and, when enabled, `<fullname>-arbiter`.
pub(super) fn workloads(m: &Mongo) -> Result<Vec<Object>> {
    report_step(m.ctx)?;
    let mut out = vec![members(m)?];
    if m.arbiter_enabled() {
        out.push(arbiter(m)?);
    }
    Ok(out)
}

/// StatefulSet `<fullname>`: the bitnami flavor's identity fields, the official pods.
fn members(m: &Mongo) -> Result<Object> {
    // Without persistence the data lives as long as the pod, after the user's volumes.
    let datadir = (!m.v("persistence.enabled").truthy()).then(|| empty_dir("datadir", false));
    let template = official_pod(m, "mongodb", member_container(m)?, None, datadir)?;
    let mut object = replicaset_statefulset(m, template)?;
    object.untype_claim_templates();
    Ok(object)
}

/// StatefulSet `<fullname>-arbiter`: a voting member without data, governed by
/// `<fullname>-arbiter-headless` as in the bitnami flavor.
fn arbiter(m: &Mongo) -> Result<Object> {
    let data = empty_dir("st2k8s-arbiter-data", false);
    let template = official_pod(m, "arbiter", arbiter_container(m)?, Some(data), None)?;
    arbiter_statefulset(m, template)
}

/// The pod of `component` (`mongodb` or `arbiter`): `container` and the user's sidecars; the
/// common volumes, `first`, the user's `<prefix>extraVolumes` and `last`; bitnami's user
/// ([`pod_security_context`]) and the user's `<prefix>initContainers`.
fn official_pod(
    m: &Mongo,
    component: &str,
    container: Container,
    first: Option<Volume>,
    last: Option<Volume>,
) -> Result<PodTemplateSpec> {
    let prefix = prefix(component);
    let mut containers = vec![container];
    containers.extend(sidecars(m, component)?);
    let mut volumes = common_volumes(m);
    volumes.extend(first);
    volumes.extend(
        m.typed_raw::<Vec<Volume>>(&format!("{prefix}extraVolumes"))?
            .unwrap_or_default(),
    );
    volumes.extend(last);
    pod(
        m,
        component,
        PodSpec {
            security_context: Some(pod_security_context(
                m,
                &format!("{prefix}podSecurityContext"),
            )?),
            init_containers: m.typed_block(&format!("{prefix}initContainers"))?,
            containers,
            volumes: Some(volumes),
            ..Default::default()
        },
    )
}

/// The pod security context: the user's block when enabled (bitnami's default is
/// `fsGroup: 1001`), with bitnami's user and group filled in where unset, so that the data
/// the chart's image wrote stays readable and mongod never runs as root.
fn pod_security_context(m: &Mongo, path: &str) -> Result<PodSecurityContext> {
    let mut json = m
        .security_context::<Json>(path)?
        .unwrap_or_else(|| json!({}));
    if let Some(map) = json.as_object_mut() {
        for (key, value) in [
            ("runAsUser", json!(UID)),
            ("runAsGroup", json!(UID)),
            ("fsGroup", json!(UID)),
            ("runAsNonRoot", json!(true)),
        ] {
            map.entry(key).or_insert(value);
        }
    }
    super::typed(m.ctx, json, path)
}

/// Volumes of both pods: the start script, the replica-set key (when auth is on) and the
/// writable places the script and mongosh need.
fn common_volumes(m: &Mongo) -> Vec<Volume> {
    let mut volumes = vec![config_map_volume_mode(
        "scripts",
        m.name("scripts"),
        Some(0o755),
    )];
    if m.auth_enabled() {
        volumes.push(secret_volume_mode(
            "st2k8s-replica-set-key",
            m.secret_name(),
            Some(vec![KeyToPath {
                key: REPLICA_SET_KEY_KEY.into(),
                path: "key".into(),
                ..Default::default()
            }]),
            Some(0o400),
        ));
        volumes.push(empty_dir("st2k8s-keyfile", true));
    }
    volumes.push(empty_dir("st2k8s-home", false));
    volumes
}

/// Mounts of both containers, after the data mount: script, key, home.
fn common_mounts(m: &Mongo) -> Vec<VolumeMount> {
    let mut mounts = vec![mount_file(
        "scripts",
        &format!("/scripts/{START_SCRIPT}"),
        START_SCRIPT,
    )];
    if m.auth_enabled() {
        let mut key = mount("st2k8s-replica-set-key", KEY_SECRET_DIR);
        key.read_only = Some(true);
        mounts.push(key);
        mounts.push(mount("st2k8s-keyfile", KEY_DIR));
    }
    mounts.push(mount("st2k8s-home", HOME_DIR));
    mounts
}

/// The `mongodb` container of a replica-set member: on the claim, with the application user.
fn member_container(m: &Mongo) -> Result<Container> {
    let mount_path = m.text("persistence.mountPath");
    let data = VolumeMount {
        name: "datadir".into(),
        mount_path: mount_path.clone(),
        sub_path: m
            .v("persistence.subPath")
            .non_empty()
            .map(Value::to_go_text),
        ..Default::default()
    };
    let mut env = pod_env(m, "mongodb", &format!("{mount_path}/data/db"));
    if m.auth_enabled() {
        let secret = m.secret_name();
        if m.v("auth.username").truthy() && m.v("auth.database").truthy() {
            env.push(env_value("MONGODB_USERNAME", m.text("auth.username")));
            env.push(env_value("MONGODB_DATABASE", m.text("auth.database")));
            env.push(env_secret(
                "MONGODB_PASSWORD",
                &secret,
                super::USER_PASSWORD_KEY,
                false,
            ));
        }
    }
    env.extend([
        env_value("MONGODB_ENABLE_IPV6", yes_no(m, "enableIPv6", "yes", "no")),
        env_value(
            "MONGODB_ENABLE_DIRECTORY_PER_DB",
            yes_no(m, "directoryPerDB", "yes", "no"),
        ),
    ]);
    container(m, "mongodb", data, env)
}

/// The `mongodb-arbiter` container: the same image and script, joining as an arbiter, on a
/// throw-away data directory.
fn arbiter_container(m: &Mongo) -> Result<Container> {
    let data = mount("st2k8s-arbiter-data", ARBITER_DATA_DIR);
    let env = pod_env(m, "arbiter", &format!("{ARBITER_DATA_DIR}/data/db"));
    container(m, "arbiter", data, env)
}

/// The container of `component` (`mongodb` or `arbiter`): the image running the start script
/// with `env` and the user's `<prefix>extraFlags`/`extraEnvVars`, the `data` mount, the common
/// mounts and the user's `<prefix>extraVolumeMounts`; a member is probed with `mongosh` ping,
/// the arbiter (no data to ask) on its port.
fn container(
    m: &Mongo,
    component: &str,
    data: VolumeMount,
    mut env: Vec<EnvVar>,
) -> Result<Container> {
    let prefix = prefix(component);
    let mut mounts = vec![data];
    mounts.extend(common_mounts(m));
    mounts.extend(
        m.typed_raw::<Vec<VolumeMount>>(&format!("{prefix}extraVolumeMounts"))?
            .unwrap_or_default(),
    );
    env.extend(extra_env(m, prefix)?);
    let (name, check): (_, fn(&Mongo) -> Probe) = if component == "arbiter" {
        ("mongodb-arbiter", tcp_probe)
    } else {
        ("mongodb", ping)
    };
    Ok(Container {
        image: Some(image(m)?),
        command: Some(vec!["/bin/bash".into(), format!("/scripts/{START_SCRIPT}")]),
        env: Some(env),
        volume_mounts: Some(mounts),
        ..server_container(m, name, prefix, check)?
    })
}

/// What the start script reads, common to members and the arbiter of `component`: who the pod
/// is, where the replica set and the data are, the release, the key file and the root password,
/// and the first member to join through (written as the bitnami flavor writes it).
fn pod_env(m: &Mongo, component: &str, data_dir: &str) -> Vec<EnvVar> {
    let domain = m.text("clusterDomain");
    let series = release(m.ctx).map(|r| r.series).unwrap_or(DEFAULT_SERIES);
    let (service, role, initial_primary_service) = if component == "arbiter" {
        (m.name("arbiter-headless"), "arbiter", m.name("headless"))
    } else {
        (
            m.name("headless"),
            "member",
            "$(K8S_SERVICE_NAME)".to_string(),
        )
    };
    let mut env = vec![
        env_field("MY_POD_NAME", "metadata.name"),
        env_field("MY_POD_NAMESPACE", "metadata.namespace"),
        env_value("K8S_SERVICE_NAME", service),
        env_value(
            "MONGODB_ADVERTISED_HOSTNAME",
            format!("$(MY_POD_NAME).$(K8S_SERVICE_NAME).$(MY_POD_NAMESPACE).svc.{domain}"),
        ),
        env_value("MONGODB_REPLICA_SET_NAME", m.text("replicaSetName")),
        env_value("MONGODB_PORT_NUMBER", MONGODB_PORT.to_string()),
        env_value("MONGODB_ROLE", role),
        env_value("MONGODB_VERSION", series),
        env_value("MONGODB_DATA_DIR", data_dir),
        // mongosh keeps its history and logs under $HOME; the image's is not writable.
        env_value("HOME", HOME_DIR),
    ];
    if m.auth_enabled() {
        env.extend([
            env_value("MONGODB_KEY_SOURCE", format!("{KEY_SECRET_DIR}/key")),
            env_value("MONGODB_KEY_FILE", format!("{KEY_DIR}/key")),
            env_secret(
                "MONGODB_ROOT_PASSWORD",
                m.secret_name(),
                ROOT_PASSWORD_KEY,
                false,
            ),
        ]);
    }
    env.push(env_value(
        "MONGODB_INITIAL_PRIMARY_HOST",
        format!(
            "{}-0.{initial_primary_service}.$(MY_POD_NAMESPACE).svc.{domain}",
            m.fullname
        ),
    ));
    env
}

/// `mongosh … ping` on the pod's own server (no credentials needed).
fn ping(_: &Mongo) -> Probe {
    exec_probe([
        "mongosh",
        "--quiet",
        "--norc",
        "--eval",
        "db.adminCommand('ping')",
    ])
}

#[cfg(test)]
mod tests {
    use serde_json::{Value as Json, json};

    use super::super::{network_targets, objects};
    use crate::render::test_support::with_release;

    /// The rendered MongoDB objects as (kind, name, body), with the findings reported meanwhile.
    fn render(yaml: &str) -> (Vec<(String, String, Json)>, Vec<String>) {
        let (objects, findings) = with_release("st2", yaml, |ctx| {
            let objects = objects(ctx).expect("mongodb renders");
            (objects, ctx.take_findings())
        });
        let objects = objects
            .into_iter()
            .map(|o| (o.kind.clone(), o.name.clone(), o.body().clone()))
            .collect();
        let findings = findings
            .into_iter()
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect();
        (objects, findings)
    }

    fn error(yaml: &str) -> String {
        with_release("st2", yaml, |ctx| match objects(ctx) {
            Ok(_) => panic!("{yaml} renders"),
            Err(e) => format!("{e:#}"),
        })
    }

    fn official(extra: &str) -> String {
        format!("mongodb: {{flavor: official{extra}}}")
    }

    fn find<'a>(objects: &'a [(String, String, Json)], kind: &str, name: &str) -> &'a Json {
        objects
            .iter()
            .find(|(k, n, _)| k == kind && n == name)
            .map(|(_, _, body)| body)
            .unwrap_or_else(|| panic!("{kind}/{name} missing"))
    }

    /// What `kubectl apply` cannot change on a StatefulSet, plus where the data is mounted.
    fn identity(sts: &Json) -> Json {
        let data_mount = sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
            .as_array()
            .and_then(|mounts| mounts.iter().find(|m| m["name"] == "datadir"))
            .map(|m| {
                json!([
                    m["mountPath"],
                    m.get("subPath").cloned().unwrap_or(Json::Null)
                ])
            });
        json!({
            "serviceName": sts["spec"]["serviceName"],
            "selector": sts["spec"]["selector"],
            "podManagementPolicy": sts["spec"]["podManagementPolicy"],
            "volumeClaimTemplates": sts["spec"]["volumeClaimTemplates"],
            "podLabels": sts["spec"]["template"]["metadata"]["labels"],
            "dataMount": data_mount,
        })
    }

    #[test]
    fn names_selectors_and_claims_are_the_bitnami_flavors() {
        for extra in [
            "",
            ", arbiter: {enabled: true}",
            ", fullnameOverride: db, replicaCount: 5, podManagementPolicy: Parallel",
            ", persistence: {size: 20Gi, storageClass: fast, annotations: {a: b}, subPath: mongo}",
            ", persistence: {enabled: false}, pdb: {create: true}",
            ", auth: {enabled: false}, arbiter: {enabled: true, pdb: {create: true}}",
        ] {
            let bitnami = render(&format!("mongodb: {{flavor: bitnami{extra}}}")).0;
            let official = render(&official(extra)).0;
            let kinds_and_names = |objects: &[(String, String, Json)]| {
                let mut names: Vec<String> =
                    objects.iter().map(|(k, n, _)| format!("{k}/{n}")).collect();
                names.sort();
                names
            };
            assert_eq!(
                kinds_and_names(&bitnami),
                kinds_and_names(&official),
                "{extra}"
            );
            for (kind, name, body) in &bitnami {
                let other = find(&official, kind, name);
                match kind.as_str() {
                    "StatefulSet" => {
                        assert_eq!(identity(body), identity(other), "{name} {extra}");
                        assert_eq!(body["metadata"], other["metadata"], "{name} {extra}");
                    }
                    // Everything but the workloads and the start script is the same object.
                    "ConfigMap" => {}
                    _ => assert_eq!(body, other, "{kind}/{name} {extra}"),
                }
            }
        }
    }

    #[test]
    fn pods_run_the_official_image_as_bitnamis_user_on_its_data_directory() {
        let (objects, findings) = render(&official(", arbiter: {enabled: true}"));
        assert_eq!(findings.len(), 1, "only the release note: {findings:?}");
        let sts = find(&objects, "StatefulSet", "st2-mongodb");
        let pod = &sts["spec"]["template"]["spec"];
        assert_eq!(
            pod["securityContext"],
            json!({"fsGroup": 1001, "runAsGroup": 1001, "runAsNonRoot": true, "runAsUser": 1001, "sysctls": []})
        );
        let container = &pod["containers"][0];
        assert_eq!(container["image"], "docker.io/mongo:7.0.37");
        assert_eq!(
            container["command"],
            json!(["/bin/bash", "/scripts/start.sh"])
        );
        let env = |name: &str| {
            container["env"]
                .as_array()
                .and_then(|env| env.iter().find(|e| e["name"] == name))
                .cloned()
                .unwrap_or(Json::Null)
        };
        assert_eq!(env("MONGODB_DATA_DIR")["value"], "/bitnami/mongodb/data/db");
        assert_eq!(env("MONGODB_VERSION")["value"], "7.0");
        assert_eq!(env("MONGODB_ROLE")["value"], "member");
        assert_eq!(
            env("MONGODB_ROOT_PASSWORD")["valueFrom"]["secretKeyRef"],
            json!({"name": "st2-mongodb", "key": "mongodb-root-password"})
        );
        // No credential is a literal value anywhere in the pod or in a ConfigMap.
        let config_maps: Vec<&Json> = objects
            .iter()
            .filter(|(kind, _, _)| kind == "ConfigMap")
            .map(|(_, _, body)| body)
            .collect();
        let text = serde_json::to_string(&(pod, config_maps)).expect("json");
        for secret in [
            "XeL5Rxwj7F0Wt43tFZVTN7H8Sg5XDHmK",
            "8fAzdnksdzPFUWm4a68EfY7nMhBPaa",
            "82PItDpqroti5RngOA7UqbHH7c6bFUwy",
        ] {
            assert!(!text.contains(secret));
        }
        assert_eq!(
            container["readinessProbe"]["exec"]["command"],
            json!([
                "mongosh",
                "--quiet",
                "--norc",
                "--eval",
                "db.adminCommand('ping')"
            ])
        );
        let key = pod["volumes"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["name"] == "st2k8s-replica-set-key"))
            .expect("key volume");
        assert_eq!(
            key["secret"],
            json!({"secretName": "st2-mongodb", "defaultMode": 256, "items": [{"key": "mongodb-replica-set-key", "path": "key"}]})
        );
        let arbiter = find(&objects, "StatefulSet", "st2-mongodb-arbiter");
        let container = &arbiter["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["name"], "mongodb-arbiter");
        assert_eq!(container["image"], "docker.io/mongo:7.0.37");
        let script = find(&objects, "ConfigMap", "st2-mongodb-scripts");
        let script = script["data"]["start.sh"].as_str().expect("start.sh");
        assert!(script.starts_with("#!/bin/bash\n"));
    }

    #[test]
    fn images_follow_the_version_and_the_users_image_keys() {
        for (extra, want) in [
            ("", "docker.io/mongo:7.0.37"),
            (", official: {version: '5.0'}", "docker.io/mongo:5.0.33"),
            (", official: {version: 6.0}", "docker.io/mongo:6.0.28"),
            (
                ", official: {version: '6.0'}, image: {tag: 6.0.20}",
                "docker.io/mongo:6.0.20",
            ),
            (
                ", image: {registry: mirror.local, repository: lib/mongo}",
                "mirror.local/lib/mongo:7.0.37",
            ),
            // The chart's own bitnami values are not the user's choice: ignored.
            (
                ", image: {repository: bitnami/mongodb, tag: '4.4'}",
                "docker.io/mongo:7.0.37",
            ),
            (", global: {imageRegistry: reg.io}", "reg.io/mongo:7.0.37"),
        ] {
            let (objects, _) = render(&official(extra));
            let sts = find(&objects, "StatefulSet", "st2-mongodb");
            assert_eq!(
                sts["spec"]["template"]["spec"]["containers"][0]["image"], want,
                "{extra}"
            );
        }
    }

    #[test]
    fn refused_values_name_their_key() {
        for (extra, want) in [
            (
                ", official: {version: '4.4'}",
                "`mongodb.official.version`: expected 5.0, 6.0 or 7.0 (from the chart's MongoDB 4.4 one step per rollout: 5.0, then 6.0, then 7.0), found another value",
            ),
            (
                ", official: {version: [7]}",
                "`mongodb.official.version`: expected 5.0, 6.0 or 7.0 (from the chart's MongoDB 4.4 one step per rollout: 5.0, then 6.0, then 7.0), found a list",
            ),
            (
                ", official: {version: '5.0'}, image: {tag: 7.0.2}",
                "`mongodb.image.tag`: the tag is MongoDB 7.0 while `mongodb.official.version` is 5.0; pin a 5.0 release (e.g. 5.0.33) or remove the tag",
            ),
            (
                ", image: {tag: latest}",
                "`mongodb.image.tag`: the official flavor needs a tag naming its MongoDB release (e.g. 7.0.37), so that the featureCompatibilityVersion steps follow it",
            ),
            (
                ", image: {repository: bitnamilegacy/mongodb}",
                "`mongodb.image.repository`: a bitnami image cannot run the official flavor; remove the key for docker-library's `mongo`, or name a mirror of it",
            ),
            (
                ", replicaSetName: 'rs0&tls=false'",
                "`mongodb.replicaSetName`: use 1 to 64 letters, digits, `-`, `_` or `.` (the name is part of the members' connection strings)",
            ),
            (
                ", replicaSetName: ''",
                "`mongodb.replicaSetName`: use 1 to 64 letters, digits, `-`, `_` or `.` (the name is part of the members' connection strings)",
            ),
            (
                ", clusterDomain: 'cluster.local$(MONGODB_ROOT_PASSWORD)'",
                "`mongodb.clusterDomain`: expected a DNS domain such as `cluster.local` (dot-separated labels of letters, digits and `-`)",
            ),
            (
                ", clusterDomain: 'cluster..local'",
                "`mongodb.clusterDomain`: expected a DNS domain such as `cluster.local` (dot-separated labels of letters, digits and `-`)",
            ),
            (
                ", auth: {database: 'st2/admin'}",
                "`mongodb.auth.database`: not a MongoDB database name (at most 63 characters, none of `/\\. \"$`)",
            ),
            (
                ", auth: {username: 'st2$(MONGODB_ROOT_PASSWORD)'}",
                "`mongodb.auth.username`: must not contain `$(` (Kubernetes would expand it into another variable of the pod) or control characters",
            ),
            (
                ", extraFlags: ['--setParameter', 'x=$(MONGODB_ROOT_PASSWORD)']",
                "`mongodb.extraFlags`: must not contain `$(` (Kubernetes would expand it into another variable of the pod) or control characters",
            ),
            (
                ", arbiter: {extraFlags: \"--a\\n--b\"}",
                "`mongodb.arbiter.extraFlags`: must not contain `$(` (Kubernetes would expand it into another variable of the pod) or control characters",
            ),
            (
                ", auth: {replicaSetKey: 'short'}",
                "`mongodb.auth.replicaSetKey`: mongod takes 6 to 1024 characters of the base64 alphabet (letters, digits, `+`, `/`, `=`)",
            ),
            (
                ", auth: {replicaSetKey: 'not-base64-key!'}",
                "`mongodb.auth.replicaSetKey`: mongod takes 6 to 1024 characters of the base64 alphabet (letters, digits, `+`, `/`, `=`)",
            ),
            (
                ", architecture: standalone",
                "`mongodb.architecture`: the official flavor runs a replica set only; use `replicaset` (the chart's default)",
            ),
        ] {
            assert_eq!(error(&official(extra)), want, "{extra}");
        }
    }

    #[test]
    fn a_note_names_the_data_each_release_opens() {
        for (version, want) in [
            (
                "'5.0'",
                "mongodb.official.version: MongoDB 5.0 starts on an empty volume or on data of MongoDB 4.4 or 5.0 (featureCompatibilityVersion); the chart's 4.4 data goes 5.0, one rollout each (README \"Upgrading the backends\")",
            ),
            (
                "'7.0'",
                "mongodb.official.version: MongoDB 7.0 starts on an empty volume or on data of MongoDB 6.0 or 7.0 (featureCompatibilityVersion); the chart's 4.4 data goes 5.0, then 6.0, then 7.0, one rollout each (README \"Upgrading the backends\")",
            ),
        ] {
            let (_, findings) = render(&official(&format!(", official: {{version: {version}}}")));
            assert_eq!(findings, [want], "{version}");
        }
    }

    #[test]
    fn an_existing_secret_holds_the_key_and_the_passwords() {
        let (objects, _) = render(&official(", auth: {existingSecret: mine, password: pw}"));
        assert!(!objects.iter().any(|(k, _, _)| k == "Secret"));
        let pod = &find(&objects, "StatefulSet", "st2-mongodb")["spec"]["template"]["spec"];
        let text = serde_json::to_string(pod).expect("json");
        assert!(text.contains(r#""secretName":"mine""#), "{text}");
        assert!(!text.contains(r#""name":"st2-mongodb","key""#), "{text}");
    }

    #[test]
    fn bitnami_only_keys_are_reported_as_not_applying() {
        let (objects, findings) = render(&official(
            ", metrics: {enabled: true}, configuration: 'x: 1', replicaSetHostnames: false, image: {debug: true}, resources: {limits: {cpu: 1}}, tls: {enabled: true}",
        ));
        assert_eq!(findings.len(), 1, "only the note on the data: {findings:?}");
        let set = ", metrics: {enabled: true}, configuration: 'x: 1', replicaSetHostnames: false, image: {debug: true}, resources: {limits: {cpu: 1}}, tls: {enabled: true}";
        assert_eq!(
            crate::render::test_support::unread(&format!(
                "image: {{tag: '3.9'}}\n{}",
                official(set)
            )),
            [
                "mongodb.configuration",
                "mongodb.image.debug",
                "mongodb.metrics.enabled",
                "mongodb.replicaSetHostnames",
                "mongodb.tls.enabled",
            ]
        );
        // No exporter: no metrics Service, and no ConfigMap for the ignored configuration.
        assert!(!objects.iter().any(|(_, n, _)| n == "st2-mongodb-metrics"));
        assert!(
            !objects
                .iter()
                .any(|(k, n, _)| k == "ConfigMap" && n == "st2-mongodb")
        );
        // The bitnami flavor reads them (its metrics exporter, its configuration file…).
        assert_eq!(
            crate::render::test_support::unread(
                "mongodb: {metrics: {enabled: true}, configuration: 'x: 1', replicaSetHostnames: false}"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn network_targets_keep_the_client_port_without_metrics() {
        let targets = with_release(
            "st2",
            &official(", metrics: {enabled: true}, arbiter: {enabled: true}"),
            |ctx| network_targets(ctx).expect("targets"),
        );
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["st2-mongodb", "st2-mongodb-arbiter"]);
        for target in &targets {
            assert_eq!(target.client_ports, [27017]);
            assert!(target.open_ports.is_empty());
        }
    }
}
