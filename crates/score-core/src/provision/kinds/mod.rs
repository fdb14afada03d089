//! The kinds of provisioner entry, one module each: [`minijinja`] (score-gen's `engine: minijinja`
//! templates), [`gotemplate`] (`template://` in the Score ecosystem's Go-template format),
//! [`cmd`] (`cmd://`, a program speaking the tools' JSON protocol) and [`local_env`]
//! (`local-env://`, score-compose's environment provisioner); and what the two template kinds
//! share.

use serde_json::{Map, Value};

use self::minijinja::TemplateEntry;
use super::template;
use super::{ProvisionInput, Provisioner};
use crate::diag::{Code, Diagnostic};
use cmd::CmdSpec;
use gotemplate::GoEntry;

pub(crate) mod cmd;
pub(crate) mod gotemplate;
pub(crate) mod local_env;
pub(crate) mod minijinja;

/// The four sections every template provisioner may have, in render order.
pub(crate) const CORE_SECTIONS: [&str; 4] = ["init", "state", "shared", "outputs"];

/// How an entry provisions: templates rendered in-process, or an external command.
#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Template(TemplateEntry),
    Go(GoEntry),
    Cmd(CmdSpec),
    /// `local-env://`: each requested output is `${KEY}`, read by compose when it runs.
    LocalEnv,
}

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
