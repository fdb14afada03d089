//! One workload as kubernetes provider resources: `kubernetes_config_map_v1` (non-secret files),
//! `kubernetes_secret_v1` (secret variables and files), `kubernetes_deployment_v1` and, when the
//! workload has service ports, `kubernetes_service_v1`.

use crate::codes;
use base64::Engine as _;
use hcl::{Block, BlockBuilder, Expression};
use score_core::model::{Container, Probe, ResourcesLimits};
use score_core::target::{
    json_pointer, FileContent, ResolvedContainer, ResolvedProject, ResolvedWorkload, VolumeSource,
};
use score_core::Diagnostic;

use crate::blocks::{is_expression, parse_expr, resolved_expr, string_object};

/// What a workload contributes: blocks for `main.tf` and `variable` blocks for `variables.tf`.
pub(crate) struct WorkloadOut {
    pub main: Vec<Block>,
    pub variables: Vec<Block>,
    /// `output` blocks (outputs.tf): the host name of the workload's Service.
    pub outputs: Vec<Block>,
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

/// An object's metadata; its namespace is always the root variable `var.namespace` (null, the
/// provider's default namespace, unless `--namespace` gave it a default).
fn metadata(name: &str, annotations: &[(String, String)]) -> Block {
    let namespace = Expression::Traversal(Box::new(hcl::Traversal::new(
        hcl::Variable::unchecked("var"),
        [hcl::expr::TraversalOperator::GetAttr(
            hcl::Identifier::unchecked("namespace"),
        )],
    )));
    let mut b = Block::builder("metadata").add_attribute(("name", name));
    b = b.add_attribute(("namespace", namespace));
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
    uid: &score_core::target::ResourceUid,
    key: &str,
) -> Option<Result<Expression, String>> {
    let res = project.resources.get(uid)?;
    let v = res.outputs.values.get(key)?;
    let found = score_core::target::Found {
        value: v.clone(),
        secret: res.outputs.secret.contains(key),
        expression: res.outputs.expression.contains(key),
        origin: Some(score_core::target::Origin {
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
// `Diagnostic` is the crate-wide error shape; one per workload, collected by the caller.
#[allow(clippy::result_large_err)]
pub(crate) fn workload_blocks(
    w: &ResolvedWorkload,
    project: &ResolvedProject,
) -> Result<WorkloadOut, Diagnostic> {
    let located = |message: String, at: Option<String>| {
        let d = Diagnostic::new(codes::INVALID_WORKLOAD, message);
        w.locate(match at {
            Some(p) => d.with_pointer(p),
            None => d,
        })
    };
    let name = w.name.as_str();
    let annotations: Vec<(String, String)> = w.spec.annotations().into_iter().collect();
    let mut pod = PodParts::new(name, project);
    let mut containers: Vec<Block> = Vec::new();
    for (cname, c) in &w.containers {
        let spec = w.spec.containers.get(cname).ok_or_else(|| {
            located(
                format!("workload '{name}': container '{cname}' has no spec"),
                None,
            )
        })?;
        pod.at_pointer = Some(json_pointer(&["containers", cname]));
        let block = pod
            .container(cname, c, spec)
            .map_err(|e| located(e, pod.at_pointer.take()))?;
        containers.push(block);
    }

    let mut main = Vec::new();
    main.extend(pod.config_map());
    main.extend(pod.secret());
    let selector = string_object([("app.kubernetes.io/instance", Expression::from(name))]);
    main.push(deployment(
        name,
        &pod.id,
        &annotations,
        &selector,
        containers,
        pod.volumes,
    ));
    let svc = service(w, &pod.id, &annotations, selector);
    let mut outputs = Vec::new();
    if let Some(svc) = svc {
        main.push(svc);
        let value = format!("kubernetes_service_v1.{}.metadata[0].name", pod.id);
        outputs.push(
            Block::builder("output")
                .add_label(format!("{}_host", pod.id))
                .add_attribute((
                    "description",
                    format!("Host name of the Service of workload '{name}', inside the cluster."),
                ))
                .add_attribute((
                    "value",
                    parse_expr(&value, "service host").map_err(|e| located(e, None))?,
                ))
                .build(),
        );
    }
    Ok(WorkloadOut {
        main,
        variables: pod.variables,
        outputs,
    })
}

/// What a workload's containers need beside them, gathered while they are built: ConfigMap and
/// Secret data, pod volumes, and `variable` blocks for images built elsewhere.
struct PodParts<'a> {
    /// The workload name.
    name: &'a str,
    /// Its Terraform name.
    id: String,
    project: &'a ResolvedProject,
    variables: Vec<Block>,
    config_data: Vec<(String, Expression)>,
    config_binary: Vec<(String, Expression)>,
    secret_data: Vec<(String, Expression)>,
    volumes: Vec<Block>,
    /// The JSON pointer of the Score value being turned into blocks, for an error's location.
    at_pointer: Option<String>,
}

impl<'a> PodParts<'a> {
    /// Nothing gathered yet for workload `name`.
    fn new(name: &'a str, project: &'a ResolvedProject) -> Self {
        PodParts {
            name,
            id: tf_name(name),
            project,
            variables: Vec::new(),
            config_data: Vec::new(),
            config_binary: Vec::new(),
            secret_data: Vec::new(),
            volumes: Vec::new(),
            at_pointer: None,
        }
    }

    /// The name of the workload's ConfigMap, as a Terraform reference.
    fn config_ref(&self) -> String {
        format!("kubernetes_config_map_v1.{}.metadata[0].name", self.id)
    }

    /// The name of the workload's Secret, as a Terraform reference.
    fn secret_ref(&self) -> String {
        format!("kubernetes_secret_v1.{}.metadata[0].name", self.id)
    }

    /// Where an error is, for its message.
    fn at(&self, cname: &str, what: &str) -> String {
        format!("workload '{}' container '{cname}' {what}", self.name)
    }

    /// One `container` block of the deployment's pod.
    fn container(
        &mut self,
        cname: &str,
        c: &ResolvedContainer,
        spec: &Container,
    ) -> Result<Block, String> {
        let mut cb: BlockBuilder = Block::builder("container").add_attribute(("name", cname));
        cb = cb.add_attribute(("image", self.image(cname, spec)));
        if let Some(cmd) = &spec.command {
            cb = cb.add_attribute(("command", strings(cmd)));
        }
        if let Some(args) = &spec.args {
            cb = cb.add_attribute(("args", strings(args)));
        }
        cb = cb.add_blocks(self.env(cname, c)?);
        cb = cb.add_blocks(container_resources(spec));
        if let Some(p) = &spec.liveness_probe {
            cb = cb.add_block(probe("liveness_probe", p));
        }
        if let Some(p) = &spec.readiness_probe {
            cb = cb.add_block(probe("readiness_probe", p));
        }
        cb = cb.add_blocks(self.file_mounts(cname, c)?);
        cb = cb.add_blocks(self.volume_mounts(cname, c)?);
        Ok(cb.build())
    }

    /// The container's image; the placeholder `.` (built elsewhere) becomes a variable.
    fn image(&mut self, cname: &str, spec: &Container) -> Expression {
        if spec.image != "." {
            return Expression::from(spec.image.as_str());
        }
        let name = self.name;
        let var = format!("{}_{}_image", self.id, tf_name(cname));
        self.variables.push(
            Block::builder("variable")
                .add_label(var.as_str())
                .add_attribute(("type", expr("string")))
                .add_attribute((
                    "description",
                    format!("Image of container '{cname}' of workload '{name}' (the Score file says '.': built elsewhere)"),
                ))
                .build(),
        );
        expr(&format!("var.{var}"))
    }

    /// `env` blocks; secret values go to the workload's Secret and are referenced from it.
    fn env(&mut self, cname: &str, c: &ResolvedContainer) -> Result<Vec<Block>, String> {
        let mut blocks = Vec::new();
        for (k, r) in &c.variables {
            self.at_pointer = Some(json_pointer(&["containers", cname, "variables", k]));
            let what = self.at(cname, &format!("variable '{k}'"));
            let mut env = Block::builder("env").add_attribute(("name", k.as_str()));
            if r.is_secret() {
                let key = data_key(&format!("{cname}.{k}"));
                self.secret_data
                    .push((key.clone(), resolved_expr(r, self.project, &what)?));
                env = env.add_block(
                    Block::builder("value_from")
                        .add_block(
                            Block::builder("secret_key_ref")
                                .add_attribute(("name", expr(&self.secret_ref())))
                                .add_attribute(("key", key))
                                .build(),
                        )
                        .build(),
                );
            } else {
                env = env.add_attribute(("value", resolved_expr(r, self.project, &what)?));
            }
            blocks.push(env.build());
        }
        Ok(blocks)
    }

    /// `volume_mount` blocks for the container's files: each file is a key of the ConfigMap
    /// (the Secret when its content is secret) mounted through a pod volume of its own.
    fn file_mounts(&mut self, cname: &str, c: &ResolvedContainer) -> Result<Vec<Block>, String> {
        let mut mounts = Vec::new();
        for (target, f) in &c.files {
            self.at_pointer = Some(json_pointer(&["containers", cname, "files", target]));
            let what = self.at(cname, &format!("file '{target}'"));
            let vol = format!("file-{}", self.volumes.len());
            let key = data_key(&format!("{cname}-{}", vol));
            let secret = matches!(&f.content, FileContent::Text(r) if r.is_secret());
            match &f.content {
                FileContent::Text(r) if secret => self
                    .secret_data
                    .push((key.clone(), resolved_expr(r, self.project, &what)?)),
                FileContent::Text(r) => self
                    .config_data
                    .push((key.clone(), resolved_expr(r, self.project, &what)?)),
                FileContent::Binary(bytes) => self.config_binary.push((
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
                    .add_attribute(("secret_name", expr(&self.secret_ref())))
                    .add_block(items.build())
                    .build()
            } else {
                Block::builder("config_map")
                    .add_attribute(("name", expr(&self.config_ref())))
                    .add_block(items.build())
                    .build()
            };
            self.volumes.push(
                Block::builder("volume")
                    .add_attribute(("name", vol.as_str()))
                    .add_block(source)
                    .build(),
            );
            mounts.push(
                Block::builder("volume_mount")
                    .add_attribute(("name", vol.as_str()))
                    .add_attribute(("mount_path", target.as_str()))
                    .add_attribute(("sub_path", key.as_str()))
                    .add_attribute(("read_only", true))
                    .build(),
            );
        }
        Ok(mounts)
    }

    /// `volume_mount` blocks for the container's volumes, each a resource with a `claim_name`
    /// (a PersistentVolumeClaim) or an `empty_dir` output, mounted through a pod volume.
    fn volume_mounts(&mut self, cname: &str, c: &ResolvedContainer) -> Result<Vec<Block>, String> {
        let project = self.project;
        let mut mounts = Vec::new();
        for (target, v) in &c.volumes {
            self.at_pointer = Some(json_pointer(&[
                "containers",
                cname,
                "volumes",
                target,
                "source",
            ]));
            let uid = match &v.source {
                VolumeSource::Resource(uid) => uid,
                VolumeSource::Other(r) => {
                    return Err(format!(
                        "{}: source '{}' is not a resource; the terraform target mounts only resources (`${{resources.<name>}}`)",
                        self.at(cname, &format!("volume '{target}'")),
                        r.to_plain()
                    ))
                }
                other => {
                    return Err(format!(
                        "{}: unsupported volume source {other:?}",
                        self.at(cname, &format!("volume '{target}'"))
                    ))
                }
            };
            let vol = format!("volume-{}", self.volumes.len());
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
                    self.at(cname, &format!("volume '{target}'"))
                ));
            };
            self.volumes.push(
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
            mounts.push(m.build());
        }
        Ok(mounts)
    }

    /// The workload's `kubernetes_config_map_v1`, when its files need one.
    fn config_map(&self) -> Option<Block> {
        if self.config_data.is_empty() && self.config_binary.is_empty() {
            return None;
        }
        let mut b = Block::builder("resource")
            .add_label("kubernetes_config_map_v1")
            .add_label(self.id.as_str())
            .add_block(metadata(self.name, &[]));
        if !self.config_data.is_empty() {
            b = b.add_attribute(("data", data_object(&self.config_data)));
        }
        if !self.config_binary.is_empty() {
            b = b.add_attribute(("binary_data", data_object(&self.config_binary)));
        }
        Some(b.build())
    }

    /// The workload's `kubernetes_secret_v1`, when secret variables or files need one.
    fn secret(&self) -> Option<Block> {
        if self.secret_data.is_empty() {
            return None;
        }
        Some(
            Block::builder("resource")
                .add_label("kubernetes_secret_v1")
                .add_label(self.id.as_str())
                .add_block(metadata(self.name, &[]))
                .add_attribute(("data", data_object(&self.secret_data)))
                .build(),
        )
    }
}

/// ConfigMap or Secret data as an object expression.
fn data_object(data: &[(String, Expression)]) -> Expression {
    string_object(data.iter().map(|(k, v)| (k.as_str(), v.clone())))
}

/// The container's `resources` block, when it has limits or requests to say.
fn container_resources(spec: &Container) -> Option<Block> {
    let res = spec.resources.as_ref()?;
    let mut rb = Block::builder("resources");
    let mut any = false;
    for (n, l) in [("limits", &res.limits), ("requests", &res.requests)] {
        if let Some((n, e)) = l.as_ref().and_then(|l| limits(n, l)) {
            rb = rb.add_attribute((n, e));
            any = true;
        }
    }
    any.then(|| rb.build())
}

/// The workload's `kubernetes_deployment_v1`: one replica of a pod holding its containers.
fn deployment(
    name: &str,
    id: &str,
    annotations: &[(String, String)],
    selector: &Expression,
    containers: Vec<Block>,
    volumes: Vec<Block>,
) -> Block {
    let pod_spec = Block::builder("spec")
        .add_blocks(containers)
        .add_blocks(volumes);
    let template = Block::builder("template")
        .add_block(
            Block::builder("metadata")
                .add_attribute(("labels", labels(name)))
                .build(),
        )
        .add_block(pod_spec.build())
        .build();
    Block::builder("resource")
        .add_label("kubernetes_deployment_v1")
        .add_label(id)
        .add_block(metadata(name, annotations))
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
        .build()
}

/// The workload's `kubernetes_service_v1`, when its `service` has ports.
fn service(
    w: &ResolvedWorkload,
    id: &str,
    annotations: &[(String, String)],
    selector: Expression,
) -> Option<Block> {
    let svc = w.spec.service.as_ref().filter(|s| !s.ports.is_empty())?;
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
    Some(
        Block::builder("resource")
            .add_label("kubernetes_service_v1")
            .add_label(id)
            .add_block(metadata(w.name.as_str(), annotations))
            .add_block(spec.build())
            .build(),
    )
}
