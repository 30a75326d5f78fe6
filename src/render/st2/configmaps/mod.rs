//! The parent chart's ConfigMaps: st2 configuration, service URLs, pack configs and overrides,
//! post-start scripts, RBAC files and the st2web config, plus the Secret that takes the
//! credentials out of the st2 configuration (built with it). The `<release>-st2tests` ConfigMap
//! lives with the test Pod in [`super::tests`].

mod post_start;
mod rbac;
mod st2_conf;

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::ConfigMap;

pub use st2_conf::datastore_encryption_on;

use super::text;
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::meta;

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let mut out = Vec::new();
    if ctx.v("st2.overrides").truthy() {
        out.push(config_map(
            ctx,
            ctx.name("st2-overrides-configs"),
            "st2",
            Some("StackStorm override configs defined in helm values, shipped in (or copied to) '/opt/stackstorm/overrides'"),
            files(ctx, "st2.overrides")?,
        )?);
    }
    out.push(pack_configs(ctx)?);
    out.extend(post_start::objects(ctx)?);
    out.extend(rbac::objects(ctx)?);
    out.extend(st2_conf::objects(ctx)?);
    out.push(urls(ctx)?);
    if let Some(config) = ctx.v("st2web.config").non_empty() {
        let config = text::file_contents(config, "st2web.config")?;
        out.push(config_map(
            ctx,
            ctx.name("st2web-config"),
            "st2",
            Some("Custom StackStorm Web config which will override defaults"),
            BTreeMap::from([("st2web.config.js".to_string(), text::block_text(&config))]),
        )?);
    }
    Ok(out)
}

/// A parent-chart ConfigMap: labels of component `n`, the chart's description annotation.
pub(super) fn config_map(
    ctx: &Ctx,
    name: String,
    n: &str,
    description: Option<&str>,
    data: BTreeMap<String, String>,
) -> Result<Object> {
    let metadata = match description {
        Some(description) => meta::described_meta(ctx, name, n, description)?,
        None => meta::object_meta(ctx, name, n)?,
    };
    Object::new(&ConfigMap {
        metadata,
        data: Some(data),
        ..Default::default()
    })
}

/// A values map of file name → contents, shipped as given (`toYaml` of the map). The files are
/// YAML st2 loads (pack configs, pack overrides): one that does not parse is reported.
fn files(ctx: &Ctx, path: &str) -> Result<BTreeMap<String, String>> {
    ctx.v(path)
        .entries()
        .map(|(name, contents)| {
            let key = format!("{path}.{name}");
            let contents = text::file_contents(contents, &key)?;
            crate::render::st2::conf_check::report_yaml(ctx, &key, &contents);
            Ok((name.clone(), contents))
        })
        .collect()
}

/// `<release>-st2-pack-configs`: `st2.packs.configs` as files (null data when the key was
/// removed).
fn pack_configs(ctx: &Ctx) -> Result<Object> {
    let mut object = config_map(
        ctx,
        ctx.name("st2-pack-configs"),
        "st2",
        Some(
            "StackStorm pack configs defined in helm values, shipped in (or copied to) '/opt/stackstorm/configs/'",
        ),
        files(ctx, "st2.packs.configs")?,
    )?;
    if ctx.v("st2.packs.configs").is_null() {
        object.set_null("data");
    }
    Ok(object)
}

/// `<release>-st2-urls`: where st2auth, st2api and st2stream listen, for envFrom (the st2web
/// image also builds its nginx config from them).
fn urls(ctx: &Ctx) -> Result<Object> {
    let data = BTreeMap::from([
        (
            "ST2_AUTH_URL".to_string(),
            format!("http://{}:9100/", ctx.name("st2auth")),
        ),
        (
            "ST2_API_URL".to_string(),
            format!("http://{}:9101/", ctx.name("st2api")),
        ),
        (
            "ST2_STREAM_URL".to_string(),
            format!("http://{}:9102/", ctx.name("st2stream")),
        ),
    ]);
    config_map(
        ctx,
        ctx.name("st2-urls"),
        "st2",
        Some("StackStorm service URLs, used across entire st2 cluster"),
        data,
    )
}

#[cfg(test)]
mod tests {
    use anyhow::Result;
    use serde_json::json;

    use super::*;
    use crate::render::test_support::{body, names, with_ctx};

    #[test]
    fn default_config_maps() -> Result<()> {
        with_ctx("{}", |ctx| {
            let objects = objects(ctx)?;
            assert_eq!(
                names(&objects, "ConfigMap"),
                [
                    "st2-st2-config",
                    "st2-st2-pack-configs",
                    "st2-st2-urls",
                    "st2-st2actionrunner-post-start-script",
                    "st2-st2client-post-start-script"
                ]
            );
            assert_eq!(
                body(&objects, "ConfigMap", "st2-st2-urls")?["data"],
                json!({"ST2_API_URL": "http://st2-st2api:9101/", "ST2_AUTH_URL": "http://st2-st2auth:9100/", "ST2_STREAM_URL": "http://st2-st2stream:9102/"})
            );
            let packs = body(&objects, "ConfigMap", "st2-st2-pack-configs")?;
            assert_eq!(
                packs["data"],
                json!({"core.yaml": "---\n# example core pack config yaml\n"})
            );
            assert_eq!(packs["metadata"]["labels"]["app.kubernetes.io/name"], "st2");
            Ok(())
        })
    }

    #[test]
    fn optional_config_maps() -> Result<()> {
        let values = "st2:\n  overrides: {a.yaml: 'x: 1'}\n  packs: {configs: null}\n\
                      st2web:\n  config: \"angular.module('main');\\n\\n\"\n  postStartScript: echo web\n\
                      st2chatops:\n  enabled: false\n  postStartScript: echo chatops\n";
        with_ctx(values, |ctx| {
            let objects = objects(ctx)?;
            assert_eq!(
                body(&objects, "ConfigMap", "st2-st2-overrides-configs")?["data"],
                json!({"a.yaml": "x: 1"})
            );
            assert_eq!(
                body(&objects, "ConfigMap", "st2-st2-pack-configs")?["data"],
                json!(null)
            );
            assert_eq!(
                body(&objects, "ConfigMap", "st2-st2web-config")?["data"],
                json!({"st2web.config.js": "angular.module('main');\n"})
            );
            // The chatops script ships even though chatops is off, as the chart does.
            for component in ["st2web", "st2chatops"] {
                let script = &body(
                    &objects,
                    "ConfigMap",
                    &format!("st2-{component}-post-start-script"),
                )?["data"]["post-start.sh"];
                assert_eq!(
                    script,
                    &json!(format!(
                        "#!/bin/bash\necho {}\n",
                        component.trim_start_matches("st2")
                    ))
                );
            }
            Ok(())
        })
    }

    #[test]
    fn file_maps_need_string_contents() {
        let err = with_ctx("st2: {overrides: {a.yaml: {rules: 1}}}", objects)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("`st2.overrides.a.yaml`: expected the file contents as a string, found a map")
        );
    }

    #[test]
    fn ssh_key_install_follows_the_system_user() -> Result<()> {
        let values = "st2: {system_user: {user: bot, ssh_key_file: '/srv/{{ .Values.st2.system_user.user }}/keys/id'}}";
        with_ctx(values, |ctx| {
            let objects = objects(ctx)?;
            let script = &body(&objects, "ConfigMap", "st2-st2client-post-start-script")?["data"]["post-start.sh"];
            assert_eq!(
                script,
                "#!/bin/bash\nmkdir -p /srv/bot/keys\ncp -L /srv/bot/.ssh-key-vol/id /srv/bot/keys/id\nchown -R bot:bot /srv/bot/keys\n\
                 chmod 400 /srv/bot/keys/id\nchmod 500 /srv/bot/keys\n"
            );
            Ok(())
        })
    }
}
