//! Reliability floor, end to end: file sources cannot escape the project (symlinks included)
//! unless `--allow-outside-paths`; a failing run leaves earlier outputs byte-for-byte untouched
//! with no temp files behind; concurrent processes on one state directory leave a state file
//! that parses and holds every writer's change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use score_core::host::StateDir;
use score_core::host::DEFAULT_LOCK_TIMEOUT;
use score_core::project::ResourceState;

use crate::common;
use common::{score_gen, stderr};

fn assert_no_panic(o: &Output) {
    assert!(!stderr(o).contains("panicked"), "panic:\n{}", stderr(o));
}

/// Names in `dir` (not recursive), sorted.
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every file under `dir`, recursively, as paths relative to `dir`.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

const SCORE_WITH_FILE: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: app
containers:
  main:
    image: nginx
    files:
      /etc/app/config.txt:
        source: SOURCE
";

/// A project dir `proj/` holding score.yaml with `source: <source>`, and `outside.txt` beside
/// (outside) the project.
fn project_with_source(source: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let proj = tmp.path().join("proj");
    std::fs::create_dir(&proj).expect("mkdir proj");
    std::fs::write(tmp.path().join("outside.txt"), "outside secret\n").expect("write");
    std::fs::write(proj.join("inside.txt"), "inside\n").expect("write");
    std::fs::write(
        proj.join("score.yaml"),
        SCORE_WITH_FILE.replace("SOURCE", source),
    )
    .expect("write score");
    tmp
}

#[cfg(unix)]
#[test]
fn file_sources_cannot_escape_the_project_unless_allowed() {
    use std::os::unix::fs::symlink;
    // (source, how the escape happens)
    let escaping = [
        ("../outside.txt", "parent dir"),
        ("sub/../../outside.txt", "parent dir after a subdir"),
        ("abs", "absolute path"),
        ("link-rel.txt", "relative symlink"),
        ("link-abs.txt", "absolute symlink"),
        ("linkdir/outside.txt", "symlinked directory"),
    ];
    for (source, why) in escaping {
        let tmp = project_with_source(source);
        let proj = tmp.path().join("proj");
        std::fs::create_dir(proj.join("sub")).expect("mkdir sub");
        symlink("../outside.txt", proj.join("link-rel.txt")).expect("symlink");
        symlink(tmp.path().join("outside.txt"), proj.join("link-abs.txt")).expect("symlink");
        symlink(tmp.path(), proj.join("linkdir")).expect("symlink");
        if source == "abs" {
            let abs = tmp.path().join("outside.txt");
            std::fs::write(
                proj.join("score.yaml"),
                SCORE_WITH_FILE.replace("SOURCE", abs.to_str().expect("utf-8 path")),
            )
            .expect("write score");
        }

        let denied = score_gen(&proj, &["validate", "score.yaml"]);
        assert_no_panic(&denied);
        assert_eq!(denied.status.code(), Some(1), "{why}: {}", stderr(&denied));
        let err = stderr(&denied);
        assert!(
            err.contains("outside the Score file's directory") && err.contains("score.yaml:9:17"),
            "{why}: {err}"
        );
        assert!(
            err.contains("--allow-outside-paths"),
            "{why}: help missing: {err}"
        );

        let allowed = score_gen(&proj, &["validate", "--allow-outside-paths", "score.yaml"]);
        assert!(
            allowed.status.success(),
            "{why}: --allow-outside-paths should accept it: {}",
            stderr(&allowed)
        );
    }
}

#[cfg(unix)]
#[test]
fn file_sources_inside_the_project_are_accepted() {
    use std::os::unix::fs::symlink;
    for source in [
        "inside.txt",
        "./inside.txt",
        "sub/../inside.txt",
        "link-in.txt",
    ] {
        let tmp = project_with_source(source);
        let proj = tmp.path().join("proj");
        std::fs::create_dir(proj.join("sub")).expect("mkdir sub");
        // A symlink that stays inside the project is fine.
        symlink("inside.txt", proj.join("link-in.txt")).expect("symlink");
        let out = score_gen(&proj, &["validate", "score.yaml"]);
        assert!(out.status.success(), "{source}: {}", stderr(&out));
        // The Score file's directory is the base, not the working directory.
        let from_parent = score_gen(tmp.path(), &["validate", "proj/score.yaml"]);
        assert!(
            from_parent.status.success(),
            "{source} from the parent dir: {}",
            stderr(&from_parent)
        );
    }
}

const GOOD_SCORE: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: app
containers:
  main:
    image: nginx
    variables:
      URL: ${resources.db.url}
resources:
  db:
    type: testdb
";

#[test]
fn failed_generation_leaves_previous_output_untouched() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::write(dir.join("score.yaml"), GOOD_SCORE).expect("write");
    std::fs::write(
        dir.join("fail.provisioners.yaml"),
        "- uri: template://t/fail\n  engine: minijinja\n  type: testdb\n  outputs: |\n    {{ fail(\"no capacity\") }}\n",
    )
    .expect("write");
    let previous = b"# output of an earlier, successful run\nservices: {}\n";
    std::fs::write(dir.join("compose.yaml"), previous).expect("write");
    std::fs::write(dir.join(".env"), b"KEEP=1\n").expect("write");
    let before = tree(dir);

    let out = score_gen(
        dir,
        &[
            "compose",
            "score.yaml",
            "--provisioners",
            "fail.provisioners.yaml",
            "--env-file",
            ".env",
            "-o",
            "compose.yaml",
        ],
    );
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no capacity"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.join("compose.yaml")).expect("read"),
        previous,
        "compose.yaml changed"
    );
    assert_eq!(std::fs::read(dir.join(".env")).expect("read"), b"KEEP=1\n");
    // Nothing new except the state directory (created and locked before provisioning); no
    // temp file anywhere, and no state file since the run failed.
    let after = tree(dir);
    let new: Vec<_> = after.difference(&before).collect();
    assert!(
        new.iter().all(|p| p.starts_with(".score-gen")),
        "unexpected new files: {new:?}"
    );
    assert!(
        !new.iter().any(|p| p.ends_with("state.yaml")),
        "a failed run must not save state: {new:?}"
    );
    assert!(
        !after.iter().any(|p| {
            let n = p.file_name().map(|n| n.to_string_lossy().into_owned());
            n.is_some_and(|n| n.contains("tmp"))
        }),
        "temp files left: {after:?}"
    );
}

#[test]
fn failed_init_writes_nothing_and_keeps_the_previous_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let first = score_gen(dir, &["init", "--state-dir", "st"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let defaults = dir.join("st/compose/provisioners/zz-default.provisioners.yaml");
    // The platform team edited the defaults; a failing init must not clobber them.
    let edited = b"# edited by hand\n[]\n";
    std::fs::write(&defaults, edited).expect("write");
    let state_before = std::fs::read(dir.join("st/compose/state.yaml")).expect("state");
    let prov_dir_before = names(defaults.parent().expect("parent"));

    // The sample's parent is a regular file: the second file of the batch cannot be staged,
    // so the first (the defaults) must not be committed either.
    std::fs::write(dir.join("blocker"), "not a directory").expect("write");
    let second = score_gen(
        dir,
        &["init", "--state-dir", "st", "--file", "blocker/score.yaml"],
    );
    assert_no_panic(&second);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert!(stderr(&second).contains("blocker"), "{}", stderr(&second));
    assert_eq!(std::fs::read(&defaults).expect("read"), edited);
    assert_eq!(
        std::fs::read(dir.join("st/compose/state.yaml")).expect("state"),
        state_before
    );
    assert_eq!(names(defaults.parent().expect("parent")), prov_dir_before);
    assert_eq!(
        std::fs::read(dir.join("blocker")).expect("read"),
        b"not a directory"
    );
}

#[test]
fn concurrent_inits_leave_one_parseable_state() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let spawn = |i: usize| {
        common::exe("score-gen")
            .command()
            .args(["--color", "never", "init", "--state-dir", "st", "--file"])
            .arg(format!("score-{i}.yaml"))
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let children: Vec<_> = (0..8).map(spawn).collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let sd = StateDir::open_dir(&dir.join("st/compose"), DEFAULT_LOCK_TIMEOUT).expect("open");
    let state = sd.load().expect("state parses after concurrent inits");
    drop(sd);
    // Later inits keep the seed the first one chose (it seeds every "random" value).
    let again: Vec<_> = (8..12).map(spawn).collect();
    for c in again {
        assert!(c.wait_with_output().expect("wait").status.success());
    }
    let sd = StateDir::open_dir(&dir.join("st/compose"), DEFAULT_LOCK_TIMEOUT).expect("open");
    assert_eq!(sd.load().expect("parses").seed, state.seed);
    let files = names(&dir.join("st/compose"));
    assert!(
        files
            .iter()
            .all(|n| n == "state.yaml" || n == ".lock" || n == "provisioners"),
        "leftovers in the state dir: {files:?}"
    );
}

/// Child-process body for [`concurrent_state_writers_all_land`]: when `SCORE_GEN_STATE_WRITER`
/// is set, add one resource to the state under the directory lock and exit. Run normally, it
/// does nothing.
#[test]
fn state_writer_child() {
    let (Ok(dir), Ok(id)) = (
        std::env::var("SCORE_GEN_STATE_WRITER"),
        std::env::var("SCORE_GEN_STATE_WRITER_ID"),
    ) else {
        return;
    };
    let sd = StateDir::open_dir(Path::new(&dir), std::time::Duration::from_secs(60))
        .expect("open state dir");
    let mut state = sd.load().expect("load");
    // Widen the race window: without the lock, writers would overwrite each other here.
    std::thread::sleep(std::time::Duration::from_millis(20));
    state.resources.insert(
        format!("testdb.default#w{id}.db"),
        ResourceState::new("testdb", "default", None, format!("w{id}"), "template://t"),
    );
    sd.save(&state).expect("save");
}

#[test]
fn concurrent_state_writers_all_land() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("compose");
    let exe = std::env::current_exe().expect("test binary");
    const N: usize = 6;
    let children: Vec<_> = (0..N)
        .map(|i| {
            Command::new(&exe)
                .args([
                    "--exact",
                    // Its name in the test binary (`it`): the module path after the crate.
                    concat!(module_path!(), "::state_writer_child")
                        .split_once("::")
                        .expect("a module of the test binary")
                        .1,
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("SCORE_GEN_STATE_WRITER", &dir)
                .env("SCORE_GEN_STATE_WRITER_ID", i.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "child failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        // The child really ran the writer (not filtered out to zero tests).
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child ran no test: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let sd = StateDir::open_dir(&dir, DEFAULT_LOCK_TIMEOUT).expect("open");
    let state = sd.load().expect("state parses after concurrent writers");
    let got: BTreeSet<String> = state.resources.keys().cloned().collect();
    let want: BTreeSet<String> = (0..N).map(|i| format!("testdb.default#w{i}.db")).collect();
    assert_eq!(got, want, "a writer's change was lost");
    // Release the lock, or the CLI below would wait for it.
    drop(sd);
    // And the CLI reads the same file.
    let listed = score_gen(
        tmp.path(),
        &[
            "resources",
            "list",
            "--state-dir",
            tmp.path().to_str().expect("utf-8"),
        ],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("testdb.default#w0.db"));
}

/// score-go's `TestNormalize` row "Errors when the source file does not exist" (base dir
/// `./fixtures`): the joined path is shown cleaned, as Go's `filepath.Join` does.
#[test]
fn missing_file_source_message_matches_score_go() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(tmp.path().join("fixtures")).expect("mkdir");
    std::fs::write(
        tmp.path().join("fixtures/score.yaml"),
        SCORE_WITH_FILE
            .replace("name: app", "name: hello-world")
            .replace("  main:", "  hello:")
            .replace("SOURCE", "./not_existing.txt"),
    )
    .expect("write");
    let out = score_gen(
        tmp.path(),
        &["validate", "--format", "json", "./fixtures/score.yaml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        doc["files"][0]["diagnostics"][0]["message"],
        "embedding file './not_existing.txt' for container 'hello': open fixtures/not_existing.txt: no such file or directory"
    );
}
