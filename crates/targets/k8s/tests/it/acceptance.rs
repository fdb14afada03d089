//! The acceptance example looked at closely, and provisioner errors.

use score_core::{compile, CompileInputs};
use score_target_k8s::{manifests, K8sTarget};
use serde_json::Value;

use crate::common::*;

/// The acceptance example, looked at closely.
#[test]
fn acceptance_details() {
    let case = load_case("acceptance");
    let (project, yaml, _) = run(&case, seeded());
    let docs = manifests(&project, &case.options).expect("manifests");
    let kinds: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap_or(""),
                d["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    // The shared postgres (id main-db) is provisioned once, for both workloads.
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.starts_with("StatefulSet/pg-"))
            .count(),
        1,
        "{kinds:?}"
    );
    let uids: Vec<&str> = project.resources().map(|r| r.uid.as_str()).collect();
    assert!(uids.contains(&"postgres.default#main-db"), "{uids:?}");
    assert!(kinds.contains(&"Deployment/backend".to_string()));
    assert!(kinds.contains(&"Deployment/frontend".to_string()));
    assert!(kinds.contains(&"Service/backend".to_string()));
    assert!(
        kinds
            .iter()
            .any(|k| k.starts_with("PersistentVolumeClaim/vol-backend-")),
        "{kinds:?}"
    );

    let dep = |name: &str| -> Value {
        docs.iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("deployment {name}"))
    };
    let front = dep("frontend");
    let env = &front["spec"]["template"]["spec"]["containers"][0]["env"];
    // service-port answers with the Service name and the Service port (80, not targetPort 8080).
    let url = env
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == "BACKEND_URL"))
        .expect("BACKEND_URL");
    assert_eq!(url["value"], "http://backend:80");

    let back = dep("backend");
    let c = &back["spec"]["template"]["spec"]["containers"][0];
    let env_of = |n: &str| {
        c["env"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["name"] == n))
            .cloned()
            .expect("env")
    };
    assert_eq!(env_of("DEBUG")["value"], "no");
    assert_eq!(
        env_of("PRICE")["value"],
        "$$5",
        "a literal $ is escaped for the kubelet"
    );
    assert_eq!(env_of("DB_PORT")["value"], "5432");
    assert!(env_of("DATABASE_URL")["valueFrom"]["secretKeyRef"].is_object());
    assert!(env_of("REDIS_URL")["valueFrom"]["secretKeyRef"].is_object());
    assert_eq!(
        c["readinessProbe"],
        serde_json::json!({"exec": {"command": ["/bin/check", "--ready"]}})
    );
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    // The file holding only the password is in the Secret, the others in the ConfigMap.
    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "backend-api-files")
        .expect("cm");
    assert_eq!(cm["data"]["file-2"], "literal ${not.expanded}");
    assert!(cm["data"]["file-0"]
        .as_str()
        .expect("config")
        .contains("workload: backend"));
    assert!(cm["data"].get("file-1").is_none());
    let sec = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "backend-api-secrets")
        .expect("secret");
    assert!(sec["data"]["file-1"].is_string());
    assert_eq!(
        back["metadata"]["annotations"]["example.com/team"],
        "payments"
    );
    // The noExpand file is the only place a `${` may appear.
    assert_eq!(yaml.matches("${").count(), 1, "{yaml}");
}

#[test]
fn provisioner_errors_are_reported() {
    let run_err = |score: &str| -> String {
        let r = compile(
            &K8sTarget::default(),
            &CompileInputs::new().score_file("score.yaml", score),
            seeded(),
        );
        match r {
            Ok(_) => panic!("expected an error for {score}"),
            Err(d) => {
                d.0.iter()
                    .map(|x| format!("{x}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
    };
    let e = run_err(
        "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers: {main: {image: x, variables: {X: '${resources.svc.port}'}}}\nresources: {svc: {type: service-port, params: {workload: nope, port: http}}}\n",
    );
    assert!(e.contains("unknown workload 'nope'"), "{e}");
    let e = run_err(
        "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers: {main: {image: x, variables: {X: '${resources.env.MISSING}'}}}\nresources: {env: {type: environment}}\n",
    );
    assert!(
        e.contains(
            "invalid ref 'resources.env.MISSING': environment variable 'MISSING' is not set"
        ),
        "{e}"
    );
    // The environment resource takes no params (its values come from the environment).
    let e = run_err(
        "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers: {main: {image: x, variables: {X: '${resources.env.X}'}}}\nresources: {env: {type: environment, params: {X: '1'}}}\n",
    );
    assert!(e.contains("'X'"), "{e}");
    let e = run_err(
        "apiVersion: score.dev/v1b1\nmetadata: {name: app}\nservice: {ports: {http: {port: 80}}}\ncontainers: {main: {image: x}}\nresources: {rt: {type: route, params: {host: a.example, path: api, port: http}}}\n",
    );
    assert!(e.contains("route: params.path must start with /"), "{e}");
}

/// The `environment` resource reads the environment the caller passes in
/// (`ProvisionOptions::environment`; the CLI passes its own), in variables and in other
/// resources' params; an unset variable is an error at the reference that names it.
#[test]
fn environment_values_come_from_the_given_environment() {
    let score = "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers:\n  main:\n    image: x\n    variables:\n      LEVEL: ${resources.env.LOG_LEVEL}\n      URL: http://${resources.env.HOST}:80\nresources:\n  env: {type: environment}\n  data:\n    type: volume\n    params: {size: '${resources.env.SIZE}'}\n";
    let inputs = |vars: &[(&str, &str)]| {
        CompileInputs::new()
            .score_file("score.yaml", score)
            .provision_options(score_core::ProvisionOptions {
                environment: vars.iter().copied().collect(),
                ..Default::default()
            })
    };
    let all = [("LOG_LEVEL", "debug"), ("HOST", "api"), ("SIZE", "5Gi")];
    let out = compile(&K8sTarget::default(), &inputs(&all), seeded()).expect("compiles");
    let yaml = String::from_utf8(out.artefacts.files[0].content.clone()).expect("utf8");
    assert!(yaml.contains("value: debug"), "{yaml}");
    assert!(yaml.contains("value: http://api:80"), "{yaml}");
    assert!(yaml.contains("storage: 5Gi"), "{yaml}");
    assert!(!yaml.contains("${"), "{yaml}");

    // HOST unset: the variable that uses it is the error, pointed at the reference.
    let d = compile(
        &K8sTarget::default(),
        &inputs(&[("LOG_LEVEL", "debug"), ("SIZE", "5Gi")]),
        seeded(),
    )
    .expect_err("HOST is not set");
    assert_eq!(d.0.len(), 1, "{d:?}");
    assert_eq!(d.0[0].code, score_core::Code::SubstituteEnvironmentUnset);
    assert!(
        d.0[0]
            .message
            .contains("environment variable 'HOST' is not set"),
        "{}",
        d.0[0].message
    );
    assert_eq!(d.0[0].location(), "score.yaml:8:19");

    // SIZE unset: the volume's params, read before any workload value, are the error.
    let d = compile(
        &K8sTarget::default(),
        &inputs(&[("LOG_LEVEL", "debug"), ("HOST", "api")]),
        seeded(),
    )
    .expect_err("SIZE is not set");
    assert_eq!(d.0[0].code, score_core::Code::SubstituteEnvironmentUnset);
    assert!(
        d.0[0]
            .message
            .contains("environment variable 'SIZE' is not set"),
        "{}",
        d.0[0].message
    );
    assert_eq!(d.0[0].location(), "score.yaml:13:21");
}
