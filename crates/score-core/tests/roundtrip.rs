//! Property: a valid `Workload` survives YAML serialisation, read back both directly and through a
//! JSON value (the path the loader takes).

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use indexmap::IndexMap;
use proptest::prelude::*;
use score_core::model::*;
use serde_json::{Map, Value};

/// RFC 1123 label, 2–63 chars (kept short).
fn label() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9-]{0,8}[a-z0-9]"
}

/// Text that YAML must keep as a string: looks like numbers, booleans, null, has `: `, `#`,
/// quotes, newlines, placeholders or leading spaces.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,20}",
        Just("yes".to_string()),
        Just("no".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("0755".to_string()),
        Just("1e3".to_string()),
        Just("8080".to_string()),
        Just(" leading and trailing ".to_string()),
        Just("line one\nline two\n".to_string()),
        Just("${resources.db.host}:$${literal}".to_string()),
        Just("key: value # not a comment".to_string()),
        Just("é 日本 \u{1F600}".to_string()),
    ]
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

fn file() -> impl Strategy<Value = ContainerFile> {
    let mode = prop::option::of("0?[0-7]{3}");
    let body = prop_oneof![
        text().prop_map(|t| (Some(t), None, None)),
        "[A-Za-z0-9+/]{0,16}".prop_map(|b| (None, Some(format!("{b}==")), None)),
        "[a-z]{1,8}\\.txt".prop_map(|s| (None, None, Some(s))),
    ];
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

fn probe() -> impl Strategy<Value = Probe> {
    let http = (
        prop::option::of(Just("localhost".to_string())),
        prop::option::of(prop::sample::select(vec![
            "HTTP".to_string(),
            "HTTPS".to_string(),
        ])),
        "/[a-z]{0,6}",
        1u16..,
        prop::option::of(prop::collection::vec(
            ("[A-Za-z-]{1,8}", text()).prop_map(|(name, value)| HttpHeader { name, value }),
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
    let exec = prop::collection::vec(text(), 1..3).prop_map(|command| ExecProbe { command });
    (prop::option::of(http), prop::option::of(exec))
        .prop_filter("a probe has httpGet or exec", |(h, e)| {
            h.is_some() || e.is_some()
        })
        .prop_map(|(http_get, exec)| Probe { http_get, exec })
}

fn container(names: Vec<String>) -> impl Strategy<Value = Container> {
    let before = prop::collection::vec(
        (
            prop::sample::select(names),
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
    });
    (
        (
            prop_oneof![Just(".".to_string()), "[a-z]{2,8}(:[0-9]\\.[0-9])?"],
            prop::option::of(prop::collection::vec(text(), 0..3)),
            prop::option::of(prop::collection::vec(text(), 0..3)),
            prop::collection::vec(("[A-Z_]{1,8}", text()), 0..3),
            prop::collection::vec(("/[a-z]{1,6}/[a-z]{1,6}", file()), 0..2),
        ),
        (
            prop::collection::vec(
                (
                    "/mnt/[a-z]{1,6}",
                    label(),
                    prop::option::of("[a-z]{1,6}"),
                    prop::option::of(any::<bool>()),
                ),
                0..2,
            ),
            prop::option::of(
                (prop::option::of(limits()), prop::option::of(limits()))
                    .prop_map(|(limits, requests)| ContainerResources { limits, requests }),
            ),
            prop::option::of(probe()),
            prop::option::of(probe()),
            before,
        ),
    )
        .prop_map(
            |(
                (image, command, args, vars, files),
                (volumes, resources, liveness_probe, readiness_probe, before),
            )| Container {
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
        text().prop_map(Value::String),
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
        prop::option::of("[a-z0-9]{1,4}(-{1,2}[a-z0-9]{1,3})?(\\.[a-z0-9]{1,4})?"),
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

fn workload() -> impl Strategy<Value = Workload> {
    let names = prop::collection::vec(label(), 1..3);
    names
        .prop_flat_map(|names| {
            let containers = names
                .iter()
                .map(|n| (Just(n.clone()), container(names.clone())))
                .collect::<Vec<_>>();
            (
                label(),
                prop::collection::vec(("[a-z]{2,6}(\\.[a-z]{2,6})?(/[a-z]{2,5})?", text()), 0..3),
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
                prop::collection::vec((label(), resource()), 0..3),
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
    fn yaml_roundtrip(w in workload()) {
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_global_rejects: 20_000, ..ProptestConfig::default() })]

    /// The whole front half of the pipeline (parse with spans, upgrade, schema, extra rules,
    /// model): for every generated workload that our rules accept, load(serialize(w)) == w.
    /// (Placeholders in generated text may name undeclared resources; those cases are skipped,
    /// hence the generous reject budget.)
    #[test]
    fn full_loader_roundtrip(w in workload()) {
        let yaml = serde_saphyr::to_string(&w).map_err(|e| TestCaseError::fail(format!("serialise: {e}")))?;
        let value = serde_json::to_value(&w).unwrap();
        // The generator aims at valid workloads but may produce references to undeclared
        // resources or short annotation keys: those are not in the property's domain.
        prop_assume!(score_core::unstable::schema::is_valid(&value));
        prop_assume!(score_core::unstable::validate::validate(&value).is_empty());
        // `files[].source` is read (and replaced by its content) by the loader's source reader:
        // not a round trip.
        prop_assume!(w.containers.values().all(|c| c.files.values().all(|f| f.source.is_none())));
        let loaded = score_core::load_workload("w.yaml", yaml.as_bytes(), &Default::default())
            .map_err(|e| TestCaseError::fail(format!("load: {e}\n{yaml}")))?;
        prop_assert_eq!(&loaded.workload, &w, "loader differs; yaml:\n{}", yaml);
        prop_assert!(loaded.upgrades.is_empty());
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
