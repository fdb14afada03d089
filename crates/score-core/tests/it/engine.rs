//! The whole pipeline (load → graph → provision → substitute → emit) through a small test target.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use score_core::target::Piece;
use score_core::target::{Artefacts, FileContent, ResolvedProject, VolumeSource};
use score_core::Diagnostics;
use score_core::State;
use score_core::Target;

/// A target whose output is a JSON summary of what it was handed.
struct TestTarget;

const PROVISIONERS: &str = r#"
- uri: template://test/postgres
  engine: minijinja
  type: postgres
  expected_outputs: [host, port, username, password]
  secret_outputs: [password]
  init: |
    name: {{ id | replace(".", "-") }}
  state: |
    password: {{ state.password | default(rand_alnum(16)) }}
  shared: |
    provisioned:
      {{ uid | quote }}: {{ ((shared.provisioned | default({}))[uid] | default(0)) + 1 }}
  outputs: |
    host: {{ init.name }}
    port: 5432
    username: {{ init.name }}
    password: {{ state.password | quote }}
  test:
    services: |
      {{ init.name }}: {image: "postgres:16"}
- uri: template://test/environment
  engine: minijinja
  type: environment
  expression_outputs: []
  outputs: |
    {% for k in requested_outputs %}{{ k }}: "env:{{ k }}"
    {% endfor %}
- uri: template://test/volume
  engine: minijinja
  type: volume
  outputs: |
    source: vol-{{ id | replace(".", "-") }}
- uri: template://test/dns
  engine: minijinja
  type: dns
  outputs: |
    host: {{ params.prefix }}.example.com
"#;

impl Target for TestTarget {
    fn name(&self) -> &'static str {
        "test"
    }
    fn default_provisioners(&self) -> &'static str {
        PROVISIONERS
    }
    fn context(&self) -> serde_json::Value {
        serde_json::json!({"name": "test"})
    }
    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
        let mut out = String::new();
        for w in &project.workloads {
            for (c, rc) in &w.containers {
                for (k, v) in &rc.variables {
                    out.push_str(&format!(
                        "{}.{c}.{k}={} secret={}\n",
                        w.name,
                        v.to_plain(),
                        v.is_secret()
                    ));
                }
            }
        }
        for r in project.resources() {
            out.push_str(&format!("{} fragments={:?}\n", r.uid, r.fragments.keys()));
        }
        Ok(Artefacts {
            files: vec![score_core::target::ArtefactFile::new("out.txt", out)],
            ..Artefacts::default()
        })
    }
}

fn seeded() -> State {
    let mut s = State::new_random();
    s.seed = "test-seed".into();
    s
}

const API: &str = "score.dev/v1b1";

fn orders() -> String {
    format!(
        r#"apiVersion: {API}
metadata: {{name: orders}}
containers:
  api:
    image: orders:1
    variables:
      DB: "postgres://${{resources.db.username}}:${{resources.db.password}}@${{resources.db.host}}:${{resources.db.port}}"
      HOST: ${{resources.db.host}}
      MODE: ${{resources.env.MODE}}
      PRICE: "$$5"
    files:
      /etc/app.conf:
        content: "db=${{resources.db.host}}"
      /etc/raw.conf:
        content: "keep ${{resources.db.host}}"
        noExpand: true
    volumes:
      /data:
        source: ${{resources.data}}
resources:
  db:
    type: postgres
    id: shared-db
  env:
    type: environment
  data:
    type: volume
"#
    )
}

fn billing() -> String {
    format!(
        r#"apiVersion: {API}
metadata: {{name: billing}}
containers:
  worker:
    image: billing:1
    variables:
      DB_HOST: ${{resources.db.host}}
resources:
  db:
    type: postgres
    id: shared-db
"#
    )
}

fn compile(
    files: &[(&str, &str)],
    state: State,
) -> Result<(ResolvedProject, Artefacts, State), Diagnostics> {
    let mut inputs = score_core::CompileInputs::new();
    for (n, t) in files {
        inputs = inputs.score_file(*n, *t);
    }
    score_core::compile(&TestTarget, &inputs, state).map(|c| (c.project, c.artefacts, c.state))
}

#[test]
fn shared_resource_is_provisioned_once_for_two_workloads() {
    let (o, b) = (orders(), billing());
    let (project, art, state) =
        compile(&[("orders.yaml", &o), ("billing.yaml", &b)], seeded()).unwrap();
    let shared: Vec<_> = project
        .resources
        .keys()
        .filter(|u| u.kind() == "postgres")
        .collect();
    assert_eq!(shared.len(), 1, "{:?}", project.resources.keys());
    assert_eq!(shared[0].as_str(), "postgres.default#shared-db");
    // the template counts its own runs in shared state
    assert_eq!(
        state.shared_state["provisioned"]["postgres.default#shared-db"],
        1
    );
    let users = &project.resources[shared[0]].users;
    assert_eq!(users.len(), 2, "{users:?}");
    let text = String::from_utf8(art.files[0].content.clone()).unwrap();
    assert!(
        text.contains("orders.api.HOST=shared-db secret=false"),
        "{text}"
    );
    assert!(
        text.contains("billing.worker.DB_HOST=shared-db secret=false"),
        "{text}"
    );
}

#[test]
fn secret_outputs_keep_their_mark_through_substitution() {
    let o = orders();
    let (project, _, state) = compile(&[("orders.yaml", &o)], seeded()).unwrap();
    let api = &project.workloads[0].containers["api"];
    let db = &api.variables["DB"];
    assert!(db.is_secret());
    let password = state.resources["postgres.default#shared-db"].state["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 16);
    assert!(db.to_plain().contains(&password));
    // the password piece is the secret one; the literal text pieces are not
    let secret_pieces: Vec<_> = db
        .pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Value(f) if f.secret => Some(f.render()),
            _ => None,
        })
        .collect();
    assert_eq!(secret_pieces, vec![password]);
    assert!(!api.variables["HOST"].is_secret());
}

#[test]
fn escapes_files_volumes_and_requested_outputs_resolve() {
    let o = orders();
    let (project, _, _) = compile(&[("orders.yaml", &o)], seeded()).unwrap();
    let api = &project.workloads[0].containers["api"];
    assert_eq!(api.variables["PRICE"].to_plain(), "$5");
    assert_eq!(api.variables["MODE"].to_plain(), "env:MODE");
    match &api.files["/etc/app.conf"].content {
        FileContent::Text(t) => assert_eq!(t.to_plain(), "db=shared-db"),
        other => panic!("{other:?}"),
    }
    match &api.files["/etc/raw.conf"].content {
        FileContent::Text(t) => assert_eq!(t.to_plain(), "keep ${resources.db.host}"),
        other => panic!("{other:?}"),
    }
    match &api.volumes["/data"].source {
        VolumeSource::Resource(uid) => assert_eq!(uid.as_str(), "volume.default#orders.data"),
        other => panic!("{other:?}"),
    }
    let db = &project.resources
        [&score_core::target::ResourceUid::from_string("postgres.default#shared-db")];
    assert!(db.fragments.contains_key("services"));
}

#[test]
fn same_inputs_and_state_give_identical_bytes_and_stable_passwords() {
    let (o, b) = (orders(), billing());
    let files = [("orders.yaml", o.as_str()), ("billing.yaml", b.as_str())];
    let (_, first, state1) = compile(&files, State::new_random()).unwrap();
    // second run from the persisted state (through its YAML form, as on disk): same artefacts,
    // same generated password
    let reloaded = State::from_yaml("state.yaml", &state1.to_yaml()).unwrap();
    let (_, second, state2) = compile(&files, reloaded.clone()).unwrap();
    assert_eq!(first, second);
    let pw = |s: &State| s.resources["postgres.default#shared-db"].state["password"].clone();
    assert_eq!(pw(&state1), pw(&state2));
    // the same inputs and the same state give byte-identical artefacts and state
    let (_, third_a, state_a) = compile(&files, reloaded.clone()).unwrap();
    assert_eq!(second, third_a);
    assert_eq!(state2.to_yaml(), state_a.to_yaml());
    // a different project seed gives different generated passwords
    let (_, other, _) = compile(&files, State::new_random()).unwrap();
    assert_ne!(first, other);
}

#[test]
fn params_see_outputs_of_resources_provisioned_before_them() {
    let w = format!(
        r#"apiVersion: {API}
metadata: {{name: web}}
containers:
  main:
    image: nginx
    variables:
      URL: https://${{resources.dns.host}}
resources:
  db:
    type: postgres
  dns:
    type: dns
    params:
      prefix: ${{metadata.name}}-${{resources.db.host}}
"#
    );
    let (project, _, _) = compile(&[("web.yaml", &w)], seeded()).unwrap();
    let url = project.workloads[0].containers["main"].variables["URL"].to_plain();
    assert_eq!(url, "https://web-web-db.example.com");
}

#[test]
fn missing_output_names_placeholder_resource_and_available_outputs() {
    let w = format!(
        r#"apiVersion: {API}
metadata: {{name: web}}
containers:
  main:
    image: nginx
    variables:
      X: ${{resources.db.nope}}
resources:
  db:
    type: postgres
"#
    );
    let err = compile(&[("web.yaml", &w)], seeded()).unwrap_err();
    let d = &err.0[0];
    assert!(d.message.contains("resources.db.nope"), "{}", d.message);
    let help = d.help.clone().unwrap_or_default();
    assert!(help.contains("postgres.default#web.db"), "{help}");
    assert!(help.contains("host, password, port, username"), "{help}");
    assert_eq!(d.location(), "web.yaml:7:10");
}

#[test]
fn unknown_resource_type_lists_the_types_that_have_provisioners() {
    let w = format!(
        "apiVersion: {API}\nmetadata: {{name: web}}\ncontainers: {{main: {{image: nginx}}}}\nresources:\n  queue:\n    type: kafka\n"
    );
    let err = compile(&[("web.yaml", &w)], seeded()).unwrap_err();
    let d = &err.0[0];
    assert!(
        d.message.contains("kafka.default#web.queue"),
        "{}",
        d.message
    );
    let all = format!("{} {}", d.message, d.help.clone().unwrap_or_default());
    for t in ["postgres", "environment", "volume", "dns"] {
        assert!(all.contains(t), "{all}");
    }
    assert_eq!(d.location(), "web.yaml:6:11");
}

#[test]
fn duplicate_workload_names_are_rejected() {
    let o = orders();
    let err = compile(&[("a.yaml", &o), ("b.yaml", &o)], seeded()).unwrap_err();
    assert!(err.0[0].message.contains("used more than once"), "{err}");
    assert_eq!(err.0[0].location(), "b.yaml:2:18");
}

#[test]
fn conflicting_shared_params_name_both_files() {
    let a = format!(
        "apiVersion: {API}\nmetadata: {{name: a1}}\ncontainers: {{main: {{image: x}}}}\nresources:\n  db:\n    type: postgres\n    id: shared\n    params: {{size: 1}}\n"
    );
    let b = format!(
        "apiVersion: {API}\nmetadata: {{name: b1}}\ncontainers: {{main: {{image: x}}}}\nresources:\n  db:\n    type: postgres\n    id: shared\n    params: {{size: 2}}\n"
    );
    let err = compile(&[("a.yaml", &a), ("b.yaml", &b)], seeded()).unwrap_err();
    let d = &err.0[0];
    assert!(
        d.message
            .contains("multiple definitions with different params"),
        "{}",
        d.message
    );
    let mut files = vec![d.location()];
    files.extend(d.related.iter().map(|r| r.location()));
    assert!(files.iter().any(|f| f.starts_with("a.yaml:8")), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with("b.yaml:8")), "{files:?}");
}
