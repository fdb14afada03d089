//! score-gen compose target. Placeholder until its issue lands: every call to `emit` is an error.

use score_core::diag::{Diagnostic, Diagnostics};
use score_core::resolved::{Artefacts, ResolvedProject, Target, TargetOptions};

/// The default provisioner file for this target (none yet).
pub const DEFAULT_PROVISIONERS: &str = "[]\n";

/// The compose target.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComposeTarget;

impl Target for ComposeTarget {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    fn context(&self, _opts: &TargetOptions) -> serde_json::Value {
        serde_json::json!({ "name": "compose" })
    }

    fn emit(
        &self,
        _project: &ResolvedProject,
        _opts: &TargetOptions,
    ) -> Result<Artefacts, Diagnostics> {
        Err(Diagnostic::new("score::target", "the compose target is not built yet").into())
    }
}
