//! A rendered Go-template section is read as score-k8s reads it (yaml.v3 into `interface{}`):
//! `defaultMode: 0644` in a provisioner's manifest is the octal 420, which Kubernetes accepts
//! (read as YAML 1.2 decimal it would be 644, and as a float `644.0`, which it rejects).

use score_core::{compile, CompileInputs};
use score_target_k8s::K8sTarget;

use crate::common::kubernetes_validate;
use crate::kit;

const SCORE: &str = r#"apiVersion: score.dev/v1b1
metadata:
  name: demo
containers:
  main:
    image: busybox:1.37
resources:
  cfg:
    type: config-files
"#;

const PROVISIONERS: &str = r#"- uri: template://test/config-files
  type: config-files
  state: |
    name: cfg-{{ .SourceWorkload }}
  outputs: |
    name: {{ .State.name }}
  manifests: |
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: {{ .State.name }}
      data:
        app.conf: "x = 1"
    - apiVersion: v1
      kind: Pod
      metadata:
        name: {{ .State.name }}-reader
      spec:
        containers:
          - name: reader
            image: busybox:1.37
            volumeMounts:
              - name: conf
                mountPath: /etc/app
        volumes:
          - name: conf
            configMap:
              name: {{ .State.name }}
              defaultMode: 0644
              items:
                - key: app.conf
                  path: app.conf
                  mode: 0o600
"#;

#[test]
fn an_octal_mode_in_a_provisioner_manifest_is_read_as_go_reads_it() {
    let inputs = CompileInputs::new()
        .score_file("score.yaml", SCORE)
        .provisioner_file("p.provisioners.yaml", PROVISIONERS);
    let c = compile(&K8sTarget::default(), &inputs, kit::test_state())
        .unwrap_or_else(|d| panic!("{d}"));
    let yaml = String::from_utf8(c.artefacts.files[0].content.clone()).unwrap();
    assert!(yaml.contains("defaultMode: 420\n"), "{yaml}");
    assert!(yaml.contains("mode: 384\n"), "{yaml}");
    assert!(!yaml.contains("644"), "{yaml}");
    kubernetes_validate(&yaml, "octal-default-mode");
}
