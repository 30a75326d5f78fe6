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

use anyhow::Result;

pub use object::Object;

use crate::secrets::SecretGenerator;
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
}

/// What every builder reads: merged values, release, options and the secret generator.
pub struct Ctx<'a> {
    pub values: &'a Value,
    pub release: &'a Release,
    pub options: &'a Options,
    pub secrets: SecretGenerator,
}

impl<'a> Ctx<'a> {
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
        Ok(tpl::render(text, &tpl::Scope::new(self.values, self.release), key)?)
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
    let ctx = Ctx {
        values,
        release,
        options,
        secrets: SecretGenerator::new(release),
    };
    let mut objects = st2::objects(&ctx)?;
    objects.extend(backends::objects(&ctx)?);
    object::resolve_checksums(&mut objects)?;
    object::sort(&mut objects);
    Ok(objects)
}
