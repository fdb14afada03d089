//! One test per case folder of `testdata/terraform/` (see `crates/testkit` for the
//! fixture convention), compiled through the whole engine with a fixed seed. For each case: every
//! emitted file matches `main.tf.snap` beside the inputs, two runs give the same bytes, no Score
//! placeholder survives, and the real tools accept it: `terraform fmt -check` (byte-identical
//! formatting) and HashiCorp's HCL parser (pygohcl, hcl2json).

use libtest_mimic::{Failed, Trial};
use score_testkit as kit;
use score_testkit::terraform::*;

fn check(name: &str) -> Result<(), Failed> {
    let case = load_case(name);
    let files = compile(&case);
    assert_eq!(files[0].0, "main.tf", "primary output first");
    kit::assert_case_snapshot(&case, SNAPSHOT, &joined(&files));
    assert_eq!(files, compile(&case), "case {}: two runs differ", case.name);
    no_score_placeholders(&case, &files);
    module_check(name, &files);
    external_validators(name, &files);
    Ok(())
}

/// No Score placeholder survives, and every Terraform interpolation that is not an escape
/// (`$${`) references something Terraform knows (a module, variable, resource or function).
fn no_score_placeholders(case: &Case, files: &[(String, String)]) {
    let allowed = [
        "module.",
        "var.",
        "urlencode(",
        "aws_sqs_queue.",
        "kubernetes_service_v1.",
        "random_password.",
    ];
    for (path, text) in files {
        for needle in ["${metadata.", "${resources."] {
            assert!(
                !text.contains(needle),
                "{}/{path} contains {needle}",
                case.name
            );
        }
        let bytes = text.as_bytes();
        for (i, _) in text.match_indices("${") {
            if i > 0 && bytes[i - 1] == b'$' {
                continue;
            }
            let rest = &text[i + 2..];
            assert!(
                allowed.iter().any(|a| rest.starts_with(a)),
                "{}/{path}: unexpected interpolation at {}",
                case.name,
                &text[i..text.len().min(i + 40)]
            );
        }
    }
}

/// The expected cases are all there.
fn all_cases_present() -> Result<(), Failed> {
    let n = kit::case_names(TARGET).len();
    if n >= 8 {
        Ok(())
    } else {
        Err(format!("expected the terraform cases, found {n}").into())
    }
}

fn main() {
    kit::run(
        TARGET,
        SNAPSHOT,
        check,
        vec![Trial::test(
            "fixtures::all_cases_present",
            all_cases_present,
        )],
    )
}
