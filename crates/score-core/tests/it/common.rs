//! Shared by the conformance tests: reading the vendored corpus `testdata/conformance/*.json`
//! (a missing table is a failure, never a silent pass), picking a table out of a file,
//! `spec/deviations.md`, and the optional reference files beside the checkout.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

/// The conformance corpus, vendored in the repository (see `testdata/conformance/NOTICE`).
pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/conformance/");

/// One conformance file, parsed; panics with a clear message when it is missing.
pub fn load(name: &str) -> Value {
    let path = format!("{DIR}{name}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("conformance table missing: cannot read {path}: {e}"));
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

/// A file of the reference corpus beside the checkout (`../shared/reference/<rel>`), too foreign
/// to vendor (the upstream spec schema, score-go's schema and samples). `None` when it is absent:
/// the caller skips that check with a message; under `CI` an absent file is a failure.
pub fn reference(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/"
    ))
    .join(rel);
    if path.exists() {
        return Some(path);
    }
    let msg = format!(
        "reference file {} is absent (the Score reference corpus lives beside the checkout in ../shared)",
        path.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{msg}, and CI is set");
    eprintln!("SKIP: {msg}; the checks that compare with it are skipped");
    None
}
