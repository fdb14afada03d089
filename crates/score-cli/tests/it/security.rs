//! Trust boundaries, end to end (spec/security.md): what a repository's contents, a provisioner
//! file from outside the project and a careless command line can make score-gen do. Every test
//! works inside its own temp dir: the "outside" a planted link points to is another temp dir,
//! device nodes are made there with `mknod`, and no real system path is touched.
#![cfg(unix)]

use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::Path;
use std::process::{Command, Output};

use crate::common;
use common::{score_gen, stderr};

/// Asserts a refused run: exit code 1, the message names `needle`, no panic.
fn assert_refused(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "expected a refusal:\n{err}");
    assert!(err.contains(needle), "expected {needle:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Every entry under `dir` (recursive), for "nothing was written there" checks.
fn entries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        out.push(p.display().to_string());
        if p.is_dir() && !p.is_symlink() {
            out.extend(entries(&p));
        }
    }
    out.sort();
    out
}

const SCORE: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: app
containers:
  main:
    image: nginx
    files:
      /root/.ssh/authorized_keys:
        content: ssh-ed25519 AAAA attacker
";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("score.yaml"), SCORE).expect("write score");
    dir
}

#[test]
fn a_planted_mounts_link_does_not_redirect_file_writes() {
    let p = project();
    let outside = tempfile::tempdir().expect("outside");
    std::fs::create_dir_all(p.path().join(".score-gen/mounts/app")).unwrap();
    symlink(outside.path(), p.path().join(".score-gen/mounts/app/main")).unwrap();
    let o = score_gen(p.path(), &["compose", "score.yaml"]);
    assert_refused(&o, "symbolic link");
    assert!(
        entries(outside.path()).is_empty(),
        "{:?}",
        entries(outside.path())
    );
    assert!(
        !p.path().join("compose.yaml").exists(),
        "nothing half-written"
    );
}

#[test]
fn a_symlinked_state_directory_is_refused() {
    let p = project();
    let outside = tempfile::tempdir().expect("outside");
    symlink(outside.path(), p.path().join(".score-gen")).unwrap();
    let o = score_gen(p.path(), &["compose", "score.yaml"]);
    assert_refused(&o, "symbolic link");
    assert!(
        entries(outside.path()).is_empty(),
        "{:?}",
        entries(outside.path())
    );
}

#[test]
fn a_planted_lock_link_creates_nothing_elsewhere() {
    let p = project();
    let outside = tempfile::tempdir().expect("outside");
    let victim = outside.path().join("nologin");
    std::fs::create_dir_all(p.path().join(".score-gen/compose")).unwrap();
    symlink(&victim, p.path().join(".score-gen/compose/.lock")).unwrap();
    let o = score_gen(p.path(), &["compose", "score.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(".lock"), "{}", stderr(&o));
    assert!(!victim.exists(), "the lock link's target was created");
}

#[test]
fn an_output_may_not_be_an_input() {
    let p = project();
    let o = score_gen(p.path(), &["compose", "score.yaml", "-o", "score.yaml"]);
    assert_refused(&o, "it is the input score.yaml");
    assert_eq!(
        std::fs::read_to_string(p.path().join("score.yaml")).unwrap(),
        SCORE
    );
    let o = score_gen(
        p.path(),
        &["compose", "score.yaml", "--env-file", "score.yaml"],
    );
    assert_refused(&o, "it is the input score.yaml");
    assert_eq!(
        std::fs::read_to_string(p.path().join("score.yaml")).unwrap(),
        SCORE
    );
    // The same file under another name counts too.
    symlink("score.yaml", p.path().join("alias.yaml")).unwrap();
    let o = score_gen(p.path(), &["k8s", "alias.yaml", "-o", "score.yaml"]);
    assert_refused(&o, "it is the input");
}

#[test]
fn an_output_that_is_a_link_is_refused() {
    let p = project();
    let outside = tempfile::tempdir().expect("outside");
    let target = outside.path().join("keep.yaml");
    std::fs::write(&target, "keep\n").unwrap();
    symlink(&target, p.path().join("compose.yaml")).unwrap();
    let o = score_gen(p.path(), &["compose", "score.yaml"]);
    assert_refused(&o, "is a symbolic link");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
    assert!(p.path().join("compose.yaml").is_symlink());
}

#[test]
fn a_fifo_or_device_output_is_left_alone() {
    let p = project();
    let fifo = p.path().join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let o = score_gen(p.path(), &["k8s", "score.yaml", "-o", "fifo.yaml"]);
    assert_refused(&o, "is not a regular file");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    // A character device like /dev/null (1, 3), made in our own temp dir. Needs root (CI is);
    // elsewhere this half says why it is skipped.
    let dev = p.path().join("null");
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .output()
        .expect("mknod");
    if !made.status.success() {
        eprintln!(
            "skipping the device half: mknod needs root ({})",
            String::from_utf8_lossy(&made.stderr).trim()
        );
        return;
    }
    let o = score_gen(p.path(), &["k8s", "score.yaml", "-o", "null"]);
    assert_refused(&o, "is not a regular file");
    assert!(std::fs::symlink_metadata(&dev)
        .unwrap()
        .file_type()
        .is_char_device());
}

// ---- provisioner files from outside the project may not run programs -----------------------

const SCORE_WITH_DB: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: app
containers:
  main:
    image: nginx
    variables:
      DB: ${resources.db.host}
resources:
  db:
    type: postgres
";

/// A provisioner file whose cmd:// entry for `postgres` runs `sh -c` and leaves `marker`.
fn cmd_provisioner(program: &str, marker: &Path) -> String {
    format!(
        "- uri: cmd://{program}#mark\n  type: postgres\n  args: [\"-c\", \"touch '{}'; cat >/dev/null; echo '{{\\\"resource_outputs\\\": {{\\\"host\\\": \\\"db\\\"}}}}'\"]\n",
        marker.display()
    )
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A project and, outside it, a git repository `provs.git` holding `p.yaml` = `text`.
fn project_and_repo(text: &str) -> (tempfile::TempDir, tempfile::TempDir, String) {
    let p = tempfile::tempdir().expect("project");
    std::fs::write(p.path().join("score.yaml"), SCORE_WITH_DB).unwrap();
    let outside = tempfile::tempdir().expect("outside");
    let repo = outside.path().join("provs.git");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("p.yaml"), text).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    let uri = format!("git-file://{}/p.yaml", repo.display());
    (p, outside, uri)
}

fn sha256_hex(text: &str) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

#[test]
fn a_remote_provisioner_file_runs_no_program_without_permission() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("ran");
    let text = cmd_provisioner("/bin/sh", &marker);
    let (p, _outside, uri) = project_and_repo(&text);

    let o = score_gen(p.path(), &["compose", "score.yaml", "--provisioners", &uri]);
    assert_refused(&o, "--allow-remote-commands");
    assert!(!marker.exists(), "the remote file's program ran");
    assert!(!p.path().join("compose.yaml").exists());

    // `provisioners list` says which programs would run and that this one needs permission.
    let o = score_gen(p.path(), &["provisioners", "list", "--provisioners", &uri]);
    let listing = String::from_utf8_lossy(&o.stdout);
    assert!(
        listing.contains("/bin/sh -c") && listing.contains("needs --allow-remote-commands"),
        "{listing}"
    );
    assert!(!marker.exists());

    // Pinned by hash: the user reviewed this exact content.
    let pinned = format!("{uri}#sha256={}", sha256_hex(&text));
    let o = score_gen(
        p.path(),
        &["compose", "score.yaml", "--provisioners", &pinned],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(marker.exists(), "the pinned file's program did not run");

    // Or the explicit permission.
    std::fs::remove_file(&marker).unwrap();
    let o = score_gen(
        p.path(),
        &[
            "compose",
            "score.yaml",
            "--provisioners",
            &uri,
            "--allow-remote-commands",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(marker.exists());
}

#[test]
fn a_remote_relative_program_never_resolves_against_the_working_directory() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("ran");
    let (p, _outside, uri) = project_and_repo(&cmd_provisioner("./x", &marker));
    // The project's own ./x, which the remote file names.
    let x = p.path().join("x");
    std::fs::write(&x, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&x, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = score_gen(
        p.path(),
        &[
            "compose",
            "score.yaml",
            "--provisioners",
            &uri,
            "--allow-remote-commands",
        ],
    );
    assert_refused(&o, "relative program");
    assert!(!marker.exists(), "the project's ./x ran for a remote file");
}

#[test]
fn a_provisioner_file_on_stdin_runs_no_program() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("ran");
    let p = tempfile::tempdir().unwrap();
    std::fs::write(p.path().join("score.yaml"), SCORE_WITH_DB).unwrap();
    let mut child = common::exe("score-gen")
        .command()
        .args([
            "--color",
            "never",
            "compose",
            "score.yaml",
            "--provisioners",
            "-",
        ])
        .current_dir(p.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(cmd_provisioner("/bin/sh", &marker).as_bytes())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_refused(&o, "--allow-remote-commands");
    assert!(!marker.exists());
}

#[test]
fn the_projects_own_provisioner_files_still_run_programs() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("ran");
    let p = tempfile::tempdir().unwrap();
    std::fs::write(p.path().join("score.yaml"), SCORE_WITH_DB).unwrap();
    std::fs::write(
        p.path().join("mine.provisioners.yaml"),
        cmd_provisioner("/bin/sh", &marker),
    )
    .unwrap();
    let o = score_gen(
        p.path(),
        &[
            "-v",
            "compose",
            "score.yaml",
            "--provisioners",
            "mine.provisioners.yaml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(marker.exists());
    // -v says which program ran, for which resource, from which file.
    let err = stderr(&o);
    assert!(
        err.contains("ran `/bin/sh -c")
            && err.contains("postgres.default#app.db")
            && err.contains("mine.provisioners.yaml"),
        "{err}"
    );
}

/// The confinement does not rest on permissions: as an unprivileged user who *could* write the
/// link's target, a planted mounts link is still refused (CI runs as root; this drops to
/// `nobody` with setpriv; skipped where that is not possible).
#[test]
fn a_planted_mounts_link_is_refused_for_an_unprivileged_user_too() {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root || !setpriv.exists() {
        eprintln!("skipping: needs root and setpriv to drop to an unprivileged user");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let open =
        |d: &Path| std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    let p = project();
    let outside = tempfile::tempdir().expect("outside");
    std::fs::create_dir_all(p.path().join(".score-gen/mounts/app")).unwrap();
    for d in [
        p.path().to_path_buf(),
        p.path().join(".score-gen"),
        p.path().join(".score-gen/mounts"),
        p.path().join(".score-gen/mounts/app"),
        outside.path().to_path_buf(),
    ] {
        open(&d);
    }
    std::fs::set_permissions(
        p.path().join("score.yaml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    symlink(outside.path(), p.path().join(".score-gen/mounts/app/main")).unwrap();
    let bin = common::exe("score-gen");
    // The binary must be reachable by `nobody`: copy it into the (world-readable) project.
    let copy = p.path().join("score-gen-bin");
    std::fs::copy(bin.path(), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&copy)
        .args(["--color", "never", "compose", "score.yaml"])
        .current_dir(p.path())
        .env("HOME", p.path())
        .output()
        .expect("setpriv");
    let err = stderr(&o);
    if err.contains("Permission denied") && !err.contains("symbolic link") {
        eprintln!("skipping: the temp dir is not reachable by nobody here: {err}");
        return;
    }
    assert_refused(&o, "symbolic link");
    assert!(
        entries(outside.path()).is_empty(),
        "{:?}",
        entries(outside.path())
    );
}

/// A Score file cannot bind-mount `/` or the docker socket into a compose service without
/// `--allow-outside-paths` (issue 13).
#[test]
fn compose_volumes_outside_the_project_need_the_flag() {
    for source in ["/", "/var/run/docker.sock", "../.."] {
        let dir = tempfile::tempdir().expect("temp dir");
        let score = format!(
            "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\n    volumes:\n      /host:\n        source: {source}\n"
        );
        std::fs::write(dir.path().join("score.yaml"), score).unwrap();
        for cmd in [
            &["compose", "score.yaml"][..],
            &["all", "score.yaml", "-o", "out"],
        ] {
            let o = score_gen(dir.path(), cmd);
            assert_refused(&o, "score::compose::volume-outside-project");
            // The help line may wrap inside the flag's name.
            let flat: String = stderr(&o).split_whitespace().collect();
            assert!(flat.contains("--allow-outside-paths"), "{}", stderr(&o));
            let primary = if cmd[0] == "all" {
                "out/compose.yaml"
            } else {
                "compose.yaml"
            };
            assert!(!dir.path().join(primary).exists(), "{primary} was written");
            if cmd[0] == "compose" {
                // (`all` would still fail: k8s and terraform mount only volume resources.)
                let o = score_gen(dir.path(), &[cmd, &["--allow-outside-paths"]].concat());
                assert!(o.status.success(), "{source}: {}", stderr(&o));
            }
        }
        let written = std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap();
        assert!(written.contains(&format!("source: {source}")), "{written}");
    }
}

#[test]
fn a_score_file_linked_out_of_the_project_has_its_contents_hidden() {
    let p = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    // A "credentials" file that is also broken YAML, and a schema-invalid one.
    std::fs::write(
        outside.path().join("credentials"),
        "SECRET=hunter2: [\nAWS_KEY: {{hunter2\n",
    )
    .unwrap();
    std::fs::write(
        outside.path().join("env.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers:\n  main: {image: nginx, hunter2: 1}\n",
    )
    .unwrap();
    symlink(
        outside.path().join("credentials"),
        p.path().join("score.yaml"),
    )
    .unwrap();
    symlink(outside.path().join("env.yaml"), p.path().join("other.yaml")).unwrap();
    for format in ["human", "json"] {
        let o = score_gen(
            p.path(),
            &["--format", format, "validate", "score.yaml", "other.yaml"],
        );
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(
            !all.contains("hunter2"),
            "{format} output shows the file:\n{all}"
        );
        assert!(all.contains("not shown"), "{all}");
    }
    // The same file inside the project is shown as usual.
    std::fs::copy(outside.path().join("env.yaml"), p.path().join("own.yaml")).unwrap();
    let o = score_gen(p.path(), &["validate", "own.yaml"]);
    assert!(stderr(&o).contains("hunter2"), "{}", stderr(&o));
}
