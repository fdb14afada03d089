//! The `$` contract between the compose and k8s targets (issue 15): the same Score `args` reach
//! the container as the same text. Compose interpolates its file (`$$` → `$`); the kubelet
//! expands `$(VAR)` for variables the container defines and turns `$$` into `$`. Both tools'
//! users write `$${VAR}` for a shell variable; a lone `$X` reaches the shell as `$X` too.

use std::path::Path;

use crate::common;
use common::{score_gen, stderr};

const SCORE: &str = "apiVersion: score.dev/v1b1
metadata:
  name: shell
containers:
  main:
    image: busybox
    command: [\"/bin/sh\", \"-c\"]
    args:
      - echo $HOME $$HOME $${GREETING} $(date) costs $$5
    variables:
      GREETING: hello
";

/// The text of the `- echo ...` list item in a generated file.
fn args_line(text: &str) -> String {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix("- echo "))
        .map(|rest| format!("echo {rest}"))
        .unwrap_or_else(|| panic!("no args line in:\n{text}"))
}

/// What compose hands the container: `$$` is a literal `$` (no lone `$` is left to interpolate).
fn compose_runtime(s: &str) -> String {
    assert!(
        !s.replace("$$", "").contains('$'),
        "a lone `$` would be interpolated by compose: {s}"
    );
    s.replace("$$", "$")
}

/// What the kubelet hands the container: `$$` → `$`, `$(VAR)` → the value of a variable the
/// container defines (others stay as written).
fn kubelet_runtime(s: &str, env: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after.strip_prefix('(').and_then(|a| a.split_once(')')) {
            match env.iter().find(|(k, _)| *k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&format!("$({name})")),
            }
            rest = tail;
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn generate(dir: &Path, target: &str) -> String {
    let o = score_gen(dir, &[target, "score.yaml", "-o", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    String::from_utf8(o.stdout).expect("utf-8")
}

#[test]
fn args_reach_the_container_alike_in_compose_and_k8s() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("score.yaml"), SCORE).unwrap();
    let compose = compose_runtime(&args_line(&generate(dir.path(), "compose")));
    let k8s = kubelet_runtime(
        &args_line(&generate(dir.path(), "k8s")),
        &[("GREETING", "hello")],
    );
    assert_eq!(compose, "echo $HOME $HOME ${GREETING} $(date) costs $5");
    assert_eq!(k8s, compose);
}
