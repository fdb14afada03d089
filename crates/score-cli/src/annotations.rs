//! Workload annotations in a target's own namespace (`compose.score.dev/`, `k8s.score.dev/`, the
//! namespaces score-compose and score-k8s use and our targets share) that the target does not
//! act on: a warning on stderr (muted by `--quiet`), never silence, because an author who
//! writes `k8s.score.dev/kind: StatefulSet` with a typo expects it to matter.

use score_core::WorkloadInput;

/// What a target reads from workload annotations: its namespace and the keys it acts on.
struct Known {
    target: &'static str,
    prefix: &'static str,
    /// Keys the target acts on.
    understood: &'static [&'static str],
}

const KNOWN: &[Known] = &[
    Known {
        target: "compose",
        prefix: "compose.score.dev/",
        // score-compose reads none from workloads; it writes workload-name on each service.
        understood: &[],
    },
    Known {
        target: "k8s",
        prefix: "k8s.score.dev/",
        // As score-k8s: the workload object's kind, and the Service's name.
        understood: &["k8s.score.dev/kind", "k8s.score.dev/service-name"],
    },
];

/// The warnings for `workloads` compiled by `target`, one line each.
pub fn warnings(target: &str, workloads: &[WorkloadInput]) -> Vec<String> {
    let Some(known) = KNOWN.iter().find(|k| k.target == target) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for w in workloads {
        let spec = &w.loaded.workload;
        for key in spec.annotations().keys() {
            if !key.starts_with(known.prefix) || known.understood.contains(&key.as_str()) {
                continue;
            }
            let why = if known.understood.is_empty() {
                format!("the {target} target reads no {}* annotations", known.prefix)
            } else {
                format!(
                    "the {target} target reads only {}",
                    known.understood.join(", ")
                )
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
        let k8s = warnings("k8s", &w);
        assert_eq!(k8s.len(), 1, "{k8s:?}");
        assert!(k8s[0].contains(
            "k8s.score.dev/kindd is ignored: the k8s target reads only k8s.score.dev/kind, k8s.score.dev/service-name"
        ));
        let compose = warnings("compose", &w);
        assert_eq!(compose.len(), 1, "{compose:?}");
        assert!(compose[0].contains("compose.score.dev/xx is ignored: the compose target reads no"));
        assert!(warnings("terraform", &w).is_empty());
    }
}
