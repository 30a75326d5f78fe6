//! Every check of a release's values, collected in one place for `render` and `lint`.
//!
//! Load-time findings (unknown keys, wrong types: [`crate::values`]) and render-time ones
//! (fields Kubernetes would drop, bad quantities, keys the user set that nothing read:
//! [`crate::render::pipeline::render_checked`]) are merged here, given the `file:line:col` where
//! the user wrote the key when the loader knows it, and reported: warnings on stderr, errors (all
//! findings under `--strict`) stop the render before anything is printed.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::object::Object;

use crate::release::Release;
use crate::render;
use crate::render::ctx::Options;
use crate::render::pipeline::Rendered;
use crate::values::check::{Finding, Severity};
use crate::values::{Loaded, Value};

/// A render together with every finding about its values.
pub struct Checked {
    /// The render's outcome; its error, if any, may be a consequence of an error finding.
    pub rendered: Result<Rendered>,
    /// Load-time findings, then render-time ones, each once.
    pub findings: Vec<Finding>,
}

/// Render `loaded` and collect every finding; `strict` turns warnings into errors.
pub fn check(loaded: &Loaded, release: &Release, options: &Options, strict: bool) -> Checked {
    let (mut rendered, found) = render::pipeline::render_checked(
        &loaded.values,
        Some((&loaded.user, &loaded.findings)),
        release,
        options,
    );
    if let Err(error) = &mut rendered
        && let Some(names) = error.downcast_mut::<render::names::InvalidNames>()
    {
        names.locate(|key| loaded.origins.get(key).map(ToString::to_string));
    }
    let mut findings = loaded.findings.clone();
    for mut finding in found {
        if finding.location.is_none() {
            let inside = finding.within.and_then(|pos| {
                let text = text_at(&loaded.values, &finding.path)?;
                loaded.origins.inside(&finding.path, text, pos)
            });
            finding.location = inside
                .as_ref()
                .or_else(|| loaded.origins.get(&finding.path))
                .map(ToString::to_string);
        }
        if !findings.contains(&finding) {
            findings.push(finding);
        }
    }
    if strict {
        for finding in findings
            .iter_mut()
            .filter(|f| f.severity == Severity::Warning)
        {
            finding.severity = Severity::Error;
        }
    }
    Checked { rendered, findings }
}

/// The string at `path` in the values, where the last key may contain dots (file names such as
/// `st2.packs.configs.core.yaml`).
fn text_at<'v>(values: &'v Value, path: &str) -> Option<&'v str> {
    if let Some(text) = values.get(path).and_then(Value::as_str) {
        return Some(text);
    }
    crate::values::TEXT_FILE_DIRS
        .iter()
        .find_map(|dir| {
            let name = path.strip_prefix(dir)?.strip_prefix('.')?;
            values.get(dir).map(|files| files.key(name))
        })
        .and_then(Value::as_str)
}

/// `level: finding`, as printed.
pub fn line(finding: &Finding) -> String {
    let level = match finding.severity {
        Severity::Note => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    };
    format!("{level}: {finding}")
}

/// For `render`: fail listing every finding when one is an error; else print the warnings on
/// stderr. Notes are for `lint` only.
pub fn report(findings: &[Finding]) -> Result<()> {
    let findings: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity != Severity::Note)
        .collect();
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    match (errors, findings.as_slice()) {
        (0, _) => {
            for finding in &findings {
                eprintln!("{}", line(finding));
            }
            Ok(())
        }
        (1, [only]) => bail!("{only}"),
        _ => {
            let list: Vec<String> = findings.iter().map(|f| line(f)).collect();
            bail!("{errors} error(s) in the values:\n  {}", list.join("\n  "))
        }
    }
}

/// The ConfigMap `<release>-st2k8s-warnings` listing a render's warnings, one a line, for Argo CD
/// users (who never see the plugin's stderr). The warnings name keys and files, never values.
pub fn warnings_config_map(release: &Release, warnings: &[String]) -> Result<Object> {
    let text: String = warnings
        .iter()
        .map(|w| format!("{}\n", w.strip_prefix("warning: ").unwrap_or(w)))
        .collect();
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(format!("{}-st2k8s-warnings", release.name)),
            labels: Some(BTreeMap::from([
                ("app.kubernetes.io/name".into(), "st2k8s-warnings".into()),
                ("app.kubernetes.io/instance".into(), release.name.clone()),
                ("app.kubernetes.io/part-of".into(), "stackstorm".into()),
                (
                    "app.kubernetes.io/managed-by".into(),
                    crate::render::meta::MANAGED_BY.into(),
                ),
            ])),
            annotations: Some(BTreeMap::from([(
                "description".into(),
                "Warnings of the st2k8s render (argocd generate); rendered only while there are any".into(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("warnings".into(), text)])),
        ..ConfigMap::default()
    };
    Object::new(&config_map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Layer, load};

    /// The findings of `custom.yaml` holding `yaml`, release `st2` in `ns`.
    fn findings(yaml: &str, strict: bool) -> Vec<Finding> {
        let loaded = load(&[Layer::File {
            name: "custom.yaml".into(),
            text: yaml.into(),
        }])
        .expect("loads");
        let release = Release {
            name: "st2".into(),
            namespace: "ns".into(),
        };
        check(&loaded, &release, &Options::default(), strict).findings
    }

    fn checked(yaml: &str, strict: bool) -> Vec<String> {
        findings(yaml, strict).iter().map(line).collect()
    }

    #[test]
    fn every_kind_of_finding_is_collected_with_its_location() {
        let yaml = "st2web:
  replica: 3
  replicas: 2
  securityContext:
    runAsUsr: 1000
  resources:
    limits:
      memory: 1 Gi
rabbitmq:
  rabbitmqMemoryHighWatermark: 512MB
";
        assert_eq!(
            checked(yaml, false),
            [
                "warning: custom.yaml:2:3: `st2web.replica`: unknown key; did you mean `st2web.replicas`?",
                "warning: custom.yaml:5:5: `st2web.securityContext.runAsUsr`: unknown field of a Kubernetes SecurityContext; Kubernetes would drop it; did you mean `st2web.securityContext.runAsUser`?",
                "error: custom.yaml:8:7: `st2web.resources.limits.memory`: expected a Kubernetes quantity (e.g. `500m`, `2`, `1Gi`, `512Mi`, `1e3`)",
                "warning: custom.yaml:10:3: `rabbitmq.rabbitmqMemoryHighWatermark`: not implemented by st2k8s's built-in RabbitMQ; ignored",
            ]
        );
    }

    #[test]
    fn type_errors_come_with_the_render_error_they_cause() {
        let loaded = load(&[Layer::File {
            name: "custom.yaml".into(),
            text: "st2web:\n  replicas: three\n".into(),
        }])
        .expect("loads");
        let release = Release {
            name: "st2".into(),
            namespace: "ns".into(),
        };
        let checked = check(&loaded, &release, &Options::default(), false);
        assert_eq!(
            checked.findings.iter().map(line).collect::<Vec<_>>(),
            ["error: custom.yaml:2:3: `st2web.replicas`: expected a whole number, found a string"]
        );
        let err = report(&checked.findings).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("custom.yaml:2:3: `st2web.replicas`: expected a whole number, found a string")
        );
    }

    #[test]
    fn strict_makes_every_finding_an_error() {
        assert_eq!(
            checked("st2web:\n  replica: 3\n", true),
            [
                "error: custom.yaml:2:3: `st2web.replica`: unknown key; did you mean `st2web.replicas`?"
            ]
        );
    }

    #[test]
    fn nested_kubernetes_typos_are_found_without_a_suggestion() {
        let yaml = "st2web:\n  tolerations:\n    - key: k\n      efect: NoSchedule\n";
        assert_eq!(
            checked(yaml, false),
            [
                "warning: custom.yaml:4:7: `st2web.tolerations[0].efect`: unknown field of a Kubernetes Toleration; Kubernetes would drop it"
            ]
        );
    }

    #[test]
    fn st2_conf_problems_point_at_their_line_in_the_values_file() {
        let yaml = "st2:\n  config: |\n    [api]\n    allow_orign = '*'\n    [database]\n    ssl_keyfile = /k.pem\n";
        assert_eq!(
            checked(yaml, false),
            [
                "warning: custom.yaml:4:5: `st2.config`: unknown st2.conf option `[api] allow_orign`: StackStorm 3.8 ignores it; did you mean `allow_origin`?"
            ]
        );
        assert_eq!(
            checked(&format!("image:\n  tag: 3.9.0\n{yaml}"), false),
            [
                "warning: custom.yaml:6:5: `st2.config`: unknown st2.conf option `[api] allow_orign`: StackStorm 3.9 ignores it; did you mean `allow_origin`?",
                "error: custom.yaml:8:5: `st2.config`: st2.conf option `[database] ssl_keyfile` was removed in StackStorm 3.9, which ignores it; use `tls_certificate_key_file` (one file holding both the key and the certificate)",
            ]
        );
        assert_eq!(
            checked(yaml, true),
            [
                "error: custom.yaml:4:5: `st2.config`: unknown st2.conf option `[api] allow_orign`: StackStorm 3.8 ignores it; did you mean `allow_origin`?"
            ]
        );
        // A template that changes the number of lines: the key's position.
        let templated = "st2:\n  config: |\n    {{- \"\" -}}\n    [api]\n    allow_orign = x\n";
        assert_eq!(
            checked(templated, false),
            [
                "warning: custom.yaml:2:3: `st2.config`: unknown st2.conf option `[api] allow_orign`: StackStorm 3.8 ignores it; did you mean `allow_origin`?"
            ]
        );
    }

    #[test]
    fn pack_files_must_be_yaml() {
        let yaml = "st2:\n  packs:\n    configs:\n      mine.yaml: |\n        a: 1\n        b: [2\n  overrides:\n    x.yaml: 'a: b: c'\n";
        assert_eq!(
            checked(yaml, false),
            [
                "error: custom.yaml:8:5: `st2.overrides.x.yaml`: not valid YAML (mapping values are not allowed in this context); st2 cannot load this file",
                "error: custom.yaml:7:9: `st2.packs.configs.mine.yaml`: not valid YAML (while parsing a flow sequence, expected ',' or ']'); st2 cannot load this file",
            ]
        );
    }

    #[test]
    fn version_findings() {
        assert_eq!(
            checked("image:\n  tag: latest\n", false),
            [
                "warning: custom.yaml:2:3: `image.tag`: cannot tell the StackStorm version from `image.tag` `latest`; st2k8s assumes 3.8 (set `st2.version` to say which)"
            ]
        );
        assert_eq!(
            checked("image:\n  tag: latest\nst2:\n  version: '3.9'\n", false),
            Vec::<String>::new()
        );
        assert_eq!(
            checked("st2:\n  version: '4.0'\n", false),
            [
                "error: custom.yaml:2:3: `st2.version`: not a StackStorm version st2k8s knows; use 3.8 or 3.9"
            ]
        );
        assert_eq!(
            checked(
                "image:\n  tag: '3.9'\nst2api:\n  image:\n    tag: 3.8.1\nst2chatops:\n  image:\n    tag: '3.8'\n",
                false
            ),
            [
                "warning: custom.yaml:5:5: `st2api.image.tag`: tag `3.8.1` is StackStorm 3.8 while the release runs 3.9 (`image.tag`); run every component on one StackStorm version"
            ]
        );
        assert_eq!(
            checked("st2:\n  version: 3.9\n", false),
            [
                "warning: `image.tag`: tag `3.8` is StackStorm 3.8 while `st2.version` says 3.9; run every component on one StackStorm version"
            ]
        );
        assert_eq!(
            checked("image:\n  tag: '3.10'\n", false),
            [
                "warning: custom.yaml:2:3: `image.tag`: StackStorm 3.10 (`image.tag` is `3.10`) is not a version st2k8s knows (3.8, 3.9); st2k8s assumes 3.8 (set `st2.version` to say which)"
            ]
        );
    }

    #[test]
    fn version_findings_follow_the_builders_tag_fallbacks() {
        // st2client and the Jobs run st2actionrunner's tag unless they set their own: its key is
        // reported once, a Job's own tag by its key, a sensor's own tag by its list index.
        let yaml = "image:\n  tag: '3.9'\nst2actionrunner:\n  image:\n    tag: 3.8.1\nst2:\n  packs:\n    sensors:\n      - name: a\n      - name: b\n        image:\n          tag: '{{ \"3.8\" }}'\n";
        assert_eq!(
            checked(yaml, false),
            [
                "warning: custom.yaml:5:5: `st2actionrunner.image.tag`: tag `3.8.1` is StackStorm 3.8 while the release runs 3.9 (`image.tag`); run every component on one StackStorm version",
                "warning: custom.yaml:12:11: `st2.packs.sensors[1].image.tag`: tag `3.8` is StackStorm 3.8 while the release runs 3.9 (`image.tag`); run every component on one StackStorm version",
            ]
        );
        let with_jobs = format!("{yaml}jobs:\n  image:\n    tag: 3.8.2\n");
        assert_eq!(
            checked(&with_jobs, false)[1],
            "warning: custom.yaml:15:5: `jobs.image.tag`: tag `3.8.2` is StackStorm 3.8 while the release runs 3.9 (`image.tag`); run every component on one StackStorm version"
        );
    }

    #[test]
    fn mongodb_must_suit_the_stackstorm_version() {
        assert_eq!(
            checked("mongodb:\n  image:\n    tag: 5.0.24\n", false),
            [
                "error: custom.yaml:3:5: `mongodb.image.tag`: MongoDB 5.0 (tag `5.0.24`) with StackStorm 3.8: the release runs 3.8 (`image.tag`), and StackStorm 3.8 supports MongoDB up to 4.4; keep `mongodb.image.tag` at 4.4, or move to StackStorm 3.9 (`image.tag`) first"
            ]
        );
        assert_eq!(
            checked(
                "image: {tag: '3.9'}\nmongodb:\n  image:\n    tag: '7.0'\n",
                false
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            checked(
                "image: {tag: '3.9'}\nmongodb:\n  image:\n    tag: '8.0'\n",
                false
            ),
            [
                "error: custom.yaml:4:5: `mongodb.image.tag`: MongoDB 8.0 (tag `8.0`) with StackStorm 3.9: the release runs 3.9 (`image.tag`), and StackStorm 3.9 supports MongoDB up to 7.x; use MongoDB 7.0 or older"
            ]
        );
        // The official flavor's release is checked as its tag would be.
        assert_eq!(
            checked("mongodb:\n  flavor: official\n", false),
            [
                "error: `mongodb.official.version`: MongoDB 7.0 (tag `7.0.37`) with StackStorm 3.8: the release runs 3.8 (`image.tag`), and StackStorm 3.8 supports MongoDB up to 4.4; keep `mongodb.flavor: bitnami` (MongoDB 4.4), or move to StackStorm 3.9 (`image.tag`) first",
                "note: `mongodb.official.version`: MongoDB 7.0 starts on an empty volume or on data of MongoDB 6.0 or 7.0 (featureCompatibilityVersion); the chart's 4.4 data goes 5.0, then 6.0, then 7.0, one rollout each (README \"Upgrading the backends\")"
            ]
        );
        assert_eq!(
            checked(
                "image: {tag: '3.9'}\nmongodb:\n  flavor: official\n  official:\n    version: '5.0'\n",
                false
            ),
            [
                "note: custom.yaml:5:5: `mongodb.official.version`: MongoDB 5.0 starts on an empty volume or on data of MongoDB 4.4 or 5.0 (featureCompatibilityVersion); the chart's 4.4 data goes 5.0, one rollout each (README \"Upgrading the backends\")"
            ]
        );
        // No bundled MongoDB, nothing to check.
        assert_eq!(
            checked(
                "mongodb:\n  enabled: false\n  image:\n    tag: '8.0'\nst2:\n  config: '[database]'\n",
                false
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn pack_images_get_a_note_on_another_version_that_strict_leaves_a_note() {
        let yaml = "image:\n  tag: 3.9.0\nst2:\n  packs:\n    images:\n      - {repository: r, name: n, tag: '1'}\n";
        let want = [
            "note: custom.yaml:5:5: `st2.packs.images`: pack images carry virtualenvs built for one StackStorm version: make sure they were built for StackStorm 3.9 (rebuild them on every StackStorm upgrade)",
        ];
        assert_eq!(checked(yaml, false), want);
        assert_eq!(checked(yaml, true), want);
        assert_eq!(
            checked(
                "st2:\n  packs:\n    images:\n      - {repository: r, name: n, tag: '1'}\n",
                false
            ),
            Vec::<String>::new()
        );
        let found = findings(yaml, true);
        assert!(
            report(&found).is_ok(),
            "a note alone does not stop a render"
        );
    }
}
