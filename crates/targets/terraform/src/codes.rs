//! The diagnostic codes only the terraform target reports (`score::terraform::*`, listed with their
//! meaning in `spec/diagnostic-codes.md`); core's own problems keep core's `Code`s.

use score_core::diag::TargetCode;

/// `score::terraform::invalid-section`: a provisioner's terraform section does not render `blocks: [{type, labels, body, blocks}]`.
pub const INVALID_SECTION: TargetCode = TargetCode::new(
    "score::terraform::invalid-section",
    "a provisioner's terraform section does not render `blocks: [{type, labels, body, blocks}]`; fix the provisioner",
);
/// `score::terraform::invalid-workload`: a workload cannot be expressed in Terraform (a volume that is not a usable resource, a value HCL cannot hold).
pub const INVALID_WORKLOAD: TargetCode = TargetCode::new(
    "score::terraform::invalid-workload",
    "a workload cannot be expressed in Terraform (a volume that is not a usable resource, a value HCL cannot hold); fix the workload or provisioner",
);
/// `score::terraform::block-conflict`: two sources define the same Terraform block differently.
pub const BLOCK_CONFLICT: TargetCode = TargetCode::new(
    "score::terraform::block-conflict",
    "two sources define the same Terraform block differently; rename one of them or render identical blocks",
);
/// `score::terraform::emit`: main.tf cannot be written (a value the HCL printer cannot express).
pub const EMIT: TargetCode = TargetCode::new(
    "score::terraform::emit",
    "main.tf cannot be written (a value the HCL printer cannot express); fix the value or report this",
);

/// Every code of this target, in the order of `spec/diagnostic-codes.md` (what
/// [`TerraformTarget`](crate::TerraformTarget) answers to `Target::codes`).
pub const ALL: &[TargetCode] = &[INVALID_SECTION, INVALID_WORKLOAD, BLOCK_CONFLICT, EMIT];
