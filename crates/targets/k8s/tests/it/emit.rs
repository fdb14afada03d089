//! The emitter on hand-built resolved projects: no provisioners involved, so each rule of
//! `spec/targets/k8s.md` is checked on its own.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use score_core::model::Workload;
use score_core::target::ResourceUid;
use score_core::target::{
    FileContent, ProvisionedResource, ResolvedContainer, ResolvedFile, ResolvedProject,
    ResolvedVolume, ResolvedWorkload, VolumeSource,
};
use score_core::target::{Found, Outputs, Piece, Resolved};
use score_core::Target;
use score_target_k8s::{manifests, K8sOptions, K8sTarget};
use serde_json::{json, Map, Value};

fn text(s: &str) -> Resolved {
    Resolved {
        pieces: vec![Piece::Text(s.into())],
    }
}

fn value(v: &str, secret: bool) -> Piece {
    Piece::Value(Found {
        value: json!(v),
        secret,
        expression: false,
        origin: None,
    })
}

fn workload(spec: Value) -> ResolvedWorkload {
    let spec: Workload = serde_json::from_value(spec).expect("test workload is valid");
    let containers = spec
        .containers
        .keys()
        .map(|k| {
            (
                k.clone(),
                ResolvedContainer {
                    variables: IndexMap::new(),
                    files: IndexMap::new(),
                    volumes: IndexMap::new(),
                },
            )
        })
        .collect();
    ResolvedWorkload {
        name: spec.name().to_string(),
        spec,
        file: Some("score.yaml".into()),
        document: None,
        containers,
        resources: IndexMap::new(),
    }
}

fn project(
    workloads: Vec<ResolvedWorkload>,
    resources: Vec<ProvisionedResource>,
) -> ResolvedProject {
    ResolvedProject {
        workloads,
        resources: resources.into_iter().map(|r| (r.uid.clone(), r)).collect(),
        shared_state: Map::new(),
    }
}

fn resource(
    uid: &str,
    outputs: Value,
    secret: &[&str],
    fragments: Option<Value>,
) -> ProvisionedResource {
    let values = match outputs {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut frag = BTreeMap::new();
    if let Some(f) = fragments {
        frag.insert("manifests".to_string(), f);
    }
    ProvisionedResource {
        uid: ResourceUid::from_string(uid),
        provisioner: "template://test".into(),
        provisioner_source: "p.yaml:1".into(),
        source_workload: "web".into(),
        users: vec![("web".into(), "r".into())],
        params: Map::new(),
        outputs: Outputs {
            values,
            secret: secret.iter().map(|s| s.to_string()).collect(),
            expression: Default::default(),
            uid: uid.into(),
        },
        fragments: frag,
        info_logs: Vec::new(),
        warnings: Vec::new(),
        tool_dialect: false,
    }
}

/// The target's options from YAML.
fn opts(yaml: &str) -> K8sOptions {
    serde_saphyr::from_str(yaml).expect("k8s options")
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {docs:#?}"))
}

fn basic() -> ResolvedWorkload {
    workload(json!({
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "web", "annotations": {"team": "a", "k8s.score.dev/other": "x"}},
        "service": {"ports": {"http": {"port": 80, "targetPort": 8080}}},
        "containers": {"main": {
            "image": "nginx:1.27",
            "command": ["/bin/sh"],
            "args": ["-c", "echo $(HOME)"],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "0.25"}},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080,
                "httpHeaders": [{"name": "X-A", "value": "b"}]}},
            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "exec": {"command": ["true"]}}
        }}
    }))
}

#[test]
fn deployment_service_labels_annotations() {
    let mut w = basic();
    let c = w.containers.get_mut("main").expect("container");
    c.variables.insert("PLAIN".into(), text("a $b"));
    let p = project(vec![w], vec![]);
    let docs = manifests(&p, &K8sOptions::default()).expect("emits");
    assert_eq!(
        docs.iter()
            .map(|d| format!(
                "{}/{}",
                d["kind"].as_str().unwrap_or(""),
                d["metadata"]["name"].as_str().unwrap_or("")
            ))
            .collect::<Vec<_>>(),
        vec!["Service/web", "Deployment/web"]
    );
    let dep = find(&docs, "Deployment", "web");
    assert_eq!(dep["apiVersion"], "apps/v1");
    let labels = json!({
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/instance": "web",
        "app.kubernetes.io/managed-by": "score-gen"
    });
    assert_eq!(dep["metadata"]["labels"], labels);
    assert_eq!(dep["spec"]["template"]["metadata"]["labels"], labels);
    assert_eq!(
        dep["spec"]["selector"]["matchLabels"],
        json!({"app.kubernetes.io/instance": "web"})
    );
    // The author's annotations travel, the target's own prefix does not.
    // The workload under our key and under score-k8s's (patch templates select by it).
    let ann = json!({"k8s.score.dev/source-workload": "web", "k8s.score.dev/workload-name": "web",
        "team": "a"});
    assert_eq!(dep["metadata"]["annotations"], ann);
    assert_eq!(dep["spec"]["template"]["metadata"]["annotations"], ann);
    let c = &dep["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "main");
    assert_eq!(c["image"], "nginx:1.27");
    assert_eq!(c["command"], json!(["/bin/sh"]));
    assert_eq!(
        c["args"],
        json!(["-c", "echo $(HOME)"]),
        "command/args pass through"
    );
    assert_eq!(c["env"], json!([{"name": "PLAIN", "value": "a $$b"}]));
    assert_eq!(
        c["resources"],
        json!({"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "0.25"}})
    );
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"path": "/healthz", "port": 8080, "httpHeaders": [{"name": "X-A", "value": "b"}]}})
    );
    assert_eq!(
        c["readinessProbe"],
        json!({"exec": {"command": ["true"]}}),
        "exec preferred"
    );
    let svc = find(&docs, "Service", "web");
    assert_eq!(
        svc["spec"],
        json!({"selector": {"app.kubernetes.io/instance": "web"},
               "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]})
    );
}

#[test]
fn secret_variables_go_to_a_secret() {
    let mut w = basic();
    let c = w.containers.get_mut("main").expect("container");
    c.variables.insert(
        "DB_URL".into(),
        Resolved {
            pieces: vec![
                Piece::Text("postgres://u:".into()),
                value("s3cr3t-pass", true),
                Piece::Text("@h/db".into()),
            ],
        },
    );
    c.variables.insert(
        "PASSWORD".into(),
        Resolved {
            pieces: vec![value("s3cr3t-pass", true)],
        },
    );
    c.variables.insert(
        "HOST".into(),
        Resolved {
            pieces: vec![value("h", false)],
        },
    );
    let p = project(
        vec![w],
        vec![resource(
            "postgres.default#web.db",
            json!({"password": "s3cr3t-pass"}),
            &["password"],
            None,
        )],
    );
    let docs = manifests(&p, &K8sOptions::default()).expect("emits");
    let dep = find(&docs, "Deployment", "web");
    let env = &dep["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(
        *env,
        json!([
            {"name": "DB_URL", "valueFrom": {"secretKeyRef": {"name": "web-main-secrets", "key": "env.DB_URL"}}},
            {"name": "HOST", "value": "h"},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-main-secrets", "key": "env.PASSWORD"}}}
        ])
    );
    let sec = find(&docs, "Secret", "web-main-secrets");
    assert_eq!(sec["type"], "Opaque");
    assert_eq!(
        sec["data"]["env.DB_URL"],
        crate::common::b64("postgres://u:s3cr3t-pass@h/db")
    );
    assert_eq!(
        sec["data"]["env.PASSWORD"],
        crate::common::b64("s3cr3t-pass")
    );
    crate::common::assert_no_secret_in_clear(&docs, &["s3cr3t-pass"]);

    // Names differing only in characters a Secret key cannot hold get distinct keys.
    let mut w = basic();
    let c = w.containers.get_mut("main").expect("container");
    for n in ["A B", "A_B"] {
        c.variables.insert(
            n.into(),
            Resolved {
                pieces: vec![value("s3cr3t-pass", true)],
            },
        );
    }
    let docs2 = manifests(&project(vec![w], vec![]), &K8sOptions::default()).expect("emits");
    let keys: Vec<&String> = find(&docs2, "Secret", "web-main-secrets")["data"]
        .as_object()
        .expect("data")
        .keys()
        .collect();
    assert_eq!(keys, ["env.A_B", "env.A_B-2"]);

    let yaml = String::from_utf8(
        K8sTarget::default().emit(&p).expect("emits").files[0]
            .content
            .clone(),
    )
    .expect("utf8");
    assert!(!yaml.contains("s3cr3t-pass"));
}

#[test]
fn files_become_configmap_or_secret_items_mounted_by_subpath() {
    let mut w = basic();
    let c = w.containers.get_mut("main").expect("container");
    c.files.insert(
        "/etc/app/config.yaml".into(),
        ResolvedFile {
            mode: Some("0600".into()),
            content: FileContent::Text(text("a: no\n")),
        },
    );
    c.files.insert(
        "/etc/app/secret.txt".into(),
        ResolvedFile {
            mode: None,
            content: FileContent::Text(Resolved {
                pieces: vec![Piece::Text("pw=".into()), value("hunter2-secret", true)],
            }),
        },
    );
    c.files.insert(
        "/bin/blob".into(),
        ResolvedFile {
            mode: Some("755".into()),
            content: FileContent::Binary(vec![0, 159, 146, 150]),
        },
    );
    let p = project(vec![w], vec![]);
    let docs = manifests(&p, &K8sOptions::default()).expect("emits");
    let cm = find(&docs, "ConfigMap", "web-main-files");
    assert_eq!(cm["data"], json!({"file-0": "a: no\n"}));
    assert_eq!(
        cm["binaryData"],
        json!({"file-2": crate::common::b64_bytes(&[0, 159, 146, 150])})
    );
    let sec = find(&docs, "Secret", "web-main-secrets");
    assert_eq!(
        sec["data"],
        json!({"file-1": crate::common::b64("pw=hunter2-secret")})
    );
    let pod = &find(&docs, "Deployment", "web")["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"],
        json!([
            {"name": "files-0", "configMap": {"name": "web-main-files", "items": [
                {"key": "file-0", "path": "file-0", "mode": 0o600},
                {"key": "file-2", "path": "file-2", "mode": 0o755}]}},
            {"name": "secret-files-0", "secret": {"secretName": "web-main-secrets", "items": [
                {"key": "file-1", "path": "file-1"}]}}
        ])
    );
    assert_eq!(
        pod["containers"][0]["volumeMounts"],
        json!([
            {"name": "files-0", "mountPath": "/etc/app/config.yaml", "subPath": "file-0", "readOnly": true},
            {"name": "secret-files-0", "mountPath": "/etc/app/secret.txt", "subPath": "file-1", "readOnly": true},
            {"name": "files-0", "mountPath": "/bin/blob", "subPath": "file-2", "readOnly": true}
        ])
    );
    crate::common::assert_no_secret_in_clear(&docs, &["hunter2-secret"]);
    // The emitter quotes what YAML 1.1 would misread.
    let yaml = score_target_k8s::render_yaml(&docs).expect("yaml");
    assert!(
        yaml.contains("file-0: |\n") || yaml.contains("file-0: \"a: no\\n\""),
        "{yaml}"
    );
}

#[test]
fn volume_resources_become_pod_volumes_or_claim_templates() {
    let mut w = basic();
    let uid = ResourceUid::from_string("volume.default#web.data");
    for (target, path, ro) in [("/data", None, false), ("/data-ro", Some("sub"), true)] {
        w.containers
            .get_mut("main")
            .expect("container")
            .volumes
            .insert(
                target.into(),
                ResolvedVolume {
                    source: VolumeSource::Resource(uid.clone()),
                    path: path.map(String::from),
                    read_only: ro,
                },
            );
    }
    let res = resource(
        uid.as_str(),
        json!({"source": {"persistentVolumeClaim": {"claimName": "pvc-1"}}}),
        &[],
        None,
    );
    let docs =
        manifests(&project(vec![w.clone()], vec![res]), &K8sOptions::default()).expect("emits");
    let pod = &find(&docs, "Deployment", "web")["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"],
        json!([{"name": "vol-0", "persistentVolumeClaim": {"claimName": "pvc-1"}}])
    );
    assert_eq!(
        pod["containers"][0]["volumeMounts"],
        json!([
            {"name": "vol-0", "mountPath": "/data"},
            {"name": "vol-0", "mountPath": "/data-ro", "subPath": "sub", "readOnly": true}
        ])
    );

    // claimSpec: only for StatefulSets.
    let claim = json!({"claimSpec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    let err = manifests(
        &project(
            vec![w.clone()],
            vec![resource(uid.as_str(), claim.clone(), &[], None)],
        ),
        &K8sOptions::default(),
    )
    .expect_err("claimSpec on a Deployment");
    assert!(
        err.0[0].message.contains("needs a StatefulSet"),
        "{}",
        err.0[0].message
    );

    let mut sts = w.clone();
    sts.spec.metadata.insert(
        "annotations".into(),
        json!({"k8s.score.dev/kind": "StatefulSet"}),
    );
    let docs = manifests(
        &project(vec![sts], vec![resource(uid.as_str(), claim, &[], None)]),
        &K8sOptions::default(),
    )
    .expect("emits");
    let s = find(&docs, "StatefulSet", "web");
    assert_eq!(s["spec"]["serviceName"], "web-headless");
    assert_eq!(
        s["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "vol-0"
    );
    assert!(s["spec"]["template"]["spec"].get("volumes").is_none());
    let headless = find(&docs, "Service", "web-headless");
    assert_eq!(headless["spec"]["clusterIP"], "None");

    // Neither source nor claimSpec.
    let err = manifests(
        &project(
            vec![w],
            vec![resource(uid.as_str(), json!({"x": 1}), &[], None)],
        ),
        &K8sOptions::default(),
    )
    .expect_err("bad outputs");
    assert!(
        err.0[0]
            .message
            .contains("exactly one non-empty map of 'source' or 'claimSpec'"),
        "{}",
        err.0[0].message
    );
}

#[test]
fn namespace_generation_order_and_fragments() {
    let w = basic();
    let frag = json!([
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "other"}},
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"}, "provisioner": "x"}
    ]);
    let p = project(
        vec![w],
        vec![
            resource(
                "postgres.default#web.db",
                json!({}),
                &[],
                Some(frag.clone()),
            ),
            // a shared instance rendered again by a second resource: kept once
            resource(
                "postgres.default#web.db2",
                json!({}),
                &[],
                Some(json!([frag[1].clone()])),
            ),
        ],
    );
    let docs = manifests(&p, &opts("{namespace: shop, generate_namespace: true}")).expect("emits");
    let names: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{}/{}/{}",
                d["kind"].as_str().unwrap_or(""),
                d["metadata"]["namespace"].as_str().unwrap_or("-"),
                d["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "Namespace/-/shop",
            "Secret/shop/db",
            "StorageClass/-/fast",
            "Service/shop/web",
            "Deployment/shop/web",
            "StatefulSet/shop/db",
            "HTTPRoute/other/r",
        ]
    );
    // namespace sits right after the name
    let keys: Vec<&String> = docs[1]["metadata"]
        .as_object()
        .expect("map")
        .keys()
        .collect();
    assert_eq!(keys[..2], [&"name".to_string(), &"namespace".to_string()]);

    let err = manifests(
        &project(vec![basic()], vec![]),
        &opts("{generate_namespace: true}"),
    )
    .expect_err("needs ns");
    assert_eq!(err.0[0].message, "generate_namespace needs a namespace");
    let err = manifests(
        &project(vec![basic()], vec![]),
        &opts("{namespace: Bad_NS}"),
    )
    .expect_err("bad ns");
    assert!(err.0[0]
        .message
        .contains("not a valid Kubernetes namespace name"));
}

#[test]
fn conflicting_and_malformed_fragments_are_errors() {
    let a = json!([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}]);
    let b = json!([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "2"}}]);
    let p = project(
        vec![],
        vec![
            resource("x.default#a", json!({}), &[], Some(a)),
            resource("x.default#b", json!({}), &[], Some(b)),
        ],
    );
    // As in score-k8s, the later resource's object (uid order) replaces the earlier one's.
    let docs = manifests(&p, &K8sOptions::default()).expect("a later resource overrides");
    let cms: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "ConfigMap").collect();
    assert_eq!(cms.len(), 1, "{docs:?}");
    assert_eq!(cms[0]["data"]["a"], "2");
    // A resource's object that collides with a workload's is still an error.
    let clash =
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}]);
    let p = project(
        vec![basic()],
        vec![resource("x.default#a", json!({}), &[], Some(clash))],
    );
    let err = manifests(&p, &K8sOptions::default()).expect_err("conflict with a workload");
    assert!(
        err.0[0]
            .message
            .contains("both produce Deployment 'web' with different content"),
        "{}",
        err.0[0].message
    );
    let p = project(
        vec![],
        vec![resource(
            "x.default#a",
            json!({}),
            &[],
            Some(json!({"kind": "ConfigMap"})),
        )],
    );
    let err = manifests(&p, &K8sOptions::default()).expect_err("not a list");
    assert!(
        err.0[0]
            .message
            .contains("must render to a list of Kubernetes objects, got a map"),
        "{}",
        err.0[0].message
    );
    let p = project(
        vec![],
        vec![resource(
            "x.default#a",
            json!({}),
            &[],
            Some(json!([{"kind": "ConfigMap", "apiVersion": "v1", "metadata": {}}])),
        )],
    );
    let err = manifests(&p, &K8sOptions::default()).expect_err("no name");
    assert_eq!(
        err.0[0].message,
        "resource 'x.default#a': manifests[0]: 'metadata.name' must be a non-empty string"
    );
}

#[test]
fn provisioner_leaking_a_secret_is_an_error() {
    let frag = json!([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "leak"}, "data": {"pw": "topsecret-123"}}]);
    let p = project(
        vec![],
        vec![resource(
            "x.default#a",
            json!({"pw": "topsecret-123"}),
            &["pw"],
            Some(frag),
        )],
    );
    let err = manifests(&p, &K8sOptions::default()).expect_err("leak");
    assert_eq!(
        err.0[0].message,
        "the secret output 'pw' of resource 'x.default#a' appears in clear text in ConfigMap 'leak'"
    );
}

#[test]
fn workload_errors() {
    let mut w = basic();
    w.spec.metadata.insert(
        "annotations".into(),
        json!({"k8s.score.dev/kind": "DaemonSet"}),
    );
    let err = manifests(&project(vec![w], vec![]), &K8sOptions::default()).expect_err("kind");
    assert_eq!(
        err.0[0].message,
        "workload 'web': metadata.annotations.k8s.score.dev/kind: unsupported workload kind 'DaemonSet'"
    );

    let mut w = basic();
    w.containers.get_mut("main").expect("c").volumes.insert(
        "/x".into(),
        ResolvedVolume {
            source: VolumeSource::Other(text("host-dir")),
            path: None,
            read_only: false,
        },
    );
    let err = manifests(&project(vec![w], vec![]), &K8sOptions::default()).expect_err("volume");
    assert_eq!(
        err.0[0].pointer.as_deref(),
        Some("/containers/main/volumes/~1x/source")
    );
    assert!(err.0[0].message.starts_with(
        "workload 'web': containers.main.volumes./x.source: 'host-dir' does not name a resource"
    ));
}

#[test]
fn output_is_valid_kubernetes() {
    let mut w = basic();
    let c = w.containers.get_mut("main").expect("container");
    c.variables.insert("DEBUG".into(), text("no"));
    c.variables.insert(
        "PW".into(),
        Resolved {
            pieces: vec![value("s3cr3t-pass", true)],
        },
    );
    c.files.insert(
        "/etc/x.conf".into(),
        ResolvedFile {
            mode: Some("0644".into()),
            content: FileContent::Text(text("on\n")),
        },
    );
    let p = project(vec![w], vec![]);
    let yaml = String::from_utf8(
        K8sTarget::new(opts("{namespace: demo, generate_namespace: true}"))
            .emit(&p)
            .expect("emits")
            .files[0]
            .content
            .clone(),
    )
    .expect("utf8");
    assert!(yaml.contains("value: \"no\""), "{yaml}");
    crate::common::kubernetes_validate(&yaml, "emit-basic");
}

/// Behaviour we decide differently from score-k8s; each must be explained in `spec/deviations.md`.
const DEVIATIONS: &[&str] = &[
    "secret outputs in a workload Secret",
    "files mounted by subPath",
    "exec probe preferred",
    "dollar escaping in env values",
    "service-port port",
    "labels and names",
    "environment provisioner",
];

#[test]
fn deviations_are_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../spec/deviations.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("k8s target"))
        .expect("a '## k8s target' section in spec/deviations.md");
    for d in DEVIATIONS {
        assert!(
            section.contains(&format!("**{d}.**")),
            "deviation '{d}' not described"
        );
    }
}

#[test]
fn before_makes_init_and_sidecar_containers() {
    let w = workload(json!({
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "web"},
        "containers": {
            "app": {"image": "app:1"},
            "proxy": {
                "image": "proxy:1",
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 9901}},
                "before": {"app": {"ready": "healthy"}}
            },
            "migrate": {
                "image": "migrate:1",
                "livenessProbe": {"exec": {"command": ["true"]}},
                "before": {"app": {"ready": "complete"}, "proxy": {"ready": "complete"}}
            },
            "logs": {"image": "logs:1", "before": {"app": {"ready": "started"}}}
        }
    }));
    let p = project(vec![w], vec![]);
    let docs = manifests(&p, &K8sOptions::default()).expect("emits");
    let pod = &find(&docs, "Deployment", "web")["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"],
        json!([{"name": "app", "image": "app:1"}])
    );
    assert_eq!(
        pod["initContainers"],
        json!([
            // must precede proxy, so it comes first although written after it
            {"name": "migrate", "image": "migrate:1"},
            {"name": "proxy", "image": "proxy:1",
             "readinessProbe": {"httpGet": {"path": "/ready", "port": 9901}},
             "restartPolicy": "Always",
             "startupProbe": {"httpGet": {"path": "/ready", "port": 9901}}},
            {"name": "logs", "image": "logs:1", "restartPolicy": "Always"}
        ])
    );
    let yaml = score_target_k8s::render_yaml(&docs).expect("yaml");
    crate::common::kubernetes_validate(&yaml, "emit-before");
}
