//! The release smoke tests: ConfigMap `<release>-st2tests` holding a bats script (always
//! rendered, as in the chart) and the Pod `<release>-st2tests` that runs it, only with
//! `--include-tests` because it is a one-shot check, not part of the deployment.
//!
//! The Pod copies bats from its image and clones the bats helper libraries from GitHub.

use std::collections::BTreeMap;

use anyhow::Result;
use k8s_openapi::api::core::v1::{
    ConfigMapEnvSource, ConfigMapVolumeSource, Container, EmptyDirVolumeSource, EnvFromSource,
    EnvVar, Pod, PodSpec, SecretEnvSource, Volume,
};

use serde::Serialize;

use super::{configmaps::config_map, secrets};
use crate::object::Object;
use crate::render::ctx::Ctx;
use crate::render::kit::mount;
use crate::render::pod::ssh_key;
use crate::render::{images, meta};

/// The bats helper libraries the script loads: (name, tag) on github.com/ztombol.
const BATS_LIBRARIES: [(&str, &str); 3] = [
    ("bats-support", "v0.3.0"),
    ("bats-assert", "v0.3.0"),
    ("bats-file", "v0.2.0"),
];

/// What the script checks that depends on the values.
#[derive(Serialize)]
struct ScriptContext {
    system_user: String,
    ssh_key_file: String,
    ssh_key_dir: String,
}

pub fn objects(ctx: &Ctx) -> Result<Vec<Object>> {
    let ssh = ssh_key::paths(ctx)?;
    let script = crate::templates::render(
        "st2tests/st2tests.sh",
        ScriptContext {
            system_user: ctx.v("st2.system_user.user").to_go_text(),
            ssh_key_file: ssh.file,
            ssh_key_dir: ssh.dir,
        },
    )?;
    let mut out = vec![config_map(
        ctx,
        ctx.name("st2tests"),
        "st2tests",
        None,
        BTreeMap::from([("st2tests.sh".to_string(), script)]),
    )?];
    if ctx.options.include_tests {
        out.push(pod(ctx)?);
    }
    Ok(out)
}

fn pod(ctx: &Ctx) -> Result<Object> {
    let mut metadata = meta::object_meta(ctx, ctx.name("st2tests"), "st2tests")?;
    metadata.annotations = Some(BTreeMap::from([
        ("helm.sh/hook".to_string(), "test-success".to_string()),
        (
            "helm.sh/hook-delete-policy".to_string(),
            "hook-succeeded".to_string(),
        ),
    ]));
    let tools = || mount("tools", "/tools");
    let clone_libraries: String = BATS_LIBRARIES
        .iter()
        .map(|(name, tag)| {
            format!(
                "git clone --quiet --depth 1 --branch {tag} --config advice.detachedHead=false https://github.com/ztombol/{name} /tools/{name}\n"
            )
        })
        .collect();
    let init_containers = vec![
        Container {
            name: "bats-core".into(),
            image: Some("bats/bats:1.8.2".into()),
            command: Some(vec![
                "bash".into(),
                "-ec".into(),
                "cp -R /opt/bats /tools/\n".into(),
            ]),
            volume_mounts: Some(vec![tools()]),
            ..Default::default()
        },
        Container {
            name: "bats-addons".into(),
            image: Some("alpine/git:2.36.3".into()),
            command: Some(vec!["ash".into(), "-ec".into(), clone_libraries]),
            volume_mounts: Some(vec![tools()]),
            ..Default::default()
        },
    ];
    let env = |name: &str, value: String| EnvVar {
        name: name.into(),
        value: Some(value),
        ..Default::default()
    };
    let container = Container {
        name: "st2tests".into(),
        image: Some(format!(
            "{}/st2actionrunner:{}",
            images::repository(ctx),
            meta::APP_VERSION
        )),
        image_pull_policy: images::pull_policy(ctx),
        env_from: Some(vec![
            EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: ctx.name("st2-urls"),
                    ..Default::default()
                }),
                ..Default::default()
            },
            EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: secrets::auth_secret_name(ctx),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]),
        env: Some(vec![
            env("BATS_HELPERS_DIR", "/tools".into()),
            env("ST2_VERSION", meta::APP_VERSION.into()),
            env("ST2_RBAC_ENABLED", ctx.v("st2.rbac.enabled").to_go_text()),
        ]),
        volume_mounts: Some(vec![tools(), mount("tests", "/tests")]),
        command: Some(vec![
            "/tools/bats/bin/bats".into(),
            "/tests/st2tests.sh".into(),
        ]),
        ..Default::default()
    };
    let volumes = vec![
        Volume {
            name: "tools".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        },
        Volume {
            name: "tests".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: ctx.name("st2tests"),
                ..Default::default()
            }),
            ..Default::default()
        },
    ];
    Object::new(&Pod {
        metadata,
        spec: Some(PodSpec {
            init_containers: Some(init_containers),
            containers: vec![container],
            volumes: Some(volumes),
            restart_policy: Some("Never".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

#[cfg(test)]
mod unit {
    use anyhow::Result;

    use super::*;
    use crate::render::ctx::Options;
    use crate::render::test_support::{body, names, with_ctx};

    #[test]
    fn config_map_always_pod_on_request() -> Result<()> {
        with_ctx(
            "st2: {existingAuthSecret: creds, rbac: {enabled: true}}",
            |ctx| {
                let objects = objects(ctx)?;
                assert!(names(&objects, "Pod").is_empty());
                let config = body(&objects, "ConfigMap", "st2-st2tests")?;
                let script = config["data"]["st2tests.sh"].as_str().unwrap_or_default();
                assert!(script.starts_with("#!/usr/bin/env bats\n"));
                assert!(script.contains("'/home/stanley/.ssh/stanley_rsa 400 stanley'"));
                let options = Options {
                    include_tests: true,
                    ..Options::default()
                };
                let ctx = Ctx::new(
                    ctx.values.peek(),
                    ctx.release,
                    &options,
                    crate::secrets::SecretGenerator::new(ctx.release, None, Default::default()),
                );
                let objects = super::objects(&ctx)?;
                let pod = body(&objects, "Pod", "st2-st2tests")?;
                let container = &pod["spec"]["containers"][0];
                assert_eq!(container["image"], "stackstorm/st2actionrunner:3.8");
                assert_eq!(container["envFrom"][1]["secretRef"]["name"], "creds");
                assert_eq!(container["env"][2]["value"], "true");
                assert_eq!(pod["spec"]["restartPolicy"], "Never");
                Ok(())
            },
        )
    }
}
