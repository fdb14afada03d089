//! Environment references (`score_core::Environment`): an expression output whose value is `${K}`
//! for its own key `K` is read from the environment the caller passes in — in resource params and
//! file contents always, in variables and volume sources unless the target interpolates it when
//! deployed (`Target::interpolates_environment`). The library never reads its own process
//! environment.

use score_core::target::{Artefacts, FileContent, ResolvedProject, VolumeSource};
use score_core::State;
use score_core::{
    compile, Code, CompileInputs, Diagnostics, Environment, ProvisionOptions, Target,
};

/// A target whose output lists variables (with their expression mark), file contents, volume
/// sources and each resource's params.
struct EnvTarget {
    interpolates: bool,
}

const PROVISIONERS: &str = r#"
- uri: template://test/environment
  engine: minijinja
  type: environment
  expression_outputs: ["*"]
  outputs: |
    { {% for k in requested_outputs %}{{ k | quote }}: {{ ("${" ~ k ~ "}") | quote }}{% if not loop.last %}, {% endif %}{% endfor %} }
- uri: template://test/other-name
  engine: minijinja
  type: other-name
  expression_outputs: ["*"]
  outputs: |
    { {% for k in requested_outputs %}{{ k | quote }}: "${HOME}"{% if not loop.last %}, {% endif %}{% endfor %} }
- uri: template://test/literal
  engine: minijinja
  type: literal
  outputs: |
    { {% for k in requested_outputs %}{{ k | quote }}: {{ ("${" ~ k ~ "}") | quote }}{% if not loop.last %}, {% endif %}{% endfor %} }
- uri: template://test/echo
  engine: minijinja
  type: echo
"#;

impl Target for EnvTarget {
    fn name(&self) -> &'static str {
        "test"
    }
    fn default_provisioners(&self) -> &'static str {
        PROVISIONERS
    }
    fn context(&self) -> serde_json::Value {
        serde_json::json!({"name": "test"})
    }
    fn interpolates_environment(&self) -> bool {
        self.interpolates
    }
    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
        let mut out = String::new();
        for w in &project.workloads {
            for rc in w.containers.values() {
                for (k, v) in &rc.variables {
                    out.push_str(&format!(
                        "var {k}={} expression={}\n",
                        v.to_plain(),
                        v.has_expression()
                    ));
                }
                for (k, f) in &rc.files {
                    if let FileContent::Text(t) = &f.content {
                        out.push_str(&format!("file {k}={}\n", t.to_plain()));
                    }
                }
                for (k, v) in &rc.volumes {
                    if let VolumeSource::Other(r) = &v.source {
                        out.push_str(&format!("volume {k}={}\n", r.to_plain()));
                    }
                }
            }
        }
        for r in project.resources() {
            if !r.params.is_empty() {
                out.push_str(&format!(
                    "params {}={}\n",
                    r.uid,
                    serde_json::Value::Object(r.params.clone())
                ));
            }
        }
        Ok(Artefacts {
            files: vec![score_core::target::ArtefactFile::new("out.txt", out)],
            ..Artefacts::default()
        })
    }
}

const SCORE: &str = r#"apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: app:1
    variables:
      LEVEL: ${resources.env.LOG_LEVEL}
      URL: http://${resources.env.HOST}:80
    files:
      /etc/app.conf:
        content: "level=${resources.env.LOG_LEVEL}"
    volumes:
      /data:
        source: ${resources.env.VOLUME}
resources:
  env: {type: environment}
  other: {type: echo, params: {size: "${resources.env.SIZE}", n: 1}}
"#;

fn seeded() -> State {
    let mut s = State::new_random();
    s.seed = "test-seed".into();
    s
}

fn run(score: &str, interpolates: bool, vars: &[(&str, &str)]) -> Result<String, Diagnostics> {
    let inputs = CompileInputs::new()
        .score_file("score.yaml", score)
        .provision_options(ProvisionOptions {
            environment: vars.iter().copied().collect(),
            ..ProvisionOptions::default()
        });
    let c = compile(&EnvTarget { interpolates }, &inputs, seeded())?;
    Ok(String::from_utf8(c.artefacts.files[0].content.clone()).expect("utf-8"))
}

const ALL: &[(&str, &str)] = &[
    ("LOG_LEVEL", "debug"),
    ("HOST", "api"),
    ("VOLUME", "data-vol"),
    ("SIZE", "5Gi"),
];

#[test]
fn a_target_that_does_not_interpolate_reads_every_reference_now() {
    let out = run(SCORE, false, ALL).expect("compiles");
    assert_eq!(
        out,
        "var LEVEL=debug expression=false\n\
         var URL=http://api:80 expression=false\n\
         file /etc/app.conf=level=debug\n\
         volume /data=data-vol\n\
         params echo.default#app.other={\"size\":\"5Gi\",\"n\":1}\n"
    );
}

#[test]
fn a_target_that_interpolates_keeps_variables_and_volumes_but_reads_params_and_files() {
    // HOST and VOLUME are not needed: the target's own deploy step reads them.
    let out = run(SCORE, true, &[("LOG_LEVEL", "debug"), ("SIZE", "5Gi")]).expect("compiles");
    assert_eq!(
        out,
        "var LEVEL=${LOG_LEVEL} expression=true\n\
         var URL=http://${HOST}:80 expression=true\n\
         file /etc/app.conf=level=debug\n\
         volume /data=${VOLUME}\n\
         params echo.default#app.other={\"size\":\"5Gi\",\"n\":1}\n"
    );
}

#[test]
fn an_unset_variable_is_an_error_at_each_reference() {
    let d = run(SCORE, false, &[("SIZE", "5Gi"), ("VOLUME", "v")]).expect_err("unset");
    let got: Vec<(Code, String, String)> =
        d.0.iter()
            .map(|d| (d.code, d.location(), d.message.clone()))
            .collect();
    let unset = |at: &str, var: &str| {
        (
            Code::SubstituteEnvironmentUnset,
            at.to_string(),
            format!("invalid ref 'resources.env.{var}': environment variable '{var}' is not set"),
        )
    };
    assert_eq!(
        got,
        vec![
            unset("score.yaml:7:14", "LOG_LEVEL"),
            unset("score.yaml:8:19", "HOST"),
            unset("score.yaml:11:25", "LOG_LEVEL"),
        ]
    );
    assert!(d.0[0]
        .help
        .as_deref()
        .unwrap_or("")
        .contains("set LOG_LEVEL in the environment"));

    // In params the error comes first (they are read while provisioning), at the param.
    let d = run(SCORE, true, &[("LOG_LEVEL", "x")]).expect_err("SIZE unset");
    assert_eq!(d.0.len(), 1);
    assert_eq!(d.0[0].code, Code::SubstituteEnvironmentUnset);
    assert_eq!(d.0[0].location(), "score.yaml:17:39");
    assert_eq!(
        d.0[0].message,
        "resource 'echo.default#app.other': params: size: invalid ref 'resources.env.SIZE': environment variable 'SIZE' is not set"
    );
}

#[test]
fn only_the_key_the_score_file_names_is_read() {
    // A provisioner that answers `${HOME}` for every key does not make HOME readable; one that
    // answers `${K}` without marking it an expression is literal text.
    let score = r#"apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: app:1
    variables:
      A: ${resources.oo.TOKEN}
      B: ${resources.ll.TOKEN}
resources:
  oo: {type: other-name}
  ll: {type: literal}
"#;
    let out = run(score, false, &[("HOME", "/root"), ("TOKEN", "t")]).expect("compiles");
    assert_eq!(
        out,
        "var A=${HOME} expression=true\nvar B=${TOKEN} expression=false\n"
    );
}

#[test]
fn the_library_reads_no_process_environment() {
    // PATH is set in any test process; the library's default environment is empty.
    let score = "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers: {main: {image: a, variables: {P: '${resources.env.PATH}'}}}\nresources: {env: {type: environment}}\n";
    let d = compile(
        &EnvTarget {
            interpolates: false,
        },
        &CompileInputs::new().score_file("score.yaml", score),
        seeded(),
    )
    .expect_err("PATH is not in the (empty) environment");
    assert_eq!(d.0[0].code, Code::SubstituteEnvironmentUnset);
}

#[test]
fn environment_debug_shows_names_only() {
    let mut env = Environment::new();
    env.set("TOKEN", "s3cret");
    assert!(!format!("{env:?}").contains("s3cret"));
    assert!(!format!(
        "{:?}",
        ProvisionOptions {
            environment: env,
            ..ProvisionOptions::default()
        }
    )
    .contains("s3cret"));
}
