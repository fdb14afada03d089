//! Conformance: the `git_url` table of `misc_cases.json` (score-go's uriget `TestParseGitUrl`).
//! Every row runs. (The `formatter` table is checked where the formatters live, in score-cli's
//! `src/table.rs`.)

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use crate::common;

use score_core::host::fetch::{parse_git_url, INVALID_GIT_URL};
use serde_json::Value;

/// Rows we decide differently from score-go; each must be explained in spec/deviations.md.
const DEVIATIONS: &[&str] = &[];

/// The rows of `prefix` in misc_cases.json.
fn table(prefix: &str) -> Vec<Value> {
    common::rows(&common::load("misc_cases.json"), prefix).clone()
}

#[test]
fn git_url_rows() {
    let rows = table("git_url");
    assert_eq!(rows.len(), 6, "row count changed; review the table");
    for row in rows {
        let url = row["url"].as_str().unwrap();
        let got = parse_git_url(url);
        if row["error"].as_bool() == Some(true) {
            assert_eq!(got, Err(INVALID_GIT_URL.to_string()), "{url}");
        } else {
            let (remote, sub) = got.unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(sub, row["sub_path"].as_str().unwrap(), "{url}");
            assert_eq!(remote, "https://github.com/org/repo.git", "{url}");
        }
    }
}

#[test]
fn deviations_are_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/deviations.md");
    let text = std::fs::read_to_string(path).expect("spec/deviations.md exists");
    assert!(
        text.contains("## State, URIs and formatter"),
        "our section is missing"
    );
    for name in DEVIATIONS {
        assert!(text.contains(name), "deviation {name} not documented");
    }
}
