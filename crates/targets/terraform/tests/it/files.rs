//! The `terraform.files` section (module files beside main.tf), `-o -` (`single_file`), and the
//! checks the fixtures rely on (provider schemas, modules) catching what they must catch.

use score_core::Code;
use score_core::{compile, CompileInputs, Diagnostics, State};
use score_target_terraform::codes;
use score_target_terraform::{TerraformOptions, TerraformTarget};

use crate::common::{modules, schema};

const SCORE: &str = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: busybox
    variables:
      A: ${resources.one.value}
resources:
  one: {type: thing}
"#;

fn provisioner(files: &str) -> String {
    format!(
        "- uri: template://test/thing\n  engine: minijinja\n  type: thing\n  expression_outputs: [value]\n  outputs: |\n    value: module.m.out\n  terraform:\n    blocks: |\n      - type: module\n        labels: [m]\n        body: {{source: ./modules/m}}\n    files: |\n{files}"
    )
}

fn run(
    options: TerraformOptions,
    score: &str,
    p: &str,
) -> Result<Vec<(String, String)>, Diagnostics> {
    compile(
        &TerraformTarget::new(options),
        &CompileInputs::new()
            .score_file("score.yaml", score)
            .provisioner_file("p.yaml", p),
        State::with_seed("test-seed-0123456789"),
    )
    .map(|c| {
        c.artefacts
            .files
            .into_iter()
            .map(|f| {
                (
                    f.path.display().to_string(),
                    String::from_utf8(f.content).unwrap(),
                )
            })
            .collect()
    })
}

fn errors(p: &str, code: score_core::diag::TargetCode) -> Vec<String> {
    match run(TerraformOptions::default(), SCORE, p) {
        Ok(f) => panic!("expected an error, got {f:?}"),
        Err(d) => d
            .iter()
            .map(|d| {
                assert_eq!(d.code, code, "{}", d.message);
                d.message.clone()
            })
            .collect(),
    }
}

/// A module file is printed like main.tf (`terraform fmt` layout) and keeps what it says:
/// escaped quotes and backslashes, interpolations with strings inside, `$${` escapes.
#[test]
fn module_files_are_formatted_and_keep_their_meaning() {
    let files = r#"      modules/m/main.tf: |
        output "out" {
          value = "say \"hi\" \\ ${join(",", ["a", "b"])} $${not_interpolated} ${var.x}"
        }
        variable "x" {
          type = string
          default = "x"
        }
"#;
    let out = run(TerraformOptions::default(), SCORE, &provisioner(files)).unwrap();
    let names: Vec<&str> = out.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["main.tf", "variables.tf", "modules/m/main.tf"]);
    assert_eq!(
        out[2].1,
        r#"output "out" {
  value = "say \"hi\" \\ ${join(",", ["a", "b"])} $${not_interpolated} ${var.x}"
}

variable "x" {
  type    = string
  default = "x"
}
"#
    );
    assert!(
        modules::check(&out).is_empty(),
        "{:?}",
        modules::check(&out)
    );
}

#[test]
fn file_paths_must_stay_in_a_sub_directory() {
    for (path, why) in [
        ("/etc/x.tf", "must be a relative path"),
        ("modules/../../x.tf", "must be a relative path"),
        ("main.tf", "must be in a sub-directory"),
        ("modules/m/notes.txt", "must end in .tf"),
    ] {
        let m = errors(
            &provisioner(&format!("      {path:?}: \"x = 1\"\n")),
            codes::INVALID_SECTION,
        );
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].contains(&format!("files: '{path}' {why}")), "{}", m[0]);
    }
}

#[test]
fn invalid_hcl_and_directives_are_errors() {
    let m = errors(
        &provisioner("      modules/m/main.tf: \"x = = 1\"\n"),
        codes::INVALID_SECTION,
    );
    assert!(
        m[0].contains("files: 'modules/m/main.tf' is not valid HCL"),
        "{}",
        m[0]
    );
    let m = errors(
        &provisioner("      modules/m/main.tf: 'x = \"%{ if true }a%{ endif }\"'\n"),
        codes::INVALID_SECTION,
    );
    assert!(m[0].contains("has a directive"), "{}", m[0]);
}

/// Two resources may write the same file only with the same text.
#[test]
fn conflicting_files_are_an_error() {
    let score = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main: {image: busybox}
resources:
  one: {type: thing, params: {x: 1}}
  two: {type: thing, params: {x: 2}}
"#;
    let p = provisioner("      modules/m/main.tf: \"x = {{ params.x }}\"\n");
    let err = run(TerraformOptions::default(), score, &p).unwrap_err();
    let m: Vec<String> = err.iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        m,
        ["resource 'thing.default#app.two' and resource 'thing.default#app.one' both write the file `modules/m/main.tf` differently"]
    );
    let same = provisioner("      modules/m/main.tf: \"x = 1\"\n");
    let out = run(TerraformOptions::default(), score, &same).unwrap();
    assert_eq!(
        out.len(),
        3,
        "main.tf, variables.tf and the module file once"
    );
}

/// `-o -` (`single_file`): the root module's files are joined into main.tf; module files
/// cannot go to stdout, so a configuration that needs them is refused.
#[test]
fn single_file_joins_the_root_module_and_refuses_module_files() {
    let mut o = TerraformOptions::default();
    o.single_file = true;
    let score = "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers:\n  main:\n    image: busybox\n    variables: {DB: '${resources.db.host}'}\nresources:\n  db: {type: postgres}\n";
    let err = run(o.clone(), score, "[]").unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(d.code, Code::Usage);
    assert_eq!(
        d.message,
        "the terraform output needs 3 more files beside main.tf (modules/postgres/main.tf, modules/postgres/outputs.tf, modules/postgres/variables.tf), and stdout holds one"
    );
    assert!(d.help.as_deref().unwrap_or_default().contains("-o infra/"));
    // main.tf, variables.tf (an image built elsewhere) and outputs.tf (a Service) in one file.
    let plain = "apiVersion: score.dev/v1b1\nmetadata: {name: app}\nservice: {ports: {web: {port: 80}}}\ncontainers:\n  main: {image: .}\n";
    let split = run(TerraformOptions::default(), plain, "[]").unwrap();
    let names: Vec<&str> = split.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["main.tf", "variables.tf", "outputs.tf"]);
    let joined = run(o, plain, "[]").unwrap();
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].0, "main.tf");
    assert_eq!(
        joined[0].1,
        format!("{}\n{}\n{}", split[0].1, split[1].1, split[2].1)
    );
    assert!(joined[0].1.contains("output \"app_host\" {"));
}

/// The schema check finds an unknown argument, an attribute written as a block and the reverse,
/// and a missing required argument or block; other providers are not its business.
#[test]
fn schema_check_catches_mistakes() {
    let Some(s) = schema::schemas() else {
        return;
    };
    let text = r#"
resource "kubernetes_persistent_volume_claim_v1" "a" {
  wait_until_bound = false
  no_such_thing    = 1
  metadata = {}
  spec {
    access_modes {}
  }
}
resource "random_password" "p" {
  special = false
}
resource "kubernetes_no_such_resource" "x" {}
resource "aws_sqs_queue" "q" {
  whatever = 1
}
"#;
    assert_eq!(
        s.check_file("t.tf", text),
        [
            "t.tf: resource \"kubernetes_persistent_volume_claim_v1\" \"a\": no argument 'no_such_thing'",
            "t.tf: resource \"kubernetes_persistent_volume_claim_v1\" \"a\": 'metadata' is a block, written as an attribute",
            "t.tf: resource \"kubernetes_persistent_volume_claim_v1\" \"a\".spec: 'access_modes' is an attribute, written as a block",
            "t.tf: resource \"kubernetes_persistent_volume_claim_v1\" \"a\".spec: the required argument 'access_modes' is not set",
            "t.tf: resource \"kubernetes_persistent_volume_claim_v1\" \"a\".spec: the required block 'resources' is missing",
            "t.tf: resource \"kubernetes_persistent_volume_claim_v1\" \"a\": the required block 'metadata' is missing",
            "t.tf: resource \"random_password\" \"p\": the required argument 'length' is not set",
            "t.tf: resource \"kubernetes_no_such_resource\" \"x\": no resource type 'kubernetes_no_such_resource' in the pinned provider schemas",
        ]
    );
}

/// The module check finds a missing module directory, an undeclared argument, a required
/// variable not passed, references to unknown modules or outputs, and to undeclared variables
/// or resources.
#[test]
fn module_check_catches_mistakes() {
    let files = vec![
        (
            "main.tf".to_string(),
            r#"
module "a" {
  source = "./modules/a"
  extra  = 1
}
module "gone" {
  source = "./modules/gone"
}
module "remote" {
  source = "git::https://example.com/m.git"
}
output "x" {
  value = [module.a.out, module.a.nope, module.b.out, module.remote.anything, var.nope, random_password.typo.result]
}
"#
            .to_string(),
        ),
        (
            "modules/a/main.tf".to_string(),
            "variable \"needed\" {}\noutput \"out\" {\n  value = var.needed\n}\n".to_string(),
        ),
    ];
    assert_eq!(
        modules::check(&files),
        [
            ".: module \"a\": argument 'extra' is not a variable of modules/a",
            ".: module \"a\": the required variable 'needed' of modules/a is not passed",
            ".: module \"gone\": source './modules/gone' is not a directory the run wrote",
            ".: var.nope is not declared here",
            ".: random_password.typo is not declared here",
            ".: module.a.nope: 'nope' is not an output of ./modules/a",
            ".: module.b.out: no module \"b\" here",
        ]
    );
}

/// The modules the default provisioners write (`modules/<type>/*.tf`, put into the provisioner
/// file by `build.rs`) are formatted Terraform files: `terraform fmt -check` of both Terraform
/// versions accepts each byte for byte, every one of them is included, and every `#include` is
/// replaced in what the crate embeds.
#[test]
fn the_default_modules_are_formatted_tf_files_and_all_included() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source =
        std::fs::read_to_string(crate_dir.join("provisioners/default.provisioners.yaml")).unwrap();
    let included: std::collections::BTreeSet<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#include "))
        .collect();
    let mut files = Vec::new();
    for kind in std::fs::read_dir(crate_dir.join("modules")).unwrap() {
        let kind = kind.unwrap().path();
        for f in std::fs::read_dir(&kind).unwrap() {
            let f = f.unwrap().path();
            let rel = f
                .strip_prefix(crate_dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.push(rel);
        }
    }
    files.sort();
    assert!(files.len() >= 27, "{files:?}");
    assert!(files.iter().all(|f| f.ends_with(".tf")), "{files:?}");
    assert_eq!(
        files
            .iter()
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<_>>(),
        included,
        "modules/ and the #include lines of default.provisioners.yaml differ"
    );
    let embedded = score_target_terraform::DEFAULT_PROVISIONERS;
    assert!(!embedded.contains("#include "));
    assert!(embedded.contains("      modules/postgres/main.tf: |\n        terraform {\n"));
    for tf in crate::common::terraform_binaries() {
        let out = std::process::Command::new(&tf)
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("CHECKPOINT_DISABLE", "1")
            .args(["fmt", "-check", "-diff", "-recursive"])
            .arg(crate_dir.join("modules"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} fmt -check fails for the default modules:\n{}{}",
            tf.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
