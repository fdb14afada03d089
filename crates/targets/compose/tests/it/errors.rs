//! Emit errors: each names what is wrong and where.

use crate::common::*;
use score_target_compose::codes;
use score_target_compose::ComposeOptions;

/// `options` is the target's options as YAML (`""` for the defaults).
fn case(scores: &[&str], provisioners: Option<&str>, options: &str) -> Case {
    let options: ComposeOptions = if options.is_empty() {
        ComposeOptions::default()
    } else {
        serde_saphyr::from_str(options).expect("compose options")
    };
    Case {
        name: "inline".into(),
        dir: std::path::PathBuf::new(),
        scores: scores
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("score{i}.yaml"), s.to_string()))
            .collect(),
        provisioners: provisioners
            .map(|p| vec![("p.yaml".to_string(), p.to_string())])
            .unwrap_or_default(),
        options,
        environment: Vec::new(),
    }
}

fn error_of(c: &Case) -> String {
    match compile_case(c) {
        Ok(_) => panic!("expected an error"),
        Err(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

const DOT_IMAGE: &str = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  web: {image: .}
"#;

#[test]
fn dot_image_needs_a_build_context() {
    let e = error_of(&case(&[DOT_IMAGE], None, ""));
    assert!(
        e.contains("container 'web'") && e.contains("image is '.'"),
        "{e}"
    );
    let ok = compile_case(&case(&[DOT_IMAGE], None, "builds: {web: ./web}")).unwrap();
    let yaml = compose_yaml(&ok.1);
    assert!(yaml.contains("build:\n      context: ./web"), "{yaml}");
    assert!(!yaml.contains("image:"), "{yaml}");
    // A workload's own build wins, and applies to that workload only.
    let ok = compile_case(&case(
        &[DOT_IMAGE],
        None,
        "builds: {web: ./web}\nworkload_builds: {app: {web: ./app}, other: {web: ./other}}",
    ))
    .unwrap();
    let yaml = compose_yaml(&ok.1);
    assert!(yaml.contains("build:\n      context: ./app"), "{yaml}");
}

#[test]
fn healthy_before_needs_a_probe() {
    let s = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  first:
    image: a:1
    before: {second: {ready: healthy}}
  second: {image: b:1}
"#;
    assert_eq!(
        error_of(&case(&[s], None, "")),
        "containers.first.before: ready 'healthy' requires a readiness or liveness probe to be defined"
    );
}

#[test]
fn publish_is_checked() {
    let s =
        "apiVersion: score.dev/v1b1\nmetadata: {name: app}\ncontainers:\n  main: {image: a:1}\n";
    let e = error_of(&case(&[s], None, "publish: ['8080:app']"));
    assert_eq!(e, "--publish '8080:app': expected HOSTPORT:WORKLOAD:PORT");
    let e = error_of(&case(&[s], None, "publish: ['8080:nope:80']"));
    assert_eq!(
        e,
        "--publish '8080:nope:80': no workload or service named 'nope'"
    );
}

const USES_THING: &str = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main: {image: a:1}
resources:
  one: {type: thing}
  two: {type: thing, class: other}
"#;

#[test]
fn conflicting_shared_services_are_an_error() {
    let p = r#"
- uri: template://t/thing
  engine: minijinja
  type: thing
  compose:
    services: |
      shared:
        image: "img:{{ class }}"
"#;
    let e = error_of(&case(&[USES_THING], Some(p), ""));
    assert_eq!(
        e,
        "resources 'thing.default#app.one' and 'thing.other#app.two' render different values for 'services.shared.image'"
    );
}

#[test]
fn identical_shared_services_merge() {
    let p = r#"
- uri: template://t/thing
  engine: minijinja
  type: thing
  compose:
    services: |
      shared:
        image: "img:1"
    files: |
      shared/{{ class }}.txt: "{{ uid }}"
"#;
    let (_, a, _) = compile_case(&case(&[USES_THING], Some(p), "")).unwrap();
    let yaml = compose_yaml(&a);
    assert_eq!(yaml.matches("\n  shared:\n").count(), 1, "{yaml}");
    assert!(yaml.contains("app-main:\n"), "{yaml}");
    let files: Vec<String> = a.files[1..]
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(
        files,
        vec![
            ".score-gen/mounts/shared/default.txt",
            ".score-gen/mounts/shared/other.txt"
        ]
    );
}

#[test]
fn unknown_sections_and_escaping_paths_are_errors() {
    let p = r#"
- uri: template://t/thing
  engine: minijinja
  type: thing
  compose:
    secrets: |
      x: {}
    files: |
      ../outside.txt: "x"
"#;
    let e = error_of(&case(&[USES_THING], Some(p), ""));
    assert!(e.contains("unknown compose section 'secrets'"), "{e}");
    assert!(
        e.contains(
            "file path '../outside.txt' must be relative and stay inside the mounts directory"
        ),
        "{e}"
    );
}

/// A mounted file is written when score-gen runs and compose never interpolates it, so an
/// environment reference in its content is read then (as score-compose does); unset, it is an
/// error at the reference.
#[test]
fn environment_references_in_files_are_read_at_generate_time() {
    let s = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: a:1
    files:
      /etc/x.conf:
        content: "debug=${resources.env.DEBUG}"
resources:
  env: {type: environment}
"#;
    let mut c = case(&[s], None, "");
    let d = compile_case(&c).expect_err("DEBUG is not set");
    assert_eq!(d.0.len(), 1, "{d:?}");
    assert_eq!(d.0[0].code, score_core::Code::SubstituteEnvironmentUnset);
    assert!(
        d.0[0]
            .message
            .contains("environment variable 'DEBUG' is not set"),
        "{}",
        d.0[0].message
    );
    assert_eq!(d.0[0].location(), "score0.yaml:9:25");
    c.environment = vec![("DEBUG".into(), "true".into())];
    let (_, artefacts, _) = compile_case(&c).expect("DEBUG is set");
    let file = artefacts
        .files
        .iter()
        .find(|f| f.path.to_string_lossy().ends_with("x.conf"))
        .expect("the mounted file");
    assert_eq!(file.content, b"debug=true");
}

/// An environment reference in another resource's params is read when score-gen runs (as
/// score-compose does: params must resolve at generate time), from score-gen's own
/// `environment` entry and from score-compose's `local-env://` alike; in variables it stays a
/// compose interpolation.
#[test]
fn environment_references_in_params_are_read_at_generate_time() {
    let frontend = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: a:1
    variables:
      DEBUG: ${resources.env.DEBUG}
      API: ${resources.api.hostname}:${resources.api.port}
resources:
  env: {type: environment}
  api:
    type: service-port
    params:
      workload: ${resources.env.API_WORKLOAD}
      port: http
"#;
    let backend = "apiVersion: score.dev/v1b1\nmetadata: {name: backend}\ncontainers: {main: {image: b:1}}\nservice: {ports: {http: {port: 8080}}}\n";
    let local_env = "- uri: local-env://score-compose/environment\n";
    for provisioners in [None, Some(local_env)] {
        let mut c = case(&[frontend, backend], provisioners, "");
        let d = compile_case(&c).expect_err("API_WORKLOAD is not set");
        assert_eq!(d.0[0].code, score_core::Code::SubstituteEnvironmentUnset);
        assert!(
            d.0[0].message.contains("params: workload: invalid ref 'resources.env.API_WORKLOAD': environment variable 'API_WORKLOAD' is not set"),
            "{}",
            d.0[0].message
        );
        assert_eq!(d.0[0].location(), "score0.yaml:15:17");
        c.environment = vec![("API_WORKLOAD".into(), "backend".into())];
        let (_, artefacts, _) = compile_case(&c).expect("API_WORKLOAD is set");
        let yaml = compose_yaml(&artefacts);
        assert!(yaml.contains("API: backend:8080"), "{yaml}");
        assert!(yaml.contains("DEBUG: ${DEBUG}"), "{yaml}");
    }
}

#[test]
fn service_port_errors_name_the_problem() {
    let s = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: a:1
    variables: {X: "${resources.peer.port}"}
resources:
  peer: {type: service-port, params: {workload: ghost, port: http}}
"#;
    let e = error_of(&case(&[s], None, ""));
    assert!(e.contains("unknown workload 'ghost'"), "{e}");
}

const USES_DB: &str = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: a:1
    variables: {PW: "${resources.db.password}"}
resources:
  db: {type: postgres}
"#;

#[test]
fn publish_can_target_a_resource_service() {
    let (_, a, _) = compile_case(&case(
        &[USES_DB],
        None,
        "publish: ['15432:postgres-instance:5432']",
    ))
    .unwrap();
    let v: serde_json::Value = serde_saphyr::from_str(&compose_yaml(&a)).unwrap();
    assert_eq!(
        v["services"]["postgres-instance"]["ports"],
        serde_json::json!([{"target": 5432, "published": "15432"}])
    );
    // Compose has no secret store: the secret password is a plain value.
    let pw = v["services"]["app-main"]["environment"]["PW"]
        .as_str()
        .unwrap();
    assert!(
        pw.len() == 24 && pw.chars().all(|c| c.is_ascii_alphanumeric()),
        "{pw}"
    );
}

#[test]
fn a_workload_service_name_taken_by_a_resource_is_an_error() {
    let s = r#"
apiVersion: score.dev/v1b1
metadata: {name: postgres}
containers:
  instance: {image: a:1}
resources:
  db: {type: postgres}
"#;
    assert_eq!(
        error_of(&case(&[s], None, "")),
        "service 'postgres-instance' of workload 'postgres' is already defined by resource 'postgres.default#postgres.db'"
    );
}

#[test]
fn volume_outputs_are_checked() {
    let s = r#"
apiVersion: score.dev/v1b1
metadata: {name: app}
containers:
  main:
    image: a:1
    volumes:
      /data: {source: "${resources.vol}"}
resources:
  vol: {type: odd-volume}
"#;
    let p = r#"
- uri: template://t/odd
  engine: minijinja
  type: odd-volume
  outputs: |
    type: nfs
    source: x
"#;
    assert_eq!(
        error_of(&case(&[s], Some(p), "")),
        "containers.main.volumes[/data]: resource 'odd-volume.default#app.vol' has invalid type 'nfs'"
    );
    let p = p.replace("type: nfs", "type: tmpfs");
    let s2 = s.replace(
        "{source: \"${resources.vol}\"}",
        "{source: \"${resources.vol}\", path: sub}",
    );
    assert_eq!(
        error_of(&case(&[&s2], Some(&p), "")),
        "containers.main.volumes[/data]: can't mount named tmpfs volume with sub path 'sub': not supported"
    );
}

fn kafka(partitions: &str) -> String {
    format!(
        "apiVersion: score.dev/v1b1\nmetadata: {{name: app}}\ncontainers:\n  web: {{image: nginx}}\nresources:\n  topic:\n    type: kafka-topic\n    params: {{partitions: {partitions}}}\n"
    )
}

/// The default kafka-topic provisioner writes `partitions` into a shell script: a param that is
/// not a positive integer is refused instead of reaching the script (issue 13).
#[test]
fn kafka_partitions_cannot_inject_shell() {
    for bad in [
        r#""1; touch /tmp/x""#,
        r#""$(touch /tmp/x)""#,
        "-1",
        "1.5",
        "[1]",
    ] {
        let e = error_of(&case(&[&kafka(bad)], None, ""));
        assert!(
            e.contains("kafka-topic: param 'partitions' must be a positive integer"),
            "{bad}: {e}"
        );
        assert!(!e.contains("--partitions 1;"), "{bad}: {e}");
    }
    for (good, want) in [("5", "--partitions 5 "), (r#""7""#, "--partitions 7 ")] {
        let (_, artefacts, _) = compile_case(&case(&[&kafka(good)], None, "")).unwrap();
        let all: String = artefacts
            .files
            .iter()
            .map(|f| String::from_utf8_lossy(&f.content).into_owned())
            .collect();
        assert!(all.contains(want), "{good}: {all}");
    }
}

fn volume_score(source: &str, path: Option<&str>) -> String {
    let path = path.map(|p| format!(", path: {p}")).unwrap_or_default();
    format!(
        "apiVersion: score.dev/v1b1\nmetadata: {{name: app}}\ncontainers:\n  web:\n    image: nginx\n    volumes:\n      /mnt: {{source: {source}{path}}}\n"
    )
}

/// A volume that bind-mounts a host path outside the project needs `allow_outside_paths`
/// (`--allow-outside-paths`), like `files[].source` (issue 13).
#[test]
fn volumes_outside_the_project_need_permission() {
    for (source, path) in [
        ("/", None),
        ("/var/run/docker.sock", None),
        ("..", None),
        ("./data/../..", None),
        ("./data", Some("../../etc")),
    ] {
        let score = volume_score(source, path);
        let d = compile_case(&case(&[&score], None, "")).expect_err(&score);
        let d = d.iter().next().unwrap();
        assert_eq!(d.code, codes::VOLUME_OUTSIDE_PROJECT, "{score}");
        assert!(
            d.message
                .starts_with("containers.web.volumes[/mnt]: source '")
                && d.message.ends_with("is a host path outside the project"),
            "{}",
            d.message
        );
        assert!(
            d.help
                .as_deref()
                .unwrap_or("")
                .contains("--allow-outside-paths"),
            "{:?}",
            d.help
        );
        let ok = compile_case(&case(&[&score], None, "allow_outside_paths: true")).unwrap();
        assert!(compose_yaml(&ok.1).contains("type: bind"));
    }
    // Inside the project, and named volumes, need nothing.
    for (source, path) in [("./data", None), (".", Some("sub/dir")), ("cache", None)] {
        let score = volume_score(source, path);
        compile_case(&case(&[&score], None, "")).unwrap_or_else(|d| panic!("{score}: {d:?}"));
    }
}

fn route(host: &str, path: &str, annotations: &str) -> String {
    format!(
        "apiVersion: score.dev/v1b1\nmetadata: {{name: web}}\nservice:\n  ports:\n    http: {{port: 80}}\ncontainers:\n  main: {{image: nginx}}\nresources:\n  rt:\n    type: route\n    metadata: {{annotations: {{{annotations}}}}}\n    params: {{host: {host}, path: '{path}', port: http}}\n"
    )
}

fn mounted(a: &score_core::target::Artefacts, path: &str) -> String {
    a.files
        .iter()
        .find(|f| f.path.to_string_lossy() == path)
        .map(|f| String::from_utf8_lossy(&f.content).into_owned())
        .unwrap_or_else(|| panic!("no file {path}"))
}

/// The default route provisioner reads the path as score-compose does (an nginx regex), refuses
/// what would leave the quoted regex, and checks the path-type annotation (issue 15).
#[test]
fn route_paths_and_path_types_are_checked() {
    for (path, want) in [
        ("api", "param 'path' must start with '/'"),
        ("/a;b", "param 'path' must not contain \";\""),
        ("/a\"b", "param 'path' must not contain"),
        ("/a$", "param 'path' must not contain \"$\""),
    ] {
        let e = error_of(&case(&[&route("web.localhost", path, "")], None, ""));
        assert!(e.contains(want), "{path}: {e}");
    }
    let bad = "compose.score.dev/route-provisioner-path-type: prefix";
    let e = error_of(&case(&[&route("web.localhost", "/", bad)], None, ""));
    assert!(
        e.contains("must be Prefix, Exact or ImplementationSpecific, got 'prefix'"),
        "{e}"
    );
    for (ty, locations) in [
        (
            "Prefix",
            vec![r#"location ~ "^/a/[^/]+$""#, r#"location ~ "^/a/[^/]+/.*""#],
        ),
        ("Exact", vec![r#"location ~ "^/a/[^/]+$""#]),
        ("ImplementationSpecific", vec![r#"location ~ "^/a/[^/]+$""#]),
    ] {
        let score = route(
            "web.localhost",
            "/a/[^/]+",
            &format!("compose.score.dev/route-provisioner-path-type: {ty}"),
        );
        let (_, a, _) = compile_case(&case(&[&score], None, "")).unwrap();
        let conf = mounted(&a, ".score-gen/mounts/routing/conf.d/web.localhost.conf");
        let found: Vec<&str> = conf
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("location"))
            .map(|l| l.trim_end_matches(" {"))
            .collect();
        assert_eq!(found, locations, "{ty}:\n{conf}");
    }
}

/// A route that moves to another host is dropped from the old host's server (the shared state
/// keeps each host's routes under their uids).
#[test]
fn a_route_moved_to_another_host_leaves_the_old_one() {
    let other = route("a.localhost", "/o", "").replace("name: web", "name: other");
    let (_, _, state) = compile_case(&case(&[&route("a.localhost", "/", "")], None, "")).unwrap();
    let (_, _, state) =
        compile_with_state(&case(&[&route("b.localhost", "/x", "")], None, ""), state).unwrap();
    let (_, a, _) = compile_with_state(
        &case(&[&route("b.localhost", "/x", ""), &other], None, ""),
        state,
    )
    .unwrap();
    let conf_a = mounted(&a, ".score-gen/mounts/routing/conf.d/a.localhost.conf");
    assert!(conf_a.contains("route.default#other.rt"), "{conf_a}");
    assert!(!conf_a.contains("route.default#web.rt"), "{conf_a}");
    let conf_b = mounted(&a, ".score-gen/mounts/routing/conf.d/b.localhost.conf");
    assert!(conf_b.contains(r#"location ~ "^/x$""#), "{conf_b}");
}

fn annotated(kind: &str, name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: score.dev/v1b1\nmetadata: {{name: {name}}}\ncontainers:\n  main: {{image: nginx}}\nresources:\n  res:\n    type: {kind}\n    metadata: {{annotations: {{{annotations}}}}}\n"
    )
}

/// The resource annotations score-compose's defaults read are checked, not written into
/// compose.yaml as they come (issue 15).
#[test]
fn publish_annotations_are_checked() {
    for (kind, annotation, want) in [
        ("postgres", "compose.score.dev/publish-port: 'x'", "annotation 'compose.score.dev/publish-port' must be a port number (1 to 65535, 0 for none), got 'x'"),
        ("mysql", "compose.score.dev/publish-port: '-1'", "must be a port number"),
        ("amqp", "compose.score.dev/publish-management-port: '70000'", "annotation 'compose.score.dev/publish-management-port' must be a port number"),
        ("elasticsearch", "compose.score.dev/stack-version: '8; rm'", "annotation 'compose.score.dev/stack-version' must be an image tag"),
        ("elasticsearch", "compose.score.dev/license: gold", "must be basic or trial, got 'gold'"),
        ("elasticsearch", "compose.score.dev/es-mem-limit: 1x", "annotation 'compose.score.dev/es-mem-limit' must be a number of bytes"),
    ] {
        let e = error_of(&case(&[&annotated(kind, "app", annotation)], None, ""));
        assert!(e.contains(want), "{kind} {annotation}: {e}");
    }
    // 0 is score-compose's "not published".
    let (_, a, _) = compile_case(&case(
        &[&annotated(
            "mysql",
            "app",
            "compose.score.dev/publish-port: '0'",
        )],
        None,
        "",
    ))
    .unwrap();
    assert!(!compose_yaml(&a).contains("ports:"), "{}", compose_yaml(&a));
    // Resources on one shared server agree on its published ports or fail, naming both.
    let e = error_of(&case(
        &[
            &annotated("amqp", "one", "compose.score.dev/publish-port: '5672'"),
            &annotated("amqp", "two", "compose.score.dev/publish-port: '5673'"),
        ],
        None,
        "",
    ));
    assert!(
        e.contains("resources 'amqp.default#one.res' and 'amqp.default#two.res' render different values for 'services.rabbitmq-instance.ports"),
        "{e}"
    );
}
