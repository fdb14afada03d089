//! Latency budgets of the language server (BENCHMARKS.md), measured on the server in memory
//! (no transport): the diagnostics for a 500-line Score file after one keystroke, and a
//! completion (and a keystroke) in a project of 100 open workloads. Each budget is 20 ms for the
//! median of 41 runs. Ignored by default (a debug build says nothing about speed); CI runs it in
//! the release build (.ci/run, with `large_project`). By hand:
//!
//! ```text
//! cargo test --release -p score-lsp --test budget -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use lsp_server::Message;
use score_lsp::{notification, request, Config, Server, TargetInfo};
use serde_json::{json, Value};

const BUDGET: Duration = Duration::from_millis(20);
const RUNS: usize = 41;

fn server() -> Server {
    let mut s = Server::new(Config {
        targets: vec![TargetInfo {
            name: "compose".into(),
            default_provisioners: score_target_compose::DEFAULT_PROVISIONERS.into(),
        }],
    });
    s.handle(request(1, "initialize", json!({"capabilities": {}})));
    s
}

/// A valid Score file of `containers` containers (about 45 lines each) and five resources.
fn workload(name: &str, containers: usize) -> String {
    let mut s = format!("apiVersion: score.dev/v1b1\nmetadata:\n  name: {name}\n  annotations:\n    team: core\ncontainers:\n");
    for c in 0..containers {
        s.push_str(&format!("  c{c}:\n    image: registry.example/app-{c}:1.2.3\n    command: [\"/bin/app\"]\n    args: [\"--port\", \"80{c:02}\"]\n    variables:\n"));
        for v in 0..20 {
            let value = match v % 4 {
                0 => "${resources.db.host}:${resources.db.port}".to_string(),
                1 => "${metadata.name}".to_string(),
                2 => "${resources.cache.host}".to_string(),
                _ => format!("plain-value-{v}"),
            };
            s.push_str(&format!("      VAR_{v}: \"{value}\"\n"));
        }
        s.push_str(
            "    resources:\n      limits:\n        memory: \"128Mi\"\n        cpu: \"500m\"\n",
        );
        s.push_str(
            "    livenessProbe:\n      httpGet:\n        path: /healthz\n        port: 8080\n",
        );
        s.push_str(
            "    readinessProbe:\n      httpGet:\n        path: /ready\n        port: 8080\n",
        );
        s.push_str("    volumes:\n      /data:\n        source: ${resources.data}\n");
    }
    s.push_str("service:\n  ports:\n    web:\n      port: 80\n      targetPort: 8080\n");
    s.push_str("resources:\n  db:\n    type: postgres\n  cache:\n    type: redis\n  data:\n    type: volume\n");
    s.push_str("  dns:\n    type: dns\n  route:\n    type: route\n    params:\n      host: ${resources.dns.host}\n      path: /\n      port: 80\n");
    s
}

fn uri(i: usize) -> String {
    format!("file:///nonexistent-score-lsp-budget/w{i}/score.yaml")
}

fn open(s: &mut Server, uri: &str, text: &str) -> Vec<Message> {
    s.handle(notification(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    ))
}

/// Diagnostics published for `uri` in `out`.
fn diags(out: &[Message], uri: &str) -> Vec<Value> {
    out.iter()
        .filter_map(|m| match m {
            Message::Notification(n) if n.params["uri"] == uri => {
                Some(n.params["diagnostics"].as_array().unwrap().clone())
            }
            _ => None,
        })
        .next_back()
        .expect("diagnostics published")
}

/// Median and maximum of `RUNS` timings of `f`.
fn measure(mut f: impl FnMut(usize)) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[RUNS / 2], times[RUNS - 1])
}

/// One keystroke in `VAR_0`'s value of the first container: a char typed, then erased.
fn keystroke(s: &mut Server, uri: &str, text: &str, i: usize) -> Vec<Message> {
    let line = text.lines().position(|l| l.contains("VAR_3:")).unwrap() as u32;
    let col = text.lines().nth(line as usize).unwrap().len() as u32 - 1;
    let change = if i.is_multiple_of(2) {
        json!({"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}}, "text": "x"})
    } else {
        json!({"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 1}}, "text": ""})
    };
    s.handle(notification(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [change]}),
    ))
}

#[test]
#[ignore = "a latency budget: run in release (see the module doc)"]
fn keystroke_in_a_500_line_file() {
    let text = workload("big", 12);
    let lines = text.lines().count();
    assert!((500..560).contains(&lines), "{lines} lines");
    let mut s = server();
    let u = uri(0);
    assert_eq!(diags(&open(&mut s, &u, &text), &u), Vec::<Value>::new());
    let (median, max) = measure(|i| {
        let out = keystroke(&mut s, &u, &text, i);
        assert_eq!(diags(&out, &u), Vec::<Value>::new());
    });
    println!("keystroke, {lines}-line file: median {median:?}, max {max:?} (budget {BUDGET:?})");
    assert!(
        median < BUDGET,
        "median {median:?} over the {BUDGET:?} budget"
    );
}

#[test]
#[ignore = "a latency budget: run in release (see the module doc)"]
fn completion_and_keystroke_in_100_workloads() {
    let mut s = server();
    let texts: Vec<String> = (0..100).map(|i| workload(&format!("w{i}"), 1)).collect();
    for (i, t) in texts.iter().enumerate() {
        open(&mut s, &uri(i), t);
    }
    let total: usize = texts.iter().map(|t| t.lines().count()).sum();
    let u = uri(50);
    let text = &texts[50];
    // `${resources.db.` being typed: the outputs of postgres.
    let line = text.lines().position(|l| l.contains("VAR_0:")).unwrap() as u32;
    let col = text
        .lines()
        .nth(line as usize)
        .unwrap()
        .find("host}")
        .unwrap() as u32;
    let (median, max) = measure(|i| {
        let out = s.handle(request(
            1000 + i as i32,
            "textDocument/completion",
            json!({"textDocument": {"uri": u}, "position": {"line": line, "character": col}}),
        ));
        let Message::Response(r) = &out[0] else {
            panic!()
        };
        let items = r.result.as_ref().unwrap().as_array().unwrap();
        assert_eq!(items[0]["label"], "host");
    });
    println!("completion, 100 workloads ({total} lines): median {median:?}, max {max:?} (budget {BUDGET:?})");
    assert!(
        median < BUDGET,
        "median {median:?} over the {BUDGET:?} budget"
    );

    let (median, max) = measure(|i| {
        let out = keystroke(&mut s, &u, text, i);
        assert_eq!(diags(&out, &u), Vec::<Value>::new());
    });
    println!("keystroke, 100 workloads (all republished): median {median:?}, max {max:?} (budget {BUDGET:?})");
    assert!(
        median < BUDGET,
        "median {median:?} over the {BUDGET:?} budget"
    );
}
