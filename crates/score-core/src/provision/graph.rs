//! The resource graph across all workloads: one node per resource uid, with the workloads that use
//! it, its dependencies, and a provisioning order.
//!
//! Follows score-go's `State.WithPrimedResources` and `GetSortedResourceUids` (see
//! `spec/uids.md`): workloads are visited sorted by name and their resources sorted by name; a
//! shared resource (same `type.class#id`) is one node; differing non-null `params` (or `metadata`)
//! between its definitions are an error; the order is Kahn's algorithm with every batch sorted by
//! uid, each uid listed once.
//!
//! ```
//! use score_core::{provision::graph, Workload};
//! let w: Workload = serde_json::from_value(serde_json::json!({
//!     "apiVersion": "score.dev/v1b1",
//!     "metadata": {"name": "web"},
//!     "containers": {"main": {"image": "nginx"}},
//!     "resources": {
//!         "db": {"type": "postgres"},
//!         "dns": {"type": "dns", "params": {"target": "${resources.db.host}"}}
//!     }
//! })).unwrap();
//! let g = graph::build(&[&w]).unwrap();
//! let order: Vec<&str> = g.order.iter().map(|u| u.as_str()).collect();
//! assert_eq!(order, ["postgres.default#web.db", "dns.default#web.dns"]);
//! ```

// A graph error is rare and carries every location of a conflict or cycle; boxing it would only
// move the size.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::diag::Code;
use crate::model::Workload;
use crate::provision::placeholder::{references, split_ref_parts};
use crate::uid::ResourceUid;
use crate::validate::rules::escape_pointer_segment;

/// One resource, possibly shared by several workloads.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceNode {
    /// Its uid.
    pub uid: ResourceUid,
    /// Resource `type`.
    pub kind: String,
    /// Resource class (`default` when absent).
    pub class: String,
    /// The shared `id`, if any.
    pub id: Option<String>,
    /// The params every definition agrees on (the last non-null one, in priming order).
    pub params: Option<Map<String, Value>>,
    /// The metadata every definition agrees on (the last non-null one, in priming order).
    pub metadata: Option<Map<String, Value>>,
    /// The workload whose context substitutes `params`: the last workload (by name) whose
    /// definition has non-null params, else the first one (score-go's rule).
    pub source_workload: String,
    /// Every (workload, resource name) that declares this resource, in priming order.
    pub users: Vec<(String, String)>,
    /// Resources whose outputs this one's params reference (union over all definitions).
    pub depends_on: BTreeSet<ResourceUid>,
}

/// All resources and the order to provision them in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// The nodes by uid.
    pub nodes: BTreeMap<ResourceUid, ResourceNode>,
    /// Provisioning order: every uid once, each after all its dependencies.
    pub order: Vec<ResourceUid>,
}

/// Why the graph could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// Which problem it is, e.g. [`Code::GraphCycle`].
    pub code: Code,
    /// What is wrong (score-go's text where it has one).
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Where: (workload name, JSON pointer inside that workload's document).
    pub locations: Vec<(String, String)>,
    /// What each location is, by index (e.g. "`db`'s params refer to `cache`"); a location
    /// without one after the first is another definition of the same thing.
    pub labels: Vec<String>,
    /// Per location, the start of the text at fault inside it (`${resources.db`), so the
    /// caller can underline the reference itself rather than the whole `params` mapping.
    pub needles: Vec<Option<String>>,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GraphError {}

/// The uid of resource `res_name` of `workload`, or `None` if it declares no such resource.
///
/// ```
/// use score_core::{provision::graph::uid_of, Workload};
/// let w: Workload = serde_json::from_value(serde_json::json!({
///     "apiVersion": "score.dev/v1b1", "metadata": {"name": "web"},
///     "containers": {"main": {"image": "nginx"}},
///     "resources": {"db": {"type": "postgres", "class": "large", "id": "shared-db"}}
/// })).unwrap();
/// assert_eq!(uid_of(&w, "db").unwrap().as_str(), "postgres.large#shared-db");
/// assert!(uid_of(&w, "nope").is_none());
/// ```
pub fn uid_of(workload: &Workload, res_name: &str) -> Option<ResourceUid> {
    let r = workload.resources.get(res_name)?;
    Some(ResourceUid::new(
        workload.name(),
        res_name,
        &r.kind,
        r.class.as_deref(),
        r.id.as_deref(),
    ))
}

fn res_ptr(res_name: &str, field: &str) -> String {
    format!("/resources/{}/{field}", escape_pointer_segment(res_name))
}

/// [`build`] on loaded workloads, with located diagnostics (names checked unique first).
pub fn of_workloads(
    workloads: &[crate::project::WorkloadInput],
) -> Result<Graph, crate::Diagnostics> {
    crate::compile::resource_graph(workloads)
}

/// Builds the graph of every resource of `workloads` (which must have distinct names).
pub fn build(workloads: &[&Workload]) -> Result<Graph, GraphError> {
    let mut sorted: Vec<&Workload> = workloads.to_vec();
    sorted.sort_by(|a, b| a.name().cmp(b.name()));

    let mut nodes: BTreeMap<ResourceUid, ResourceNode> = BTreeMap::new();
    // Which definition supplied the node's current params / metadata, for conflict locations.
    let mut params_from: BTreeMap<ResourceUid, (String, String)> = BTreeMap::new();
    let mut metadata_from: BTreeMap<ResourceUid, (String, String)> = BTreeMap::new();

    for w in &sorted {
        let wname = w.name().to_string();
        let mut names: Vec<&String> = w.resources.keys().collect();
        names.sort();
        for rname in names {
            let r = &w.resources[rname];
            let uid = ResourceUid::new(&wname, rname, &r.kind, r.class.as_deref(), r.id.as_deref());
            let here = (wname.clone(), rname.clone());
            let Some(node) = nodes.get_mut(&uid) else {
                nodes.insert(
                    uid.clone(),
                    ResourceNode {
                        uid: uid.clone(),
                        kind: r.kind.clone(),
                        class: r.class_or_default().to_string(),
                        id: r.id.clone(),
                        params: r.params.clone(),
                        metadata: r.metadata.clone(),
                        source_workload: wname.clone(),
                        users: vec![here.clone()],
                        depends_on: BTreeSet::new(),
                    },
                );
                params_from.insert(uid.clone(), here.clone());
                metadata_from.insert(uid, here);
                continue;
            };
            node.users.push(here.clone());
            if let Some(p) = &r.params {
                if let Some(existing) = &node.params
                    && existing != p
                {
                    return Err(conflict(&uid, "params", &params_from[&uid], &here));
                }
                node.params = Some(p.clone());
                node.source_workload = wname.clone();
                params_from.insert(uid.clone(), here.clone());
            }
            if let Some(m) = &r.metadata {
                if let Some(existing) = &node.metadata
                    && existing != m
                {
                    return Err(conflict(&uid, "metadata", &metadata_from[&uid], &here));
                }
                node.metadata = Some(m.clone());
                metadata_from.insert(uid.clone(), here);
            }
        }
    }

    // Dependencies: the union over every definition, each read in its own workload's context.
    for w in &sorted {
        let mut names: Vec<&String> = w.resources.keys().collect();
        names.sort();
        for rname in names {
            let r = &w.resources[rname];
            let Some(params) = &r.params else { continue };
            let Some(uid) = uid_of(w, rname) else {
                continue;
            };
            let deps = dependencies(w, rname, params)?;
            if let Some(node) = nodes.get_mut(&uid) {
                node.depends_on.extend(deps);
            }
        }
    }

    let order = kahn(&nodes, &params_from)?;
    Ok(Graph { nodes, order })
}

fn conflict(
    uid: &ResourceUid,
    what: &str,
    first: &(String, String),
    second: &(String, String),
) -> GraphError {
    let place = |(w, r): &(String, String)| format!("workload '{w}' resource '{r}'");
    GraphError {
        code: Code::GraphConflictingDefinitions,
        message: format!("resource '{uid}': multiple definitions with different {what}"),
        help: Some(format!(
            "{} and {} are the same resource (uid '{uid}') but declare different {what}; make them identical, or declare {what} in only one of them",
            place(first),
            place(second)
        )),
        locations: vec![
            (first.0.clone(), res_ptr(&first.1, what)),
            (second.0.clone(), res_ptr(&second.1, what)),
        ],
        labels: Vec::new(),
        needles: Vec::new(),
    }
}

/// The uids referenced as `${resources.<name>...}` in `params` of resource `rname` of `w`.
fn dependencies(
    w: &Workload,
    rname: &str,
    params: &Map<String, Value>,
) -> Result<BTreeSet<ResourceUid>, GraphError> {
    let mut strings = Vec::new();
    let mut keys: Vec<&String> = params.keys().collect();
    keys.sort();
    for k in keys {
        collect(&params[k], vec![k.clone()], &mut strings);
    }
    let mut out = BTreeSet::new();
    for (path, s) in strings {
        for reference in references(s) {
            let parts = split_ref_parts(reference);
            if parts.len() < 2 || parts[0] != "resources" {
                continue;
            }
            match uid_of(w, &parts[1]) {
                Some(u) => {
                    out.insert(u);
                }
                None => {
                    let wname = w.name();
                    let go_path: String = path.iter().map(|p| format!("{p}: ")).collect();
                    let pointer = path.iter().fold(res_ptr(rname, "params"), |acc, p| {
                        format!("{acc}/{}", escape_pointer_segment(p))
                    });
                    let mut declared: Vec<&str> = w.resources.keys().map(String::as_str).collect();
                    declared.sort_unstable();
                    return Err(GraphError {
                        code: Code::GraphUnknownResource,
                        message: format!(
                            "workload '{wname}' resource '{rname}': {go_path}invalid ref '{reference}': refers to unknown resource names '{}'",
                            parts[1]
                        ),
                        help: Some(format!(
                            "declare it under `resources:` of workload '{wname}' or fix the name; declared resources: {}",
                            declared.join(", ")
                        )),
                        locations: vec![(wname.to_string(), pointer)],
                        labels: Vec::new(),
                        needles: Vec::new(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Every string under `v` with its path (keys sorted, as Go would if it did not use map order).
fn collect<'a>(v: &'a Value, path: Vec<String>, out: &mut Vec<(Vec<String>, &'a str)>) {
    match v {
        Value::String(s) => out.push((path, s)),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let mut p = path.clone();
                p.push(i.to_string());
                collect(x, p, out);
            }
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                let mut p = path.clone();
                p.push(k.clone());
                collect(&m[k], p, out);
            }
        }
        _ => {}
    }
}

/// Kahn's algorithm: repeatedly take every node whose dependencies are all placed, sorted by uid.
fn kahn(
    nodes: &BTreeMap<ResourceUid, ResourceNode>,
    params_from: &BTreeMap<ResourceUid, (String, String)>,
) -> Result<Vec<ResourceUid>, GraphError> {
    let mut placed: BTreeSet<&ResourceUid> = BTreeSet::new();
    let mut order = Vec::with_capacity(nodes.len());
    loop {
        // BTreeMap iteration is already sorted by uid.
        let batch: Vec<&ResourceUid> = nodes
            .values()
            .filter(|n| !placed.contains(&n.uid))
            .filter(|n| n.depends_on.iter().all(|d| placed.contains(d)))
            .map(|n| &n.uid)
            .collect();
        if batch.is_empty() {
            break;
        }
        for u in batch {
            placed.insert(u);
            order.push(u.clone());
        }
    }
    if order.len() == nodes.len() {
        return Ok(order);
    }
    // Every node left has a dependency that is also left, so following the smallest one from
    // the smallest node must come back round.
    let left = |u: &ResourceUid| nodes.contains_key(u) && !placed.contains(u);
    let start = nodes
        .keys()
        .find(|u| left(u))
        .cloned()
        .unwrap_or_else(|| ResourceUid::from_string(""));
    let mut path = vec![start.clone()];
    let mut cur = start;
    let cycle = loop {
        let next = nodes
            .get(&cur)
            .and_then(|n| n.depends_on.iter().find(|d| left(d)).cloned());
        let Some(next) = next else { break path.clone() };
        if let Some(pos) = path.iter().position(|u| *u == next) {
            let mut c = path[pos..].to_vec();
            c.push(next);
            break c;
        }
        path.push(next.clone());
        cur = next;
    };
    // Present it as "a needs b needs ... needs a", starting at the smallest uid.
    let ring = &cycle[..cycle.len().saturating_sub(1).max(1)];
    let min = ring
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.cmp(b.1))
        .map_or(0, |(i, _)| i);
    let mut shown: Vec<&ResourceUid> = ring[min..].iter().chain(ring[..min].iter()).collect();
    if let Some(first) = shown.first().copied() {
        shown.push(first);
    }
    let text = shown
        .iter()
        .map(|u| u.as_str())
        .collect::<Vec<_>>()
        .join(" -> ");
    // One location per resource of the ring, in the ring's order, each labelled with the
    // reference it makes, the last one closing the cycle.
    let ring_shown = &shown[..shown.len().saturating_sub(1)];
    let name_of = |u: &ResourceUid| {
        params_from
            .get(u)
            .map_or_else(|| u.as_str().to_string(), |(_, r)| r.clone())
    };
    let mut locations = Vec::new();
    let mut labels = Vec::new();
    let mut needles = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, u) in ring_shown.iter().enumerate() {
        let Some((w, r)) = params_from.get(*u) else {
            continue;
        };
        if !seen.insert(*u) {
            continue;
        }
        let next = shown.get(i + 1).map_or_else(String::new, |n| name_of(n));
        locations.push((w.clone(), res_ptr(r, "params")));
        needles.push(Some(format!("${{resources.{next}")));
        labels.push(if i + 1 == ring_shown.len() && ring_shown.len() > 1 {
            format!("...and `{r}`'s params refer back to `{next}`, closing the cycle")
        } else if ring_shown.len() == 1 {
            format!("`{r}`'s params refer to `{r}` itself")
        } else {
            format!("`{r}`'s params refer to `{next}`...")
        });
    }
    Err(GraphError {
        code: Code::GraphCycle,
        message: format!("a cycle exists involving resource param placeholders: {text}"),
        help: Some(
            "each resource's params refer (`${resources.<name>...}`) to the next one's outputs; a resource cannot depend on itself, directly or indirectly — remove one of these references".to_string(),
        ),
        locations,
        labels,
        needles,
    })
}
