//! The two-workload acceptance example, looked at closely.

use crate::common::*;

/// The two-workload acceptance example: a shared postgres (one module for both workloads),
/// redis, a volume, files and probes; the second workload reaches the first via service-port.
#[test]
fn acceptance_example() {
    let case = load_case("acceptance");
    let files = compile(&case);
    // The namespace variable; the Service host of orders (web has none) as an output; the two
    // default modules beside main.tf.
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "main.tf",
            "variables.tf",
            "outputs.tf",
            "modules/postgres/main.tf",
            "modules/postgres/outputs.tf",
            "modules/postgres/variables.tf",
            "modules/redis/main.tf",
            "modules/redis/outputs.tf",
            "modules/redis/variables.tf",
        ]
    );
    let main = &files[0].1;
    assert_eq!(main.matches("module \"postgres_shared_db\" {").count(), 1);
    assert_eq!(main.matches("module \"redis_orders_cache\" {").count(), 1);
    assert!(main
        .contains("resource \"kubernetes_persistent_volume_claim_v1\" \"volume_orders_data\" {"));
    for w in ["orders", "web"] {
        assert!(main.contains(&format!("resource \"kubernetes_deployment_v1\" \"{w}\" {{")));
        assert!(main.contains(&format!("resource \"kubernetes_secret_v1\" \"{w}\" {{")));
    }
    assert!(main.contains("resource \"kubernetes_service_v1\" \"orders\" {"));
    assert!(!main.contains("resource \"kubernetes_service_v1\" \"web\""));
    // service-port gives plain values, concatenated into a literal.
    assert!(main.contains("value = \"http://orders:80/api\""));
    // A bare expression, not a string.
    assert!(main.contains("value = module.postgres_shared_db.host"));
    // Secrets only through secret_key_ref: no env `value` holds a password.
    assert!(!main.contains("value = module.postgres_shared_db.password"));
    assert!(main.contains("\"frontend.DB_PASSWORD\" = module.postgres_shared_db.password"));
    // The file with expressions becomes a template string.
    assert!(main.contains(
        "\"service: orders\\ndatabase: ${module.postgres_shared_db.host}:${module.postgres_shared_db.port}\\n\""
    ));
}
