//! Upgrade transforms: deprecated Score forms → current forms, before schema validation.
//!
//! A port of score-go's `schema.ApplyCommonUpgradeTransforms` (see `spec/loading.md`). For every
//! container that is a mapping:
//!
//! * `files` given as an array becomes a map keyed by each item's `target` (which is removed);
//!   an array `content` is joined with `"\n"`, each line rendered like Go's `fmt.Sprint`;
//! * `volumes` given as an array becomes a map keyed by `target`; a boolean `read_only` is renamed
//!   to `readOnly`.
//!
//! Items that are not mappings are dropped silently, duplicate targets keep the last item, and map
//! forms are left alone — all exactly as score-go does. Unlike score-go (Go map order), containers
//! are visited in document order, so the change list is deterministic.
//!
//! ```
//! use score_core::load::upgrade::apply_common_upgrade_transforms;
//! let mut doc = serde_json::json!({"containers": {"web": {
//!     "image": "nginx",
//!     "volumes": [{"source": "${resources.data}", "target": "/data", "read_only": true}]
//! }}});
//! let changes = apply_common_upgrade_transforms(&mut doc).unwrap();
//! assert_eq!(changes, [
//!     "containers.web.volumes.0.read_only: migrated to readOnly",
//!     "containers.web.volumes: migrated to object",
//! ]);
//! assert_eq!(doc["containers"]["web"]["volumes"]["/data"]["readOnly"], true);
//! ```

use serde_json::{Map, Value};

use crate::diag::{Code, Diagnostic};
use crate::load::yaml::{escape_pointer_segment, Document};

/// An item of an array-form `files` or `volumes` whose `target` is missing or not a string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UpgradeError {
    /// JSON pointer of the offending `target` when it exists, else of the item itself, so a
    /// caller can attach a span with [`crate::load::yaml::SpanIndex::locate`].
    pub pointer: String,
    /// score-go's exact message, e.g. `containers.hello.files.0.target: is missing or is not a string`.
    pub message: String,
}

impl UpgradeError {
    /// A [`Code::UpgradeMissingTarget`] diagnostic pointing into `doc` (nearest span to [`Self::pointer`]).
    pub fn to_diagnostic(&self, doc: &Document) -> Diagnostic {
        doc.diagnostic(Code::UpgradeMissingTarget, &self.pointer, self.message.clone())
            .with_help("each item of a `files` or `volumes` list needs a string `target`; better, use the map form keyed by the target path")
    }
}

/// Rewrites the deprecated array forms of `containers.*.files` / `containers.*.volumes` in place
/// and returns one message per change, in score-go's wording.
///
/// On error the document is left unchanged (score-go leaves it half-transformed; callers abort
/// either way).
pub fn apply_common_upgrade_transforms(doc: &mut Value) -> Result<Vec<String>, UpgradeError> {
    let mut changes = Vec::new();
    let Some(containers) = doc.get("containers").and_then(Value::as_object) else {
        return Ok(changes);
    };
    // Transform a copy so a failure half-way leaves the caller's document as it was.
    let mut containers = containers.clone();
    let mut touched = false;
    for (name, container) in containers.iter_mut() {
        let Some(container) = container.as_object_mut() else {
            continue;
        };
        let base = format!("/containers/{}", escape_pointer_segment(name));
        if let Some(Value::Array(files)) = container.get("files") {
            let files = upgrade_files(name, &base, files, &mut changes)?;
            container.insert("files".into(), Value::Object(files));
            changes.push(format!("containers.{name}.files: migrated to object"));
            touched = true;
        }
        if let Some(Value::Array(volumes)) = container.get("volumes") {
            let volumes = upgrade_volumes(name, &base, volumes, &mut changes)?;
            container.insert("volumes".into(), Value::Object(volumes));
            changes.push(format!("containers.{name}.volumes: migrated to object"));
            touched = true;
        }
    }
    if touched && let Some(root) = doc.as_object_mut() {
        root.insert("containers".into(), Value::Object(containers));
    }
    Ok(changes)
}

fn upgrade_files(
    name: &str,
    base: &str,
    files: &[Value],
    changes: &mut Vec<String>,
) -> Result<Map<String, Value>, UpgradeError> {
    let mut out = Map::new();
    for (i, item) in files.iter().enumerate() {
        let Some(file) = item.as_object() else {
            continue;
        };
        let mut file = file.clone();
        if let Some(Value::Array(lines)) = file.get("content") {
            let joined = lines.iter().map(go_sprint).collect::<Vec<_>>().join("\n");
            file.insert("content".into(), Value::String(joined));
            changes.push(format!(
                "containers.{name}.files.{i}.content: converted from array"
            ));
        }
        let target = take_target(&mut file, name, "files", base, i)?;
        out.insert(target, Value::Object(file));
    }
    Ok(out)
}

fn upgrade_volumes(
    name: &str,
    base: &str,
    volumes: &[Value],
    changes: &mut Vec<String>,
) -> Result<Map<String, Value>, UpgradeError> {
    let mut out = Map::new();
    for (i, item) in volumes.iter().enumerate() {
        let Some(volume) = item.as_object() else {
            continue;
        };
        let mut volume = volume.clone();
        if let Some(&Value::Bool(read_only)) = volume.get("read_only") {
            // Keep the renamed key where the old one was, so emitted YAML reads naturally.
            let at = volume
                .keys()
                .position(|k| k == "read_only")
                .unwrap_or(volume.len());
            volume.shift_remove("read_only");
            volume.shift_remove("readOnly");
            volume.shift_insert(
                at.min(volume.len()),
                "readOnly".into(),
                Value::Bool(read_only),
            );
            changes.push(format!(
                "containers.{name}.volumes.{i}.read_only: migrated to readOnly"
            ));
        }
        let target = take_target(&mut volume, name, "volumes", base, i)?;
        out.insert(target, Value::Object(volume));
    }
    Ok(out)
}

fn take_target(
    item: &mut Map<String, Value>,
    name: &str,
    field: &str,
    base: &str,
    i: usize,
) -> Result<String, UpgradeError> {
    if matches!(item.get("target"), Some(Value::String(_)))
        && let Some(Value::String(target)) = item.shift_remove("target")
    {
        return Ok(target);
    }
    Err(UpgradeError {
        pointer: if item.contains_key("target") {
            format!("{base}/{field}/{i}/target")
        } else {
            format!("{base}/{field}/{i}")
        },
        message: format!("containers.{name}.{field}.{i}.target: is missing or is not a string"),
    })
}

/// Renders a value the way Go's `fmt.Sprint` renders the `interface{}` yaml.v3 decodes it to
/// (`null` → `<nil>`, `1e6` → `1e+06`, maps as `map[a:true b:[1 x]]`, keys sorted).
pub(crate) fn go_sprint(v: &Value) -> String {
    score_gotemplate::gofmt::sprint_json(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_sprint_renders_as_go_fmt_sprint() {
        assert_eq!(go_sprint(&json!(null)), "<nil>");
        assert_eq!(go_sprint(&json!(1.0)), "1");
        assert_eq!(go_sprint(&json!(1e6)), "1e+06");
        assert_eq!(
            go_sprint(&json!({"b": [1, "x"], "a": true})),
            "map[a:true b:[1 x]]"
        );
    }

    #[test]
    fn error_leaves_document_unchanged_and_points_at_target() {
        let mut doc = json!({"containers": {
            "a": {"files": [{"target": "/x", "content": ["l"]}]},
            "b": {"volumes": [{"source": "s", "target": 3}]}
        }});
        let before = doc.clone();
        let err = apply_common_upgrade_transforms(&mut doc).unwrap_err();
        assert_eq!(
            err.message,
            "containers.b.volumes.0.target: is missing or is not a string"
        );
        assert_eq!(err.pointer, "/containers/b/volumes/0/target");
        assert_eq!(doc, before);
    }

    #[test]
    fn read_only_keeps_its_position_and_overrides_read_only_camel() {
        let mut doc = json!({"containers": {"c": {"volumes": [
            {"source": "s", "read_only": false, "readOnly": true, "target": "/m", "path": "p"}
        ]}}});
        apply_common_upgrade_transforms(&mut doc).unwrap();
        let vol = doc["containers"]["c"]["volumes"]["/m"].as_object().unwrap();
        let keys: Vec<&str> = vol.keys().map(String::as_str).collect();
        assert_eq!(keys, ["source", "readOnly", "path"]);
        assert_eq!(vol["readOnly"], false);
    }

    #[test]
    fn containers_in_document_order_and_names_escaped_in_pointer() {
        let mut doc = json!({"containers": {
            "zeta": {"files": []},
            "alpha": {"volumes": [{"source": "s"}]}
        }});
        let err = apply_common_upgrade_transforms(&mut doc).unwrap_err();
        assert_eq!(err.pointer, "/containers/alpha/volumes/0");
        let mut doc = json!({"containers": {"zeta": {"files": []}, "alpha": {"files": []}}});
        assert_eq!(
            apply_common_upgrade_transforms(&mut doc).unwrap(),
            [
                "containers.zeta.files: migrated to object",
                "containers.alpha.files: migrated to object"
            ]
        );
        let mut doc = json!({"containers": {"a/b~": {"files": [{"x": 1}, 7, {"target": 1}]}}});
        let err = apply_common_upgrade_transforms(&mut doc).unwrap_err();
        assert_eq!(err.pointer, "/containers/a~1b~0/files/0");
        assert_eq!(
            err.message,
            "containers.a/b~.files.0.target: is missing or is not a string"
        );
    }

    #[test]
    fn non_object_containers_and_missing_containers_are_ignored() {
        let mut doc = json!({"containers": {"a": "junk", "b": null}});
        assert!(apply_common_upgrade_transforms(&mut doc)
            .unwrap()
            .is_empty());
        let mut doc = json!({"containers": [1]});
        assert!(apply_common_upgrade_transforms(&mut doc)
            .unwrap()
            .is_empty());
        let mut doc = json!("scalar");
        assert!(apply_common_upgrade_transforms(&mut doc)
            .unwrap()
            .is_empty());
    }
}
