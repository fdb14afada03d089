//! The `cmd://` protocol, as score-compose's and score-k8s's `cmd://` provisioners speak it: the
//! JSON document a program reads on stdin (built from the resource's input) and the JSON answer
//! it writes on stdout (read and checked here, `schemas/cmd-provisioner.json`). Pure: running the
//! program is `host::cmd`'s.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::diag::{Code, Diagnostic};
use crate::provision::{ProvisionInput, ProvisionOutput};

/// What the program reads on stdin.
#[derive(Serialize)]
struct CmdInput<'a> {
    resource_uid: &'a str,
    resource_type: &'a str,
    resource_class: &'a str,
    resource_id: &'a str,
    resource_params: &'a Map<String, Value>,
    resource_metadata: &'a Map<String, Value>,
    source_workload: &'a str,
    workload_services: &'a Value,
    resource_state: &'a Map<String, Value>,
    shared_state: &'a Map<String, Value>,
    target: &'a Value,
    requested_outputs: &'a [String],
    // What the ecosystem's programs also read (the tools' `provisioners.Input`): core's part,
    // then the target's fields (`Target::provisioner_fields`).
    resource_guid: String,
    workload_metadata: &'a Map<String, Value>,
    namespace: &'a str,
    #[serde(flatten)]
    fields: TargetFields<'a>,
}

/// The target's members of the input: each field's `cmd_field`, from its context key.
struct TargetFields<'a> {
    fields: &'a [crate::target::ProvisionerField],
    target: &'a Value,
}

impl Serialize for TargetFields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.fields.len()))?;
        for f in self.fields {
            m.serialize_entry(f.cmd_field, target_str(self.target, f.context_key))?;
        }
        m.end()
    }
}

/// The answer members core reads, whatever the target.
const CORE_ANSWER_KEYS: [&str; 6] = [
    "resource_state",
    "shared_state",
    "resource_outputs",
    "secret_outputs",
    "expression_outputs",
    "fragments",
];

/// What the program writes on stdout. Every member is optional; a member that is neither core's
/// nor one of the target's answer keys (`Target::cmd_answer_keys`) is an error, as the tools
/// refuse unknown members, so that an answer in another format (`services`, `volumes`, ...)
/// fails loudly instead of being silently dropped.
#[derive(Default)]
pub(crate) struct CmdOutput {
    pub resource_state: Option<Map<String, Value>>,
    pub shared_state: Option<Value>,
    pub resource_outputs: Option<Map<String, Value>>,
    pub secret_outputs: Option<BTreeSet<String>>,
    pub expression_outputs: Option<BTreeSet<String>>,
    pub fragments: Option<BTreeMap<String, Value>>,
    /// The target's answer keys present, by key.
    answers: Map<String, Value>,
}

/// Reads a [`CmdOutput`] accepting the target's answer keys (serde's messages, with
/// serde_json's line and column).
struct AnswerSeed<'a>(&'a [(&'a str, &'a str)]);

impl<'de> serde::de::DeserializeSeed<'de> for AnswerSeed<'_> {
    type Value = CmdOutput;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<CmdOutput, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AnswerSeed<'_> {
    type Value = CmdOutput;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("struct CmdOutput")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<CmdOutput, A::Error> {
        use serde::de::Error;
        let mut out = CmdOutput::default();
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(A::Error::custom(format_args!("duplicate field `{key}`")));
            }
            match key.as_str() {
                "resource_state" => out.resource_state = map.next_value()?,
                "shared_state" => out.shared_state = map.next_value()?,
                "resource_outputs" => out.resource_outputs = map.next_value()?,
                "secret_outputs" => out.secret_outputs = map.next_value()?,
                "expression_outputs" => out.expression_outputs = map.next_value()?,
                "fragments" => out.fragments = map.next_value()?,
                k if self.0.iter().any(|(a, _)| *a == k) => {
                    let v: Value = map.next_value()?;
                    out.answers.insert(key, v);
                }
                _ => {
                    let expected: Vec<String> = CORE_ANSWER_KEYS
                        .iter()
                        .chain(self.0.iter().map(|(a, _)| a))
                        .map(|k| format!("`{k}`"))
                        .collect();
                    return Err(A::Error::custom(format_args!(
                        "unknown field `{key}`, expected one of {}",
                        expected.join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }
}

impl CmdOutput {
    /// The answer as a provisioning result: what it leaves out is empty, and the target's
    /// answer keys fill their sections ([`CmdOutput::fragments_for`]).
    pub(crate) fn into_output(mut self, answer_keys: &[(&str, &str)]) -> ProvisionOutput {
        let fragments = self.fragments_for(answer_keys);
        ProvisionOutput {
            state: self.resource_state.unwrap_or_default(),
            shared_patch: self.shared_state.unwrap_or(Value::Object(Map::new())),
            outputs: self.resource_outputs.unwrap_or_default(),
            secret_outputs: self.secret_outputs.unwrap_or_default(),
            expression_outputs: self.expression_outputs.unwrap_or_default(),
            fragments,
            info_logs: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The fragments for a target: the `fragments` object, plus the target's answer keys
    /// (`answer_keys`: answer key → section), each filling its section unless `fragments` has
    /// it already.
    fn fragments_for(&mut self, answer_keys: &[(&str, &str)]) -> BTreeMap<String, Value> {
        let mut out = self.fragments.take().unwrap_or_default();
        for (key, section) in answer_keys {
            match self.answers.remove(*key) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    out.entry(section.to_string()).or_insert(v);
                }
            }
        }
        out
    }
}

/// Encodes the program's stdin document.
pub(crate) fn encode_input(
    input: &ProvisionInput,
    fields: &[crate::target::ProvisionerField],
) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&CmdInput {
        resource_uid: input.uid.as_str(),
        resource_type: &input.kind,
        resource_class: &input.class,
        resource_id: &input.id,
        resource_params: &input.params,
        resource_metadata: &input.metadata,
        source_workload: &input.source_workload,
        workload_services: &input.workload_services,
        resource_state: &input.state,
        shared_state: &input.shared,
        target: &input.target,
        requested_outputs: &input.requested_outputs,
        resource_guid: input.guid(),
        workload_metadata: &input.workload_metadata,
        namespace: target_str(&input.target, "namespace"),
        fields: TargetFields {
            fields,
            target: &input.target,
        },
    })
}

/// A string member of the target's context map (`""` when absent).
fn target_str<'a>(target: &'a Value, key: &str) -> &'a str {
    target.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// What a cmd:// program must print, for help lines: core's members and the target's answer keys.
pub(crate) fn answer_help(answer_keys: &[(&str, &str)]) -> String {
    let mut help = "the program must print one JSON object on stdout, with any of resource_state, shared_state, resource_outputs (an object), secret_outputs, expression_outputs, fragments".to_string();
    if !answer_keys.is_empty() {
        let keys: Vec<&str> = answer_keys.iter().map(|(k, _)| *k).collect();
        help.push_str(", or the target's answer keys ");
        help.push_str(&keys.join(", "));
    }
    help.push_str(" (spec/provisioners.md)");
    help
}

/// The program's answer `stdout`, read with the target's answer keys; the error (without help:
/// the caller adds what the program wrote to stderr) when it is not JSON or not the protocol's.
pub(crate) fn parse_answer(
    uri: &str,
    uid: &str,
    stdout: &[u8],
    answer_keys: &[(&str, &str)],
) -> Result<CmdOutput, Diagnostic> {
    let mut de = serde_json::Deserializer::from_slice(stdout);
    serde::de::DeserializeSeed::deserialize(AnswerSeed(answer_keys), &mut de)
        .and_then(|out| de.end().map(|()| out))
        .map_err(|e| {
            let shown: String = String::from_utf8_lossy(stdout).chars().take(200).collect();
            // Valid JSON of the wrong shape is not "invalid JSON".
            let what = if e.is_data() {
                "returned an answer that is not the cmd:// protocol's"
            } else {
                "returned invalid JSON on stdout"
            };
            Diagnostic::new(
                Code::ProvisionCommandOutput,
                format!(
                    "cmd provisioner '{uri}' for resource '{uid}' {what}: {e} (stdout starts with: {shown:?})"
                ),
            )
        })
}
