//! From merged values to Kubernetes objects.
//!
//! [`pipeline`] builds a [`Ctx`] (values, release, secret generator) and asks each component family
//! for its objects: the st2 services ([`st2`]) and the bundled backends ([`backends`]), then fills in
//! checksums, applies the target's Job handling, redacts and sorts. Builders create typed
//! `k8s-openapi` structs and wrap them in [`Object`]; nothing here writes YAML text.
//! Both families build their mounts, volumes, probes and environment variables from [`kit`].

pub mod backends;
pub mod checksums;
pub mod ctx;
pub mod images;
pub mod kit;
pub mod limits;
pub mod meta;
pub mod names;
pub mod network_policy;
pub mod pipeline;
pub mod pod;
pub mod pod_security;
pub mod st2;
pub mod target;
pub mod unread;

pub use crate::object::Object;
pub use ctx::{Ctx, Options};
pub use pipeline::{Rendered, render, render_report};

/// Test support: render contexts from values text, as `st2k8s render --namespace ns -f values.yaml`
/// builds them, and lookups into rendered objects.
#[cfg(test)]
pub mod test_support {
    use anyhow::{Context, Result};
    use serde_json::Value as Json;

    use super::ctx::{Ctx, Options};
    use crate::object::Object;
    use crate::release::Release;
    use crate::secrets::{SecretGenerator, SshKeyType};
    use crate::values::{Layer, Value, load};

    /// The merged values for a values file's text.
    pub fn values(yaml: &str) -> Value {
        let layers = [Layer::File {
            name: "test.yaml".into(),
            text: yaml.into(),
        }];
        load(&layers).expect("test values load").values
    }

    /// The keys of `yaml` (a values file) that a render (release `st2` in `ns`) reports as set
    /// but never read, in the order reported; the render must succeed.
    pub fn unread(yaml: &str) -> Vec<String> {
        let layers = [Layer::File {
            name: "test.yaml".into(),
            text: yaml.into(),
        }];
        let loaded = load(&layers).expect("test values load");
        let release = Release {
            name: "st2".into(),
            namespace: "ns".into(),
        };
        let (rendered, findings) = crate::render::pipeline::render_checked(
            &loaded.values,
            Some((&loaded.user, &loaded.findings)),
            &release,
            &Options::default(),
        );
        if let Err(e) = rendered {
            panic!("test render: {e:#}");
        }
        findings
            .into_iter()
            .filter(|f| f.message.ends_with("; ignored"))
            .map(|f| f.path)
            .collect()
    }

    /// Run `f` with a context for `values` (YAML) over the defaults, release `st2` in `ns`.
    pub fn with_ctx<T>(values: &str, f: impl FnOnce(&Ctx) -> T) -> T {
        with_release("st2", values, f)
    }

    /// [`with_ctx`] for release `release`.
    pub fn with_release<T>(release: &str, yaml: &str, f: impl FnOnce(&Ctx) -> T) -> T {
        let values = values(yaml);
        let release = Release {
            name: release.into(),
            namespace: "ns".into(),
        };
        let options = Options::default();
        let ctx = Ctx::new(
            &values,
            &release,
            &options,
            SecretGenerator::new(&release, None, SshKeyType::default()),
        );
        f(&ctx)
    }

    /// The whole body of the object `kind/name`.
    pub fn body<'a>(
        objects: &'a [Object],
        kind: &str,
        name: &str,
    ) -> Result<std::borrow::Cow<'a, Json>> {
        objects
            .iter()
            .find(|o| o.kind == kind && o.name == name)
            .map(Object::full_body)
            .with_context(|| {
                let names: Vec<&String> = objects.iter().map(|o| &o.name).collect();
                format!("no {kind}/{name} among {names:?}")
            })
    }

    /// The names of the objects of `kind`, sorted.
    pub fn names(objects: &[Object], kind: &str) -> Vec<String> {
        let mut names: Vec<String> = objects
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| o.name.clone())
            .collect();
        names.sort();
        names
    }
}
