//! score-gen for JavaScript: validate and compile Score workloads in the browser and in Node.
//!
//! This crate is a tool crate like the CLI: it may name the targets, and it picks one through
//! the one table [`TARGETS`]. Everything here is pure: no file system, no processes, no network,
//! no clock and no OS randomness. The caller passes every text in (Score files, provisioner
//! files, `files[].source` contents, the previous state) and the seed of a new state, so the same
//! inputs give the same bytes as the CLI.
//!
//! The Rust functions ([`validate`], [`compile`]) work on serde values and are unit-tested on the
//! host; the `wasm-bindgen` exports (module `js`, built only for `wasm32`) convert JavaScript
//! values to and from them. See `crates/score-wasm/README.md` for the JavaScript API.

// `Result<_, Diagnostic>` is score-core's error contract; the size is the price of spans.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use score_core::diag::SourceFile;
use score_core::input::MemorySources;
use score_core::{Code, CompileInputs, Diagnostic, Diagnostics, LoadOptions, State, Target};
use score_target_compose::{ComposeOptions, ComposeTarget};
use score_target_k8s::{K8sOptions, K8sTarget};
use score_target_terraform::{TerraformOptions, TerraformTarget};

#[cfg(target_arch = "wasm32")]
mod js;

/// A boxed target, as a row of [`TARGETS`] builds it.
pub type BoxedTarget = Box<dyn Target>;

/// One row of the target table.
pub struct TargetInfo {
    /// The name JavaScript passes as `target` (the CLI's subcommand name).
    pub name: &'static str,
    /// Builds the target from the caller's `targetOptions` (the target crate's typed options,
    /// as an object or as YAML text; absent: the defaults).
    pub build: fn(Option<&Value>) -> Result<BoxedTarget, Diagnostic>,
}

/// The targets: a new target is one row here.
pub const TARGETS: &[TargetInfo] = &[
    TargetInfo {
        name: "compose",
        build: |o| {
            Ok(Box::new(ComposeTarget::new(target_options::<
                ComposeOptions,
            >("compose", o)?)))
        },
    },
    TargetInfo {
        name: "k8s",
        build: |o| {
            Ok(Box::new(K8sTarget::new(target_options::<K8sOptions>(
                "k8s", o,
            )?)))
        },
    },
    TargetInfo {
        name: "terraform",
        build: |o| {
            Ok(Box::new(TerraformTarget::new(target_options::<
                TerraformOptions,
            >(
                "terraform", o
            )?)))
        },
    },
];

/// The table's names, in order.
pub fn target_names() -> Vec<&'static str> {
    TARGETS.iter().map(|t| t.name).collect()
}

fn usage(message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::Usage, message).with_help(help)
}

/// A target's typed options from an object or from YAML (JSON) text; unknown keys are errors.
fn target_options<O: DeserializeOwned + Default>(
    target: &str,
    value: Option<&Value>,
) -> Result<O, Diagnostic> {
    let bad = |e: String| {
        usage(
            format!("options.targetOptions are not {target} options: {e}"),
            format!("see the {target} target's options (the CLI's {target} flags, in snake_case)"),
        )
    };
    match value {
        None | Some(Value::Null) => Ok(O::default()),
        Some(Value::String(text)) => serde_saphyr::from_str(text).map_err(|e| bad(e.to_string())),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| bad(e.to_string())),
    }
}

/// A file passed in by the caller: its display name and its text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedText {
    /// Display name (used in diagnostics), e.g. `score.yaml`.
    pub name: String,
    /// The contents. Missing: an error (nothing is read from disk or fetched).
    #[serde(default)]
    pub text: Option<String>,
}

/// `options` of [`compile`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct CompileOptions {
    /// The seed of a new state (generated names and passwords derive from it).
    pub seed: Option<String>,
    /// The state a previous compile returned (its YAML text), to continue a project.
    pub state: Option<String>,
    /// `files[].source` contents, by path as written in the Score file.
    pub sources: BTreeMap<String, String>,
    /// The environment provisioners see (what the CLI takes from its own environment).
    pub environment: BTreeMap<String, String>,
    /// The target's typed options (an object, or YAML text).
    pub target_options: Option<Value>,
    /// Partial Score files deep-merged over every Score file before validation, in order (the
    /// CLI's `--override-file`); diagnostics about their values point into them.
    pub override_files: Vec<NamedText>,
    /// `PATH=VALUE` overrides applied after the files, in order (the CLI's
    /// `--override-property`; an empty VALUE deletes).
    pub override_properties: Vec<String>,
    /// Replaces every container image that is `.` (the CLI's `--image`).
    pub image: Option<String>,
}

/// One output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputFile {
    /// Relative path, e.g. `compose.yaml`.
    pub path: String,
    /// The contents when they are UTF-8.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The contents when they are not UTF-8 (a `Uint8Array` in JavaScript).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_bytes")]
    pub bytes: Option<Vec<u8>>,
    /// Unix permission bits, when the file needs them (a Score file's `mode`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

fn as_bytes<S: serde::Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_bytes(b),
        None => s.serialize_none(),
    }
}

/// What [`compile`] returns on success.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompileOutput {
    /// The target's files, the primary output first.
    pub files: Vec<OutputFile>,
    /// Directories to create (compose bind mounts), relative.
    pub directories: Vec<String>,
    /// The new state as YAML: pass it as `options.state` next time to keep generated values.
    pub state: String,
    /// What was provisioned for whom (the playground draws it).
    pub graph: Graph,
}

/// The resource graph of a compiled project: every workload, every provisioned resource and who
/// uses it. Lists are sorted (workloads by name, resources by uid), so it is deterministic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    /// The workloads.
    pub workloads: Vec<GraphWorkload>,
    /// The resources, by uid.
    pub resources: Vec<GraphResource>,
}

/// A workload of [`Graph`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphWorkload {
    /// `metadata.name`.
    pub name: String,
    /// Its containers, in the author's order.
    pub containers: Vec<String>,
}

/// A resource of [`Graph`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphResource {
    /// The uid, e.g. `postgres.default#hello.db`.
    pub uid: String,
    /// The resource type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The class (`default` when none is given).
    pub class: String,
    /// The provisioner entry that provisioned it (its uri).
    pub provisioner: String,
    /// Every (workload, resource name) that declares it.
    pub users: Vec<GraphUse>,
}

/// One declaration of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphUse {
    /// The workload.
    pub workload: String,
    /// The resource's name in that workload.
    pub resource: String,
}

fn graph(project: &score_core::target::ResolvedProject) -> Graph {
    let mut workloads: Vec<GraphWorkload> = project
        .workloads
        .iter()
        .map(|w| GraphWorkload {
            name: w.name.clone(),
            containers: w.containers.keys().cloned().collect(),
        })
        .collect();
    workloads.sort_by(|a, b| a.name.cmp(&b.name));
    let resources = project
        .resources()
        .map(|r| GraphResource {
            uid: r.uid.as_str().to_string(),
            kind: r.uid.kind().to_string(),
            class: r.uid.class().to_string(),
            provisioner: r.provisioner.clone(),
            users: r
                .users
                .iter()
                .map(|(w, n)| GraphUse {
                    workload: w.clone(),
                    resource: n.clone(),
                })
                .collect(),
        })
        .collect();
    Graph {
        workloads,
        resources,
    }
}

/// Every problem of one Score file, as the CLI's `validate --format json` lists them
/// (`Diagnostic::to_json`: code, message, help, file, line, column, pointer, related, fixes);
/// empty when the file is valid. `sources` are the `files[].source` contents.
pub fn validate(file_name: &str, bytes: &[u8], sources: &BTreeMap<String, String>) -> Vec<Value> {
    let options = LoadOptions {
        sources: Some(Arc::new(memory_sources(sources))),
        ..LoadOptions::default()
    };
    match score_core::load_workload(file_name, bytes, &options) {
        Ok(_) => Vec::new(),
        Err(diags) => to_json(&diags),
    }
}

fn memory_sources(sources: &BTreeMap<String, String>) -> MemorySources {
    let mut m = MemorySources::default();
    for (path, text) in sources {
        m.insert(path.clone(), text.as_bytes().to_vec());
    }
    m
}

/// The diagnostics as JSON objects (the CLI's `--format json` form).
pub fn to_json(diags: &Diagnostics) -> Vec<Value> {
    diags.iter().map(Diagnostic::to_json).collect()
}

fn texts(kind: &str, files: Vec<NamedText>) -> Result<Vec<(String, String)>, Diagnostic> {
    files
        .into_iter()
        .map(|f| match f.text {
            Some(text) => Ok((f.name, text)),
            None => Err(usage(
                format!("{kind} '{}' has no text", f.name),
                "this package reads no files and fetches no URLs: pass the contents as `text`",
            )),
        })
        .collect()
}

/// Compiles `score_files` for `target` (a name of [`TARGETS`]) with the user's
/// `provisioner_files` before the target's defaults. `cmd://` provisioners are never run.
pub fn compile(
    target: &str,
    score_files: Vec<NamedText>,
    provisioner_files: Vec<NamedText>,
    options: CompileOptions,
) -> Result<CompileOutput, Diagnostics> {
    let info = TARGETS.iter().find(|t| t.name == target).ok_or_else(|| {
        usage(
            format!("unknown target '{target}'"),
            format!("use one of: {}", target_names().join(", ")),
        )
    })?;
    let built = (info.build)(options.target_options.as_ref())?;
    let state = match (options.state, options.seed) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "options.seed and options.state are both given",
                "pass options.seed to start a project, or options.state (from a previous compile) to continue one",
            )
            .into())
        }
        (Some(text), None) => State::from_yaml("state", &text)?,
        (None, Some(seed)) if !seed.is_empty() => State::with_seed(seed),
        (None, _) => {
            return Err(usage(
                "options.seed is missing",
                "this package has no source of randomness: pass a seed (any non-empty string, e.g. random hex from crypto.getRandomValues) or the state of a previous compile",
            )
            .into())
        }
    };
    let mut inputs = CompileInputs::new().sources(memory_sources(&options.sources));
    for (name, text) in texts("override file", options.override_files)? {
        // Any YAML value here: the loader says what an override file must be (a mapping).
        let source = Arc::new(SourceFile::new(name, text.clone()));
        inputs
            .load
            .override_files
            .push(score_core::load::yaml::parse_any(
                source,
                text.as_bytes(),
                &inputs.load.limits,
            )?);
    }
    inputs.load.override_properties = options.override_properties;
    inputs.load.image = options.image;
    for (name, text) in texts("score file", score_files)? {
        inputs = inputs.score_file(name, text);
    }
    for (name, text) in texts("provisioner file", provisioner_files)? {
        inputs = inputs.provisioner_file(name, text);
    }
    inputs.provision.environment = options.environment.into_iter().collect();
    let compiled = score_core::compile(built.as_ref(), &inputs, state)?;
    let artefacts = compiled.artefacts;
    let files = artefacts
        .files
        .iter()
        .map(|f| {
            let (path, bytes) = (&f.path, &f.content);
            let (text, bytes) = match String::from_utf8(bytes.clone()) {
                Ok(t) => (Some(t), None),
                Err(e) => (None, Some(e.into_bytes())),
            };
            OutputFile {
                path: path.display().to_string(),
                text,
                bytes,
                mode: artefacts.modes.get(path).copied(),
            }
        })
        .collect();
    Ok(CompileOutput {
        files,
        directories: artefacts
            .directories
            .iter()
            .map(|d| d.display().to_string())
            .collect(),
        state: compiled.state.to_yaml(),
        graph: graph(&compiled.project),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "apiVersion: score.dev/v1b1\nmetadata:\n  name: hello\ncontainers:\n  main:\n    image: nginx:1.27\n";

    fn file(name: &str, text: &str) -> NamedText {
        NamedText {
            name: name.into(),
            text: Some(text.into()),
        }
    }

    fn seeded() -> CompileOptions {
        CompileOptions {
            seed: Some("test-seed".into()),
            ..Default::default()
        }
    }

    #[test]
    fn validate_reports_code_line_column_and_help() {
        assert!(validate("score.yaml", HELLO.as_bytes(), &BTreeMap::new()).is_empty());
        let broken = HELLO.replace("image: nginx:1.27", "image: [nginx]");
        let d = validate("score.yaml", broken.as_bytes(), &BTreeMap::new());
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0]["file"], "score.yaml");
        assert_eq!(d[0]["line"], 6);
        assert_eq!(d[0]["column"], 12);
        assert_eq!(d[0]["message"], "expected a string, found a list");
        assert!(d[0]["code"].as_str().unwrap().starts_with("score::"));
    }

    #[test]
    fn validate_reads_sources_from_the_caller() {
        let with_source =
            format!("{HELLO}    files:\n      /etc/x.conf:\n        source: x.conf\n");
        let missing = validate("score.yaml", with_source.as_bytes(), &BTreeMap::new());
        assert!(
            missing[0]["message"].as_str().unwrap().contains("x.conf"),
            "{missing:?}"
        );
        let given = BTreeMap::from([("x.conf".to_string(), "a=1\n".to_string())]);
        assert!(validate("score.yaml", with_source.as_bytes(), &given).is_empty());
    }

    #[test]
    fn every_target_of_the_table_compiles_hello_deterministically() {
        for t in TARGETS {
            let a = compile(t.name, vec![file("score.yaml", HELLO)], vec![], seeded())
                .unwrap_or_else(|d| panic!("{}: {d}", t.name));
            let b = compile(t.name, vec![file("score.yaml", HELLO)], vec![], seeded()).unwrap();
            assert_eq!(a, b, "{}", t.name);
            let primary = a.files[0].text.as_deref().unwrap();
            assert!(primary.contains("nginx:1.27"), "{}: {primary}", t.name);
            assert!(a.state.contains("\"seed\": \"test-seed\""), "{}", a.state);
        }
    }

    #[test]
    fn the_state_continues_a_project_and_excludes_a_second_seed() {
        let score = format!("{HELLO}resources:\n  db:\n    type: postgres\n");
        // A state is read back only with a seed of 16 characters or more (score-core's rule).
        let long = CompileOptions {
            seed: Some("0123456789abcdef".into()),
            ..Default::default()
        };
        let first = compile("compose", vec![file("score.yaml", &score)], vec![], long).unwrap();
        let again = CompileOptions {
            state: Some(first.state.clone()),
            ..Default::default()
        };
        let second = compile("compose", vec![file("score.yaml", &score)], vec![], again).unwrap();
        assert_eq!(first.files, second.files);
        let both = CompileOptions {
            state: Some(first.state),
            seed: Some("x".into()),
            ..Default::default()
        };
        let err = compile("compose", vec![file("score.yaml", &score)], vec![], both).unwrap_err();
        assert_eq!(err.iter().next().unwrap().code, Code::Usage);
        // A different seed gives different generated values (the password of the database).
        let other = CompileOptions {
            seed: Some("other-seed".into()),
            ..Default::default()
        };
        let third = compile("compose", vec![file("score.yaml", &score)], vec![], other).unwrap();
        assert_ne!(first.files, third.files);
    }

    #[test]
    fn no_seed_unknown_target_and_missing_text_are_usage_errors() {
        let code =
            |r: Result<CompileOutput, Diagnostics>| r.unwrap_err().iter().next().unwrap().code;
        let hello = || vec![file("score.yaml", HELLO)];
        assert_eq!(
            code(compile(
                "compose",
                hello(),
                vec![],
                CompileOptions::default()
            )),
            Code::Usage
        );
        let err = compile("helm", hello(), vec![], seeded()).unwrap_err();
        assert!(err.to_string().contains("helm"), "{err}");
        assert!(err
            .iter()
            .next()
            .unwrap()
            .help
            .as_deref()
            .unwrap()
            .contains("compose, k8s, terraform"));
        let remote = NamedText {
            name: "https://example.com/p.yaml".into(),
            text: None,
        };
        let err = compile("compose", hello(), vec![remote], seeded()).unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(d.code, Code::Usage);
        assert!(
            d.help.as_deref().unwrap().contains("fetches no URLs"),
            "{d:?}"
        );
    }

    #[test]
    fn target_options_come_as_an_object_or_as_yaml() {
        let ns = |o: Value| {
            let opts = CompileOptions {
                target_options: Some(o),
                ..seeded()
            };
            compile("k8s", vec![file("score.yaml", HELLO)], vec![], opts)
        };
        let obj = ns(serde_json::json!({"namespace": "shop", "generate_namespace": true})).unwrap();
        let yaml = ns(Value::String(
            "namespace: shop\ngenerate_namespace: true\n".into(),
        ))
        .unwrap();
        assert_eq!(obj, yaml);
        assert!(obj.files[0]
            .text
            .as_deref()
            .unwrap()
            .contains("namespace: shop"));
        let err = ns(serde_json::json!({"namespaces": "x"})).unwrap_err();
        assert!(err.to_string().contains("namespaces"), "{err}");
    }

    #[test]
    fn a_cmd_provisioner_is_refused_not_run() {
        let score = format!("{HELLO}resources:\n  db:\n    type: thing\n");
        let cmd = "- uri: cmd:///bin/sh#x\n  type: thing\n  args: [\"-c\", \"echo ran\"]\n";
        let err = compile(
            "compose",
            vec![file("score.yaml", &score)],
            vec![file("p.provisioners.yaml", cmd)],
            seeded(),
        )
        .unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(d.code, Code::ProvisionCommandDenied, "{err}");
    }

    #[test]
    fn sources_and_environment_reach_the_output() {
        let score = format!(
            "{HELLO}    variables:\n      GREETING: ${{resources.env.GREETING}}\n    files:\n      /etc/x.conf:\n        source: x.conf\nresources:\n  env:\n    type: environment\n"
        );
        let opts = CompileOptions {
            sources: BTreeMap::from([("x.conf".into(), "listen 8080\n".into())]),
            environment: BTreeMap::from([("GREETING".into(), "hi".into())]),
            ..seeded()
        };
        let out = compile("k8s", vec![file("score.yaml", &score)], vec![], opts).unwrap();
        let text = out.files[0].text.as_deref().unwrap();
        assert_eq!(out.graph.workloads[0].name, "hello");
        assert_eq!(out.graph.resources.len(), 1, "{:?}", out.graph);
        assert_eq!(out.graph.resources[0].kind, "environment");
        assert_eq!(out.graph.resources[0].users[0].resource, "env");
        assert!(text.contains("listen 8080"), "{text}");
        assert!(text.contains("value: hi"), "{text}");
    }

    #[test]
    fn override_files_and_properties_apply_in_order_and_point_into_their_file() {
        let opts = CompileOptions {
            override_files: vec![file(
                "overrides.yaml",
                "containers:\n  main:\n    image: busybox:1.37\n",
            )],
            override_properties: vec!["containers.main.command=[\"sleep\"]".into()],
            ..seeded()
        };
        let out = compile("compose", vec![file("score.yaml", HELLO)], vec![], opts).unwrap();
        let text = out.files[0].text.as_deref().unwrap();
        assert!(text.contains("image: busybox:1.37"), "{text}");
        assert!(text.contains("sleep"), "{text}");
        let bad = CompileOptions {
            override_files: vec![file("overrides.yaml", "- a\n")],
            ..seeded()
        };
        let err = compile("compose", vec![file("score.yaml", HELLO)], vec![], bad).unwrap_err();
        let d = to_json(&err);
        assert_eq!(d[0]["file"], "overrides.yaml", "{d:?}");
        assert_eq!(
            (d[0]["line"].clone(), d[0]["column"].clone()),
            (1.into(), 1.into())
        );
    }
}
