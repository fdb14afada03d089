//! Workload annotations in a target's own namespace (the one it declares with
//! `Target::annotation_prefix`, as the ecosystem's tools own theirs) that the target does not
//! act on: a warning on stderr (muted by `--quiet`), never silence, because an author who
//! writes `k8s.score.dev/kind: StatefulSet` with a typo expects it to matter.

use score_core::project::WorkloadInput;
use score_core::Target;

/// The warnings for `workloads` compiled by `target`, one line each: annotations in the
/// namespace the target owns ([`Target::annotation_prefix`]) that it does not act on
/// ([`Target::annotations`]).
pub fn warnings(target: &dyn Target, workloads: &[WorkloadInput]) -> Vec<String> {
    let Some(prefix) = target.annotation_prefix() else {
        return Vec::new();
    };
    let understood = target.annotations();
    let name = target.name();
    let mut out = Vec::new();
    for w in workloads {
        let spec = &w.loaded.workload;
        for key in spec.annotations().keys() {
            if !key.starts_with(prefix) || understood.contains(&key.as_str()) {
                continue;
            }
            let why = if understood.is_empty() {
                format!("the {name} target reads no {prefix}* annotations")
            } else {
                format!("the {name} target reads only {}", understood.join(", "))
            };
            out.push(format!(
                "warning: workload '{}': annotation {key} is ignored: {why}",
                spec.name()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(annotations: &str) -> WorkloadInput {
        let text = format!(
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: web\n  annotations: {annotations}\ncontainers:\n  main: {{image: a}}\n"
        );
        let loaded = score_core::load_workload("s.yaml", text.as_bytes(), &Default::default())
            .expect("loads");
        WorkloadInput { loaded, file: None }
    }

    #[test]
    fn unknown_keys_in_the_targets_namespace_warn() {
        let w = [workload(
            "{k8s.score.dev/kind: StatefulSet, k8s.score.dev/kindd: x, k8s.score.dev/service-name: s, compose.score.dev/xx: y, other.io/zz: q}",
        )];
        crate::row::install(crate::targets::DEFAULT_TARGETS);
        let target = |name| crate::row::default_target(name).unwrap();
        let k8s = warnings(target("k8s").as_ref(), &w);
        assert_eq!(k8s.len(), 1, "{k8s:?}");
        assert!(k8s[0].contains(
            "k8s.score.dev/kindd is ignored: the k8s target reads only k8s.score.dev/kind, k8s.score.dev/service-name"
        ));
        let compose = warnings(target("compose").as_ref(), &w);
        assert_eq!(compose.len(), 1, "{compose:?}");
        assert!(compose[0].contains("compose.score.dev/xx is ignored: the compose target reads no"));
        assert!(warnings(target("terraform").as_ref(), &w).is_empty());
    }
}
