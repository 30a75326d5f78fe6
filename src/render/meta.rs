//! Names, labels and metadata shared by every parent-chart object.
//!
//! Labels follow the chart's scheme except that `app.kubernetes.io/managed-by` is `st2k8s` and
//! there is no `helm.sh/chart` label. The version label is the image tag the chart would show.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::ctx::Ctx;
use crate::values::{Value, View};

/// `app.kubernetes.io/managed-by` on every object st2k8s renders.
pub const MANAGED_BY: &str = "st2k8s";

/// The chart's appVersion: the StackStorm release its defaults (and the test Pod) use.
pub const APP_VERSION: &str = "3.8";

/// The selector labels of component `n`: name and instance.
pub fn selector_labels(ctx: &Ctx, n: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), n.to_string()),
        (
            "app.kubernetes.io/instance".to_string(),
            ctx.release.name.clone(),
        ),
    ])
}

/// The full label set of component `n`: selector labels, component role, version.
pub fn labels(ctx: &Ctx, n: &str) -> Result<BTreeMap<String, String>> {
    let mut labels = selector_labels(ctx, n);
    let component = match n {
        "st2web" | "ingress" => "frontend",
        "st2canary" | "st2tests" => "tests",
        _ => "backend",
    };
    labels.insert("app.kubernetes.io/component".into(), component.into());
    labels.insert("app.kubernetes.io/part-of".into(), "stackstorm".into());
    labels.insert("app.kubernetes.io/version".into(), version(ctx, n)?);
    labels.insert("app.kubernetes.io/managed-by".into(), MANAGED_BY.into());
    Ok(labels)
}

/// The version label of component `n`: the `<key>.image.tag` of the values key named by `n` up
/// to its first `-` (present even if empty), else the global `image.tag`; then `tpl`.
pub fn version(ctx: &Ctx, n: &str) -> Result<String> {
    let key = n.split('-').next().unwrap_or(n);
    let path = format!("{key}.image.tag");
    let path = if ctx.values.peek().get(&path).is_some() {
        path
    } else {
        "image.tag".to_string()
    };
    ctx.tpl_value(&path)
}

/// Metadata of a parent-chart object: name and labels of component `n`.
pub fn object_meta(ctx: &Ctx, name: String, n: &str) -> Result<ObjectMeta> {
    Ok(ObjectMeta {
        name: Some(name),
        labels: Some(labels(ctx, n)?),
        ..Default::default()
    })
}

/// Metadata with the chart's fixed `description` annotation (ConfigMaps, Secrets, Services).
pub fn described_meta(ctx: &Ctx, name: String, n: &str, description: &str) -> Result<ObjectMeta> {
    let mut meta = object_meta(ctx, name, n)?;
    meta.annotations = Some(BTreeMap::from([(
        "description".to_string(),
        description.to_string(),
    )]));
    Ok(meta)
}

/// The fullname a bundled backend gives its objects (bitnami's rule):
/// `<chart>.fullnameOverride`, else the release name when it already contains the name
/// (`<chart>.nameOverride`, else `<chart>`), else `<release>-<name>`; cut to 63 characters
/// without a trailing `-`. `chart` is the values key (`mongodb`, `rabbitmq`, `redis`,
/// `external-dns`).
/// Every host name st2 uses for a backend derives from this, so overrides keep them connected.
pub fn subchart_fullname(ctx: &Ctx, chart: &str) -> String {
    bitnami_fullname(&ctx.release.name, chart, &ctx.values.key(chart))
}

/// Bitnami common's `common.names.fullname` for chart `chart` whose `.Values` is `values`;
/// [`subchart_fullname`] applies it to a section of the parent's values.
pub fn bitnami_fullname(release: &str, chart: &str, values: &View) -> String {
    let full = match values.key("fullnameOverride").non_empty() {
        Some(name) => name.to_go_string(),
        None => {
            // The containment test uses the name before truncation, as the template does.
            let name = raw_chart_name(chart, values);
            if release.contains(&name) {
                release.to_string()
            } else {
                format!("{release}-{name}")
            }
        }
    };
    dns_trunc(&full)
}

/// The `<chart>.name` helper of bitnami common and of the parent chart:
/// `nameOverride`, else `<chart>`, cut like a fullname.
pub fn bitnami_name(chart: &str, values: &View) -> String {
    dns_trunc(&raw_chart_name(chart, values))
}

/// `nameOverride`, else `<chart>`, before truncation.
fn raw_chart_name(chart: &str, values: &View) -> String {
    values
        .key("nameOverride")
        .non_empty()
        .map_or_else(|| chart.to_string(), Value::to_go_string)
}

/// Helm's `trunc 63 | trimSuffix "-"` (one trailing `-` only, like Go's `strings.TrimSuffix`).
fn dns_trunc(name: &str) -> String {
    let cut: String = name.chars().take(63).collect();
    cut.strip_suffix('-')
        .map_or_else(|| cut.clone(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{values, with_release};

    /// A values document as written, without the chart defaults (a subchart's own section).
    fn view(value: &Value) -> View<'_> {
        View::root(value, std::rc::Rc::default())
    }

    fn plain(yaml: &str) -> Value {
        let (map, _) = crate::values::parse_document(yaml, "test").expect("test values parse");
        Value::Map(map)
    }

    #[test]
    fn subchart_fullname_follows_bitnami() -> anyhow::Result<()> {
        let long = "x".repeat(70);
        for (release, values, want) in [
            ("st2", "{}", "st2-mongodb"),
            ("my-mongodb", "{}", "my-mongodb"),
            ("st2", "mongodb: {nameOverride: db}", "st2-db"),
            ("st2db", "mongodb: {nameOverride: db}", "st2db"),
            (
                "st2",
                "mongodb: {fullnameOverride: shared-mongo}",
                "shared-mongo",
            ),
            (
                "st2",
                &format!("mongodb: {{fullnameOverride: {long}-}}"),
                &"x".repeat(63),
            ),
            ("st2", "mongodb: {fullnameOverride: 'abc-'}", "abc"),
        ] {
            let name = with_release(release, values, |ctx| subchart_fullname(ctx, "mongodb"));
            assert_eq!(name, want, "{values}");
        }
        Ok(())
    }

    #[test]
    fn redis_fullname_follows_the_bitnami_rule() {
        let long = "a".repeat(70);
        let cases = [
            ("st2", "{}", "st2-redis"),
            ("my-redis", "{}", "my-redis"),
            ("st2", "nameOverride: cache", "st2-cache"),
            ("cache-prod", "nameOverride: cache", "cache-prod"),
            ("st2", "fullnameOverride: shared-redis", "shared-redis"),
            ("redis", "fullnameOverride: ''", "redis"),
            ("st2", "fullnameOverride: x-", "x"),
        ];
        for (release, yaml, want) in cases {
            assert_eq!(
                bitnami_fullname(release, "redis", &view(&plain(yaml))),
                want,
                "{release} {yaml}"
            );
        }
        let cut = bitnami_fullname(&long, "redis", &view(&plain("{}")));
        assert_eq!(cut.len(), 63);
        assert_eq!(
            bitnami_fullname(
                "st2",
                "redis",
                &view(&plain(&format!("fullnameOverride: {}-b", "a".repeat(62))))
            )
            .len(),
            62
        );
        assert_eq!(
            bitnami_name("redis", &view(&plain("nameOverride: kv"))),
            "kv"
        );
    }

    #[test]
    fn rabbitmq_fullname_follows_bitnami_rule() {
        for (release, yaml, want) in [
            ("st2", "{}", "st2-rabbitmq"),
            ("my-rabbitmq-prod", "{}", "my-rabbitmq-prod"),
            ("st2", "{nameOverride: mq}", "st2-mq"),
            ("st2", "{fullnameOverride: queue-}", "queue"),
            ("st2", "{fullnameOverride: ''}", "st2-rabbitmq"),
        ] {
            let v = values(&format!("rabbitmq: {yaml}"));
            assert_eq!(
                bitnami_fullname(release, "rabbitmq", &view(v.key("rabbitmq"))),
                want,
                "{release} {yaml}"
            );
        }
        let long = "r".repeat(60);
        assert_eq!(
            bitnami_fullname(&long, "rabbitmq", &view(&Value::Null)).len(),
            63
        );
    }
}
