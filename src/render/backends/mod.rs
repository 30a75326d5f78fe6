//! Built-in equivalents of the chart's bitnami subcharts: MongoDB, RabbitMQ, Redis and
//! external-dns. Each renders only when `<name>.enabled`.

mod external_dns;
pub mod mongodb;
pub mod rabbitmq;
pub mod redis;

use anyhow::{Result, bail};

use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::values::{Value, View};

/// One bundled backend: its top-level values key and what it renders.
struct Backend {
    /// The values key (`external-dns`…); the backend renders only when `<key>.enabled`.
    key: &'static str,
    /// Every object of the backend.
    objects: fn(&Ctx) -> Result<Vec<Object>>,
    /// The workloads `networkPolicy.enabled` protects.
    network_targets: fn(&Ctx) -> Result<Vec<NetworkTarget>>,
}

/// Every bundled backend, in render order.
const BACKENDS: &[Backend] = &[
    Backend {
        key: "mongodb",
        objects: mongodb::objects,
        network_targets: mongodb::network_targets,
    },
    Backend {
        key: "rabbitmq",
        objects: rabbitmq::objects,
        network_targets: |ctx| Ok(vec![rabbitmq::network_target(ctx)?]),
    },
    Backend {
        key: "redis",
        objects: redis::objects,
        network_targets: |ctx| Ok(vec![redis::network_target(ctx)?]),
    },
    Backend {
        key: "external-dns",
        objects: external_dns::objects,
        network_targets: |ctx| Ok(vec![external_dns::network_target(ctx)?]),
    },
];

/// Is the bundled backend under values key `key` rendered (`<key>.enabled`)? The one place a
/// backend is switched on or off.
pub fn is_enabled(ctx: &Ctx, key: &str) -> bool {
    ctx.values.key(key).key("enabled").truthy()
}

/// The backends [`is_enabled`], in render order.
fn enabled<'b>(ctx: &'b Ctx) -> impl Iterator<Item = &'static Backend> + 'b {
    BACKENDS
        .iter()
        .filter(|backend| is_enabled(ctx, backend.key))
}

/// All backend objects for the release.
pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    for backend in enabled(ctx) {
        out.extend(named_by_overrides(
            ctx,
            backend.key,
            (backend.objects)(ctx)?,
        ));
    }
    Ok(out)
}

/// Which images and scripts a bundled backend runs (`<backend>.flavor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// The chart's bitnami subchart, object for object (the default).
    Bitnami,
    /// The maintained upstream images (docker-library's `mongo`, `rabbitmq`, and Valkey/Redis)
    /// under the same StatefulSet, Service and claim names, so that a switch keeps the volumes.
    Official,
}

impl Flavor {
    /// The flavor names `<backend>.flavor` accepts.
    pub const CHOICES: &'static [&'static str] = &["bitnami", "official"];

    /// `<backend>.flavor` of `backend` (`mongodb`, `rabbitmq`, `redis`): unset, null or empty is
    /// the chart's bitnami flavor; anything but a listed name is an error naming the key.
    pub fn of(ctx: &Ctx, backend: &str) -> Result<Flavor> {
        let value = ctx.values.key(backend).key("flavor");
        match value.value() {
            Value::Null => Ok(Flavor::Bitnami),
            Value::String(s) if s.is_empty() || s == "bitnami" => Ok(Flavor::Bitnami),
            Value::String(s) if s == "official" => Ok(Flavor::Official),
            other => bail!(
                "`{backend}.flavor`: expected one of `bitnami` (the chart's images) or `official` (maintained upstream images), found {}",
                match other {
                    Value::String(_) => "a string that names neither".to_string(),
                    other => other.kind_unfit(),
                }
            ),
        }
    }
}

/// The pods of a bundled backend workload and their ports, as a NetworkPolicy protects them.
#[derive(Debug, Clone)]
pub struct NetworkTarget {
    /// Name of the workload (the policy is `<name>-ingress`).
    pub name: String,
    /// The workload's pod selector.
    pub selector: std::collections::BTreeMap<String, String>,
    /// Every pod of the backend (its peers), e.g. replica set members and the arbiter.
    pub peers: std::collections::BTreeMap<String, String>,
    /// Ports st2 connects to (the peers too).
    pub client_ports: Vec<i32>,
    /// Ports only the backend's own pods use.
    pub peer_ports: Vec<i32>,
    /// Ports open to every source (metrics).
    pub open_ports: Vec<i32>,
}

/// The backend workloads `networkPolicy.enabled` protects: those of every enabled backend.
pub fn network_targets(ctx: &Ctx) -> Result<Vec<NetworkTarget>> {
    let mut out = Vec::new();
    for backend in enabled(ctx) {
        out.extend((backend.network_targets)(ctx)?);
    }
    Ok(out)
}

/// Record `<chart>.fullnameOverride` (else `<chart>.nameOverride`), when set, as the source of
/// the names of the chart's objects that hold the chart's fullname, so that a name Kubernetes
/// would reject is reported with the key.
fn named_by_overrides(ctx: &Ctx, chart: &str, objects: Vec<Object>) -> Vec<Object> {
    let section = ctx.values.key(chart);
    let Some(key) = ["fullnameOverride", "nameOverride"]
        .into_iter()
        .find(|key| section.key(key).non_empty().is_some())
    else {
        return objects;
    };
    let fullname = super::meta::subchart_fullname(ctx, chart);
    // A full name shows as cut to 63 characters; a name override as written.
    let value = match key {
        "fullnameOverride" => fullname.clone(),
        _ => section.key(key).to_go_string(),
    };
    let key = format!("{chart}.{key}");
    objects
        .into_iter()
        .map(|o| {
            if o.name_source.is_none() && o.name.contains(&fullname) {
                o.named_by(key.clone(), value.clone())
            } else {
                o
            }
        })
        .collect()
}

/// Images bitnami still publishes under `bitnami/` (everything else moved to `bitnamilegacy/`).
const STILL_PUBLISHED: &[&str] = &["bitnami/minideb"];

/// A bitnami subchart image, `<registry>/<repository>:<tag>` (bitnami common's image helper):
/// `image` is the image block at values path `path` (for errors), `global` the subchart's
/// `global`, whose `imageRegistry` wins over `image.registry`.
///
/// Bitnami removed its old images from Docker Hub and kept them under `bitnamilegacy/`, so a
/// `bitnami/<name>` repository on `docker.io` becomes `bitnamilegacy/<name>` (same tag). Other
/// repositories, and any repository on another registry (a user's mirror), stay as given.
pub fn bitnami_image(image: View, global: View, path: &str) -> Result<String> {
    let registry = global
        .key("imageRegistry")
        .or(image.key("registry"))
        .to_go_text();
    let repository = image.key("repository").to_go_text();
    let tag = image.key("tag").to_go_text();
    if repository.is_empty() || tag.is_empty() {
        bail!("`{path}.repository` and `{path}.tag` must both be set");
    }
    let repository = match repository.strip_prefix("bitnami/") {
        Some(name)
            if registry == "docker.io" && !STILL_PUBLISHED.contains(&repository.as_str()) =>
        {
            format!("bitnamilegacy/{name}")
        }
        _ => repository,
    };
    Ok(format!("{registry}/{repository}:{tag}"))
}

pub use crate::values::view::whole_number;

/// The values of one bundled subchart (`redis`, `external-dns`, …): a [`View`] rooted at the
/// subchart key, with accessors taking paths below it whose errors name the full values key.
#[derive(Clone)]
pub struct SubValues<'a> {
    /// The values key of the subchart, e.g. `external-dns`.
    pub name: &'static str,
    /// The merged values under that key (subchart defaults included when enabled).
    pub values: View<'a>,
}

impl<'a> SubValues<'a> {
    /// The subchart values of `name` (a literal top-level key, dashes allowed).
    pub fn new(ctx: &Ctx<'a>, name: &'static str) -> Self {
        Self {
            name,
            values: ctx.values.key(name),
        }
    }

    /// The value at a dotted path below the subchart key (null when missing).
    pub fn at(&self, path: &str) -> View<'a> {
        self.values.at(path)
    }

    /// The full values key of `path`, for messages: `redis.sentinel.port`.
    pub fn key(&self, path: &str) -> String {
        format!("{}.{path}", self.name)
    }

    /// Go's `%v` of the value at `path` (`<nil>` when missing, as templates print it).
    pub fn string(&self, path: &str) -> String {
        self.at(path).to_go_string()
    }

    /// An integer field (ports, counts, probe timings); numeric strings are accepted, as a
    /// template printing them unquoted would.
    pub fn int(&self, path: &str) -> Result<i32> {
        self.at(path).int()
    }

    /// The value at `path` as JSON, deserialized into a typed Kubernetes field (`toYaml` pass-through).
    pub fn typed<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.at(path).typed()
    }

    /// A `global.<key>` value as the subchart sees it: Helm gives subcharts the parent's
    /// `global` merged over their own, so the parent's wins.
    pub fn global(&self, ctx: &Ctx<'a>, key: &str) -> View<'a> {
        let parent = ctx.values.key("global").at(key);
        if parent.is_null() {
            self.values.key("global").at(key)
        } else {
            parent
        }
    }
}

/// Helm's `tpl (toYaml block)` for pass-through blocks (affinity, tolerations…): every string
/// inside `value` is evaluated as a template; `key` names the values key for errors.
pub fn tpl_block(ctx: &Ctx, value: &Value, key: &str) -> Result<serde_json::Value> {
    Ok(match value {
        Value::String(s) => serde_json::Value::String(ctx.tpl(s, key)?),
        Value::List(items) => items
            .iter()
            .map(|v| tpl_block(ctx, v, key))
            .collect::<Result<_>>()?,
        Value::Map(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), tpl_block(ctx, v, key)?)))
                .collect::<Result<_>>()?,
        ),
        other => other.to_json(),
    })
}

/// `tpl (toYaml <path>)` of a subchart's pass-through block, as its typed Kubernetes field;
/// `None` when the block is empty.
pub fn tpl_typed<T: serde::de::DeserializeOwned>(
    ctx: &Ctx,
    sub: &SubValues,
    path: &str,
) -> Result<Option<T>> {
    let Some(block) = sub.at(path).non_empty() else {
        return Ok(None);
    };
    let key = sub.key(path);
    let json = tpl_block(ctx, block, &key)?;
    crate::render::pod::convert::from_json(&json, &key).map(Some)
}

/// An object of a custom resource kind k8s-openapi has no type for (the Prometheus operator's
/// ServiceMonitor…), from its JSON body.
pub fn custom_object(
    api_version: &str,
    kind: &str,
    name: String,
    body: serde_json::Value,
) -> Object {
    Object::from_json(api_version, kind, name, body)
}

/// The built-in values of backend `name` (chart values over the subchart's own defaults), what a
/// key the user set is compared with before it is reported as unread (`render::unread`). The
/// built-in values already hold them for a backend enabled by default (MongoDB, RabbitMQ, Redis);
/// only for the others are the defaults loaded again, with every backend enabled.
pub fn default_section(name: &str) -> &'static Value {
    match crate::values::builtin().map(|values| values.key(name)) {
        Ok(section) if section.key("enabled").truthy() => section,
        _ => enabled_defaults().key(name),
    }
}

/// The built-in values with every backend enabled, so that each one's subchart defaults are
/// merged under its key: loaded once per process, and only when needed.
fn enabled_defaults() -> &'static Value {
    static DEFAULTS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(|| {
        let layer = crate::values::Layer::File {
            name: "backend defaults".into(),
            text: BACKENDS
                .iter()
                .map(|backend| format!("{}: {{enabled: true}}\n", backend.key))
                .collect(),
        };
        // The built-in values always load; should they not, every changed key gets reported.
        crate::values::load(&[layer])
            .map(|loaded| loaded.values)
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_sections_are_those_of_an_enabled_backend() {
        for name in BACKENDS.iter().map(|backend| backend.key) {
            let section = default_section(name);
            assert_eq!(section, enabled_defaults().key(name), "{name}");
            // The subchart's own defaults are merged in (bitnami images are theirs, not the chart's).
            assert!(section.at("image.repository").truthy(), "{name}");
        }
    }

    #[test]
    fn flavors_are_named_or_refused_without_quoting() {
        let flavor = |text: &str| {
            crate::render::test_support::with_ctx(text, |ctx| {
                Flavor::of(ctx, "redis").map_err(|e| e.to_string())
            })
        };
        assert_eq!(flavor("redis: {}"), Ok(Flavor::Bitnami));
        assert_eq!(flavor("redis: {flavor: ''}"), Ok(Flavor::Bitnami));
        assert_eq!(flavor("redis: {flavor: bitnami}"), Ok(Flavor::Bitnami));
        assert_eq!(flavor("redis: {flavor: official}"), Ok(Flavor::Official));
        assert_eq!(
            flavor("redis: {flavor: s3cr3t}"),
            Err("`redis.flavor`: expected one of `bitnami` (the chart's images) or `official` (maintained upstream images), found a string that names neither".to_string())
        );
        assert_eq!(
            flavor("redis: {flavor: [a]}"),
            Err("`redis.flavor`: expected one of `bitnami` (the chart's images) or `official` (maintained upstream images), found a list".to_string())
        );
    }

    #[test]
    fn flavor_keys_are_never_unsupported() {
        let yaml =
            "mongodb: {flavor: bitnami}\nrabbitmq: {flavor: bitnami}\nredis: {flavor: official}";
        assert!(
            crate::render::test_support::unread(yaml).is_empty(),
            "{yaml}"
        );
    }

    #[test]
    fn whole_numbers_fit_an_i32() {
        for (value, want) in [
            (Value::Int(3), Some(3)),
            (Value::Int(1 << 40), None),
            (Value::Float(3.0), Some(3)),
            (Value::Float(-2147483648.0), Some(i32::MIN)),
            (Value::Float(1e10), None),
            (Value::Float(2.5), None),
            (Value::String(" 7 ".into()), Some(7)),
            (Value::String("7x".into()), None),
            (Value::Bool(true), None),
        ] {
            assert_eq!(whole_number(&value), want, "{value:?}");
        }
    }
}
