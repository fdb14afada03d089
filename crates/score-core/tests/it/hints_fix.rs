//! Property (issue 25): take a valid Score file, apply random near-miss mutations from the hint
//! table (spec/hints.md: older Score forms, compose and Kubernetes forms, typos, lost
//! indentation), then apply the machine-applicable fixes the diagnostics carry, pass after pass,
//! as `score-gen fix` does. The result must load, mean exactly what the unmutated file means
//! (same document value), and carry no further machine-applicable fix (a fix is idempotent).
//!
//! Files are generated as text from a small model, so each mutation is rendered the way people
//! write it (not produced by editing the valid text).

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use proptest::prelude::*;
use score_core::diag::{apply_fixes, Fix};
use score_core::validate::hints::check_resource_types;
use score_core::{load_workload, Diagnostic, LoadOptions};

/// The resource types the fix loop treats as known (those of the default provisioners).
const KNOWN: &[&str] = &["environment", "mongodb", "postgres", "redis", "volume"];

#[derive(Debug, Clone)]
struct Model {
    name: String,
    container: String,
    image: String,
    /// Variable names and plain values (letters, so no quoting question arises).
    vars: Vec<(String, String)>,
    /// One numeric-looking variable (quoted in the valid form).
    port_var: Option<u16>,
    file: Option<String>,
    probe_path: Option<String>,
    port: Option<(u16, u16)>,
    db: Option<String>,
    env_res: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mutation {
    OldApiVersion,
    NameLostIndentation,
    ImageTypo,
    VariablesTypo,
    ComposeEnvironmentMap,
    ComposeEnvironmentList,
    K8sEnvList,
    UnquotedPort,
    FilesListWithPath,
    OlderProbes,
    TargetPortTypo,
    ServiceUnderContainers,
    Properties,
    PostgresqlType,
    EnvConfigType,
    DedentedImage,
    ContainerPorts,
}

use Mutation::*;

const ALL: &[Mutation] = &[
    OldApiVersion,
    NameLostIndentation,
    ImageTypo,
    VariablesTypo,
    ComposeEnvironmentMap,
    ComposeEnvironmentList,
    K8sEnvList,
    UnquotedPort,
    FilesListWithPath,
    OlderProbes,
    TargetPortTypo,
    ServiceUnderContainers,
    Properties,
    PostgresqlType,
    EnvConfigType,
    DedentedImage,
    ContainerPorts,
];

fn model() -> impl Strategy<Value = Model> {
    let label = "[a-z][a-z0-9]{1,7}";
    (
        label,
        label,
        "[a-z]{2,8}(:[1-9]\\.[0-9])?",
        prop::collection::btree_map("[A-Z][A-Z_]{1,6}", "[a-z][a-z0-9]{0,6}", 0..4),
        prop::option::of(1000u16..9000),
        prop::option::of("[a-z]{1,6}"),
        prop::option::of("[a-z]{1,6}"),
        prop::option::of((1u16..1000, 1000u16..9000)),
        prop::option::of("1[0-7]"),
        any::<bool>(),
    )
        .prop_map(
            |(name, container, image, vars, port_var, file, probe_path, port, db, env_res)| Model {
                name,
                container,
                image,
                vars: vars.into_iter().filter(|(k, _)| k != "PORT").collect(),
                port_var,
                file,
                probe_path,
                port,
                db,
                env_res,
            },
        )
}

/// The file, with the mutations in `m` rendered as people write them. Mutations that do not
/// apply to the model (no ports, no database) render nothing different.
fn render(x: &Model, m: &[Mutation]) -> String {
    let has = |k: Mutation| m.contains(&k);
    let mut s = String::new();
    s.push_str("# generated workload\n");
    s.push_str(if has(OldApiVersion) {
        "apiVersion: score.dev/v1beta1\n"
    } else {
        "apiVersion: score.dev/v1b1\n"
    });
    s.push_str("metadata:\n");
    if has(NameLostIndentation) {
        s.push_str(&format!("name: {}\n", x.name));
    } else {
        s.push_str(&format!("  name: {}\n", x.name));
    }
    s.push_str("containers:\n");
    s.push_str(&format!("  {}:\n", x.container));
    let image_key = if has(ImageTypo) { "imgae" } else { "image" };
    let mut vars: Vec<(String, String)> = x.vars.clone();
    if let Some(p) = x.port_var {
        vars.push(("PORT".into(), p.to_string()));
    }
    let dedent_image = has(DedentedImage) && !vars.is_empty() && !has(ImageTypo);
    if dedent_image {
        s.push_str(&format!("  {image_key}: {} # the image\n", x.image));
    } else {
        s.push_str(&format!("    {image_key}: {} # the image\n", x.image));
    }
    if !vars.is_empty() {
        let value = |k: &str, v: &str| -> String {
            if k == "PORT" && !has(UnquotedPort) {
                format!("\"{v}\"")
            } else {
                v.to_string()
            }
        };
        if has(K8sEnvList) {
            s.push_str("    env:\n");
            for (k, v) in &vars {
                s.push_str(&format!("      - name: {k}\n        value: \"{v}\"\n"));
            }
        } else if has(ComposeEnvironmentList) {
            s.push_str("    environment:\n");
            for (k, v) in &vars {
                s.push_str(&format!("      - {k}={v}\n"));
            }
        } else {
            let key = if has(ComposeEnvironmentMap) {
                "environment"
            } else if has(VariablesTypo) {
                "variable"
            } else {
                "variables"
            };
            s.push_str(&format!("    {key}:\n"));
            for (k, v) in &vars {
                s.push_str(&format!("      {k}: {}\n", value(k, v)));
            }
        }
    }
    if let Some(f) = &x.file {
        if has(FilesListWithPath) {
            s.push_str(&format!(
                "    files:\n      - path: /etc/{f}.conf\n        content: {f}\n"
            ));
        } else {
            s.push_str(&format!(
                "    files:\n      /etc/{f}.conf:\n        content: {f}\n"
            ));
        }
    }
    if let Some(p) = &x.probe_path {
        if has(OlderProbes) {
            s.push_str(&format!(
                "    probes:\n      liveness:\n        # the health endpoint\n        httpGet:\n          path: /{p}\n          port: 8080\n"
            ));
        } else {
            s.push_str(&format!(
                "    livenessProbe:\n      # the health endpoint\n      httpGet:\n        path: /{p}\n        port: 8080\n"
            ));
        }
    }
    if let (Some((port, target)), true) = (x.port, has(ContainerPorts)) {
        // compose's form, on the container.
        s.push_str(&format!("    ports:\n      - \"{port}:{target}\"\n"));
    }
    if let (Some((port, target)), false) = (x.port, has(ContainerPorts)) {
        let tp = if has(TargetPortTypo) {
            "targetport"
        } else {
            "targetPort"
        };
        if has(ServiceUnderContainers) {
            s.push_str(&format!(
                "  service:\n    ports:\n      web:\n        port: {port}\n        {tp}: {target}\n"
            ));
        } else {
            s.push_str(&format!(
                "service:\n  ports:\n    web:\n      port: {port}\n      {tp}: {target}\n"
            ));
        }
    }
    if x.db.is_some() || x.env_res {
        s.push_str("resources:\n");
    }
    if let Some(v) = &x.db {
        let ty = if has(PostgresqlType) {
            "postgresql"
        } else {
            "postgres"
        };
        let params = if has(Properties) {
            "properties"
        } else {
            "params"
        };
        s.push_str(&format!(
            "  db:\n    type: {ty}\n    {params}:\n      version: \"{v}\"\n"
        ));
    }
    if x.env_res {
        let ty = if has(EnvConfigType) {
            "env.config"
        } else {
            "environment"
        };
        s.push_str(&format!("  env:\n    type: {ty}\n"));
    }
    s
}

/// Every diagnostic of `text` with `score-gen fix`'s view: the loader's, then near-miss
/// resource types.
fn diagnose(text: &str) -> Vec<Diagnostic> {
    match load_workload("score.yaml", text.as_bytes(), &LoadOptions::default()) {
        Err(d) => d.0,
        Ok(loaded) => {
            let known: Vec<String> = KNOWN.iter().map(|s| s.to_string()).collect();
            check_resource_types(&loaded.document, &known)
        }
    }
}

fn machine_fixes(diags: &[Diagnostic]) -> Vec<&Fix> {
    diags
        .iter()
        .flat_map(|d| d.fixes.iter())
        .filter(|f| f.is_machine_applicable())
        .collect()
}

/// `score-gen fix`'s loop: apply the non-overlapping machine fixes until none applies.
fn fix(mut text: String) -> String {
    for _ in 0..8 {
        let diags = diagnose(&text);
        let (next, taken) = apply_fixes(&text, machine_fixes(&diags));
        if taken.is_empty() || next == text {
            break;
        }
        text = next;
    }
    text
}

fn value_of(text: &str) -> serde_json::Value {
    load_workload("score.yaml", text.as_bytes(), &LoadOptions::default())
        .unwrap_or_else(|d| panic!("does not load:\n{text}\n{d:?}"))
        .document
        .value
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn fix_restores_what_near_miss_mutations_break(
        x in model(),
        muts in prop::collection::vec(prop::sample::select(ALL), 1..5),
    ) {
        let valid = render(&x, &[]);
        let expected = value_of(&valid);
        let broken = render(&x, &muts);
        let fixed = fix(broken.clone());
        let got = load_workload("score.yaml", fixed.as_bytes(), &LoadOptions::default());
        prop_assert!(got.is_ok(), "mutations {muts:?}\n--- broken\n{broken}\n--- after fix\n{fixed}\n{:?}", got.err());
        prop_assert_eq!(value_of(&fixed), expected, "mutations {:?}\n--- broken\n{}\n--- after fix\n{}", muts, broken, fixed);
        // Comments survive; a second fix has nothing to do.
        prop_assert!(fixed.contains("# generated workload") && fixed.contains("# the image"));
        if x.probe_path.is_some() {
            prop_assert!(fixed.contains("# the health endpoint"));
        }
        prop_assert!(machine_fixes(&diagnose(&fixed)).is_empty(), "fixes left after fix:\n{fixed}");
    }
}

#[test]
fn every_mutation_is_a_problem_the_valid_file_does_not_have() {
    let x = Model {
        name: "web".into(),
        container: "main".into(),
        image: "nginx".into(),
        vars: vec![("MODE".into(), "prod".into())],
        port_var: Some(8080),
        file: Some("app".into()),
        probe_path: Some("healthz".into()),
        port: Some((80, 8080)),
        db: Some("16".into()),
        env_res: true,
    };
    let valid = render(&x, &[]);
    assert!(diagnose(&valid).is_empty(), "{valid}");
    for m in ALL {
        let broken = render(&x, &[*m]);
        assert_ne!(broken, valid, "{m:?} renders nothing different");
        assert!(
            !diagnose(&broken).is_empty(),
            "{m:?} is not reported:\n{broken}"
        );
        let fixed = fix(broken.clone());
        assert_eq!(value_of(&fixed), value_of(&valid), "{m:?}:\n{fixed}");
    }
}

/// An edit that breaks the text the way copy and paste does.
#[derive(Debug, Clone)]
enum Damage {
    /// Removes up to `n` leading spaces of line `line` (modulo the line count).
    Dedent { line: usize, n: usize },
    /// Adds `n` leading spaces.
    Indent { line: usize, n: usize },
    /// Inserts `text` at byte `at` (modulo the length, moved to a character boundary).
    Insert { at: usize, text: String },
    /// Deletes line `line`.
    DeleteLine { line: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1usize..5).prop_map(|(line, n)| Damage::Dedent { line, n }),
        (any::<usize>(), 1usize..5).prop_map(|(line, n)| Damage::Indent { line, n }),
        (any::<usize>(), "[ :#\\-\\n\"'{}\\[\\]é\\t]{1,3}")
            .prop_map(|(at, text)| Damage::Insert { at, text }),
        any::<usize>().prop_map(|line| Damage::DeleteLine { line }),
    ]
}

fn apply_damage(text: &str, d: &Damage) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    match d {
        Damage::Dedent { line, n: k } => {
            let l = &mut lines[line % n];
            let cut = l.len() - l.trim_start_matches(' ').len();
            *l = l[cut.min(*k)..].to_string();
        }
        Damage::Indent { line, n: k } => {
            let l = &mut lines[line % n];
            *l = format!("{}{l}", " ".repeat(*k));
        }
        Damage::DeleteLine { line } => {
            lines.remove(line % n);
        }
        Damage::Insert { at, text: ins } => {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            return format!("{}{ins}{}", &text[..at], &text[at..]);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Damaged files (lost indentation, stray characters, missing lines) on top of near-miss
    /// mutations: diagnosing and fixing never panics, every fix edit lies inside the text, and
    /// the fix loop ends with a text on which no further fix applies or that it cannot improve.
    #[test]
    fn diagnosing_and_fixing_damaged_files_never_panics(
        x in model(),
        muts in prop::collection::vec(prop::sample::select(ALL), 0..3),
        damages in prop::collection::vec(damage(), 1..4),
    ) {
        let mut text = render(&x, &muts);
        for d in &damages {
            text = apply_damage(&text, d);
        }
        for d in diagnose(&text) {
            for f in &d.fixes {
                for e in &f.edits {
                    prop_assert!(e.span.offset + e.span.len <= text.len());
                }
            }
        }
        let once = fix(text);
        let twice = fix(once.clone());
        prop_assert_eq!(once, twice, "a second fix changed the text");
    }
}
