//! An out-of-tree score-gen target, `inventory`: one YAML list of what a project deploys, built
//! only from what score-core's `Target` contract hands a target.
//!
//! - each workload becomes an `Inventory` entry (its name and its containers' images);
//! - it reads the Score ecosystem's k8s-format provisioner entries: the top-level `manifests`
//!   section of a Go-template entry (and the `manifests` answer key of a `cmd://` program), whose
//!   objects are appended to the list ([`Target::ecosystem_sections`],
//!   [`Target::cmd_answer_keys`]);
//! - it takes score-k8s-style patch templates (`.Manifests`, `.Workloads`) over the list
//!   ([`Target::patch_dialect`]);
//! - it defines its own diagnostic code, [`INVALID_MANIFESTS`] (`score::inventory::invalid-manifests`),
//!   listed by [`Target::codes`].
//!
//! Nothing here is in score-core, and score-core names nothing here. `src/main.rs` registers the
//! target in the CLI with one row of its target table (`score-gen-inventory`).

use score_core::diag::TargetCode;
use score_core::target::{
    apply_patch_templates, ArtefactFile, Artefacts, PatchDialect, PatchTemplate, ResolvedProject,
};
use score_core::{Diagnostic, Diagnostics, Target};
use serde_json::{json, Value};

/// `score::inventory::invalid-manifests`: a provisioner's `manifests` section is not a list of
/// objects.
pub const INVALID_MANIFESTS: TargetCode = TargetCode::new(
    "score::inventory::invalid-manifests",
    "a provisioner's `manifests` section is not a list of objects; fix the provisioner",
);

/// The file the target writes.
pub const OUTPUT_FILE: &str = "inventory.yaml";

/// The default provisioner file: none of its own (a project brings its provisioners, e.g. the
/// ecosystem's k8s-format files).
pub const DEFAULT_PROVISIONERS: &str = "[]\n";

/// The target, with its typed options.
#[derive(Debug, Clone, Default)]
pub struct InventoryTarget {
    /// Patch templates applied to the list before it is written.
    pub patch_templates: Vec<PatchTemplate>,
}

impl Target for InventoryTarget {
    fn name(&self) -> &'static str {
        "inventory"
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    fn context(&self) -> Value {
        json!({ "name": "inventory" })
    }

    /// The ecosystem's k8s-format section.
    fn ecosystem_sections(&self) -> &'static [&'static str] {
        &["manifests"]
    }

    fn cmd_answer_keys(&self) -> &'static [(&'static str, &'static str)] {
        &[("manifests", "manifests")]
    }

    /// score-k8s's patch data, without a namespace or `substituteValue`.
    fn patch_dialect(&self) -> Option<PatchDialect> {
        Some(PatchDialect::new("Manifests", &["Manifests", "Workloads"]))
    }

    fn codes(&self) -> &'static [TargetCode] {
        &[INVALID_MANIFESTS]
    }

    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
        let mut items = Vec::new();
        for w in &project.workloads {
            let images: Vec<&str> = w
                .spec
                .containers
                .values()
                .map(|c| c.image.as_str())
                .collect();
            items.push(json!({ "kind": "Inventory", "name": w.name, "images": images }));
        }
        let mut diags = Diagnostics::default();
        for res in project.resources() {
            match res.fragments.get("manifests") {
                None | Some(Value::Null) => {}
                Some(Value::Array(objects)) if objects.iter().all(Value::is_object) => {
                    items.extend(objects.iter().cloned());
                }
                Some(_) => diags.push(
                    Diagnostic::new(
                        INVALID_MANIFESTS,
                        format!(
                            "resource '{}': section 'manifests' must render a list of objects",
                            res.uid
                        ),
                    )
                    .with_help(format!("check the provisioner '{}'", res.provisioner)),
                ),
            }
        }
        diags.into_result()?;
        let mut list = Value::Array(items);
        if let Some(dialect) = self.patch_dialect() {
            apply_patch_templates(&self.patch_templates, &dialect, project, &mut list)?;
        }
        let yaml = serde_saphyr::to_string(&list).map_err(|e| {
            Diagnostic::new(
                score_core::Code::Internal,
                format!("cannot write {OUTPUT_FILE}: {e}"),
            )
        })?;
        Ok(Artefacts {
            files: vec![ArtefactFile::new(OUTPUT_FILE, yaml)],
            ..Artefacts::default()
        })
    }
}
