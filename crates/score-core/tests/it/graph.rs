//! The resource graph: priming, shared resources, dependency order and cycles.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use score_core::provision::graph::{build, uid_of};
use score_core::Workload;
use serde_json::{json, Value};

fn workload(name: &str, resources: Value) -> Workload {
    serde_json::from_value(json!({
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": name},
        "containers": {"main": {"image": "nginx"}},
        "resources": resources,
    }))
    .expect("valid workload")
}

fn order(ws: &[&Workload]) -> Vec<String> {
    build(ws)
        .expect("graph builds")
        .order
        .iter()
        .map(|u| u.to_string())
        .collect()
}

#[test]
fn uid_forms_follow_score_go() {
    // score-go resource_uid_test.go rows (§6.8), through a workload.
    let w = workload(
        "work",
        json!({
            "plain": {"type": "res-type"},
            "classed": {"type": "res-type", "class": "something"},
            "shared": {"type": "res-type", "id": "something"},
            "both": {"type": "res-type", "class": "large", "id": "a.b--c"},
        }),
    );
    let uid = |n: &str| uid_of(&w, n).expect("declared").to_string();
    assert_eq!(uid("plain"), "res-type.default#work.plain");
    assert_eq!(uid("classed"), "res-type.something#work.classed");
    assert_eq!(uid("shared"), "res-type.default#something");
    assert_eq!(uid("both"), "res-type.large#a.b--c");
    let g = build(&[&w]).unwrap();
    let n = &g.nodes[&uid_of(&w, "both").unwrap()];
    assert_eq!(
        (n.kind.as_str(), n.class.as_str(), n.id.as_deref()),
        ("res-type", "large", Some("a.b--c"))
    );
    assert_eq!(g.nodes[&uid_of(&w, "plain").unwrap()].id, None);
}

#[test]
fn shared_resource_is_one_node_with_both_users() {
    let a = workload(
        "alpha",
        json!({"db": {"type": "postgres", "id": "shared-db"}}),
    );
    let b = workload(
        "beta",
        json!({"database": {"type": "postgres", "id": "shared-db", "params": {"size": 1}},
               "cache": {"type": "redis"}}),
    );
    // Input order must not matter: priming sorts workloads by name.
    let g = build(&[&b, &a]).unwrap();
    assert_eq!(g.nodes.len(), 2);
    let n = &g.nodes[&uid_of(&a, "db").unwrap()];
    assert_eq!(n.uid.as_str(), "postgres.default#shared-db");
    assert_eq!(
        n.users,
        vec![
            ("alpha".into(), "db".into()),
            ("beta".into(), "database".into())
        ]
    );
    // The last definition with params becomes the source workload.
    assert_eq!(n.source_workload, "beta");
    assert_eq!(n.params.as_ref().unwrap()["size"], json!(1));
    assert_eq!(
        order(&[&a, &b]),
        ["postgres.default#shared-db", "redis.default#beta.cache"]
    );
}

#[test]
fn source_workload_is_first_when_no_definition_has_params() {
    let a = workload("bb", json!({"db": {"type": "postgres", "id": "x1"}}));
    let b = workload("aa", json!({"db": {"type": "postgres", "id": "x1"}}));
    let g = build(&[&a, &b]).unwrap();
    assert_eq!(g.nodes.values().next().unwrap().source_workload, "aa");
    // Later params-less definitions do not steal it either.
    let c = workload(
        "cc",
        json!({"db": {"type": "postgres", "id": "x1", "params": {"p": "q"}}}),
    );
    let d = workload("dd", json!({"db": {"type": "postgres", "id": "x1"}}));
    let g = build(&[&a, &b, &c, &d]).unwrap();
    assert_eq!(g.nodes.values().next().unwrap().source_workload, "cc");
}

#[test]
fn conflicting_params_error_names_both_definitions() {
    let a = workload(
        "alpha",
        json!({"db": {"type": "postgres", "id": "shared-db", "params": {"v": 1}}}),
    );
    let b = workload(
        "beta",
        json!({"data": {"type": "postgres", "id": "shared-db", "params": {"v": 2}}}),
    );
    let e = build(&[&b, &a]).unwrap_err();
    assert_eq!(
        e.message,
        "resource 'postgres.default#shared-db': multiple definitions with different params"
    );
    assert_eq!(
        e.locations,
        vec![
            ("alpha".to_string(), "/resources/db/params".to_string()),
            ("beta".to_string(), "/resources/data/params".to_string()),
        ]
    );
    let help = e.help.unwrap();
    assert!(
        help.contains("workload 'alpha' resource 'db'")
            && help.contains("workload 'beta' resource 'data'"),
        "{help}"
    );
}

#[test]
fn conflicting_metadata_and_same_workload_duplicates() {
    // score-go state_test "one workload - diff metadata".
    let w = workload(
        "example",
        json!({"one": {"type": "thing", "id": "elephant", "metadata": {"x": "a"}},
               "two": {"type": "thing", "id": "elephant", "metadata": {"x": "y"}}}),
    );
    let e = build(&[&w]).unwrap_err();
    assert_eq!(
        e.message,
        "resource 'thing.default#elephant': multiple definitions with different metadata"
    );
    assert_eq!(
        e.locations[1],
        ("example".to_string(), "/resources/two/metadata".to_string())
    );
    // Identical params, or params on only one side, merge fine.
    let w = workload(
        "example",
        json!({"one": {"type": "thing", "id": "elephant", "params": {"color": "blue"}},
               "two": {"type": "thing", "id": "elephant", "params": {"color": "blue"}, "metadata": {"x": "y"}},
               "three": {"type": "thing", "id": "elephant"}}),
    );
    let g = build(&[&w]).unwrap();
    let n = g.nodes.values().next().unwrap();
    assert_eq!(
        n.metadata,
        Some(json!({"x": "y"}).as_object().unwrap().clone())
    );
    assert_eq!(n.users.len(), 3);
}

#[test]
fn dependencies_come_first() {
    let w = workload(
        "app",
        json!({
            "dns": {"type": "dns", "params": {"target": "${resources.route.host}"}},
            "route": {"type": "route", "params": {"x": ["${resources.db.host}:${resources.db.port}"]}},
            "db": {"type": "postgres"},
            "escaped": {"type": "aaa", "params": {"x": "$${resources.dns.host}"}},
        }),
    );
    let g = build(&[&w]).unwrap();
    assert_eq!(
        g.order.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        [
            "aaa.default#app.escaped",
            "postgres.default#app.db",
            "route.default#app.route",
            "dns.default#app.dns"
        ]
    );
    let route = &g.nodes[&uid_of(&w, "route").unwrap()];
    assert_eq!(
        route
            .depends_on
            .iter()
            .map(|u| u.as_str())
            .collect::<Vec<_>>(),
        ["postgres.default#app.db"]
    );
}

#[test]
fn ties_are_broken_by_uid_string() {
    let w1 = workload(
        "zed",
        json!({"b": {"type": "b-type"}, "a": {"type": "c-type"}}),
    );
    let w2 = workload(
        "abc",
        json!({"z": {"type": "a-type"}, "y": {"type": "c-type", "params": {"p": "${resources.z}"}}}),
    );
    assert_eq!(
        order(&[&w1, &w2]),
        [
            "a-type.default#abc.z",
            "b-type.default#zed.b",
            "c-type.default#zed.a",
            "c-type.default#abc.y"
        ]
    );
}

#[test]
fn shared_resource_with_and_without_dependencies_is_listed_once() {
    // score-go can emit such a uid twice; we list it once, after its dependency.
    let a = workload(
        "alpha",
        json!({"s": {"type": "shared", "id": "one", "params": {"p": "${resources.db.x}"}},
                                      "db": {"type": "postgres"}}),
    );
    let b = workload("beta", json!({"s": {"type": "shared", "id": "one"}}));
    assert_eq!(
        order(&[&a, &b]),
        ["postgres.default#alpha.db", "shared.default#one"]
    );
}

#[test]
fn cycle_error_names_the_cycle() {
    let w = workload(
        "w",
        json!({
            "x": {"type": "a", "params": {"p": "${resources.y.out}"}},
            "y": {"type": "b", "params": {"p": {"deep": ["${resources.x.out}"]}}},
            "z": {"type": "c", "params": {"p": "${resources.x.out}"}},
        }),
    );
    let e = build(&[&w]).unwrap_err();
    assert_eq!(
        e.message,
        "a cycle exists involving resource param placeholders: a.default#w.x -> b.default#w.y -> a.default#w.x"
    );
    assert_eq!(
        e.locations,
        vec![
            ("w".to_string(), "/resources/x/params".to_string()),
            ("w".to_string(), "/resources/y/params".to_string()),
        ]
    );
    assert!(e.help.is_some());
}

#[test]
fn self_reference_is_a_cycle() {
    let w = workload(
        "w",
        json!({"me": {"type": "t1", "params": {"p": "${resources.me.host}"}}}),
    );
    let e = build(&[&w]).unwrap_err();
    assert_eq!(
        e.message,
        "a cycle exists involving resource param placeholders: t1.default#w.me -> t1.default#w.me"
    );
    assert_eq!(
        e.locations,
        vec![("w".to_string(), "/resources/me/params".to_string())]
    );
}

#[test]
fn unknown_resource_in_params() {
    let w = workload(
        "web",
        json!({"r": {"type": "t1", "params": {"a": [{"b": "${resources.nope.x}"}]}}}),
    );
    let e = build(&[&w]).unwrap_err();
    assert_eq!(
        e.message,
        "workload 'web' resource 'r': a: 0: b: invalid ref 'resources.nope.x': refers to unknown resource names 'nope'"
    );
    assert_eq!(
        e.locations,
        vec![("web".to_string(), "/resources/r/params/a/0/b".to_string())]
    );
}

#[test]
fn empty_input_is_an_empty_graph() {
    let g = build(&[]).unwrap();
    assert!(g.nodes.is_empty() && g.order.is_empty());
}
