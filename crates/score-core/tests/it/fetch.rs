//! Provisioner URI fetching: local files and directories, http via curl, git via git, pins.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::Duration;

use score_core::host::fetch::{fetch, FetchOptions};
use sha2::{Digest, Sha256};

fn opts() -> FetchOptions {
    FetchOptions::default()
}

fn sha(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// True when `prog` runs; otherwise fails under CI=true and prints a skip locally.
fn have(prog: &str) -> bool {
    let ok = Command::new(prog)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("`{prog}` is required for this test under CI=true but was not found");
        }
        eprintln!("SKIP: `{prog}` not found; install it to run this test");
    }
    ok
}

#[test]
fn local_file_relative_absolute_and_file_scheme() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), "- uri: template://x\n").unwrap();
    let got = fetch("p.yaml", dir.path(), &opts()).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text, "- uri: template://x\n");
    assert_eq!(got[0].name, "p.yaml");
    assert_eq!(got[0].uri, "p.yaml");
    assert_eq!(got[0].dir.as_deref(), Some(dir.path()));
    let abs = dir.path().join("p.yaml");
    let abs = abs.to_str().unwrap();
    assert_eq!(
        fetch(abs, Path::new("/"), &opts()).unwrap()[0].text,
        got[0].text
    );
    let via_scheme = fetch(&format!("file://{abs}"), Path::new("/"), &opts()).unwrap();
    assert_eq!(via_scheme[0].text, got[0].text);
    assert_eq!(via_scheme[0].uri, format!("file://{abs}"));
}

#[test]
fn directory_lists_yaml_files_sorted() {
    let dir = tempfile::tempdir().unwrap();
    for n in [
        "c-provisioner.yaml",
        "a-provisioner.yaml",
        "b-provisioner.yml",
        "README.md",
    ] {
        std::fs::write(dir.path().join(n), format!("# {n}\n")).unwrap();
    }
    std::fs::create_dir(dir.path().join("sub.yaml")).unwrap();
    let got = fetch("./", dir.path(), &opts()).unwrap();
    let names: Vec<_> = got.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "a-provisioner.yaml",
            "b-provisioner.yml",
            "c-provisioner.yaml"
        ]
    );
    assert_eq!(got[0].uri, "./a-provisioner.yaml");
    assert_eq!(got[2].text, "# c-provisioner.yaml\n");
    let d = dir.path().to_str().unwrap();
    let got = fetch(&format!("file://{d}"), Path::new("/"), &opts()).unwrap();
    assert_eq!(got[1].uri, format!("file://{d}/b-provisioner.yml"));

    let empty = tempfile::tempdir().unwrap();
    let err = fetch(".", empty.path(), &opts()).unwrap_err();
    assert_eq!(
        err.message,
        "cannot get .: directory . contains no .yaml or .yml files"
    );
}

#[test]
fn missing_file_names_the_uri() {
    let dir = tempfile::tempdir().unwrap();
    let err = fetch("./does/not/exist.txt", dir.path(), &opts()).unwrap_err();
    assert_eq!(
        err.message,
        "cannot get ./does/not/exist.txt: open ./does/not/exist.txt: no such file or directory"
    );
}

#[test]
fn size_limit_and_bad_scheme_and_utf8() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.yaml"), "ab").unwrap();
    let small = FetchOptions {
        max_bytes: 1,
        ..opts()
    };
    let err = fetch("big.yaml", dir.path(), &small).unwrap_err();
    assert_eq!(
        err.message,
        "cannot get big.yaml: failed to read file: 1 byte limit exceeded"
    );
    let err = fetch("ftp://x/y", dir.path(), &opts()).unwrap_err();
    assert_eq!(
        err.message,
        "cannot get ftp://x/y: unsupported scheme 'ftp'"
    );
    std::fs::write(dir.path().join("bin.yaml"), [0xff, 0xfe]).unwrap();
    assert!(fetch("bin.yaml", dir.path(), &opts())
        .unwrap_err()
        .message
        .contains("not UTF-8"));
}

#[test]
fn sha256_pin_match_and_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.yaml"), "hello\n").unwrap();
    let good = sha("hello\n");
    let got = fetch(
        &format!("p.yaml#sha256={}", good.to_uppercase()),
        dir.path(),
        &opts(),
    )
    .unwrap();
    assert_eq!(got[0].text, "hello\n");
    assert_eq!(
        got[0].uri, "p.yaml",
        "the pin is not part of the file's uri"
    );
    let bad = "0".repeat(64);
    let err = fetch(&format!("p.yaml#sha256={bad}"), dir.path(), &opts()).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "cannot get p.yaml#sha256={bad}: integrity check failed: expected sha256 {bad}, got sha256 {good}"
        )
    );
    let err = fetch("p.yaml#sha256=xyz", dir.path(), &opts()).unwrap_err();
    assert!(
        err.message.contains("expected 64 hexadecimal digits"),
        "{}",
        err.message
    );
    let err = fetch(&format!(".#sha256={good}"), dir.path(), &opts()).unwrap_err();
    assert!(err.message.contains("is a directory"), "{}", err.message);
}

/// Serves `count` requests on 127.0.0.1: `/ok.yaml` → 200 with `body`, anything else → 404.
fn serve(body: &'static str, count: usize) -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        for _ in 0..count {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                    break;
                }
            }
            let (status, content) = if request_line.starts_with("GET /ok.yaml ") {
                ("200 OK", body)
            } else {
                ("404 Not Found", "nope")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{content}",
                content.len()
            );
        }
    });
    (port, handle)
}

#[test]
fn http_via_curl() {
    if !have("curl") {
        return;
    }
    let (port, server) = serve("- uri: template://http\n", 3);
    let base = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/ok.yaml");
    // Plain http:// without a pin is refused before any request is made.
    let err = fetch(&url, base.path(), &opts()).unwrap_err();
    assert!(
        err.message
            .contains("plain http:// is refused without a #sha256= pin"),
        "{}",
        err.message
    );
    let pinned = format!("{url}#sha256={}", sha("- uri: template://http\n"));
    let got = fetch(&pinned, base.path(), &opts()).unwrap();
    assert_eq!(got[0].text, "- uri: template://http\n");
    assert_eq!(got[0].name, "ok.yaml");
    assert_eq!(got[0].dir, None);
    assert_eq!(got[0].uri, url);
    assert!(got[0].remote && got[0].pinned && got[0].trusted());
    assert_eq!(fetch(&pinned, base.path(), &opts()).unwrap()[0].uri, url);
    let missing = format!("http://127.0.0.1:{port}/missing.yaml");
    let missing_pinned = format!("{missing}#sha256={}", sha("x"));
    let err = fetch(&missing_pinned, base.path(), &opts()).unwrap_err();
    assert_eq!(
        err.message,
        format!("cannot get {missing_pinned}: GET {missing} non-200 status code: 404")
    );
    server.join().unwrap();
    // Nobody listens any more: a transport error.
    let err = fetch(&pinned, base.path(), &opts()).unwrap_err();
    assert!(
        err.message
            .starts_with(&format!("cannot get {pinned}: failed to make get request")),
        "{}",
        err.message
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_file_repository() {
    if !have("git") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("provs.git");
    std::fs::create_dir_all(repo.join("compose/nested")).unwrap();
    std::fs::write(repo.join("compose/b.provisioners.yaml"), "- b\n").unwrap();
    std::fs::write(repo.join("compose/a.provisioners.yaml"), "- a\n").unwrap();
    std::fs::write(repo.join("compose/notes.md"), "x").unwrap();
    std::fs::write(repo.join("compose/nested/c.yaml"), "- c\n").unwrap();
    std::fs::write(repo.join("top.yaml"), "- top\n").unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    let r = repo.to_str().unwrap();

    let one = fetch(&format!("git-file://{r}/top.yaml"), tmp.path(), &opts()).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].text, "- top\n");
    assert_eq!(one[0].name, "top.yaml");
    assert_eq!(one[0].dir, None, "the checkout is temporary");

    let uri = format!("git-file://{r}/compose/");
    let many = fetch(&uri, tmp.path(), &opts()).unwrap();
    let names: Vec<_> = many.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a.provisioners.yaml", "b.provisioners.yaml"]);
    assert_eq!(
        many[0].uri,
        format!("git-file://{r}/compose/a.provisioners.yaml")
    );
    assert_eq!(many[1].text, "- b\n");

    // Relative repository path, resolved against the base directory, with a pin.
    let pinned = format!("git-file://provs.git/top.yaml#sha256={}", sha("- top\n"));
    assert_eq!(
        fetch(&pinned, tmp.path(), &opts()).unwrap()[0].text,
        "- top\n"
    );

    let err = fetch(&format!("git-file://{r}/nope.yaml"), tmp.path(), &opts()).unwrap_err();
    assert!(
        err.message.contains("'nope.yaml' does not exist"),
        "{}",
        err.message
    );
    let err = fetch(
        &format!("git-file://{r}/../etc/passwd"),
        tmp.path(),
        &opts(),
    )
    .unwrap_err();
    assert!(
        err.message.contains("must not contain '..'"),
        "{}",
        err.message
    );
    let err = fetch(
        &format!("git-file://{}/missing.git/x.yaml", tmp.path().display()),
        tmp.path(),
        &opts(),
    )
    .unwrap_err();
    assert!(err.message.contains("failed to fetch"), "{}", err.message);
    let err = fetch("git-https://github.com/org/repo/path", tmp.path(), &opts()).unwrap_err();
    assert_eq!(
        err.message,
        "cannot get git-https://github.com/org/repo/path: invalid git url, expected a path with ../<REPO>.git/<PATH>"
    );
}

/// Serves one request on 127.0.0.1 with a chunked body of `chunks` chunks of 64 KiB each (no
/// Content-Length, so curl's `--max-filesize` cannot see the size up front). Returns the port
/// and a handle yielding how many bytes the server managed to send.
fn serve_chunked(chunks: usize) -> (u16, thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return 0;
        };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        loop {
            let mut l = String::new();
            if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                break;
            }
        }
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        if stream.write_all(head.as_bytes()).is_err() {
            return 0;
        }
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        for _ in 0..chunks {
            let ok = write!(stream, "{:x}\r\n", chunk.len()).is_ok()
                && stream.write_all(&chunk).is_ok()
                && stream.write_all(b"\r\n").is_ok();
            if !ok {
                return sent;
            }
            sent += chunk.len();
        }
        let _ = stream.write_all(b"0\r\n\r\n");
        sent
    });
    (port, handle)
}

#[test]
fn http_size_limit_holds_for_chunked_responses() {
    if !have("curl") {
        return;
    }
    // 64 MiB offered, 100 kB allowed.
    let (port, server) = serve_chunked(1024);
    let base = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/big.yaml#sha256={}", sha("x"));
    let opts = FetchOptions {
        max_bytes: 100_000,
        ..opts()
    };
    let err = fetch(&url, base.path(), &opts).unwrap_err();
    assert!(
        err.message
            .ends_with("failed to read response body: 100000 byte limit exceeded"),
        "{}",
        err.message
    );
    // curl was stopped long before the end: far less than the 64 MiB went out (socket
    // buffers hold a few MiB at most).
    let sent = server.join().unwrap();
    assert!(sent < 32 * 1024 * 1024, "server sent {sent} bytes");
}
