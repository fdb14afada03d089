//! score-gen's test kit: a dev-only crate (`publish = false`, only ever a `[dev-dependencies]`
//! entry) that the workspace's test binaries share instead of including files by path.
//!
//! * the crate root: the fixture cases of the target crates (below);
//! * `compose`, `k8s`, `terraform` (features of the same names): each target's side of it (its
//!   cases, compile helpers and the real validators), asked for by that target's tests;
//! * [`scan`]: the source scan of the architecture tests (score-core's and score-cli's);
//! * [`cli`]: the one way the CLI's tests start an executable of score-cli ([`bin!`]).
//!
//! One fixture convention for every target: `testdata/<target>/<case>/` holds the inputs
//! * `score*.yaml`: the workloads, compiled in file-name order;
//! * `overrides.yaml` (optional): merged into `score.yaml` as `--overrides-file` does;
//! * `provisioners.yaml` (optional): a user provisioner file, before the target's defaults;
//! * `options.yaml` (optional): the target's typed options (serde, unknown keys are an error);
//! * `environment.yaml` (optional): a mapping of variable → value, the environment the run is
//!   given (`ProvisionOptions::environment`, what the CLI fills from its own);
//!
//! and, beside them, the expected output: one insta snapshot named after the target's primary
//! artefact (`compose.yaml.snap`, `manifests.yaml.snap`, `main.tf.snap`). Any other file in a
//! case folder is an error, and so is a snapshot that belongs to no case.
//!
//! [`run`] turns every case folder into its own test (libtest-mimic), so a failure names its case,
//! and adds the fixture-tree checks above as tests of their own.

pub mod cli;
#[cfg(feature = "compose")]
pub mod compose;
#[cfg(feature = "k8s")]
pub mod k8s;
pub mod scan;
#[cfg(feature = "terraform")]
pub mod terraform;

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use score_core::{compile, CompileInputs, Compiled, Diagnostics, State, Target};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The workspace root: the nearest directory above this crate that holds `Cargo.lock`.
pub fn workspace_root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = dir
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .unwrap_or(dir);
    std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf())
}

/// `testdata/<target>/`.
pub fn cases_dir(target: &str) -> PathBuf {
    workspace_root().join("testdata").join(target)
}

/// The case folders of `testdata/<target>/`, sorted; none at all is a failure.
pub fn case_names(target: &str) -> Vec<String> {
    let dir = cases_dir(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixture directory {} is missing: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures in {}", dir.display());
    names
}

/// One fixture folder, read.
#[derive(Clone, Debug)]
pub struct Case<O> {
    pub name: String,
    /// The case folder, where its snapshot lives too.
    pub dir: PathBuf,
    pub scores: Vec<(String, String)>,
    pub provisioners: Vec<(String, String)>,
    pub options: O,
    /// `environment.yaml`: the environment the run is given.
    pub environment: Vec<(String, String)>,
}

impl<O> Case<O> {
    /// The case's inputs for [`score_core::compile`].
    pub fn inputs(&self) -> CompileInputs {
        CompileInputs {
            score_files: self
                .scores
                .iter()
                .map(|(name, text)| score_core::input::ScoreFile {
                    name: name.clone(),
                    text: text.clone(),
                })
                .collect(),
            provisioner_files: self
                .provisioners
                .iter()
                .map(|(name, text)| score_core::input::ProvisionerFile::new(name, text))
                .collect(),
            provision: score_core::ProvisionOptions {
                environment: self.environment.iter().cloned().collect(),
                ..Default::default()
            },
            ..CompileInputs::default()
        }
    }
}

/// Whether `file` may sit in a case folder whose snapshot is `snapshot` (e.g. `compose.yaml`).
fn is_fixture_file(file: &str, snapshot: &str) -> bool {
    (file.starts_with("score") && file.ends_with(".yaml"))
        || matches!(
            file,
            "provisioners.yaml" | "options.yaml" | "overrides.yaml" | "environment.yaml"
        )
        || file == format!("{snapshot}.snap")
}

/// Reads `testdata/<target>/<name>/`; panics on a file the convention does not know.
pub fn load_case<O: DeserializeOwned + Default>(target: &str, name: &str) -> Case<O> {
    let dir = cases_dir(target).join(name);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("case {}: {e}", dir.display()))
        .map(|e| {
            e.expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    let mut scores = Vec::new();
    for f in files
        .iter()
        .filter(|n| n.starts_with("score") && n.ends_with(".yaml"))
    {
        let mut text = read(f).expect("score file is UTF-8");
        if f == "score.yaml"
            && let Some(o) = read("overrides.yaml")
        {
            let base: Value = serde_saphyr::from_str(&text).expect("score.yaml parses");
            let overlay: Value = serde_saphyr::from_str(&o).expect("overrides.yaml parses");
            let merged = score_core::load::overrides::merge_overrides_file(&base, &overlay);
            text = serde_saphyr::to_string(&merged).expect("merged score.yaml");
        }
        scores.push((f.clone(), text));
    }
    assert!(
        !scores.is_empty(),
        "case {} has no score*.yaml",
        dir.display()
    );
    assert!(
        read("overrides.yaml").is_none() || files.iter().any(|f| f == "score.yaml"),
        "case {}: overrides.yaml applies to score.yaml, which is missing",
        dir.display()
    );
    let provisioners = read("provisioners.yaml")
        .map(|t| vec![("provisioners.yaml".to_string(), t)])
        .unwrap_or_default();
    let options: O = read("options.yaml")
        .map(|s| {
            serde_saphyr::from_str(&s).unwrap_or_else(|e| {
                panic!("{}/options.yaml: not {target} options: {e}", dir.display())
            })
        })
        .unwrap_or_default();
    let environment: Vec<(String, String)> = read("environment.yaml")
        .map(|s| {
            let m: std::collections::BTreeMap<String, String> = serde_saphyr::from_str(&s)
                .unwrap_or_else(|e| {
                    panic!(
                        "{}/environment.yaml: not a map of strings: {e}",
                        dir.display()
                    )
                });
            m.into_iter().collect()
        })
        .unwrap_or_default();
    Case {
        name: name.to_string(),
        dir,
        scores,
        provisioners,
        options,
        environment,
    }
}

/// A state with the fixed seed, so generated names and passwords are byte-stable.
pub fn test_state() -> State {
    let mut st = State::new_random();
    st.seed = "test-seed".into();
    st
}

/// Compiles a case from `state`.
pub fn compile_with_state<O>(
    target: &dyn Target,
    case: &Case<O>,
    state: State,
) -> Result<Compiled, Diagnostics> {
    compile(target, &case.inputs(), state)
}

/// Compiles a case from the seeded state, or panics with its diagnostics.
pub fn must_compile<O>(target: &dyn Target, case: &Case<O>) -> Compiled {
    compile_with_state(target, case, test_state())
        .unwrap_or_else(|d| panic!("case {} failed:\n{d}", case.name))
}

/// Asserts `text` equals the case's snapshot `<case dir>/<snapshot>.snap`.
pub fn assert_case_snapshot<O>(case: &Case<O>, snapshot: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => case.dir.clone(),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(snapshot, text);
    });
}

/// A validator is not installed: a clear skip message locally, a failure under `CI`.
pub fn validator_missing(what: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is not installed, and CI is set: run `bash .ci/validators`");
    }
    eprintln!("SKIP: {what} is not installed; run `bash .ci/validators` to enable this check");
}

/// Every file under `testdata/<target>/` belongs to a case: a snapshot of a case folder that has
/// inputs, or an input; a case without its snapshot, a pending `.snap.new` or a stray snapshot
/// is a failure. Also: no snapshot folder is left in the target crate's `tests/`.
fn check_fixture_tree(target: &str, snapshot: &str) -> Result<(), Failed> {
    let mut problems = Vec::new();
    let root = cases_dir(target);
    for entry in std::fs::read_dir(&root).map_err(|e| format!("{}: {e}", root.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.is_dir() {
            problems.push(format!("{}: not in a case folder", path.display()));
            continue;
        }
        let mut has_input = false;
        let mut has_snapshot = false;
        for f in std::fs::read_dir(&path).map_err(|e| e.to_string())? {
            let f = f.map_err(|e| e.to_string())?;
            let name = f.file_name().to_string_lossy().into_owned();
            if f.path().is_dir() || !is_fixture_file(&name, snapshot) {
                problems.push(format!(
                    "{}: not part of the fixture convention (score*.yaml, overrides.yaml, \
                     provisioners.yaml, options.yaml, environment.yaml, {snapshot}.snap){}",
                    f.path().display(),
                    if name.ends_with(".snap.new") {
                        "; a pending snapshot: review it with `cargo insta review`"
                    } else {
                        ""
                    }
                ));
            }
            has_input |= name.starts_with("score") && name.ends_with(".yaml");
            has_snapshot |= name == format!("{snapshot}.snap");
        }
        if has_snapshot && !has_input {
            problems.push(format!("{}: a snapshot without a case", path.display()));
        }
        if has_input && !has_snapshot {
            problems.push(format!(
                "{}: a case without its snapshot {snapshot}.snap",
                path.display()
            ));
        }
    }
    let old = workspace_root()
        .join("crates/targets")
        .join(target)
        .join("tests/snapshots");
    if old.exists() {
        problems.push(format!(
            "{}: snapshots live beside their case in testdata/{target}/<case>/",
            old.display()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// Runs one test per case folder of `testdata/<target>/` (named `case::<name>`), the fixture-tree
/// check (`fixtures::tree`) and `extra` tests, with libtest's command line (filters, `--list`, …).
pub fn run(
    target: &'static str,
    snapshot: &'static str,
    check: fn(&str) -> Result<(), Failed>,
    extra: Vec<Trial>,
) -> ! {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = case_names(target)
        .into_iter()
        .map(|name| Trial::test(format!("case::{name}"), move || check(&name)))
        .collect();
    trials.push(Trial::test("fixtures::tree", move || {
        check_fixture_tree(target, snapshot)
    }));
    trials.extend(extra);
    libtest_mimic::run(&args, trials).exit()
}

/// `../shared/reference/peers/` beside the workspace (the Score ecosystem's own provisioner files).
/// Missing: a skip message locally (`None`), a failure under `CI`.
pub fn peers_dir() -> Option<PathBuf> {
    let dir = workspace_root().join("../shared/reference/peers");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "the ecosystem corpus {} is missing, and CI is set",
            dir.display()
        );
    }
    eprintln!(
        "SKIP: the ecosystem corpus {} is not beside the checkout",
        dir.display()
    );
    None
}

/// A case compiled with a reference tool's default provisioner file in front of the target's
/// own defaults: `Ok(None)` when some resource of the case is not served by that file (the case
/// is not a test of it), else the compiled result, every resource provisioned by the file.
pub fn compile_with_reference<O>(
    target: &dyn Target,
    case: &Case<O>,
    reference: &Path,
) -> Result<Option<Compiled>, String> {
    let text =
        std::fs::read_to_string(reference).map_err(|e| format!("{}: {e}", reference.display()))?;
    let name = reference
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let set =
        score_core::ProvisionerSet::load(&[score_core::input::ProvisionerFile::new(&name, &text)])
            .map_err(|d| format!("{name} does not load unchanged:\n{d}"))?;
    if !case.provisioners.is_empty() {
        return Ok(None);
    }
    let mut inputs = case.inputs();
    inputs.provisioner_files = vec![score_core::input::ProvisionerFile::new(&name, text)];
    let compiled = compile(target, &inputs, test_state()).map_err(|d| format!("{name}:\n{d}"))?;
    let ours: Vec<String> = compiled
        .project
        .resources()
        .filter(|r| !set.iter().any(|p| p.uri == r.provisioner))
        .map(|r| r.uid.to_string())
        .collect();
    Ok(ours.is_empty().then_some(compiled))
}

/// The trials that run a reference tool's default provisioner file (`reference`, relative to
/// [`peers_dir`]) on the target's own cases: `reference::<case>` for each case that file serves
/// entirely (compiled, then `check`ed by the real validator), and `reference::covers_every_type`
/// (every type the file serves is exercised by some case).
///
/// `refused` lists (case, part of the error, why) for cases that use what the reference file does
/// not offer (an output or param score-gen's own provisioner adds): their trial checks that the
/// compile fails with that error, so a change either way is noticed. `elsewhere` lists (type,
/// test) for types of the file that no case can use (score-gen has no provisioner of its own for
/// them) and that the named test covers instead.
pub fn reference_trials<O>(
    target: &'static str,
    reference: &'static str,
    make: fn(&O) -> Box<dyn Target>,
    check: fn(&str, &Compiled) -> Result<(), String>,
    refused: &'static [(&'static str, &'static str, &'static str)],
    elsewhere: &'static [(&'static str, &'static str)],
) -> Vec<Trial>
where
    O: DeserializeOwned + Default + Clone + Send + 'static,
{
    let compiled = move |name: &str, peers: &Path| {
        let case: Case<O> = load_case(target, name);
        compile_with_reference(make(&case.options).as_ref(), &case, &peers.join(reference))
    };
    let mut trials: Vec<Trial> = case_names(target)
        .into_iter()
        .map(|name| {
            Trial::test(format!("reference::{name}"), move || {
                let Some(peers) = peers_dir() else {
                    return Ok(());
                };
                if let Some((_, part, why)) = refused.iter().find(|(c, _, _)| *c == name) {
                    return match compiled(&name, &peers) {
                        Err(e) if e.contains(part) => Ok(()),
                        Err(e) => Err(format!(
                            "expected an error with '{part}' ({why}), got:\n{e}"
                        )
                        .into()),
                        Ok(_) => Err(format!(
                            "expected an error with '{part}' ({why}); it compiled"
                        )
                        .into()),
                    };
                }
                match compiled(&name, &peers)? {
                    Some(c) => Ok(check(&name, &c)?),
                    None => {
                        eprintln!("{name}: not every resource is served by {reference}");
                        Ok(())
                    }
                }
            })
        })
        .collect();
    trials.push(Trial::test("reference::covers_every_type", move || {
        let Some(peers) = peers_dir() else {
            return Ok(());
        };
        let text = std::fs::read_to_string(peers.join(reference))?;
        let set = score_core::ProvisionerSet::load(&[score_core::input::ProvisionerFile::new(
            "reference",
            text,
        )])
        .map_err(|d| d.to_string())?;
        let mut covered = std::collections::BTreeSet::new();
        for name in case_names(target) {
            if let Ok(Some(c)) = compiled(&name, &peers) {
                covered.extend(c.project.resources().map(|r| r.uid.kind().to_string()));
            }
        }
        let missing: std::collections::BTreeSet<&str> = set
            .iter()
            .map(|p| p.kind.as_str())
            .filter(|k| !covered.contains(*k) && !elsewhere.iter().any(|(t, _)| t == k))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("types of {reference} that no case compiles through: {missing:?}").into())
        }
    }));
    trials
}
