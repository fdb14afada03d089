//! Hardening, round 2 (issue 21), end to end with the real binary: each test names the finding
//! it covers and fails without its fix.
#![cfg(unix)]

use std::path::Path;

use crate::common;
use common::{score_gen, stderr};

const SCORE: &str =
    "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\n";

const CACHE: &str = "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  cache:\n    type: redis\n";

/// What a planted link points at: stands in for /proc/self/environ.
const ENVIRON: &[u8] = b"SECRET_TOKEN=hunter2-s3cr3t\0HOME=/root\0PATH=/usr/bin\0";

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn json(o: &std::process::Output) -> serde_json::Value {
    let text = if o.stdout.is_empty() {
        &o.stderr
    } else {
        &o.stdout
    };
    serde_json::from_slice(text)
        .unwrap_or_else(|e| panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), stderr(o)))
}

#[test]
fn a_deep_patch_path_is_a_located_error_not_a_stack_overflow() {
    // High: `path: services.app-main.a.a.....b` with 30,000 keys aborted the process (exit 134).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    write(
        d,
        "deep.tpl",
        "- op: set\n  path: \"services.app-main.{{ repeat 30000 \"a.\" }}b\"\n  value: 1\n",
    );
    let o = score_gen(d, &["init", "--no-sample", "--patch-templates", "deep.tpl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for target in ["compose", "k8s"] {
        if target == "k8s" {
            let o = score_gen(
                d,
                &[
                    "init",
                    "--target",
                    "k8s",
                    "--no-sample",
                    "--patch-templates",
                    "deep.tpl",
                ],
            );
            assert!(o.status.success(), "{}", stderr(&o));
        }
        let o = score_gen(d, &[target, "score.yaml"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{target}: {err}");
        assert!(err.contains("more than 256 keys"), "{err}");
        assert!(err.contains("[deep.tpl (rendered):2:9]"), "{err}");
        let o = score_gen(d, &["--message-format", "json", target, "score.yaml"]);
        assert_eq!(o.status.code(), Some(1));
        let v = json(&o);
        let diag = &v["diagnostics"][0];
        assert_eq!(diag["code"], "score::patch::apply-failed", "{v}");
        assert_eq!(
            (diag["line"].as_u64(), diag["column"].as_u64()),
            (Some(2), Some(9))
        );
    }
}

/// A project whose `link` (relative to it) points at a file outside it holding `ENVIRON`.
fn planted(link: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside-environ");
    std::fs::write(&outside, ENVIRON).unwrap();
    let project = dir.path().join("project");
    write(&project, "score.yaml", SCORE);
    let o = score_gen(&project, &["init", "--no-sample"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let at = project.join(link);
    let _ = std::fs::remove_file(&at);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&outside, &at).unwrap();
    dir
}

#[test]
fn files_linked_out_of_the_project_show_no_text_in_human_or_json_output() {
    // Medium: a planted patch-templates.yaml, provisioner file or state linked to
    // /proc/self/environ printed the start of the environment in the message.
    for link in [
        ".score-gen/compose/patch-templates.yaml",
        ".score-gen/compose/provisioners/00.yaml",
        ".score-gen/compose/state.yaml",
    ] {
        let dir = planted(link);
        let project = dir.path().join("project");
        for format in ["human", "json"] {
            let o = score_gen(
                &project,
                &["--message-format", format, "compose", "score.yaml"],
            );
            let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
            assert_eq!(o.status.code(), Some(1), "{link}: {all}");
            for secret in ["hunter2", "SECRET_TOKEN", "HOME=", "/usr/bin"] {
                assert!(!all.contains(secret), "{link} ({format}): {all}");
            }
            let name = link.rsplit('/').next().unwrap();
            assert!(
                all.contains(name),
                "{link} ({format}) names the file: {all}"
            );
            assert!(
                all.contains("link to a file outside the project"),
                "{link} ({format}): {all}"
            );
            if format == "json" {
                let v = json(&o);
                let diag = &v["diagnostics"][0];
                assert!(
                    diag["file"].as_str().is_some_and(|f| link.ends_with(f)),
                    "{v}"
                );
                assert!(diag["line"].as_u64().is_some(), "{link}: {v}");
            }
        }
    }
}

#[test]
fn patch_template_store_errors_have_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    write(
        d,
        ".score-gen/compose/patch-templates.yaml",
        "templates:\n  - origin: a.tpl\n    remote: maybe\n    pinned: false\n    text: ''\n",
    );
    let o = score_gen(d, &["--message-format", "json", "compose", "score.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    let diag = &v["diagnostics"][0];
    assert_eq!(
        diag["file"], ".score-gen/compose/patch-templates.yaml",
        "{v}"
    );
    assert_eq!(
        (diag["line"].as_u64(), diag["column"].as_u64()),
        (Some(3), Some(13)),
        "{v}"
    );
}

#[test]
fn control_characters_from_stored_keys_and_template_origins_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    // A patch template whose origin (its file name) holds a terminal escape, and fails.
    write(
        d,
        "p\x1b]0;pwned\x07.tpl",
        "- op: set\n  path: \"a..b\"\n  value: 1\n",
    );
    let o = score_gen(
        d,
        &[
            "init",
            "--no-sample",
            "--patch-templates",
            "p\x1b]0;pwned\x07.tpl",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for args in [
        &["compose", "score.yaml"][..],
        &["-v", "compose", "score.yaml"][..],
    ] {
        let o = score_gen(d, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
        assert!(err.contains("p\\u{1b}]0;pwned\\u{7}.tpl"), "{err}");
    }
    // A workload key of the state with an escape (its stored document names another workload).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    let o = score_gen(d, &["compose", "score.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let state = std::fs::read_to_string(d.join(".score-gen/compose/state.yaml")).unwrap();
    let planted = state.replacen("\n    \"app\": {", "\n    \"\\u001b[2Japp\\u0007\": {", 1);
    assert_ne!(planted, state, "{state}");
    std::fs::write(d.join(".score-gen/compose/state.yaml"), planted).unwrap();
    let o = score_gen(d, &["compose"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
    assert!(err.contains("\\u{1b}[2Japp\\u{7}"), "{err}");
}

#[test]
fn a_secret_output_named_by_publish_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", CACHE);
    let o = score_gen(d, &["compose", "score.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let compose = std::fs::read_to_string(d.join("compose.yaml")).unwrap();
    let password = compose
        .lines()
        .find_map(|l| l.trim().strip_prefix("REDIS_PASSWORD: "))
        .map(|p| p.trim_matches(['"', '\'']).to_string());
    let state = std::fs::read_to_string(d.join(".score-gen/compose/state.yaml")).unwrap();
    let password = password.unwrap_or_else(|| {
        state
            .lines()
            .find_map(|l| l.trim().strip_prefix("\"password\": "))
            .unwrap()
            .trim_matches(['"', '\'', ','])
            .to_string()
    });
    assert!(password.len() >= 8, "{password}");
    assert!(state.contains(&password));
    for format in ["human", "json"] {
        let o = score_gen(
            d,
            &[
                "--message-format",
                format,
                "compose",
                "score.yaml",
                "--publish",
                "8080:redis#app.cache.password:6379",
            ],
        );
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(!all.contains(&password), "{all}");
        assert!(
            all.contains("<secret redis.default#app.cache.password>"),
            "{all}"
        );
    }
}

#[test]
fn the_default_memory_budget_is_two_gib() {
    // Issue 21: 8 GiB was more than a CI runner has, so the budget never stopped anything there.
    let dir = tempfile::tempdir().unwrap();
    let o = score_gen(dir.path(), &["--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let at = out.find("--max-memory").expect("flag listed");
    assert!(out[at..].contains("[default: 2048]"), "{out}");
}

fn exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const TWO: &str = "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  ra:\n    type: ta\n  rb:\n    type: tb\n";

#[test]
fn programs_and_permissions_are_checked_before_any_runs() {
    // Issue 21: the permission was checked per resource in uid order, so resource a's local
    // program had already run when resource b's failed the run.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", TWO);
    exe(
        &d.join("first.sh"),
        "#!/bin/sh\ntouch ran-first\necho '{\"resource_outputs\": {}}'\n",
    );
    write(d, "a.yaml", "- uri: cmd://./first.sh\n  type: ta\n");
    // A program that does not exist.
    write(d, "b.yaml", "- uri: cmd://./no-such-program\n  type: tb\n");
    let o = score_gen(
        d,
        &[
            "compose",
            "score.yaml",
            "--provisioners",
            "a.yaml",
            "--provisioners",
            "b.yaml",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot start './no-such-program'"), "{err}");
    assert!(
        !d.join("ran-first").exists(),
        "a program ran before the check: {err}"
    );
    // A permission that is missing: an unpinned file from stdin would run a program.
    let mut child = common::exe("score-gen")
        .command()
        .args([
            "--color",
            "never",
            "compose",
            "score.yaml",
            "--provisioners",
            "a.yaml",
            "--provisioners",
            "-",
        ])
        .current_dir(d)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"- uri: cmd:///bin/true\n  type: tb\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--allow-remote-commands"), "{err}");
    assert!(
        !d.join("ran-first").exists(),
        "a program ran before the check: {err}"
    );
    // Both fixed: it runs.
    write(d, "b.yaml", "- uri: cmd://./first.sh#b\n  type: tb\n");
    let o = score_gen(
        d,
        &[
            "compose",
            "score.yaml",
            "--provisioners",
            "a.yaml",
            "--provisioners",
            "b.yaml",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("ran-first").exists());
}

#[test]
fn a_bare_program_name_is_not_found_through_a_relative_path_entry() {
    // Issue 21: `cmd://name` ran the project's `./name` when PATH held `.` or an empty entry;
    // Go's exec.LookPath (the tools) refuses that (ErrDot).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  ra:\n    type: ta\n");
    exe(
        &d.join("sneaky"),
        "#!/bin/sh\ntouch ran-sneaky\necho '{\"resource_outputs\": {}}'\n",
    );
    write(d, "p.yaml", "- uri: cmd://sneaky\n  type: ta\n");
    let system = std::env::var("PATH").unwrap_or_default();
    for path in [
        format!(".:{system}"),
        format!(":{system}"),
        format!("{system}:"),
    ] {
        let o = common::exe("score-gen")
            .command()
            .args([
                "--color",
                "never",
                "compose",
                "score.yaml",
                "--provisioners",
                "p.yaml",
            ])
            .current_dir(d)
            .env("PATH", &path)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "PATH={path}: {err}");
        assert!(err.contains("ErrDot"), "{err}");
        assert!(!d.join("ran-sneaky").exists(), "PATH={path}: ./sneaky ran");
    }
    // On an absolute PATH entry it is found and runs.
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::rename(d.join("sneaky"), bin.join("sneaky")).unwrap();
    let o = common::exe("score-gen")
        .command()
        .args([
            "--color",
            "never",
            "compose",
            "score.yaml",
            "--provisioners",
            "p.yaml",
        ])
        .current_dir(d)
        .env("PATH", format!("{}:{system}", bin.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("ran-sneaky").exists());
}

#[test]
fn the_help_of_a_failed_relative_program_names_the_project_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  ra:\n    type: ta\n");
    write(d, "sub/p.yaml", "- uri: cmd://./missing\n  type: ta\n");
    let o = score_gen(
        d,
        &["compose", "score.yaml", "--provisioners", "sub/p.yaml"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("relative to the project directory"), "{err}");
    assert!(!err.contains("provisioner file's directory"), "{err}");
}

#[test]
fn a_score_file_chooses_a_terraform_module_only_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  db:\n    type: postgres\n    params:\n      source: git::https://example.com/evil.git\n");
    let o = score_gen(d, &["terraform", "score.yaml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--allow-source-params"), "{err}");
    assert!(err.contains("git::https://example.com/evil.git"), "{err}");
    assert!(!d.join("main.tf").exists());
    let o = score_gen(d, &["terraform", "score.yaml", "--allow-source-params"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let main = std::fs::read_to_string(d.join("main.tf")).unwrap();
    assert!(main.contains("git::https://example.com/evil.git"), "{main}");
    // The user's own choice needs no flag.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  db:\n    type: postgres\n");
    let o = score_gen(
        d,
        &[
            "terraform",
            "score.yaml",
            "--module-source",
            "postgres=./mine",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn all_takes_allow_source_params_for_its_terraform_target() {
    // `all` refuses a Score file's module `source` as `terraform` does, and accepts the flag.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  db:\n    type: postgres\n    params:\n      source: git::https://example.com/evil.git\n");
    let o = score_gen(d, &["all", "score.yaml", "-o", "out"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("terraform: "), "{err}");
    assert!(err.contains("--allow-source-params"), "{err}");
    assert!(!d.join("out").exists());
    let o = score_gen(
        d,
        &["all", "score.yaml", "-o", "out", "--allow-source-params"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let main = std::fs::read_to_string(d.join("out/terraform/main.tf")).unwrap();
    assert!(main.contains("git::https://example.com/evil.git"), "{main}");
    assert!(d.join("out/compose.yaml").exists());
    assert!(d.join("out/manifests.yaml").exists());
}

#[test]
fn a_terraform_module_path_with_a_control_character_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  ra:\n    type: ta\n");
    for bad in ["\\0", "\\n", "\\e"] {
        write(
            d,
            "p.yaml",
            &format!("- uri: template://t\n  engine: minijinja\n  type: ta\n  outputs: '{{}}'\n  terraform:\n    files: |\n      \"modules/a{bad}b/main.tf\": \"\"\n"),
        );
        let o = score_gen(d, &["terraform", "score.yaml", "--provisioners", "p.yaml"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{bad}: {err}");
        assert!(err.contains("control character"), "{err}");
        assert!(
            err.contains("provisioner 'template://t', p.yaml:1"),
            "{err}"
        );
        assert!(!d.join("modules").exists(), "{bad}: modules/ was created");
        assert!(!d.join("main.tf").exists());
    }
}

#[test]
fn credentials_in_a_patch_template_uri_are_not_stored() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        loop {
            let mut l = String::new();
            if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                break;
            }
        }
        let body = "- op: delete\n  path: services.app-main.environment\n";
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let uri = format!("https://user:t0ken-s3cret@127.0.0.1:{port}/p.tpl");
    let uri = uri.replace("https://", "http://");
    let pinned = {
        use sha2::Digest;
        let sum = sha2::Sha256::digest(b"- op: delete\n  path: services.app-main.environment\n");
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        format!("{uri}#sha256={hex}")
    };
    let o = score_gen(d, &["init", "--no-sample", "--patch-templates", &pinned]);
    let err = stderr(&o);
    server.join().unwrap();
    assert!(o.status.success(), "{err}");
    assert!(err.contains("are not stored"), "{err}");
    assert!(!err.contains("t0ken"), "{err}");
    let stored =
        std::fs::read_to_string(d.join(".score-gen/compose/patch-templates.yaml")).unwrap();
    assert!(
        !stored.contains("t0ken") && !stored.contains("user:"),
        "{stored}"
    );
    assert!(
        stored.contains(&format!("origin: http://127.0.0.1:{port}/p.tpl")),
        "{stored}"
    );
}

#[test]
fn an_exec_probe_without_a_command_is_refused_by_k8s_as_by_compose() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\n    livenessProbe:\n      exec:\n        command: []\n");
    for target in ["compose", "k8s"] {
        let o = score_gen(d, &[target, "score.yaml"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{target}: {err}");
        assert!(err.contains("exec command is empty"), "{target}: {err}");
        assert!(err.contains("[score.yaml:"), "{target}: {err}");
    }
}

#[test]
fn credentials_in_a_uri_are_not_shown_when_its_fetch_fails() {
    // A port on the loopback address that nothing listens on: the fetch fails at once.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    for (args, uri) in [
        (
            &["init", "--no-sample", "--patch-templates"][..],
            format!("https://user:t0ken-s3cret@127.0.0.1:{port}/p.tpl"),
        ),
        (
            &["compose", "score.yaml", "--provisioners"][..],
            format!("https://t0ken-s3cret@127.0.0.1:{port}/p.yaml"),
        ),
        (
            &["compose", "score.yaml", "--provisioners"][..],
            format!("git-https://u:t0ken-s3cret@127.0.0.1:{port}/o/r.git/p.yaml"),
        ),
    ] {
        for format in ["human", "json"] {
            let mut all_args = vec!["--message-format", format];
            all_args.extend_from_slice(args);
            all_args.push(&uri);
            let o = score_gen(d, &all_args);
            let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
            assert_eq!(o.status.code(), Some(1), "{uri}: {all}");
            assert!(all.contains("127.0.0.1"), "{uri}: {all}");
            assert!(!all.contains("t0ken"), "{uri}: {all}");
        }
    }
}

#[test]
fn deep_values_in_a_patch_template_or_the_state_are_located_errors() {
    // Bounded recursion everywhere a user-controlled structure is walked: a value nested
    // 100,000 deep in a patch template's operation, or in the state, is an error with a place.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    write(
        d,
        "deep.tpl",
        &format!("- op: set\n  path: services.app-main.x\n  value: {deep}\n"),
    );
    let o = score_gen(d, &["init", "--no-sample", "--patch-templates", "deep.tpl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = score_gen(d, &["compose", "score.yaml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("deep.tpl (rendered):3:"), "{err}");
    assert!(!d.join("compose.yaml").exists());

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    let o = score_gen(d, &["compose", "score.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let path = d.join(".score-gen/compose/state.yaml");
    let state = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{state}extra: {deep}\n")).unwrap();
    for args in [&["compose", "score.yaml"][..], &["compose"][..]] {
        let o = score_gen(d, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("state.yaml"), "{err}");
        let lines = state.lines().count() + 1;
        assert!(err.contains(&format!("state.yaml:{lines}:")), "{err}");
    }
}

#[test]
fn a_secret_made_by_the_failing_run_is_not_echoed_by_a_later_resource() {
    // The state before the run holds no secret; resource ra's provisioner makes one, and rb's
    // provisioner fails quoting its param, which is that secret.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  ra:\n    type: ta\n  rb:\n    type: tb\n    params:\n      x: ${resources.ra.password}\n");
    write(
        d,
        "p.yaml",
        "- uri: template://a\n  engine: minijinja\n  type: ta\n  secret_outputs: [password]\n  outputs: |\n    password: fresh-s3cret-{{ uid | length }}\n- uri: template://b\n  engine: minijinja\n  type: tb\n  outputs: |\n    {{ fail(\"bad value \" ~ params.x) }}\n",
    );
    for format in ["human", "json"] {
        let o = score_gen(
            d,
            &[
                "--message-format",
                format,
                "compose",
                "score.yaml",
                "--provisioners",
                "p.yaml",
            ],
        );
        let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(o.status.code(), Some(1), "{all}");
        assert!(!all.contains("fresh-s3cret"), "{all}");
        assert!(all.contains("<secret ta.default#app.ra.password>"), "{all}");
    }
}

#[test]
fn a_secret_of_the_failing_resource_itself_is_not_echoed() {
    // The resource that fails made the secret in this very run: a later section quotes its
    // secret output, or its outputs section renders text that is not YAML around a generated
    // password; in both dialects, human and JSON output show the uid path, never the value.
    let cases = [
        // minijinja: the compose section fails quoting the secret output.
        "- uri: template://a\n  engine: minijinja\n  type: ta\n  secret_outputs: [password]\n  state: |\n    password: {{ state.password | default(rand_alnum(24)) }}\n  outputs: |\n    password: {{ state.password }}\n  compose:\n    services: |\n      {{ fail(\"cannot use \" ~ outputs.password) }}\n",
        // minijinja: the outputs section is not YAML and holds a generated password.
        "- uri: template://a\n  engine: minijinja\n  type: ta\n  secret_outputs: [password]\n  outputs: |\n    password: {{ rand_alnum(24) }}\n    bad: [\n",
        // Go: the same two.
        "- uri: template://a\n  type: ta\n  state: |\n    password: {{ randAlphaNum 24 }}\n  outputs: |\n    password: {{ .State.password }}\n  services: |\n    {{ fail (printf \"cannot use %s\" .State.password) }}\n",
        "- uri: template://a\n  type: ta\n  outputs: |\n    password: {{ randAlphaNum 24 }}\n    bad: [\n",
    ];
    let score = "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  ra:\n    type: ta\n";
    for (i, provisioners) in cases.iter().enumerate() {
        for format in ["human", "json"] {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            write(d, "score.yaml", score);
            write(d, "p.yaml", provisioners);
            let o = score_gen(
                d,
                &[
                    "--message-format",
                    format,
                    "compose",
                    "score.yaml",
                    "--provisioners",
                    "p.yaml",
                ],
            );
            let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
            assert_eq!(o.status.code(), Some(1), "case {i}: {all}");
            assert!(all.contains("<secret ta.default#app.ra"), "case {i}: {all}");
            // Any 24 alphanumerics in a row would be the password.
            let leaked = all
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|w| w.len() == 24);
            assert!(leaked.is_none(), "case {i} {format}: {leaked:?} in {all}");
        }
    }
}

#[test]
fn all_checks_every_target_before_any_target_starts_a_program() {
    // `all` runs the three targets at once: compose's program must not run when k8s's program
    // is missing (or terraform has no provisioner for the type).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\nresources:\n  ra:\n    type: ta\n");
    exe(
        &d.join("first.sh"),
        "#!/bin/sh\ntouch ran-first\necho '{\"resource_outputs\": {}}'\n",
    );
    write(
        d,
        ".score-gen/compose/provisioners/00.yaml",
        "- uri: cmd://./first.sh\n  type: ta\n",
    );
    write(
        d,
        ".score-gen/k8s/provisioners/00.yaml",
        "- uri: cmd://./no-such-program\n  type: ta\n",
    );
    let o = score_gen(d, &["all", "score.yaml", "-o", "out"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot start './no-such-program'"), "{err}");
    assert!(
        !d.join("ran-first").exists(),
        "compose's program ran: {err}"
    );
    assert!(!d.join("out").exists());
    // Every target able to run: compose's program runs.
    write(
        d,
        ".score-gen/k8s/provisioners/00.yaml",
        "- uri: cmd://./first.sh\n  type: ta\n",
    );
    write(
        d,
        ".score-gen/terraform/provisioners/00.yaml",
        "- uri: cmd://./first.sh\n  type: ta\n",
    );
    let o = score_gen(d, &["all", "score.yaml", "-o", "out"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(d.join("ran-first").exists());
}

#[test]
fn listings_escape_control_characters_from_provisioner_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "p.yaml",
        "- uri: \"cmd:///bin/echo\\e]0;pwned\\a\"\n  type: \"t\\e[2J\"\n  description: \"d\\e]0;pwned\\a\\u202Eexe\"\n",
    );
    let o = score_gen(d, &["provisioners", "list", "--provisioners", "p.yaml"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !out.contains('\x1b') && !out.contains('\x07') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(out.contains("d\\u{1b}]0;pwned\\u{7}\\u{202e}exe"), "{out}");
    assert!(out.contains("t\\u{1b}[2J"), "{out}");
}

#[test]
fn two_outputs_of_one_run_may_not_name_one_file() {
    // `--env-file` naming the compose output replaced compose.yaml with the .env skeleton.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "score.yaml", SCORE);
    for env in ["compose.yaml", "./compose.yaml", "sub/../compose.yaml"] {
        std::fs::create_dir_all(d.join("sub")).unwrap();
        let o = score_gen(d, &["compose", "score.yaml", "--env-file", env]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{env}: {err}");
        assert!(err.contains("this run also writes"), "{env}: {err}");
        assert!(!d.join("compose.yaml").exists(), "{env}: written");
    }
    // Through a link to an existing output, too.
    let o = score_gen(d, &["compose", "score.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let before = std::fs::read(d.join("compose.yaml")).unwrap();
    std::os::unix::fs::symlink("compose.yaml", d.join("env-link")).unwrap();
    let o = score_gen(d, &["compose", "score.yaml", "--env-file", "env-link"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read(d.join("compose.yaml")).unwrap(), before);
}

#[test]
fn a_patch_template_linked_out_of_the_project_is_not_copied_into_the_store() {
    // `init --patch-templates p.tpl` with a planted `p.tpl -> /proc/self/environ` copied the
    // environment into patch-templates.yaml (meant to be committed), then every run printed it.
    for (uri, link) in [("p.tpl", "p.tpl"), ("patches", "patches/00.yaml")] {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside-environ");
        std::fs::write(&outside, ENVIRON).unwrap();
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join("patches")).unwrap();
        write(&project, "score.yaml", SCORE);
        std::os::unix::fs::symlink(&outside, project.join(link)).unwrap();
        for format in ["human", "json"] {
            let o = score_gen(
                &project,
                &["--message-format", format, "init", "--patch-templates", uri],
            );
            let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
            assert_eq!(o.status.code(), Some(1), "{uri}: {all}");
            assert!(all.contains("link to a file outside the project"), "{all}");
            assert!(!all.contains("hunter2"), "{all}");
            assert!(
                !project
                    .join(".score-gen/compose/patch-templates.yaml")
                    .exists(),
                "{uri}: stored"
            );
        }
    }
}
