//! The additive project (spec/state.md, "The project"): the workloads a target's [`State`]
//! remembers, as score-compose's and score-k8s's state holds theirs. A run adds or replaces the
//! workloads it is given, removes the ones it is told to, and regenerates every workload of the
//! project: the given ones from their files, the others from the documents the state stored.
//!
//! [`Project`] holds a [`State`] and the workloads loaded from it. It does no I/O: what a stored
//! workload reads (its `files[].source`, the Score file of a version 1 entry) comes through a
//! [`WorkloadStore`] the caller supplies; [`NoFiles`] reads nothing. The state it hands back
//! ([`Project::state`], [`Project::into_state`]) is the stored form: persist it with
//! [`State::to_yaml`] (or, with `host`, `host::StateDir::save`).
//!
//! ```
//! use score_core::{load_workload, LoadOptions, Project, State};
//! use score_core::project::{NoFiles, WorkloadInput};
//! # struct Lines;
//! # impl score_core::Target for Lines {
//! #     fn name(&self) -> &'static str { "lines" }
//! #     fn default_provisioners(&self) -> &'static str { "[]" }
//! #     fn context(&self) -> serde_json::Value { serde_json::json!({"name": "lines"}) }
//! #     fn emit(&self, p: &score_core::target::ResolvedProject) -> Result<score_core::target::Artefacts, score_core::Diagnostics> {
//! #         let names: Vec<String> = p.workloads.iter().map(|w| w.name.clone()).collect();
//! #         Ok(score_core::target::Artefacts { files: vec![score_core::target::ArtefactFile::new("out.txt", names.join("\n"))], ..Default::default() })
//! #     }
//! # }
//! let workload = |name: &str| WorkloadInput {
//!     loaded: load_workload(
//!         &format!("{name}.yaml"),
//!         format!("apiVersion: score.dev/v1b1\nmetadata: {{name: {name}}}\ncontainers: {{main: {{image: nginx}}}}\n").as_bytes(),
//!         &LoadOptions::default(),
//!     )
//!     .unwrap(),
//!     file: Some(format!("{name}.yaml")),
//! };
//! let target = Lines;
//! let provisioners = score_core::project::provisioner_set::<&str, &str>(&target, &[]).unwrap();
//! let options = score_core::ProvisionOptions::default();
//!
//! // A first run adds `one`; the embedder keeps the stored form (the state's YAML).
//! let mut project = Project::new(State::with_seed("0123456789abcdef"));
//! project.add(workload("one"));
//! project.regenerate(&NoFiles, &provisioners, &target, &options).unwrap();
//! let stored = project.state().to_yaml();
//!
//! // A later run, from the stored form only, adds `two`: the output covers both.
//! let state = State::from_yaml("state.yaml", &stored).unwrap();
//! let mut project = Project::new(state);
//! project.add(workload("two"));
//! let out = project.regenerate(&NoFiles, &provisioners, &target, &options).unwrap();
//! assert_eq!(out.artefacts.files[0].content, b"one\ntwo");
//! assert!(project.remove("one").is_some());
//! let out = project.regenerate(&NoFiles, &provisioners, &target, &options).unwrap();
//! assert_eq!(out.artefacts.files[0].content, b"two");
//! ```

/// The persisted state format; its constants are for score-gen's own tools (no stability
/// promise): embedders use [`State`] and, with `host`, `host::StateDir`.
#[doc(hidden)]
pub mod state;

pub use crate::compile::{
    check_programs, check_project, provisioner_set, resolve_project, WorkloadInput,
};
pub use crate::secrets::Secrets;
pub use state::{Extras, ResourceState, State, WorkloadState};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::diag::{Code, Diagnostic, Diagnostics, SourceFile};
use crate::load::{load_value, load_workload, LoadOptions};
use crate::provision::{ProvisionOptions, ProvisionerSet};
use crate::target::{Artefacts, ResolvedProject, Target};

/// What loading a stored workload may read, supplied by the caller: the library itself reads
/// no file. The CLI's store reads `files[].source` from the workload's stored directory and
/// refuses what its security rules refuse (spec/security.md); [`NoFiles`] reads nothing.
pub trait WorkloadStore {
    /// The options a stored workload is loaded with (its `files[].source` reader), or the
    /// error that refuses to load it.
    fn load_options(&self, name: &str, stored: &WorkloadState) -> Result<LoadOptions, Diagnostics> {
        let _ = (name, stored);
        Ok(LoadOptions::default())
    }

    /// How diagnostics name the stored copy of a workload.
    fn label(&self, name: &str, stored: &WorkloadState) -> String {
        match &stored.file {
            Some(f) => format!("{f} (as stored in the project)"),
            None => format!("<workload '{name}' stored in the project>"),
        }
    }

    /// The bytes of the Score file of a workload a version 1 state recorded without its document.
    fn read_file(&self, name: &str, file: &str) -> Result<Vec<u8>, Diagnostics> {
        Err(Diagnostic::new(
            Code::StateInvalid,
            format!("workload '{name}' is stored without its document, and its file {file} cannot be read here"),
        )
        .into())
    }

    /// What to tell the user about a stored workload that does not load.
    fn help(&self, name: &str) -> String {
        format!(
            "workload '{name}' is in the project from an earlier run: add its Score file again to \
             replace it, or remove it from the project"
        )
    }
}

/// A [`WorkloadStore`] that reads nothing: stored workloads load from their stored documents, a
/// `files[].source` is an error, and so is a version 1 entry without a document.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl WorkloadStore for NoFiles {}

/// The outputs of [`Project::regenerate`].
#[derive(Debug, Clone)]
pub struct Regenerated {
    /// The resolved project the target emitted.
    pub project: ResolvedProject,
    /// The target's files.
    pub artefacts: Artefacts,
}

/// The additive project of one target: a [`State`] and its workloads (see the module docs).
#[derive(Debug, Clone)]
pub struct Project {
    state: State,
    /// The workloads loaded so far (added ones, and stored ones once [`Project::load`] ran),
    /// sorted by name.
    loaded: Vec<WorkloadInput>,
    /// Stored workloads loaded without spans (by the name of their document's source), whose
    /// diagnostics [`Project::locate`] points at lines of their stored text.
    spanless: BTreeMap<String, String>,
}

impl Project {
    /// The project a state holds. A version 1 state's workloads are read again from their files
    /// (through the [`WorkloadStore`]) when the project is loaded, and stored then.
    pub fn new(state: State) -> Project {
        Project {
            state,
            loaded: Vec::new(),
            spanless: BTreeMap::new(),
        }
    }

    /// The state: the project's stored form.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The state, to edit what the project does not own (a target's [`crate::project::Extras`]).
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The state, giving the project up.
    pub fn into_state(self) -> State {
        self.state
    }

    /// Whether the project has a workload of this name.
    pub fn contains(&self, name: &str) -> bool {
        self.state.workloads.contains_key(name)
    }

    /// The workloads' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.state.workloads.keys().map(String::as_str)
    }

    /// Adds a workload, or replaces the one of the same name (its target extras, e.g. compose's
    /// builds, go with it, as in score-compose); the replaced entry is returned. Its stored form
    /// records its file, the directory its `files[].source` paths are read from, and its
    /// document as loaded (overrides and upgrades applied).
    pub fn add(&mut self, workload: WorkloadInput) -> Option<WorkloadState> {
        let name = workload.loaded.workload.name().to_string();
        let before = self
            .state
            .workloads
            .insert(name.clone(), stored_form(&workload));
        self.spanless.retain(|_, n| *n != name);
        match self.position(&name) {
            Ok(i) => self.loaded[i] = workload,
            Err(i) => self.loaded.insert(i, workload),
        }
        before
    }

    /// Removes a workload; `None` when the project has none of that name. Its resources stay in
    /// the state (as every resource no workload uses does).
    pub fn remove(&mut self, name: &str) -> Option<WorkloadState> {
        let removed = self.state.workloads.remove(name)?;
        if let Ok(i) = self.position(name) {
            self.loaded.remove(i);
        }
        self.spanless.retain(|_, n| n != name);
        Some(removed)
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.loaded
            .binary_search_by(|w| w.loaded.workload.name().cmp(name))
    }

    /// Loads every workload the state holds that is not loaded yet, reporting every one that
    /// fails, and returns all of them, sorted by name. A stored document is loaded as a value
    /// (no YAML round trip) when it passes every check; one that does not is loaded from its
    /// text, so its diagnostics point at lines. A version 1 entry is read from its file and
    /// stored.
    pub fn load(&mut self, store: &dyn WorkloadStore) -> Result<&[WorkloadInput], Diagnostics> {
        let missing: Vec<String> = self
            .state
            .workloads
            .keys()
            .filter(|name| self.position(name).is_err())
            .cloned()
            .collect();
        let mut diags = Diagnostics::default();
        for name in missing {
            let stored = &self.state.workloads[&name];
            let version_1 = stored.spec.is_none();
            match self.load_stored(&name, stored, store) {
                Ok((w, spanless)) => {
                    if spanless {
                        self.spanless
                            .insert(w.loaded.document.source.name.clone(), name.clone());
                    }
                    if version_1 {
                        // A version 1 entry, read again from its file: store its document now.
                        let entry = self.state.workloads.entry(name.clone()).or_default();
                        let extras = std::mem::take(&mut entry.extras);
                        *entry = stored_form(&w);
                        entry.extras = extras;
                    }
                    let i = self.position(&name).unwrap_err();
                    self.loaded.insert(i, w);
                }
                Err(d) => diags.0.extend(d.0),
            }
        }
        diags.into_result()?;
        Ok(&self.loaded)
    }

    /// The workloads loaded so far, sorted by name (every workload after [`Project::load`]).
    pub fn workloads(&self) -> &[WorkloadInput] {
        &self.loaded
    }

    /// Loads one stored workload: `(workload, loaded without spans)`.
    fn load_stored(
        &self,
        name: &str,
        stored: &WorkloadState,
        store: &dyn WorkloadStore,
    ) -> Result<(WorkloadInput, bool), Diagnostics> {
        let opts = store.load_options(name, stored)?;
        let label = store.label(name, stored);
        let help = || store.help(name);
        let with_help = |mut d: Diagnostics| {
            for x in &mut d.0 {
                if x.help.is_none() {
                    x.help = Some(help());
                }
            }
            d
        };
        let (loaded, spanless) = match (&stored.spec, &stored.file) {
            (Some(spec), _) => match load_value(&label, spec.clone(), &opts) {
                Some(w) => (w, true),
                None => {
                    let text = stored.spec_yaml().unwrap_or_default();
                    let w = load_workload(&label, text.as_bytes(), &opts).map_err(with_help)?;
                    (w, false)
                }
            },
            (None, Some(file)) => {
                let bytes = store.read_file(name, file).map_err(with_help)?;
                let w = load_workload(file, &bytes, &opts).map_err(with_help)?;
                (w, false)
            }
            (None, None) => {
                return Err(Diagnostic::new(
                    Code::StateInvalid,
                    format!("workload '{name}' has neither a stored document nor a file"),
                )
                .with_help(help())
                .into())
            }
        };
        if loaded.workload.name() != name {
            return Err(Diagnostic::new(
                Code::StateInvalid,
                format!(
                    "the workload stored as '{name}' is named '{}'",
                    loaded.workload.name()
                ),
            )
            .with_help(help())
            .into());
        }
        Ok((
            WorkloadInput {
                loaded,
                file: stored.file.clone(),
            },
            spanless,
        ))
    }

    /// The back half over every workload (loading the stored ones that are not loaded yet with
    /// [`NoFiles`]): provisions and substitutes, and on success keeps the new state (new
    /// resources, generated values); on failure the state is unchanged.
    pub fn resolve(
        &mut self,
        provisioners: &ProvisionerSet,
        target: &dyn Target,
        options: &ProvisionOptions,
    ) -> Result<ResolvedProject, Diagnostics> {
        self.load(&NoFiles)?;
        // The back half reads the state's resources, not its stored workload documents (a
        // copy of every workload): those stay here, out of the copy it works on.
        let stored = std::mem::take(&mut self.state.workloads);
        let result = resolve_project(
            &self.loaded,
            provisioners,
            self.state.clone(),
            target,
            options,
        );
        self.state.workloads = stored;
        let (project, mut state) = result.map_err(|d| self.locate(d))?;
        // What the run recorded of each workload (its file) goes onto the stored entries.
        let recorded = std::mem::replace(
            &mut state.workloads,
            std::mem::take(&mut self.state.workloads),
        );
        for (name, w) in recorded {
            state.workloads.entry(name).or_default().file = w.file;
        }
        self.state = state;
        Ok(project)
    }

    /// Regenerates the whole project: loads the stored workloads through `store`, resolves
    /// ([`Project::resolve`]) and emits. On success the state holds the run's values.
    pub fn regenerate(
        &mut self,
        store: &dyn WorkloadStore,
        provisioners: &ProvisionerSet,
        target: &dyn Target,
        options: &ProvisionOptions,
    ) -> Result<Regenerated, Diagnostics> {
        self.load(store)?;
        let before = self.state.clone();
        let project = self.resolve(provisioners, target, options)?;
        match target.emit(&project) {
            Ok(artefacts) => Ok(Regenerated { project, artefacts }),
            Err(d) => {
                let d = self.locate(Secrets::of(&self.state).scrub(d));
                self.state = before;
                Err(d)
            }
        }
    }

    /// Diagnostics about a stored workload that was loaded without spans, pointed at the line of
    /// its stored text (the document as YAML) that their JSON pointer names.
    pub fn locate(&self, mut diags: Diagnostics) -> Diagnostics {
        if self.spanless.is_empty() {
            return diags;
        }
        let mut texts: BTreeMap<String, Option<crate::load::yaml::Document>> = BTreeMap::new();
        for d in &mut diags.0 {
            self.locate_one(d, &mut texts);
        }
        diags
    }

    fn locate_one(
        &self,
        d: &mut Diagnostic,
        texts: &mut BTreeMap<String, Option<crate::load::yaml::Document>>,
    ) {
        for r in &mut d.related {
            self.locate_one(r, texts);
        }
        let Some(file) = &d.file else { return };
        if d.span.is_some() || !file.text.is_empty() {
            return;
        }
        let Some(name) = self.spanless.get(&file.name) else {
            return;
        };
        let label = file.name.clone();
        let hidden = file.contents_hidden();
        let doc = texts.entry(label.clone()).or_insert_with(|| {
            let text = self.state.workloads.get(name)?.spec_yaml()?;
            let mut source = SourceFile::new(label.clone(), text.clone());
            if hidden {
                source = source.with_contents_hidden();
            }
            crate::load::yaml::parse(Arc::new(source), text.as_bytes(), &Default::default()).ok()
        });
        let Some(doc) = doc else { return };
        d.file = Some(doc.source.clone());
        if let Some(span) = d.pointer.as_deref().and_then(|p| doc.spans.locate(p)) {
            d.span = Some(span);
        }
    }
}

/// What the state keeps of a workload: its file, the directory its `files[].source` paths are
/// read from, and its document as loaded. Target extras start empty.
fn stored_form(w: &WorkloadInput) -> WorkloadState {
    WorkloadState {
        file: w.file.clone(),
        dir: w.file.as_deref().map(|f| match Path::new(f).parent() {
            Some(p) if !p.as_os_str().is_empty() => p.display().to_string(),
            _ => ".".to_string(),
        }),
        spec: w.loaded.document.value.as_object().cloned(),
        extras: crate::project::state::Extras::default(),
    }
}
