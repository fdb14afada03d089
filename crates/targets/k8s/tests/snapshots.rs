//! Every case in `testdata/k8s/<case>/` through the whole pipeline
//! (`score_core::compile_in_memory`) with a fixed seed.
//!
//! A case folder holds `score*.yaml` (workloads, in name order), optionally `provisioners.yaml`
//! (a user provisioner file, before the defaults) and `options.yaml` (the target's typed options).
//! For each case: an insta snapshot of `manifests.yaml` (reviewed), determinism (twice → same
//! bytes; again from the returned state → same bytes), no `${` left, no secret output value in
//! clear text outside Secrets, every variable using a secret read through `secretKeyRef`, and
//! `kubernetes-validate --strict -k 1.30.0` on the output.

mod common;

use std::path::{Path, PathBuf};

use score_core::unstable::state::State;
use score_core::{compile, CompileInputs, ResolvedProject};
use score_target_k8s::K8sOptions;
use score_target_k8s::{manifests, K8sTarget};
use serde_json::Value;

fn testdata() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../testdata/k8s"
    ))
}

struct Case {
    name: String,
    scores: Vec<(String, String)>,
    provisioners: Vec<(String, String)>,
    options: K8sOptions,
}

fn load_case(dir: &Path) -> Case {
    let mut scores = Vec::new();
    let mut provisioners = Vec::new();
    let mut options = K8sOptions::default();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read case dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        let file = p
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&p).expect("read fixture");
        if file.starts_with("score") && file.ends_with(".yaml") {
            scores.push((file, text));
        } else if file == "provisioners.yaml" {
            provisioners.push((file, text));
        } else if file == "options.yaml" {
            options = serde_saphyr::from_str(&text).expect("options.yaml: k8s options");
        } else {
            panic!("unexpected fixture file {}", p.display());
        }
    }
    assert!(!scores.is_empty(), "no score*.yaml in {}", dir.display());
    Case {
        name: dir
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_string(),
        scores,
        provisioners,
        options,
    }
}

fn seeded() -> State {
    let mut st = State::new_random();
    st.seed = "test-seed".into();
    st
}

fn run(case: &Case, state: State) -> (ResolvedProject, String, State) {
    let inputs = CompileInputs {
        score_files: case.scores.clone(),
        provisioner_files: case.provisioners.clone(),
        ..CompileInputs::default()
    };
    let score_core::Compiled {
        project,
        artefacts,
        state,
    } = compile(&K8sTarget::new(case.options.clone()), &inputs, state)
        .unwrap_or_else(|d| panic!("case {} failed: {:#?}", case.name, d));
    assert_eq!(artefacts.files.len(), 1, "one manifests file");
    assert_eq!(artefacts.files[0].0, PathBuf::from("manifests.yaml"));
    let yaml = String::from_utf8(artefacts.files[0].1.clone()).expect("utf-8 manifests");
    (project, yaml, state)
}

/// The secret output values of every resource (strings), for the leak check.
fn secret_values(project: &ResolvedProject) -> Vec<String> {
    let mut out = Vec::new();
    for r in project.resources() {
        for k in &r.outputs.secret {
            match r.outputs.values.get(k) {
                Some(Value::String(s)) => out.push(s.clone()),
                Some(other) => out.push(other.to_string()),
                None => {}
            }
        }
    }
    out
}

fn check_case(case: &Case) {
    let (project, yaml, state) = run(case, seeded());
    insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(case.name.as_str(), yaml);
    });

    // Determinism: same input, same bytes; and the state written by the first run reproduces it
    // (generated passwords live in state).
    let (_, again, _) = run(case, seeded());
    assert_eq!(
        yaml, again,
        "{}: output differs between two runs",
        case.name
    );
    let (_, from_state, _) = run(case, state);
    assert_eq!(
        yaml, from_state,
        "{}: output differs when re-run from its state",
        case.name
    );

    // No placeholder survives, except those written in `noExpand` files (kept on purpose).
    let kept: usize = project
        .workloads
        .iter()
        .flat_map(|w| w.spec.containers.values())
        .flat_map(|c| c.files.values())
        .filter(|f| !f.expands())
        .filter_map(|f| f.content.as_deref())
        .map(|t| t.matches("${").count())
        .sum();
    assert_eq!(
        yaml.matches("${").count(),
        kept,
        "{}: a placeholder survived:\n{yaml}",
        case.name
    );

    let docs = manifests(&project, &case.options).expect("manifests");
    let secrets = secret_values(&project);
    if !secrets.is_empty() {
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        common::assert_no_secret_in_clear(&docs, &refs);
    }
    // Every variable whose resolved value is secret is read from a Secret.
    for w in &project.workloads {
        for (cname, c) in &w.containers {
            for (var, r) in &c.variables {
                if !r.is_secret() {
                    continue;
                }
                let env = docs
                    .iter()
                    .filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet")
                    .filter(|d| d["metadata"]["name"] == w.name.as_str())
                    .flat_map(|d| {
                        d["spec"]["template"]["spec"]["containers"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                    })
                    .filter(|c| c["name"] == cname.as_str())
                    .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
                    .find(|e| e["name"] == var.as_str())
                    .unwrap_or_else(|| panic!("{}: env {var} missing", case.name));
                assert!(
                    env.get("value").is_none(),
                    "{}: secret {var} has a value",
                    case.name
                );
                assert_eq!(
                    env["valueFrom"]["secretKeyRef"]["name"],
                    format!("{}-{}-secrets", w.name, cname)
                );
            }
        }
    }
    common::kubernetes_validate(&yaml, &case.name);
}

#[test]
fn every_case() {
    let dir = testdata();
    assert!(dir.is_dir(), "missing fixtures directory {}", dir.display());
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read testdata/k8s")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let names: Vec<String> = cases
        .iter()
        .map(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    // One fixture per default provisioner type (and class), plus the acceptance example.
    for required in [
        "acceptance",
        "volume",
        "volume-classes",
        "service-port",
        "environment",
        "postgres",
        "mysql",
        "redis",
        "mongodb",
        "amqp",
        "kafka-topic",
        "s3",
        "dns",
        "route",
        "route-ingress",
        "namespace",
        "custom-provisioner",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "fixture {required} missing"
        );
    }
    for c in &cases {
        check_case(&load_case(c));
    }
}

/// The acceptance example, looked at closely.
#[test]
fn acceptance_details() {
    let case = load_case(&testdata().join("acceptance"));
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
    assert!(e.contains("environment: no value for 'MISSING'"), "{e}");
    let e = run_err(
        "apiVersion: score.dev/v1b1\nmetadata: {name: app}\nservice: {ports: {http: {port: 80}}}\ncontainers: {main: {image: x}}\nresources: {rt: {type: route, params: {host: a.example, path: api, port: http}}}\n",
    );
    assert!(e.contains("route: params.path must start with /"), "{e}");
}
