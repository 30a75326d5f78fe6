//! Every check of a release's values, collected in one place for `render` and `lint`.
//!
//! Load-time findings (unknown keys, wrong types: [`crate::values`]) and render-time ones
//! (fields Kubernetes would drop, bad quantities, backend keys st2k8s does not implement:
//! [`crate::render::pod::convert::collecting`]) are merged here, given the `file:line:col` where
//! the user wrote the key when the loader knows it, and reported: warnings on stderr, errors (all
//! findings under `--strict`) stop the render before anything is printed.

use anyhow::{Result, bail};

use crate::release::Release;
use crate::render;
use crate::render::ctx::Options;
use crate::render::pipeline::Rendered;
use crate::values::Loaded;
use crate::values::check::{Finding, Severity};

/// A render together with every finding about its values.
pub struct Checked {
    /// The render's outcome; its error, if any, may be a consequence of an error finding.
    pub rendered: Result<Rendered>,
    /// Load-time findings, then render-time ones, each once.
    pub findings: Vec<Finding>,
}

/// Render `loaded` and collect every finding; `strict` turns warnings into errors.
pub fn check(loaded: &Loaded, release: &Release, options: &Options, strict: bool) -> Checked {
    let (rendered, found) = render::pod::convert::collecting(|| {
        render::render_report(&loaded.values, release, options)
    });
    let mut findings = loaded.findings.clone();
    for mut finding in found {
        if finding.location.is_none() {
            finding.location = loaded.origins.get(&finding.path).map(ToString::to_string);
        }
        if !findings.contains(&finding) {
            findings.push(finding);
        }
    }
    if strict {
        for finding in &mut findings {
            finding.severity = Severity::Error;
        }
    }
    Checked { rendered, findings }
}

/// `level: finding`, as printed.
pub fn line(finding: &Finding) -> String {
    let level = match finding.severity {
        Severity::Warning => "warning",
        Severity::Error => "error",
    };
    format!("{level}: {finding}")
}

/// For `render`: fail listing every finding when one is an error; else print the warnings on
/// stderr.
pub fn report(findings: &[Finding]) -> Result<()> {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    match (errors, findings) {
        (0, _) => {
            for finding in findings {
                eprintln!("{}", line(finding));
            }
            Ok(())
        }
        (1, [only]) => bail!("{only}"),
        _ => {
            let list: Vec<String> = findings.iter().map(line).collect();
            bail!("{errors} error(s) in the values:\n  {}", list.join("\n  "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Layer, load};

    fn checked(yaml: &str, strict: bool) -> Vec<String> {
        let loaded = load(&[Layer::File {
            name: "custom.yaml".into(),
            text: yaml.into(),
        }])
        .expect("loads");
        let release = Release {
            name: "st2".into(),
            namespace: "ns".into(),
        };
        check(&loaded, &release, &Options::default(), strict)
            .findings
            .iter()
            .map(line)
            .collect()
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
                "error: custom.yaml:8:7: `st2web.resources.limits.memory`: `1 Gi` is not a Kubernetes quantity (e.g. `500m`, `2`, `1Gi`, `512Mi`, `1e3`)",
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
            [
                "error: custom.yaml:2:3: `st2web.replicas`: expected a whole number, found the string \"three\""
            ]
        );
        let err = report(&checked.findings).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "custom.yaml:2:3: `st2web.replicas`: expected a whole number, found the string \"three\""
            )
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
}
