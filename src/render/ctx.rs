//! [`Ctx`]: what every builder reads (merged values, release, options, the secret generator and
//! the pieces many objects share), and [`Options`], the render switches that are not values.

use std::cell::RefCell;
use std::rc::Rc;

use anyhow::Result;

use super::target;
use crate::object::SharedItems;
use crate::release::Release;
use crate::secrets::{SecretGenerator, Seed};
use crate::stackstorm::{Source, Version};
use crate::tpl;
use crate::values::check::Finding;
use crate::values::{Reads, Value, View};

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

/// What every builder reads: merged values, release, options and the secret generator; and
/// what a render learns on the way: which values it read and the findings about them.
pub struct Ctx<'a> {
    /// The merged values, as a view that logs what builders consume into [`Ctx::reads`].
    pub values: View<'a>,
    /// Every values node the render consumed (values strings' templates included), from which
    /// the keys the user set but nothing read are derived.
    pub reads: Rc<Reads>,
    /// Findings the builders report (fields Kubernetes would drop, bad quantities …), in the
    /// order reported.
    findings: RefCell<Vec<Finding>>,
    pub release: &'a Release,
    pub options: &'a Options,
    pub secrets: SecretGenerator,
    /// Pieces many objects share, built on first use.
    pub shared: Shared,
    /// The text all `tpl` calls of this render may still make.
    pub tpl_budget: tpl::Budget,
}

/// Pieces many objects of one render share: built once, referred to by each object.
#[derive(Default)]
pub struct Shared {
    /// The pack copy init containers (`st2::packs::init_containers`): the same in every pod.
    pub pack_inits: std::cell::OnceCell<SharedItems>,
    /// The release's StackStorm version and where it came from (`st2::version::of_release`),
    /// read by the st2.conf checks and the version checks.
    pub st2_version: std::cell::OnceCell<(Version, Source)>,
}

impl<'a> Ctx<'a> {
    /// A context with nothing shared built yet.
    pub fn new(
        values: &'a Value,
        release: &'a Release,
        options: &'a Options,
        secrets: SecretGenerator,
    ) -> Self {
        Self::with_reads(values, Rc::default(), release, options, secrets)
    }

    /// [`Ctx::new`], logging into `reads`, which may already hold the reads of the checks that
    /// come before the context.
    pub fn with_reads(
        values: &'a Value,
        reads: Rc<Reads>,
        release: &'a Release,
        options: &'a Options,
        secrets: SecretGenerator,
    ) -> Self {
        Self {
            values: View::root(values, Rc::clone(&reads)),
            reads,
            findings: RefCell::default(),
            release,
            options,
            secrets,
            shared: Shared::default(),
            tpl_budget: tpl::Budget::default(),
        }
    }

    /// The value at a dotted path (null when missing), as a view that logs what is consumed.
    pub fn v(&self, path: &str) -> View<'a> {
        self.values.at(path)
    }

    /// Record a finding about the values.
    pub fn report(&self, finding: Finding) {
        self.findings.borrow_mut().push(finding);
    }

    /// The findings reported so far, in the order reported, without repeats (a block shared by
    /// several pods is converted once per pod).
    pub fn take_findings(&self) -> Vec<Finding> {
        let found = self.findings.take();
        let mut unique: Vec<Finding> = Vec::with_capacity(found.len());
        for finding in found {
            if !unique.contains(&finding) {
                unique.push(finding);
            }
        }
        unique
    }

    /// The `tpl` scope of the parent chart, logging the values its templates read.
    pub fn tpl_scope(&self) -> tpl::Scope<'_> {
        tpl::Scope::new(self.values.peek(), self.release, &self.tpl_budget).with_reads(&self.reads)
    }

    /// A parent-chart object name: `<release>-<suffix>`.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.release.name)
    }

    /// Evaluate a values string as a Helm template (`tpl`); `key` names the values key for errors.
    pub fn tpl(&self, text: &str, key: &str) -> Result<String> {
        Ok(tpl::render(text, &self.tpl_scope(), key)?)
    }

    /// `tpl` of the string at a values path; a non-string there is an error, as in Helm.
    pub fn tpl_value(&self, path: &str) -> Result<String> {
        match self.v(path).value() {
            Value::String(s) => self.tpl(s, path),
            Value::Null => Ok(String::new()),
            other => Err(tpl::TplError::not_a_string(path, other).into()),
        }
    }
}
