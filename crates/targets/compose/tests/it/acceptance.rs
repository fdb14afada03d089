//! The acceptance example: `api` (postgres + redis + volume + files + probes + environment) and
//! `worker` (calls `api` through service-port, shares a postgres with it by `id`).

use crate::common::*;
use serde_json::Value;

fn compose(case: &Case) -> (Value, score_core::target::Artefacts) {
    let a = must_compile(case);
    let v: Value = serde_saphyr::from_str(&compose_yaml(&a)).unwrap();
    (v, a)
}

/// Compose interpolations left in `text`: `${...}` not escaped as `$${...}`.
fn interpolations(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'$' {
            i += 2;
        } else if b[i] == b'$' && b[i + 1] == b'{' {
            let end = text[i..].find('}').map_or(text.len(), |e| i + e + 1);
            out.push(text[i..end].to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn acceptance_compiles_deterministically_and_is_valid() {
    let case = load_case("acceptance");
    let a1 = must_compile(&case);
    let a2 = must_compile(&case);
    assert_eq!(
        a1, a2,
        "two runs from the same state give identical artefacts"
    );

    // A second run from the first run's state keeps every generated name and password.
    let (_, first, state) = compile_case(&case).unwrap();
    let (_, second, _) = compile_with_state(&case, state).unwrap();
    assert_eq!(
        first, second,
        "re-running with the saved state changes nothing"
    );

    let yaml = compose_yaml(&a1);
    check_schema(&yaml).unwrap();
    check_dclint("acceptance", &yaml).unwrap();
    check_compose_loader("acceptance", &a1).unwrap();
}

#[test]
fn only_intended_interpolations_survive() {
    let case = load_case("acceptance");
    let (_, a) = compose(&case);
    let yaml = compose_yaml(&a);
    assert_eq!(interpolations(&yaml), vec!["${DEBUG}".to_string()]);
    for f in &a.files[1..] {
        let (path, bytes) = (&f.path, &f.content);
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("${"),
            "{} still holds a placeholder:\n{text}",
            path.display()
        );
    }
    // `$$amount` in Score is the literal `$amount`, which compose needs as `$$amount`.
    let v: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(
        v["services"]["api-main"]["environment"]["PRICE_TEMPLATE"],
        "$$amount"
    );
    assert_eq!(
        v["services"]["api-main"]["environment"]["DEBUG"],
        "${DEBUG}"
    );
}

#[test]
fn services_dependencies_and_outputs() {
    let case = load_case("acceptance");
    let (v, a) = compose(&case);
    let services = v["services"].as_object().unwrap();
    let names: Vec<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "api-main",
            "postgres-instance",
            "postgres-instance-init",
            "redis-api-cache",
            "worker-main"
        ]
    );
    assert_eq!(v["name"], "acceptance");

    let api = &services["api-main"];
    assert_eq!(api["hostname"], "api");
    assert_eq!(api["expose"], serde_json::json!(["8080"]));
    assert_eq!(
        api["ports"],
        serde_json::json!([{"target": 8080, "published": "8080"}])
    );
    assert_eq!(
        api["depends_on"]["postgres-instance"]["condition"],
        "service_healthy"
    );
    assert_eq!(
        api["depends_on"]["postgres-instance-init"]["condition"],
        "service_completed_successfully"
    );
    assert_eq!(
        api["depends_on"]["redis-api-cache"]["condition"],
        "service_healthy"
    );
    assert_eq!(api["labels"]["team"], "checkout");
    assert_eq!(api["labels"]["compose.score.dev/workload-name"], "api");
    assert_eq!(api["deploy"]["resources"]["limits"]["cpus"], "1");
    assert_eq!(api["deploy"]["resources"]["limits"]["memory"], "512m");
    // readiness (httpGet) wins over liveness (exec).
    assert_eq!(api["healthcheck"]["test"][0], "CMD-SHELL");

    let worker = &services["worker-main"];
    assert_eq!(worker["environment"]["API_URL"], "http://api:8080");
    assert_eq!(
        worker["environment"]["SHARED_DATABASE_URL"], api["environment"]["SHARED_DATABASE_URL"],
        "the postgres shared by id is one database"
    );
    assert_ne!(
        api["environment"]["SHARED_DATABASE_URL"],
        api["environment"]["DATABASE_URL"]
    );
    assert!(worker["depends_on"]
        .as_object()
        .unwrap()
        .contains_key("postgres-instance-init"));
    assert!(!worker["depends_on"]
        .as_object()
        .unwrap()
        .contains_key("redis-api-cache"));

    // Files: config mounted read-only from the mounts directory; one SQL script per database.
    let paths: Vec<String> = a
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert!(paths.contains(&".score-gen/mounts/api/main/etc%2Fapi%2Fconfig.toml".to_string()));
    let sql = paths
        .iter()
        .filter(|p| p.starts_with(".score-gen/mounts/postgres-instance/db-scripts/"))
        .count();
    assert_eq!(sql, 2, "two databases: api.db and shared-orders");
    assert_eq!(paths.last().unwrap(), ".env");
    let env = String::from_utf8(a.files.last().unwrap().content.clone()).unwrap();
    assert!(env.lines().any(|l| l == "DEBUG="), "{env}");
    let mount = api["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["target"] == "/etc/api/config.toml")
        .unwrap();
    assert_eq!(mount["type"], "bind");
    assert_eq!(mount["read_only"], true);
    assert_eq!(
        mount["source"],
        "./.score-gen/mounts/api/main/etc%2Fapi%2Fconfig.toml"
    );
    let data = api["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["target"] == "/var/lib/api")
        .unwrap();
    assert_eq!(data["type"], "volume");
    assert_eq!(data["source"], "api-data");
    assert!(v["volumes"].as_object().unwrap().contains_key("api-data"));
}
