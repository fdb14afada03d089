//! The fourth target through score-core's front door: the ecosystem's k8s-format entries, a
//! patch template and its own diagnostic code.

use score_core::target::PatchTemplate;
use score_core::{compile, CompileInputs, State, Target};
use score_target_inventory_example::{InventoryTarget, INVALID_MANIFESTS, OUTPUT_FILE};

const SCORE: &str = "apiVersion: score.dev/v1b1\nmetadata:\n  name: shop\ncontainers:\n  web:\n    image: nginx:1.27\nresources:\n  cache:\n    type: redis\n";

/// A Go-template entry in score-k8s's format: `manifests` at the top level.
const PROVISIONERS: &str = "- uri: template://example/redis\n  type: redis\n  outputs: |\n    host: {{ .Id }}\n  manifests: |\n    - apiVersion: v1\n      kind: Service\n      metadata:\n        name: {{ .Id | replace \".\" \"-\" }}\n";

fn run(target: &InventoryTarget, provisioners: &str) -> Result<String, score_core::Diagnostics> {
    let inputs = CompileInputs::new()
        .score_file("score.yaml", SCORE)
        .provisioner_file("p.provisioners.yaml", provisioners);
    let out = compile(target, &inputs, State::with_seed("inventory"))?;
    assert_eq!(out.artefacts.files[0].path.to_str(), Some(OUTPUT_FILE));
    Ok(String::from_utf8(out.artefacts.files[0].content.clone()).unwrap())
}

#[test]
fn reads_the_ecosystem_manifests_section() {
    let yaml = run(&InventoryTarget::default(), PROVISIONERS).unwrap();
    assert!(yaml.contains("kind: Inventory"), "{yaml}");
    assert!(yaml.contains("- nginx:1.27"), "{yaml}");
    assert!(yaml.contains("kind: Service"), "{yaml}");
    assert!(yaml.contains("name: shop-cache"), "{yaml}");
}

#[test]
fn applies_a_k8s_style_patch_template() {
    let target = InventoryTarget {
        patch_templates: vec![PatchTemplate {
            origin: "label.tpl".into(),
            text: "{{ range $i, $m := .Manifests }}\n- op: set\n  path: \"{{ $i }}.labels.team\"\n  value: shop\n{{ end }}".into(),
        }],
    };
    let yaml = run(&target, PROVISIONERS).unwrap();
    assert_eq!(yaml.matches("team: shop").count(), 2, "{yaml}");
}

#[test]
fn its_own_code_for_a_bad_section() {
    let bad = PROVISIONERS.replace(
        "  manifests: |\n    - apiVersion: v1\n      kind: Service\n      metadata:\n        name: {{ .Id | replace \".\" \"-\" }}\n",
        "  manifests: |\n    just: a map\n",
    );
    let e = run(&InventoryTarget::default(), &bad).unwrap_err();
    assert_eq!(e.0[0].code, INVALID_MANIFESTS);
    assert_eq!(e.0[0].code.as_str(), "score::inventory::invalid-manifests");
    assert_eq!(InventoryTarget::default().codes(), [INVALID_MANIFESTS]);
}
