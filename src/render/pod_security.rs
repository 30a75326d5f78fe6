//! `podSecurity: restricted`: every pod template meets the Kubernetes Pod Security Standards
//! "restricted" level, with the same images.
//!
//! The chart runs most containers as root with no security context; a namespace labelled
//! `pod-security.kubernetes.io/enforce: restricted` rejects all of its pods. With the profile,
//! this pass runs over the finished objects (every builder's pods alike: st2 services, Jobs, hooks,
//! the test Pod, the bundled backends) and, in each pod template:
//!
//! - fills in what the user left unset: `runAsNonRoot: true`, a numeric `runAsUser` (the st2
//!   images name their user, which the kubelet cannot check for non-root), `fsGroup` (so mounted
//!   Secrets and volumes stay readable), `seccompProfile: RuntimeDefault`; per container
//!   `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]`, and
//!   `readOnlyRootFilesystem: true` for the containers known to write nowhere else than the
//!   emptyDirs given to them. Keys the user set win: the profile only fills gaps;
//! - gives the images the writable places they need as a non-root user: `/tmp` for the st2
//!   Python services, `~stanley/.ssh` for the post-start script that installs the SSH key, the
//!   nginx directories of st2web (its start command writes `/etc/nginx/conf.d/st2.conf`, so an
//!   init container first copies the image's templates into that emptyDir), and lets st2web's
//!   nginx bind port 80 through the namespaced sysctl `net.ipv4.ip_unprivileged_port_start`
//!   (allowed by the restricted level; an added `NET_BIND_SERVICE` would not reach a non-root
//!   process's effective set without file capabilities);
//! - rejects what cannot be restricted, naming the values key where there is one: root or
//!   privileged security contexts, added capabilities other than `NET_BIND_SERVICE`, volume types
//!   outside the restricted list (NFS, hostPath), the bitnami root/privileged init containers.
//!
//! Unset, nothing here runs and the render is the chart's, byte for byte.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Result, bail};
use serde_json::{Map, Value as Json, json};

use super::ctx::Ctx;
use super::pod::volumes::CLIENT_CONFIG_DIR;
use crate::object::{Object, SharedItems};
use crate::values::{Value, View};

/// The values key that selects the profile.
pub const KEY: &str = "podSecurity";

/// The user the st2 images run as (`stanley`); also their `fsGroup`.
pub const ST2_UID: i64 = 1000;
/// The user the bitnami backend images run as; also their `fsGroup`.
pub const BITNAMI_UID: i64 = 1001;

/// Volume types the restricted level allows.
pub const ALLOWED_VOLUME_TYPES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// The only capability a restricted container may add.
const ALLOWED_CAPABILITY: &str = "NET_BIND_SERVICE";

/// Names of the volumes the profile adds (prefixed so they cannot meet a user's volume).
const TMP_VOL: &str = "st2k8s-tmp";
const SSH_VOL: &str = "st2k8s-ssh";
const NGINX_VOLS: &[(&str, &str)] = &[
    ("st2k8s-nginx-conf", "/etc/nginx/conf.d"),
    ("st2k8s-nginx-cache", "/var/cache/nginx"),
    ("st2k8s-nginx-run", "/run"),
    ("st2k8s-nginx-log", "/var/log/nginx"),
];

/// Where the post-start scripts find the SSH key (its Secret volume) and where they install it
/// (`st2.system_user.ssh_key_file`'s directory, made writable).
struct SshPaths {
    key_volume: String,
    dir: String,
}

/// Whether `podSecurity: restricted` is set; any other value than unset/null is an error.
pub fn restricted(values: &View) -> Result<bool> {
    match values.at(KEY).value() {
        Value::Null => Ok(false),
        Value::String(s) if s == "restricted" => Ok(true),
        _ => {
            bail!("`{KEY}`: expected `restricted` (or no value for the chart's security contexts)")
        }
    }
}

/// Values the profile cannot honour, each an error naming its key.
pub fn check_values(ctx: &Ctx) -> Result<()> {
    let mut problems = Vec::new();
    for backend in ["mongodb", "rabbitmq", "redis"] {
        if !ctx.v(&format!("{backend}.enabled")).truthy() {
            continue;
        }
        // The official RabbitMQ renders no volumePermissions init container (the key is
        // reported as not applying to it).
        let official_rabbitmq = backend == "rabbitmq"
            && matches!(
                super::backends::Flavor::of(ctx, backend),
                Ok(super::backends::Flavor::Official)
            );
        if !official_rabbitmq
            && ctx
                .v(&format!("{backend}.volumePermissions.enabled"))
                .truthy()
        {
            problems.push(format!(
                "`{backend}.volumePermissions.enabled`: its init container runs as root; set it to false (the pod's fsGroup makes the volume writable)"
            ));
        }
    }
    if ctx.v("redis.enabled").truthy() && ctx.v("redis.sysctlImage.enabled").truthy() {
        problems.push(
            "`redis.sysctlImage.enabled`: its init container is privileged; set it to false and tune the node's sysctls outside the pod".into(),
        );
    }
    if ctx.v("st2.packs.volumes.enabled").truthy() {
        for which in ["packs", "virtualenvs", "configs"] {
            let key = format!("st2.packs.volumes.{which}");
            for (kind, _) in ctx.v(&key).entries() {
                if !allowed_volume_key(kind) {
                    problems.push(format!(
                        "`{key}.{kind}`: {kind} volumes are not allowed; use a persistentVolumeClaim (a PersistentVolume may be backed by {kind})"
                    ));
                }
            }
        }
    }
    security_blocks(ctx.values.peek(), "", &mut problems);
    match problems.as_slice() {
        [] => Ok(()),
        [one] => bail!("{one} (`{KEY}: restricted`)"),
        many => bail!(
            "`{KEY}: restricted` cannot be met:\n  {}",
            many.join("\n  ")
        ),
    }
}

/// Whether a volume source key in the values may stay: an allowed type, or a key still to be
/// templated (`tpl` decides its type; the rendered pod is checked in [`apply`]).
fn allowed_volume_key(kind: &str) -> bool {
    ALLOWED_VOLUME_TYPES.contains(&kind) || kind.contains("{{")
}

/// Every `securityContext` / `podSecurityContext` / `containerSecurityContext` block in the
/// values that contradicts the profile, and every `extra_volumes` item of a type it forbids. The bitnami `volumePermissions` / `sysctlImage` blocks
/// are left to [`check_values`] (they only matter when enabled).
fn security_blocks(value: &Value, path: &str, problems: &mut Vec<String>) {
    for (key, child) in value.entries() {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if matches!(key.as_str(), "volumePermissions" | "sysctlImage") {
            continue;
        }
        if key == "extra_volumes" {
            for (i, item) in child.as_list().iter().enumerate() {
                for (kind, _) in item.key("volume").entries() {
                    if !allowed_volume_key(kind) {
                        problems.push(format!(
                            "`{here}[{i}].volume.{kind}`: {kind} volumes are not allowed; use a persistentVolumeClaim, configMap, secret or emptyDir"
                        ));
                    }
                }
            }
        } else if matches!(
            key.as_str(),
            "securityContext" | "podSecurityContext" | "containerSecurityContext"
        ) && child.as_map().is_some()
        {
            problems.extend(contradictions(&child.to_json(), &here));
        } else if child.as_map().is_some() {
            security_blocks(child, &here, problems);
        } else {
            for (i, item) in child.as_list().iter().enumerate() {
                security_blocks(item, &format!("{here}[{i}]"), problems);
            }
        }
    }
}

/// What in one security context (pod or container, as JSON) contradicts the profile; `at`
/// names it in the messages.
fn contradictions(sc: &Json, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    if sc.get("runAsUser").and_then(Json::as_i64) == Some(0) {
        out.push(format!(
            "`{at}.runAsUser`: 0 (root) is not allowed; remove it or use a non-root UID"
        ));
    }
    if sc.get("runAsNonRoot") == Some(&Json::Bool(false)) {
        out.push(format!(
            "`{at}.runAsNonRoot`: false is not allowed; remove it"
        ));
    }
    if sc.get("privileged") == Some(&Json::Bool(true)) {
        out.push(format!("`{at}.privileged`: true is not allowed; remove it"));
    }
    if sc.get("allowPrivilegeEscalation") == Some(&Json::Bool(true)) {
        out.push(format!(
            "`{at}.allowPrivilegeEscalation`: true is not allowed; remove it"
        ));
    }
    if let Some(add) = sc.pointer("/capabilities/add").and_then(Json::as_array) {
        let bad: Vec<String> = add
            .iter()
            .filter(|c| c.as_str() != Some(ALLOWED_CAPABILITY))
            .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
            .collect();
        if !bad.is_empty() {
            out.push(format!(
                "`{at}.capabilities.add`: {} not allowed; only {ALLOWED_CAPABILITY} may be added",
                bad.join(", ")
            ));
        }
    }
    if let Some(kind) = sc.pointer("/seccompProfile/type").and_then(Json::as_str)
        && !matches!(kind, "RuntimeDefault" | "Localhost")
    {
        out.push(format!(
            "`{at}.seccompProfile.type`: {kind} is not allowed; use RuntimeDefault or Localhost"
        ));
    }
    out
}

/// Apply the profile to every pod template of `objects` (see the module docs).
pub fn apply(ctx: &Ctx, objects: &mut [Object]) -> Result<()> {
    let key = crate::render::pod::ssh_key::paths(ctx)?;
    let ssh = SshPaths {
        key_volume: key.volume_mount_path(),
        dir: key.dir,
    };
    // Shared init containers are restricted once per list, however many pods carry them.
    let mut shared: HashMap<*const Vec<Json>, SharedItems> = HashMap::new();
    for object in objects.iter_mut() {
        let Some(template) = object.pod_template_pointer() else {
            continue;
        };
        let what = format!("{}/{}", object.kind, object.name);
        let Some(spec) = object.body_mut().pointer_mut(&format!("{template}/spec")) else {
            continue;
        };
        restrict_pod(spec, &what, &ssh)?;
        if let Some(splice) = object.splice.as_mut() {
            let key = Arc::as_ptr(&splice.items);
            let restricted = match shared.get(&key) {
                Some(done) => done.clone(),
                None => {
                    let mut items = (*splice.items).clone();
                    for item in &mut items {
                        restrict_container(item, false, &what)?;
                    }
                    let done: SharedItems = Arc::new(items);
                    shared.insert(key, done.clone());
                    done
                }
            };
            splice.items = restricted;
        }
    }
    Ok(())
}

/// Restrict one pod spec.
fn restrict_pod(spec: &mut Json, what: &str, ssh: &SshPaths) -> Result<()> {
    let Some(spec) = spec.as_object_mut() else {
        return Ok(());
    };
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec.get(field) == Some(&Json::Bool(true)) {
            bail!("{what}: `{field}: true` is not allowed with `{KEY}: restricted`");
        }
    }
    for volume in list(spec, "volumes") {
        if let Some(map) = volume.as_object()
            && let Some(kind) = map
                .keys()
                .find(|k| *k != "name" && !ALLOWED_VOLUME_TYPES.contains(&k.as_str()))
        {
            bail!(
                "{what}: volume `{}` is of type {kind}, not allowed with `{KEY}: restricted` (allowed: {})",
                map.get("name").and_then(Json::as_str).unwrap_or_default(),
                ALLOWED_VOLUME_TYPES.join(", ")
            );
        }
    }
    let images: Vec<String> = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| list(spec, k))
        .filter_map(|c| c.get("image").and_then(Json::as_str).map(str::to_string))
        .collect();
    let default_uid = if images.iter().any(|i| i.contains("bitnami")) {
        BITNAMI_UID
    } else {
        ST2_UID
    };
    let sc = object_at(spec, "securityContext");
    if let Some(problem) = contradictions(&Json::Object(sc.clone()), "securityContext")
        .into_iter()
        .next()
    {
        bail!("{what}: pod {problem} (`{KEY}: restricted`)");
    }
    sc.entry("runAsNonRoot").or_insert(Json::Bool(true));
    let uid = sc
        .entry("runAsUser")
        .or_insert(json!(default_uid))
        .as_i64()
        .unwrap_or(default_uid);
    sc.entry("fsGroup").or_insert(json!(uid));
    sc.entry("seccompProfile")
        .or_insert(json!({"type": "RuntimeDefault"}));

    let containers = |spec: &Map<String, Json>, key: &str| -> Vec<String> {
        list(spec, key)
            .iter()
            .filter_map(|c| c.get("name").and_then(Json::as_str).map(str::to_string))
            .collect()
    };
    let st2web = containers(spec, "containers").iter().any(|n| n == "st2web")
        && images.iter().any(|i| i.contains("st2web"));
    let mut need_tmp = false;
    let mut need_ssh = false;
    for key in ["initContainers", "containers"] {
        let main = key == "containers";
        if let Some(Json::Array(items)) = spec.get_mut(key) {
            for c in items.iter_mut() {
                let name = c
                    .get("name")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string();
                let name = name.as_str();
                let read_only = (main && crate::components::READ_ONLY_ROOT.contains(&name))
                    || name.starts_with("wait-for-")
                    || name == "generate-htpasswd";
                if main && read_only && name != "st2web" {
                    add_mount(c, TMP_VOL, "/tmp");
                    need_tmp = true;
                }
                if has_mount(c, &ssh.key_volume) {
                    add_mount(c, SSH_VOL, &ssh.dir);
                    need_ssh = true;
                }
                if has_mount(c, CLIENT_CONFIG_DIR) {
                    add_env(c, "ST2_CONFIG_FILE", &format!("{CLIENT_CONFIG_DIR}config"));
                }
                if main && name == "st2web" && st2web {
                    for (vol, path) in NGINX_VOLS {
                        add_mount(c, vol, path);
                    }
                }
                restrict_container(c, read_only, what)?;
            }
        }
    }
    if need_tmp {
        add_empty_dir(spec, TMP_VOL);
    }
    if need_ssh {
        add_empty_dir(spec, SSH_VOL);
    }
    if st2web {
        st2web_nginx(spec, what)?;
    }
    Ok(())
}

/// st2web's nginx as non-root: emptyDirs for what it writes, the image's config templates copied
/// into the writable `conf.d`, and unprivileged binding of port 80/443.
fn st2web_nginx(spec: &mut Map<String, Json>, what: &str) -> Result<()> {
    for (vol, _) in NGINX_VOLS {
        add_empty_dir(spec, vol);
    }
    let image = list(spec, "containers")
        .iter()
        .find(|c| c.get("name").and_then(Json::as_str) == Some("st2web"))
        .and_then(|c| c.get("image").cloned());
    let pull = list(spec, "containers")
        .iter()
        .find(|c| c.get("name").and_then(Json::as_str) == Some("st2web"))
        .and_then(|c| c.get("imagePullPolicy").cloned());
    let mut copy = json!({
        "name": "copy-nginx-templates",
        "image": image,
        "command": ["sh", "-ec", "cp /etc/nginx/conf.d/*.template /st2k8s-nginx-conf/\n"],
        "volumeMounts": [{"name": NGINX_VOLS[0].0, "mountPath": "/st2k8s-nginx-conf"}],
    });
    if let Some(pull) = pull {
        copy["imagePullPolicy"] = pull;
    }
    restrict_container(&mut copy, true, what)?;
    match spec.get_mut("initContainers") {
        Some(Json::Array(items)) => items.push(copy),
        _ => {
            spec.insert("initContainers".into(), json!([copy]));
        }
    }
    let sc = object_at(spec, "securityContext");
    let sysctls = sc.entry("sysctls").or_insert_with(|| json!([]));
    if let Some(list) = sysctls.as_array_mut()
        && !list
            .iter()
            .any(|s| s.get("name").and_then(Json::as_str) == Some(UNPRIVILEGED_PORT_SYSCTL))
    {
        list.push(json!({"name": UNPRIVILEGED_PORT_SYSCTL, "value": "0"}));
    }
    Ok(())
}

/// The namespaced sysctl that lets a non-root process bind ports below 1024.
const UNPRIVILEGED_PORT_SYSCTL: &str = "net.ipv4.ip_unprivileged_port_start";

/// Restrict one container: the user's keys stay, contradicting ones are an error, missing ones
/// are filled in.
fn restrict_container(c: &mut Json, read_only: bool, what: &str) -> Result<()> {
    let name = c
        .get("name")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(c) = c.as_object_mut() else {
        return Ok(());
    };
    for port in list(c, "ports") {
        if port.get("hostPort").and_then(Json::as_i64).unwrap_or(0) != 0 {
            bail!(
                "{what}: container `{name}` uses a hostPort, not allowed with `{KEY}: restricted`"
            );
        }
    }
    let sc = object_at(c, "securityContext");
    if let Some(problem) = contradictions(&Json::Object(sc.clone()), "securityContext")
        .into_iter()
        .next()
    {
        bail!("{what}: container `{name}` {problem} (`{KEY}: restricted`)");
    }
    sc.entry("allowPrivilegeEscalation")
        .or_insert(Json::Bool(false));
    let caps = sc
        .entry("capabilities")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(caps) = caps {
        let drop = caps.entry("drop").or_insert_with(|| json!([]));
        if let Some(drop) = drop.as_array_mut()
            && !drop.iter().any(|d| d.as_str() == Some("ALL"))
        {
            drop.push(json!("ALL"));
        }
    }
    if read_only {
        sc.entry("readOnlyRootFilesystem")
            .or_insert(Json::Bool(true));
    }
    Ok(())
}

/// The items of the list `key` of `map` (none when absent).
fn list<'a>(map: &'a Map<String, Json>, key: &str) -> &'a [Json] {
    map.get(key)
        .and_then(Json::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The object at `key`, created (or replacing a null) when missing.
fn object_at<'a>(map: &'a mut Map<String, Json>, key: &str) -> &'a mut Map<String, Json> {
    let slot = map.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    slot.as_object_mut().expect("just made an object")
}

/// Whether the container mounts something at `path`.
fn has_mount(c: &Json, path: &str) -> bool {
    c.get("volumeMounts")
        .and_then(Json::as_array)
        .is_some_and(|m| {
            m.iter()
                .any(|m| m.get("mountPath").and_then(Json::as_str) == Some(path))
        })
}

/// Mount volume `name` at `path` in the container (unless something is mounted there already).
fn add_mount(c: &mut Json, name: &str, path: &str) {
    if has_mount(c, path) {
        return;
    }
    let Some(c) = c.as_object_mut() else { return };
    let mounts = c.entry("volumeMounts").or_insert_with(|| json!([]));
    if !mounts.is_array() {
        *mounts = json!([]);
    }
    if let Some(mounts) = mounts.as_array_mut() {
        mounts.push(json!({"name": name, "mountPath": path}));
    }
}

/// Set the environment variable `name` in the container unless it is set already.
fn add_env(c: &mut Json, name: &str, value: &str) {
    let Some(c) = c.as_object_mut() else { return };
    let env = c.entry("env").or_insert_with(|| json!([]));
    if !env.is_array() {
        *env = json!([]);
    }
    if let Some(env) = env.as_array_mut()
        && !env
            .iter()
            .any(|e| e.get("name").and_then(Json::as_str) == Some(name))
    {
        env.push(json!({"name": name, "value": value}));
    }
}

/// Add an emptyDir volume (on the node's disk) `name` to the pod unless it has one.
fn add_empty_dir(spec: &mut Map<String, Json>, name: &str) {
    let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
    if !volumes.is_array() {
        *volumes = json!([]);
    }
    if let Some(volumes) = volumes.as_array_mut()
        && !volumes
            .iter()
            .any(|v| v.get("name").and_then(Json::as_str) == Some(name))
    {
        volumes.push(json!({"name": name, "emptyDir": {}}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Splice;
    use crate::render::test_support::with_ctx;

    fn deployment(name: &str, items: &SharedItems) -> Object {
        let body = json!({"spec": {"template": {"spec": {
            "initContainers": [],
            "containers": [{"name": "st2api", "image": "stackstorm/st2api:3.8"}],
        }}}});
        let mut object = Object::from_json("apps/v1", "Deployment", name.into(), body);
        object.splice = Some(Splice {
            pointer: "/spec/template/spec/initContainers",
            at: 0,
            items: items.clone(),
        });
        object
    }

    #[test]
    fn shared_init_containers_are_restricted_once_and_stay_shared() {
        let items: SharedItems = Arc::new(vec![json!({"name": "st2-copy-packs", "image": "p"})]);
        let mut objects = vec![deployment("a", &items), deployment("b", &items)];
        with_ctx("{}", |ctx| apply(ctx, &mut objects)).expect("restricted");
        let a = &objects[0].splice.as_ref().expect("splice").items;
        let b = &objects[1].splice.as_ref().expect("splice").items;
        assert!(Arc::ptr_eq(a, b), "one restricted copy for every pod");
        assert!(!Arc::ptr_eq(a, &items));
        assert_eq!(
            a[0]["securityContext"],
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
        );
        let body = objects[0].full_body();
        let spec = &body["spec"]["template"]["spec"];
        assert_eq!(spec["initContainers"][0]["name"], "st2-copy-packs");
        assert_eq!(
            spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"],
            true
        );
    }

    #[test]
    fn a_contradicting_container_context_names_object_and_container() {
        let body = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "x", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}},
        ]}}}});
        let mut objects = vec![Object::from_json("apps/v1", "Deployment", "d".into(), body)];
        assert_eq!(
            with_ctx("{}", |ctx| apply(ctx, &mut objects))
                .expect_err("contradiction")
                .to_string(),
            "Deployment/d: container `x` `securityContext.capabilities.add`: SYS_ADMIN not allowed; only NET_BIND_SERVICE may be added (`podSecurity: restricted`)"
        );
    }

    #[test]
    fn only_restricted_or_unset_selects_the_profile() {
        let parse = |text: &str| {
            let values = crate::render::test_support::values(text);
            restricted(&View::root(&values, Default::default()))
        };
        assert!(!parse("{}").expect("unset"));
        assert!(parse("podSecurity: restricted").expect("restricted"));
        assert_eq!(
            parse("podSecurity: baseline")
                .expect_err("unknown profile")
                .to_string(),
            "`podSecurity`: expected `restricted` (or no value for the chart's security contexts)"
        );
    }
}
