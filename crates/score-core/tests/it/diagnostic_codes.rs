//! The diagnostic codes are a stable contract: each string is unique, well-formed and listed in
//! `spec/diagnostic-codes.md`, and representative inputs get the code of their problem.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::BTreeSet;

use score_core::load::yaml::parse_str;
use score_core::{load_workload, Code, LoadOptions};

const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../spec/diagnostic-codes.md"
);

fn spec() -> String {
    std::fs::read_to_string(SPEC).unwrap_or_else(|e| panic!("{SPEC}: {e}"))
}

#[test]
fn codes_are_unique_and_well_formed() {
    // The stage is a lower-case word that may hold digits (`k8s`); the problem is kebab-case.
    let shape = regex::Regex::new(r"^score::[a-z][a-z0-9]*::[a-z0-9]+(-[a-z0-9]+)*$").unwrap();
    let mut seen = BTreeSet::new();
    for code in Code::ALL {
        let s = code.as_str();
        assert!(shape.is_match(s), "{code:?}: {s}");
        assert!(seen.insert(s), "{code:?}: {s} is used twice");
        assert_eq!(code.to_string(), s);
        let summary = code.summary();
        assert!(
            !summary.is_empty() && !summary.contains('\n') && !summary.ends_with('.'),
            "{code:?}: the summary is one line without a trailing period: {summary:?}"
        );
    }
}

#[test]
fn every_core_code_is_in_the_spec() {
    // The other direction (the spec lists no code that nobody defines) needs the targets' codes
    // too: the CLI's architecture test checks it against its target table.
    let spec = spec();
    let listed: BTreeSet<&str> = spec
        .lines()
        .filter(|l| l.starts_with("| `score::"))
        .filter_map(|l| l.split('`').nth(1))
        .collect();
    let all: BTreeSet<&str> = Code::ALL.iter().map(Code::as_str).collect();
    let missing: Vec<_> = all.difference(&listed).collect();
    assert!(missing.is_empty(), "not in {SPEC}: {missing:?}");
}

#[test]
fn diagnostics_serialise_their_code_string() {
    let d = score_core::Diagnostic::new(Code::ProvisionNoMatch, "m");
    assert_eq!(d.to_json()["code"], "score::provision::no-match");
}

#[test]
fn loader_problems_have_their_own_codes() {
    let cases: &[(&str, Code)] = &[
        ("", Code::LoadEmpty),
        ("a: 1\na: 2\n", Code::LoadDuplicateKey),
        ("a: [1\n", Code::LoadSyntax),
        ("a: 1\n---\nb: 2\n", Code::LoadMultipleDocuments),
        ("? [a]\n: 1\n", Code::LoadNonScalarKey),
        ("a: .nan\n", Code::LoadNonFiniteNumber),
        ("a: .inf\n", Code::LoadNonFiniteNumber),
    ];
    for (text, code) in cases {
        let d = parse_str("s.yaml", text).expect_err(text);
        assert_eq!(d.code, *code, "{text:?}: {}", d.message);
    }
}

#[test]
fn workload_rules_have_their_own_codes() {
    let load = |body: &str| {
        let text = format!("apiVersion: score.dev/v1b1\nmetadata: {{name: web}}\n{body}");
        let err =
            load_workload("score.yaml", text.as_bytes(), &LoadOptions::default()).expect_err(body);
        err.iter().map(|d| d.code).collect::<Vec<_>>()
    };
    let schema = load("containers: {main: {image: nginx, imagee: x}}\n");
    assert!(
        !schema.is_empty() && schema.iter().all(|c| *c == Code::SchemaViolation),
        "{schema:?}"
    );
    assert_eq!(
        load("containers: {main: {image: nginx, variables: {A: '${resources.db.host}'}}}\n"),
        [Code::ValidatePlaceholderUnknownResource]
    );
    assert_eq!(
        load(
            "containers:\n  api: {image: x, before: {db: {ready: started}}}\n  db: {image: x, before: {api: {ready: started}}}\n"
        ),
        [Code::ValidateBeforeCycle]
    );
    assert_eq!(
        load("containers: {api: {image: x, before: {zz: {ready: started}}}}\n"),
        [Code::ValidateBeforeUnknownContainer]
    );
}
