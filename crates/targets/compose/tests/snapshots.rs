//! Every fixture in `testdata/compose/` compiles; its compose.yaml and mounted files are
//! snapshotted, and every compose.yaml passes the compose-spec schema and dclint.

mod common;

use common::*;

#[test]
fn every_fixture_compiles_validates_and_matches_its_snapshot() {
    let names = case_names();
    let mut failures = Vec::new();
    for name in &names {
        let case = load_case(name);
        let artefacts = must_compile(&case);
        let yaml = compose_yaml(&artefacts);
        if let Err(e) = check_schema(&yaml) {
            failures.push(format!("{name}: compose-spec schema:\n{e}"));
        }
        if let Err(e) = check_dclint(name, &yaml) {
            failures.push(format!("{name}: {e}"));
        }
        insta::assert_snapshot!(name.as_str(), render_artefacts(&artefacts));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_default_provisioner_type_has_a_fixture() {
    let defaults: Vec<serde_json::Value> =
        serde_saphyr::from_str(score_target_compose::DEFAULT_PROVISIONERS).unwrap();
    let mut used = std::collections::BTreeSet::new();
    for name in case_names() {
        for (_, text) in load_case(&name).scores {
            let v: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
            if let Some(res) = v.get("resources").and_then(|r| r.as_object()) {
                for r in res.values() {
                    used.insert(r["type"].as_str().unwrap().to_string());
                }
            }
        }
    }
    let missing: Vec<&str> = defaults
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .filter(|t| !used.contains(*t))
        .collect();
    assert!(
        missing.is_empty(),
        "default provisioners without a fixture: {missing:?}"
    );
}
