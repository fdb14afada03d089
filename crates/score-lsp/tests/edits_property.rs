//! Property test: random edit sequences and requests. The server never fails a request (a
//! panic would come back as an internal error), and after every edit its diagnostics for the
//! file are exactly what score-core's `load_workload` (what `score-gen validate` runs) says for
//! the same text: same codes, messages, help and ranges. The expected side is computed here,
//! independently of the server's position code.

use lsp_server::Message;
use proptest::prelude::*;
use score_lsp::{notification, request, Config, Server};
use serde_json::{json, Value};

const URI: &str = "file:///nonexistent-score-lsp-prop/score.yaml";

const SEEDS: &[&str] = &[
    "apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n    variables:\n      DB: ${resources.db.host}\nresources:\n  db:\n    type: postgres\n",
    "apiVersion: score.dev/v1b1\nmetadata: {name: café}\ncontainers: {m: {image: \"x\", before: {n: {ready: complete}}}, n: {image: y}}\n",
    "",
];

const FRAGMENTS: &[&str] = &[
    "\n",
    "  ",
    "    ",
    ": ",
    "- ",
    "${",
    "}",
    "resources.",
    "metadata.",
    "db",
    "type",
    "image",
    "x",
    "é",
    "🎉",
    "{",
    "[",
    "]",
    "\"",
    "'",
    "#",
    "name: a",
    "containers:",
    "---\n",
    "&a ",
    "*a",
    "!!str ",
    "\t",
];

/// (line, UTF-16 column) of char index `ci`, computed by counting.
fn pos_of(text: &str, ci: usize) -> (u32, u32) {
    let (mut line, mut col) = (0u32, 0u32);
    for c in text.chars().take(ci) {
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += c.len_utf16() as u32;
        }
    }
    (line, col)
}

fn byte_to_char(text: &str, b: usize) -> usize {
    text[..b.min(text.len())].chars().count()
}

fn lsp_range(text: &str, offset: usize, len: usize) -> Value {
    let (sl, sc) = pos_of(text, byte_to_char(text, offset));
    let (el, ec) = pos_of(text, byte_to_char(text, offset + len));
    json!({"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}})
}

/// What the server must publish for `text`: validate's errors, as LSP diagnostics.
fn expected(text: &str) -> Vec<(String, String, Value)> {
    let opts = score_core::LoadOptions::default();
    let mut out: Vec<(String, String, Value)> =
        match score_core::load_workload(URI, text.as_bytes(), &opts) {
            Ok(loaded) => {
                // One loadable file: the project's checks, and (no provisioners) one
                // warning per resource.
                let input = score_core::project::WorkloadInput {
                    loaded: loaded.clone(),
                    file: Some(URI.into()),
                };
                let mut v: Vec<(String, String, Value)> =
                    score_core::project::check_project(&[input])
                        .err()
                        .map(|d| d.0)
                        .unwrap_or_default()
                        .iter()
                        .map(|d| one(text, d))
                        .collect();
                v.extend(loaded.workload.resources.keys().map(|_| {
                    (
                        "score::provision::no-match".into(),
                        String::new(),
                        Value::Null,
                    )
                }));
                v
            }
            Err(d) => d.0.iter().map(|d| one(text, d)).collect(),
        };
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

fn one(text: &str, d: &score_core::Diagnostic) -> (String, String, Value) {
    let mut m = d.message.clone();
    if let Some(h) = &d.help {
        m.push_str("\nhelp: ");
        m.push_str(h);
    }
    let r = match d.span {
        Some(s) => lsp_range(text, s.offset, s.len),
        None => lsp_range(text, 0, 0),
    };
    (d.code.as_str().to_string(), m, r)
}

fn published(out: &[Message]) -> Option<Vec<(String, String, Value)>> {
    let mut found = None;
    for m in out {
        let Message::Notification(n) = m else {
            continue;
        };
        if n.params["uri"] != URI {
            continue;
        }
        let mut v: Vec<(String, String, Value)> = n.params["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let code = d["code"].as_str().unwrap().to_string();
                if code == "score::provision::no-match" {
                    assert_eq!(d["severity"], 2);
                    (code, String::new(), Value::Null)
                } else {
                    assert_eq!(d["severity"], 1);
                    (
                        code,
                        d["message"].as_str().unwrap().to_string(),
                        d["range"].clone(),
                    )
                }
            })
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        found = Some(v);
    }
    found
}

#[derive(Debug, Clone)]
enum Step {
    /// Replace chars [at, at+len) of the text by a fragment.
    Edit { at: usize, len: usize, frag: usize },
    /// An edit whose range lies past the end (a client out of step), then a resync.
    OutOfRange { line: u32, character: u32 },
    /// A request at a char index.
    Ask { method: usize, at: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0usize..400, 0usize..6, 0..FRAGMENTS.len())
            .prop_map(|(at, len, frag)| Step::Edit { at, len, frag }),
        1 => (0u32..1000, 0u32..1000)
            .prop_map(|(line, character)| Step::OutOfRange { line, character }),
        3 => (0usize..4, 0usize..400).prop_map(|(method, at)| Step::Ask { method, at }),
    ]
}

fn ok_response(out: &[Message]) {
    for m in out {
        if let Message::Response(r) = m {
            assert!(r.error.is_none(), "request failed: {:?}", r.error);
        }
    }
}

proptest! {
    // 128 cases by default (about a second); PROPTEST_CASES=N for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(128),
        .. ProptestConfig::default()
    })]
    #[test]
    fn diagnostics_follow_validate(seed in 0..SEEDS.len(), steps in prop::collection::vec(step(), 1..25)) {
        let mut server = Server::new(Config::default());
        server.handle(request(1, "initialize", json!({"capabilities": {}})));
        let mut text = SEEDS[seed].to_string();
        let mut version = 1;
        let out = server.handle(notification("textDocument/didOpen", json!({"textDocument":
            {"uri": URI, "languageId": "yaml", "version": version, "text": text}})));
        prop_assert_eq!(published(&out), Some(expected(&text)));
        let mut id = 10;
        for s in steps {
            version += 1;
            match s {
                Step::Edit { at, len, frag } => {
                    let n = text.chars().count();
                    let a = at.min(n);
                    let b = (a + len).min(n);
                    let (sl, sc) = pos_of(&text, a);
                    let (el, ec) = pos_of(&text, b);
                    let start = text.char_indices().nth(a).map_or(text.len(), |x| x.0);
                    let end = text.char_indices().nth(b).map_or(text.len(), |x| x.0);
                    text.replace_range(start..end, FRAGMENTS[frag]);
                    let out = server.handle(notification("textDocument/didChange", json!({
                        "textDocument": {"uri": URI, "version": version},
                        "contentChanges": [{"range": {"start": {"line": sl, "character": sc},
                            "end": {"line": el, "character": ec}}, "text": FRAGMENTS[frag]}]})));
                    prop_assert_eq!(published(&out), Some(expected(&text)), "text: {:?}", text);
                }
                Step::OutOfRange { line, character } => {
                    let out = server.handle(notification("textDocument/didChange", json!({
                        "textDocument": {"uri": URI, "version": version},
                        "contentChanges": [{"range": {"start": {"line": line, "character": character},
                            "end": {"line": line / 2, "character": 0}}, "text": "#"}]})));
                    prop_assert!(published(&out).is_some());
                    version += 1;
                    let out = server.handle(notification("textDocument/didChange", json!({
                        "textDocument": {"uri": URI, "version": version},
                        "contentChanges": [{"text": text}]})));
                    prop_assert_eq!(published(&out), Some(expected(&text)));
                }
                Step::Ask { method, at } => {
                    let (line, character) = pos_of(&text, at.min(text.chars().count()));
                    id += 1;
                    let pos = json!({"line": line, "character": character});
                    let params = match method {
                        3 => json!({"textDocument": {"uri": URI},
                            "range": {"start": pos, "end": pos}, "context": {"diagnostics": []}}),
                        _ => json!({"textDocument": {"uri": URI}, "position": pos}),
                    };
                    let m = ["textDocument/completion", "textDocument/hover",
                        "textDocument/definition", "textDocument/codeAction"][method];
                    ok_response(&server.handle(request(id, m, params)));
                }
            }
        }
    }
}
