//! The CI recipes of docs/ci.md (docs/ci/github-actions.yml, docs/ci/gitlab-ci.yml), parsed and
//! run as written against a fixture repository: every GitHub `run:` step and every GitLab job's
//! `script:` in `bash -eo pipefail`, as a pull request and as a push to the main branch.
//! Not run: the install steps (the built score-gen is put on PATH instead) and `uses:` steps.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_file(rel: &str) -> (String, Value) {
    let text = std::fs::read_to_string(workspace().join(rel)).unwrap();
    let value = serde_saphyr::from_str(&text).unwrap();
    (text, value)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Event {
    PullRequest,
    Push,
}

/// One script a recipe runs: (name, shell text).
type Script = (String, String);

/// The `run:` steps of the GitHub workflow that run for `event`, and the workflow's `env`.
fn github_steps(event: Event) -> (Vec<Script>, BTreeMap<String, String>) {
    let (_, wf) = yaml_file("docs/ci/github-actions.yml");
    let env = strings(&wf["env"]);
    let mut out = Vec::new();
    let jobs = wf["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 1, "one job");
    for step in jobs.values().next().unwrap()["steps"].as_array().unwrap() {
        let Some(run) = step["run"].as_str() else {
            assert!(step["uses"].is_string(), "a step runs or uses: {step}");
            continue;
        };
        let name = step["name"].as_str().unwrap().to_string();
        if name == "Install score-gen" {
            assert!(run.contains("cargo install --locked"), "{run}");
            continue;
        }
        let runs = match step["if"].as_str() {
            None => true,
            Some("github.event_name == 'pull_request'") => event == Event::PullRequest,
            Some("github.event_name == 'push'") => event == Event::Push,
            Some(other) => panic!("the test does not know the condition {other:?}"),
        };
        if runs {
            out.push((name, run.to_string()));
        }
    }
    (out, env)
}

/// The jobs of the GitLab pipeline that run for `event` (their `script:` lines joined), in
/// stage order, and the pipeline's `variables`.
fn gitlab_jobs(event: Event) -> (Vec<Script>, BTreeMap<String, String>) {
    let (_, ci) = yaml_file("docs/ci/gitlab-ci.yml");
    let vars = strings(&ci["variables"]);
    let before = ci["default"]["before_script"].as_array().unwrap();
    assert!(
        before.len() == 1
            && before[0]
                .as_str()
                .unwrap()
                .contains("cargo install --locked")
    );
    let stages: Vec<&str> = ci["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let mut out = Vec::new();
    for stage in stages {
        for (name, job) in ci.as_object().unwrap() {
            if job.get("stage").and_then(Value::as_str) != Some(stage) {
                continue;
            }
            let runs = match job.get("rules").and_then(|r| r[0]["if"].as_str()) {
                None => true,
                Some(r#"$CI_PIPELINE_SOURCE == "merge_request_event""#) => {
                    event == Event::PullRequest
                }
                Some("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH") => event == Event::Push,
                Some(other) => panic!("the test does not know the rule {other:?}"),
            };
            if runs {
                let lines: Vec<&str> = job["script"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap())
                    .collect();
                out.push((name.clone(), lines.join("\n")));
            }
        }
    }
    (out, vars)
}

fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// Runs `script` as the runners do: `bash --noprofile --norc -eo pipefail`, in `dir`.
fn run_script(dir: &Path, script: &str, env: &BTreeMap<String, String>) -> Output {
    Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .envs(env)
        .env("PATH", common::tools_path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Runs the recipe's scripts for `event` in order, stopping at the first failure (as a job
/// does): each script's name and output.
fn run_recipe(recipe: &str, event: Event, dir: &Path) -> Vec<(String, Output)> {
    let (scripts, env) = match recipe {
        "github" => github_steps(event),
        _ => gitlab_jobs(event),
    };
    let mut out = Vec::new();
    for (name, script) in scripts {
        let o = run_script(dir, &script, &env);
        let failed = !o.status.success();
        out.push((name, o));
        if failed {
            break;
        }
    }
    out
}

fn all_ok(results: &[(String, Output)], what: &str) {
    for (name, o) in results {
        assert!(
            o.status.success(),
            "{what}: step {name:?} exit {:?}\n{}{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        );
    }
}

/// The step that failed (the last one run), with its output.
fn failed<'a>(results: &'a [(String, Output)], what: &str) -> &'a (String, Output) {
    let last = results.last().unwrap();
    assert!(!last.1.status.success(), "{what}: nothing failed");
    last
}

const WEB: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx:1.27
    variables:
      LOG_LEVEL: info
      DB: postgres://${resources.db.username}:${resources.db.password}@${resources.db.host}
resources:
  db:
    type: postgres
";

const API: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: ghcr.io/example/api:1.0
service:
  ports:
    http:
      port: 80
      targetPort: 8080
";

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Every file under `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// What a developer runs once (docs/ci.md): the main-branch step without --locked.
fn developer_run(recipe: &str, dir: &Path) {
    let (scripts, env) = match recipe {
        "github" => github_steps(Event::Push),
        _ => gitlab_jobs(Event::Push),
    };
    let (_, script) = scripts.last().unwrap();
    assert!(script.contains("--locked"), "{script}");
    let o = run_script(dir, &script.replace("--locked ", ""), &env);
    ok(&o);
}

fn exercise(recipe: &str) {
    let root = tempfile::tempdir().unwrap();
    let d = root.path();
    write(d, "services/web/score.yaml", WEB);
    write(
        d,
        "services/web/overrides/prod.yaml",
        "containers:\n  main:\n    variables:\n      LOG_LEVEL: warn\n",
    );
    write(d, "services/api/score.yaml", API);

    // No committed state: --locked refuses and writes nothing.
    let before = files(d);
    let results = run_recipe(recipe, Event::Push, d);
    let (name, o) = failed(&results, "push without state");
    assert!(name.starts_with("Generate") || name == "generate", "{name}");
    assert!(
        stderr(o).contains("there is no state file"),
        "{}",
        stderr(o)
    );
    assert_eq!(files(d), before, "push without state wrote something");

    // The developer commits state and manifests.
    developer_run(recipe, d);
    for env in ["staging", "prod"] {
        let m = read(d, &format!("deploy/{env}/manifests.yaml"));
        assert!(m.contains(&format!("namespace: {env}")), "{m}");
        let level = if env == "prod" { "warn" } else { "info" };
        assert!(
            m.contains(&format!("value: {level}")),
            "{env}: LOG_LEVEL {level}\n{m}"
        );
        assert!(m.contains("name: api"), "{m}");
    }
    let committed = files(d);

    // Up to date: the pull request passes, the push regenerates the same bytes.
    let results = run_recipe(recipe, Event::PullRequest, d);
    all_ok(&results, "pull request, up to date");
    assert_eq!(results.len(), 2, "validate and check");
    assert_eq!(files(d), committed, "a pull request run wrote something");
    all_ok(&run_recipe(recipe, Event::Push, d), "push, up to date");
    let lock_free = |f: BTreeMap<PathBuf, Vec<u8>>| -> BTreeMap<PathBuf, Vec<u8>> {
        f.into_iter()
            .filter(|(p, _)| !p.ends_with(".lock"))
            .collect()
    };
    assert_eq!(lock_free(files(d)), lock_free(committed.clone()));

    // An edited workload: the pull request fails with a diff for each environment; the push
    // (not a state change) regenerates.
    write(
        d,
        "services/web/score.yaml",
        &WEB.replace("nginx:1.27", "nginx:1.28"),
    );
    let results = run_recipe(recipe, Event::PullRequest, d);
    let (_, o) = failed(&results, "pull request with an edit");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(o));
    let err = stderr(o);
    for env in ["staging", "prod"] {
        assert!(
            err.contains(&format!("+++ deploy/{env}/manifests.yaml (generated)")),
            "{err}"
        );
    }
    assert!(err.contains("+        image: nginx:1.28"), "{err}");
    all_ok(&run_recipe(recipe, Event::Push, d), "push with an edit");
    assert!(read(d, "deploy/prod/manifests.yaml").contains("nginx:1.28"));
    all_ok(
        &run_recipe(recipe, Event::PullRequest, d),
        "pull request after the regeneration",
    );

    // A new resource: --locked refuses on the main branch.
    let state = files(d);
    write(
        d,
        "services/api/score.yaml",
        &format!("{API}resources:\n  cache:\n    type: redis\n"),
    );
    let results = run_recipe(recipe, Event::Push, d);
    let (_, o) = failed(&results, "push with a new resource");
    assert!(
        stderr(o).contains("new resource redis.default#api.cache"),
        "{}",
        stderr(o)
    );
    let mut now = lock_free(files(d));
    now.remove(Path::new("services/api/score.yaml"));
    let mut then = lock_free(state);
    then.remove(Path::new("services/api/score.yaml"));
    assert_eq!(now, then, "a refused push wrote something");

    // A broken Score file: validate fails, located, before anything else runs.
    write(
        d,
        "services/api/score.yaml",
        &API.replace("    image:", "    imagee:"),
    );
    let results = run_recipe(recipe, Event::PullRequest, d);
    assert_eq!(results.len(), 1, "validate stops the job");
    let (_, o) = failed(&results, "broken score.yaml");
    assert!(
        stderr(o).contains("services/api/score.yaml:6:5"),
        "{}",
        stderr(o)
    );
}

#[test]
fn github_actions_recipe_runs_as_written() {
    exercise("github");
}

#[test]
fn gitlab_ci_recipe_runs_as_written() {
    exercise("gitlab");
}

#[test]
fn the_docs_page_shows_the_recipes_verbatim() {
    let page = std::fs::read_to_string(workspace().join("docs/ci.md")).unwrap();
    for rel in ["docs/ci/github-actions.yml", "docs/ci/gitlab-ci.yml"] {
        let (text, _) = yaml_file(rel);
        assert!(
            page.contains(&format!("```yaml\n{text}```")),
            "docs/ci.md does not show {rel} as it is"
        );
    }
}
