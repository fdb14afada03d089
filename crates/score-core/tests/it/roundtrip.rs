//! Property: a valid `Workload` survives YAML serialisation, read back directly, through a JSON
//! value, and through the whole loader (parse with spans, upgrade, schema, extra rules, model).
//!
//! The generator builds valid workloads by construction, so no case is rejected: container names
//! are distinct, `before` only names later containers (no cycle, no self reference) and asks for
//! `healthy` only of a container with a probe, placeholders only name `metadata` or resources the
//! workload declares, volumes mount `${resources.<name>}` of a declared `volume` resource, and
//! (for the loader) files have `content` or `binaryContent`, never a `source` (the loader would
//! read it). `generated_workloads_are_valid_and_have_volumes` checks those claims on a fixed
//! sample.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use indexmap::IndexMap;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use score_core::model::*;
use serde_json::{Map, Value};

/// RFC 1123 label, 2–63 chars (kept short).
fn label() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,8}[a-z0-9]"
}

/// Text without placeholders that YAML must keep as a string: looks like numbers, booleans, null,
/// has `: `, `#`, quotes, newlines, escaped `$$` or leading spaces. No bare `$`: that would start a
/// (possibly malformed) placeholder.
fn plain_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -#%-~]{0,20}",
        Just("yes".to_string()),
        Just("no".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("0755".to_string()),
        Just("1e3".to_string()),
        Just("8080".to_string()),
        Just(" leading and trailing ".to_string()),
        Just("line one\nline two\n".to_string()),
        Just("$${literal} costs $$5".to_string()),
        Just("key: value # not a comment".to_string()),
        Just("é 日本 \u{1F600}".to_string()),
    ]
}

/// Text that may hold placeholders, each naming `metadata` or one of `resources` (declared).
fn text(resources: &[String]) -> BoxedStrategy<String> {
    let mut placeholders = vec!["${metadata.name}".to_string()];
    placeholders.extend(resources.iter().map(|r| format!("${{resources.{r}.host}}")));
    prop_oneof![
        3 => plain_text(),
        1 => (plain_text(), prop::sample::select(placeholders), plain_text())
            .prop_map(|(a, p, b)| format!("{a}{p}{b}")),
    ]
    .boxed()
}

/// As [`text`], never empty (where the schema asks for at least one character).
fn nonempty_text(resources: &[String]) -> BoxedStrategy<String> {
    text(resources)
        .prop_map(|t| if t.is_empty() { "x".to_string() } else { t })
        .boxed()
}

fn quantity_mem() -> impl Strategy<Value = String> {
    (
        1u32..4096,
        prop::sample::select(vec!["", "Ki", "Mi", "Gi", "M", "G"]),
    )
        .prop_map(|(n, u)| format!("{n}{u}"))
}

fn quantity_cpu() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..64).prop_map(|n| n.to_string()),
        (1u32..4000).prop_map(|n| format!("{n}m")),
        (0u32..8, 1u32..10).prop_map(|(a, b)| format!("{a}.{b}")),
    ]
}

fn limits() -> impl Strategy<Value = ResourcesLimits> {
    (
        prop::option::of(quantity_mem()),
        prop::option::of(quantity_cpu()),
    )
        .prop_map(|(memory, cpu)| ResourcesLimits { memory, cpu })
}

/// A file; `with_source` allows `source` (a path the loader would read) besides inline content.
fn file(resources: &[String], with_source: bool) -> impl Strategy<Value = ContainerFile> + use<> {
    let mode = prop::option::of("0?[0-7]{3}");
    let mut bodies = vec![
        text(resources).prop_map(|t| (Some(t), None, None)).boxed(),
        "[A-Za-z0-9+/]{0,16}"
            .prop_map(|b| (None, Some(format!("{b}==")), None))
            .boxed(),
    ];
    if with_source {
        bodies.push(
            "[a-z]{1,8}\\.txt"
                .prop_map(|s| (None, None, Some(s)))
                .boxed(),
        );
    }
    let body = prop::strategy::Union::new(bodies);
    (mode, body, prop::option::of(any::<bool>())).prop_map(
        |(mode, (content, binary_content, source), no_expand)| ContainerFile {
            mode,
            source,
            content,
            binary_content,
            no_expand,
        },
    )
}

fn probe(resources: &[String]) -> impl Strategy<Value = Probe> + use<> {
    let http = (
        prop::option::of(Just("localhost".to_string())),
        prop::option::of(prop::sample::select(vec![
            "HTTP".to_string(),
            "HTTPS".to_string(),
        ])),
        "/[a-z]{0,6}",
        1u16..,
        prop::option::of(prop::collection::vec(
            ("[A-Za-z-]{1,8}", nonempty_text(resources))
                .prop_map(|(name, value)| HttpHeader { name, value }),
            0..2,
        )),
    )
        .prop_map(|(host, scheme, path, port, http_headers)| HttpProbe {
            host,
            scheme,
            path,
            port,
            http_headers,
        });
    let exec = prop::collection::vec(nonempty_text(resources), 1..3)
        .prop_map(|command| ExecProbe { command });
    (prop::option::of(http), prop::option::of(exec))
        .prop_filter("a probe has httpGet or exec", |(h, e)| {
            h.is_some() || e.is_some()
        })
        .prop_map(|(http_get, exec)| Probe { http_get, exec })
}

/// What a container may refer to: the containers it may start before (only later ones, so the
/// `before` graph has no cycle), the declared `volume` resources and every declared resource.
#[derive(Clone, Debug)]
struct Scope {
    later: Vec<String>,
    volumes: Vec<String>,
    resources: Vec<String>,
    with_source: bool,
}

fn container(scope: Scope) -> impl Strategy<Value = Container> {
    let before = if scope.later.is_empty() {
        Just(IndexMap::new()).boxed()
    } else {
        prop::collection::vec(
            (
                prop::sample::select(scope.later.clone()),
                prop::sample::select(vec![
                    Readiness::Started,
                    Readiness::Healthy,
                    Readiness::Complete,
                ]),
            ),
            0..2,
        )
        .prop_map(|v| {
            v.into_iter()
                .map(|(n, ready)| (n, Before { ready }))
                .collect::<IndexMap<_, _>>()
        })
        .boxed()
    };
    let volumes = if scope.volumes.is_empty() {
        Just(Vec::new()).boxed()
    } else {
        prop::collection::vec(
            (
                "/mnt/[a-z]{1,6}",
                prop::sample::select(scope.volumes.clone()),
                prop::option::of("[a-z]{1,6}"),
                prop::option::of(any::<bool>()),
            ),
            0..3,
        )
        .boxed()
    };
    let res = &scope.resources;
    (
        (
            prop_oneof![Just(".".to_string()), "[a-z]{2,8}(:[0-9]\\.[0-9])?"],
            prop::option::of(prop::collection::vec(text(res), 0..3)),
            prop::option::of(prop::collection::vec(text(res), 0..3)),
            prop::collection::vec(("[A-Z_]{1,8}", text(res)), 0..3),
            prop::collection::vec(
                ("/[a-z]{1,6}/[a-z]{1,6}", file(res, scope.with_source)),
                0..2,
            ),
        ),
        (
            volumes,
            prop::option::of(
                (prop::option::of(limits()), prop::option::of(limits()))
                    .prop_map(|(limits, requests)| ContainerResources { limits, requests }),
            ),
            prop::option::of(probe(res)),
            prop::option::of(probe(res)),
            before,
        ),
    )
        .prop_map(
            |(
                (image, command, args, vars, files),
                (volumes, resources, liveness_probe, readiness_probe, mut before),
            )| {
                // `ready: healthy` needs a probe on the container that declares it.
                if liveness_probe.is_none() && readiness_probe.is_none() {
                    for b in before.values_mut() {
                        if b.ready == Readiness::Healthy {
                            b.ready = Readiness::Started;
                        }
                    }
                }
                Container {
                    image,
                    command,
                    args,
                    variables: vars.into_iter().collect(),
                    files: files.into_iter().collect(),
                    volumes: volumes
                        .into_iter()
                        .map(|(t, r, path, read_only)| {
                            (
                                t,
                                ContainerVolume {
                                    source: format!("${{resources.{r}}}"),
                                    path,
                                    read_only,
                                },
                            )
                        })
                        .collect(),
                    resources,
                    liveness_probe,
                    readiness_probe,
                    before,
                }
            },
        )
}

/// Arbitrary JSON for resource params/metadata. Numbers are integers: YAML cannot promise that a
/// float like `1.0` comes back as a float (the loader's own concern, not the model's).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        plain_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(("[a-z.]{1,6}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn json_map() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec(("[a-zA-Z][a-zA-Z0-9_.]{0,6}", json_value()), 0..3)
        .prop_map(|kv| kv.into_iter().collect())
}

fn resource() -> impl Strategy<Value = Resource> {
    (
        "[A-Za-z0-9][A-Za-z0-9-]{0,6}[A-Za-z0-9]",
        prop::option::of("[a-z0-9][a-z0-9-]{0,6}[a-z0-9]"),
        prop::option::of("[a-z0-9]{2,4}(-{1,2}[a-z0-9]{1,3})?(\\.[a-z0-9]{1,4})?"),
        prop::option::of(json_map()),
        prop::option::of(json_map()),
    )
        .prop_map(|(kind, class, id, metadata, params)| Resource {
            kind,
            class,
            id,
            metadata,
            params,
        })
}

/// A `volume` resource, for containers to mount.
fn volume_resource() -> impl Strategy<Value = Resource> {
    prop::option::of("[a-z0-9][a-z0-9-]{0,6}[a-z0-9]").prop_map(|class| Resource {
        kind: "volume".into(),
        class,
        id: None,
        metadata: None,
        params: None,
    })
}

/// A valid workload; `with_source` lets files name a `source` path.
fn workload(with_source: bool) -> impl Strategy<Value = Workload> {
    (
        prop::collection::btree_set(label(), 1..3),
        0usize..3,
        0usize..3,
    )
        .prop_flat_map(move |(names, n_volumes, n_other)| {
            let names: Vec<String> = names.into_iter().collect();
            let volumes: Vec<String> = (0..n_volumes).map(|i| format!("vol{i}")).collect();
            let others: Vec<String> = (0..n_other).map(|i| format!("res{i}")).collect();
            let all: Vec<String> = volumes.iter().chain(&others).cloned().collect();
            let containers = names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let scope = Scope {
                        later: names[i + 1..].to_vec(),
                        volumes: volumes.clone(),
                        resources: all.clone(),
                        with_source,
                    };
                    (Just(n.clone()), container(scope))
                })
                .collect::<Vec<_>>();
            let resources = (
                volumes
                    .iter()
                    .map(|n| (Just(n.clone()), volume_resource()))
                    .collect::<Vec<_>>(),
                others
                    .iter()
                    .map(|n| (Just(n.clone()), resource()))
                    .collect::<Vec<_>>(),
            )
                .prop_map(|(v, o)| v.into_iter().chain(o).collect::<Vec<_>>());
            (
                label(),
                prop::collection::vec(
                    ("[a-z]{2,6}(\\.[a-z]{2,6})?(/[a-z]{2,5})?", plain_text()),
                    0..3,
                ),
                prop::option::of(prop::collection::vec(
                    (
                        label(),
                        1u16..,
                        prop::option::of(1u16..),
                        prop::option::of(prop::sample::select(vec![Protocol::Tcp, Protocol::Udp])),
                    ),
                    0..3,
                )),
                containers,
                resources,
            )
        })
        .prop_map(|(name, annotations, service, containers, resources)| {
            let mut metadata = Map::new();
            metadata.insert("name".into(), Value::String(name));
            if !annotations.is_empty() {
                metadata.insert(
                    "annotations".into(),
                    Value::Object(
                        annotations
                            .into_iter()
                            .map(|(k, v)| (k, Value::String(v)))
                            .collect(),
                    ),
                );
            }
            Workload {
                api_version: "score.dev/v1b1".into(),
                metadata,
                service: service.map(|ports| Service {
                    ports: ports
                        .into_iter()
                        .map(|(n, port, target_port, protocol)| {
                            (
                                n,
                                ServicePort {
                                    port,
                                    target_port,
                                    protocol,
                                },
                            )
                        })
                        .collect(),
                }),
                containers: containers.into_iter().collect(),
                resources: resources.into_iter().collect(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn yaml_roundtrip(w in workload(true)) {
        let yaml = serde_saphyr::to_string(&w).map_err(|e| TestCaseError::fail(format!("serialise: {e}")))?;
        let direct: Workload = serde_saphyr::from_str(&yaml)
            .map_err(|e| TestCaseError::fail(format!("parse back: {e}\n{yaml}")))?;
        prop_assert_eq!(&direct, &w, "direct parse differs; yaml:\n{}", yaml);
        let value: Value = serde_saphyr::from_str(&yaml)
            .map_err(|e| TestCaseError::fail(format!("parse to JSON value: {e}\n{yaml}")))?;
        let via_json: Workload = serde_json::from_value(value)
            .map_err(|e| TestCaseError::fail(format!("JSON value to model: {e}\n{yaml}")))?;
        prop_assert_eq!(&via_json, &w, "JSON-value path differs; yaml:\n{}", yaml);
    }
}

/// Why a generated workload is outside the property's domain; empty when it is valid. Never
/// non-empty for [`workload`]`(false)`: the generator is valid by construction.
fn invalid_because(w: &Workload) -> Vec<String> {
    let value = serde_json::to_value(w).unwrap();
    let mut why: Vec<String> = score_core::validate::schema::validate(&value)
        .into_iter()
        .map(|e| format!("schema: {e:?}"))
        .collect();
    why.extend(
        score_core::validate::rules::validate(&value)
            .into_iter()
            .map(|i| format!("rules: {}", i.message)),
    );
    if w.containers
        .values()
        .any(|c| c.files.values().any(|f| f.source.is_some()))
    {
        why.push("a file names a source".into());
    }
    why
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The whole front half of the pipeline (parse with spans, upgrade, schema, extra rules,
    /// model): load(serialize(w)) == w for every generated workload, none rejected.
    #[test]
    fn full_loader_roundtrip(w in workload(false)) {
        let yaml = serde_saphyr::to_string(&w).map_err(|e| TestCaseError::fail(format!("serialise: {e}")))?;
        let why = invalid_because(&w);
        prop_assert!(why.is_empty(), "the generator made an invalid workload: {:?}\n{}", why, yaml);
        let loaded = score_core::load_workload("w.yaml", yaml.as_bytes(), &Default::default())
            .map_err(|e| TestCaseError::fail(format!("load: {e}\n{yaml}")))?;
        prop_assert_eq!(&loaded.workload, &w, "loader differs; yaml:\n{}", yaml);
        prop_assert!(loaded.upgrades.is_empty());
    }
}

/// The generator's claims, on a fixed sample: every workload is valid (so the property rejects
/// nothing), and the sample exercises volumes, placeholders, `before` and several resources.
#[test]
fn generated_workloads_are_valid_and_have_volumes() {
    const N: usize = 256;
    let mut runner = TestRunner::deterministic();
    let strategy = workload(false);
    let (mut with_volumes, mut with_placeholders, mut with_before, mut with_resources) =
        (0, 0, 0, 0);
    for _ in 0..N {
        let w = strategy
            .new_tree(&mut runner)
            .expect("a workload")
            .current();
        let why = invalid_because(&w);
        assert!(
            why.is_empty(),
            "invalid workload generated: {why:?}\n{w:#?}"
        );
        let containers = || w.containers.values();
        with_volumes += usize::from(containers().any(|c| !c.volumes.is_empty()));
        with_before += usize::from(containers().any(|c| !c.before.is_empty()));
        with_resources += usize::from(w.resources.len() >= 2);
        let json = serde_json::to_string(&w).unwrap();
        with_placeholders += usize::from(json.contains("${resources.") && json.contains(".host}"));
    }
    eprintln!(
        "{N} workloads: {with_volumes} with volumes, {with_placeholders} with resource \
         placeholders, {with_before} with before, {with_resources} with 2+ resources"
    );
    for (what, n) in [
        ("volumes", with_volumes),
        ("placeholders naming a resource output", with_placeholders),
        ("before", with_before),
        ("two resources or more", with_resources),
    ] {
        assert!(
            n >= N / 8,
            "only {n} of {N} generated workloads have {what}"
        );
    }
}

#[test]
fn ambiguous_scalars_stay_strings() {
    // A fixed case, so a regression shows up even when proptest's sample misses it.
    let w: Workload = serde_json::from_value(serde_json::json!({
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "web", "annotations": {"a": "no", "b": "0755"}},
        "containers": {"main": {"image": "nginx", "variables": {"X": "yes", "Y": "8080", "Z": "null"}}},
        "resources": {"db": {"type": "postgres", "params": {"n": null, "s": "1e3"}}}
    }))
    .unwrap();
    let yaml = serde_saphyr::to_string(&w).unwrap();
    let back: Workload = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(back, w, "{yaml}");
    let value: Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(
        value["containers"]["main"]["variables"]["X"],
        Value::String("yes".into())
    );
    assert_eq!(value["resources"]["db"]["params"]["n"], Value::Null);
}
