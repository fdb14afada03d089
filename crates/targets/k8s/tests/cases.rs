//! One test per case folder of `testdata/k8s/` (see `crates/testkit` for the fixture
//! convention), through the whole pipeline with a fixed seed. For each case: `manifests.yaml`
//! matches `manifests.yaml.snap` beside the inputs, determinism (twice → same bytes; again from
//! the returned state → same bytes), no `${` left, no secret output value in clear text outside
//! Secrets, every variable using a secret read through `secretKeyRef`, and
//! `kubernetes-validate --strict -k 1.30.0` on the output.

use libtest_mimic::{Failed, Trial};
use score_target_k8s::manifests;
use score_testkit as kit;
use score_testkit::k8s::*;

fn check(name: &str) -> Result<(), Failed> {
    let case = &load_case(name);
    let (project, yaml, state) = run(case, seeded());
    kit::assert_case_snapshot(case, SNAPSHOT, &yaml);

    // Determinism: same input, same bytes; and the state written by the first run reproduces it
    // (generated passwords live in state).
    let (_, again, _) = run(case, seeded());
    assert_eq!(
        yaml, again,
        "{}: output differs between two runs",
        case.name
    );
    let (_, from_state, _) = run(case, state);
    assert_eq!(
        yaml, from_state,
        "{}: output differs when re-run from its state",
        case.name
    );

    // No placeholder survives, except those written in `noExpand` files (kept on purpose).
    let kept: usize = project
        .workloads
        .iter()
        .flat_map(|w| w.spec.containers.values())
        .flat_map(|c| c.files.values())
        .filter(|f| !f.expands())
        .filter_map(|f| f.content.as_deref())
        .map(|t| t.matches("${").count())
        .sum();
    assert_eq!(
        yaml.matches("${").count(),
        kept,
        "{}: a placeholder survived:\n{yaml}",
        case.name
    );

    let docs = manifests(&project, &case.options).expect("manifests");
    let secrets = secret_values(&project);
    if !secrets.is_empty() {
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secret_in_clear(&docs, &refs);
    }
    // Every variable whose resolved value is secret is read from a Secret.
    for w in &project.workloads {
        for (cname, c) in &w.containers {
            for (var, r) in &c.variables {
                if !r.is_secret() {
                    continue;
                }
                let env = docs
                    .iter()
                    .filter(|d| d["kind"] == "Deployment" || d["kind"] == "StatefulSet")
                    .filter(|d| d["metadata"]["name"] == w.name.as_str())
                    .flat_map(|d| {
                        d["spec"]["template"]["spec"]["containers"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                    })
                    .filter(|c| c["name"] == cname.as_str())
                    .flat_map(|c| c["env"].as_array().cloned().unwrap_or_default())
                    .find(|e| e["name"] == var.as_str())
                    .unwrap_or_else(|| panic!("{}: env {var} missing", case.name));
                assert!(
                    env.get("value").is_none(),
                    "{}: secret {var} has a value",
                    case.name
                );
                assert_eq!(
                    env["valueFrom"]["secretKeyRef"]["name"],
                    format!("{}-{}-secrets", w.name, cname)
                );
            }
        }
    }
    kubernetes_validate(&yaml, &case.name);
    Ok(())
}

/// One case per default provisioner type (and class), plus the acceptance example.
fn required_cases_exist() -> Result<(), Failed> {
    let names = kit::case_names(TARGET);
    let missing: Vec<&str> = [
        "acceptance",
        "volume",
        "volume-classes",
        "service-port",
        "environment",
        "postgres",
        "mysql",
        "redis",
        "mongodb",
        "amqp",
        "kafka-topic",
        "s3",
        "dns",
        "route",
        "route-ingress",
        "namespace",
        "custom-provisioner",
    ]
    .into_iter()
    .filter(|required| !names.iter().any(|n| n == required))
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("cases missing: {missing:?}").into())
    }
}

/// score-k8s's default file in place of ours: the manifests pass kubernetes-validate.
fn reference_check(name: &str, c: &score_core::Compiled) -> Result<(), String> {
    let yaml =
        String::from_utf8(c.artefacts.files[0].content.clone()).map_err(|e| e.to_string())?;
    kubernetes_validate(&yaml, name);
    Ok(())
}

fn main() {
    let mut trials = kit::reference_trials::<score_target_k8s::K8sOptions>(
        TARGET,
        "score-k8s/internal/provisioners/default/zz-default.provisioners.yaml",
        |o| Box::new(score_target_k8s::K8sTarget::new(o.clone())),
        reference_check,
        &[
            (
                "acceptance",
                "key 'uri' not found",
                "score-k8s's postgres has no uri output",
            ),
            (
                "postgres",
                "key 'uri' not found",
                "score-k8s's postgres has no uri output",
            ),
            (
                "route-ingress",
                "does not support param(s) 'ingress_class'",
                "score-k8s's route has no ingress_class param",
            ),
        ],
        &[(
            "example-provisioner-resource",
            "it::reference::example_provisioner_entries_run",
        )],
    );
    trials.push(Trial::test(
        "fixtures::required_cases_exist",
        required_cases_exist,
    ));
    kit::run(TARGET, SNAPSHOT, check, trials)
}
