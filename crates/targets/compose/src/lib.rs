//! score-gen compose target: turns a resolved Score project into a compose-spec `compose.yaml`
//! plus the files it bind-mounts (under `.score-gen/mounts/`).
//!
//! Behaviour (service per container, `$` escaping, mounts, healthchecks, `depends_on`,
//! resource fragments) is specified in `spec/targets/compose.md`; the peer it follows is
//! score-compose.
//!
//! ```no_run
//! use score_core::resolved::{Target, TargetOptions};
//! use score_target_compose::ComposeTarget;
//! let target = ComposeTarget;
//! assert_eq!(target.name(), "compose");
//! let ctx = target.context(&TargetOptions::default());
//! assert_eq!(ctx["mounts_dir"], "./.score-gen/mounts");
//! ```

mod convert;
mod escape;
mod fragments;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use score_core::diag::{Diagnostic, Diagnostics};
use score_core::resolved::{Artefacts, ResolvedProject, Target, TargetOptions};

pub use escape::{escape_dollars, mount_file_name};

/// The default compose provisioners (our minijinja format, see `spec/provisioners.md`).
pub const DEFAULT_PROVISIONERS: &str = include_str!("../provisioners/default.provisioners.yaml");

/// Where mounted files live, relative to the directory of `compose.yaml`.
pub const MOUNTS_DIR: &str = ".score-gen/mounts";

/// Diagnostic code of every compose emit error.
pub(crate) const CODE: &str = "score::compose";

/// The compose backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComposeTarget;

/// The settings the CLI passes in [`TargetOptions::settings`], parsed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    /// Compose project name (`name:`), normalised; `None` leaves naming to compose.
    pub project: Option<String>,
    /// Container name → build context (`build.<container>`).
    pub builds: BTreeMap<String, String>,
    /// `HOSTPORT:WORKLOAD:PORT` entries, in the order given.
    pub publish: Vec<String>,
    /// Where the CLI writes the skeleton `.env`; when set we return its content.
    pub env_file: Option<String>,
}

impl Settings {
    fn from_options(opts: &TargetOptions) -> Self {
        let mut s = Settings::default();
        for (k, v) in &opts.settings {
            if k == "project" {
                s.project = normalise_project(v);
            } else if let Some(c) = k.strip_prefix("build.") {
                s.builds.insert(c.to_string(), v.clone());
            } else if k == "publish" {
                s.publish = v
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect();
            } else if k == "env_file" && !v.is_empty() {
                s.env_file = Some(v.clone());
            }
        }
        s
    }
}

/// Compose project names must match `^[a-z0-9][a-z0-9_-]*$`; like `docker compose` does for
/// directory names, lower-case and drop everything else rather than fail.
fn normalise_project(raw: &str) -> Option<String> {
    let s: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    let s = s.trim_start_matches(['-', '_']).to_string();
    (!s.is_empty()).then_some(s)
}

impl Target for ComposeTarget {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    /// `{"name": "compose", "project": <normalised project or "">, "mounts_dir": "./.score-gen/mounts"}`.
    fn context(&self, opts: &TargetOptions) -> Value {
        let settings = Settings::from_options(opts);
        json!({
            "name": "compose",
            "project": settings.project.unwrap_or_default(),
            "mounts_dir": format!("./{MOUNTS_DIR}"),
        })
    }

    fn emit(
        &self,
        project: &ResolvedProject,
        opts: &TargetOptions,
    ) -> Result<Artefacts, Diagnostics> {
        let settings = Settings::from_options(opts);
        let mut diags = Diagnostics::default();
        let mut out = fragments::Project::default();

        for res in project.resources() {
            if let Err(d) = out.add_resource(res) {
                diags.0.extend(d.0);
            }
        }
        for w in &project.workloads {
            if let Err(d) = convert::add_workload(&mut out, w, project, &settings) {
                diags.0.extend(d.0);
            }
        }
        diags.into_result()?;
        convert::apply_publish(&mut out, project, &settings.publish)?;
        convert::declare_named_volumes(&mut out);

        let mut doc = Map::new();
        if let Some(p) = &settings.project {
            doc.insert("name".into(), Value::String(p.clone()));
        }
        let services: Map<String, Value> = out
            .services
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        doc.insert("services".into(), Value::Object(services));
        for (key, section) in [("volumes", &out.volumes), ("networks", &out.networks)] {
            if !section.is_empty() {
                let m: Map<String, Value> = section
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                doc.insert(key.into(), Value::Object(m));
            }
        }
        // Long single-line strings (URLs, shell commands) stay on one line: folding them into
        // `>-` blocks is correct YAML but hard to read and to grep.
        let mut yaml_options = serde_saphyr::SerializerOptions::default();
        yaml_options.folded_wrap_chars = usize::MAX;
        let yaml = serde_saphyr::to_string_with_options(&Value::Object(doc), yaml_options)
            .map_err(|e| Diagnostic::new(CODE, format!("cannot serialise compose.yaml: {e}")))?;

        let mut files: Vec<(PathBuf, Vec<u8>)> = vec![(PathBuf::from("compose.yaml"), yaml.into())];
        let mut modes = BTreeMap::new();
        for (rel, bytes) in &out.files {
            let path = PathBuf::from(MOUNTS_DIR).join(rel);
            if let Some(bits) = out.file_modes.get(rel) {
                modes.insert(path.clone(), *bits);
            }
            files.push((path, bytes.clone()));
        }
        if let Some(env_file) = &settings.env_file {
            files.push((
                PathBuf::from(env_file),
                convert::env_skeleton(&out.env_vars),
            ));
        }
        Ok(Artefacts { files, modes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_normalised_like_compose() {
        assert_eq!(normalise_project("My.App"), Some("myapp".into()));
        assert_eq!(normalise_project("_x-1"), Some("x-1".into()));
        assert_eq!(normalise_project("..."), None);
    }

    #[test]
    fn settings_are_parsed() {
        let mut o = TargetOptions::default();
        o.settings.insert("build.main".into(), "./app".into());
        o.settings
            .insert("publish".into(), "8080:web:80, 5432:db:5432".into());
        o.settings.insert("env_file".into(), ".env".into());
        let s = Settings::from_options(&o);
        assert_eq!(s.builds["main"], "./app");
        assert_eq!(s.publish, vec!["8080:web:80", "5432:db:5432"]);
        assert_eq!(s.env_file.as_deref(), Some(".env"));
        assert_eq!(s.project, None);
    }
}
