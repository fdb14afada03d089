//! Hints for older Score forms and for forms borrowed from neighbouring tools (docker compose,
//! Kubernetes): each is recognised on the document as written (before the upgrade), explained,
//! and where the v1b1 spelling is certain, fixed by text edits (spec/hints.md has the table,
//! with the reason for each row; spec/fixes.md the edit format).
//!
//! A hint replaces the schema or upgrade errors it explains (`covers`), so the user reads
//! "`properties` was renamed to `params`" instead of "unknown field".

use serde_json::Value;

use crate::diag::Code;
use crate::fix::{Edit, Fix};
use crate::load::yaml::{escape_pointer_segment, Document};

/// One recognised older or near-miss form.
#[derive(Debug, Clone)]
pub(crate) struct Hint {
    pub code: Code,
    /// Where it is (the key when `on_key`).
    pub pointer: String,
    pub on_key: bool,
    pub message: String,
    pub help: String,
    pub fix: Option<Fix>,
    /// Errors at these pointers, or below them, are explained by this hint and not reported.
    pub covers: Vec<String>,
    /// Problems of this code anywhere in the file follow from this one and are not reported
    /// (`resources:` indented under `containers:` makes every resource placeholder unknown).
    pub suppresses: Option<Code>,
}

impl Hint {
    fn on_key(pointer: String, message: String, help: String) -> Self {
        Hint {
            code: Code::SchemaViolation,
            covers: vec![pointer.clone()],
            pointer,
            on_key: true,
            message,
            help,
            fix: None,
            suppresses: None,
        }
    }

    fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }

    /// True when an error at `pointer` is explained by this hint.
    pub fn covers(&self, pointer: &str) -> bool {
        self.covers.iter().any(|c| {
            pointer == c || (pointer.starts_with(c.as_str()) && pointer[c.len()..].starts_with('/'))
        })
    }
}

/// Resource types of earlier Score versions and their v1b1 names.
pub(crate) const OLD_RESOURCE_TYPES: &[(&str, &str)] = &[
    ("env.config", "environment"),
    ("environment-variables", "environment"),
    ("env", "environment"),
    ("postgresql", "postgres"),
    ("psql", "postgres"),
    ("pg", "postgres"),
    ("mysql-instance", "mysql"),
    ("mongo", "mongodb"),
    ("amqp", "rabbitmq"),
    ("dns-record", "dns"),
    ("ingress", "route"),
    ("http-route", "route"),
    ("volumes", "volume"),
    ("s3-bucket", "s3"),
];

/// `apiVersion` values people write for v1b1.
const OLD_API_VERSIONS: &[&str] = &[
    "score.dev/v1beta1",
    "score.dev/v1",
    "score.dev/v1b",
    "score.sh/v1b1",
    "v1b1",
    "score/v1b1",
    "score.dev/V1b1",
    "score.dev/v1b1 ",
];

/// Every hint for `doc` (the document after overrides, before the upgrade), in no special order.
pub(crate) fn hints(doc: &Document) -> Vec<Hint> {
    let mut out = Vec::new();
    let Some(root) = doc.value.as_object() else {
        return out;
    };
    let text = &doc.source.text;

    // Top level: a whole file from another tool.
    if root.contains_key("services") && !root.contains_key("containers") {
        let mut h = Hint::on_key(
            "/services".into(),
            "`services` is a docker compose key; this looks like a compose file, not a Score file".into(),
            "a Score file describes one workload: `apiVersion: score.dev/v1b1`, `metadata: {name: ...}`, and its `containers:`; see spec/hints.md".into(),
        );
        // The whole file is another tool's: one diagnostic instead of every schema error.
        h.covers = vec![String::new()];
        out.push(h);
        return out;
    }
    if root.contains_key("kind") && root.contains_key("spec") {
        let mut h = Hint::on_key(
            "/kind".into(),
            "`kind` and `spec` are Kubernetes manifest keys; this looks like a manifest, not a Score file".into(),
            "write the workload as Score: `apiVersion: score.dev/v1b1`, `metadata: {name: ...}`, `containers: {main: {image: ...}}`".into(),
        );
        h.covers = vec![String::new()];
        out.push(h);
        return out;
    }
    if let Some(Value::String(v)) = root.get("apiVersion")
        && v != "score.dev/v1b1"
        && OLD_API_VERSIONS.contains(&v.as_str())
    {
        let mut h = Hint::on_key(
            "/apiVersion".into(),
            format!("apiVersion \"{v}\" is not a Score version score-gen reads"),
            "Score files today are `apiVersion: score.dev/v1b1`".into(),
        );
        h.on_key = false;
        out.push(
            h.with_fix(
                scalar_edit(doc, "/apiVersion", "score.dev/v1b1")
                    .map(|e| Fix::machine("set apiVersion to `score.dev/v1b1`", vec![e])),
            ),
        );
    }
    if let (Some(Value::String(name)), None | Some(Value::Null)) =
        (root.get("name"), root.get("metadata"))
    {
        let fix = if root.contains_key("metadata") {
            // `metadata:` with `name:` lost its indentation right after it.
            indent_after_empty_parent(doc, "/metadata", "/name")
                .map(|e| Fix::machine("indent `name` under `metadata`", vec![e]))
        } else {
            wrap_key_edit(doc, "/name", "metadata")
                .map(|e| Fix::machine("move `name` under `metadata`", e))
        };
        let mut h = Hint::on_key(
            "/name".into(),
            "`name` belongs under `metadata`".into(),
            format!("write `metadata:` with `name: {name}` under it, indented"),
        )
        .with_fix(fix);
        h.covers = vec!["/name".into(), "/metadata".into()];
        out.push(h);
    }

    if let Some(Value::Object(containers)) = root.get("containers") {
        // Container `ports` move to `service.ports` when there is no `service` yet and only one
        // container has them (two lists would need merging by hand).
        let ports_fix_ok = !root.contains_key("service")
            && containers
                .values()
                .filter(|c| c.get("ports").is_some())
                .count()
                == 1;
        for (cname, c) in containers {
            let base = format!("/containers/{}", escape_pointer_segment(cname));
            if let Some(h) = misplaced_top_level(doc, text, root, &base, cname, c) {
                out.push(h);
                continue;
            }
            let Some(c) = c.as_object() else { continue };
            container_hints(doc, text, &base, cname, c, ports_fix_ok, &mut out);
        }
    } else if let Some(Value::Array(items)) = root.get("containers") {
        let mut h = Hint::on_key(
            "/containers".into(),
            "`containers` is a list; in Score it is a mapping keyed by container name".into(),
            "write each container as `NAME:` with its fields under it (`containers: {main: {image: nginx}}`)".into(),
        );
        // At the list itself (the first item), where the user edits.
        h.on_key = false;
        out.push(h.with_fix(containers_list_fix(doc, text, items)));
    }

    if let Some(Value::Object(resources)) = root.get("resources") {
        for (rname, r) in resources {
            let Some(r) = r.as_object() else { continue };
            let base = format!("/resources/{}", escape_pointer_segment(rname));
            // An older type name the schema refuses (`env.config`): certain, so fixed here;
            // older names that are valid types (`postgresql`) are matched against the
            // provisioners later (a platform may have a provisioner for them).
            if let Some(Value::String(kind)) = r.get("type")
                && let Some((_, new)) = OLD_RESOURCE_TYPES
                    .iter()
                    .find(|(old, _)| old == kind && !valid_type_name(old))
            {
                let ptr = format!("{base}/type");
                let mut h = Hint::on_key(
                    ptr.clone(),
                    format!("`{kind}` is the older Score name of the resource type `{new}`"),
                    format!("score.dev/v1b1 calls this resource type `{new}`"),
                );
                h.on_key = false;
                out.push(
                    h.with_fix(
                        scalar_edit(doc, &ptr, new)
                            .map(|e| Fix::machine(format!("set the type to `{new}`"), vec![e])),
                    ),
                );
            }
            if r.contains_key("properties") {
                let ptr = format!("{base}/properties");
                let fix = if r.contains_key("params") {
                    None
                } else {
                    rename_key(doc, &ptr, "params")
                        .map(|e| Fix::machine("rename `properties` to `params`", vec![e]))
                };
                out.push(
                    Hint::on_key(
                        ptr,
                        "`properties` is the older Score name of a resource's `params`".into(),
                        "score.dev/v1b1 passes a resource's inputs to its provisioner as `params`"
                            .into(),
                    )
                    .with_fix(fix),
                );
            }
        }
    }
    out
}

fn container_hints(
    doc: &Document,
    text: &str,
    base: &str,
    cname: &str,
    c: &serde_json::Map<String, Value>,
    ports_fix_ok: bool,
    out: &mut Vec<Hint>,
) {
    // Older Score: `probes: {liveness: ..., readiness: ...}`.
    if let Some(probes) = c.get("probes") {
        let ptr = format!("{base}/probes");
        let names: Vec<String> = probes
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let renames: Vec<(String, &str)> = names
            .iter()
            .filter_map(|k| match k.as_str() {
                "liveness" | "livenessProbe" => Some((k.clone(), "livenessProbe")),
                "readiness" | "readinessProbe" => Some((k.clone(), "readinessProbe")),
                _ => None,
            })
            .collect();
        let clash = renames.iter().any(|(_, n)| c.contains_key(*n));
        let fix = if renames.len() == names.len() && !names.is_empty() && !clash {
            hoist_children(doc, text, &ptr, &renames).map(|e| {
                Fix::machine(
                    "replace `probes:` by `livenessProbe:`/`readinessProbe:` on the container",
                    e,
                )
            })
        } else {
            None
        };
        out.push(
            Hint::on_key(
                ptr,
                "`probes` is the older Score form of a container's probes".into(),
                format!("score.dev/v1b1 has `livenessProbe:` and `readinessProbe:` directly on the container `{cname}` (each with `httpGet:` or `exec:`); there is no startup probe"),
            )
            .with_fix(fix),
        );
    }
    // Kubernetes: `env: [{name, value}]`.
    if let Some(env) = c.get("env") {
        let ptr = format!("{base}/env");
        let pairs = env.as_array().and_then(|items| {
            items
                .iter()
                .map(|i| {
                    let m = i.as_object()?;
                    let name = m.get("name")?.as_str()?;
                    if m.keys().any(|k| k != "name" && k != "value") {
                        return None;
                    }
                    Some((
                        name.to_string(),
                        m.get("value")
                            .cloned()
                            .unwrap_or(Value::String(String::new())),
                    ))
                })
                .collect::<Option<Vec<_>>>()
        });
        let fix = match (&pairs, c.contains_key("variables")) {
            (Some(p), false) => {
                replace_block_with_map(doc, text, &ptr, "variables", p).map(|(e, clean)| {
                    fix_of(clean, "turn the `env` list into a `variables` mapping", e)
                })
            }
            _ => None,
        };
        out.push(
            Hint::on_key(
                ptr,
                "`env` is the Kubernetes name; Score calls a container's environment `variables`".into(),
                "write `variables:` as a mapping `NAME: value`; a value taken from a secret or another resource is a placeholder such as `${resources.db.password}`".into(),
            )
            .with_fix(fix),
        );
    }
    // docker compose: `environment:` as a mapping or as a list of `NAME=value`.
    if let Some(envv) = c.get("environment") {
        let ptr = format!("{base}/environment");
        let has_vars = c.contains_key("variables");
        let fix = match envv {
            Value::Object(_) if !has_vars => rename_key(doc, &ptr, "variables")
                .map(|e| Fix::machine("rename `environment` to `variables`", vec![e])),
            Value::Array(items) if !has_vars => items
                .iter()
                .map(|i| {
                    let s = i.as_str()?;
                    let (k, v) = s.split_once('=')?;
                    Some((k.to_string(), Value::String(v.to_string())))
                })
                .collect::<Option<Vec<_>>>()
                .and_then(|p| replace_block_with_map(doc, text, &ptr, "variables", &p))
                .map(|(e, clean)| {
                    fix_of(
                        clean,
                        "turn the `environment` list into a `variables` mapping",
                        e,
                    )
                }),
            _ => None,
        };
        out.push(
            Hint::on_key(
                ptr,
                "`environment` is the docker compose name; Score calls a container's environment `variables`".into(),
                "write `variables:` as a mapping `NAME: value` (not a list of `NAME=value`)".into(),
            )
            .with_fix(fix),
        );
    }
    // compose / Kubernetes ports on the container.
    if let Some(ports) = c.get("ports") {
        let ptr = format!("{base}/ports");
        let example = ports
            .as_array()
            .and_then(|a| a.first())
            .map(|p| match p {
                Value::String(s) => {
                    let mut parts = s.rsplitn(2, ':');
                    let target = parts
                        .next()
                        .unwrap_or("")
                        .trim_end_matches("/tcp")
                        .to_string();
                    let port = parts
                        .next()
                        .map(|p| p.rsplit(':').next().unwrap_or(p).to_string())
                        .unwrap_or_else(|| target.clone());
                    format!("service: {{ports: {{web: {{port: {port}, targetPort: {target}}}}}}}")
                }
                Value::Number(n) => format!("service: {{ports: {{web: {{port: {n}}}}}}}"),
                Value::Object(m) => {
                    let port = m
                        .get("containerPort")
                        .or_else(|| m.get("target"))
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "80".into());
                    format!("service: {{ports: {{web: {{port: {port}}}}}}}")
                }
                _ => "service: {ports: {web: {port: 80}}}".into(),
            })
            .unwrap_or_else(|| "service: {ports: {web: {port: 80}}}".into());
        let fix = if ports_fix_ok {
            ports_fix(doc, text, &ptr, ports)
        } else {
            None
        };
        out.push(
            Hint::on_key(
                ptr,
                "a container has no `ports` in Score; the workload's ports are declared under `service.ports`".into(),
                format!("at the top level of the file, next to `containers:`, write `{example}` (`port` is what other workloads call, `targetPort` what the container listens on)"),
            )
            .with_fix(fix),
        );
    }
    for (key, help) in [
        ("depends_on", "Score has no `depends_on`: a database or other service is a resource (declare it under `resources:` and the provisioner starts it); to order containers of this workload, put `before: {THIS: {ready: started}}` on the container that must start first"),
        ("dependsOn", "Score has no `dependsOn`: declare what the workload needs under `resources:`; to order containers of this workload use `before` on the container that must start first"),
        ("build", "Score has no `build`: set `image: .` and pass the build context on the command line (`score-gen compose --build CONTAINER=./dir`)"),
        ("container_name", "the container's name is its key under `containers:`; remove `container_name`"),
        ("restart", "restart policies are the platform's concern in Score; remove `restart`"),
        ("healthcheck", "Score's health checks are `livenessProbe`/`readinessProbe` with `httpGet:` or `exec: {command: [...]}`"),
        ("imagePullPolicy", "Score has no image pull policy; remove it (a Kubernetes patch template can set it)"),
        ("name", "the container's name is its key under `containers:`; remove `name`"),
        ("workingDir", "Score has no working directory; build it into the image or set it in `command`"),
        ("working_dir", "Score has no working directory; build it into the image or set it in `command`"),
        ("volumeMounts", "Score's volume mounts are `volumes:` on the container, a mapping from the mount path to `{source: ${resources.NAME}}`"),
        ("entrypoint", "Score's `command` replaces the image's entrypoint; rename `entrypoint` to `command` (a list)"),
    ] {
        if c.contains_key(key) {
            let ptr = format!("{base}/{}", escape_pointer_segment(key));
            let fix = match key {
                "container_name" | "restart" | "imagePullPolicy" | "name" => {
                    delete_member(doc, text, &ptr).map(|e| Fix::maybe(format!("remove `{key}`"), vec![e]))
                }
                "entrypoint" if !c.contains_key("command") => rename_key(doc, &ptr, "command")
                    .map(|e| Fix::maybe("rename `entrypoint` to `command`", vec![e])),
                _ => None,
            };
            out.push(
                Hint::on_key(ptr, format!("`{key}` is not a Score container field"), help.into())
                    .with_fix(fix),
            );
        }
    }
    // Kubernetes resources without `limits`/`requests`.
    if let Some(Value::Object(r)) = c.get("resources") {
        for key in ["cpu", "memory"] {
            if r.contains_key(key) {
                out.push(Hint::on_key(
                    format!("{base}/resources/{key}"),
                    format!("`{key}` goes under `limits:` or `requests:`"),
                    format!("write `resources: {{limits: {{{key}: ...}}}}` (the most the container may use) or `requests:` (what it is guaranteed)"),
                ));
            }
        }
    }
    // Older Score: `files` as a list with `path:` for the mount path.
    if let Some(Value::Array(files)) = c.get("files") {
        for (i, f) in files.iter().enumerate() {
            let Some(f) = f.as_object() else { continue };
            let item = format!("{base}/files/{i}");
            if f.contains_key("path") && !f.contains_key("target") {
                let ptr = format!("{item}/path");
                let mut h = Hint::on_key(
                    ptr.clone(),
                    "a file's mount path is `target`; `path` is its older name".into(),
                    "score.dev/v1b1 names where a file is mounted `target` (better still, write `files` as a mapping keyed by the target path)".into(),
                )
                .with_fix(rename_key(doc, &ptr, "target").map(|e| Fix::machine("rename `path` to `target`", vec![e])));
                h.code = Code::UpgradeMissingTarget;
                h.covers = vec![item.clone(), ptr];
                out.push(h);
            }
        }
    }
}

/// The schema's rule for a resource type: 2-63 letters, digits and '-', starting and ending with
/// a letter or digit.
fn valid_type_name(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn fix_of(clean: bool, message: &str, edits: Vec<Edit>) -> Fix {
    if clean {
        Fix::machine(message, edits)
    } else {
        // Comments inside the replaced text would be lost: offer, do not apply.
        Fix::maybe(format!("{message} (comments inside it are dropped)"), edits)
    }
}

/// Renames the mapping key at `pointer` to `new`, keeping its quoting.
pub(crate) fn rename_key(doc: &Document, pointer: &str, new: &str) -> Option<Edit> {
    let span = doc.spans.key(pointer)?;
    let text = &doc.source.text;
    let raw = text.get(span.offset..span.offset + span.len)?;
    let old = unescape_last(pointer);
    if raw == old {
        return Some(Edit::new(span, new));
    }
    for q in ['"', '\''] {
        if raw.len() == old.len() + 2
            && raw.starts_with(q)
            && raw.ends_with(q)
            && raw[1..raw.len() - 1] == old
        {
            return Some(Edit::at(&doc.source, span.offset + 1, old.len(), new));
        }
    }
    None
}

/// Replaces the scalar string at `pointer` with `new`, keeping its quoting.
pub(crate) fn scalar_edit(doc: &Document, pointer: &str, new: &str) -> Option<Edit> {
    let old = doc.value.pointer(pointer)?.as_str()?;
    let span = doc.spans.value(pointer)?;
    let text = &doc.source.text;
    let raw = text.get(span.offset..span.offset + span.len)?;
    if raw == old {
        return Some(Edit::new(span, new));
    }
    for q in ['"', '\''] {
        if raw.len() == old.len() + 2
            && raw.starts_with(q)
            && raw.ends_with(q)
            && raw[1..raw.len() - 1] == *old
        {
            return Some(Edit::at(&doc.source, span.offset + 1, old.len(), new));
        }
    }
    None
}

fn unescape_last(pointer: &str) -> String {
    pointer
        .rsplit('/')
        .next()
        .unwrap_or("")
        .replace("~1", "/")
        .replace("~0", "~")
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end_incl(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// For a block mapping member whose key starts at `key_offset`: the key's column (bytes from the
/// line start), the end of the key line (after its newline), whether the key line holds a value
/// after the colon (flow or scalar), and the end of the member's block (after the newline of its
/// last non-blank, non-comment line).
fn member_extent(text: &str, key_offset: usize) -> Option<(usize, usize, bool, usize)> {
    let ls = line_start(text, key_offset);
    let key_col = key_offset - ls;
    // Only a key that starts its line (after indentation) or a `- ` item.
    if !text[ls..key_offset].chars().all(|c| c == ' ' || c == '-') {
        return None;
    }
    let key_line_end = line_end_incl(text, key_offset);
    let rest = &text[key_offset..key_line_end];
    let after_colon = rest.split_once(':').map(|(_, r)| r)?;
    let inline = !is_blank_or_comment(after_colon);
    let mut end = key_line_end;
    let mut at = key_line_end;
    while at < text.len() {
        let le = line_end_incl(text, at);
        let line = text[at..le].trim_end_matches(['\n', '\r']);
        if is_blank_or_comment(line) {
            at = le;
            continue;
        }
        let ind = indent_of(line);
        let seq_at_same = ind == key_col && line[ind..].starts_with('-');
        if ind > key_col || seq_at_same {
            end = le;
            at = le;
        } else {
            break;
        }
    }
    Some((key_col, key_line_end, inline, end))
}

/// The member at `pointer` and its block: deleted whole (a maybe-fix for keys with no Score
/// meaning).
fn delete_member(doc: &Document, text: &str, pointer: &str) -> Option<Edit> {
    let key = doc.spans.key(pointer)?;
    let (_, _, _, end) = member_extent(text, key.offset)?;
    let ls = line_start(text, key.offset);
    if !text[ls..key.offset].trim().is_empty() {
        return None;
    }
    Some(Edit::at(&doc.source, ls, end - ls, ""))
}

/// `probes:` (block style) whose children are renamed and moved up one level: the `probes:` line
/// is deleted, every line of its block is dedented by the children's extra indentation, and each
/// child key is renamed. Every other byte (comments, quoting, the children's values) stays.
fn hoist_children(
    doc: &Document,
    text: &str,
    pointer: &str,
    renames: &[(String, &str)],
) -> Option<Vec<Edit>> {
    let key = doc.spans.key(pointer)?;
    let (key_col, key_line_end, inline, end) = member_extent(text, key.offset)?;
    let ls = line_start(text, key.offset);
    if inline
        || !text[ls..key.offset].trim().is_empty()
        || text[key.offset..key_line_end].contains('#')
    {
        return None;
    }
    // The children's indentation: that of the first content line.
    let mut child_col = None;
    let mut at = key_line_end;
    while at < end {
        let le = line_end_incl(text, at);
        let line = &text[at..le];
        if !is_blank_or_comment(line) {
            child_col = Some(indent_of(line));
            break;
        }
        at = le;
    }
    let child_col = child_col?;
    if child_col <= key_col {
        return None;
    }
    let shift = child_col - key_col;
    let mut edits = vec![Edit::at(&doc.source, ls, key_line_end - ls, "")];
    let mut at = key_line_end;
    while at < end {
        let le = line_end_incl(text, at);
        let line = &text[at..le];
        let cut = indent_of(line).min(shift);
        if cut > 0 && !line.trim().is_empty() {
            edits.push(Edit::at(&doc.source, at, cut, ""));
        }
        at = le;
    }
    for (old, new) in renames {
        if old != new {
            edits.push(rename_key(
                doc,
                &format!("{pointer}/{}", escape_pointer_segment(old)),
                new,
            )?);
        }
    }
    Some(edits)
}

/// `name: x` at the top level → `metadata:\n  name: x`.
fn wrap_key_edit(doc: &Document, pointer: &str, parent: &str) -> Option<Vec<Edit>> {
    let key = doc.spans.key(pointer)?;
    let text = &doc.source.text;
    let ls = line_start(text, key.offset);
    if ls != key.offset {
        return None;
    }
    Some(vec![Edit::at(&doc.source, ls, 0, format!("{parent}:\n  "))])
}

/// Replaces the member at `pointer` (its key line and block) by `new_key:` and one line per
/// pair. The flag says whether the replaced text held no comments (else the fix is only offered).
fn replace_block_with_map(
    doc: &Document,
    text: &str,
    pointer: &str,
    new_key: &str,
    pairs: &[(String, Value)],
) -> Option<(Vec<Edit>, bool)> {
    let key = doc.spans.key(pointer)?;
    let (key_col, _, _, end) = member_extent(text, key.offset)?;
    let ls = line_start(text, key.offset);
    if !text[ls..key.offset].trim().is_empty() {
        return None;
    }
    let old = &text[key.offset..end];
    let clean = !old.lines().any(|l| l.contains('#'));
    let pad = " ".repeat(key_col + 2);
    let mut new = format!("{new_key}:");
    if pairs.is_empty() {
        new.push_str(" {}");
    }
    new.push('\n');
    for (k, v) in pairs {
        new.push_str(&format!("{pad}{}: {}\n", yaml_scalar(k), yaml_value(v)));
    }
    if !text[..end].ends_with('\n') {
        new.pop();
    }
    Some((
        vec![Edit::at(&doc.source, key.offset, end - key.offset, new)],
        clean,
    ))
}

/// A string as a YAML scalar: plain when that reads back as the same string, else double-quoted.
pub(crate) fn yaml_scalar(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./${}@+".contains(c))
        && !s.starts_with(['-', '.', '$', '@'])
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && s.parse::<f64>().is_err();
    if plain_ok {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn yaml_value(v: &Value) -> String {
    match v {
        // Score variables are strings: quote numbers and booleans so they stay text.
        Value::String(s) => yaml_scalar(s),
        Value::Null => "\"\"".into(),
        other => serde_json::to_string(&other.to_string()).unwrap_or_default(),
    }
}

/// Edits for a resource whose type no provisioner knows: the older name (table) or the one
/// known type within a small edit distance. `None` when there is no single good candidate.
pub(crate) fn resource_type_fix(
    doc: &Document,
    res_pointer: &str,
    kind: &str,
    known: &[String],
) -> Option<(String, Option<Fix>)> {
    let candidate = OLD_RESOURCE_TYPES
        .iter()
        .find(|(old, new)| *old == kind && known.iter().any(|k| k == new))
        .map(|(_, new)| new.to_string())
        .or_else(|| {
            let lower = kind.to_lowercase();
            let mut scored: Vec<(usize, &String)> = known
                .iter()
                .map(|k| {
                    (
                        crate::validate::schema::edit_distance(&lower, &k.to_lowercase()),
                        k,
                    )
                })
                .filter(|(d, k)| *d <= 2.max(k.chars().count() / 4))
                .collect();
            scored.sort();
            match scored.as_slice() {
                [(_, k)] => Some((*k).clone()),
                [(d, k), (e, _), ..] if d < e => Some((*k).clone()),
                _ => None,
            }
        })?;
    let fix = scalar_edit(doc, &format!("{res_pointer}/type"), &candidate)
        .map(|e| Fix::machine(format!("set the type to `{candidate}`"), vec![e]));
    Some((candidate, fix))
}

/// Resources of a loaded workload whose `type` is none of `known` (the types the provisioners in
/// use know), each a [`Code::ProvisionNoMatch`] diagnostic at the type, with "did you mean" and a
/// fix when there is one good candidate (an older name, or one known type within a small edit
/// distance). `score-gen fix` uses it with the types of every target's default provisioners.
///
/// ```
/// use score_core::{load_workload, LoadOptions};
/// use score_core::validate::hints::check_resource_types;
/// let text = "apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers: {main: {image: x}}\nresources:\n  db:\n    type: postgresql\n";
/// let loaded = load_workload("score.yaml", text.as_bytes(), &LoadOptions::default()).unwrap();
/// let d = check_resource_types(&loaded.document, &["postgres".to_string()]);
/// assert_eq!(d[0].fixes[0].edits[0].replacement, "postgres");
/// ```
pub fn check_resource_types(document: &Document, known: &[String]) -> Vec<crate::Diagnostic> {
    let mut out = Vec::new();
    let Some(Value::Object(resources)) = document.value.get("resources") else {
        return out;
    };
    for (name, r) in resources {
        let Some(kind) = r.get("type").and_then(Value::as_str) else {
            continue;
        };
        if known.iter().any(|k| k == kind) {
            continue;
        }
        let res_ptr = format!("/resources/{}", escape_pointer_segment(name));
        let mut d = document.diagnostic(
            Code::ProvisionNoMatch,
            &format!("{res_ptr}/type"),
            format!("resource '{name}' has type '{kind}', which no default provisioner knows"),
        );
        match resource_type_fix(document, &res_ptr, kind, known) {
            Some((candidate, fix)) => {
                let old = OLD_RESOURCE_TYPES
                    .iter()
                    .any(|(o, n)| *o == kind && *n == candidate);
                d = d.with_help(if old {
                    format!("`{kind}` is an older or other tool's name of `{candidate}`")
                } else {
                    format!("did you mean `{candidate}`?")
                });
                if let Some(f) = fix {
                    d = d.with_fix(f);
                }
            }
            None => {
                d = d.with_help(format!(
                    "types the default provisioners know: {}; a platform's own provisioner file may add more",
                    known.join(", ")
                ));
            }
        }
        out.push(d);
    }
    out
}

/// `containers:` written as a block list of mappings that each have a `name` (the Kubernetes
/// and compose habit) → a mapping keyed by those names: `- name: main` becomes `main:`, or, when
/// `name` is not the item's first key, `- ` becomes `NAME:` on its own line and the `name` line
/// goes. Every other line (the item's fields, comments) stays, at the indentation it has.
fn containers_list_fix(doc: &Document, text: &str, items: &[Value]) -> Option<Fix> {
    let mut edits = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let name = item.get("name")?.as_str()?;
        if yaml_scalar(name) != name || !seen.insert(name.to_string()) {
            return None;
        }
        let item_ptr = format!("/containers/{i}");
        let first_key = item.as_object()?.keys().next()?.clone();
        let first = doc.spans.key(&format!(
            "{item_ptr}/{}",
            escape_pointer_segment(&first_key)
        ))?;
        let ls = line_start(text, first.offset);
        let prefix = &text[ls..first.offset];
        // `<indent>- ` then the first key.
        let dash = ls + prefix.find('-')?;
        if !prefix[..dash - ls].chars().all(|c| c == ' ') || prefix[dash - ls + 1..].trim() != "" {
            return None;
        }
        let name_ptr = format!("{item_ptr}/name");
        if first_key == "name" {
            let v = doc.spans.value(&name_ptr)?;
            if line_start(text, v.offset) != ls {
                return None;
            }
            edits.push(Edit::at(
                &doc.source,
                dash,
                v.offset + v.len - dash,
                format!("{name}:"),
            ));
        } else {
            let key = doc.spans.key(&name_ptr)?;
            let (_, key_line_end, _, end) = member_extent(text, key.offset)?;
            let nls = line_start(text, key.offset);
            if end != key_line_end || !text[nls..key.offset].trim().is_empty() {
                return None;
            }
            let col = dash - ls;
            edits.push(Edit::at(
                &doc.source,
                dash,
                first.offset - dash,
                format!("{name}:\n{}", " ".repeat(col + 2)),
            ));
            edits.push(Edit::at(&doc.source, nls, end - nls, ""));
        }
    }
    (!edits.is_empty()).then(|| Fix::machine("key the containers by their `name`", edits))
}

/// Score's top-level keys.
const TOP_LEVEL: &[&str] = &[
    "apiVersion",
    "metadata",
    "containers",
    "service",
    "resources",
];

/// Where a field the user may have written at the wrong level belongs (for "lost indentation").
fn home_of(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" | "annotations" => "`metadata`",
        "image" | "command" | "args" | "variables" | "files" | "volumes" | "livenessProbe"
        | "readinessProbe" => "a container (`containers.NAME`)",
        "cpu" | "memory" => "`limits:` or `requests:` under a container's `resources`",
        "limits" | "requests" => "a container's `resources`",
        "ports" => "`service`",
        "port" | "targetPort" | "protocol" => "a port under `service.ports`",
        "type" | "class" | "id" | "params" => "a resource (`resources.NAME`)",
        "httpGet" | "exec" => "`livenessProbe` or `readinessProbe`",
        "path" | "host" | "scheme" | "httpHeaders" => "a probe's `httpGet`",
        _ => return None,
    })
}

/// The key of a `key: ...` line (after indentation and an optional `- `), unquoted.
fn key_of(line: &str) -> Option<&str> {
    let t = line.trim_start().trim_start_matches("- ").trim_start();
    let (k, _) = t.split_once(':')?;
    let k = k.trim().trim_matches(['"', '\'']);
    (!k.is_empty() && !k.contains(' ')).then_some(k)
}

/// The value after `key:` on a line, without a trailing comment (empty when the value is a block).
fn inline_value(line: &str) -> &str {
    let t = line.trim_start().trim_start_matches("- ");
    let Some((_, v)) = t.split_once(':') else {
        return "";
    };
    let v = v.trim();
    if v.starts_with('#') {
        ""
    } else {
        v
    }
}

/// The content lines (not blank, not a comment) before byte `at`, nearest first: (start, line).
fn content_lines_before(text: &str, at: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut end = line_start(text, at);
    while end > 0 {
        let start = line_start(text, end - 1);
        let line = text[start..end].trim_end_matches(['\n', '\r']);
        if !is_blank_or_comment(line) {
            out.push((start, line));
            if out.len() == 2 {
                break;
            }
        }
        end = start;
    }
    out
}

/// A YAML structure error of a Score file, re-explained when it comes from lost or wrong
/// indentation: "mapping values are not allowed" after a dedented key, a duplicate key at the top
/// level of a file that lost its indentation. Other errors are returned unchanged.
pub(crate) fn explain_yaml_error(mut d: crate::Diagnostic) -> crate::Diagnostic {
    let Some(file) = d.file.clone() else { return d };
    let Some(span) = d.span else { return d };
    let text = file.text.as_str();
    if span.offset > text.len() || !text.is_char_boundary(span.offset) {
        return d;
    }
    // The deeper line: where the parser stopped ("mapping values are not allowed"), or the
    // line after the one whose trailing comment the parser stopped at (a plain value followed by
    // a comment, then a deeper line: "comment intercepting the multiline text").
    let deeper = if d.code != Code::LoadSyntax {
        None
    } else if d.message.contains("mapping values are not allowed") {
        Some(span.offset)
    } else if d
        .message
        .contains("comment intercepting the multiline text")
    {
        let mut at = line_end_incl(text, span.offset);
        while at < text.len() && is_blank_or_comment(&text[at..line_end_incl(text, at)]) {
            at = line_end_incl(text, at);
        }
        (at < text.len()).then_some(at)
    } else {
        None
    };
    if let Some(anchor) = deeper {
        let es = line_start(text, anchor);
        let eline = text[es..line_end_incl(text, es)].trim_end_matches(['\n', '\r']);
        let e = indent_of(eline);
        let before = content_lines_before(text, anchor);
        let Some(&(ps, pline)) = before.first() else {
            return d;
        };
        let p = indent_of(pline);
        let (Some(pkey), Some(ekey)) = (key_of(pline), key_of(eline)) else {
            return d;
        };
        if e <= p || inline_value(pline).is_empty() {
            return d;
        }
        let (pl, _) = file.line_col(ps);
        // `main:` (empty) then `image: x` at the same indentation, then deeper lines: `image`
        // lost its indentation.
        if let Some(&(_, qline)) = before.get(1)
            && indent_of(qline) == p
            && inline_value(qline).is_empty()
            && !qline.trim_start().starts_with('-')
        {
            let qkey = key_of(qline).unwrap_or("");
            d.message = format!(
                    "invalid YAML: `{pkey}:` (line {pl}) lost its indentation: `{ekey}:` below it is indented deeper"
                );
            d.help = Some(format!(
                    "`{pkey}` is at the same indentation as `{qkey}:` above it, so `{qkey}` is empty and `{pkey}` already has a value when the deeper `{ekey}:` follows; indent `{pkey}:` by {} space(s), like `{ekey}:`",
                    e - p
                ));
            // At the key to indent: that is what the user edits.
            let key_at = ps + p;
            let (line, column) = file.line_col(key_at);
            d.span = Some(crate::diag::Span::new(key_at, pkey.len(), line, column));
            d.label = Some(format!("indent `{pkey}:` like `{ekey}:` below"));
            d.fixes.push(Fix::machine(
                format!("indent `{pkey}:` (line {pl}) like `{ekey}:`"),
                vec![Edit::at(&file, ps, 0, " ".repeat(e - p))],
            ));
            return d;
        }
        d.message = format!(
            "invalid YAML: `{ekey}:` is indented deeper than `{pkey}:` (line {pl}), which already has a value"
        );
        d.help = Some(format!(
            "a key has either a value or nested keys, not both: if `{ekey}` is a sibling of `{pkey}`, give it `{pkey}`'s indentation; if `{pkey}` should hold it, move `{pkey}`'s value away"
        ));
        return d;
    }
    if d.code == Code::LoadDuplicateKey {
        let ks = span.offset;
        if ks != line_start(text, ks) {
            return d;
        }
        let Some(key) = key_of(&text[ks..line_end_incl(text, ks)]) else {
            return d;
        };
        if TOP_LEVEL.contains(&key) {
            return d;
        }
        // The file's other top-level keys that are not Score's: a file that lost its indentation.
        let stray: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with([' ', '\t', '#', '-']))
            .filter_map(key_of)
            .filter(|k| !TOP_LEVEL.contains(k))
            .collect();
        if stray.len() < 2 {
            return d;
        }
        d.message = format!(
            "{} (the file seems to have lost its indentation)",
            d.message
        );
        let home = home_of(key)
            .map(|h| format!("`{key}` belongs under {h}; "))
            .unwrap_or_default();
        d.help = Some(format!(
            "`{key}` and {} other key(s) that are not Score top-level fields start at column 1, as in text pasted from a page that dropped leading spaces; {home}re-indent the file so each nested key has more indentation than its parent (two spaces per level)",
            stray.len() - 1
        ));
    }
    d
}

/// A top-level section indented under `containers:` (`service:` with `ports`, `resources:` whose
/// entries have a `type`, `metadata:`): named as misplaced, with a fix that dedents its block to
/// the top level when the file does not have that section already.
fn misplaced_top_level(
    doc: &Document,
    text: &str,
    root: &serde_json::Map<String, Value>,
    pointer: &str,
    name: &str,
    value: &Value,
) -> Option<Hint> {
    let m = value.as_object();
    let looks = match name {
        "service" => m.is_some_and(|m| m.contains_key("ports") && !m.contains_key("image")),
        "resources" => m.is_some_and(|m| {
            !m.is_empty() && m.values().all(|r| r.get("type").is_some()) && !m.contains_key("image")
        }),
        "metadata" => m.is_some_and(|m| m.contains_key("name") && !m.contains_key("image")),
        "apiVersion" => value.is_string(),
        _ => false,
    };
    if !looks {
        return None;
    }
    let fix = if root.contains_key(name) {
        None
    } else {
        dedent_member(doc, text, pointer)
            .map(|e| Fix::machine(format!("move `{name}:` to the top level (dedent it)"), e))
    };
    let mut h = Hint::on_key(
        pointer.to_string(),
        format!("`{name}` is indented under `containers:`; it is a top-level section of the Score file"),
        format!("`{name}:` is read as a container named `{name}`; write it at the start of the line (no indentation), like `containers:`"),
    )
    .with_fix(fix);
    h.covers = vec![pointer.to_string()];
    if name == "resources" {
        h.suppresses = Some(Code::ValidatePlaceholderUnknownResource);
    }
    Some(h)
}

/// Edits that move a block member (key line and block) to column 1, keeping the relative
/// indentation of its lines.
fn dedent_member(doc: &Document, text: &str, pointer: &str) -> Option<Vec<Edit>> {
    let key = doc.spans.key(pointer)?;
    let (key_col, _, _, end) = member_extent(text, key.offset)?;
    let ls = line_start(text, key.offset);
    if key_col == 0 || !text[ls..key.offset].chars().all(|c| c == ' ') {
        return None;
    }
    let mut edits = Vec::new();
    let mut at = ls;
    while at < end {
        let le = line_end_incl(text, at);
        let line = &text[at..le];
        let cut = indent_of(line).min(key_col);
        if cut > 0 && !line.trim().is_empty() {
            edits.push(Edit::at(&doc.source, at, cut, ""));
        }
        at = le;
    }
    Some(edits)
}

/// `parent:` (empty) directly followed by `child: ...` at the same indentation: an insertion of
/// two spaces before the child's key.
fn indent_after_empty_parent(doc: &Document, parent: &str, child: &str) -> Option<Edit> {
    let text = &doc.source.text;
    let p = doc.spans.key(parent)?;
    let c = doc.spans.key(child)?;
    let pls = line_start(text, p.offset);
    let cls = line_start(text, c.offset);
    if p.offset != pls || c.offset != cls {
        return None;
    }
    let between = &text[line_end_incl(text, p.offset)..cls];
    if !between.lines().all(is_blank_or_comment) {
        return None;
    }
    let pline = &text[pls..line_end_incl(text, pls)];
    if !inline_value(pline).is_empty() {
        return None;
    }
    Some(Edit::at(&doc.source, cls, 0, "  "))
}

/// Resources whose type is an older or other tool's name of a Score type that is still a valid
/// type name (`postgresql`, `mongo`): the loader cannot know the provisioners, so these are
/// reported only alongside other problems of the file (one run shows everything; a file that
/// loads gets the provisioners' own no-match error with the same hint). The fix is offered, not
/// applied: `score-gen fix` applies it once it has checked the provisioners' types.
pub(crate) fn older_type_names(doc: &Document) -> Vec<crate::Diagnostic> {
    let mut out = Vec::new();
    let Some(Value::Object(resources)) = doc.value.get("resources") else {
        return out;
    };
    for (name, r) in resources {
        let Some(kind) = r.get("type").and_then(Value::as_str) else {
            continue;
        };
        let Some((_, new)) = OLD_RESOURCE_TYPES
            .iter()
            .find(|(old, _)| *old == kind && valid_type_name(old))
        else {
            continue;
        };
        let ptr = format!("/resources/{}/type", escape_pointer_segment(name));
        let mut d = doc
            .diagnostic(
                Code::ProvisionNoMatch,
                &ptr,
                format!("resource '{name}' has type `{kind}`, an older or other tool's name of `{new}`"),
            )
            .with_help(format!(
                "the default provisioners know `{new}`; keep `{kind}` only if your platform's provisioners have that type"
            ));
        if let Some(e) = scalar_edit(doc, &ptr, new) {
            d = d.with_fix(Fix::maybe(format!("set the type to `{new}`"), vec![e]));
        }
        out.push(d);
    }
    out
}

/// One compose or Kubernetes port entry as (port, targetPort, protocol, name): `"80:8080"`,
/// `"127.0.0.1:80:8080/udp"`, `8080`, `{containerPort: 8080, name: http, protocol: UDP}`, compose's
/// long form `{target: 8080, published: 80}`.
fn port_entry(v: &Value) -> Option<(u64, u64, Option<String>, Option<String>)> {
    let valid = |n: u64| (1..=65535).contains(&n).then_some(n);
    match v {
        Value::Number(n) => {
            let n = valid(n.as_u64()?)?;
            Some((n, n, None, None))
        }
        Value::String(s) => {
            let (spec, proto) = match s.split_once('/') {
                Some((a, p)) => (a, Some(p.to_ascii_uppercase())),
                None => (s.as_str(), None),
            };
            let parts: Vec<&str> = spec.split(':').collect();
            let target = valid(parts.last()?.parse().ok()?)?;
            let port = match parts.len() {
                1 => target,
                2 | 3 => valid(parts[parts.len() - 2].parse().ok()?)?,
                _ => return None,
            };
            Some((port, target, proto, None))
        }
        Value::Object(m) => {
            let target = valid(
                m.get("containerPort")
                    .or_else(|| m.get("target"))?
                    .as_u64()?,
            )?;
            let port = match m.get("published").or_else(|| m.get("hostPort")) {
                Some(p) => valid(p.as_u64().or_else(|| p.as_str()?.parse().ok())?)?,
                None => target,
            };
            let proto = m
                .get("protocol")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase);
            let name = m.get("name").and_then(Value::as_str).map(str::to_string);
            Some((port, target, proto, name))
        }
        _ => None,
    }
}

/// Container `ports` (a list) → a top-level `service.ports` mapping appended to the file, the
/// container's `ports` member deleted. The first port is named `web` (or its Kubernetes
/// `name`), the others `port-N`.
fn ports_fix(doc: &Document, text: &str, pointer: &str, ports: &Value) -> Option<Fix> {
    let items = ports.as_array()?;
    if items.is_empty() {
        return None;
    }
    let mut names = std::collections::BTreeSet::new();
    let mut block = String::from("service:\n  ports:\n");
    for (i, item) in items.iter().enumerate() {
        let (port, target, proto, name) = port_entry(item)?;
        if proto.as_deref().is_some_and(|p| p != "TCP" && p != "UDP") {
            return None;
        }
        let name = name
            .filter(|n| valid_type_name(n) && n.chars().all(|c| !c.is_ascii_uppercase()))
            .unwrap_or_else(|| {
                if i == 0 {
                    "web".into()
                } else {
                    format!("port-{port}")
                }
            });
        if !names.insert(name.clone()) {
            return None;
        }
        block.push_str(&format!("    {name}:\n      port: {port}\n"));
        if target != port {
            block.push_str(&format!("      targetPort: {target}\n"));
        }
        if let Some(p) = proto.filter(|p| p != "TCP") {
            block.push_str(&format!("      protocol: {p}\n"));
        }
    }
    let delete = delete_member(doc, text, pointer)?;
    if !text.ends_with('\n') {
        block.insert(0, '\n');
    }
    let append = Edit::at(&doc.source, text.len(), 0, block);
    Some(Fix::machine(
        "move the ports to a top-level `service.ports`",
        vec![delete, append],
    ))
}
