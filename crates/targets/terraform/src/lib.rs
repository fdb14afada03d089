//! score-gen terraform target. Placeholder until its issue lands: every call to `emit` is an error.

use score_core::diag::{Diagnostic, Diagnostics};
use score_core::resolved::{Artefacts, ResolvedProject, Target, TargetOptions};

/// The default provisioner file for this target (none yet).
pub const DEFAULT_PROVISIONERS: &str = "[]\n";

/// The terraform target.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerraformTarget;

impl Target for TerraformTarget {
    fn name(&self) -> &'static str {
        "terraform"
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    fn context(&self, _opts: &TargetOptions) -> serde_json::Value {
        serde_json::json!({ "name": "terraform" })
    }

    fn emit(
        &self,
        _project: &ResolvedProject,
        _opts: &TargetOptions,
    ) -> Result<Artefacts, Diagnostics> {
        Err(Diagnostic::new("score::target", "the terraform target is not built yet").into())
    }
}
