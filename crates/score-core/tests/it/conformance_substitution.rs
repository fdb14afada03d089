//! Runs every row of `testdata/conformance/substitution_cases.json` (score-go
//! `framework/substitution_test.go` plus derived grammar and rendering rows) through
//! `score_core::provision::substitute`.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use crate::common;

use common::{deviations_md, load, rows};
use std::collections::BTreeMap;

use score_core::provision::substitute::{
    substitute, substitute_string, substitute_value, Context, Found, OutputLookup, Unescape,
};
use serde_json::{json, Map, Value};

/// Rows we decide differently from score-go; each is explained in `spec/deviations.md`.
const DEVIATIONS: &[&str] = &["TestCustomSubstituter_nil"];

fn s<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("row {row} lacks string {key}"))
}

/// The fixture's three resources, implemented as the fixture describes them in words.
fn env(keys: &[String]) -> Result<Found, String> {
    match keys {
        [] => Ok(Found::plain("env")),
        [k] => Ok(Found::plain(format!("${{{k}}}"))),
        _ => Err("fail".to_string()),
    }
}

fn db(keys: &[String]) -> Result<Found, String> {
    if keys.is_empty() {
        return Ok(Found::plain("db"));
    }
    Ok(Found::plain(format!(
        "${{DB_{}?required}}",
        keys.join("_").to_uppercase()
    )))
}

fn stat(keys: &[String]) -> Result<Found, String> {
    if keys.is_empty() {
        return Ok(Found::plain("static"));
    }
    let mut cur = json!({"x": "a"});
    for k in keys {
        cur = match cur {
            Value::Object(m) => m
                .get(k)
                .cloned()
                .ok_or_else(|| format!("key '{k}' not found"))?,
            _ => return Err(format!("cannot lookup key '{k}', context is not a map")),
        };
    }
    Ok(Found::plain(cur))
}

fn with_ctx<R>(
    doc: &Value,
    extra_metadata: Option<(&str, &Value)>,
    f: impl FnOnce(&Context) -> R,
) -> R {
    let fixture = &doc["fixture"];
    let described: Vec<&String> = fixture["resources"]
        .as_object()
        .expect("fixture resources")
        .keys()
        .collect();
    assert_eq!(
        described,
        ["env", "db", "static"],
        "fixture resources changed"
    );
    let mut metadata: Map<String, Value> = fixture["metadata"]
        .as_object()
        .expect("fixture metadata")
        .clone();
    if let Some((k, v)) = extra_metadata {
        metadata.insert(k.to_string(), v.clone());
    }
    let mut resources: BTreeMap<String, &dyn OutputLookup> = BTreeMap::new();
    resources.insert("env".into(), &env);
    resources.insert("db".into(), &db);
    resources.insert("static".into(), &stat);
    f(&Context {
        metadata: &metadata,
        resources,
    })
}

/// Expected output or error; a row has exactly one of the two.
fn check_string_row(ctx: &Context, row: &Value) {
    let input = s(row, "input");
    // The conformance API (Go SubstituteString) first.
    let got = substitute_string(input, |r| ctx.resolve(r).map(|f| f.render()));
    // Then the structured API, which also keeps the partial result.
    let structured = ctx.substitute(input);
    match (row.get("output"), row.get("error")) {
        (Some(out), None) => {
            let want = out.as_str().expect("output is a string");
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                Ok(want),
                "input {input:?}"
            );
            assert_eq!(structured.expect("structured ok").to_plain(), want);
        }
        (None, Some(err)) => {
            let want = err.as_str().expect("error is a string");
            assert_eq!(
                got.as_deref().map_err(String::as_str),
                Err(want),
                "input {input:?}"
            );
            let e = structured.expect_err("structured error");
            assert_eq!(e.to_string(), want);
            assert_eq!(e.messages.join("\n"), want);
            if let Some(partial) = row.get("go_partial_output") {
                assert_eq!(
                    e.partial.to_plain(),
                    partial.as_str().expect("partial is a string"),
                    "partial of {input:?}"
                );
            }
        }
        _ => panic!("row needs exactly one of output/error: {row}"),
    }
}

#[test]
fn substitution_function_cases() {
    let doc = load("substitution_cases.json");
    let rows = rows(&doc, "substitution_function_cases");
    assert_eq!(rows.len(), 19);
    with_ctx(&doc, None, |ctx| {
        for row in rows {
            let r = s(row, "ref");
            let got = ctx.resolve(r).map(|f| f.render());
            match (row.get("output"), row.get("error")) {
                (Some(o), None) => assert_eq!(
                    got.as_deref().map_err(String::as_str),
                    Ok(o.as_str().unwrap()),
                    "ref {r:?}"
                ),
                (None, Some(e)) => assert_eq!(
                    got.as_deref().map_err(String::as_str),
                    Err(e.as_str().unwrap()),
                    "ref {r:?}"
                ),
                _ => panic!("bad row {row}"),
            }
        }
    });
}

#[test]
fn substitute_string_cases() {
    let doc = load("substitution_cases.json");
    let rows = rows(&doc, "substitute_string_cases");
    assert_eq!(rows.len(), 13);
    with_ctx(&doc, None, |ctx| {
        rows.iter().for_each(|r| check_string_row(ctx, r))
    });
}

#[test]
fn derived_string_cases() {
    let doc = load("substitution_cases.json");
    let rows = rows(&doc, "derived_string_cases");
    assert_eq!(rows.len(), 22);
    let with_partial = rows
        .iter()
        .filter(|r| r.get("go_partial_output").is_some())
        .count();
    assert!(with_partial >= 10, "partial outputs are checked");
    with_ctx(&doc, None, |ctx| {
        rows.iter().for_each(|r| check_string_row(ctx, r))
    });
}

#[test]
fn substitute_map_cases() {
    let doc = load("substitution_cases.json");
    let rows = rows(&doc, "substitute_map_cases");
    assert_eq!(rows.len(), 2);
    with_ctx(&doc, None, |ctx| {
        for row in rows {
            let got = substitute_value(&row["input"], ctx);
            match (row.get("output"), row.get("error")) {
                (Some(o), None) => assert_eq!(got.as_ref(), Ok(o), "{}", row["name"]),
                (None, Some(e)) => {
                    assert_eq!(
                        got.as_ref().map_err(String::as_str),
                        Err(e.as_str().unwrap())
                    )
                }
                _ => panic!("bad row {row}"),
            }
        }
    });
}

#[test]
fn custom_substituter_cases() {
    let doc = load("substitution_cases.json");
    let rows = rows(&doc, "custom_substituter_cases");
    assert_eq!(rows.len(), 2);
    let deviations = deviations_md();
    let mut ran = 0;
    for row in rows {
        let name = s(row, "name");
        if DEVIATIONS.contains(&name) {
            // A nil replacer cannot be expressed: `substitute` takes the replacer by value.
            assert!(row["replacer"].is_null(), "{name} is the nil-replacer row");
            assert!(
                deviations.contains(name),
                "{name} is explained in spec/deviations.md"
            );
            ran += 1;
            continue;
        }
        assert_eq!(name, "TestCustomerUnescaper", "unknown custom row {name}");
        assert_eq!(s(row, "replacer"), "upper-case the ref");
        assert_eq!(s(row, "unescaper"), "repeat the whole matched escape twice");
        let twice = |e: &str| e.repeat(2);
        let got = substitute(
            s(row, "input"),
            |r| Ok(Found::plain(r.to_uppercase())),
            Unescape::Custom(&twice),
        )
        .expect("no error");
        assert_eq!(got.to_plain(), s(row, "output"));
        ran += 1;
    }
    assert_eq!(ran, rows.len());
}

#[test]
fn deviation_rows_are_documented() {
    let deviations = deviations_md();
    for d in DEVIATIONS {
        assert!(
            deviations.contains(d),
            "{d} missing from spec/deviations.md"
        );
    }
}

#[test]
fn derived_value_rendering() {
    let doc = load("substitution_cases.json");
    let rows = rows(&doc, "derived_value_rendering");
    assert_eq!(rows.len(), 6);
    for row in rows {
        let input = s(row, "input");
        let key = input
            .strip_prefix("${metadata.")
            .and_then(|k| k.strip_suffix('}'))
            .expect("input is ${metadata.<key>}");
        with_ctx(&doc, Some((key, &row["metadata_value"])), |ctx| {
            let got = ctx.substitute(input).expect("resolves");
            assert_eq!(got.to_plain(), s(row, "output"), "{input}");
            assert_eq!(
                got.single_value().map(|f| &f.value),
                Some(&row["metadata_value"])
            );
        });
    }
}

#[test]
fn every_table_is_run() {
    let doc = load("substitution_cases.json");
    let known = [
        "source",
        "fixture",
        "substitution_function_cases",
        "substitute_string_cases",
        "substitute_map_cases",
        "custom_substituter_cases",
        "derived_string_cases",
        "derived_value_rendering",
    ];
    for k in doc.as_object().unwrap().keys() {
        assert!(
            known.iter().any(|p| k.starts_with(p)),
            "new table {k:?} in substitution_cases.json is not run"
        );
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A string without `$` is never changed and never resolves anything.
        #[test]
        fn no_dollar_is_identity(input in "[^$]{0,40}") {
            let got = substitute(&input, |_| Err("called".to_string()), Unescape::DropFirst).unwrap();
            prop_assert_eq!(got.to_plain(), input);
        }

        /// Escaping every `$` as `$$` round-trips through the default un-escaper, references and all
        /// (a `$` between `${` and `}` must not occur: `$${$$}` is one escape, as in Go).
        #[test]
        fn doubled_dollars_round_trip(chunks in prop::collection::vec(prop_oneof![
            "[a-z.]{0,5}", Just("$".to_string()), "\\$\\{[a-z.]{0,5}\\}"], 0..8)) {
            let input = chunks.concat();
            let escaped = input.replace('$', "$$");
            let got = substitute(&escaped, |_| Err("called".to_string()), Unescape::DropFirst).unwrap();
            prop_assert_eq!(got.to_plain(), input);
        }

        /// Go JSON rendering of a string is valid JSON that decodes back to the same string.
        #[test]
        fn go_json_strings_decode(input in "\\PC{0,30}") {
            let rendered = score_core::target::render_go_json(&Value::String(input.clone()));
            let back: String = serde_json::from_str(&rendered).unwrap();
            prop_assert_eq!(back, input);
        }
    }
}
