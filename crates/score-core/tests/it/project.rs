//! The additive project as a library (spec/library.md, "The project"): an embedder holding a
//! `State` adds, replaces and removes workloads and regenerates the project, with no file system.

use score_core::input::MemorySources;
use score_core::project::{provisioner_set, NoFiles, WorkloadInput, WorkloadState, WorkloadStore};
use score_core::target::{Artefacts, FileContent, ResolvedProject};
use score_core::{
    compile, load_workload, Code, CompileInputs, Diagnostics, LoadOptions, Project,
    ProvisionOptions, ProvisionerSet, State, Target,
};

/// A toy target: one `workload.container.KEY=value` line per variable, then each file's text.
struct Env;

impl Target for Env {
    fn name(&self) -> &'static str {
        "env"
    }
    fn default_provisioners(&self) -> &'static str {
        "[]"
    }
    fn context(&self) -> serde_json::Value {
        serde_json::json!({"name": "env"})
    }
    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
        let mut out = String::new();
        for w in &project.workloads {
            for (name, c) in &w.containers {
                for (key, value) in &c.variables {
                    out.push_str(&format!("{}.{name}.{key}={}\n", w.name, value.to_plain()));
                }
                for (path, file) in &c.files {
                    if let FileContent::Text(text) = &file.content {
                        out.push_str(&format!("{path}: {}\n", text.to_plain()));
                    }
                }
            }
        }
        Ok(Artefacts {
            files: vec![score_core::target::ArtefactFile::new("env.txt", out)],
            ..Default::default()
        })
    }
}

const A: &str = r#"apiVersion: score.dev/v1b1
metadata: {name: web}
containers:
  main:
    image: nginx
    variables: {DB: "${resources.db.host}", PASSWORD: "${resources.db.password}"}
    files: {/etc/motd: {source: motd.txt}}
resources:
  db: {type: postgres, id: shared-db}
"#;

const B: &str = r#"apiVersion: score.dev/v1b1
metadata: {name: api}
containers:
  main:
    image: busybox
    variables: {DB: "${resources.db.host}"}
resources:
  db: {type: postgres, id: shared-db}
  web: {type: service-port, params: {workload: web, port: web}}
"#;

const PROVISIONERS: &str = r#"
- uri: template://demo/postgres
  engine: minijinja
  type: postgres
  state: |
    password: {{ state.password | default(rand_alnum(12)) }}
  outputs: |
    host: pg-{{ id }}
    password: {{ state.password }}
- uri: template://demo/service-port
  engine: minijinja
  type: service-port
  outputs: |
    hostname: {{ params.workload }}
"#;

fn provisioners() -> ProvisionerSet {
    provisioner_set(&Env, &[("mine.yaml", PROVISIONERS)]).unwrap()
}

/// Reads `motd.txt` for every stored workload, as the CLI reads a workload's directory.
struct Motd;

impl WorkloadStore for Motd {
    fn load_options(
        &self,
        _name: &str,
        _stored: &WorkloadState,
    ) -> Result<LoadOptions, Diagnostics> {
        Ok(LoadOptions {
            sources: Some(std::sync::Arc::new(motd())),
            ..LoadOptions::default()
        })
    }
    fn read_file(&self, _name: &str, file: &str) -> Result<Vec<u8>, Diagnostics> {
        assert_eq!(file, "b.yaml");
        Ok(B.as_bytes().to_vec())
    }
}

fn motd() -> MemorySources {
    let mut m = MemorySources::default();
    m.insert("motd.txt", "hello");
    m
}

fn input(name: &str, text: &str) -> WorkloadInput {
    let opts = LoadOptions {
        sources: Some(std::sync::Arc::new(motd())),
        ..LoadOptions::default()
    };
    WorkloadInput {
        loaded: load_workload(name, text.as_bytes(), &opts).unwrap(),
        file: Some(name.into()),
    }
}

fn seed() -> State {
    State::with_seed("0123456789abcdef0123456789abcdef")
}

fn text(a: &Artefacts) -> String {
    String::from_utf8(a.files[0].content.clone()).unwrap()
}

#[test]
fn two_runs_joined_by_the_stored_form_give_what_one_run_of_both_gives() {
    let options = ProvisionOptions::default();
    let mut first = Project::new(seed());
    first.add(input("a.yaml", A));
    first
        .regenerate(&Motd, &provisioners(), &Env, &options)
        .unwrap();
    let stored = first.state().to_yaml();

    let mut second = Project::new(State::from_yaml("state.yaml", &stored).unwrap());
    assert_eq!(second.names().collect::<Vec<_>>(), ["web"]);
    second.add(input("b.yaml", B));
    let out = second
        .regenerate(&Motd, &provisioners(), &Env, &options)
        .unwrap();

    let inputs = CompileInputs::new()
        .score_file("a.yaml", A)
        .score_file("b.yaml", B)
        .provisioner_file("mine.yaml", PROVISIONERS)
        .sources(motd());
    let once = compile(&Env, &inputs, seed()).unwrap();
    assert_eq!(text(&out.artefacts), text(&once.artefacts));
    assert!(text(&out.artefacts).contains("/etc/motd: hello\n"));
    // The shared database kept the password the first run generated.
    assert_eq!(
        second.state().resources["postgres.default#shared-db"].state,
        once.state.resources["postgres.default#shared-db"].state
    );
    // The stored form records the document and where its files are read from.
    let web = &second.state().workloads["web"];
    assert_eq!(web.file.as_deref(), Some("a.yaml"));
    assert_eq!(web.dir.as_deref(), Some("."));
    assert_eq!(web.spec.as_ref().unwrap()["metadata"]["name"], "web");
}

#[test]
fn a_stored_workload_reads_its_files_through_the_store_only() {
    let mut first = Project::new(seed());
    first.add(input("a.yaml", A));
    let state = first.into_state();
    // NoFiles reads nothing: the stored `files[].source` cannot be read.
    let err = Project::new(state.clone())
        .regenerate(
            &NoFiles,
            &provisioners(),
            &Env,
            &ProvisionOptions::default(),
        )
        .unwrap_err();
    assert_eq!(err.0[0].code, Code::FilesSourceUnreadable, "{err:?}");
    // The stored copy is named for its file, and located in its stored text.
    assert!(
        err.0[0]
            .location()
            .starts_with("a.yaml (as stored in the project):"),
        "{}",
        err.0[0].location()
    );
    let out = Project::new(state)
        .regenerate(&Motd, &provisioners(), &Env, &ProvisionOptions::default())
        .unwrap();
    assert!(text(&out.artefacts).contains("/etc/motd: hello"));
}

#[test]
fn replace_and_remove() {
    let mut p = Project::new(seed());
    assert!(p.add(input("a.yaml", A)).is_none());
    p.state_mut()
        .workloads
        .get_mut("web")
        .unwrap()
        .extras
        .set(&serde_json::json!({"builds": {"main": "./a"}}));
    // Given again, the workload replaces its namesake, whose extras go with it.
    let before = p.add(input("again/a.yaml", A)).unwrap();
    assert!(!before.extras.is_empty());
    let web = &p.state().workloads["web"];
    assert!(web.extras.is_empty());
    assert_eq!(web.dir.as_deref(), Some("again"));
    assert_eq!(p.workloads().len(), 1);
    assert!(p.remove("nope").is_none());
    assert!(p.remove("web").is_some());
    assert!(!p.contains("web"));
    assert!(p.workloads().is_empty());
}

#[test]
fn a_failed_regenerate_leaves_the_state_as_it_was() {
    let mut p = Project::new(seed());
    p.add(input("a.yaml", A));
    let before = p.state().clone();
    // No provisioner for postgres: nothing is provisioned, nothing recorded.
    let none = provisioner_set::<&str, &str>(&Env, &[]).unwrap();
    let err = p
        .regenerate(&Motd, &none, &Env, &ProvisionOptions::default())
        .unwrap_err();
    assert_eq!(err.0[0].code, Code::ProvisionNoMatch, "{err:?}");
    assert_eq!(p.state(), &before);
}

#[test]
fn a_diagnostic_about_a_stored_workload_points_at_its_stored_text() {
    let mut first = Project::new(seed());
    first.add(input("a.yaml", A));
    let state = first.into_state();
    let mut p = Project::new(state);
    p.load(&Motd).unwrap();
    let none = provisioner_set::<&str, &str>(&Env, &[]).unwrap();
    let err = p
        .resolve(&none, &Env, &ProvisionOptions::default())
        .unwrap_err();
    let d = &err.0[0];
    assert_eq!(d.code, Code::ProvisionNoMatch, "{err:?}");
    let file = d.file.as_ref().expect("a file");
    assert_eq!(file.name, "a.yaml (as stored in the project)");
    // The resource `db` in the stored document's YAML text (its mapping, under `db:`).
    let span = d.span.expect("located");
    let line = file.text.lines().nth(span.line - 2).unwrap();
    assert_eq!(line, "  db:", "line {} of\n{}", span.line, file.text);
}

#[test]
fn a_version_1_entry_is_read_through_the_store_and_stored() {
    let v1 = "version: 1\nseed: 0123456789abcdef0123456789abcdef\nworkloads:\n  api:\n    file: b.yaml\n";
    let mut p = Project::new(State::from_yaml("state.yaml", v1).unwrap());
    p.add(input("a.yaml", A));
    let out = p
        .regenerate(&Motd, &provisioners(), &Env, &ProvisionOptions::default())
        .unwrap();
    assert!(text(&out.artefacts).contains("api.main.DB=pg-shared-db"));
    let api = &p.state().workloads["api"];
    assert_eq!(api.spec.as_ref().unwrap()["metadata"]["name"], "api");
    // NoFiles cannot read it.
    let mut p = Project::new(State::from_yaml("state.yaml", v1).unwrap());
    let err = p.load(&NoFiles).unwrap_err();
    assert_eq!(err.0[0].code, Code::StateInvalid);
}
