//! The tools' `state.yaml` (score-go's `framework.State` with score-compose's or score-k8s's
//! extras) read into score-gen's [`State`] and written back in the tools' format.
//!
//! What the tools store is kept: every key score-gen does not know (a workload's
//! `instance_suffix`, a resource's `guid`, the extras `compose_project`, `mounts_directory`,
//! `patching_templates`, keys a later tool version adds) is written back as it was read.
//! Resources keep their `guid` (score-k8s names secrets after it). score-gen's additions go to
//! `score-gen.yaml` beside it, so the tool still reads `state.yaml` (it refuses unknown keys):
//! `seed` (the seed of score-gen's generated values) and, by resource uid, `secret_outputs` and
//! `expression_outputs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};

use score_core::host::fsutil;
use score_core::provision::ProvisionInput;
use score_core::target::{PatchTemplate, ResourceUid};
use score_core::{Code, Diagnostic, Diagnostics, State};
use score_target_compose::WorkloadExtras;

use super::folder::Tool;
use crate::files::io_diag;

/// The tools' state file in their folder.
pub const STATE_FILE: &str = "state.yaml";

/// score-gen's additions, beside it.
pub const EXTRAS_FILE: &str = "score-gen.yaml";

/// The largest state file read.
const MAX_BYTES: u64 = score_core::host::MAX_STATE_BYTES;

/// The tool's document as read (kept to write back what score-gen does not model).
pub type Doc = Map<String, Value>;

/// score-gen's own file beside the tool's state.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Additions {
    seed: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    secret_outputs: BTreeMap<String, BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    expression_outputs: BTreeMap<String, BTreeSet<String>>,
}

const ADDITIONS_HEADER: &str = "\
# score-gen's additions to this project (docs/migrating.md). state.yaml beside it stays in the
# format score-compose and score-k8s write: `seed` makes score-gen's generated values repeatable,
# the output lists mark which resource outputs are secrets or expressions.
";

fn read_text(path: &Path) -> Result<Option<String>, Diagnostics> {
    if !path.exists() {
        return Ok(None);
    }
    let name = path.display().to_string();
    let bytes = fsutil::read_bounded(path, MAX_BYTES, Duration::from_secs(10))
        .map_err(|e| io_diag(&name, e))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| invalid(path, "not UTF-8".into()))
}

fn invalid(path: &Path, msg: String) -> Diagnostics {
    Diagnostic::new(
        Code::StateInvalid,
        format!("{}: {msg}", path.display()),
    )
    .with_help("the file is written by score-compose, score-k8s or score-gen; restore it from version control, or fix the YAML")
    .into()
}

/// Reads the tool's state file (and score-gen's additions) in `dir`.
pub fn load(dir: &Path, tool: Tool) -> Result<(State, Doc), Diagnostics> {
    let path = dir.join(STATE_FILE);
    let text = read_text(&path)?.unwrap_or_default();
    let doc: Value = if text.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_saphyr::from_str(&text).map_err(|e| invalid(&path, e.to_string()))?
    };
    let Value::Object(doc) = doc else {
        return Err(invalid(&path, "the state is not a mapping".into()));
    };
    let extras_path = dir.join(EXTRAS_FILE);
    let additions: Additions = match read_text(&extras_path)? {
        Some(t) => serde_saphyr::from_str(&t).map_err(|e| invalid(&extras_path, e.to_string()))?,
        None => Additions {
            seed: fresh_state().seed,
            ..Additions::default()
        },
    };
    let mut st = State::with_seed(additions.seed.clone());
    let object = |v: Option<&Value>| -> Map<String, Value> {
        v.and_then(Value::as_object).cloned().unwrap_or_default()
    };
    for (name, w) in object(doc.get("workloads")) {
        let file = w.get("file").and_then(Value::as_str).map(str::to_string);
        let dir = file
            .as_deref()
            .map(|f| crate::files::parent_dir(Path::new(f)).display().to_string());
        let spec = w.get("spec").and_then(Value::as_object).cloned();
        if spec.is_none() {
            return Err(invalid(&path, format!("workload '{name}' has no spec")));
        }
        let mut stored = score_core::project::WorkloadState {
            file,
            dir,
            spec,
            ..Default::default()
        };
        if tool == Tool::Compose {
            let mut extras = WorkloadExtras::default();
            extras.builds = object(w.get("build_configs")).into_iter().collect();
            stored.extras.set(&extras);
        }
        st.workloads.insert(name, stored);
    }
    for (uid, r) in object(doc.get("resources")) {
        let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let parsed = ResourceUid::from_string(&uid);
        let source = text("source_workload");
        let id = text("id");
        // score-go stores `<workload>.<resource>` for a resource without an id.
        let id = (!id.is_empty() && !id.starts_with(&format!("{source}."))).then_some(id);
        let mut res = score_core::project::ResourceState::new(
            if r.get("type").is_some() {
                text("type")
            } else {
                parsed.kind().to_string()
            },
            if r.get("class").is_some() {
                text("class")
            } else {
                parsed.class().to_string()
            },
            id,
            source,
            text("provisioner"),
        );
        res.guid = r.get("guid").and_then(Value::as_str).map(str::to_string);
        res.params = r.get("params").and_then(Value::as_object).cloned();
        res.metadata = r.get("metadata").and_then(Value::as_object).cloned();
        res.state = object(r.get("state"));
        res.outputs = object(r.get("outputs"));
        res.secret_outputs = additions
            .secret_outputs
            .get(&uid)
            .cloned()
            .unwrap_or_default();
        res.expression_outputs = additions
            .expression_outputs
            .get(&uid)
            .cloned()
            .unwrap_or_default();
        st.resources.insert(uid, res);
    }
    st.shared_state = object(doc.get("shared_state"));
    Ok((st, doc))
}

/// A new state (fresh seed).
pub fn fresh_state() -> State {
    State::new_random()
}

/// The document `init` writes in a new folder, with the tool's extras.
pub fn fresh_doc(tool: Tool, project: &str) -> Doc {
    let mut d = Map::new();
    d.insert("workloads".into(), Value::Object(Map::new()));
    d.insert("resources".into(), Value::Object(Map::new()));
    d.insert("shared_state".into(), Value::Object(Map::new()));
    if tool == Tool::Compose {
        d.insert("compose_project".into(), project.into());
        d.insert(
            "mounts_directory".into(),
            format!("{}/mounts", tool.folder()).into(),
        );
    }
    d.insert("patching_templates".into(), Value::Array(Vec::new()));
    d
}

/// `st` in the tool's format, keeping what `doc` (the file as read) holds beyond it.
pub fn to_doc(tool: Tool, doc: &Doc, st: &State) -> Doc {
    let old = |k: &str| {
        doc.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let old_workloads = old("workloads");
    let mut workloads = Map::new();
    for (name, w) in &st.workloads {
        let before = old_workloads
            .get(name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut e = Map::new();
        let spec = w
            .spec
            .clone()
            .map(Value::Object)
            .or_else(|| before.get("spec").cloned())
            .unwrap_or(Value::Null);
        e.insert("spec".into(), spec);
        if let Some(f) = &w.file {
            e.insert("file".into(), f.clone().into());
        }
        // score-gen wrote these extras itself (load above): they read as compose's.
        let extras: WorkloadExtras = w.extras.get().unwrap_or_default();
        if tool == Tool::Compose && !extras.builds.is_empty() {
            let builds = extras
                .builds
                .iter()
                .map(|(c, b)| {
                    let b = match b {
                        Value::String(ctx) => serde_json::json!({ "context": ctx }),
                        other => other.clone(),
                    };
                    (c.clone(), b)
                })
                .collect();
            e.insert("build_configs".into(), Value::Object(builds));
        }
        for (k, v) in before {
            if !matches!(k.as_str(), "spec" | "file" | "build_configs") {
                e.insert(k, v);
            }
        }
        workloads.insert(name.clone(), Value::Object(e));
    }
    let old_resources = old("resources");
    let mut resources = Map::new();
    for (uid, r) in &st.resources {
        let before = old_resources
            .get(uid)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let guid = r
            .guid
            .clone()
            .or_else(|| {
                before
                    .get("guid")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| {
                ProvisionInput::new(ResourceUid::from_string(uid), st.seed.clone()).guid()
            });
        let id = uid.split_once('#').map_or("", |(_, id)| id);
        // score-go writes an absent map as `{}`.
        let opt = |m: &Option<Map<String, Value>>| Value::Object(m.clone().unwrap_or_default());
        let mut e = Map::new();
        e.insert("guid".into(), guid.into());
        e.insert("type".into(), r.kind.clone().into());
        e.insert("class".into(), r.class.clone().into());
        e.insert("id".into(), id.into());
        e.insert("metadata".into(), opt(&r.metadata));
        e.insert("params".into(), opt(&r.params));
        e.insert("source_workload".into(), r.source_workload.clone().into());
        e.insert("provisioner".into(), r.provisioner.clone().into());
        e.insert("state".into(), Value::Object(r.state.clone()));
        if !r.outputs.is_empty() {
            e.insert("outputs".into(), Value::Object(r.outputs.clone()));
        }
        for (k, v) in before {
            e.entry(k).or_insert(v);
        }
        resources.insert(uid.clone(), Value::Object(e));
    }
    let mut out = Map::new();
    out.insert("workloads".into(), Value::Object(workloads));
    out.insert("resources".into(), Value::Object(resources));
    out.insert(
        "shared_state".into(),
        Value::Object(st.shared_state.clone()),
    );
    for (k, v) in doc {
        out.entry(k.clone()).or_insert_with(|| v.clone());
    }
    out
}

/// The state file's bytes for `st`.
pub fn render(_dir: &Path, tool: Tool, doc: &Doc, st: &State) -> Result<Vec<u8>, Diagnostics> {
    let value = Value::Object(to_doc(tool, doc, st));
    serde_saphyr::to_string(&value)
        .map(String::into_bytes)
        .map_err(|e| Diagnostic::new(Code::Internal, format!("cannot write the state: {e}")).into())
}

/// Writes score-gen's additions for `st` (atomically, `0600`).
pub fn save_extras(dir: &Path, st: &State) -> Result<(), Diagnostics> {
    let pick = |f: fn(&score_core::project::ResourceState) -> &BTreeSet<String>| {
        st.resources
            .iter()
            .filter(|(_, r)| !f(r).is_empty())
            .map(|(u, r)| (u.clone(), f(r).clone()))
            .collect()
    };
    let additions = Additions {
        seed: st.seed.clone(),
        secret_outputs: pick(|r| &r.secret_outputs),
        expression_outputs: pick(|r| &r.expression_outputs),
    };
    let yaml = serde_saphyr::to_string(&additions)
        .map_err(|e| Diagnostic::new(Code::Internal, format!("cannot write {EXTRAS_FILE}: {e}")))?;
    write_private(
        &dir.join(EXTRAS_FILE),
        format!("{ADDITIONS_HEADER}{yaml}").as_bytes(),
    )
}

/// Writes `st` into the tool folder `dir`: the tool's `state.yaml`, then score-gen's additions.
pub fn save(dir: &Path, tool: Tool, doc: &Doc, st: &State) -> Result<(), Diagnostics> {
    let bytes = render(dir, tool, doc, st)?;
    save_extras(dir, st)?;
    write_private(&dir.join(STATE_FILE), &bytes)
}

/// An atomic write; a new file is readable by its owner only (outputs may hold secrets).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Diagnostics> {
    let new = !path.exists();
    let name = path.display().to_string();
    fsutil::atomic_write(path, bytes).map_err(|e| io_diag(&name, e))?;
    #[cfg(unix)]
    if new {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_diag(&name, e))?;
    }
    #[cfg(not(unix))]
    let _ = new;
    Ok(())
}

/// The extras a generate reads before it runs: the compose project name and the stored patch
/// templates.
#[derive(Debug, Default)]
pub struct Extras {
    /// `compose_project`.
    pub compose_project: Option<String>,
    /// `patching_templates`, in order.
    pub patching_templates: Vec<String>,
}

impl Extras {
    /// Reads them from the folder's state file.
    pub fn read(dir: &Path) -> Result<Extras, Diagnostics> {
        let path = dir.join(STATE_FILE);
        let text = read_text(&path)?.unwrap_or_default();
        if text.trim().is_empty() {
            return Ok(Extras::default());
        }
        let doc: Value =
            serde_saphyr::from_str(&text).map_err(|e| invalid(&path, e.to_string()))?;
        Ok(Extras {
            compose_project: doc
                .get("compose_project")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            patching_templates: doc
                .get("patching_templates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        })
    }

    /// The stored patch templates, named for where they are stored.
    pub fn patch_templates(&self, tool: Tool) -> Vec<PatchTemplate> {
        self.patching_templates
            .iter()
            .enumerate()
            .map(|(i, text)| PatchTemplate {
                origin: format!("{}/{STATE_FILE} patching_templates[{i}]", tool.folder()),
                text: text.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCORE_K8S_STATE: &str = "\
workloads:
  web:
    spec:
      apiVersion: score.dev/v1b1
      metadata:
        name: web
      containers:
        main:
          image: nginx
    file: score.yaml
    instance_suffix: -abc123
resources:
  postgres.default#web.db:
    guid: 6b1f3b1e-0000-4000-8000-000000000001
    type: postgres
    class: default
    id: web.db
    metadata: {}
    params: {}
    source_workload: web
    provisioner: template://default-provisioners/postgres
    state:
      password: stored-secret
    outputs:
      password: stored-secret
    some_future_key: kept
shared_state:
  a: 1
patching_templates: []
";

    #[test]
    fn a_tool_state_round_trips_with_what_score_gen_does_not_model() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(STATE_FILE), SCORE_K8S_STATE).unwrap();
        let (st, doc) = load(d.path(), Tool::K8s).unwrap();
        let r = &st.resources["postgres.default#web.db"];
        assert_eq!(
            r.guid.as_deref(),
            Some("6b1f3b1e-0000-4000-8000-000000000001")
        );
        assert_eq!(
            r.id, None,
            "web.db is score-go's id of a resource without one"
        );
        assert_eq!(r.state["password"], "stored-secret");
        assert_eq!(st.workloads["web"].dir.as_deref(), Some("."));
        save(d.path(), Tool::K8s, &doc, &st).unwrap();
        let text = std::fs::read_to_string(d.path().join(STATE_FILE)).unwrap();
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        let before: Value = serde_saphyr::from_str(SCORE_K8S_STATE).unwrap();
        assert_eq!(back, before, "{text}");
        // A second load uses the seed score-gen stored beside it.
        let (again, _) = load(d.path(), Tool::K8s).unwrap();
        assert_eq!(again.seed, st.seed);
    }
}
