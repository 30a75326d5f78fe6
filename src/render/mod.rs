//! From merged values to Kubernetes objects.
//!
//! [`render`] builds a [`Ctx`] (values, release, secret generator) and asks each component family
//! for its objects: the st2 services ([`st2`]) and the bundled backends ([`backends`]). Builders
//! create typed `k8s-openapi` structs and wrap them in [`Object`]; nothing here writes YAML text.

pub mod backends;
pub mod images;
pub mod meta;
pub mod object;
pub mod pod;
pub mod st2;
pub mod target;

use anyhow::Result;

pub use object::Object;

use crate::secrets::{SecretGenerator, Seed, SshKeyType};
use crate::tpl;
use crate::values::Value;

/// The Helm release being rendered.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: String,
}

/// Render switches that are not values.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Also render the `helm test` Pod.
    pub include_tests: bool,
    /// Leave out the setup Jobs (the chart's Helm hooks), like `helm template --no-hooks`.
    pub no_hooks: bool,
    /// How setup Jobs are applied (names and hook annotations).
    pub target: target::Target,
    /// Derive generated secrets from this seed (reproducible output); `None` = random.
    pub secret_seed: Option<Seed>,
    /// Replace Secret values by fingerprints (`--redact-secrets`), after checksums are computed.
    pub redact_secrets: bool,
}

/// What every builder reads: merged values, release, options and the secret generator.
pub struct Ctx<'a> {
    pub values: &'a Value,
    pub release: &'a Release,
    pub options: &'a Options,
    pub secrets: SecretGenerator,
    /// Pieces many objects share, built on first use.
    pub shared: Shared,
}

/// Pieces many objects of one render share: built once, referred to by each object.
#[derive(Default)]
pub struct Shared {
    /// The pack copy init containers (`st2::packs::init_containers`): the same in every pod.
    pub pack_inits: std::cell::OnceCell<pod::SharedInits>,
}

impl<'a> Ctx<'a> {
    /// A context with nothing shared built yet.
    pub fn new(
        values: &'a Value,
        release: &'a Release,
        options: &'a Options,
        secrets: SecretGenerator,
    ) -> Self {
        Self {
            values,
            release,
            options,
            secrets,
            shared: Shared::default(),
        }
    }

    /// The value at a dotted path (null when missing).
    pub fn v(&self, path: &str) -> &'a Value {
        self.values.at(path)
    }

    /// A parent-chart object name: `<release>-<suffix>`.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.release.name)
    }

    /// Evaluate a values string as a Helm template (`tpl`); `key` names the values key for errors.
    pub fn tpl(&self, text: &str, key: &str) -> Result<String> {
        Ok(tpl::render(
            text,
            &tpl::Scope::new(self.values, self.release),
            key,
        )?)
    }

    /// `tpl` of the string at a values path; a non-string there is an error, as in Helm.
    pub fn tpl_value(&self, path: &str) -> Result<String> {
        match self.v(path) {
            Value::String(s) => self.tpl(s, path),
            Value::Null => Ok(String::new()),
            other => Err(tpl::TplError::NotAString {
                key: path.to_string(),
                found: other.to_go_string(),
            }
            .into()),
        }
    }
}

/// Render every object for the release, in output order.
pub fn render(values: &Value, release: &Release, options: &Options) -> Result<Vec<Object>> {
    render_report(values, release, options).map(|r| r.objects)
}

/// A render's objects and what the caller should tell the user about them.
pub struct Rendered {
    pub objects: Vec<Object>,
    /// Some secret was generated at random (no seed): the output is not reproducible.
    pub random_secrets: bool,
}

/// [`render`], also reporting whether random secrets were generated.
pub fn render_report(values: &Value, release: &Release, options: &Options) -> Result<Rendered> {
    let ctx = Ctx::new(
        values,
        release,
        options,
        SecretGenerator::new(
            release,
            options.secret_seed.as_ref(),
            SshKeyType::from_values(values)?,
        ),
    );
    let mut objects = st2::objects(&ctx)?;
    objects.extend(backends::objects(&ctx)?);
    if options.no_hooks {
        objects.retain(|o| !target::is_setup_hook(o));
    }
    object::resolve_checksums(&mut objects)?;
    let ttl = match ctx.v("jobs.ttlSecondsAfterFinished") {
        // Kubernetes accepts 0..=i32::MAX seconds.
        Value::Int(i) if (0..=i64::from(i32::MAX)).contains(i) => Some(*i),
        Value::Null => None,
        other => anyhow::bail!(
            "`jobs.ttlSecondsAfterFinished`: expected a number of seconds (0 or more), found `{}`",
            other.to_go_string()
        ),
    };
    target::apply(options.target, &mut objects, ttl)?;
    if options.redact_secrets {
        crate::secrets::redact::redact(&mut objects);
    }
    object::sort(&mut objects);
    Ok(Rendered {
        objects,
        random_secrets: ctx.secrets.generated_random(),
    })
}

/// Test support: render contexts from values text, as `st2k8s render --namespace ns -f values.yaml`
/// builds them, and lookups into rendered objects.
#[cfg(test)]
pub mod test_support {
    use anyhow::{Context, Result};
    use serde_json::Value as Json;

    use super::{Ctx, Object, Options, Release};
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
