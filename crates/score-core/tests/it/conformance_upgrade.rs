//! Conformance: `apply_common_upgrade_transforms` against score-go's
//! `ApplyCommonUpgradeTransforms` rows in `testdata/conformance/misc_cases.json`, plus score-go's
//! `TestApplyCommonUpgradeTransforms` (behaviour doc §6.2) run through the loader.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use score_core::load::upgrade::apply_common_upgrade_transforms;
use serde_json::{json, Value};

const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/conformance/");
const DEVIATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/deviations.md");
const KEY_PREFIX: &str = "apply_common_upgrade_transforms";

/// Rows we deliberately decide differently from score-go; each must be explained under
/// `## Loader` in spec/deviations.md. None so far.
const DEVIATING_ROWS: &[&str] = &[];

fn rows() -> Vec<Value> {
    let path = format!("{CONFORMANCE}misc_cases.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("conformance table missing at {path}: {e} (vendored in testdata/conformance/)")
    });
    let all: Value = serde_json::from_str(&text).expect("misc_cases.json is JSON");
    let obj = all.as_object().expect("misc_cases.json is an object");
    let keys: Vec<&String> = obj.keys().filter(|k| k.starts_with(KEY_PREFIX)).collect();
    assert_eq!(
        keys.len(),
        1,
        "exactly one `{KEY_PREFIX}…` table, found {keys:?}"
    );
    obj[keys[0].as_str()]
        .as_array()
        .expect("table is an array")
        .clone()
}

#[test]
fn every_row_of_misc_cases() {
    let rows = rows();
    assert!(
        rows.len() >= 9,
        "expected at least 9 rows, found {}",
        rows.len()
    );
    let mut ran = 0;
    for row in &rows {
        let name = row["name"].as_str().expect("row name");
        if DEVIATING_ROWS.contains(&name) {
            continue;
        }
        let mut doc = row["input"].clone();
        let got = apply_common_upgrade_transforms(&mut doc);
        match (row.get("error"), got) {
            (Some(want), Err(e)) => {
                assert_eq!(Some(e.message.as_str()), want.as_str(), "row {name}");
                assert_eq!(
                    e.to_string(),
                    e.message,
                    "row {name}: Display is the message"
                );
                assert!(
                    e.pointer.starts_with("/containers/"),
                    "row {name}: pointer {}",
                    e.pointer
                );
                assert_eq!(doc, row["input"], "row {name}: document untouched on error");
            }
            (Some(want), Ok(changes)) => panic!("row {name}: want error {want}, got {changes:?}"),
            (None, Err(e)) => panic!("row {name}: unexpected error {e}"),
            (None, Ok(changes)) => {
                let want: Vec<&str> = row["changes"]
                    .as_array()
                    .expect("changes")
                    .iter()
                    .map(|c| c.as_str().expect("change string"))
                    .collect();
                assert_eq!(changes, want, "row {name}: changes");
                assert_eq!(doc, row["result"], "row {name}: result");
            }
        }
        ran += 1;
    }
    assert_eq!(ran + DEVIATING_ROWS.len(), rows.len());
}

#[test]
fn deviating_rows_are_documented() {
    let names: Vec<String> = rows()
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    let doc = std::fs::read_to_string(DEVIATIONS).expect("spec/deviations.md exists");
    assert!(
        doc.contains("## Loader"),
        "spec/deviations.md has a `## Loader` section"
    );
    for row in DEVIATING_ROWS {
        assert!(
            names.iter().any(|n| n == row),
            "deviating row {row:?} is not a conformance row"
        );
        assert!(
            doc.contains(row),
            "deviating row {row:?} is not described in spec/deviations.md"
        );
    }
}

/// score-go schema/validate_test.go `TestApplyCommonUpgradeTransforms`, from YAML text: exactly four
/// changes, then the map forms it asserts on. (The schema half — raw input invalid, result valid —
/// belongs to the schema stage's tests.)
#[test]
fn upstream_test_apply_common_upgrade_transforms_from_yaml() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/load/legacy-arrays.yaml"
    ))
    .expect("fixture");
    let mut doc = score_core::parse_document("legacy-arrays.yaml", &text).expect("parses");
    let changes = apply_common_upgrade_transforms(&mut doc.value).expect("no error");
    assert_eq!(changes.len(), 4, "{changes:?}");
    let hello = &doc.value["containers"]["hello"];
    assert_eq!(
        hello["files"]["/etc/hello-world/config.yaml"]["content"],
        json!("line1\nline2")
    );
    assert_eq!(hello["volumes"]["/mnt/data"]["readOnly"], json!(true));
    assert!(hello["volumes"]["/mnt/data"].get("read_only").is_none());
    assert!(hello["files"]["/etc/hello-world/config.yaml"]
        .get("target")
        .is_none());
    // Running again changes nothing: the map forms are final.
    assert!(apply_common_upgrade_transforms(&mut doc.value)
        .unwrap()
        .is_empty());
}

#[test]
fn upgrade_error_gets_a_span_from_the_document() {
    let text = "containers:\n  hello:\n    image: x\n    files:\n    - content: a\n";
    let doc = score_core::parse_document("s.yaml", text).unwrap();
    let mut value = doc.value.clone();
    let err = apply_common_upgrade_transforms(&mut value).unwrap_err();
    assert_eq!(
        err.message,
        "containers.hello.files.0.target: is missing or is not a string"
    );
    assert_eq!(err.pointer, "/containers/hello/files/0");
    let d = err.to_diagnostic(&doc);
    assert_eq!(d.code, score_core::Code::UpgradeMissingTarget);
    assert_eq!(d.location(), "s.yaml:5:7");
}
