//! Output and diagnostics formats (spec/cli.md): `--message-format human|json` (and the former
//! `--format human|json` where --format means nothing else), diagnostics off stdout with `-o -`,
//! k8s `--format yaml|kyaml`, the listings' `--format`, `resources get-outputs --format
//! json|yaml|<Go template>`, and `--quiet`.

use crate::common;

use std::path::Path;

use common::{score_gen, stderr};

const WEB: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx:1.27
    args: ['-c', 'echo \"$${GREETING}\"']
    variables:
      GREETING: 'no'
      URL: ${resources.db.uri}
    files:
      /etc/motd:
        content: |
          line one
          line \"two\"
resources:
  db:
    type: postgres
";

const BROKEN: &str =
    "apiVersion: score.dev/v1b1\nmetadata: {name: x}\ncontainers: {main: {imagee: a}}\n";

fn dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("score.yaml"), WEB).unwrap();
    std::fs::write(d.path().join("broken.yaml"), BROKEN).unwrap();
    d
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn failed_json(text: &str) -> bool {
    json(text)["ok"] == false
}

#[test]
fn message_format_and_its_former_name() {
    let d = dir();
    let p = d.path();
    for args in [
        &["--message-format", "json", "compose", "broken.yaml"][..],
        &["compose", "broken.yaml", "--message-format", "json"],
        &["compose", "broken.yaml", "--format", "json"],
        &["--format", "json", "compose", "broken.yaml"],
        &["terraform", "broken.yaml", "--format", "json"],
        &["all", "broken.yaml", "-o", "out", "--format", "json"],
    ] {
        let o = score_gen(p, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(failed_json(&stdout(&o)), "{args:?}: {}", stdout(&o));
    }
    let o = score_gen(p, &["validate", "broken.yaml", "--message-format", "json"]);
    assert_eq!(json(&stdout(&o))["valid"], false);
    // k8s's --format is the manifests' format: json is not one.
    let o = score_gen(p, &["k8s", "score.yaml", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("invalid value 'json'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn with_output_on_stdout_diagnostics_stay_off_it() {
    let d = dir();
    let p = d.path();
    for target in ["compose", "k8s", "terraform"] {
        let o = score_gen(
            p,
            &["--message-format", "json", target, "broken.yaml", "-o", "-"],
        );
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(stdout(&o), "", "{target}: stdout must stay empty");
        assert!(failed_json(&stderr(&o)), "{target}: {}", stderr(&o));
    }
}

#[test]
fn k8s_kyaml_reads_back_as_the_yaml() {
    let d = dir();
    let p = d.path();
    let yaml = score_gen(p, &["k8s", "score.yaml", "-o", "-"]);
    assert!(yaml.status.success(), "{}", stderr(&yaml));
    let kyaml = score_gen(p, &["k8s", "score.yaml", "--format", "kyaml", "-o", "-"]);
    assert!(kyaml.status.success(), "{}", stderr(&kyaml));
    let (yaml, kyaml) = (stdout(&yaml), stdout(&kyaml));
    assert!(kyaml.starts_with("---\n{\n  apiVersion: \""), "{kyaml}");
    assert!(kyaml.contains("GREETING\",\n"), "{kyaml}");
    let a: Vec<serde_json::Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let b: Vec<serde_json::Value> = serde_saphyr::from_multiple(&kyaml).unwrap();
    assert_eq!(a, b);
    assert!(a.len() > 2);
    // The file form writes the same bytes.
    let o = score_gen(p, &["k8s", "--format", "kyaml", "-o", "m.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(p.join("m.yaml")).unwrap(), kyaml);
}

#[test]
fn get_outputs_formats() {
    let d = dir();
    let p = d.path();
    assert!(score_gen(p, &["compose", "score.yaml"]).status.success());
    let uid = "postgres.default#web.db";
    let o = score_gen(p, &["resources", "get-outputs", uid]);
    let j = json(&stdout(&o));
    assert_eq!(j["host"], "postgres-instance");
    let o = score_gen(p, &["resources", "get-outputs", uid, "--format", "yaml"]);
    let y: serde_json::Value = serde_saphyr::from_str(&stdout(&o)).unwrap();
    assert_eq!(y, j);
    let o = score_gen(
        p,
        &["resources", "get-outputs", uid, "-f", "{{.host}}:{{.port}}"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "postgres-instance:5432\n");
    let o = score_gen(p, &["resources", "get-outputs", uid, "-f", "{{.host"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot parse the template"),
        "{}",
        stderr(&o)
    );

    let o = score_gen(p, &["resources", "list", "--format", "json"]);
    let listed = json(&stdout(&o));
    assert_eq!(listed[0]["uid"], uid);
    assert_eq!(listed[0]["outputs"][0], "database");
    let o = score_gen(p, &["resources", "list", "-f", "table"]);
    assert!(stdout(&o).contains(uid));
    let o = score_gen(p, &["provisioners", "list", "-f", "json"]);
    let listed = json(&stdout(&o));
    assert!(listed.as_array().is_some_and(|a| !a.is_empty()));
    // score-gen's own default entries are minijinja (engine: minijinja).
    assert_eq!(listed[0]["engine"], "minijinja", "{listed}");
    // An unknown uid with --format json: the error is JSON too.
    let o = score_gen(p, &["resources", "get-outputs", "nope", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(failed_json(&stdout(&o)));
}

#[test]
fn quiet_mutes_notes_not_errors() {
    let d = tempfile::tempdir().unwrap();
    let p: &Path = d.path();
    let o = score_gen(p, &["init", "--quiet"]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
    let o = score_gen(p, &["init", "--target", "k8s"]);
    assert!(stderr(&o).contains("wrote"));
    let o = score_gen(p, &["-q", "compose", "missing.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.yaml"));
    let o = score_gen(p, &["-q", "-v", "compose", "score.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_annotation_the_target_ignores_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let score = WEB.replace(
        "  name: web\n",
        "  name: web\n  annotations:\n    k8s.score.dev/knd: StatefulSet\n",
    );
    std::fs::write(p.join("score.yaml"), score).unwrap();
    let o = score_gen(p, &["k8s", "score.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: workload 'web': annotation k8s.score.dev/knd is ignored: the k8s target reads only k8s.score.dev/kind, k8s.score.dev/service-name"
        ),
        "{}",
        stderr(&o)
    );
    // compose does not read k8s.score.dev/*: no warning there; --quiet mutes it.
    let o = score_gen(p, &["compose", "score.yaml"]);
    assert_eq!(stderr(&o), "");
    let o = score_gen(p, &["k8s", "-q"]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "");
}

#[test]
fn k8s_service_name_annotation_names_the_service_others_reach() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("api.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: api\n  annotations:\n    k8s.score.dev/service-name: api-svc\ncontainers:\n  main: {image: nginx:1.27}\nservice:\n  ports:\n    web: {port: 8080, targetPort: 80}\n",
    )
    .unwrap();
    std::fs::write(
        p.join("client.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: client}\ncontainers:\n  main:\n    image: busybox:1.36\n    variables: {API: 'http://${resources.api.hostname}:${resources.api.port}'}\nresources:\n  api:\n    type: service-port\n    params: {workload: api, port: web}\n",
    )
    .unwrap();
    let o = score_gen(p, &["k8s", "api.yaml", "client.yaml", "-o", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "an understood annotation is no warning");
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&stdout(&o)).unwrap();
    let service = docs
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("a Service");
    assert_eq!(service["metadata"]["name"], "api-svc");
    assert!(docs
        .iter()
        .any(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "api"));
    let text = stdout(&o);
    assert!(text.contains("value: http://api-svc:8080"), "{text}");

    std::fs::write(
        p.join("bad.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: bad\n  annotations:\n    k8s.score.dev/service-name: Bad_Name\ncontainers:\n  main: {image: nginx:1.27}\nservice:\n  ports:\n    web: {port: 80}\n",
    )
    .unwrap();
    let o = score_gen(
        p,
        &["--message-format", "json", "k8s", "bad.yaml", "-o", "-"],
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&stderr(&o));
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "score::k8s::invalid-service-name");
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64()),
        (Some("bad.yaml"), Some(5))
    );
}
