//! The fourth target through the CLI: `score-gen-inventory` (score-gen's table plus one row)
//! builds and runs it like any target: subcommand, `init --target`, patch templates, `all`,
//! and its own diagnostic code with exit 1.

use std::path::Path;
use std::process::{Command, Output};

const SCORE: &str = "apiVersion: score.dev/v1b1\nmetadata:\n  name: shop\ncontainers:\n  web:\n    image: nginx:1.27\nresources:\n  cache:\n    type: redis\n";

/// A Go-template entry in score-k8s's format: `manifests` at the top level.
const PROVISIONERS: &str = "- uri: template://example/redis\n  type: redis\n  outputs: |\n    host: {{ .Id }}\n  manifests: |\n    - apiVersion: v1\n      kind: Service\n      metadata:\n        name: {{ .Id | replace \".\" \"-\" }}\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_score-gen-inventory"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_row_makes_a_subcommand_that_compiles_with_patch_templates() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("score.yaml"), SCORE).unwrap();
    std::fs::write(p.join("p.provisioners.yaml"), PROVISIONERS).unwrap();
    std::fs::write(
        p.join("team.tpl"),
        "{{ range $i, $m := .Manifests }}\n- op: set\n  path: \"{{ $i }}.labels.team\"\n  value: shop\n{{ end }}",
    )
    .unwrap();
    let help = ok(p, &["--help"]);
    assert!(
        help.lines()
            .any(|l| l.trim_start().starts_with("inventory ")
                && l.contains("Compile workloads to an inventory")),
        "{help}"
    );
    assert!(ok(p, &["all", "--help"]).contains("DIR/inventory.yaml"));
    ok(
        p,
        &[
            "init",
            "--target",
            "inventory",
            "--no-sample",
            "--patch-templates",
            "team.tpl",
        ],
    );
    ok(
        p,
        &[
            "inventory",
            "score.yaml",
            "--provisioners",
            "p.provisioners.yaml",
        ],
    );
    let yaml = std::fs::read_to_string(p.join("inventory.yaml")).unwrap();
    assert!(yaml.contains("kind: Inventory"), "{yaml}");
    assert!(yaml.contains("kind: Service"), "{yaml}");
    assert!(yaml.contains("name: shop-cache"), "{yaml}");
    assert_eq!(yaml.matches("team: shop").count(), 2, "{yaml}");
    // The default rows are still there.
    assert!(
        help.contains("compose") && help.contains("terraform"),
        "{help}"
    );
}

#[test]
fn its_own_code_exits_1() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("score.yaml"), SCORE).unwrap();
    let bad = PROVISIONERS.replace(
        "  manifests: |\n    - apiVersion: v1\n      kind: Service\n      metadata:\n        name: {{ .Id | replace \".\" \"-\" }}\n",
        "  manifests: |\n    just: a map\n",
    );
    std::fs::write(p.join("p.provisioners.yaml"), bad).unwrap();
    let out = run(
        p,
        &[
            "inventory",
            "score.yaml",
            "--provisioners",
            "p.provisioners.yaml",
            "--message-format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("score::inventory::invalid-manifests"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!p.join("inventory.yaml").exists());
}
