//! Shared by the conformance tests: reading `../shared/conformance/*.json` (a missing corpus is a
//! failure, never a silent pass), picking a table out of a file, and `spec/deviations.md`.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use serde_json::Value;

/// The conformance corpus beside the checkout.
pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/");

/// One conformance file, parsed; panics with a clear message when the corpus is missing.
pub fn load(name: &str) -> Value {
    let path = format!("{DIR}{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("conformance data missing: cannot read {path}: {e} (link /work/shared next to the workspace as ../shared)")
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: invalid JSON: {e}"))
}

/// The one table whose key starts with `prefix` (keys carry a description after the name).
pub fn table<'a>(doc: &'a Value, prefix: &str) -> &'a Value {
    let obj = doc.as_object().expect("conformance file is an object");
    let hits: Vec<_> = obj.iter().filter(|(k, _)| k.starts_with(prefix)).collect();
    assert_eq!(hits.len(), 1, "exactly one table named {prefix}*");
    hits[0].1
}

/// The rows of the table named `prefix`; an empty table is a failure.
pub fn rows<'a>(doc: &'a Value, prefix: &str) -> &'a Vec<Value> {
    let rows = table(doc, prefix).as_array().expect("table is an array");
    assert!(!rows.is_empty(), "table {prefix} is empty");
    rows
}

/// `spec/deviations.md`.
pub fn deviations_md() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/deviations.md"
    ))
    .expect("spec/deviations.md exists")
}
