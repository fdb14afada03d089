//! State file, atomic writes and the directory lock.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use score_core::host::fsutil::{atomic_write, atomic_write_all, DirLock};
use score_core::host::StateDir;
use score_core::project::state::STATE_VERSION;
use score_core::project::{ResourceState, State, WorkloadState};
use serde_json::json;

fn sample() -> State {
    let mut s = State::new_random();
    s.workloads.insert(
        "web".into(),
        WorkloadState {
            file: Some("score.yaml".into()),
            dir: Some(".".into()),
            spec: json!({"apiVersion": "score.dev/v1b1", "metadata": {"name": "web"},
                "containers": {"second": {"image": "nginx"}, "first": {"image": "no"}}})
            .as_object()
            .cloned(),
            extras: json!({"builds": {"second": "./second"}})
                .as_object()
                .cloned()
                .unwrap()
                .into(),
        },
    );
    s.workloads.insert("api".into(), WorkloadState::default());
    let mut r = ResourceState::new(
        "postgres",
        "default",
        Some("db".into()),
        "web",
        "template://pg",
    );
    r.params = json!({"z": 1, "a": {"y": "no", "b": "0755"}})
        .as_object()
        .cloned();
    r.metadata = json!({"annotations": {"acme.org/x": "y"}})
        .as_object()
        .cloned();
    r.state =
        json!({"password": "s3cr3t", "n": 3, "f": 1.5, "t": true, "nil": null, "list": [1, "on"]})
            .as_object()
            .cloned()
            .unwrap();
    r.outputs = json!({"host": "pg", "port": 5432})
        .as_object()
        .cloned()
        .unwrap();
    r.secret_outputs = BTreeSet::from(["password".to_string()]);
    r.expression_outputs = BTreeSet::from(["host".to_string()]);
    s.resources.insert("postgres.default#db".into(), r);
    s.resources.insert(
        "dns.default#web.dns".into(),
        ResourceState::new("dns", "default", None, "web", "cmd://./dns.sh"),
    );
    s.shared_state = json!({"zeta": {"b": 1, "a": 2}, "alpha": "x: y"})
        .as_object()
        .cloned()
        .unwrap();
    s
}

#[test]
fn round_trip_is_exact_and_sorted() {
    let s = sample();
    let text = s.to_yaml();
    let back = State::from_yaml("state.yaml", &text).expect("parses");
    assert_eq!(back, s);
    assert_eq!(back.to_yaml(), text, "to_yaml(from_yaml(x)) == x");
    // Readable keys and sorted maps, in JSON (a YAML 1.2 document: YAML tools read it too).
    for key in [
        "\"source_workload\":",
        "\"provisioner\":",
        "\"shared_state\":",
        "\"secret_outputs\":",
        "\"type\": \"postgres\"",
    ] {
        assert!(text.contains(key), "{key} missing in\n{text}");
    }
    assert!(text.find("alpha").unwrap() < text.find("zeta").unwrap());
    assert!(
        text.find("\n        \"a\":").unwrap() < text.find("\n        \"z\":").unwrap(),
        "{text}"
    );
    let as_yaml: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(
        as_yaml,
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    );
    // A state written as block YAML (versions 1 and 2, or by hand) reads the same.
    let yaml = serde_saphyr::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap())
        .unwrap();
    assert_eq!(State::from_yaml("state.yaml", &yaml).unwrap(), s);
    // YAML-1.1-ambiguous strings stay strings.
    assert_eq!(
        back.resources["postgres.default#db"]
            .params
            .as_ref()
            .unwrap()["a"]["y"],
        json!("no")
    );
    assert_eq!(
        back.resources["postgres.default#db"].state["list"],
        json!([1, "on"])
    );
    assert_eq!(back.version, STATE_VERSION);
}

#[test]
fn insertion_order_does_not_change_the_bytes() {
    let mut a = sample();
    let mut b = sample();
    b.seed = a.seed.clone();
    a.shared_state = json!({"x": 1, "y": 2}).as_object().cloned().unwrap();
    b.shared_state = json!({"y": 2, "x": 1}).as_object().cloned().unwrap();
    assert_eq!(a.to_yaml(), b.to_yaml());
}

#[test]
fn seeds_are_random_hex() {
    let a = State::new_random();
    let b = State::new_random();
    assert_ne!(a.seed, b.seed);
    assert_eq!(a.seed.len(), 32);
    assert!(a.seed.bytes().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn corrupted_files_give_located_diagnostics() {
    // Syntax error on line 3.
    let d = State::from_yaml(
        "s.yaml",
        "version: 1\nseed: 0123456789abcdef\nworkloads: [\n",
    )
    .unwrap_err();
    assert_eq!(d.file.as_ref().unwrap().name, "s.yaml");
    assert!(d.span.is_some(), "{d:?}");
    assert!(
        d.message.starts_with("invalid state file s.yaml"),
        "{}",
        d.message
    );
    // Unknown key on line 3.
    let d = State::from_yaml("s.yaml", "version: 1\nseed: ab\nbogus: 1\n").unwrap_err();
    assert!(d.message.contains("bogus"), "{}", d.message);
    assert_eq!(d.span.unwrap().line, 3);
    // Wrong type.
    let d = State::from_yaml("s.yaml", "version: 1\nseed: ab\nresources: 5\n").unwrap_err();
    assert_eq!(d.span.unwrap().line, 3, "{d:?}");
    // A foreign YAML file (a Score workload).
    let d = State::from_yaml(
        "s.yaml",
        "apiVersion: score.dev/v1b1\nmetadata: {name: x}\n",
    )
    .unwrap_err();
    assert!(
        d.message.contains("not a score-gen state file"),
        "{}",
        d.message
    );
    // Not a mapping, empty, binary garbage.
    assert!(State::from_yaml("s.yaml", "- 1\n- 2\n").is_err());
    assert!(State::from_yaml("s.yaml", "")
        .unwrap_err()
        .message
        .contains("empty"));
    assert!(State::from_yaml("s.yaml", "\u{0}\u{1}: [}").is_err());
}

#[test]
fn unknown_version_is_a_clear_error() {
    let d = State::from_yaml("s.yaml", "seed: ab\nversion: 4\n").unwrap_err();
    assert_eq!(
        d.message,
        "unsupported state version 4 in s.yaml; this score-gen reads versions 1 to 3"
    );
    assert_eq!(d.span.unwrap().line, 2);
    // A newer version's keys: the version is the error, not the unknown key.
    let d = State::from_yaml("s.yaml", "version: 4\nseed: ab\nshards: [a]\n").unwrap_err();
    assert!(
        d.message.starts_with("unsupported state version 4"),
        "{}",
        d.message
    );
    let d = State::from_yaml("s.yaml", "seed: ab\nshards: [a]\n").unwrap_err();
    assert!(d.message.contains("it has no `version`"), "{}", d.message);
    let d = State::from_yaml("s.yaml", "version: one\nseed: ab\n").unwrap_err();
    assert!(
        d.message.contains("version must be an integer"),
        "{}",
        d.message
    );
}

#[test]
fn state_dir_load_save() {
    let root = tempfile::tempdir().unwrap();
    let dir = StateDir::open(root.path(), "compose").unwrap();
    let s = dir.load().unwrap();
    assert!(s.resources.is_empty());
    assert!(!dir.state_path().exists(), "load must not create the file");
    let mut s2 = sample();
    s2.seed = s.seed.clone();
    dir.save(&s2).unwrap();
    assert_eq!(
        dir.state_path(),
        root.path().join(".score-gen/compose/state.yaml")
    );
    assert_eq!(dir.load().unwrap(), s2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.state_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    std::fs::write(dir.state_path(), "version: 1\nseed: [\n").unwrap();
    let d = dir.load().unwrap_err();
    assert!(d.message.contains("state.yaml"), "{}", d.message);
    for bad in ["", ".", "..", "a/b", "a\\b"] {
        assert!(StateDir::open(root.path(), bad).is_err(), "{bad:?}");
    }
}

#[test]
fn state_dir_is_exclusive() {
    let root = tempfile::tempdir().unwrap();
    let held = StateDir::open(root.path(), "k8s").unwrap();
    let err =
        StateDir::open_with_timeout(root.path(), "k8s", Duration::from_millis(50)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(
        err.to_string().starts_with("another score-gen is using "),
        "{err}"
    );
    assert!(err.to_string().contains(".score-gen/k8s"), "{err}");
    // Another target is independent.
    StateDir::open_with_timeout(root.path(), "compose", Duration::from_millis(50)).unwrap();
    drop(held);
    StateDir::open_with_timeout(root.path(), "k8s", Duration::from_millis(50)).unwrap();
}

#[test]
fn concurrent_read_modify_write_loses_nothing() {
    const N: usize = 8;
    let root = Arc::new(tempfile::tempdir().unwrap());
    let barrier = Arc::new(Barrier::new(N));
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let root = root.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                let dir =
                    StateDir::open_with_timeout(root.path(), "compose", Duration::from_secs(60))
                        .expect("lock");
                let mut s = dir.load().expect("load");
                // Widen the race window: a missing lock would now lose updates.
                thread::sleep(Duration::from_millis(5));
                s.shared_state.insert(format!("writer-{i}"), json!(i));
                s.workloads
                    .insert(format!("w{i}"), WorkloadState::default());
                dir.save(&s).expect("save");
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let dir = StateDir::open(root.path(), "compose").unwrap();
    let s = dir.load().unwrap();
    for i in 0..N {
        assert_eq!(s.shared_state[&format!("writer-{i}")], json!(i));
        assert!(s.workloads.contains_key(&format!("w{i}")));
    }
}

#[test]
fn concurrent_atomic_writers_never_tear() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("out.yaml"));
    // Each writer writes a large, self-identifying payload; a torn file would mix writers.
    let payload = |i: u8| vec![b'a' + i; 256 * 1024];
    atomic_write(&path, &payload(0)).unwrap();
    let writers: Vec<_> = (0..4u8)
        .map(|i| {
            let path = path.clone();
            thread::spawn(move || {
                for _ in 0..20 {
                    atomic_write(&path, &payload(i)).unwrap();
                }
            })
        })
        .collect();
    let reader = {
        let path = path.clone();
        thread::spawn(move || {
            for _ in 0..200 {
                let bytes = std::fs::read(&*path).unwrap();
                assert_eq!(bytes.len(), 256 * 1024, "torn length");
                assert!(bytes.iter().all(|b| *b == bytes[0]), "mixed content");
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    reader.join().unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "temp files left: {names:?}");
}

#[test]
fn atomic_write_all_failure_leaves_previous_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    let blocker = dir.path().join("file");
    std::fs::write(&a, "old a").unwrap();
    std::fs::write(&b, "old b").unwrap();
    std::fs::write(&blocker, "not a dir").unwrap();
    let files: Vec<(PathBuf, Vec<u8>)> = vec![
        (a.clone(), b"new a".to_vec()),
        (b.clone(), b"new b".to_vec()),
        (blocker.join("child.yaml"), b"x".to_vec()),
    ];
    let err = atomic_write_all(&files).unwrap_err();
    assert!(err.to_string().contains("child.yaml"), "{err}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "old b");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a.yaml", "b.yaml", "file"], "no temp files left");
    // The same set without the bad path succeeds.
    atomic_write_all(&files[..2]).unwrap();
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "new b");
}

#[test]
fn dir_lock_excludes_and_releases() {
    let dir = tempfile::tempdir().unwrap();
    let lock = DirLock::acquire(dir.path(), Duration::from_millis(10)).unwrap();
    assert_eq!(lock.path(), dir.path().join(".lock"));
    let waiter = {
        let d = dir.path().to_path_buf();
        thread::spawn(move || DirLock::acquire(&d, Duration::from_secs(10)).map(|_| ()))
    };
    thread::sleep(Duration::from_millis(50));
    drop(lock);
    waiter.join().unwrap().expect("acquired after release");
    let missing = dir.path().join("nope");
    assert!(DirLock::acquire(&missing, Duration::from_millis(10)).is_err());
}

#[test]
fn a_planted_state_with_an_empty_or_short_seed_is_refused() {
    for seed in ["\"\"", "ab", "0123456789abcde"] {
        let d = State::from_yaml("s.yaml", &format!("version: 1\nseed: {seed}\n")).unwrap_err();
        assert_eq!(d.code, score_core::Code::StateInvalid, "{seed}");
        assert!(d.message.contains("fewer than the 16"), "{}", d.message);
    }
    assert!(State::from_yaml("s.yaml", "version: 1\nseed: 0123456789abcdef\n").is_ok());
}

#[test]
fn a_version_1_state_loads_as_the_current_version() {
    let v1 = "version: 1\nseed: 0123456789abcdef\nworkloads:\n  web:\n    file: score.yaml\n";
    let s = State::from_yaml("s.yaml", v1).unwrap();
    assert_eq!(s.version, STATE_VERSION);
    let web = &s.workloads["web"];
    assert_eq!(web.file.as_deref(), Some("score.yaml"));
    assert!(web.spec.is_none() && web.dir.is_none());
    assert!(
        s.to_yaml().starts_with("{\n  \"version\": 3,\n"),
        "{}",
        s.to_yaml()
    );
}

#[test]
fn a_version_2_workloads_builds_move_to_its_extras() {
    let v2 = "version: 2\nseed: 0123456789abcdef\nworkloads:\n  web:\n    file: score.yaml\n    builds:\n      main: ./web\n";
    let s = State::from_yaml("s.yaml", v2).unwrap();
    let web = &s.workloads["web"];
    assert_eq!(web.extras.as_map()["builds"]["main"], "./web");
    let text = s.to_yaml();
    assert!(
        text.contains(
            "      \"extras\": {\n        \"builds\": {\n          \"main\": \"./web\"\n"
        ),
        "{text}"
    );
    assert_eq!(State::from_yaml("s.yaml", &text).unwrap(), s);
}

#[test]
fn a_stored_workload_keeps_its_key_order() {
    let s = sample();
    let back = State::from_yaml("s.yaml", &s.to_yaml()).unwrap();
    let spec = back.workloads["web"].spec.as_ref().unwrap();
    let names: Vec<&String> = spec["containers"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["second", "first"]);
    let text = back.workloads["web"].spec_yaml().unwrap();
    assert!(
        text.find("\n  second:").unwrap() < text.find("\n  first:").unwrap(),
        "{text}"
    );
    // "no" stays a string (YAML 1.1 would read a bare no as false).
    assert_eq!(spec["containers"]["first"]["image"], "no");
}

#[test]
fn an_empty_or_short_seed_is_refused_at_its_line_and_column() {
    for (text, line) in [
        ("version: 2\nseed: \"\"\n", 2),
        ("version: 2\nworkloads: {}\nseed: ab\n", 3),
    ] {
        let d = State::from_yaml("s.yaml", text).unwrap_err();
        assert!(d.message.contains("the seed has"), "{}", d.message);
        let span = d.span.expect("located");
        assert_eq!((span.line, span.column), (line, 1), "{text}");
    }
}

#[test]
fn the_state_reader_has_a_node_bound() {
    // Issue 21: the node budget scaled with the file alone, so a 32 MB state of 16 million
    // list items read as ~4 GB. Past MAX_STATE_NODES it is an error, located.
    let n = score_core::project::state::MAX_STATE_NODES + 10;
    let mut text = String::with_capacity(2 * n + 200);
    text.push_str("version: 2\nseed: 0123456789abcdef0123456789abcdef\nresources:\n  a.default#w.a:\n    type: a\n    class: default\n    source_workload: w\n    provisioner: p\n    state:\n      l: [");
    for _ in 0..n {
        text.push_str("0,");
    }
    text.push_str("]\n");
    let d = State::from_yaml("s.yaml", &text).unwrap_err();
    assert!(
        d.message.starts_with("invalid state file s.yaml"),
        "{}",
        d.message
    );
    assert!(d.span.is_some(), "{d:?}");
}
