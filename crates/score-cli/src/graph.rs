//! `score-gen graph FILE...`: what a set of Score files provisions and how it hangs together,
//! as Graphviz DOT, Mermaid, JSON (schemas/graph.json) or Backstage catalog entities
//! (spec/graph.md).
//!
//! Nothing is provisioned and nothing is written: the files are loaded and validated, the
//! resource graph is built as a generate run builds it, and each resource is matched against
//! the target's provisioners (`--provisioners`, the state directory's files, the defaults) the
//! way a run would match it. Every listing is sorted, so the output is byte-deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use score_core::project::WorkloadInput;
use score_core::provision::graph::{self, Graph};
use score_core::Diagnostics;
use serde_json::{json, Value};

use crate::generate::{self, CommonArgs};
use crate::row;

/// `graph --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// JSON (schemas/graph.json).
    Json,
    /// Backstage catalog entities (multi-document YAML): a Component per workload, a Resource
    /// per resource, `dependsOn` relations.
    Backstage,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// Score files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// `dot`, `mermaid`, `json` or `backstage`.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// The target whose provisioners the resources are matched against (default: the project's
    /// one target, else the table's first).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(row::names()))]
    target: Option<String>,
    /// Extra provisioner URIs (tried first), as for the target commands.
    #[arg(long = "provisioners", value_name = "URI", value_parser = generate::non_empty_uri)]
    provisioners: Vec<String>,
    /// The state directory (its `<target>/provisioners/` files are matched too).
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
    /// Backstage: `spec.owner` of every entity.
    #[arg(long, default_value = "unknown")]
    owner: String,
    /// Backstage: `spec.lifecycle` of every Component.
    #[arg(long, default_value = "production")]
    lifecycle: String,
}

/// A workload of the graph.
struct WorkloadNode {
    name: String,
    /// The Score file; `None` for a workload only named by a service-port resource.
    file: Option<String>,
    containers: Vec<String>,
}

/// A resource of the graph.
struct ResourceNode {
    uid: String,
    kind: String,
    class: String,
    id: Option<String>,
    /// (workload, resource name) of every declaration.
    users: Vec<(String, String)>,
    /// The first provisioner that matches, as a run would pick it.
    provisioner: Option<String>,
}

/// One edge; `from`/`to` are node ids (`workload:W`, `container:W/C`, `resource:UID`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    kind: &'static str,
    label: String,
}

/// The whole picture.
struct Model {
    target: String,
    workloads: Vec<WorkloadNode>,
    resources: Vec<ResourceNode>,
    edges: Vec<Edge>,
}

fn workload_id(w: &str) -> String {
    format!("workload:{w}")
}
fn container_id(w: &str, c: &str) -> String {
    format!("container:{w}/{c}")
}
fn resource_id(uid: &str) -> String {
    format!("resource:{uid}")
}

pub fn run(args: &GraphArgs) -> Result<(), Diagnostics> {
    let common = CommonArgs {
        files: args.files.clone(),
        remove: Vec::new(),
        override_files: Vec::new(),
        override_properties: Vec::new(),
        image: None,
        provisioners: args.provisioners.clone(),
        state_dir: args.state_dir.clone(),
        allow_outside_paths: false,
        allow_remote_commands: false,
        cmd_timeout: 60,
        check: false,
        locked: false,
        frozen: false,
        env_prefix: None,
        tool: None,
    };
    let workloads = generate::load_all(&common)?;
    let resource_graph = graph::of_workloads(&workloads)?;
    let name = crate::commands::project_target(args.target.as_deref(), &args.state_dir, "graph")?;
    let target = row::default_target(name)?;
    let provisioners = generate::load_provisioners(target.as_ref(), &common)?;
    let model = build(name, &workloads, &resource_graph, |uid| {
        provisioners.find(uid).map(|p| p.uri.clone())
    });
    let text = match args.format {
        GraphFormat::Dot => dot(&model),
        GraphFormat::Mermaid => mermaid(&model),
        GraphFormat::Json => crate::table::render_json(&to_json(&model)),
        GraphFormat::Backstage => backstage(&model, &args.owner, &args.lifecycle),
    };
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| crate::files::io_diag("<stdout>", e))?;
    Ok(())
}

fn build(
    target: &str,
    inputs: &[WorkloadInput],
    g: &Graph,
    provisioner_of: impl Fn(&score_core::target::ResourceUid) -> Option<String>,
) -> Model {
    let mut workloads: BTreeMap<String, WorkloadNode> = BTreeMap::new();
    let mut edges = BTreeSet::new();
    for input in inputs {
        let w = &input.loaded.workload;
        let name = w.name().to_string();
        let containers: Vec<String> = w.containers.keys().cloned().collect();
        for (c, spec) in &w.containers {
            for (other, before) in &spec.before {
                let ready = serde_json::to_value(before.ready)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                edges.insert(Edge {
                    from: container_id(&name, c),
                    to: container_id(&name, other),
                    kind: "before",
                    label: format!("before ({ready})"),
                });
            }
        }
        workloads.insert(
            name.clone(),
            WorkloadNode {
                name,
                file: input.file.clone(),
                containers,
            },
        );
    }
    let mut resources = Vec::new();
    for (uid, node) in &g.nodes {
        let rid = resource_id(uid.as_str());
        for (w, r) in &node.users {
            edges.insert(Edge {
                from: workload_id(w),
                to: rid.clone(),
                kind: "uses",
                label: r.clone(),
            });
        }
        for dep in &node.depends_on {
            edges.insert(Edge {
                from: rid.clone(),
                to: resource_id(dep.as_str()),
                kind: "params",
                label: "params".into(),
            });
        }
        // A service-port resource reaches another workload's service port.
        if node.kind == "service-port" {
            let param = |k: &str| node.params.as_ref().and_then(|p| p.get(k));
            if let Some(target_w) = param("workload").and_then(Value::as_str)
                && !target_w.contains("${")
            {
                let port = match param("port") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v @ Value::Number(_)) => v.to_string(),
                    _ => String::new(),
                };
                workloads
                    .entry(target_w.to_string())
                    .or_insert_with(|| WorkloadNode {
                        name: target_w.to_string(),
                        file: None,
                        containers: Vec::new(),
                    });
                edges.insert(Edge {
                    from: rid.clone(),
                    to: workload_id(target_w),
                    kind: "service-port",
                    label: if port.is_empty() {
                        "service port".into()
                    } else {
                        format!("port {port}")
                    },
                });
            }
        }
        resources.push(ResourceNode {
            uid: uid.as_str().to_string(),
            kind: node.kind.clone(),
            class: node.class.clone(),
            id: node.id.clone(),
            users: node.users.clone(),
            provisioner: provisioner_of(uid),
        });
    }
    Model {
        target: target.to_string(),
        workloads: workloads.into_values().collect(),
        resources,
        edges: edges.into_iter().collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON

fn to_json(m: &Model) -> Value {
    json!({
        "target": m.target,
        "workloads": m.workloads.iter().map(|w| json!({
            "id": workload_id(&w.name),
            "name": w.name,
            "file": w.file,
            "containers": w.containers.iter().map(|c| json!({
                "id": container_id(&w.name, c),
                "name": c,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "resources": m.resources.iter().map(|r| json!({
            "id": resource_id(&r.uid),
            "uid": r.uid,
            "type": r.kind,
            "class": r.class,
            "shared_id": r.id,
            "used_by": r.users.iter().map(|(w, n)| json!({"workload": w, "resource": n})).collect::<Vec<_>>(),
            "provisioner": r.provisioner,
        })).collect::<Vec<_>>(),
        "edges": m.edges.iter().map(|e| json!({
            "from": e.from, "to": e.to, "kind": e.kind, "label": e.label,
        })).collect::<Vec<_>>(),
    })
}

// ---------------------------------------------------------------------------------------------
// Graphviz DOT

/// A DOT double-quoted string.
fn dq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn resource_label(r: &ResourceNode, lines_sep: &str) -> String {
    let mut label = format!("{}.{}", r.kind, r.class);
    if let Some(id) = &r.id {
        label.push_str(&format!("#{id} (shared)"));
    } else if let Some((w, n)) = r.users.first() {
        label.push_str(&format!(" ({w}.{n})"));
    }
    label.push_str(lines_sep);
    label.push_str(r.provisioner.as_deref().unwrap_or("no provisioner matches"));
    label
}

fn dot(m: &Model) -> String {
    let mut s = String::new();
    s.push_str("digraph score {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for w in &m.workloads {
        let _ = writeln!(s, "  subgraph {} {{", dq(&format!("cluster_{}", w.name)));
        let _ = writeln!(s, "    label={};", dq(&format!("workload {}", w.name)));
        let style = if w.file.is_some() { "bold" } else { "dashed" };
        let _ = writeln!(
            s,
            "    {} [shape=box, style={style}, label={}];",
            dq(&workload_id(&w.name)),
            dq(&w.name)
        );
        for c in &w.containers {
            let _ = writeln!(
                s,
                "    {} [shape=box, style=rounded, label={}];",
                dq(&container_id(&w.name, c)),
                dq(c)
            );
        }
        s.push_str("  }\n");
    }
    for r in &m.resources {
        let extra = if r.id.is_some() {
            ", peripheries=2"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {} [shape=cylinder{extra}, label={}];",
            dq(&resource_id(&r.uid)),
            dq(&resource_label(r, "\n"))
        );
    }
    for e in &m.edges {
        let style = match e.kind {
            "before" => ", style=dashed",
            "service-port" => ", style=dotted",
            _ => "",
        };
        let _ = writeln!(
            s,
            "  {} -> {} [label={}{style}];",
            dq(&e.from),
            dq(&e.to),
            dq(&e.label)
        );
    }
    s.push_str("}\n");
    s
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/// Text inside a Mermaid `"..."` label: quotes and `#` as entity codes, `<`/`>` too.
fn mq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn mermaid(m: &Model) -> String {
    // Mermaid ids are plain words: n0, n1, ... in the order nodes are listed.
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let next = |key: String, ids: &mut BTreeMap<String, String>| -> String {
        let id = format!("n{}", ids.len());
        ids.insert(key, id.clone());
        id
    };
    let mut s = String::from("flowchart LR\n");
    for (i, w) in m.workloads.iter().enumerate() {
        let _ = writeln!(
            s,
            "  subgraph w{i}[{}]",
            mq(&format!("workload {}", w.name))
        );
        let id = next(workload_id(&w.name), &mut ids);
        let _ = writeln!(s, "    {id}[{}]", mq(&w.name));
        for c in &w.containers {
            let id = next(container_id(&w.name, c), &mut ids);
            let _ = writeln!(s, "    {id}([{}])", mq(c));
        }
        s.push_str("  end\n");
    }
    for r in &m.resources {
        let id = next(resource_id(&r.uid), &mut ids);
        let _ = writeln!(s, "  {id}[({})]", mq(&resource_label(r, " / ")));
    }
    for e in &m.edges {
        let arrow = match e.kind {
            "before" | "service-port" => "-.->",
            _ => "-->",
        };
        let _ = writeln!(
            s,
            "  {} {arrow}|{}| {}",
            ids[&e.from],
            mq(&e.label),
            ids[&e.to]
        );
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Backstage

/// A Backstage entity name: `[A-Za-z0-9]` at both ends, `[-_.A-Za-z0-9]` between, at most 63.
fn entity_name(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name: String = mapped.chars().take(63).collect();
    while name.ends_with(|c: char| !c.is_ascii_alphanumeric()) {
        name.pop();
    }
    while name.starts_with(|c: char| !c.is_ascii_alphanumeric()) {
        name.remove(0);
    }
    if name.is_empty() {
        name.push('x');
    }
    name
}

fn backstage(m: &Model, owner: &str, lifecycle: &str) -> String {
    // Entity names: a workload's own resource `<workload>-<name>`, a shared one `<type>-<id>`,
    // with `-<class>` when the class is not `default`; a clash gets `-2`, `-3`, ...
    let mut taken: BTreeSet<String> = m.workloads.iter().map(|w| w.name.clone()).collect();
    let mut resource_names: BTreeMap<&str, String> = BTreeMap::new();
    for r in &m.resources {
        let mut base = match (&r.id, r.users.first()) {
            (Some(id), _) => format!("{}-{id}", r.kind),
            (None, Some((w, n))) => format!("{w}-{n}"),
            (None, None) => r.kind.clone(),
        };
        if r.class != "default" {
            base.push_str(&format!("-{}", r.class));
        }
        let base = entity_name(&base);
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.to_ascii_lowercase()) {
            name = entity_name(&format!("{}-{n}", &base[..base.len().min(59)]));
            n += 1;
        }
        resource_names.insert(&r.uid, name);
    }
    let mut depends: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in &m.edges {
        let entity_ref = |id: &str| -> Option<String> {
            if let Some(w) = id.strip_prefix("workload:") {
                Some(format!("component:{w}"))
            } else {
                id.strip_prefix("resource:")
                    .map(|uid| format!("resource:{}", resource_names[uid]))
            }
        };
        if e.kind == "before" {
            continue;
        }
        if let (Some(from), Some(to)) = (entity_ref(&e.from), entity_ref(&e.to)) {
            depends.entry(from).or_default().insert(to);
        }
    }
    let mut docs = Vec::new();
    for w in &m.workloads {
        let mut annotations = serde_json::Map::new();
        if let Some(f) = &w.file {
            annotations.insert("score.dev/file".into(), json!(f));
        }
        let me = format!("component:{}", w.name);
        let mut spec = json!({"type": "service", "lifecycle": lifecycle, "owner": owner});
        if let Some(d) = depends.get(&me) {
            spec["dependsOn"] = json!(d);
        }
        let mut metadata = json!({"name": w.name});
        if !annotations.is_empty() {
            metadata["annotations"] = Value::Object(annotations);
        }
        docs.push(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": metadata,
            "spec": spec,
        }));
    }
    for r in &m.resources {
        let name = &resource_names[r.uid.as_str()];
        let mut annotations = serde_json::Map::new();
        annotations.insert("score.dev/resource-uid".into(), json!(r.uid));
        if let Some(p) = &r.provisioner {
            annotations.insert("score.dev/provisioner".into(), json!(p));
        }
        let me = format!("resource:{name}");
        let mut spec = json!({"type": r.kind, "owner": owner});
        if let Some(d) = depends.get(&me) {
            spec["dependsOn"] = json!(d);
        }
        docs.push(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Resource",
            "metadata": {"name": name, "title": r.uid, "annotations": annotations},
            "spec": spec,
        }));
    }
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        out.push_str(
            &serde_saphyr::to_string(&d)
                .unwrap_or_else(|e| unreachable!("serde-saphyr cannot emit a JSON value: {e}")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_names_are_valid() {
        assert_eq!(entity_name("web-db"), "web-db");
        assert_eq!(entity_name("postgres-main#x"), "postgres-main-x");
        assert_eq!(entity_name("-a-"), "a");
        assert_eq!(entity_name(&"a".repeat(80)).len(), 63);
        assert_eq!(entity_name("#"), "x");
    }

    #[test]
    fn quoting() {
        assert_eq!(dq("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(mq("a\"#<b>"), "\"a#quot;#35;#lt;b#gt;\"");
    }
}
