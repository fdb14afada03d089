//! Errors of the terraform target: malformed provisioner fragments, conflicting blocks,
//! invalid expressions and unsupported volume sources.

use score_core::State;
use score_core::{compile, CompileInputs};
use score_target_terraform::codes;
use score_target_terraform::TerraformTarget;

const SCORE: &str = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: busybox
    variables:
      A: ${resources.one.value}
      B: ${resources.two.value}
resources:
  one: {type: thing, class: one}
  two: {type: thing, class: two}
"#;

fn provisioner(class: &str, outputs: &str, terraform: &str) -> String {
    format!(
        "- uri: template://test/{class}\n  engine: minijinja\n  type: thing\n  class: {class}\n  expression_outputs: [value]\n  outputs: |\n    {outputs}\n  terraform:\n{terraform}"
    )
}

/// The messages of the errors `compile` reports, each of which must carry `code`.
fn messages(score: &str, provisioners: &str, code: score_core::diag::TargetCode) -> Vec<String> {
    let mut st = State::new_random();
    st.seed = "test-seed".into();
    match compile(
        &TerraformTarget::default(),
        &CompileInputs::new()
            .score_file("score.yaml", score)
            .provisioner_file("p.yaml", provisioners.to_string()),
        st,
    )
    .map(|c| (c.project, c.artefacts, c.state))
    {
        Ok(_) => panic!("expected an error"),
        Err(d) => d
            .iter()
            .map(|d| {
                assert_eq!(d.code, code, "{}", d.message);
                d.message.clone()
            })
            .collect(),
    }
}

/// `main.tf` for `score` with the provisioner file `p` (seed `test-seed`).
fn main_tf(score: &str, p: &str) -> String {
    let mut st = State::new_random();
    st.seed = "test-seed".into();
    let out = compile(
        &TerraformTarget::default(),
        &CompileInputs::new()
            .score_file("score.yaml", score)
            .provisioner_file("p.yaml", p),
        st,
    )
    .unwrap_or_else(|d| panic!("{d}"));
    String::from_utf8(out.artefacts.files[0].content.clone()).unwrap()
}

fn module_block(body: &str) -> String {
    format!("    blocks: |\n      - type: module\n        labels: [shared]\n        body: {body}\n")
}

#[test]
fn conflicting_blocks_are_an_error() {
    let p = provisioner(
        "one",
        "value: module.shared.a",
        &module_block("{source: ./a}"),
    ) + &provisioner(
        "two",
        "value: module.shared.b",
        &module_block("{source: ./b}"),
    );
    let m = messages(SCORE, &p, codes::BLOCK_CONFLICT);
    assert_eq!(
        m,
        vec!["resource 'thing.two#app.two' and resource 'thing.one#app.one' both define the block `module \"shared\"` differently"]
    );
}

#[test]
fn identical_blocks_are_kept_once() {
    let p = provisioner(
        "one",
        "value: module.shared.a",
        &module_block("{source: ./a}"),
    ) + &provisioner(
        "two",
        "value: module.shared.b",
        &module_block("{source: ./a}"),
    );
    let main = main_tf(SCORE, &p);
    assert_eq!(main.matches("module \"shared\" {").count(), 1);
    assert!(main.contains("value = module.shared.a"));
    assert!(main.contains("value = module.shared.b"));
}

#[test]
fn unknown_section_and_bad_blocks() {
    let p = provisioner("one", "value: x.y", "    resources: |\n      []\n")
        + &provisioner(
            "two",
            "value: x.z",
            "    blocks: |\n      - labels: [a]\n      - type: module\n        extra: 1\n",
        );
    let m = messages(SCORE, &p, codes::INVALID_SECTION);
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(
        m[0],
        "resource 'thing.one#app.one' (provisioner 'template://test/one', p.yaml:1): unknown terraform section 'resources' (supported: blocks, expression_outputs, files)"
    );
    assert_eq!(
        m[1],
        "resource 'thing.two#app.two' (provisioner 'template://test/two', p.yaml:11): blocks[0]: 'type' must be a string"
    );
}

#[test]
fn invalid_expression_output() {
    let p = provisioner("one", "value: 'module.(('", "    blocks: |\n      []\n")
        + &provisioner("two", "value: x.z", "    blocks: |\n      []\n");
    let m = messages(SCORE, &p, codes::INVALID_WORKLOAD);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(
        m[0].starts_with("workload 'app' container 'main' variable 'A': 'module.((' is not a valid HCL expression"),
        "{}",
        m[0]
    );
}

#[test]
fn volume_source_must_be_a_resource() {
    let score = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: busybox
    volumes:
      /data:
        source: host-volume
"#;
    let m = messages(score, "[]", codes::INVALID_WORKLOAD);
    assert_eq!(
        m,
        vec!["workload 'app' container 'main' volume '/data': source 'host-volume' is not a resource; the terraform target mounts only resources (`${resources.<name>}`)"]
    );
}

#[test]
fn dynamic_expression_outputs_fragment() {
    // `expression_outputs` rendered in the terraform section marks keys the entry cannot list.
    let score = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: busybox
    variables:
      X: ${resources.env.TOKEN}
      Y: "literal ${resources.env.OTHER}"
resources:
  env: {type: dyn}
"#;
    let p = r#"
- uri: template://test/dyn
  engine: minijinja
  type: dyn
  outputs: |
    TOKEN: var.token
    OTHER: var.other
  terraform:
    expression_outputs: |
      [TOKEN]
"#;
    let main = main_tf(score, p);
    assert!(main.contains("value = var.token"), "{main}");
    assert!(main.contains("value = \"literal var.other\""), "{main}");
}

/// Workload errors point at the Score file's value (issue 13: target errors without file:line).
#[test]
fn workload_errors_point_into_the_score_file() {
    let score = "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main:\n    image: nginx\n    volumes:\n      /data:\n        source: scratch\n";
    let err = compile(
        &TerraformTarget::default(),
        &CompileInputs::new().score_file("score.yaml", score),
        State::with_seed("test-seed-0123456789"),
    )
    .map(|_| ())
    .unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(d.code, codes::INVALID_WORKLOAD);
    assert!(d.message.contains("is not a resource"), "{}", d.message);
    assert_eq!(d.location(), "score.yaml:8:17", "{}", d.message);
    assert_eq!(
        d.pointer.as_deref(),
        Some("/containers/main/volumes/~1data/source")
    );
}
