//! `score-gen-inventory`: score-gen with the `inventory` target registered by one row of the
//! CLI's target table (`score-gen-inventory inventory score.yaml`, `init --target inventory`,
//! `all`), built from this crate and the CLI's library alone.

use score_cli::targets::{BoxedTarget, TargetFlags, TargetInfo, DEFAULT_TARGETS};
use score_core::Diagnostics;
use score_target_inventory_example::{InventoryTarget, OUTPUT_FILE};

/// The row: the common generate flags, and the patch templates `init --patch-templates` stored.
const ROW: TargetInfo = TargetInfo::new(
    "inventory",
    OUTPUT_FILE,
    "Compile workloads to an inventory of what the project deploys",
    build,
);

fn build(flags: &TargetFlags) -> Result<BoxedTarget, Diagnostics> {
    Ok(Box::new(InventoryTarget {
        patch_templates: score_cli::targets::stored_patch_templates(flags, ROW.name)?,
    }))
}

fn main() -> std::process::ExitCode {
    let mut rows = DEFAULT_TARGETS.to_vec();
    rows.push(ROW);
    score_cli::run_with_targets(score_cli::Program::ScoreGen, rows)
}
