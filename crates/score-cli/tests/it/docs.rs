//! The docs cannot rot: every shell block of `README.md` and `docs/*.md` is run and every YAML
//! block is loaded.
//!
//! Each page runs in a temporary directory of its own (`<tmp>/work`; `..` stays inside the
//! temporary directory), its blocks in page order, with the built `score-gen`, `score-compose` and
//! `score-k8s` first on `PATH`. An HTML comment on the line before a block says what to do with it:
//!
//! - `<!-- file: PATH -->`: the block is a file of the page's project, written to PATH (a YAML
//!   block is also loaded);
//! - `<!-- exit: N -->`: a shell block that must exit with N (an error the page shows);
//! - `<!-- not run: REASON -->`: a shell block that is not run, with the reason (the README's
//!   `cargo install` and `cargo run` lines: cargo inside `cargo test`).
//!
//! Any other comment there is an error, so a typo cannot skip a block. A shell block (`sh`,
//! `bash`, `shell`) runs with `sh -e -c` and must exit 0; a YAML block (`yaml`, `yml`) must load.
//! README.md's commands are written for the repository root: its page directory holds a copy of
//! `examples/`, and the user files its flows name (`score.yaml`, `frontend/`, `backend/`,
//! `services/*/`) are copies of `examples/hello/score.yaml` and two small workloads; its
//! `cargo run -q -p score-cli --` is the built `score-gen`, and its `cargo test --workspace` (the
//! run this test is part of) is not run again.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One fenced block of a page.
#[derive(Debug)]
struct Block {
    lang: String,
    body: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// The `<!-- ... -->` comment on the line before the fence, without the markers.
    note: Option<String>,
}

fn blocks(text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut prev: Option<&str> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(lang) = l.strip_prefix("```") {
            let start = i + 1;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_end() != "```" {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            if i == lines.len() {
                return Err(format!("line {start}: the block is never closed"));
            }
            let note = prev
                .map(str::trim)
                .and_then(|p| p.strip_prefix("<!--"))
                .and_then(|p| p.strip_suffix("-->"))
                .map(|p| p.trim().to_string());
            out.push(Block {
                lang: lang.trim().to_string(),
                body,
                line: start,
                note,
            });
            prev = None;
        } else if !l.trim().is_empty() {
            prev = Some(l);
        }
        i += 1;
    }
    Ok(out)
}

/// What running a page did: the shell blocks run, and those skipped with their reasons.
#[derive(Debug, Default)]
struct Report {
    ran: usize,
    loaded: usize,
    skipped: Vec<String>,
}

/// Runs page `name` (its text `text`) in `dir`; `rewrite` turns a shell block into the command
/// that runs (the README's `cargo run` prefix).
fn run_page(
    name: &str,
    text: &str,
    dir: &Path,
    rewrite: &dyn Fn(&str) -> String,
) -> Result<Report, String> {
    let mut report = Report::default();
    for b in blocks(text).map_err(|e| format!("{name}: {e}"))? {
        let at = format!("{name}:{}", b.line);
        let shell = matches!(b.lang.as_str(), "sh" | "bash" | "shell");
        let yaml = matches!(b.lang.as_str(), "yaml" | "yml");
        if yaml {
            serde_saphyr::from_multiple::<serde_json::Value>(&b.body)
                .map_err(|e| format!("{at}: the YAML block does not load: {e}"))?;
            report.loaded += 1;
        }
        let mut exit = 0;
        match b.note.as_deref() {
            None => {}
            Some(n) if n.starts_with("file:") => {
                let rel = n["file:".len()..].trim();
                if rel.is_empty() || rel.starts_with('/') || rel.split('/').any(|s| s == "..") {
                    return Err(format!(
                        "{at}: `file:` needs a path inside the page's project"
                    ));
                }
                let path = dir.join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &b.body).unwrap();
                continue;
            }
            Some(n) if n.starts_with("not run:") => {
                let reason = n["not run:".len()..].trim();
                if reason.is_empty() || !shell {
                    return Err(format!(
                        "{at}: `not run:` is for shell blocks and needs a reason"
                    ));
                }
                report.skipped.push(format!("{at}: {reason}"));
                continue;
            }
            Some(n) if n.starts_with("exit:") => {
                exit = n["exit:".len()..]
                    .trim()
                    .parse()
                    .map_err(|_| format!("{at}: `exit:` needs a number"))?;
            }
            Some(other) => {
                return Err(format!(
                    "{at}: unknown note `<!-- {other} -->` before a block (file:, exit:, not run:)"
                ))
            }
        }
        if !shell {
            continue;
        }
        let script = rewrite(&b.body);
        let out = Command::new("sh")
            .arg("-e")
            .arg("-c")
            .arg(&script)
            .current_dir(dir)
            .env("PATH", common::tools_path())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env_remove("CI")
            .output()
            .map_err(|e| format!("{at}: cannot run sh: {e}"))?;
        if out.status.code() != Some(exit) {
            return Err(format!(
                "{at}: the shell block exited {:?}, the page says {exit}:\n{script}\n--- stdout\n{}\n--- stderr\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        report.ran += 1;
    }
    Ok(report)
}

/// A fresh `<tmp>/work` for one page.
fn page_dir() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let work = d.path().join("work");
    std::fs::create_dir(&work).unwrap();
    (d, work)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn no_rewrite(s: &str) -> String {
    s.to_string()
}

#[test]
fn every_docs_page_runs() {
    let docs = workspace().join("docs");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&docs)
        .expect("docs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in [
        "getting-started.md",
        "migrating.md",
        "provisioners.md",
        "project.md",
        "permissions.md",
    ] {
        assert!(docs.join(page).is_file(), "docs/{page} is missing");
    }
    let mut failures = Vec::new();
    let mut total = 0;
    for page in &pages {
        let name = format!("docs/{}", page.file_name().unwrap().to_string_lossy());
        let (_d, dir) = page_dir();
        let text = std::fs::read_to_string(page).unwrap();
        match run_page(&name, &text, &dir, &no_rewrite) {
            Ok(r) => {
                total += r.ran;
                eprintln!(
                    "{name}: {} shell blocks run, {} YAML blocks loaded; not run: {:?}",
                    r.ran, r.loaded, r.skipped
                );
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(total >= 20, "only {total} shell blocks ran");
}

const SMALL: &str =
    "apiVersion: score.dev/v1b1\nmetadata:\n  name: NAME\ncontainers:\n  main:\n    image: busybox:1.36\n";

#[test]
fn every_readme_block_runs() {
    let (_d, dir) = page_dir();
    copy_dir(&workspace().join("examples"), &dir.join("examples"));
    std::fs::copy(
        workspace().join("examples/hello/score.yaml"),
        dir.join("score.yaml"),
    )
    .unwrap();
    for base in ["", "services/"] {
        for name in ["frontend", "backend"] {
            let d = dir.join(format!("{base}{name}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("score.yaml"), SMALL.replace("NAME", name)).unwrap();
        }
    }
    let text = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    assert!(
        text.contains("cargo install --locked --path crates/score-cli"),
        "the README says how to install"
    );
    let rewrite = |s: &str| {
        s.replace("cargo run -q -p score-cli -- ", "score-gen ")
            .replace("cargo test --workspace", "true")
    };
    let r = run_page("README.md", &text, &dir, &rewrite).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.ran >= 3, "{r:?}");
    // The opening command compiled the example where it says.
    assert!(dir.join("examples/hello/compose.yaml").is_file());
    eprintln!("README.md: {r:?}");
}

/// The runner fails a page whose command breaks, whose YAML does not load, or whose note is
/// mistyped: the docs tests above cannot pass on a broken page.
#[test]
fn a_broken_page_fails() {
    let cases = [
        (
            "```sh\nscore-gen compose --no-such-flag score.yaml\n```\n",
            "exited Some(2), the page says 0",
        ),
        (
            "<!-- file: score.yaml -->\n```yaml\napiVersion: [\n```\n```sh\ntrue\n```\n",
            "the YAML block does not load",
        ),
        (
            "<!-- exit: 1 -->\n```sh\nscore-gen --version\n```\n",
            "exited Some(0), the page says 1",
        ),
        (
            "<!-- not-run: typo -->\n```sh\nfalse\n```\n",
            "unknown note",
        ),
        ("<!-- not run: -->\n```sh\nfalse\n```\n", "needs a reason"),
        (
            "<!-- file: ../escape.yaml -->\n```yaml\na: 1\n```\n",
            "inside the page's project",
        ),
    ];
    for (page, expect) in cases {
        let (_d, dir) = page_dir();
        let err = run_page("page.md", page, &dir, &no_rewrite).expect_err(page);
        assert!(err.contains(expect), "{page}: {err}");
    }
    // And a good page passes, its file written before the command that reads it.
    let (_d, dir) = page_dir();
    let good = format!(
        "<!-- file: w/score.yaml -->\n```yaml\n{}```\n\n```sh\nscore-gen validate w/score.yaml\n```\n",
        SMALL.replace("NAME", "web")
    );
    let r = run_page("page.md", &good, &dir, &no_rewrite).unwrap();
    assert_eq!((r.ran, r.loaded), (1, 1));
}

/// The README's first command is `cargo run -p score-cli -- ...` taken literally: cargo can only
/// run it if the package has one binary or names a `default-run`, and the rest of the README
/// (and `every_readme_block_runs` above, which stands `score-gen` in for it) needs that binary
/// to be `score-gen`. Reads the manifests through `cargo metadata`, as `cargo run` does.
#[test]
fn the_readme_first_cargo_run_picks_score_gen() {
    let text = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let first = blocks(&text)
        .unwrap()
        .into_iter()
        .find(|b| b.lang == "sh")
        .expect("the README opens with a shell block");
    let line = first.body.lines().next().unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&words[..2], ["cargo", "run"], "{line}");
    assert!(!words.contains(&"--bin"), "{line}");
    let pkg = words[words.iter().position(|w| *w == "-p").expect("-p PKG") + 1];
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(workspace().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let package = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == pkg)
        .unwrap_or_else(|| panic!("no package {pkg}"));
    let bins: Vec<&str> = package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let runs = match bins.as_slice() {
        [one] => *one,
        _ => package["default_run"].as_str().unwrap_or_else(|| {
            panic!("`{line}` fails: {pkg} has binaries {bins:?} and no default-run")
        }),
    };
    assert!(bins.contains(&runs), "{runs} is not one of {bins:?}");
    assert_eq!(runs, "score-gen", "`{line}` runs {runs}");
}
