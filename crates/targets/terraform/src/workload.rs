//! One workload as kubernetes provider resources: `kubernetes_config_map_v1` (non-secret files),
//! `kubernetes_secret_v1` (secret variables and files), `kubernetes_deployment_v1` and, when the
//! workload has service ports, `kubernetes_service_v1`.

use base64::Engine as _;
use hcl::{Block, BlockBuilder, Expression};
use score_core::model::{Probe, ResourcesLimits};
use score_core::{FileContent, ResolvedProject, ResolvedWorkload, VolumeSource};

use crate::blocks::{is_expression, parse_expr, resolved_expr, string_object};

/// What a workload contributes: blocks for `main.tf` and `variable` blocks for `variables.tf`.
pub(crate) struct WorkloadOut {
    pub main: Vec<Block>,
    pub variables: Vec<Block>,
}

/// A Terraform name for a Kubernetes name: `-` and any other character that is not a letter,
/// digit or `_` become `_`, and a leading digit gets a `w_` prefix.
pub(crate) fn tf_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert_str(0, "w_");
    }
    out
}

/// A Kubernetes Secret/ConfigMap key (`[-._a-zA-Z0-9]+`) from arbitrary text.
fn data_key(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn expr(s: &str) -> Expression {
    // Only called with references this module builds from sanitized names.
    s.parse()
        .unwrap_or_else(|_| Expression::String(s.to_string()))
}

fn labels(name: &str) -> Expression {
    string_object([
        ("app.kubernetes.io/name", Expression::from(name)),
        ("app.kubernetes.io/instance", Expression::from(name)),
        (
            "app.kubernetes.io/managed-by",
            Expression::from("score-gen"),
        ),
    ])
}

fn metadata(name: &str, namespace: Option<&str>, annotations: &[(String, String)]) -> Block {
    let mut b = Block::builder("metadata").add_attribute(("name", name));
    if let Some(ns) = namespace {
        b = b.add_attribute(("namespace", ns));
    }
    b = b.add_attribute(("labels", labels(name)));
    if !annotations.is_empty() {
        b = b.add_attribute((
            "annotations",
            string_object(
                annotations
                    .iter()
                    .map(|(k, v)| (k.as_str(), Expression::from(v.as_str()))),
            ),
        ));
    }
    b.build()
}

fn limits(name: &str, l: &ResourcesLimits) -> Option<(String, Expression)> {
    let mut entries = Vec::new();
    if let Some(c) = &l.cpu {
        entries.push(("cpu", Expression::from(c.as_str())));
    }
    if let Some(m) = &l.memory {
        entries.push(("memory", Expression::from(m.as_str())));
    }
    (!entries.is_empty()).then(|| (name.to_string(), string_object(entries)))
}

fn probe(kind: &str, p: &Probe) -> Block {
    let mut b = Block::builder(kind);
    if let Some(h) = &p.http_get {
        let mut g = Block::builder("http_get");
        if let Some(host) = &h.host {
            g = g.add_attribute(("host", host.as_str()));
        }
        g = g
            .add_attribute(("path", h.path.as_str()))
            .add_attribute(("port", h.port));
        if let Some(s) = &h.scheme {
            g = g.add_attribute(("scheme", s.as_str()));
        }
        for hd in h.http_headers.iter().flatten() {
            g = g.add_block(
                Block::builder("http_header")
                    .add_attribute(("name", hd.name.as_str()))
                    .add_attribute(("value", hd.value.as_str()))
                    .build(),
            );
        }
        b = b.add_block(g.build());
    }
    if let Some(e) = &p.exec {
        b = b.add_block(
            Block::builder("exec")
                .add_attribute(("command", strings(&e.command)))
                .build(),
        );
    }
    b.build()
}

fn strings(v: &[String]) -> Expression {
    Expression::Array(v.iter().map(|s| Expression::from(s.as_str())).collect())
}

/// The value of output `key` of a volume resource, as an expression (or a literal).
fn volume_output(
    project: &ResolvedProject,
    uid: &score_core::ResourceUid,
    key: &str,
) -> Option<Result<Expression, String>> {
    let res = project.resources.get(uid)?;
    let v = res.outputs.values.get(key)?;
    let found = score_core::unstable::substitute::Found {
        value: v.clone(),
        secret: res.outputs.secret.contains(key),
        expression: res.outputs.expression.contains(key),
        origin: Some(score_core::unstable::substitute::Origin {
            uid: uid.as_str().to_string(),
            key: vec![key.to_string()],
        }),
    };
    Some(if is_expression(&found, project) {
        parse_expr(&found.render(), &format!("resource '{uid}' output '{key}'"))
    } else {
        crate::blocks::value_expr(v, &format!("resource '{uid}' output '{key}'"))
    })
}

/// Builds the blocks of one workload.
pub(crate) fn workload_blocks(
    w: &ResolvedWorkload,
    project: &ResolvedProject,
    namespace: Option<&str>,
) -> Result<WorkloadOut, String> {
    let name = w.name.as_str();
    let id = tf_name(name);
    let annotations: Vec<(String, String)> = w.spec.annotations().into_iter().collect();
    let mut variables = Vec::new();
    let mut config_data: Vec<(String, Expression)> = Vec::new();
    let mut config_binary: Vec<(String, Expression)> = Vec::new();
    let mut secret_data: Vec<(String, Expression)> = Vec::new();
    let config_ref = format!("kubernetes_config_map_v1.{id}.metadata[0].name");
    let secret_ref = format!("kubernetes_secret_v1.{id}.metadata[0].name");

    let mut pod_volumes: Vec<Block> = Vec::new();
    let mut containers: Vec<Block> = Vec::new();
    for (cname, c) in &w.containers {
        let spec = w
            .spec
            .containers
            .get(cname)
            .ok_or_else(|| format!("workload '{name}': container '{cname}' has no spec"))?;
        let at = |what: &str| format!("workload '{name}' container '{cname}' {what}");
        let mut cb: BlockBuilder =
            Block::builder("container").add_attribute(("name", cname.as_str()));
        if spec.image == "." {
            let var = format!("{id}_{}_image", tf_name(cname));
            cb = cb.add_attribute(("image", expr(&format!("var.{var}"))));
            variables.push(
                Block::builder("variable")
                    .add_label(var.as_str())
                    .add_attribute(("type", expr("string")))
                    .add_attribute((
                        "description",
                        format!("Image of container '{cname}' of workload '{name}' (the Score file says '.': built elsewhere)"),
                    ))
                    .build(),
            );
        } else {
            cb = cb.add_attribute(("image", spec.image.as_str()));
        }
        if let Some(cmd) = &spec.command {
            cb = cb.add_attribute(("command", strings(cmd)));
        }
        if let Some(args) = &spec.args {
            cb = cb.add_attribute(("args", strings(args)));
        }

        for (k, r) in &c.variables {
            let what = at(&format!("variable '{k}'"));
            let mut env = Block::builder("env").add_attribute(("name", k.as_str()));
            if r.is_secret() {
                let key = data_key(&format!("{cname}.{k}"));
                secret_data.push((key.clone(), resolved_expr(r, project, &what)?));
                env = env.add_block(
                    Block::builder("value_from")
                        .add_block(
                            Block::builder("secret_key_ref")
                                .add_attribute(("name", expr(&secret_ref)))
                                .add_attribute(("key", key))
                                .build(),
                        )
                        .build(),
                );
            } else {
                env = env.add_attribute(("value", resolved_expr(r, project, &what)?));
            }
            cb = cb.add_block(env.build());
        }

        if let Some(res) = &spec.resources {
            let mut rb = Block::builder("resources");
            let mut any = false;
            for (n, l) in [("limits", &res.limits), ("requests", &res.requests)] {
                if let Some((n, e)) = l.as_ref().and_then(|l| limits(n, l)) {
                    rb = rb.add_attribute((n, e));
                    any = true;
                }
            }
            if any {
                cb = cb.add_block(rb.build());
            }
        }
        if let Some(p) = &spec.liveness_probe {
            cb = cb.add_block(probe("liveness_probe", p));
        }
        if let Some(p) = &spec.readiness_probe {
            cb = cb.add_block(probe("readiness_probe", p));
        }

        for (target, f) in &c.files {
            let what = at(&format!("file '{target}'"));
            let vol = format!("file-{}", pod_volumes.len());
            let key = data_key(&format!("{cname}-{}", vol));
            let secret = matches!(&f.content, FileContent::Text(r) if r.is_secret());
            match &f.content {
                FileContent::Text(r) if secret => {
                    secret_data.push((key.clone(), resolved_expr(r, project, &what)?))
                }
                FileContent::Text(r) => {
                    config_data.push((key.clone(), resolved_expr(r, project, &what)?))
                }
                FileContent::Binary(bytes) => config_binary.push((
                    key.clone(),
                    Expression::from(base64::engine::general_purpose::STANDARD.encode(bytes)),
                )),
                other => {
                    return Err(format!(
                        "{what}: the terraform target cannot write file content {other:?}"
                    ))
                }
            }
            let mut items = Block::builder("items")
                .add_attribute(("key", key.as_str()))
                .add_attribute(("path", key.as_str()));
            if let Some(m) = &f.mode {
                items = items.add_attribute(("mode", m.as_str()));
            }
            let source = if secret {
                Block::builder("secret")
                    .add_attribute(("secret_name", expr(&secret_ref)))
                    .add_block(items.build())
                    .build()
            } else {
                Block::builder("config_map")
                    .add_attribute(("name", expr(&config_ref)))
                    .add_block(items.build())
                    .build()
            };
            pod_volumes.push(
                Block::builder("volume")
                    .add_attribute(("name", vol.as_str()))
                    .add_block(source)
                    .build(),
            );
            cb = cb.add_block(
                Block::builder("volume_mount")
                    .add_attribute(("name", vol.as_str()))
                    .add_attribute(("mount_path", target.as_str()))
                    .add_attribute(("sub_path", key.as_str()))
                    .add_attribute(("read_only", true))
                    .build(),
            );
        }

        for (target, v) in &c.volumes {
            let uid = match &v.source {
                VolumeSource::Resource(uid) => uid,
                VolumeSource::Other(r) => {
                    return Err(format!(
                        "{}: source '{}' is not a resource; the terraform target mounts only resources (`${{resources.<name>}}`)",
                        at(&format!("volume '{target}'")),
                        r.to_plain()
                    ))
                }
                other => {
                    return Err(format!(
                        "{}: unsupported volume source {other:?}",
                        at(&format!("volume '{target}'"))
                    ))
                }
            };
            let vol = format!("volume-{}", pod_volumes.len());
            let source = if let Some(claim) = volume_output(project, uid, "claim_name") {
                Block::builder("persistent_volume_claim")
                    .add_attribute(("claim_name", claim?))
                    .build()
            } else if project
                .resources
                .get(uid)
                .is_some_and(|r| r.outputs.values.contains_key("empty_dir"))
            {
                Block::builder("empty_dir").build()
            } else {
                return Err(format!(
                    "{}: resource '{uid}' has neither a 'claim_name' nor an 'empty_dir' output",
                    at(&format!("volume '{target}'"))
                ));
            };
            pod_volumes.push(
                Block::builder("volume")
                    .add_attribute(("name", vol.as_str()))
                    .add_block(source)
                    .build(),
            );
            let mut m = Block::builder("volume_mount")
                .add_attribute(("name", vol.as_str()))
                .add_attribute(("mount_path", target.as_str()));
            if let Some(p) = &v.path {
                m = m.add_attribute(("sub_path", p.as_str()));
            }
            if v.read_only {
                m = m.add_attribute(("read_only", true));
            }
            cb = cb.add_block(m.build());
        }
        containers.push(cb.build());
    }

    let mut main = Vec::new();
    if !config_data.is_empty() || !config_binary.is_empty() {
        let mut b = Block::builder("resource")
            .add_label("kubernetes_config_map_v1")
            .add_label(id.as_str())
            .add_block(metadata(name, namespace, &[]));
        if !config_data.is_empty() {
            b = b.add_attribute((
                "data",
                string_object(config_data.iter().map(|(k, v)| (k.as_str(), v.clone()))),
            ));
        }
        if !config_binary.is_empty() {
            b = b.add_attribute((
                "binary_data",
                string_object(config_binary.iter().map(|(k, v)| (k.as_str(), v.clone()))),
            ));
        }
        main.push(b.build());
    }
    if !secret_data.is_empty() {
        main.push(
            Block::builder("resource")
                .add_label("kubernetes_secret_v1")
                .add_label(id.as_str())
                .add_block(metadata(name, namespace, &[]))
                .add_attribute((
                    "data",
                    string_object(secret_data.iter().map(|(k, v)| (k.as_str(), v.clone()))),
                ))
                .build(),
        );
    }

    let selector = string_object([("app.kubernetes.io/instance", Expression::from(name))]);
    let mut pod_spec = Block::builder("spec");
    for c in containers {
        pod_spec = pod_spec.add_block(c);
    }
    for v in pod_volumes {
        pod_spec = pod_spec.add_block(v);
    }
    let template = Block::builder("template")
        .add_block(
            Block::builder("metadata")
                .add_attribute(("labels", labels(name)))
                .build(),
        )
        .add_block(pod_spec.build())
        .build();
    main.push(
        Block::builder("resource")
            .add_label("kubernetes_deployment_v1")
            .add_label(id.as_str())
            .add_block(metadata(name, namespace, &annotations))
            .add_block(
                Block::builder("spec")
                    .add_attribute(("replicas", 1))
                    .add_block(
                        Block::builder("selector")
                            .add_attribute(("match_labels", selector.clone()))
                            .build(),
                    )
                    .add_block(template)
                    .build(),
            )
            .build(),
    );

    if let Some(svc) = w.spec.service.as_ref().filter(|s| !s.ports.is_empty()) {
        let mut spec = Block::builder("spec").add_attribute(("selector", selector));
        for (pname, p) in &svc.ports {
            spec = spec.add_block(
                Block::builder("port")
                    .add_attribute(("name", pname.as_str()))
                    .add_attribute(("port", p.port))
                    .add_attribute(("target_port", p.effective_target_port().to_string()))
                    .add_attribute(("protocol", p.effective_protocol().as_str()))
                    .build(),
            );
        }
        main.push(
            Block::builder("resource")
                .add_label("kubernetes_service_v1")
                .add_label(id.as_str())
                .add_block(metadata(name, namespace, &annotations))
                .add_block(spec.build())
                .build(),
        );
    }
    Ok(WorkloadOut { main, variables })
}
