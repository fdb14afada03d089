//! `local-env://` entries, score-compose's environment provisioner: `type` defaults to
//! `environment`; every output a workload asks for is the compose interpolation of the variable
//! of the same name, left for compose to read from the shell or `.env`.

use std::path::Path;

use serde_json::{Map, Value};

use super::ProvisionerKind;
use crate::diag::Diagnostic;
use crate::provision::loader::{entry_kind, err_key, CommonFields, EntryCx};
use crate::provision::{
    ProvisionInput, ProvisionOptions, ProvisionOutput, ProvisionTarget, Provisioner,
};

/// A `local-env://` entry: it has nothing of its own.
#[derive(Debug, Clone)]
pub(crate) struct LocalEnv;

impl ProvisionerKind for LocalEnv {
    type Builder = ();

    // `type` is read by `read_key`, which checks it where it is written.
    const COMMON_KEYS: &'static [&'static str] = &[
        "class",
        "description",
        "supported_params",
        "expected_outputs",
    ];

    fn start(
        _cx: &EntryCx<'_>,
        pointer: &str,
        _fields: &Map<String, Value>,
        common: &mut CommonFields,
    ) -> Result<(), Diagnostic> {
        common.kind = Some(("environment".into(), pointer.to_string()));
        common.supported_params = Some(Vec::new());
        common.expression_outputs = vec!["*".into()];
        Ok(())
    }

    fn read_key(
        _: &mut (),
        cx: &EntryCx<'_>,
        common: &mut CommonFields,
        key: &str,
        at: &str,
        v: &Value,
    ) -> Result<(), Diagnostic> {
        match key {
            "type" => {
                let kind = Some((cx.string(key, at, v)?, at.to_string()));
                common.kind = Some((entry_kind(cx.doc, &cx.uri, at, kind)?, at.to_string()));
                Ok(())
            }
            other => Err(err_key(
                cx.doc,
                at,
                format!(
                    "provisioner '{}': unknown key '{other}' for a local-env:// provisioner",
                    cx.uri
                ),
            )
            .with_help("a local-env:// entry takes uri, type, class, description, supported_params and expected_outputs")),
        }
    }

    fn finish(_: (), _cx: &EntryCx<'_>, _dir: Option<&Path>) -> Self {
        LocalEnv
    }

    /// Each requested output key becomes the compose interpolation `${KEY}` of the variable of
    /// that name (an expression output).
    fn provision(
        &self,
        _p: &Provisioner,
        input: &ProvisionInput,
        _target: &ProvisionTarget<'_>,
        _opts: &ProvisionOptions,
    ) -> Result<ProvisionOutput, Diagnostic> {
        let outputs = input
            .requested_outputs
            .iter()
            .map(|k| (k.clone(), Value::String(format!("${{{k}}}"))))
            .collect();
        Ok(ProvisionOutput {
            state: Map::new(),
            shared_patch: Value::Object(Map::new()),
            outputs,
            ..ProvisionOutput::default()
        })
    }
}
