//! The server driven in memory, message by message, as an editor would: every answer checked
//! against what `score-gen validate` and the provisioners say.

use std::path::Path;

use lsp_server::Message;
use score_lsp::{notification, request, Config, Server, TargetInfo};
use serde_json::{json, Value};

fn config() -> Config {
    Config {
        targets: vec![TargetInfo {
            name: "compose".into(),
            default_provisioners: score_target_compose::DEFAULT_PROVISIONERS.into(),
        }],
    }
}

fn uri(p: &Path) -> String {
    format!("file://{}", p.display())
}

struct Client {
    server: Server,
    next_id: i32,
}

impl Client {
    fn new(root: &Path) -> Self {
        let mut c = Client {
            server: Server::new(config()),
            next_id: 0,
        };
        let r = c.request(
            "initialize",
            json!({"rootUri": uri(root), "capabilities": {}}),
        );
        assert!(r["capabilities"]["completionProvider"].is_object(), "{r}");
        c.server
            .handle(notification("initialized", json!({})))
            .is_empty()
            .then_some(())
            .expect("nothing answers `initialized`");
        c
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let out = self.server.handle(request(self.next_id, method, params));
        assert_eq!(out.len(), 1, "{out:?}");
        let Message::Response(r) = &out[0] else {
            panic!("{out:?}")
        };
        assert!(r.error.is_none(), "{method}: {:?}", r.error);
        r.result.clone().unwrap_or(Value::Null)
    }

    /// Sends a notification; returns the diagnostics published, by URI.
    fn notify(&mut self, method: &str, params: Value) -> Vec<(String, Vec<Value>)> {
        self.server
            .handle(notification(method, params))
            .into_iter()
            .map(|m| {
                let Message::Notification(n) = m else {
                    panic!("{m:?}")
                };
                assert_eq!(n.method, "textDocument/publishDiagnostics");
                let diags = n.params["diagnostics"].as_array().unwrap().clone();
                (n.params["uri"].as_str().unwrap().to_string(), diags)
            })
            .collect()
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<(String, Vec<Value>)> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        )
    }

    fn at(&mut self, method: &str, uri: &str, line: u32, character: u32) -> Value {
        self.request(
            method,
            json!({"textDocument": {"uri": uri},
                   "position": {"line": line, "character": character}}),
        )
    }
}

fn diags_of<'a>(published: &'a [(String, Vec<Value>)], uri: &str) -> &'a [Value] {
    &published
        .iter()
        .rfind(|(u, _)| u == uri)
        .unwrap_or_else(|| panic!("nothing published for {uri}: {published:?}"))
        .1
}

fn range(d: &Value) -> (u64, u64, u64, u64) {
    let r = &d["range"];
    (
        r["start"]["line"].as_u64().unwrap(),
        r["start"]["character"].as_u64().unwrap(),
        r["end"]["line"].as_u64().unwrap(),
        r["end"]["character"].as_u64().unwrap(),
    )
}

fn labels(items: &Value) -> Vec<String> {
    let list = items
        .as_array()
        .or_else(|| items["items"].as_array())
        .unwrap_or_else(|| panic!("not a completion list: {items}"));
    list.iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

const GOOD: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx
    variables:
      DB_HOST: ${resources.db.host}
resources:
  db:
    type: postgres
";

#[test]
fn diagnostics_have_validate_codes_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let u = uri(&dir.path().join("score.yaml"));
    let text = "apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    imge: nginx\n";
    let published = c.open(&u, text);
    let diags = diags_of(&published, &u);
    let unknown = diags
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("imge"))
        .unwrap_or_else(|| panic!("{diags:?}"));
    assert_eq!(unknown["code"], "score::schema::violation");
    assert_eq!(unknown["severity"], 1);
    assert_eq!(range(unknown), (5, 4, 5, 8), "the key `imge`");
    // The same set, code by code and message by message, as validate's.
    let expected = score_lsp::validate_text(&u, text);
    let mut got: Vec<(String, String)> = diags
        .iter()
        .map(|d| {
            let m = d["message"].as_str().unwrap();
            let m = m.split("\nhelp: ").next().unwrap();
            (d["code"].as_str().unwrap().to_string(), m.to_string())
        })
        .collect();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|d| (d.code.as_str().to_string(), d.message.clone()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // A clean file publishes an empty set.
    let published = c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": [{"text": GOOD}]}),
    );
    assert_eq!(diags_of(&published, &u), &[] as &[Value]);
}

#[test]
fn project_checks_span_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let a = uri(&dir.path().join("a/score.yaml"));
    let b = uri(&dir.path().join("b/score.yaml"));
    c.open(&a, GOOD);
    let published = c.open(&b, GOOD);
    let dup = diags_of(&published, &b);
    assert_eq!(dup.len(), 1, "{dup:?}");
    assert_eq!(dup[0]["code"], "score::project::duplicate-workload");
    assert_eq!(range(&dup[0]), (2, 8, 2, 11), "the second file's name");
    // Closing one file clears the other's project error.
    let published = c.notify("textDocument/didClose", json!({"textDocument": {"uri": b}}));
    assert_eq!(diags_of(&published, &b), &[] as &[Value]);
    assert_eq!(diags_of(&published, &a), &[] as &[Value]);
}

#[test]
fn unserved_resource_is_a_warning_and_a_provisioner_file_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let u = uri(&dir.path().join("score.yaml"));
    let text = GOOD.replace("type: postgres", "type: my-queue");
    let published = c.open(&u, &text);
    let d = diags_of(&published, &u);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["code"], "score::provision::no-match");
    assert_eq!(d[0]["severity"], 2);
    assert_eq!(range(&d[0]), (10, 10, 10, 18));

    // Opening (then editing) a provisioner file of the project re-checks the Score file.
    let prov_path = dir.path().join(".score-gen/compose/provisioners/q.yaml");
    std::fs::create_dir_all(prov_path.parent().unwrap()).unwrap();
    std::fs::write(&prov_path, "").unwrap();
    let p = uri(&prov_path);
    let entry =
        "- uri: template://q\n  type: my-queu\n  outputs: |\n    host: q\n    port: \"1\"\n";
    let published = c.open(&p, entry);
    assert_eq!(diags_of(&published, &p), &[] as &[Value]);
    assert_eq!(diags_of(&published, &u).len(), 1, "still no match");
    let published = c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": p, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 1, "character": 15}, "end": {"line": 1, "character": 15}},
             "text": "e"}]}),
    );
    assert_eq!(diags_of(&published, &u), &[] as &[Value], "served now");

    // The resource's outputs come from that entry's template.
    let line = text.lines().position(|l| l.contains("DB_HOST")).unwrap() as u32;
    let col = text
        .lines()
        .nth(line as usize)
        .unwrap()
        .find("host}")
        .unwrap() as u32;
    let items = c.at("textDocument/completion", &u, line, col);
    assert_eq!(labels(&items), ["host", "port"]);

    // Definition of the type goes to the entry.
    let def = c.at("textDocument/definition", &u, 10, 12);
    assert_eq!(def["uri"], p);
    assert_eq!(def["range"]["start"]["line"], 0);
}

#[test]
fn provisioner_file_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let p = uri(&dir.path().join("x.provisioners.yaml"));
    let published = c.open(
        &p,
        "- uri: template://a\n  type: t\n  outputs: |\n    host: {{ .Init.x \n",
    );
    let d = diags_of(&published, &p);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["range"]["start"]["line"], 3, "{d:?}");
    let published = c.open(
        &p,
        "- uri: template://a\n  type: t\n  ouputs: |\n    x: 1\n",
    );
    let d = diags_of(&published, &p);
    assert_eq!(d.len(), 1, "{d:?}");
    let m = d[0]["message"].as_str().unwrap();
    assert!(
        m.contains("ouputs") && m.contains("did you mean 'outputs'"),
        "{m}"
    );
    assert_eq!(range(&d[0]).0, 2);
    // Hover on a Go-template function.
    c.open(
        &p,
        "- uri: template://a\n  type: t\n  outputs: |\n    x: {{ upper .Init.y }}\n",
    );
    let h = c.at("textDocument/hover", &p, 3, 10);
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("upper") && md.contains("Go template"), "{md}");
}

#[test]
fn completion_of_types_placeholders_keys_and_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let u = uri(&dir.path().join("score.yaml"));
    let text = "apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n    variables:\n      A: ${resources.db.}\n      B: ${metadata.}\n    \n  side:\n    image: x\n    before:\n      \nresources:\n  db:\n    type: postgres\n";
    c.open(&u, text);
    // A resource type (the cursor after `type: `): the compose defaults.
    let types = labels(&c.at("textDocument/completion", &u, 16, 10));
    for t in ["postgres", "redis", "volume", "service-port"] {
        assert!(types.contains(&t.to_string()), "{types:?}");
    }
    // A placeholder output: postgres's declared outputs (password is listed, its value never).
    let outs = labels(&c.at("textDocument/completion", &u, 7, 24));
    assert_eq!(
        outs,
        ["host", "port", "name", "database", "username", "password", "uri"]
    );
    let meta = labels(&c.at("textDocument/completion", &u, 8, 20));
    assert_eq!(meta, ["name"]);
    // A key under a container, from the schema.
    let keys = labels(&c.at("textDocument/completion", &u, 9, 4));
    for k in ["command", "args", "files", "volumes", "livenessProbe"] {
        assert!(keys.contains(&k.to_string()), "{keys:?}");
    }
    // `before` names the other containers.
    let before = labels(&c.at("textDocument/completion", &u, 13, 6));
    assert_eq!(before, ["main"]);
}

#[test]
fn hover_and_definition_in_a_score_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let u = uri(&dir.path().join("score.yaml"));
    c.open(&u, GOOD);
    // A schema key.
    let h = c.at("textDocument/hover", &u, 5, 5);
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.starts_with("**image**"), "{md}");
    // A resource: its provisioner and outputs, secrets marked, no value.
    let h = c.at("textDocument/hover", &u, 9, 3);
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("template://default/postgres"), "{md}");
    assert!(md.contains("`password` (secret)"), "{md}");
    // A placeholder goes to its resource's key.
    let def = c.at("textDocument/definition", &u, 7, 25);
    assert_eq!(def["uri"], u);
    assert_eq!(range(&json!({"range": def["range"]})), (9, 2, 9, 4));
    // The built-in defaults have no file to go to.
    assert_eq!(c.at("textDocument/definition", &u, 10, 12), Value::Null);
}

#[test]
fn code_action_rename_gives_a_clean_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let u = uri(&dir.path().join("score.yaml"));
    let bad = GOOD.replace("    image: nginx", "    imag: nginx");
    let published = c.open(&u, &bad);
    let d = diags_of(&published, &u)
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("\"imag\""))
        .cloned()
        .unwrap();
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let actions = actions.as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    let edits = actions[0]["edit"]["changes"][&u]
        .as_array()
        .unwrap()
        .clone();
    let published = c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": edits.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect::<Vec<_>>()}),
    );
    assert_eq!(diags_of(&published, &u), &[] as &[Value]);
}

#[test]
fn bad_input_gets_clean_answers() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let u = uri(&dir.path().join("score.yaml"));
    // Unknown method: an error, the server keeps serving.
    let out = c.server.handle(request(99, "score/nothing", json!({})));
    let Message::Response(r) = &out[0] else {
        panic!()
    };
    assert_eq!(r.error.as_ref().unwrap().code, -32601);
    // A request about a file never opened, or with nonsense params: an error response.
    let out = c.server.handle(request(
        100,
        "textDocument/hover",
        json!({"textDocument": {"uri": u}, "position": {"line": 0, "character": 0}}),
    ));
    let Message::Response(r) = &out[0] else {
        panic!()
    };
    assert!(r.error.is_some());
    let out = c
        .server
        .handle(request(101, "textDocument/completion", json!(7)));
    let Message::Response(r) = &out[0] else {
        panic!()
    };
    assert!(r.error.is_some());
    // A file that does not parse: a located load error; requests still answer.
    let published = c.open(&u, "apiVersion: [\nmetadata: {\n");
    assert_eq!(diags_of(&published, &u).len(), 1);
    for m in [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
    ] {
        c.at(m, &u, 1, 3);
        c.at(m, &u, 500, 500);
    }
    // A change out of order (older version) is ignored; a range past the end is clamped.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 5}, "contentChanges": [{"text": GOOD}]}),
    );
    let stale = c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 3}, "contentChanges": [{"text": "x: ["}]}),
    );
    assert!(stale.is_empty());
    let published = c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 6}, "contentChanges": [
            {"range": {"start": {"line": 90, "character": 0}, "end": {"line": 99, "character": 9}},
             "text": "\n"}]}),
    );
    assert_eq!(diags_of(&published, &u), &[] as &[Value]);
    // A huge file: its load error (the size limit), no hang.
    let huge = format!("apiVersion: score.dev/v1b1\n#{}\n", "x".repeat(5 << 20));
    let t = std::time::Instant::now();
    let published = c.open(&u, &huge);
    assert_eq!(diags_of(&published, &u).len(), 1, "{published:?}");
    assert_eq!(c.at("textDocument/completion", &u, 1, 3), Value::Null);
    assert!(t.elapsed().as_secs() < 10);
    // Shutdown, then requests are refused.
    assert_eq!(c.request("shutdown", Value::Null), Value::Null);
    let out = c
        .server
        .handle(request(200, "textDocument/hover", json!({})));
    let Message::Response(r) = &out[0] else {
        panic!()
    };
    assert!(r.error.is_some());
}

#[test]
fn core_fix_is_a_preferred_code_action() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Client::new(dir.path());
    let u = uri(&dir.path().join("score.yaml"));
    let bad = GOOD.replace(
        "    type: postgres\n",
        "    type: postgres\n    properties:\n      size: 1\n",
    );
    let published = c.open(&u, &bad);
    let d = diags_of(&published, &u)
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("properties"))
        .cloned()
        .unwrap_or_else(|| panic!("{published:?}"));
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": u}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let actions = actions.as_array().unwrap();
    let action = actions
        .iter()
        .find(|a| a["title"] == "rename `properties` to `params`")
        .unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(action["isPreferred"], true);
    let edits = action["edit"]["changes"][&u].as_array().unwrap().clone();
    let published = c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": u, "version": 2}, "contentChanges": edits.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect::<Vec<_>>()}),
    );
    assert_eq!(diags_of(&published, &u), &[] as &[Value]);
}
