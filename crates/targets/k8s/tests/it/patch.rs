//! Patch templates on the k8s target (`K8sOptions::patch_templates`, spec/patching.md): the
//! score-k8s README's example, and errors. The fixture `testdata/k8s/patch-templates` shows
//! every kind of operation on a real output.

use score_core::target::PatchTemplate;
use score_core::{compile, Code, CompileInputs};
use score_target_k8s::{K8sOptions, K8sTarget};
use serde_json::Value;

use crate::kit;

const EXAMPLE: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: example
containers:
  main:
    image: nginx:1.27
";

/// The score-k8s README's patch example, verbatim.
const README_EXAMPLE: &str = r#"
{{ range $i, $m := .Manifests }}
{{ if and (eq $m.kind "Deployment") (eq (dig "metadata" "annotations" "k8s.score.dev/workload-name" "" $m) "example") }}
- op: set
  path: {{ $i }}.spec.replicas
  value: 3
  description: Increase the replicas for the example deployment
{{ end }}
{{ end }}
"#;

fn with_patches(texts: &[&str]) -> K8sTarget {
    let mut o = K8sOptions::default();
    o.patch_templates = texts
        .iter()
        .enumerate()
        .map(|(i, t)| PatchTemplate {
            origin: format!("patch-{}.tpl", i + 1),
            text: t.to_string(),
        })
        .collect();
    K8sTarget::new(o)
}

fn manifests(target: &K8sTarget) -> Result<Vec<Value>, score_core::Diagnostics> {
    let inputs = CompileInputs::new().score_file("score.yaml", EXAMPLE);
    let out = compile(target, &inputs, kit::test_state())?;
    let yaml = String::from_utf8(out.artefacts.files[0].content.clone()).unwrap();
    Ok(serde_saphyr::from_multiple(&yaml).unwrap())
}

fn deployment(docs: &[Value]) -> &Value {
    docs.iter().find(|d| d["kind"] == "Deployment").unwrap()
}

/// The score-k8s README's example, verbatim: sprig's `dig` and score-k8s's annotation
/// `k8s.score.dev/workload-name`, which score-gen's objects carry too.
#[test]
fn readme_example_verbatim() {
    let docs = manifests(&with_patches(&[README_EXAMPLE])).unwrap();
    assert_eq!(deployment(&docs)["spec"]["replicas"], 3);
}

/// The README's example selecting by score-gen's other annotation, `k8s.score.dev/source-workload`.
#[test]
fn readme_example_with_our_annotation() {
    let t = README_EXAMPLE.replace("workload-name", "source-workload");
    let docs = manifests(&with_patches(&[&t])).unwrap();
    assert_eq!(deployment(&docs)["spec"]["replicas"], 3);
}

/// The same example with Go's built-in `index` instead of `dig` works today.
#[test]
fn readme_example_with_builtins() {
    let t = README_EXAMPLE.replace(
        r#"(dig "metadata" "annotations" "k8s.score.dev/workload-name" "" $m)"#,
        r#"(index $m.metadata.annotations "k8s.score.dev/source-workload")"#,
    );
    let docs = manifests(&with_patches(&[&t])).unwrap();
    assert_eq!(deployment(&docs)["spec"]["replicas"], 3);
    // Without templates nothing changes.
    let plain = manifests(&with_patches(&[])).unwrap();
    assert!(deployment(&plain)["spec"].get("replicas").is_none());
}

#[test]
fn patch_errors_name_the_template_and_operation() {
    let e = manifests(&with_patches(&["- op: set\n  path: 0.metadata.name\n  value: x\n- op: set\n  path: 0.spec.template.spec.containers.name\n  value: y\n"]))
        .unwrap_err();
    let d = &e.0[0];
    assert_eq!(d.code, Code::PatchApplyFailed);
    assert_eq!(
        d.message,
        "patch template 'patch-1.tpl': operation 2 (set '0.spec.template.spec.containers.name'): cannot set array element for non-numeric key 'name'"
    );
    assert_eq!(d.location(), "patch-1.tpl (rendered):5:9");

    // A manifest replaced by something that is not an object.
    let e = manifests(&with_patches(&["- op: set\n  path: 0\n  value: gone\n"])).unwrap_err();
    assert_eq!(e.0[0].code, Code::PatchApplyFailed);
    assert!(
        e.0[0].message.contains("manifest 0 is a string"),
        "{}",
        e.0[0].message
    );

    let e = manifests(&with_patches(&[
        "{{ .Manifests | len | printf \"%d\" }}: x",
    ]))
    .unwrap_err();
    assert_eq!(e.0[0].code, Code::PatchInvalidOperations);
}

/// score-k8s's `substituteValue WORKLOAD VALUE` resolves that workload's placeholders; an
/// unresolvable one gives score-k8s's text instead of failing the render.
#[test]
fn substitute_value_resolves_a_workloads_placeholders() {
    let t = r#"
{{ range $i, $m := .Manifests }}{{ if eq $m.kind "Deployment" }}
- op: set
  path: {{ $i }}.metadata.annotations.example\.com/owner
  value: {{ substituteValue "example" "team-${metadata.name}" | quote }}
- op: set
  path: {{ $i }}.metadata.annotations.example\.com/bad
  value: {{ substituteValue "example" "${resources.nope.x}" | quote }}
{{ end }}{{ end }}
"#;
    let docs = manifests(&with_patches(&[t])).unwrap();
    let a = &deployment(&docs)["metadata"]["annotations"];
    assert_eq!(a["example.com/owner"], "team-example");
    assert_eq!(
        a["example.com/bad"],
        "failed to substitute placeholders with:${resources.nope.x}"
    );
}
