//! Runs the `resource_uid` and `parse_resource_limits` tables of
//! `testdata/conformance/misc_cases.json` (score-go `framework/resource_uid_test.go` and
//! `types/types_test.go`, plus derived rows). The file's other tables (git URLs, formatter,
//! upgrade transforms) belong to other modules and are run by their own tests.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use crate::common;

use common::{deviations_md, load, rows};
use score_core::quantity::{parse_cpu_millis, parse_memory_bytes, parse_resource_limits};
use score_core::target::ResourceUid;
use serde_json::Value;

/// Rows we decide differently from score-go (named `cpu=<v>` / `memory=<v>`); each is explained
/// in `spec/deviations.md`. All are schema-valid values Go parses wrongly or not at all.
const DEVIATIONS: &[&str] = &[
    "memory=1.5Gi",
    "memory=1P",
    "memory=2Ei",
    "cpu=1.005",
    "cpu=0.0005",
];

fn opt(row: &Value, key: &str) -> Option<String> {
    row.get(key).and_then(Value::as_str).map(str::to_string)
}

#[test]
fn resource_uid() {
    let doc = load("misc_cases.json");
    let rows = rows(&doc, "resource_uid ");
    assert_eq!(rows.len(), 3);
    for row in rows {
        let s = |k: &str| row[k].as_str().unwrap_or_else(|| panic!("{k} in {row}"));
        let class = opt(row, "class");
        let id = opt(row, "id");
        let uid = ResourceUid::new(
            s("workload"),
            s("res_name"),
            s("type"),
            class.as_deref(),
            id.as_deref(),
        );
        assert_eq!(uid.as_str(), s("uid"));
        assert_eq!(uid.kind(), s("Type"));
        assert_eq!(uid.class(), s("Class"));
        assert_eq!(uid.id(), s("Id"));
    }
}

/// score-go's test output format: "milliCpus memoryBytes err", -1 for absent.
fn go_format(r: Result<(Option<u64>, Option<u64>), String>) -> String {
    let n = |v: Option<u64>| v.map_or("-1".to_string(), |x| x.to_string());
    match r {
        Ok((c, m)) => format!("{} {} <nil>", n(c), n(m)),
        Err(e) => format!("-1 -1 {e}"),
    }
}

#[test]
fn parse_resource_limits_upstream() {
    let doc = load("misc_cases.json");
    let rows = rows(&doc, "parse_resource_limits (score-go");
    assert_eq!(rows.len(), 5);
    for row in rows {
        let cpu = opt(row, "cpu");
        let mem = opt(row, "memory");
        let got = go_format(parse_resource_limits(cpu.as_deref(), mem.as_deref()));
        assert_eq!(got, row["out"].as_str().unwrap(), "{row}");
    }
}

#[test]
fn parse_resource_limits_derived() {
    let doc = load("misc_cases.json");
    let rows = rows(&doc, "parse_resource_limits (DERIVED");
    assert_eq!(rows.len(), 5);
    let md = deviations_md();
    for row in rows {
        let name = match (opt(row, "cpu"), opt(row, "memory")) {
            (Some(c), None) => format!("cpu={c}"),
            (None, Some(m)) => format!("memory={m}"),
            _ => panic!("derived row has one of cpu/memory: {row}"),
        };
        // Every derived row is a value Go gets wrong, so every one is a deviation.
        assert!(DEVIATIONS.contains(&name.as_str()), "{name} not listed");
        assert!(md.contains(&name), "{name} missing from spec/deviations.md");
        assert!(row.get("go_out").is_some(), "{name} records Go's result");
        if let Some(m) = opt(row, "memory") {
            let want = row["exact"].as_u64().expect("exact byte count");
            assert_eq!(parse_memory_bytes(&m), Ok(want), "{name}");
        } else {
            let c = opt(row, "cpu").unwrap();
            match &row["exact_millicpus"] {
                Value::Number(n) => {
                    assert_eq!(parse_cpu_millis(&c), Ok(n.as_u64().unwrap()), "{name}")
                }
                // Not a whole milli-CPU: we round up like Kubernetes, as the row suggests.
                Value::String(note) => {
                    assert!(note.contains("round up"), "{name}: {note}");
                    assert_eq!(parse_cpu_millis(&c), Ok(1), "{name}");
                }
                other => panic!("{name}: unexpected exact_millicpus {other}"),
            }
        }
    }
    assert_eq!(rows.len(), DEVIATIONS.len());
}

#[test]
fn deviation_rows_are_documented() {
    let md = deviations_md();
    for d in DEVIATIONS {
        assert!(md.contains(d), "{d} missing from spec/deviations.md");
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `N` CPUs and `N*1000m` are the same quantity.
        #[test]
        fn cpu_units_agree(n in 0u64..1_000_000_000) {
            prop_assert_eq!(parse_cpu_millis(&n.to_string()), Ok(n * 1000));
            prop_assert_eq!(parse_cpu_millis(&format!("{}m", n * 1000)), Ok(n * 1000));
        }

        /// `a.b` with a binary suffix is exact: equal to ceil(ab * 2^k / 10^len(b)).
        #[test]
        fn memory_decimal_exact(a in 0u64..100_000, b in 0u64..1000, k in 0usize..6) {
            let suffix = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][k];
            let mult = 1u128 << (10 * (k + 1));
            let s = format!("{a}.{b:03}{suffix}");
            let num = u128::from(a) * 1000 + u128::from(b);
            let want = (num * mult).div_ceil(1000);
            match u64::try_from(want) {
                Ok(w) => prop_assert_eq!(parse_memory_bytes(&s), Ok(w)),
                Err(_) => prop_assert!(parse_memory_bytes(&s).is_err()),
            }
        }
    }
}
