//! Runs every row of `testdata/conformance/override_cases.json` (score-go
//! `framework/override_utils_test.go` plus derived edge cases) through `score_core::load::overrides`.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use crate::common;

use common::{deviations_md, load, table};
use score_core::load::overrides::{
    merge_overrides_file, override_map_in_map, override_path, parse_dot_path,
    parse_override_property,
};
use serde_json::{json, Value};

/// Rows we decide differently from score-go (Go panics); each is explained in `spec/deviations.md`.
const DEVIATIONS: &[&str] = &[
    "nested path through out-of-range index",
    "nested path through -1 index",
];

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array of strings")
        .iter()
        .map(|x| x.as_str().expect("string").to_string())
        .collect()
}

#[test]
fn parse_dot_path_parts() {
    let doc = load("override_cases.json");
    let rows = table(&doc, "parse_dot_path_parts").as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for row in rows {
        let input = row["input"].as_str().unwrap();
        assert_eq!(
            parse_dot_path(input),
            strings(&row["expected"]),
            "{input:?}"
        );
    }
}

/// Runs one `override_path_in_map` row; returns whether it was a deviation row.
fn run_path_row(row: &Value) -> bool {
    let name = row["name"].as_str().expect("row name");
    let spec = &row["spec"];
    let before = spec.clone();
    let path = strings(&row["path"]);
    if let Some(ps) = row.get("path_string") {
        assert_eq!(
            parse_dot_path(ps.as_str().unwrap()),
            path,
            "{name}: path_string"
        );
    }
    let delete = row["delete"].as_bool().expect("delete flag");
    let value = Some(row["value"].clone());
    let got = override_path(spec, &path, delete, value);
    assert_eq!(spec, &before, "{name}: input modified");
    if row.get("go_panics").is_some() {
        assert!(
            DEVIATIONS.contains(&name),
            "{name}: Go panics, must be a listed deviation"
        );
        // Our decision: an out-of-range error at the array segment, never a panic.
        let idx = &path[1];
        assert_eq!(
            got,
            Err(format!("a: cannot set '{idx}' in array: out of range")),
            "{name}"
        );
        return true;
    }
    assert!(
        !DEVIATIONS.contains(&name),
        "{name} is listed but not a deviation"
    );
    match (row.get("expected"), row.get("error")) {
        (Some(want), None) => assert_eq!(got.as_ref(), Ok(want), "{name}"),
        (None, Some(err)) => {
            assert_eq!(
                got.as_ref().map_err(String::as_str),
                Err(err.as_str().unwrap()),
                "{name}"
            )
        }
        _ => panic!("{name}: needs exactly one of expected/error"),
    }
    false
}

#[test]
fn override_path_in_map_upstream() {
    let doc = load("override_cases.json");
    let rows = table(&doc, "override_path_in_map (upstream")
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 9);
    for row in rows {
        assert!(!run_path_row(row));
    }
}

#[test]
fn override_path_in_map_derived() {
    let doc = load("override_cases.json");
    let rows = table(&doc, "override_path_in_map (DERIVED")
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 14);
    let deviating = rows.iter().filter(|r| run_path_row(r)).count();
    assert_eq!(deviating, DEVIATIONS.len());
}

#[test]
fn override_map_in_map_upstream() {
    let doc = load("override_cases.json");
    let t = table(&doc, "override_map_in_map");
    let before = t["input"].clone();
    assert_eq!(
        override_map_in_map(&t["input"], &t["overrides"]),
        t["expected"]
    );
    assert_eq!(t["input"], before);
    // The upstream fixture has no null; score-go's OverrideMapInMap deletes on null.
    assert_eq!(
        override_map_in_map(&t["input"], &json!({"c": {"e": null}, "h": null})),
        json!({"a": "42", "b": ["c", "d"], "c": {"d": "42", "g": "other"}})
    );
}

#[test]
fn overrides_file_merge_keeps_nulls() {
    let doc = load("override_cases.json");
    let t = table(&doc, "override_map_in_map");
    // Without nulls the overrides-file merge and OverrideMapInMap agree.
    assert_eq!(
        merge_overrides_file(&t["input"], &t["overrides"]),
        t["expected"]
    );
    assert_eq!(
        merge_overrides_file(&json!({"a": 1, "b": 2}), &json!({"a": null})),
        json!({"a": null, "b": 2})
    );
}

#[test]
fn deviation_rows_are_documented() {
    let md = deviations_md();
    for d in DEVIATIONS {
        assert!(md.contains(d), "{d} missing from spec/deviations.md");
    }
}

#[test]
fn every_table_is_run() {
    let doc = load("override_cases.json");
    let known = [
        "source",
        "parse_dot_path_parts",
        "override_path_in_map (upstream",
        "override_path_in_map (DERIVED",
        "override_map_in_map",
    ];
    for k in doc.as_object().unwrap().keys() {
        assert!(
            known.iter().any(|p| k.starts_with(p)),
            "new table {k:?} in override_cases.json is not run"
        );
    }
}

#[test]
fn override_property_cli_forms() {
    assert_eq!(
        parse_override_property("metadata.annotations.example\\.com/x=y").unwrap(),
        (
            vec![
                "metadata".into(),
                "annotations".into(),
                "example.com/x".into()
            ],
            Some(json!("y"))
        )
    );
    assert_eq!(
        parse_override_property("containers.web.image").unwrap_err(),
        "--override-property 'containers.web.image' is invalid, expected a =-separated path and value"
    );
    let (path, value) = parse_override_property("service=").unwrap();
    let doc = json!({"service": {"ports": {}}, "metadata": {"name": "x"}});
    assert_eq!(
        override_path(&doc, &path, value.is_none(), value).unwrap(),
        json!({"metadata": {"name": "x"}})
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        "[a-j.\\\\]{0,4}"
    }

    proptest! {
        /// Setting a path then reading it back gives the value, and the input is unchanged.
        #[test]
        fn set_then_get(path in prop::collection::vec(key(), 1..5), v in any::<i64>()) {
            let input = json!({"keep": true});
            let out = override_path(&input, &path, false, Some(json!(v))).unwrap();
            let mut cur = &out;
            for k in &path {
                cur = &cur[k.as_str()];
            }
            prop_assert_eq!(cur, &json!(v));
            prop_assert_eq!(&out["keep"], &json!(true));
            prop_assert_eq!(input, json!({"keep": true}));
        }

        /// Set then delete leaves only the (possibly created) parents behind.
        #[test]
        fn set_then_delete(path in prop::collection::vec(key(), 1..5)) {
            let input = json!({});
            let set = override_path(&input, &path, false, Some(json!(1))).unwrap();
            let del = override_path(&set, &path, true, None).unwrap();
            let mut cur = &del;
            for k in &path[..path.len() - 1] {
                cur = &cur[k.as_str()];
            }
            prop_assert!(cur.get(path.last().unwrap().as_str()).is_none());
        }

        /// Rendering a path with escapes and parsing it back gives the same segments.
        #[test]
        fn dot_path_escape_round_trip(path in prop::collection::vec(key(), 1..5)) {
            let rendered: Vec<String> = path
                .iter()
                .map(|k| k.replace('\\', "\\\\").replace('.', "\\."))
                .collect();
            prop_assert_eq!(parse_dot_path(&rendered.join(".")), path);
        }
    }
}
