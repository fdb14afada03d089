//! score-gen as a drop-in for score-compose and score-k8s (issue 23): `init` keeps what the user
//! edited and adds what new flags ask for; listings find the project's one target; one Score file
//! gets one verdict on compose and k8s; score-compose's shared-service files work with several
//! workloads (the tool's last-wins result, with a warning); `<no value>` from a Go template is
//! named; `validate` checks workload names across its files.

use crate::common;

use std::path::Path;
use std::process::Output;

use common::{fails, ok, read, run_in, stderr};

/// Runs one of the built executables (`score-compose`, `score-k8s`) in `dir`.
fn tool(exe: &str, dir: &Path, args: &[&str]) -> Output {
    common::exe(exe)
        .command()
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .output()
        .expect("run the tool")
}

fn compose(dir: &Path, args: &[&str]) -> Output {
    tool("score-compose", dir, args)
}

fn k8s(dir: &Path, args: &[&str]) -> Output {
    tool("score-k8s", dir, args)
}

/// The stderr with every run of whitespace made one space (help text wraps at the width).
fn flat(o: &Output) -> String {
    stderr(o).split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn init_keeps_an_edited_provisioners_file_and_adds_what_new_flags_ask() {
    for (exe, dir) in [
        ("score-compose", ".score-compose"),
        ("score-k8s", ".score-k8s"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        ok(&tool(exe, p, &["init"]));
        let defaults = format!("{dir}/zz-default.provisioners.yaml");
        let edited = format!("{}\n# the platform team's edit\n", read(p, &defaults));
        std::fs::write(p.join(&defaults), &edited).unwrap();
        let sample = format!("{}# my edit\n", read(p, "score.yaml"));
        std::fs::write(p.join("score.yaml"), &sample).unwrap();
        // Again, and with a new flag: what the user edited stays, the new file is added.
        ok(&tool(exe, p, &["init"]));
        std::fs::write(
            p.join("extra.tpl"),
            "- op: set\n  path: x-extra\n  value: 1\n",
        )
        .unwrap();
        ok(&tool(exe, p, &["init", "--patch-templates", "./extra.tpl"]));
        assert_eq!(read(p, &defaults), edited, "{exe}");
        assert_eq!(read(p, "score.yaml"), sample, "{exe}");
        assert!(
            read(p, &format!("{dir}/state.yaml")).contains("x-extra"),
            "{exe}: the patch template is stored in the state, as the tools store it"
        );
    }
}

#[test]
fn init_provisioners_installs_a_file_tried_before_the_defaults() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("mine.provisioners.yaml"),
        "- uri: template://mine/redis\n  type: redis\n  outputs: |\n    host: redis.corp.internal\n    port: 6379\n",
    )
    .unwrap();
    ok(&compose(
        p,
        &["init", "--provisioners", "./mine.provisioners.yaml"],
    ));
    let files: Vec<String> = std::fs::read_dir(p.join(".score-compose"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".provisioners.yaml"))
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let listed = ok(&compose(p, &["provisioners", "list", "--format", "json"]));
    let list: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(list[0]["uri"], "template://mine/redis", "{listed}");
    // Stored as the tools store it: a `# Downloaded from` line, then the content verbatim (the
    // tools add the time too; score-gen leaves it out so that a project's files are reproducible).
    let stored = files.iter().find(|n| *n != "zz-default.provisioners.yaml");
    assert_eq!(
        read(p, &format!(".score-compose/{}", stored.unwrap())),
        format!(
            "# Downloaded from ./mine.provisioners.yaml\n{}",
            read(p, "mine.provisioners.yaml")
        )
    );
}

#[test]
fn init_no_default_provisioners_writes_none() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(&k8s(p, &["init", "--no-default-provisioners"]));
    assert!(p.join(".score-k8s/state.yaml").is_file());
    assert!(!p.join(".score-k8s/zz-default.provisioners.yaml").exists());
    // Without the file score-gen's built-in defaults still answer, after any file the user adds
    // (score-k8s would have none: a documented deviation, spec/deviations.md).
    let listed = ok(&k8s(p, &["provisioners", "list", "--format", "json"]));
    let list: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert!(list.as_array().is_some_and(|l| !l.is_empty()), "{listed}");
}

#[test]
fn init_project_names_the_compose_project() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(&compose(p, &["init", "-p", "shop"]));
    ok(&compose(p, &["generate", "score.yaml"]));
    assert!(read(p, "compose.yaml").starts_with("name: shop\n"));
    // Changing it later is `init --project` again, as with the tool.
    ok(&compose(p, &["init", "--project", "shop2"]));
    ok(&compose(p, &["generate"]));
    assert!(read(p, "compose.yaml").starts_with("name: shop2\n"));
}

#[test]
fn listings_use_the_projects_one_target_and_name_the_choice_when_there_are_several() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: demo-app\ncontainers:\n  main:\n    image: nginx\nresources:\n  dns:\n    type: dns\n",
    )
    .unwrap();
    ok(&run_in(p, &["init", "--target", "k8s", "--no-sample"]));
    ok(&run_in(p, &["k8s", "score.yaml"]));
    // A k8s-only project: no --target needed.
    let host = ok(&run_in(
        p,
        &[
            "resources",
            "get-outputs",
            "dns.default#demo-app.dns",
            "--format",
            "{{.host}}",
        ],
    ));
    assert!(!host.trim().is_empty() && !host.contains('{'), "{host}");
    ok(&run_in(p, &["resources", "list"]));
    // A second target: the listing says which one it used, or asks.
    ok(&run_in(p, &["init", "--target", "compose", "--no-sample"]));
    ok(&run_in(p, &["compose", "score.yaml"]));
    let out = run_in(p, &["resources", "list"]);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(said.contains("--target"), "{said}");
}

#[test]
fn score_gen_generate_and_the_tools_spellings_get_a_hint() {
    let d = tempfile::tempdir().unwrap();
    let out = run_in(d.path(), &["generate", "score.yaml"]);
    assert_ne!(out.status.code(), Some(0));
    let err = flat(&out);
    assert!(
        err.contains("score-gen compose") && err.contains("score-k8s"),
        "{err}"
    );
}

const PARAMS: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx
    variables:
      DEBUG: ${resources.env.DEBUG}
    volumes:
      /data:
        source: ${resources.data}
resources:
  env:
    type: environment
  data:
    type: volume
";

/// Runs `file` through compose and k8s: the exit codes and the stderr of each.
fn both_targets(file: &str) -> [(Option<i32>, String); 2] {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("score.yaml"), file).unwrap();
    let c = run_in(p, &["compose", "score.yaml"]);
    let k = common::exe("score-gen")
        .command()
        .args(["k8s", "score.yaml"])
        .current_dir(p)
        .env("NO_COLOR", "1")
        .env("DEBUG", "1")
        .output()
        .unwrap();
    [(c.status.code(), stderr(&c)), (k.status.code(), stderr(&k))]
}

#[test]
fn the_same_file_gets_the_same_verdict_on_compose_and_k8s() {
    // No params: both fine.
    for (code, err) in both_targets(PARAMS) {
        assert_eq!(code, Some(0), "{err}");
    }
    // The Kubernetes volume's params: accepted on both (compose's local driver has no use for them).
    let sized = PARAMS.replace(
        "    type: volume\n",
        "    type: volume\n    params:\n      size: 2Gi\n      storage_class: fast\n",
    );
    for (code, err) in both_targets(&sized) {
        assert_eq!(code, Some(0), "{err}");
    }
    // A param no provisioner reads: refused on both, at the param.
    for bad in [
        PARAMS.replace(
            "    type: environment\n",
            "    type: environment\n    params:\n      DEBUG: '1'\n",
        ),
        PARAMS.replace(
            "    type: volume\n",
            "    type: volume\n    params:\n      mount_path: /data\n",
        ),
    ] {
        for (code, err) in both_targets(&bad) {
            assert_eq!(code, Some(1), "{bad}\n{err}");
            assert!(
                err.contains("score::provision::unsupported-param") && err.contains("score.yaml:1"),
                "{err}"
            );
        }
    }
}

/// A database on one shared instance, written as score-compose's own mysql entry is: every
/// resource renders the same service name with its own database in it.
const SHARED_DB: &str = r#"- uri: template://team/shared-db
  type: mysql
  init: |
    sk: team-shared-db
  state: |
    database: {{ dig "database" (printf "db_%s" .SourceWorkload) .State | quote }}
  shared: |
    {{ .Init.sk }}:
      service: {{ dig .Init.sk "service" "shared-db" .Shared | quote }}
  outputs: |
    host: {{ dig .Init.sk "service" "" .Shared }}
    port: 3306
    name: {{ .State.database }}
  volumes: |
    shared-db-data:
      driver: local
  services: |
    {{ dig .Init.sk "service" "" .Shared }}:
      image: mysql:8.4
      environment:
        MYSQL_DATABASE: {{ .State.database }}
        MYSQL_ALLOW_EMPTY_PASSWORD: "yes"
      volumes:
      - type: volume
        source: shared-db-data
        target: /var/lib/mysql
"#;

fn db_workload(name: &str) -> String {
    format!(
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: {name}\ncontainers:\n  main:\n    image: nginx\n    variables:\n      DB: ${{resources.db.name}}\n      HOST: ${{resources.db.host}}\nresources:\n  db:\n    type: mysql\n"
    )
}

#[test]
fn a_score_compose_shared_service_with_two_workloads_keeps_the_last_and_warns() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(&compose(p, &["init", "--no-sample"]));
    std::fs::write(p.join(".score-compose/team.provisioners.yaml"), SHARED_DB).unwrap();
    std::fs::write(p.join("one.yaml"), db_workload("one")).unwrap();
    std::fs::write(p.join("two.yaml"), db_workload("two")).unwrap();
    let out = compose(p, &["generate", "one.yaml", "two.yaml"]);
    ok(&out);
    let compose_yaml = read(p, "compose.yaml");
    // The tool's result: one shared service, as the last resource rendered it.
    assert_eq!(
        compose_yaml.matches("\n  shared-db:\n").count(),
        1,
        "{compose_yaml}"
    );
    assert!(
        compose_yaml.contains("MYSQL_DATABASE: db_two"),
        "{compose_yaml}"
    );
    assert!(compose_yaml.contains("DB: db_one"), "{compose_yaml}");
    let err = flat(&out);
    assert!(
        err.contains("warning: resource 'mysql.default#two.db' replaces 'services.shared-db' as rendered by resource 'mysql.default#one.db'")
            && err.contains("'services.shared-db.environment.MYSQL_DATABASE' changed"),
        "{err}"
    );
    // score-compose's own mysql file, when the reference copy is at hand.
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../../shared/reference/peers/score-compose/internal/command/default.provisioners.yaml",
    );
    if let Ok(text) = std::fs::read_to_string(&reference) {
        std::fs::remove_file(p.join(".score-compose/team.provisioners.yaml")).unwrap();
        std::fs::write(p.join(".score-compose/zz-default.provisioners.yaml"), text).unwrap();
        ok(&compose(
            p,
            &["resources", "remove", "mysql.default#one.db"],
        ));
        ok(&compose(
            p,
            &["resources", "remove", "mysql.default#two.db"],
        ));
        let out = compose(p, &["generate"]);
        ok(&out);
        assert!(
            flat(&out).contains("environment.MYSQL_DATABASE'"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn no_value_from_a_go_template_is_named() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(&compose(p, &["init", "--no-sample"]));
    std::fs::write(
        p.join(".score-compose/team.provisioners.yaml"),
        "- uri: template://team/redis\n  type: redis\n  outputs: |\n    host: {{ .Params.hostname }}\n    port: 6379\n",
    )
    .unwrap();
    std::fs::write(
        p.join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n    variables:\n      CACHE: ${resources.cache.host}\nresources:\n  cache:\n    type: redis\n",
    )
    .unwrap();
    let out = compose(p, &["generate", "score.yaml"]);
    ok(&out);
    // Go writes `<no value>`, as the tool would; the user is told where it came from.
    assert!(read(p, "compose.yaml").contains("CACHE: <no value>"));
    let err = flat(&out);
    assert!(
        err.contains("warning: team.provisioners.yaml:1: provisioner 'template://team/redis', section 'outputs', key 'host': '<no value>' for resource 'redis.default#web.cache'"),
        "{err}"
    );
}

#[test]
fn validate_checks_workload_names_across_its_files() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(p.join("a.yaml"), db_workload("web")).unwrap();
    std::fs::write(p.join("b.yaml"), db_workload("web")).unwrap();
    std::fs::write(p.join("c.yaml"), db_workload("api")).unwrap();
    let err = fails(&run_in(p, &["validate", "a.yaml", "b.yaml", "c.yaml"]));
    assert!(
        err.contains("score::project::duplicate-workload")
            && err.contains("b.yaml:3:9")
            && err.contains("workload name 'web' is used more than once"),
        "{err}"
    );
    ok(&run_in(p, &["validate", "a.yaml", "c.yaml"]));
}

#[test]
fn a_compose_variable_unset_at_generate_time_gets_a_note() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n    variables:\n      A: ${resources.env.DROPIN_UNSET_A}\n      B: ${resources.env.DROPIN_SET_B}\n      C: ${resources.env.DROPIN_DOTENV_C}\nresources:\n  env:\n    type: environment\n",
    )
    .unwrap();
    std::fs::write(p.join(".env"), "# mine\nexport DROPIN_DOTENV_C=1\n").unwrap();
    let out = common::exe("score-gen")
        .command()
        .args(["compose", "score.yaml"])
        .current_dir(p)
        .env("NO_COLOR", "1")
        .env_remove("DROPIN_UNSET_A")
        .env_remove("DROPIN_DOTENV_C")
        .env("DROPIN_SET_B", "x")
        .output()
        .unwrap();
    ok(&out);
    let err = flat(&out);
    // A note, not an error: the value is compose's to read when it runs.
    assert!(read(p, "compose.yaml").contains("A: ${DROPIN_UNSET_A}"));
    assert!(
        err.contains("note: the output reads ${DROPIN_UNSET_A} when `docker compose up` runs; DROPIN_UNSET_A is not set now"),
        "{err}"
    );
    assert!(!err.contains("DROPIN_SET_B"), "{err}");
    assert!(!err.contains("DROPIN_DOTENV_C"), "{err}");
}

/// score-compose's `elasticsearch` type works on every target, with the same outputs.
#[test]
fn elasticsearch_works_on_every_target() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("score.yaml"),
        "apiVersion: score.dev/v1b1\nmetadata:\n  name: search\ncontainers:\n  main:\n    image: nginx\n    variables:\n      ES: http://${resources.es.username}:${resources.es.password}@${resources.es.host}:${resources.es.port}\nresources:\n  es:\n    type: elasticsearch\n",
    )
    .unwrap();
    ok(&run_in(p, &["all", "score.yaml", "-o", "out"]));
    assert!(read(p, "out/compose.yaml").contains("elasticsearch"));
    assert!(read(p, "out/manifests.yaml")
        .contains("image: docker.elastic.co/elasticsearch/elasticsearch:8.17.0"));
    assert!(read(p, "out/terraform/main.tf").contains("module \"elasticsearch_search_es\""));
    for target in ["compose", "k8s", "terraform"] {
        let keys = ok(&run_in(
            p,
            &[
                "resources",
                "get-outputs",
                "--target",
                target,
                "elasticsearch.default#search.es",
                "--format",
                "json",
            ],
        ));
        let v: serde_json::Value = serde_json::from_str(&keys).unwrap();
        let mut names: Vec<&String> = v.as_object().unwrap().keys().collect();
        names.sort();
        assert_eq!(
            names,
            ["host", "password", "port", "username"],
            "{target}: {keys}"
        );
    }
}

/// `provisioners list` fits the terminal and has a params column, like score-compose's.
#[test]
fn provisioners_list_fits_the_width_and_shows_params() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(&compose(p, &["init", "--no-sample"]));
    for (columns, max) in [(Some("80"), 80), (Some("200"), 200), (None, 100)] {
        let mut cmd = common::exe("score-compose").command();
        cmd.args(["provisioners", "list"]).current_dir(p);
        match columns {
            Some(c) => cmd.env("COLUMNS", c),
            None => cmd.env_remove("COLUMNS"),
        };
        let table = ok(&cmd.output().unwrap());
        let header = table.lines().nth(1).unwrap_or_default();
        assert!(
            header.contains("TYPE") && header.contains("PARAMS") && header.contains("OUTPUTS"),
            "{table}"
        );
        for line in table.lines() {
            assert!(line.chars().count() <= max, "{columns:?}: {line}");
        }
        assert!(
            table.contains("| workload, p"),
            "service-port's params:\n{table}"
        );
    }
    // Everything, uncut, as JSON.
    let json = ok(&compose(p, &["provisioners", "list", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["supported_params"] == serde_json::json!(["workload", "port"])));
}
