//! The example entry of score-k8s's own default provisioner file (type
//! `example-provisioner-resource`), which no fixture can use since score-gen has no provisioner of
//! its own for that type. Its Go-template entry matches any class and id, so it serves every such
//! resource (the `cmd://bash` entry after it never matches, in score-k8s too): outputs with a
//! nested value and secret references, written both as the literal marks and with
//! `encodeSecretRef`, to a Secret its manifests create.

use score_core::{compile, CompileInputs};
use score_target_k8s::K8sTarget;

use crate::common::kubernetes_validate;
use crate::kit;

const SCORE: &str = r#"apiVersion: score.dev/v1b1
metadata:
  name: demo
containers:
  main:
    image: busybox:1.37
    variables:
      PLAIN: ${resources.ex.plaintext}
      NESTED: ${resources.ex.nested.example}
      PASSWORD: ${resources.ex.secret-reference}
      MIXED: user:${resources.ex.secret-reference-alt}
resources:
  ex:
    type: example-provisioner-resource
"#;

#[test]
fn example_provisioner_entries_run() {
    let Some(peers) = kit::peers_dir() else {
        return;
    };
    let file = peers.join("score-k8s/internal/provisioners/default/zz-default.provisioners.yaml");
    let text = std::fs::read_to_string(&file).expect("the reference file");
    let inputs = CompileInputs::new()
        .score_file("score.yaml", SCORE)
        .provisioner_file("zz-default.provisioners.yaml", text);
    let c = compile(&K8sTarget::default(), &inputs, kit::test_state())
        .unwrap_or_else(|d| panic!("{d}"));
    let providers: Vec<&str> = c
        .project
        .resources()
        .map(|r| r.provisioner.as_str())
        .collect();
    assert_eq!(
        providers,
        ["template://example-provisioners/example-provisioner"]
    );
    let yaml = String::from_utf8(c.artefacts.files[0].content.clone()).unwrap();
    // `🔐💬secret-<guid>_password💬🔐`: the Secret the manifests create, and its key.
    let mark = c.project.resources().next().unwrap().outputs.values["secret-reference"].clone();
    let secret = mark
        .as_str()
        .and_then(|m| m.strip_prefix("🔐💬"))
        .and_then(|m| m.split_once('_'))
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| panic!("not a secret reference: {mark}"));
    assert!(
        yaml.contains(&format!("kind: Secret\nmetadata:\n  name: {secret}")),
        "{yaml}"
    );
    assert!(yaml.contains(&format!("- name: PASSWORD\n          valueFrom:\n            secretKeyRef:\n              name: {secret}\n              key: password")), "{yaml}");
    assert!(
        yaml.contains("- name: MIXED\n          value: user:$(__ref_"),
        "{yaml}"
    );
    assert!(
        yaml.contains("- name: NESTED\n          value: thing"),
        "{yaml}"
    );
    assert!(
        yaml.contains("- name: PLAIN\n          value: my-value"),
        "{yaml}"
    );
    kubernetes_validate(&yaml, "example-provisioner");
}
