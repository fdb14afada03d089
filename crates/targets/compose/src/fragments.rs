//! The compose project being assembled, and the merge of provisioner fragments into it.
//!
//! Resources render compose sections (`services`, `volumes`, `networks`, `files`). Several
//! resources may render the same entry (every `postgres` resource renders the shared
//! `postgres-instance` service): maps merge key by key, equal values are fine, and two different
//! values for one key are an error naming both resources, never a silent "last wins".

// One `Diagnostic` per failure, like score-core's loaders; boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use crate::codes;
use score_core::target::describe_type;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use score_core::target::ProvisionedResource;
use score_core::{Diagnostic, Diagnostics};

/// Compose sections a provisioner may render for this target.
pub(crate) const SECTIONS: [&str; 6] = [
    "services",
    "volumes",
    "networks",
    "models",
    "files",
    "directories",
];

/// Who contributed a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A workload's container.
    Workload(String),
    /// Resources (uids), in the order they rendered it.
    Resources(Vec<String>),
}

/// One service and who made it.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub value: Value,
    pub owner: Owner,
}

/// The project under construction. `BTreeMap`s give the sorted output order.
#[derive(Debug, Default)]
pub(crate) struct Project {
    pub services: BTreeMap<String, Service>,
    pub volumes: BTreeMap<String, Value>,
    pub networks: BTreeMap<String, Value>,
    /// Top-level `models` (compose's AI models), from score-compose-style provisioners.
    pub models: BTreeMap<String, Value>,
    /// Directories under the mounts directory that must exist (a provisioner's `directories`).
    pub directories: BTreeSet<String>,
    /// Mounted files: path relative to the mounts directory → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Who wrote each mounted file (for conflict messages).
    pub file_owners: BTreeMap<String, String>,
    /// Octal mode of each mounted file that declares one, by path under the mounts dir.
    pub file_modes: BTreeMap<String, u32>,
    /// Service names each resource rendered.
    pub resource_services: BTreeMap<String, Vec<String>>,
    /// Workload name → the service that owns its network namespace (gets ports).
    pub network_owners: BTreeMap<String, String>,
    /// Environment variables compose must supply (from expression outputs), for `.env`.
    pub env_vars: BTreeSet<String>,
    /// Values a later score-compose-style resource replaced (the tool's last-wins merge).
    pub warnings: Vec<String>,
}

impl Project {
    /// Merges one resource's fragments.
    pub fn add_resource(&mut self, res: &ProvisionedResource) -> Result<(), Diagnostics> {
        let uid = res.uid.as_str();
        let mut diags = Diagnostics::default();
        for (section, value) in &res.fragments {
            let entries = match value {
                Value::Null => continue,
                Value::Object(m) => m,
                other => {
                    diags.push(
                        Diagnostic::new(
                            codes::INVALID_FRAGMENT,
                            format!(
                                "resource '{uid}': compose section '{section}' must be a mapping, got {}",
                                describe_type(other)
                            ),
                        )
                        .with_help(format!("check the provisioner '{}'", res.provisioner)),
                    );
                    continue;
                }
            };
            let result = match section.as_str() {
                "services" => self.add_services(res, entries),
                "volumes" | "networks" | "models" => {
                    let into = match section.as_str() {
                        "volumes" => &mut self.volumes,
                        "networks" => &mut self.networks,
                        _ => &mut self.models,
                    };
                    merge_entries(into, section, res, entries, &mut self.warnings)
                }
                "files" => self.add_files(uid, entries),
                "directories" => self.add_directories(uid, entries),
                other => Err(Diagnostic::new(
                    codes::INVALID_FRAGMENT,
                    format!("resource '{uid}': unknown compose section '{other}'"),
                )
                .with_help(format!(
                    "the compose target reads the sections {}; check the provisioner '{}'",
                    SECTIONS.join(", "),
                    res.provisioner
                ))),
            };
            if let Err(mut d) = result {
                // A rendered file or directory path: the error names the entry and where it is
                // declared, as the rendered text has no place of its own.
                if !matches!(section.as_str(), "files" | "directories") {
                    diags.push(d);
                    continue;
                }
                let by = format!(
                    "resource '{uid}' (provisioner '{}', {})",
                    res.provisioner, res.provisioner_source
                );
                d.message = d.message.replacen(&format!("resource '{uid}'"), &by, 1);
                if !d.message.contains(&by) {
                    d.message = format!("{by}: {}", d.message);
                }
                diags.push(d);
            }
        }
        diags.into_result()
    }

    fn add_services(
        &mut self,
        res: &ProvisionedResource,
        entries: &Map<String, Value>,
    ) -> Result<(), Diagnostic> {
        let uid = res.uid.as_str();
        for (name, value) in entries {
            check_name("services", uid, name)?;
            if !value.is_object() {
                return Err(Diagnostic::new(
                    codes::INVALID_FRAGMENT,
                    format!("resource '{uid}': service '{name}' must be a mapping"),
                ));
            }
            let value = decode_volumes(value.clone());
            self.resource_services
                .entry(uid.to_string())
                .or_default()
                .push(name.clone());
            match self.services.get_mut(name) {
                None => {
                    self.services.insert(
                        name.clone(),
                        Service {
                            value,
                            owner: Owner::Resources(vec![uid.to_string()]),
                        },
                    );
                }
                Some(existing) => match &mut existing.owner {
                    Owner::Resources(owners) if res.tool_dialect => {
                        // score-compose: `project.Services[name] = service`, the last one wins.
                        let path = format!("services.{name}");
                        if let Some(w) = replaced(&existing.value, &value, &path, owners, uid) {
                            self.warnings.push(w);
                        }
                        existing.value = value;
                        owners.push(uid.to_string());
                    }
                    Owner::Resources(owners) => {
                        merge_value(&mut existing.value, &value, &format!("services.{name}"))
                            .map_err(|path| conflict(path, &owners[0], uid))?;
                        owners.push(uid.to_string());
                    }
                    // Resources are merged before workloads, so this cannot happen today; an
                    // error keeps it safe if the order ever changes.
                    Owner::Workload(w) => {
                        return Err(Diagnostic::new(
                            codes::SERVICE_CONFLICT,
                            format!("resource '{uid}' renders service '{name}', which is workload '{w}'s service"),
                        ))
                    }
                },
            }
        }
        Ok(())
    }

    /// `directories`: path under the mounts directory → `true` (create it) or `false` (score-compose
    /// deletes it; every run writes the mounts tree anew, so it is simply not created).
    fn add_directories(
        &mut self,
        uid: &str,
        entries: &Map<String, Value>,
    ) -> Result<(), Diagnostic> {
        for (path, wanted) in entries {
            let clean = mount_path(uid, "directory", path, "<service>/data")?;
            match wanted {
                Value::Bool(true) => {
                    self.directories.insert(clean);
                }
                Value::Bool(false) | Value::Null => {}
                other => {
                    return Err(Diagnostic::new(
                        codes::INVALID_FRAGMENT,
                        format!(
                        "resource '{uid}': directory '{path}' must map to true or false, got {}",
                        describe_type(other)
                    ),
                    ))
                }
            }
        }
        Ok(())
    }

    fn add_files(&mut self, uid: &str, entries: &Map<String, Value>) -> Result<(), Diagnostic> {
        for (path, content) in entries {
            let clean = mount_path(uid, "file path", path, "<service>/config/app.conf")?;
            let bytes = match content {
                Value::String(s) => s.clone().into_bytes(),
                // score-compose: a null content deletes the file; every run writes the whole
                // mounts tree anew, so there is nothing to write.
                Value::Null => continue,
                other => {
                    return Err(Diagnostic::new(
                        codes::INVALID_FRAGMENT,
                        format!(
                            "resource '{uid}': content of file '{path}' must be a string, got {}",
                            describe_type(other)
                        ),
                    ))
                }
            };
            // A later resource's file replaces an earlier one's, as score-compose writes each
            // resource's files in turn: its route provisioner renders the shared nginx.conf
            // with every route known so far, so the last one holds them all.
            if self.files.get(&clean) != Some(&bytes) {
                self.files.insert(clean.clone(), bytes);
                self.file_owners.insert(clean, uid.to_string());
            }
        }
        Ok(())
    }
}

/// `path` of a resource's `files` or `directories` section, cleaned; it must stay inside the
/// mounts directory (`what` and `example` word the error).
fn mount_path(uid: &str, what: &str, path: &str, example: &str) -> Result<String, Diagnostic> {
    clean_relative(path).ok_or_else(|| {
        Diagnostic::new(
            codes::INVALID_FRAGMENT,
            format!("resource '{uid}': {what} '{path}' must be relative and stay inside the mounts directory"),
        )
        .with_help(format!("write paths like `{example}` (no leading `/`, no `..`)"))
    })
}

/// The keys of a long-syntax service volume (compose-go's `ServiceVolumeConfig`).
const VOLUME_KEYS: [&str; 9] = [
    "type",
    "source",
    "target",
    "read_only",
    "consistency",
    "bind",
    "volume",
    "tmpfs",
    "image",
];

/// A resource's service as score-compose reads it: it decodes provisioner output into
/// compose-go's types, which drops a long-syntax volume's unknown keys (score-compose's own route
/// provisioner writes `readOnly: true`); extension keys (`x-...`) stay.
fn decode_volumes(mut service: Value) -> Value {
    if let Some(Value::Array(volumes)) = service.get_mut("volumes") {
        for v in volumes.iter_mut() {
            if let Value::Object(m) = v {
                m.retain(|k, _| VOLUME_KEYS.contains(&k.as_str()) || k.starts_with("x-"));
            }
        }
    }
    service
}

fn merge_entries(
    into: &mut BTreeMap<String, Value>,
    section: &str,
    res: &ProvisionedResource,
    entries: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<(), Diagnostic> {
    let uid = res.uid.as_str();
    for (name, value) in entries {
        check_name(section, uid, name)?;
        // A bare `name:` (null) is the compose way to say "defaults".
        let value = if value.is_null() {
            Value::Object(Map::new())
        } else {
            value.clone()
        };
        match into.get_mut(name) {
            None => {
                into.insert(name.clone(), value);
            }
            Some(existing) if res.tool_dialect => {
                // score-compose: `project.Volumes[name] = volume` (and networks, models).
                let path = format!("{section}.{name}");
                if let Some(w) = replaced(existing, &value, &path, &[], uid) {
                    warnings.push(w);
                }
                *existing = value;
            }
            Some(existing) => merge_value(existing, &value, &format!("{section}.{name}"))
                .map_err(|path| {
                    Diagnostic::new(
                        codes::FRAGMENT_CONFLICT,
                        format!("resource '{uid}' renders '{path}' differently from an earlier resource"),
                    )
                    .with_help("give each resource its own entry name, or render identical values")
                })?,
        }
    }
    Ok(())
}

/// Compose keys of services, volumes and networks match `^[a-zA-Z0-9._-]+$`.
fn check_name(section: &str, uid: &str, name: &str) -> Result<(), Diagnostic> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Diagnostic::new(
            codes::INVALID_FRAGMENT,
            format!("resource '{uid}': '{name}' is not a valid compose {section} name"),
        )
        .with_help("compose names may hold only letters, digits, '.', '_' and '-'"))
    }
}

/// Merges `new` into `existing`; on a conflict returns the dotted path where they differ.
pub(crate) fn merge_value(existing: &mut Value, new: &Value, path: &str) -> Result<(), String> {
    match (existing, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(prev) => merge_value(prev, v, &format!("{path}.{k}"))?,
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
            Ok(())
        }
        (a, b) if *a == *b => Ok(()),
        _ => Err(path.to_string()),
    }
}

/// The warning for a score-compose-style entry that a later resource replaced, naming the
/// values that changed (`None` when the two render the same).
fn replaced(old: &Value, new: &Value, path: &str, owners: &[String], uid: &str) -> Option<String> {
    fn diff(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let null = Value::Null;
                    let (va, vb) = (x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null));
                    diff(va, vb, format!("{path}.{k}"), out);
                }
            }
            (a, b) if a != b => out.push(path),
            _ => {}
        }
    }
    let mut paths = Vec::new();
    diff(old, new, path.to_string(), &mut paths);
    if paths.is_empty() {
        return None;
    }
    let earlier = match owners {
        [] => "an earlier resource".to_string(),
        [one] => format!("resource '{one}'"),
        many => format!(
            "resources {}",
            many.iter()
                .map(|o| format!("'{o}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Some(format!(
        "resource '{uid}' replaces '{path}' as rendered by {earlier} (score-compose keeps the \
         last one): {} changed",
        paths
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn conflict(path: String, first: &str, second: &str) -> Diagnostic {
    Diagnostic::new(
        codes::FRAGMENT_CONFLICT,
        format!("resources '{first}' and '{second}' render different values for '{path}'"),
    )
    .with_help(
        "a shared compose entry must be rendered identically by every resource that renders it",
    )
}

/// `a/./b` → `a/b`; `None` for absolute paths, `..`, or an empty path.
fn clean_relative(path: &str) -> Option<String> {
    if path.starts_with('/') || path.contains('\\') {
        return None;
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.is_empty() || parts.contains(&"..") {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_accepts_equal_and_disjoint_rejects_different() {
        let mut a = json!({"image": "x", "environment": {"A": "1"}});
        merge_value(
            &mut a,
            &json!({"image": "x", "environment": {"B": "2"}}),
            "s",
        )
        .unwrap();
        assert_eq!(
            a,
            json!({"image": "x", "environment": {"A": "1", "B": "2"}})
        );
        assert_eq!(
            merge_value(&mut a, &json!({"environment": {"A": "9"}}), "s"),
            Err("s.environment.A".to_string())
        );
    }

    #[test]
    fn relative_paths_are_cleaned_or_rejected() {
        assert_eq!(clean_relative("a/./b//c"), Some("a/b/c".into()));
        assert_eq!(clean_relative("/etc/x"), None);
        assert_eq!(clean_relative("a/../../x"), None);
        assert_eq!(clean_relative(""), None);
    }
}
