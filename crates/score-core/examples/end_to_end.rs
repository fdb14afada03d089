//! score-core end to end, in memory: a Score file, a provisioner file and a `files[].source`
//! held in strings, compiled for a toy target that writes one `KEY=value` line per variable.
//!
//! `cargo run -p score-core --example end_to_end` (it is also the crate root's doc example).

use score_core::input::MemorySources;
use score_core::target::{Artefacts, FileContent, ResolvedProject};
use score_core::{compile, CompileInputs, Diagnostics, State, Target};

/// A toy target: one `workload.container.KEY=value` line per variable, then each file's size.
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
                        out.push_str(&format!("{path}: {} bytes\n", text.to_plain().len()));
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

const SCORE: &str = r#"
apiVersion: score.dev/v1b1
metadata: {name: web}
containers:
  main:
    image: nginx
    variables: {DB_HOST: "${resources.db.host}"}
    files: {/etc/motd: {source: motd.txt}}
resources: {db: {type: postgres}}
"#;

const PROVISIONERS: &str = r#"
- uri: template://demo/postgres
  engine: minijinja
  type: postgres
  outputs: |
    host: pg-{{ id | replace(".", "-") }}
"#;

fn main() {
    let mut sources = MemorySources::default();
    sources.insert("motd.txt", "hello");
    let inputs = CompileInputs::new()
        .score_file("score.yaml", SCORE)
        .provisioner_file("mine.yaml", PROVISIONERS)
        .sources(sources);
    let compiled = compile(&Env, &inputs, State::with_seed("00")).expect("compiles");
    let text = String::from_utf8_lossy(&compiled.artefacts.files[0].content);
    assert_eq!(text, "web.main.DB_HOST=pg-web-db\n/etc/motd: 5 bytes\n");
    print!("{text}");
}
