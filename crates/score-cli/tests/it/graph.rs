//! `score-gen graph` (issue 26): every format checked by the tool that reads it — Graphviz
//! `dot -Tsvg`, a Mermaid snapshot plus a line grammar, schemas/graph.json, and the JSON schemas
//! and field policy of `@backstage/catalog-model` (pinned in .ci/gitops-tools) — and the
//! content (nodes, edges, provisioners) asserted directly.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const WEB: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  init:
    image: busybox
    before:
      main:
        ready: complete
  main:
    image: nginx
    variables:
      API: http://${resources.api.hostname}:${resources.api.port}
resources:
  db:
    type: postgres
  dns:
    type: dns
  route:
    type: route
    params:
      host: ${resources.dns.host}
      path: /
      port: 80
  api:
    type: service-port
    params:
      workload: backend
      port: web
  bus:
    type: amqp
    id: shared-bus
  thing:
    type: no-such-type
service:
  ports:
    web:
      port: 80
";

const BACKEND: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: backend
containers:
  main:
    image: busybox
resources:
  bus:
    type: amqp
    id: shared-bus
service:
  ports:
    web:
      port: 8080
";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("web.yaml"), WEB).unwrap();
    std::fs::write(dir.path().join("backend.yaml"), BACKEND).unwrap();
    dir
}

fn graph(dir: &Path, format: &str) -> String {
    ok(&run_in(
        dir,
        &["graph", "--format", format, "web.yaml", "backend.yaml"],
    ))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tool_missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed, and CI is set: run `bash .ci/gitops-tools`");
    }
    eprintln!("skipped: {what} is not installed (bash .ci/gitops-tools)");
}

#[test]
fn json_matches_its_schema_and_holds_the_graph() {
    let dir = project();
    let text = graph(dir.path(), "json");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("schemas/graph.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    // The schema can fail: a document without edges is rejected.
    let mut broken = doc.clone();
    broken.as_object_mut().unwrap().remove("edges");
    assert!(!validator.is_valid(&broken));

    // Every edge joins two nodes of the document.
    let mut ids = std::collections::BTreeSet::new();
    for w in doc["workloads"].as_array().unwrap() {
        ids.insert(w["id"].as_str().unwrap().to_string());
        for c in w["containers"].as_array().unwrap() {
            ids.insert(c["id"].as_str().unwrap().to_string());
        }
    }
    for r in doc["resources"].as_array().unwrap() {
        ids.insert(r["id"].as_str().unwrap().to_string());
    }
    let edges: Vec<(String, String, String, String)> = doc["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (s("from"), s("to"), s("kind"), s("label"))
        })
        .collect();
    for (from, to, _, _) in &edges {
        assert!(ids.contains(from) && ids.contains(to), "{from} -> {to}");
    }
    let has = |from: &str, to: &str, kind: &str, label: &str| {
        edges.contains(&(from.into(), to.into(), kind.into(), label.into()))
    };
    assert!(has(
        "workload:web",
        "resource:postgres.default#web.db",
        "uses",
        "db"
    ));
    assert!(has(
        "resource:route.default#web.route",
        "resource:dns.default#web.dns",
        "params",
        "params"
    ));
    assert!(has(
        "resource:service-port.default#web.api",
        "workload:backend",
        "service-port",
        "port web"
    ));
    assert!(has(
        "container:web/init",
        "container:web/main",
        "before",
        "before (complete)"
    ));
    // The shared resource is one node used by both workloads.
    let bus = doc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["uid"] == "amqp.default#shared-bus")
        .unwrap();
    assert_eq!(bus["shared_id"], "shared-bus");
    assert_eq!(bus["used_by"].as_array().unwrap().len(), 2);
    // The provisioner a compose run would pick; none for an unknown type.
    let provisioner = |uid: &str| {
        doc["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["uid"] == uid)
            .unwrap()["provisioner"]
            .clone()
    };
    assert_eq!(
        provisioner("postgres.default#web.db"),
        "template://default/postgres"
    );
    assert_eq!(
        provisioner("no-such-type.default#web.thing"),
        serde_json::Value::Null
    );
    // Another target's provisioners.
    let k8s: serde_json::Value = serde_json::from_str(&ok(&run_in(
        dir.path(),
        &["graph", "--format", "json", "--target", "k8s", "web.yaml"],
    )))
    .unwrap();
    assert_eq!(k8s["target"], "k8s");
}

#[test]
fn output_is_deterministic_whatever_the_file_order() {
    let dir = project();
    for format in ["dot", "mermaid", "json", "backstage"] {
        let a = graph(dir.path(), format);
        let b = ok(&run_in(
            dir.path(),
            &["graph", "--format", format, "backend.yaml", "web.yaml"],
        ));
        assert_eq!(a, b, "{format}");
        assert_eq!(a, graph(dir.path(), format), "{format}");
    }
}

#[test]
fn dot_is_accepted_by_graphviz() {
    let dir = project();
    let text = graph(dir.path(), "dot");
    assert!(text.starts_with("digraph score {\n"), "{text}");
    assert!(text.contains(
        "\"resource:route.default#web.route\" -> \"resource:dns.default#web.dns\" [label=\"params\"];"
    ));
    if Command::new("dot").arg("-V").output().is_err() {
        return tool_missing("Graphviz dot (Debian graphviz)");
    }
    let file = dir.path().join("graph.dot");
    std::fs::write(&file, &text).unwrap();
    let out = Command::new("dot")
        .arg("-Tsvg")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "dot: {}", stderr(&out));
    assert!(
        out.stderr.is_empty(),
        "dot warned: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    // Graphviz writes each node's id as its <title> (with & and # escaped as entities or not).
    for id in ["workload:web", "workload:backend", "container:web/init"] {
        assert!(svg.contains(&format!("<title>{id}</title>")), "{id}");
    }
    assert!(svg.contains("cluster_web"), "{svg}");
    // dot can fail: a broken file is rejected (the check is not vacuous).
    std::fs::write(&file, text.replace("->", "-> ->")).unwrap();
    let out = Command::new("dot")
        .arg("-Tsvg")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn mermaid_snapshot_and_grammar() {
    let dir = project();
    let text = graph(dir.path(), "mermaid");
    insta::assert_snapshot!("graph_mermaid", text);
    // The shape of every line: the header, subgraphs, nodes, edges.
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let label = r#""[^"]*""#;
    let patterns = [
        format!(r"^  subgraph w\d+\[{label}\]$"),
        r"^  end$".to_string(),
        format!(r"^    n\d+\[{label}\]$"),
        format!(r"^    n\d+\(\[{label}\]\)$"),
        format!(r"^  n\d+\[\({label}\)\]$"),
        format!(r"^  n\d+ (-->|-\.->)\|{label}\| n\d+$"),
    ];
    let regexes: Vec<regex::Regex> = patterns
        .iter()
        .map(|p| regex::Regex::new(p).unwrap())
        .collect();
    for line in lines {
        assert!(
            regexes.iter().any(|r| r.is_match(line)),
            "not Mermaid flowchart shape: {line:?}"
        );
    }
    // `#` in a uid is an entity code, never raw (Mermaid reads `#...;` as one).
    assert!(text.contains("amqp.default#35;shared-bus"), "{text}");
    let bare = ["#35;", "#quot;", "#lt;", "#gt;"]
        .iter()
        .fold(text.clone(), |t, code| t.replace(code, ""));
    assert!(!bare.contains('#'), "{text}");
}

#[test]
fn backstage_entities_pass_the_catalog_model() {
    let dir = project();
    let text = graph(dir.path(), "backstage");
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
    let docs: Vec<serde_json::Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    let kinds: Vec<(&str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("Component", "backend"),
            ("Component", "web"),
            ("Resource", "amqp-shared-bus"),
            ("Resource", "web-dns"),
            ("Resource", "web-thing"),
            ("Resource", "web-db"),
            ("Resource", "web-route"),
            ("Resource", "web-api"),
        ]
    );
    let web = &docs[1];
    assert_eq!(
        web["spec"]["dependsOn"],
        serde_json::json!([
            "resource:amqp-shared-bus",
            "resource:web-api",
            "resource:web-db",
            "resource:web-dns",
            "resource:web-route",
            "resource:web-thing"
        ])
    );
    let api = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "web-api")
        .unwrap();
    assert_eq!(
        api["spec"]["dependsOn"],
        serde_json::json!(["component:backend"])
    );
    assert_eq!(
        api["metadata"]["annotations"]["score.dev/resource-uid"],
        "service-port.default#web.api"
    );

    let model = workspace().join(".validators/node_modules/@backstage/catalog-model");
    if !model.join("package.json").exists() {
        return tool_missing("@backstage/catalog-model (npm)");
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/graph/backstage-validate.js");
    let validate = |entities: &serde_json::Value| {
        let file = dir.path().join("entities.json");
        std::fs::write(&file, entities.to_string()).unwrap();
        Command::new("node")
            .arg(&script)
            .arg(&model)
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = validate(&serde_json::Value::Array(docs.clone()));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 entities valid"));
    // The validator can fail: a Component without owner, a name Backstage refuses.
    let mut broken = docs.clone();
    broken[0]["spec"].as_object_mut().unwrap().remove("owner");
    let out = validate(&serde_json::Value::Array(broken));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("owner"), "{}", stderr(&out));
    let mut broken = docs.clone();
    broken[0]["metadata"]["name"] = "back#end".into();
    assert!(!validate(&serde_json::Value::Array(broken)).status.success());
}

#[test]
fn a_broken_file_is_a_located_error_and_no_output() {
    let dir = project();
    std::fs::write(
        dir.path().join("web.yaml"),
        WEB.replace("    image: nginx", "    imagee: nginx"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["graph", "web.yaml", "backend.yaml"]);
    let err = fails(&out);
    assert!(out.stdout.is_empty());
    assert!(err.contains("web.yaml:11:5"), "{err}");
}
