//! `local-env://` entries, score-compose's environment provisioner: each output a workload asks
//! for is the compose interpolation of the variable of that name.

use std::path::Path;

use serde_json::{Map, Value};

use super::Engine;
use crate::diag::Diagnostic;
use crate::load::yaml::Document;
use crate::provision::loader::{entry_kind, err_key, member, EntryCx};
use crate::provision::{ProvisionInput, ProvisionOutput, Provisioner, ProvisionerSource};

/// score-compose's `local-env://` provisioner: each requested output key becomes the compose
/// interpolation `${KEY}` of the variable of that name (an expression output).
pub(crate) fn local_env(input: &ProvisionInput) -> ProvisionOutput {
    let outputs = input
        .requested_outputs
        .iter()
        .map(|k| (k.clone(), Value::String(format!("${{{k}}}"))))
        .collect();
    ProvisionOutput {
        state: Map::new(),
        shared_patch: Value::Object(Map::new()),
        outputs,
        ..ProvisionOutput::default()
    }
}

/// A `local-env://` entry (score-compose's environment provisioner): `type` defaults to
/// `environment`; every output a workload asks for is the compose interpolation of the
/// variable of the same name, left for compose to read from the shell or `.env`.
pub(crate) fn local_env_entry(
    doc: &Document,
    dir: Option<&Path>,
    index: usize,
    pointer: &str,
    uri: String,
    fields: &Map<String, Value>,
) -> Result<Provisioner, Diagnostic> {
    let cx = EntryCx { doc, uri };
    let mut p = Provisioner {
        uri: String::new(),
        kind: "environment".into(),
        class: None,
        id: None,
        description: String::new(),
        supported_params: Some(Vec::new()),
        expected_outputs: Vec::new(),
        expected_output_spans: Vec::new(),
        secret_outputs: Vec::new(),
        expression_outputs: vec!["*".into()],
        source: ProvisionerSource {
            file: doc.source.clone(),
            line: doc.spans.value(pointer).map_or(0, |s| s.line),
            index,
            dir: dir.map(Path::to_path_buf),
            trusted: true,
        },
        engine: Engine::LocalEnv,
    };
    for (key, v) in fields {
        let at = member(pointer, key);
        match key.as_str() {
            "uri" => {}
            "type" => p.kind = entry_kind(doc, &cx.uri, pointer, Some((cx.string(key, &at, v)?, at)))?,
            "class" => p.class = cx.opt_string(key, &at, v)?,
            "description" => p.description = cx.opt_string(key, &at, v)?.unwrap_or_default(),
            "supported_params" => p.supported_params = Some(cx.strings(key, &at, v)?),
            "expected_outputs" => {
                p.expected_outputs = cx.strings(key, &at, v)?;
                p.expected_output_spans = (0..p.expected_outputs.len())
                    .map(|i| doc.spans.value(&format!("{at}/{i}")))
                    .collect();
            }
            other => {
                return Err(err_key(
                    doc,
                    &at,
                    format!("provisioner '{}': unknown key '{other}' for a local-env:// provisioner", cx.uri),
                )
                .with_help("a local-env:// entry takes uri, type, class, description, supported_params and expected_outputs"))
            }
        }
    }
    p.uri = cx.uri;
    Ok(p)
}
