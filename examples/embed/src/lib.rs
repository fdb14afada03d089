//! How a tool (a developer portal, an editor plugin, a GitOps plugin) embeds score-core.
//!
//! Everything comes from the crates' roots, and nothing touches the file system: the Score file,
//! the provisioner file and the `files[].source` contents are strings held in memory.
//!
//! - [`validate`]: every problem of a Score file, each with its line and column;
//! - [`compile_to`]: compose or k8s output in memory;
//! - [`CMD_PROVISIONERS`]: a provisioner file that would run a program, which the library refuses
//!   unless the caller allows it ([`score_core::CommandPolicy`]).

use score_core::input::MemorySources;
use score_core::{compile, CompileInputs, Diagnostics, State, Target};
use score_target_compose::ComposeTarget;
use score_target_k8s::K8sTarget;

/// A workload with a resource, a placeholder and a file whose content comes from `source`.
pub const SCORE: &str = r#"apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx:1.27
    variables:
      DB_HOST: ${resources.db.host}
    files:
      /etc/nginx/conf.d/shop.conf:
        source: shop.conf
resources:
  db:
    type: postgres
    class: portal
"#;

/// The portal's own provisioner for `postgres` of class `portal`.
pub const PROVISIONERS: &str = r#"- uri: template://portal/postgres
  engine: minijinja
  type: postgres
  class: portal
  outputs: |
    host: pg-{{ id | replace(".", "-") }}.db.internal
"#;

/// A provisioner file that would run a program for `postgres` of class `portal`.
pub const CMD_PROVISIONERS: &str = r#"- uri: cmd:///bin/sh#portal
  type: postgres
  class: portal
  args: ["-c", "echo would run"]
"#;

/// `files[].source` contents, by path as written in the Score file.
pub fn sources() -> MemorySources {
    let mut m = MemorySources::default();
    m.insert("shop.conf", "server { listen 8080; }\n");
    m
}

/// Each problem of `score` as `line:column: message`, in order; empty when it is valid.
pub fn validate(name: &str, score: &str) -> Vec<String> {
    let options = score_core::LoadOptions {
        sources: Some(std::sync::Arc::new(sources())),
        ..Default::default()
    };
    match score_core::load_workload(name, score.as_bytes(), &options) {
        Ok(_) => Vec::new(),
        Err(diags) => diags
            .iter()
            .map(|d| match d.span {
                Some(s) => format!("{}:{}: {}", s.line, s.column, d.message),
                None => format!("?:?: {}", d.message),
            })
            .collect(),
    }
}

/// The primary output (compose.yaml or manifests.yaml) of `target` for `score` with
/// `provisioners`, all in memory, with a fixed seed (the same inputs give the same bytes).
pub fn compile_to(
    target: &dyn Target,
    score: &str,
    provisioners: &str,
) -> Result<String, Diagnostics> {
    let inputs = CompileInputs::new()
        .score_file("score.yaml", score)
        .provisioner_file("portal.provisioners.yaml", provisioners)
        .sources(sources());
    let out = compile(target, &inputs, State::with_seed("portal-demo"))?;
    Ok(String::from_utf8_lossy(&out.artefacts.files[0].content).into_owned())
}

/// The compose target with default options.
pub fn compose() -> ComposeTarget {
    ComposeTarget::default()
}

/// The k8s target with default options.
pub fn k8s() -> K8sTarget {
    K8sTarget::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_file_reports_line_and_column() {
        let broken = SCORE.replace("image: nginx:1.27", "image: [nginx]");
        let problems = validate("score.yaml", &broken);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0], "6:12: expected a string, found a list");
        assert!(validate("score.yaml", SCORE).is_empty());
    }

    #[test]
    fn compose_and_k8s_in_memory_with_the_source_file() {
        let compose_yaml = compile_to(&compose(), SCORE, PROVISIONERS).unwrap();
        assert!(
            compose_yaml.contains("DB_HOST: pg-shop-db.db.internal"),
            "{compose_yaml}"
        );
        let manifests = compile_to(&k8s(), SCORE, PROVISIONERS).unwrap();
        assert!(manifests.contains("pg-shop-db.db.internal"), "{manifests}");
        // The source file's content is in the ConfigMap that k8s mounts.
        assert!(manifests.contains("listen 8080"), "{manifests}");
        // Deterministic.
        assert_eq!(compile_to(&k8s(), SCORE, PROVISIONERS).unwrap(), manifests);
    }

    #[test]
    fn a_missing_source_is_an_error_not_an_empty_file() {
        let score = SCORE.replace("source: shop.conf", "source: other.conf");
        let err = compile_to(&compose(), &score, PROVISIONERS).unwrap_err();
        assert!(
            err.iter().any(|d| d.message.contains("other.conf")),
            "{err}"
        );
    }

    #[test]
    fn a_cmd_provisioner_is_refused_without_permission() {
        let err = compile_to(&compose(), SCORE, CMD_PROVISIONERS).unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(d.code, score_core::Code::ProvisionCommandDenied, "{err}");
    }
}
