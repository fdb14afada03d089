//! Synthetic Score workloads for score-gen's benchmarks.
//!
//! [`workloads`] produces `n` Score files (`score.dev/v1b1`), each with two containers, eight
//! variables (most of them placeholders into the workload's resources), an expanded and a
//! `noExpand` file, a volume mount, probes, a service with two ports, and three resources:
//! a `postgres`, a `redis` and a `volume`. The text depends only on `n` and the index, so the
//! same `n` always yields byte-identical input (and, with a fixed state seed, identical output).
//!
//! ```
//! let files = score_bench::workloads(2);
//! assert_eq!(files.len(), 2);
//! assert_eq!(files[0].0, "svc-0000/score.yaml");
//! assert!(files[1].1.contains("name: svc-0001"));
//! assert_eq!(files, score_bench::workloads(2));
//! ```

use score_core::target::Artefacts;
use score_core::{CompileInputs, Diagnostics, State, Target};

/// The fixed seed every benchmark compiles with, so runs are byte-stable.
pub const SEED: &str = "0123456789abcdef0123456789abcdef";

/// `n` synthetic Score files as `(file name, YAML text)`, in index order.
pub fn workloads(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("{}/score.yaml", name(i)), workload(i, n)))
        .collect()
}

/// The workload name of index `i`.
pub fn name(i: usize) -> String {
    format!("svc-{i:04}")
}

/// One Score file. `n` only picks a neighbour to talk to, so the text is stable for a given `n`.
pub fn workload(i: usize, n: usize) -> String {
    let name = name(i);
    let team = i % 7;
    let minor = i % 20;
    let peer = self::name((i + 1) % n.max(1));
    let log_level = ["debug", "info", "warn"][i % 3];
    let replicas_hint = 1 + i % 4;
    format!(
        r#"apiVersion: score.dev/v1b1
metadata:
  name: {name}
  annotations:
    example.com/team: team-{team}
    example.com/tier: backend
containers:
  app:
    image: registry.example.com/team-{team}/{name}:1.{minor}.0
    command: ["/usr/local/bin/server"]
    args: ["--listen", ":8080", "--workers", "{replicas_hint}"]
    variables:
      APP_NAME: ${{metadata.name}}
      LOG_LEVEL: {log_level}
      DATABASE_URL: "postgres://${{resources.db.username}}:${{resources.db.password}}@${{resources.db.host}}:${{resources.db.port}}/${{resources.db.name}}"
      DB_HOST: ${{resources.db.host}}
      DB_PORT: ${{resources.db.port}}
      REDIS_URL: "redis://${{resources.cache.username}}:${{resources.cache.password}}@${{resources.cache.host}}:${{resources.cache.port}}/0"
      PEER_URL: http://{peer}:8080
      PRICE_LABEL: "costs $$5 per month"
    files:
      /etc/{name}/config.yaml:
        mode: "0644"
        content: |
          service: ${{metadata.name}}
          database:
            host: ${{resources.db.host}}
            port: ${{resources.db.port}}
            name: ${{resources.db.name}}
          cache:
            host: ${{resources.cache.host}}
            port: ${{resources.cache.port}}
          log_level: {log_level}
      /etc/{name}/motd.txt:
        content: "Welcome to {name}: ${{literal}} text, not expanded\n"
        noExpand: true
    volumes:
      /var/lib/{name}:
        source: ${{resources.data}}
    resources:
      requests:
        cpu: 100m
        memory: 128Mi
      limits:
        cpu: 500m
        memory: 512Mi
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
    readinessProbe:
      httpGet:
        path: /ready
        port: 8080
  logs:
    image: docker.io/fluent/fluent-bit:3.{minor}
    variables:
      SERVICE: ${{metadata.name}}
      FORWARD_HOST: logs.example.com
    resources:
      limits:
        cpu: 100m
        memory: 64Mi
service:
  ports:
    http:
      port: 80
      targetPort: 8080
    metrics:
      port: 9090
resources:
  db:
    type: postgres
  cache:
    type: redis
  data:
    type: volume
"#
    )
}

/// Provisioners for the bench workload's three resources (`postgres`, `redis`, `volume`) in
/// score-gen's minijinja dialect; [`PROVISIONERS_GO`] says the same in Go templates, so the two
/// compile to the same bytes and their difference in cost is the template engine's.
pub const PROVISIONERS_MINIJINJA: &str = r#"
- uri: template://bench/postgres
  engine: minijinja
  type: postgres
  expected_outputs: [host, port, name, username, password]
  init: |
    svc: {{ "pg-" ~ (id | replace(".", "-")) }}
  state: |
    password: {{ state.password | default("pw" ~ guid[:8]) | quote }}
  outputs: |
    host: {{ init.svc }}
    port: 5432
    name: {{ id | replace(".", "_") | quote }}
    username: {{ ("u_" ~ source_workload) | quote }}
    password: {{ state.password | quote }}
  compose:
    services: |
      {{ init.svc }}:
        image: postgres:17-alpine
        environment:
          POSTGRES_PASSWORD: {{ state.password | quote }}
          POSTGRES_DB: {{ id | replace(".", "_") | quote }}
        labels:
          dev.score.compose.res.uid: {{ uid | quote }}
- uri: template://bench/redis
  engine: minijinja
  type: redis
  expected_outputs: [host, port, username, password]
  state: |
    password: {{ state.password | default("rd" ~ guid[:8]) | quote }}
  outputs: |
    host: {{ "redis-" ~ (id | replace(".", "-")) }}
    port: 6379
    username: default
    password: {{ state.password | quote }}
  compose:
    services: |
      {{ "redis-" ~ (id | replace(".", "-")) }}:
        image: redis:7-alpine
        command: ["redis-server", "--requirepass", {{ state.password | quote }}]
- uri: template://bench/volume
  engine: minijinja
  type: volume
  expected_outputs: [type, source]
  outputs: |
    type: volume
    source: {{ "vol-" ~ (id | replace(".", "-")) }}
  compose:
    volumes: |
      {{ "vol-" ~ (id | replace(".", "-")) }}:
        driver: local
"#;

/// [`PROVISIONERS_MINIJINJA`] as Go templates (score-compose's format, sprig functions).
pub const PROVISIONERS_GO: &str = r#"
- uri: template://bench/postgres
  type: postgres
  expected_outputs: [host, port, name, username, password]
  init: |
    svc: {{ printf "pg-%s" (.Id | replace "." "-") }}
  state: |
    password: {{ dig "password" (printf "pw%s" (.Guid | trunc 8)) .State | quote }}
  outputs: |
    host: {{ .Init.svc }}
    port: 5432
    name: {{ .Id | replace "." "_" | quote }}
    username: {{ printf "u_%s" .SourceWorkload | quote }}
    password: {{ .State.password | quote }}
  services: |
    {{ .Init.svc }}:
      image: postgres:17-alpine
      environment:
        POSTGRES_PASSWORD: {{ .State.password | quote }}
        POSTGRES_DB: {{ .Id | replace "." "_" | quote }}
      labels:
        dev.score.compose.res.uid: {{ .Uid | quote }}
- uri: template://bench/redis
  type: redis
  expected_outputs: [host, port, username, password]
  state: |
    password: {{ dig "password" (printf "rd%s" (.Guid | trunc 8)) .State | quote }}
  outputs: |
    host: {{ printf "redis-%s" (.Id | replace "." "-") }}
    port: 6379
    username: default
    password: {{ .State.password | quote }}
  services: |
    {{ printf "redis-%s" (.Id | replace "." "-") }}:
      image: redis:7-alpine
      command: ["redis-server", "--requirepass", {{ .State.password | quote }}]
- uri: template://bench/volume
  type: volume
  expected_outputs: [type, source]
  outputs: |
    type: volume
    source: {{ printf "vol-%s" (.Id | replace "." "-") }}
  volumes: |
    {{ printf "vol-%s" (.Id | replace "." "-") }}:
      driver: local
"#;

/// [`compile`] with a user provisioner file in front of the target's defaults.
pub fn compile_with(
    target: &dyn Target,
    files: &[(String, String)],
    provisioners: &str,
) -> Result<Artefacts, Diagnostics> {
    let inputs = files
        .iter()
        .fold(CompileInputs::new(), |i, (name, text)| {
            i.score_file(name.as_str(), text.as_str())
        })
        .provisioner_file("bench.provisioners.yaml", provisioners);
    Ok(score_core::compile(target, &inputs, fixed_state())?.artefacts)
}

/// An empty state with [`SEED`].
pub fn fixed_state() -> State {
    State::with_seed(SEED)
}

/// The whole pipeline for `target` over `files`, in memory (no disk I/O), with [`fixed_state`].
pub fn compile(target: &dyn Target, files: &[(String, String)]) -> Result<Artefacts, Diagnostics> {
    let inputs = files.iter().fold(CompileInputs::new(), |i, (name, text)| {
        i.score_file(name.as_str(), text.as_str())
    });
    Ok(score_core::compile(target, &inputs, fixed_state())?.artefacts)
}

/// The floor for one input set: parse every file into a plain `serde_json::Value` with
/// serde-saphyr (no spans, no schema, no validation). Returns the parsed values.
pub fn floor_parse(files: &[(String, String)]) -> Vec<serde_json::Value> {
    files
        .iter()
        .map(|(_, t)| serde_saphyr::from_str::<serde_json::Value>(t).unwrap_or_default())
        .collect()
}

/// A target's produced output, parsed back into plain values (outside any timed loop), so the
/// floor can serialise exactly what the target produced with the same libraries.
#[derive(Debug, Clone)]
pub enum FloorOutput {
    /// YAML documents (compose: one; Kubernetes: one per object).
    Yaml(Vec<serde_json::Value>),
    /// A Terraform file as an hcl-rs body.
    Hcl(hcl::Body),
    /// Any other artefact (a mounted file, say): writing it out is a copy.
    Bytes(Vec<u8>),
}

/// Parses every artefact of a target's output for [`floor_emit`]: `.yaml` files as YAML documents,
/// `.tf` files as HCL, anything else as bytes.
pub fn floor_output(artefacts: &Artefacts) -> Vec<FloorOutput> {
    artefacts
        .files
        .iter()
        .map(|f| {
            let text = std::str::from_utf8(&f.content).ok();
            let ext = f.path.extension().and_then(|e| e.to_str());
            match (ext, text) {
                (Some("yaml" | "yml"), Some(text)) => FloorOutput::Yaml(
                    text.split("\n---\n")
                        .filter(|d| !d.trim().is_empty() && d.trim() != "---")
                        .map(|d| serde_saphyr::from_str(d).unwrap_or_default())
                        .collect(),
                ),
                (Some("tf"), Some(text)) => {
                    FloorOutput::Hcl(hcl::from_str(text).unwrap_or_default())
                }
                _ => FloorOutput::Bytes(f.content.clone()),
            }
        })
        .collect()
}

/// The other half of the floor: serialise the already-parsed output once (serde-saphyr for YAML,
/// hcl-rs for HCL, a copy for other bytes). Returns the number of bytes produced.
pub fn floor_emit(output: &[FloorOutput]) -> usize {
    output
        .iter()
        .map(|o| match o {
            FloorOutput::Yaml(docs) => docs
                .iter()
                .map(|d| serde_saphyr::to_string(d).map_or(0, |s| s.len()))
                .sum(),
            FloorOutput::Hcl(body) => hcl::to_string(body).map_or(0, |s| s.len()),
            FloorOutput::Bytes(b) => b.to_vec().len(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use score_core::{load_workload, LoadOptions};
    use score_target_compose::ComposeTarget;
    use score_target_k8s::K8sTarget;
    use score_target_terraform::TerraformTarget;

    #[test]
    fn every_generated_workload_loads_and_validates() {
        for (name, text) in workloads(25) {
            let loaded = load_workload(&name, text.as_bytes(), &LoadOptions::default())
                .unwrap_or_else(|d| panic!("{name} is invalid: {d:?}"));
            let w = &loaded.workload;
            assert_eq!(w.resources.len(), 3, "{name}");
            let kinds: Vec<&str> = w.resources.values().map(|r| r.kind.as_str()).collect();
            assert_eq!(kinds, ["postgres", "redis", "volume"], "{name}");
            assert_eq!(w.containers.len(), 2, "{name}");
            assert_eq!(w.containers["app"].variables.len(), 8, "{name}");
        }
    }

    #[test]
    fn the_two_dialects_compile_the_bench_project_to_the_same_bytes() {
        let files = workloads(6);
        let target = ComposeTarget::default();
        let mj = compile_with(&target, &files, PROVISIONERS_MINIJINJA).expect("minijinja");
        let go = compile_with(&target, &files, PROVISIONERS_GO).expect("go templates");
        let text = String::from_utf8(go.files[0].content.clone()).unwrap();
        assert!(text.contains("pg-svc-0003-db:"), "{text}");
        assert_eq!(mj, go);
    }

    #[test]
    fn generator_is_deterministic_and_names_are_unique() {
        let a = workloads(50);
        assert_eq!(a, workloads(50));
        let mut names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 50);
    }

    #[test]
    fn every_target_compiles_the_generated_project() {
        let files = workloads(5);
        let targets: [&dyn Target; 3] = [
            &ComposeTarget::default(),
            &K8sTarget::default(),
            &TerraformTarget::default(),
        ];
        for target in targets {
            let first =
                compile(target, &files).unwrap_or_else(|d| panic!("{}: {d:?}", target.name()));
            let primary = String::from_utf8(first.files[0].content.clone()).expect("utf-8 output");
            for i in 0..5 {
                assert!(primary.contains(&name(i)), "{}: {}", target.name(), name(i));
            }
            let again = compile(target, &files).expect("second compile");
            assert_eq!(first, again, "{}: output is not byte-stable", target.name());
        }
    }

    #[test]
    fn floor_parses_every_file() {
        let files = workloads(3);
        let values = floor_parse(&files);
        assert_eq!(values.len(), 3);
        assert_eq!(values[2]["metadata"]["name"], "svc-0002");
        assert_eq!(values[0]["apiVersion"], "score.dev/v1b1");
    }

    #[test]
    fn floor_output_parses_every_target_artefact() {
        let files = workloads(3);
        for target in [
            &ComposeTarget::default() as &dyn Target,
            &K8sTarget::default(),
            &TerraformTarget::default(),
        ] {
            let artefacts = compile(target, &files).expect("compiles");
            let out = floor_output(&artefacts);
            assert_eq!(out.len(), artefacts.files.len());
            match (&out[0], target.name()) {
                (FloorOutput::Yaml(docs), "compose") => {
                    assert_eq!(docs.len(), 1);
                    assert!(docs[0]["services"]["svc-0002-app"].is_object());
                }
                // Every object (Deployment, Service, Secret, ...) is a document.
                (FloorOutput::Yaml(docs), "k8s") => assert!(docs.len() >= 3 * 3, "{}", docs.len()),
                (FloorOutput::Hcl(body), "terraform") => assert!(body.iter().count() > 3),
                (other, name) => panic!("{name}: unexpected {other:?}"),
            }
            // Re-serialising what was parsed yields about as many bytes as the target wrote.
            let produced: usize = artefacts.files.iter().map(|f| f.content.len()).sum();
            let floor = floor_emit(&out);
            assert!(
                floor > produced / 2 && floor < produced * 2,
                "{floor} vs {produced}"
            );
        }
    }
}
