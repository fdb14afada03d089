//! # score-lsp
//!
//! A language server for Score workload files (`score.dev/v1b1`) and score-gen provisioner files,
//! over score-core: `score-gen lsp` runs it on stdio. It speaks LSP through rust-analyzer's
//! `lsp-server` (the transport) and `lsp-types` (the messages).
//!
//! What it answers (see `docs/editors.md`):
//! - Score files: the diagnostics of `score-gen validate` (same codes, messages, help and spans),
//!   the project's checks across the open Score files (duplicate workload names, shared
//!   resources, params references) and a warning for a resource no provisioner serves;
//!   completion of keys (from the schema), resource types (from the provisioners), placeholders
//!   and `before` container names; hover; go to definition; code actions from fixes.
//! - Provisioner files (both dialects): load and template-syntax errors, unknown keys with "did
//!   you mean", hover on template functions.
//!
//! The server is a state machine, [`Server::handle`]: one message in, the messages to send out.
//! [`run_stdio`] drives it on stdin/stdout; tests, benchmarks and the property test drive it in
//! memory. Nothing here runs a program: provisioner files are loaded (templates compiled), never
//! rendered, so `cmd://` entries are not started.
//!
//! ```
//! use score_lsp::{Config, Server, TargetInfo};
//! use lsp_server::{Message, Notification};
//! let mut server = Server::new(Config {
//!     targets: vec![TargetInfo { name: "compose".into(), default_provisioners: String::new() }],
//! });
//! let open = Notification::new(
//!     "textDocument/didOpen".into(),
//!     serde_json::json!({"textDocument": {"uri": "file:///p/score.yaml", "languageId": "yaml",
//!         "version": 1, "text": "apiVersion: score.dev/v1b1\nmetadata: {name: a}\n"}}),
//! );
//! let out = server.handle(Message::Notification(open));
//! let Message::Notification(n) = &out[0] else { panic!() };
//! assert_eq!(n.method, "textDocument/publishDiagnostics");
//! assert_eq!(n.params["diagnostics"][0]["code"], "score::schema::violation");
//! ```

mod fixes;
mod functions;
mod project;
mod schema;
mod score_file;
mod text;
mod yamlpath;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use lsp_server::{Message, Notification, Request, RequestId, Response};
use serde_json::{json, Value};

pub use project::TargetInfo;
use project::{Kind, Project};
use text::LineIndex;

/// Texts larger than this get only their load diagnostic (score-core's own size limit) and no
/// completion, hover or definition: every request stays bounded.
pub const MAX_TEXT: usize = 4 * 1024 * 1024;

/// What the server knows before any client talks to it.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The targets a project may use, the default first (the CLI passes its target table).
    pub targets: Vec<TargetInfo>,
}

/// The client's settings: `initializationOptions`, or `settings.score` of
/// `workspace/didChangeConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Settings {
    /// The target whose provisioners apply (`None`: read from the project folder).
    target: Option<String>,
    /// Extra provisioner files (paths, relative to the project folder), before the project's.
    provisioners: Vec<String>,
}

impl Settings {
    fn from_json(v: &Value) -> Self {
        let v = v.get("score").unwrap_or(v);
        Settings {
            target: v
                .get("target")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            provisioners: v
                .get("provisioners")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// One open document.
#[derive(Debug)]
struct Doc {
    text: String,
    version: i32,
    index: LineIndex,
    kind: Kind,
    /// The validate result of a Score file, computed once per version.
    analysis: Option<score_file::Analysis>,
}

impl Doc {
    fn new(uri: &str, text: String, version: i32) -> Self {
        let kind = project::classify(uri, &text);
        Doc {
            index: LineIndex::new(&text),
            text,
            version,
            kind,
            analysis: None,
        }
    }
}

/// The language server's state. Feed it every message with [`Server::handle`].
#[derive(Debug)]
pub struct Server {
    config: Config,
    root: Option<PathBuf>,
    settings: Settings,
    docs: BTreeMap<String, Doc>,
    /// The provisioners in force; `None` when a provisioner file or a setting changed.
    project: Option<Project>,
    /// Documents with diagnostics published (cleared on close).
    published: BTreeSet<String>,
    shutdown: bool,
}

/// JSON-RPC error codes used here.
const INVALID_PARAMS: i32 = -32602;
const METHOD_NOT_FOUND: i32 = -32601;
const INVALID_REQUEST: i32 = -32600;
const INTERNAL_ERROR: i32 = -32603;

impl Server {
    /// A server with no documents open.
    pub fn new(config: Config) -> Self {
        Server {
            config,
            root: None,
            settings: Settings::default(),
            docs: BTreeMap::new(),
            project: None,
            published: BTreeSet::new(),
            shutdown: false,
        }
    }

    /// Handles one message and returns what to send back (responses and notifications). A panic
    /// inside a handler (a bug) becomes an internal-error response; the server keeps serving.
    pub fn handle(&mut self, msg: Message) -> Vec<Message> {
        let id = match &msg {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(msg))) {
            Ok(out) => out,
            Err(_) => {
                // The state may be half updated: recompute everything on the next message.
                self.project = None;
                for d in self.docs.values_mut() {
                    d.analysis = None;
                }
                id.map(|id| {
                    vec![Message::Response(Response::new_err(
                        id,
                        INTERNAL_ERROR,
                        "score-lsp failed on this request (a bug); the server keeps running".into(),
                    ))]
                })
                .unwrap_or_default()
            }
        }
    }

    /// True once `shutdown` was received.
    pub fn is_shut_down(&self) -> bool {
        self.shutdown
    }

    fn dispatch(&mut self, msg: Message) -> Vec<Message> {
        match msg {
            Message::Request(r) => vec![Message::Response(self.request(r))],
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => Vec::new(),
        }
    }

    fn request(&mut self, r: Request) -> Response {
        if self.shutdown {
            return Response::new_err(r.id, INVALID_REQUEST, "the server is shut down".into());
        }
        let result = match r.method.as_str() {
            "initialize" => Ok(self.initialize(&r.params)),
            "shutdown" => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            "textDocument/completion" => self.at(&r.params).map(|(u, o)| self.completion(&u, o)),
            "textDocument/hover" => self.at(&r.params).map(|(u, o)| self.hover(&u, o)),
            "textDocument/definition" => self.at(&r.params).map(|(u, o)| self.definition(&u, o)),
            "textDocument/codeAction" => self.code_actions(&r.params),
            other => {
                return Response::new_err(
                    r.id,
                    METHOD_NOT_FOUND,
                    format!("score-lsp does not handle '{other}'"),
                )
            }
        };
        match result {
            Ok(v) => Response::new_ok(r.id, v),
            Err(e) => Response::new_err(r.id, INVALID_PARAMS, e),
        }
    }

    fn initialize(&mut self, params: &Value) -> Value {
        let root = params["workspaceFolders"][0]["uri"]
            .as_str()
            .or_else(|| params["rootUri"].as_str())
            .and_then(project::uri_to_path)
            .or_else(|| params["rootPath"].as_str().map(PathBuf::from));
        self.root = root;
        if let Some(opts) = params.get("initializationOptions") {
            self.settings = Settings::from_json(opts);
        }
        self.project = None;
        json!({
            "capabilities": {
                "positionEncoding": "utf-16",
                "textDocumentSync": {"openClose": true, "change": 2, "save": {"includeText": false}},
                "completionProvider": {"triggerCharacters": [".", "{", ":", " "]},
                "hoverProvider": true,
                "definitionProvider": true,
                "codeActionProvider": {"codeActionKinds": ["quickfix"]},
            },
            "serverInfo": {"name": "score-gen lsp", "version": env!("CARGO_PKG_VERSION")},
        })
    }

    fn notification(&mut self, n: Notification) -> Vec<Message> {
        let p = &n.params;
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let doc = &p["textDocument"];
                let (Some(uri), Some(text)) = (doc["uri"].as_str(), doc["text"].as_str()) else {
                    return Vec::new();
                };
                let version = doc["version"].as_i64().unwrap_or(0) as i32;
                let d = Doc::new(uri, text.to_string(), version);
                let kind = d.kind;
                self.docs.insert(uri.to_string(), d);
                self.changed(uri, kind)
            }
            "textDocument/didChange" => {
                let Some(uri) = p["textDocument"]["uri"].as_str() else {
                    return Vec::new();
                };
                let version = p["textDocument"]["version"].as_i64().map(|v| v as i32);
                let Some(doc) = self.docs.get_mut(uri) else {
                    return Vec::new();
                };
                // A change older than what we hold arrived late: ignore it (the client sends
                // the newer one's effects already applied).
                if version.is_some_and(|v| v < doc.version) {
                    return Vec::new();
                }
                for change in p["contentChanges"].as_array().into_iter().flatten() {
                    let Some(new_text) = change["text"].as_str() else {
                        continue;
                    };
                    let range = serde_json::from_value(change["range"].clone()).ok();
                    text::apply_change(&mut doc.text, range, new_text);
                }
                if let Some(v) = version {
                    doc.version = v;
                }
                let old = doc.kind;
                *doc = Doc::new(uri, std::mem::take(&mut doc.text), doc.version);
                let kind = doc.kind;
                if old != kind {
                    self.project = None;
                }
                self.changed(uri, kind)
            }
            "textDocument/didSave" => Vec::new(),
            "textDocument/didClose" => {
                let Some(uri) = p["textDocument"]["uri"].as_str() else {
                    return Vec::new();
                };
                let Some(doc) = self.docs.remove(uri) else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                if self.published.remove(uri) {
                    out.push(publish(uri, None, Vec::new()));
                }
                // A closed provisioner file is read from disk again; the project checks lose a file.
                if doc.kind == Kind::Provisioner {
                    self.project = None;
                }
                out.extend(self.publish_score_files(None));
                out
            }
            "workspace/didChangeConfiguration" => {
                let s = Settings::from_json(&p["settings"]);
                if s != self.settings {
                    self.settings = s;
                    self.project = None;
                    return self.publish_score_files(None);
                }
                Vec::new()
            }
            "workspace/didChangeWatchedFiles" => {
                // A provisioner file changed on disk (created, saved by another tool, deleted).
                self.project = None;
                self.publish_score_files(None)
            }
            _ => Vec::new(),
        }
    }

    /// Diagnostics after `uri` changed: a provisioner file's own, then every Score file's (the
    /// project's checks span files, and provisioners decide which types are served).
    fn changed(&mut self, uri: &str, kind: Kind) -> Vec<Message> {
        match kind {
            Kind::Provisioner => {
                self.project = None;
                let mut out = vec![self.provisioner_diagnostics(uri)];
                out.extend(self.publish_score_files(None));
                out
            }
            Kind::Score => self.publish_score_files(Some(uri)),
        }
    }

    fn project(&mut self) -> &Project {
        if self.project.is_none() {
            let p = Project::load(
                &self.config,
                self.root.as_deref(),
                &self.settings.target,
                &self.settings.provisioners,
                &self.docs,
            );
            self.project = Some(p);
        }
        self.project.as_ref().expect("set above")
    }

    fn provisioner_diagnostics(&mut self, uri: &str) -> Message {
        let Some(doc) = self.docs.get(uri) else {
            return publish(uri, None, Vec::new());
        };
        let diags = project::provisioner_file_diagnostics(uri, &doc.text);
        let lsp = diags
            .iter()
            .map(|d| to_lsp(d, &doc.text, &doc.index, 1))
            .collect();
        self.published.insert(uri.to_string());
        publish(uri, Some(doc.version), lsp)
    }

    /// Publishes every open Score file's diagnostics (`first`, the one just edited, first).
    fn publish_score_files(&mut self, first: Option<&str>) -> Vec<Message> {
        let root = self.root.clone();
        for (uri, doc) in self.docs.iter_mut() {
            if doc.kind == Kind::Score && doc.analysis.is_none() {
                doc.analysis = Some(score_file::Analysis::new(uri, &doc.text, root.as_deref()));
            }
        }
        self.project();
        let project = self.project.as_ref().expect("loaded above");
        let per_file = score_file::project_diagnostics(&self.docs, project);
        let mut out = Vec::new();
        let mut order: Vec<&String> = per_file.keys().collect();
        if let Some(f) = first {
            order.sort_by_key(|u| u.as_str() != f);
        }
        for uri in order {
            let Some(doc) = self.docs.get(uri.as_str()) else {
                continue;
            };
            let lsp = per_file[uri]
                .iter()
                .map(|(d, severity)| to_lsp(d, &doc.text, &doc.index, *severity))
                .collect();
            self.published.insert(uri.clone());
            out.push(publish(uri, Some(doc.version), lsp));
        }
        out
    }

    /// The document and byte offset of a `TextDocumentPositionParams`.
    fn at(&self, params: &Value) -> Result<(String, usize), String> {
        let uri = params["textDocument"]["uri"]
            .as_str()
            .ok_or("missing textDocument.uri")?;
        let pos: lsp_types::Position = serde_json::from_value(params["position"].clone())
            .map_err(|e| format!("invalid position: {e}"))?;
        let Some(doc) = self.docs.get(uri) else {
            return Err(format!("{uri} is not open"));
        };
        Ok((uri.to_string(), doc.index.offset(&doc.text, pos)))
    }

    fn completion(&mut self, uri: &str, offset: usize) -> Value {
        self.project();
        let (Some(doc), Some(project)) = (self.docs.get(uri), self.project.as_ref()) else {
            return Value::Null;
        };
        if doc.text.len() > MAX_TEXT || doc.kind != Kind::Score {
            return Value::Null;
        }
        let items = score_file::completion(&doc.text, &doc.index, offset, project);
        serde_json::to_value(items).unwrap_or(Value::Null)
    }

    fn hover(&mut self, uri: &str, offset: usize) -> Value {
        self.project();
        let (Some(doc), Some(project)) = (self.docs.get(uri), self.project.as_ref()) else {
            return Value::Null;
        };
        if doc.text.len() > MAX_TEXT {
            return Value::Null;
        }
        let found = match doc.kind {
            Kind::Score => score_file::hover(&doc.text, &doc.index, offset, project),
            Kind::Provisioner => project::provisioner_hover(&doc.text, &doc.index, offset),
        };
        match found {
            Some((markdown, (start, len))) => json!({
                "contents": {"kind": "markdown", "value": markdown},
                "range": doc.index.range(&doc.text, start, len),
            }),
            None => Value::Null,
        }
    }

    fn definition(&mut self, uri: &str, offset: usize) -> Value {
        self.project();
        let (Some(doc), Some(project)) = (self.docs.get(uri), self.project.as_ref()) else {
            return Value::Null;
        };
        if doc.text.len() > MAX_TEXT || doc.kind != Kind::Score {
            return Value::Null;
        }
        match score_file::definition(uri, &doc.text, &doc.index, offset, project, &self.docs) {
            Some(loc) => serde_json::to_value(loc).unwrap_or(Value::Null),
            None => Value::Null,
        }
    }

    fn code_actions(&mut self, params: &Value) -> Result<Value, String> {
        let uri = params["textDocument"]["uri"]
            .as_str()
            .ok_or("missing textDocument.uri")?
            .to_string();
        let range: lsp_types::Range = serde_json::from_value(params["range"].clone())
            .map_err(|e| format!("invalid range: {e}"))?;
        let Some(doc) = self.docs.get(&uri) else {
            return Err(format!("{uri} is not open"));
        };
        let start = doc.index.offset(&doc.text, range.start);
        let end = doc.index.offset(&doc.text, range.end);
        let diags = match doc.kind {
            Kind::Score => score_file::validate(&uri, &doc.text, self.root.as_deref()),
            Kind::Provisioner => project::provisioner_file_diagnostics(&uri, &doc.text),
        };
        let mut actions = Vec::new();
        for d in &diags {
            let Some(span) = d.span else { continue };
            // The diagnostic touches the requested range.
            if span.offset > end || span.offset + span.len < start {
                continue;
            }
            for fix in fixes::of(d) {
                let edits: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|(o, l, new)| {
                        json!({"range": doc.index.range(&doc.text, *o, *l), "newText": new})
                    })
                    .collect();
                actions.push(json!({
                    "title": fix.title,
                    "kind": "quickfix",
                    "diagnostics": [to_lsp(d, &doc.text, &doc.index, 1)],
                    "isPreferred": fix.preferred,
                    "edit": {"changes": {uri.clone(): edits}},
                }));
            }
        }
        Ok(Value::Array(actions))
    }
}

/// A `textDocument/publishDiagnostics` notification.
fn publish(uri: &str, version: Option<i32>, diagnostics: Vec<Value>) -> Message {
    let mut params = json!({"uri": uri, "diagnostics": diagnostics});
    if let Some(v) = version {
        params["version"] = json!(v);
    }
    Message::Notification(Notification::new(
        "textDocument/publishDiagnostics".into(),
        params,
    ))
}

/// A score-core diagnostic as an LSP one: the span as its range, the code, the message, the
/// help after it on its own line (LSP has no help field; it is also in `data.help`), related
/// notes as related information. `severity`: 1 error, 2 warning.
fn to_lsp(d: &score_core::Diagnostic, text: &str, index: &LineIndex, severity: u8) -> Value {
    let range = match d.span {
        Some(s) => index.range(text, s.offset, s.len),
        None => index.range(text, 0, 0),
    };
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let related: Vec<Value> = d
        .related
        .iter()
        .filter_map(|r| {
            let file = r.file.as_ref()?;
            let span = r.span?;
            let idx = LineIndex::new(&file.text);
            Some(json!({
                "location": {"uri": file.name, "range": idx.range(&file.text, span.offset, span.len)},
                "message": r.message,
            }))
        })
        .collect();
    let mut v = json!({
        "range": range,
        "severity": severity,
        "code": d.code.as_str(),
        "source": "score-gen",
        "message": message,
        "data": {"help": d.help, "pointer": d.pointer},
    });
    if !related.is_empty() {
        v["relatedInformation"] = Value::Array(related);
    }
    v
}

/// Runs the server on stdin/stdout until the client says `exit`.
pub fn run_stdio(config: Config) -> Result<(), String> {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let mut server = Server::new(config);
    for msg in &connection.receiver {
        if let Message::Notification(n) = &msg
            && n.method == "exit"
        {
            break;
        }
        for out in server.handle(msg) {
            connection.sender.send(out).map_err(|e| e.to_string())?;
        }
    }
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())
}

/// The id of a request, for tests.
#[doc(hidden)]
pub fn request(id: i32, method: &str, params: Value) -> Message {
    Message::Request(Request::new(RequestId::from(id), method.into(), params))
}

/// A notification, for tests.
#[doc(hidden)]
pub fn notification(method: &str, params: Value) -> Message {
    Message::Notification(Notification::new(method.into(), params))
}

/// The validate diagnostics of one Score text, as `score-gen validate` computes them (for the
/// property test and benchmarks).
#[doc(hidden)]
pub fn validate_text(uri: &str, text: &str) -> Vec<score_core::Diagnostic> {
    score_file::validate(uri, text, None)
}
