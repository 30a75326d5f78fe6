//! Test support for the st2 builders: a render context from values text, as
//! `st2k8s render --release-name st2 --namespace ns -f values.yaml` builds it.

use anyhow::{Context, Result};
use serde_json::Value as Json;

use crate::render::{Ctx, Object, Options, Release};
use crate::secrets::SecretGenerator;
use crate::values::{Layer, load};

/// Run `f` with a context for `values` (YAML) over the defaults, release `st2` in `ns`.
pub fn with_ctx<T>(values: &str, f: impl FnOnce(&Ctx) -> Result<T>) -> Result<T> {
    with_release("st2", values, f)
}

/// [`with_ctx`] for release `release`.
pub fn with_release<T>(
    release: &str,
    values: &str,
    f: impl FnOnce(&Ctx) -> Result<T>,
) -> Result<T> {
    let loaded = load(&[Layer::File {
        name: "test.yaml".into(),
        text: values.into(),
    }])?;
    let release = Release {
        name: release.into(),
        namespace: "ns".into(),
    };
    let options = Options::default();
    let ctx = Ctx {
        values: &loaded.values,
        release: &release,
        options: &options,
        secrets: SecretGenerator::new(&release),
    };
    f(&ctx)
}

/// The body of the object `kind/name`.
pub fn body<'a>(objects: &'a [Object], kind: &str, name: &str) -> Result<&'a Json> {
    objects
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .map(|o| &o.body)
        .with_context(|| {
            format!(
                "no {kind}/{name} among {:?}",
                objects.iter().map(|o| &o.name).collect::<Vec<_>>()
            )
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
