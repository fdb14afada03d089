//! The kinds of provisioner entry, one module each, as the Score ecosystem's tools have one
//! package per provisioner kind: [`minijinja`] (`template://` with `engine: minijinja`,
//! score-gen's Jinja2 dialect), [`gotemplate`] (`template://` in the ecosystem's Go-template
//! format), [`cmd`] (`cmd://`, a program speaking the tools' JSON protocol) and [`local_env`]
//! (`local-env://`, score-compose's environment provisioner). Each implements
//! [`ProvisionerKind`]; an entry ([`Provisioner`]) holds one of them as a [`Kind`]. Also here:
//! what the two template kinds share.

use std::path::Path;

use serde_json::{Map, Value};

use self::minijinja::MinijinjaEntry;
use super::loader::{CommonFields, EntryCx};
use super::template;
use super::{ProvisionInput, ProvisionOptions, ProvisionOutput, ProvisionTarget, Provisioner};
use crate::diag::{Code, Diagnostic};
use cmd::CmdSpec;
use gotemplate::GoEntry;
use local_env::LocalEnv;

pub(crate) mod cmd;
pub(crate) mod gotemplate;
pub(crate) mod local_env;
pub(crate) mod minijinja;

/// One kind of provisioner entry: how the loader reads the keys that are the kind's own, and how
/// an entry of the kind provisions a resource. The loader's one loop over an entry's keys
/// (`loader::read_entry`) calls the first three; [`Kind::provision`] the last.
pub(crate) trait ProvisionerKind: Sized {
    /// What the loader fills while it reads the entry's keys.
    type Builder;

    /// The keys every kind may have (`loader::COMMON_KEYS`) that this kind takes; the loader
    /// reads them, and hands every other key but `uri` to [`ProvisionerKind::read_key`].
    const COMMON_KEYS: &'static [&'static str];

    /// Starts an entry, before its keys are read (in file order): the kind's checks of the whole
    /// entry, and its defaults for the common fields.
    fn start(
        cx: &EntryCx<'_>,
        pointer: &str,
        fields: &Map<String, Value>,
        common: &mut CommonFields,
    ) -> Result<Self::Builder, Diagnostic>;

    /// Reads `key` (at `at`), a key of the entry that is neither `uri` nor one of
    /// [`ProvisionerKind::COMMON_KEYS`]: the kind's own, or an error.
    fn read_key(
        builder: &mut Self::Builder,
        cx: &EntryCx<'_>,
        common: &mut CommonFields,
        key: &str,
        at: &str,
        v: &Value,
    ) -> Result<(), Diagnostic>;

    /// The kind's part of the entry, once every key is read; `dir` is the file's directory.
    fn finish(builder: Self::Builder, cx: &EntryCx<'_>, dir: Option<&Path>) -> Self;

    /// Provisions one resource with entry `p` (whose kind part is `self`) for `target`: the
    /// kind's outputs, state and fragments, before core's checks of them (`provision`).
    fn provision(
        &self,
        p: &Provisioner,
        input: &ProvisionInput,
        target: &ProvisionTarget<'_>,
        opts: &ProvisionOptions,
    ) -> Result<ProvisionOutput, Diagnostic>;
}

/// An entry's kind and its part of the entry.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Minijinja(MinijinjaEntry),
    GoTemplate(GoEntry),
    Cmd(CmdSpec),
    LocalEnv(LocalEnv),
}

impl Kind {
    /// [`ProvisionerKind::provision`] of the kind.
    pub(crate) fn provision(
        &self,
        p: &Provisioner,
        input: &ProvisionInput,
        target: &ProvisionTarget<'_>,
        opts: &ProvisionOptions,
    ) -> Result<ProvisionOutput, Diagnostic> {
        match self {
            Kind::Minijinja(k) => k.provision(p, input, target, opts),
            Kind::GoTemplate(k) => k.provision(p, input, target, opts),
            Kind::Cmd(k) => k.provision(p, input, target, opts),
            Kind::LocalEnv(k) => k.provision(p, input, target, opts),
        }
    }
}

/// The four sections every template provisioner may have, in render order.
pub(crate) const CORE_SECTIONS: [&str; 4] = ["init", "state", "shared", "outputs"];

/// The secret outputs a resource's sections rendered before one of them failed: its error must
/// not show them (the state, which the caller scrubs with, does not hold them yet).
pub(crate) fn own_secrets(
    p: &Provisioner,
    input: &ProvisionInput,
    outputs: &Map<String, Value>,
) -> crate::project::Secrets {
    let mut s = crate::project::Secrets::default();
    s.add_outputs(input.uid.as_str(), outputs, &p.secret_outputs);
    s
}

/// A section rendered `text`, which is not YAML (`e`).
pub(crate) fn not_yaml(
    p: &Provisioner,
    first_line: usize,
    label: &str,
    e: &str,
    text: &str,
) -> Diagnostic {
    section_diag(
        p,
        first_line,
        label,
        format!("rendered text is not valid YAML: {e}"),
    )
    .with_label("this section renders text that is not YAML")
    .with_help(format!(
        "fix the template so it renders YAML; it rendered:\n{}",
        text.trim_end()
    ))
}

/// A problem with the output of the section `label` whose text starts at `first_line`.
pub(crate) fn section_diag(
    p: &Provisioner,
    first_line: usize,
    label: &str,
    msg: String,
) -> Diagnostic {
    let d = Diagnostic::new(
        Code::ProvisionInvalidSectionOutput,
        format!(
            "provisioner '{}' section '{}' ({}:{}): {msg}",
            p.uri, label, p.source.file.name, first_line
        ),
    )
    .with_file(p.source.file.clone());
    match template::line_span(&p.source.file, first_line) {
        Some(s) => d.with_span(s),
        None => d,
    }
}

/// A core section's (`init`, `state`, `shared`, `outputs`) rendered value as a mapping: nothing
/// or `null` is `{}`; anything else is the error's text.
pub(crate) fn core_map(value: Option<Value>) -> Result<Map<String, Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(format!(
            "must render to a YAML mapping, got {}",
            crate::diag::describe_type(&other)
        )),
    }
}
