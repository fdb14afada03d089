//! A `WorkloadServices` entry and its `Ports` are Go structs in the tools: `index` of a port
//! name the workload lacks is the zero `ServicePort` (truthy, `TargetPort` 0), so the tools'
//! own `service-port` provisioner renders `port: 0` for it rather than failing; score-gen
//! renders the same (spec/gotemplate.md). A workload it lacks fails in both.

use crate::common::*;

/// score-compose's default `service-port` entry (`internal/command/default.provisioners.yaml`),
/// as the tools ship it.
const TOOLS_SERVICE_PORT: &str = r#"- uri: template://default-provisioners/service-port
  type: service-port
  description: Outputs a hostname and port for connecting to another workload.
  outputs: |
    {{ if not .Params.workload }}{{ fail "expected 'workload' param for the target workload name" }}{{ end }}
    {{ if not .Params.port }}{{ fail "expected 'port' param for the name of the target workload service port" }}{{ end }}
    {{ $w := (index .WorkloadServices .Params.workload) }}
    {{ if or (not $w) (not $w.ServiceName) }}{{ fail "unknown workload" }}{{ end }}
    {{ $p := (index $w.Ports .Params.port) }}
    {{ if not $p }}{{ fail "unknown service port" }}{{ end }}
    hostname: {{ $w.ServiceName | quote }}
    port: {{ $p.TargetPort }}
  expected_outputs:
    - hostname
    - port
  supported_params:
    - workload
    - port
"#;

const SERVER: &str = r#"
apiVersion: score.dev/v1b1
metadata: {name: server}
containers:
  main: {image: nginx}
service:
  ports:
    web: {port: 80, targetPort: 8080}
"#;

fn client(workload: &str, port: &str) -> String {
    format!(
        r#"
apiVersion: score.dev/v1b1
metadata: {{name: client}}
containers:
  main:
    image: busybox
    variables:
      TARGET: "${{resources.dep.hostname}}:${{resources.dep.port}}"
resources:
  dep:
    type: service-port
    params: {{workload: {workload}, port: {port}}}
"#
    )
}

fn case(workload: &str, port: &str) -> Case {
    Case {
        name: "inline".into(),
        dir: std::path::PathBuf::new(),
        scores: vec![
            ("server.yaml".into(), SERVER.into()),
            ("client.yaml".into(), client(workload, port)),
        ],
        provisioners: vec![("p.provisioners.yaml".into(), TOOLS_SERVICE_PORT.into())],
        options: Default::default(),
        environment: Vec::new(),
    }
}

#[test]
fn the_tools_service_port_provisioner_renders_port_0_for_an_unknown_port() {
    let known = compose_yaml(&compile_case(&case("server", "web")).unwrap().1);
    assert!(known.contains("TARGET: server:8080"), "{known}");
    // The tools: the zero ServicePort is truthy (`not $p` is false) and its TargetPort is 0.
    let unknown = compose_yaml(&compile_case(&case("server", "nope")).unwrap().1);
    assert!(unknown.contains("TARGET: server:0"), "{unknown}");
}

#[test]
fn the_tools_service_port_provisioner_fails_for_an_unknown_workload() {
    let e = match compile_case(&case("nope", "web")) {
        Ok(_) => panic!("an unknown workload must fail, as in the tools"),
        Err(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    };
    assert!(e.contains("unknown workload"), "{e}");
}
