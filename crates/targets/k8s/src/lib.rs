//! score-gen k8s target. Placeholder until its issue lands: every call to `emit` is an error.

use score_core::diag::{Diagnostic, Diagnostics};
use score_core::resolved::{Artefacts, ResolvedProject, Target, TargetOptions};

/// The default provisioner file for this target (none yet).
pub const DEFAULT_PROVISIONERS: &str = "[]\n";

/// The k8s target.
#[derive(Debug, Clone, Copy, Default)]
pub struct K8sTarget;

impl Target for K8sTarget {
    fn name(&self) -> &'static str {
        "k8s"
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    fn context(&self, _opts: &TargetOptions) -> serde_json::Value {
        serde_json::json!({ "name": "k8s" })
    }

    fn emit(
        &self,
        _project: &ResolvedProject,
        _opts: &TargetOptions,
    ) -> Result<Artefacts, Diagnostics> {
        Err(Diagnostic::new("score::target", "the k8s target is not built yet").into())
    }
}
