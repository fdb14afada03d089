//! Workload → compose services: one service per container, named `<workload>-<container>`.

use crate::codes;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use score_core::model::{Container, Probe, Readiness, ResourcesLimits, Workload};
use score_core::quantity::{parse_cpu_millis, parse_memory_bytes};
use score_core::target::{render_go_json, Found, Piece, Resolved};
use score_core::target::{
    FileContent, ResolvedContainer, ResolvedProject, ResolvedVolume, ResolvedWorkload, ResourceUid,
    VolumeSource,
};
use score_core::{Code, Diagnostic, Diagnostics};

use crate::escape::{escape_command_dollars, escape_dollars, mount_file_name, shell_quote};
use crate::fragments::{Owner, Project, Service};
use crate::{ComposeOptions as Settings, MOUNTS_DIR};

/// The label (and annotation) naming the workload a service belongs to, as score-compose sets it.
pub(crate) const WORKLOAD_LABEL: &str = "compose.score.dev/workload-name";

/// A container whose every `before` entry is `complete` runs to completion before others start:
/// an init container. It must not restart and must not own the workload's network.
fn is_init(c: &Container) -> bool {
    !c.before.is_empty() && c.before.values().all(|b| b.ready == Readiness::Complete)
}

/// The JSON pointer of a workload field, for [`ResolvedWorkload::locate`].
fn pointer(segments: &[&str]) -> String {
    score_core::target::json_pointer(segments)
}

/// Adds the services of one workload.
pub(crate) fn add_workload(
    out: &mut Project,
    w: &ResolvedWorkload,
    project: &ResolvedProject,
    settings: &Settings,
) -> Result<(), Diagnostics> {
    let spec = &w.spec;
    let wname = w.name.as_str();
    let mut diags = Diagnostics::default();

    let mut names: Vec<&String> = spec.containers.keys().collect();
    names.sort();
    let owner = network_owner(spec, &names);
    let owner_service = format!("{wname}-{owner}");
    out.network_owners
        .insert(wname.to_string(), owner_service.clone());
    let shared = WorkloadServices {
        w,
        project,
        settings,
        owner,
        owner_service,
        labels: service_labels(spec, wname),
        before_deps: before_dependencies(spec, wname, &mut diags),
        resource_deps: resource_dependencies(out, w),
    };

    for cname in names {
        let Some(rc) = w.containers.get(cname.as_str()) else {
            diags.push(Diagnostic::new(
                Code::Internal,
                format!("workload '{wname}': container '{cname}' was not resolved"),
            ));
            continue;
        };
        let svc = shared.container_service(out, cname, rc, &mut diags);
        insert_service(out, format!("{wname}-{cname}"), svc, wname, &mut diags);
    }
    diags.into_result()
}

/// Like score-compose, the first container by name owns the network (hostname = workload name,
/// ports); the others join it with `network_mode: service:<owner>`. Init containers are
/// skipped: they exit, and a namespace owner that exits takes the network with it.
fn network_owner(spec: &Workload, sorted_names: &[&String]) -> String {
    sorted_names
        .iter()
        .find(|n| !is_init(&spec.containers[n.as_str()]))
        .or(sorted_names.first())
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// The labels (also written as annotations) of every service of a workload: its annotations
/// plus the workload name, escaped for compose.
fn service_labels(spec: &Workload, wname: &str) -> Map<String, Value> {
    let mut labels: BTreeMap<String, String> = spec.annotations().into_iter().collect();
    labels.insert(WORKLOAD_LABEL.to_string(), wname.to_string());
    labels
        .into_iter()
        .map(|(k, v)| (k, Value::String(escape_dollars(&v))))
        .collect()
}

/// Dependencies from `before`: `A before B` ⇒ B depends on A, keyed by B's container name.
fn before_dependencies<'s>(
    spec: &'s Workload,
    wname: &str,
    diags: &mut Diagnostics,
) -> BTreeMap<&'s str, BTreeMap<String, &'static str>> {
    let mut before_deps: BTreeMap<&str, BTreeMap<String, &'static str>> = BTreeMap::new();
    for (a, ca) in &spec.containers {
        for (b, entry) in &ca.before {
            let condition = match entry.ready {
                Readiness::Started => "service_started",
                Readiness::Healthy => {
                    if ca.readiness_probe.is_none() && ca.liveness_probe.is_none() {
                        diags.push(
                            Diagnostic::new(
                                codes::INVALID_BEFORE,
                                format!("containers.{a}.before: ready 'healthy' requires a readiness or liveness probe to be defined"),
                            )
                            .with_help(format!("add a readinessProbe to container '{a}' of workload '{wname}', or use ready: started"))
                            .with_pointer(pointer(&["containers", a, "before", b, "ready"])),
                        );
                        continue;
                    }
                    "service_healthy"
                }
                Readiness::Complete => "service_completed_successfully",
                other => {
                    diags.push(Diagnostic::new(
                        codes::INVALID_BEFORE,
                        format!("containers.{a}.before: ready {other:?} is not supported by the compose target"),
                    ).with_pointer(pointer(&["containers", a, "before", b, "ready"])));
                    continue;
                }
            };
            if !spec.containers.contains_key(b) {
                diags.push(Diagnostic::new(
                    codes::INVALID_BEFORE,
                    format!("containers.{a}.before: container '{b}' does not exist in workload '{wname}'"),
                ).with_pointer(pointer(&["containers", a, "before", b])));
                continue;
            }
            before_deps
                .entry(b.as_str())
                .or_default()
                .insert(format!("{wname}-{a}"), condition);
        }
    }
    before_deps
}

/// Every container waits for the services of the resources the workload uses.
fn resource_dependencies(out: &Project, w: &ResolvedWorkload) -> BTreeMap<String, &'static str> {
    let mut resource_deps: BTreeMap<String, &'static str> = BTreeMap::new();
    for uid in w.resources.values() {
        for svc in out
            .resource_services
            .get(uid.as_str())
            .into_iter()
            .flatten()
        {
            if let Some(s) = out.services.get(svc) {
                resource_deps.insert(svc.clone(), readiness_condition(&s.value));
            }
        }
    }
    resource_deps
}

/// What every service of one workload shares: the network owner, labels and dependencies.
struct WorkloadServices<'a> {
    w: &'a ResolvedWorkload,
    project: &'a ResolvedProject,
    settings: &'a Settings,
    /// The container owning the workload's network.
    owner: String,
    /// The service of that container.
    owner_service: String,
    labels: Map<String, Value>,
    /// Keyed by the container that waits.
    before_deps: BTreeMap<&'a str, BTreeMap<String, &'static str>>,
    resource_deps: BTreeMap<String, &'static str>,
}

impl WorkloadServices<'_> {
    /// The service of one container; its problems go to `diags`, its mounted files to `out`.
    fn container_service(
        &self,
        out: &mut Project,
        cname: &str,
        rc: &ResolvedContainer,
        diags: &mut Diagnostics,
    ) -> Map<String, Value> {
        let wname = self.w.name.as_str();
        let c = &self.w.spec.containers[cname];
        let mut svc = Map::new();

        self.add_image(&mut svc, c, cname, diags);
        if let Some(cmd) = &c.command {
            svc.insert("entrypoint".into(), escaped_list(cmd));
        }
        if let Some(args) = &c.args {
            svc.insert("command".into(), escaped_list(args));
        }

        let env = environment(rc, self.project, &mut out.env_vars);
        if !env.is_empty() {
            svc.insert("environment".into(), Value::Object(env));
        }

        let init = is_init(c);
        self.add_network(&mut svc, cname, init);

        let mut volumes = volume_mounts(rc, self.project, self.settings, wname, cname, diags);
        volumes.extend(file_mounts(out, rc, self.project, wname, cname, diags));
        if !volumes.is_empty() {
            svc.insert("volumes".into(), Value::Array(volumes));
        }

        if let Some(hc) = service_healthcheck(c, cname, diags) {
            svc.insert("healthcheck".into(), hc);
        }
        if let Some(res) = deploy_resources(c, cname, diags) {
            svc.insert("deploy".into(), json!({ "resources": res }));
        }

        let deps = self.depends_on(cname);
        if !deps.is_empty() {
            svc.insert("depends_on".into(), Value::Object(deps));
        }
        if init {
            svc.insert("restart".into(), Value::String("no".into()));
        }
        svc.insert("labels".into(), Value::Object(self.labels.clone()));
        svc.insert("annotations".into(), Value::Object(self.labels.clone()));
        svc
    }

    /// `build` when the user gave a build context for the container, else `image`; the
    /// placeholder image `.` needs one of the two.
    fn add_image(
        &self,
        svc: &mut Map<String, Value>,
        c: &Container,
        cname: &str,
        diags: &mut Diagnostics,
    ) {
        let wname = self.w.name.as_str();
        let build = self
            .settings
            .workload_builds
            .get(wname)
            .and_then(|b| b.get(cname))
            .or_else(|| self.settings.builds.get(cname));
        match build {
            Some(Value::Object(build)) => {
                svc.insert("build".into(), Value::Object(build.clone()));
            }
            Some(context) => {
                svc.insert("build".into(), json!({ "context": context }));
            }
            None if c.image == "." => diags.push(
                Diagnostic::new(
                    codes::IMAGE_NEEDS_BUILD,
                    format!("workload '{wname}' container '{cname}': image is '.', which needs a build context or an image"),
                )
                .with_help(format!("pass --build {cname}=<context dir> or --image <image>"))
                .with_pointer(pointer(&["containers", cname, "image"])),
            ),
            None => {
                svc.insert("image".into(), Value::String(escape_dollars(&c.image)));
            }
        }
    }

    /// The network owner gets the hostname and exposed ports; the others join its network,
    /// except init containers (see [`network_owner`]).
    fn add_network(&self, svc: &mut Map<String, Value>, cname: &str, init: bool) {
        if cname == self.owner {
            svc.insert(
                "hostname".into(),
                Value::String(self.w.name.as_str().to_string()),
            );
            let expose = exposed_ports(&self.w.spec);
            if !expose.is_empty() {
                svc.insert("expose".into(), Value::Array(expose));
            }
        } else if !init {
            svc.insert(
                "network_mode".into(),
                Value::String(format!("service:{}", self.owner_service)),
            );
        }
    }

    /// `depends_on`: the resources' services, then the containers this one waits for.
    fn depends_on(&self, cname: &str) -> Map<String, Value> {
        let mut deps: BTreeMap<String, &'static str> = self.resource_deps.clone();
        if let Some(b) = self.before_deps.get(cname) {
            deps.extend(b.iter().map(|(k, v)| (k.clone(), *v)));
        }
        deps.into_iter()
            .map(|(k, v)| (k, json!({ "condition": v })))
            .collect()
    }
}

/// The container's `volumes` as compose mounts (see [`volume`]).
fn volume_mounts(
    rc: &ResolvedContainer,
    project: &ResolvedProject,
    settings: &Settings,
    wname: &str,
    cname: &str,
    diags: &mut Diagnostics,
) -> Vec<Value> {
    let mut volumes = Vec::new();
    for (target, v) in &rc.volumes {
        if !settings.allow_outside_paths
            && let Some(src) = outside_bind_source(v)
        {
            diags.push(
                    Diagnostic::new(
                        codes::VOLUME_OUTSIDE_PROJECT,
                        format!(
                            "containers.{cname}.volumes[{target}]: source '{src}' is a host path outside the project"
                        ),
                    )
                    .with_help(format!(
                        "workload '{wname}': mount a path inside the project or a volume resource, or pass --allow-outside-paths"
                    ))
                    .with_pointer(pointer(&["containers", cname, "volumes", target, "source"])),
                );
            continue;
        }
        // Compose interpolates `target:` too.
        match volume(&escape_dollars(target), v, project) {
            Ok(m) => volumes.push(m),
            Err(e) => diags.push(
                Diagnostic::new(
                    codes::INVALID_VOLUME,
                    format!("containers.{cname}.volumes[{target}]: {e}"),
                )
                .with_help(format!("workload '{wname}'"))
                .with_pointer(pointer(&[
                    "containers",
                    cname,
                    "volumes",
                    target,
                    "source",
                ])),
            ),
        }
    }
    volumes
}

/// The container's `files`: each is written under [`MOUNTS_DIR`] (recorded in `out`) and
/// bind-mounted read-only; the returned mounts follow the volumes.
fn file_mounts(
    out: &mut Project,
    rc: &ResolvedContainer,
    project: &ResolvedProject,
    wname: &str,
    cname: &str,
    diags: &mut Diagnostics,
) -> Vec<Value> {
    let mut volumes = Vec::new();
    for (target, f) in &rc.files {
        let rel = format!("{wname}/{cname}/{}", mount_file_name(target));
        let bytes = match &f.content {
            FileContent::Binary(b) => b.clone(),
            FileContent::Text(r) => match file_text(r, project) {
                Ok(t) => t.into_bytes(),
                Err(var) => {
                    diags.push(
                        Diagnostic::new(
                            codes::FILE_INTERPOLATION,
                            format!("containers.{cname}.files[{target}]: the content uses the compose environment variable '{var}', which compose cannot interpolate into a mounted file"),
                        )
                        .with_help("use the variable in `variables` and read it from the environment in the container, or set noExpand: true")
                        .with_pointer(pointer(&["containers", cname, "files", target])),
                    );
                    continue;
                }
            },
            other => {
                diags.push(Diagnostic::new(
                    Code::Internal,
                    format!("containers.{cname}.files[{target}]: the compose target cannot write file content {other:?}"),
                ));
                continue;
            }
        };
        let mut mode_bits = None;
        if let Some(mode) = &f.mode {
            match check_mode(mode) {
                Ok(bits) => mode_bits = Some(bits),
                Err(e) => diags.push(
                    Diagnostic::new(
                        codes::INVALID_FILE_MODE,
                        format!("containers.{cname}.files[{target}]: {e}"),
                    )
                    .with_pointer(pointer(&[
                        "containers",
                        cname,
                        "files",
                        target,
                        "mode",
                    ])),
                ),
            }
        }
        if out.files.contains_key(&rel) {
            diags.push(Diagnostic::new(
                codes::FILE_CONFLICT,
                format!("containers.{cname}.files[{target}]: mount file '{rel}' is already written by '{}'", out.file_owners[&rel]),
            ).with_pointer(pointer(&["containers", cname, "files", target])));
            continue;
        }
        if let Some(bits) = mode_bits {
            out.file_modes.insert(rel.clone(), bits);
        }
        out.files.insert(rel.clone(), bytes);
        out.file_owners
            .insert(rel.clone(), format!("workload '{wname}'"));
        volumes.push(json!({
            "type": "bind",
            "source": format!("./{MOUNTS_DIR}/{rel}"),
            "target": escape_dollars(target),
            "read_only": true,
        }));
    }
    volumes
}

/// Score prefers the readiness probe for "is it ready"; compose has one healthcheck.
fn service_healthcheck(c: &Container, cname: &str, diags: &mut Diagnostics) -> Option<Value> {
    let p = c.readiness_probe.as_ref().or(c.liveness_probe.as_ref())?;
    match healthcheck(p) {
        Ok(hc) => Some(hc),
        Err(e) => {
            let probe = if c.readiness_probe.is_some() {
                "readinessProbe"
            } else {
                "livenessProbe"
            };
            diags.push(
                Diagnostic::new(
                    codes::INVALID_PROBE,
                    format!("containers.{cname}.{probe}: {e}"),
                )
                .with_pointer(pointer(&["containers", cname, probe])),
            );
            None
        }
    }
}

/// `deploy.resources`: Score's limits and requests become compose limits and reservations;
/// `None` when there is nothing to say.
fn deploy_resources(
    c: &Container,
    cname: &str,
    diags: &mut Diagnostics,
) -> Option<Map<String, Value>> {
    let r = c.resources.as_ref()?;
    let mut res = Map::new();
    for (key, limits) in [("limits", &r.limits), ("reservations", &r.requests)] {
        if let Some(l) = limits {
            match deploy_limits(l) {
                Ok(m) if !m.is_empty() => {
                    res.insert(key.into(), Value::Object(m));
                }
                Ok(_) => {}
                Err(e) => {
                    let field = if key == "limits" {
                        "limits"
                    } else {
                        "requests"
                    };
                    diags.push(
                        Diagnostic::new(
                            codes::INVALID_PROBE,
                            format!("containers.{cname}.resources.{field}: {e}"),
                        )
                        .with_pointer(pointer(&[
                            "containers",
                            cname,
                            "resources",
                            field,
                        ])),
                    )
                }
            }
        }
    }
    (!res.is_empty()).then_some(res)
}

/// Adds a workload's service unless a workload or provisioner already defined that name.
fn insert_service(
    out: &mut Project,
    sname: String,
    svc: Map<String, Value>,
    wname: &str,
    diags: &mut Diagnostics,
) {
    if let Some(existing) = out.services.get(&sname) {
        let by = match &existing.owner {
            Owner::Workload(o) => format!("workload '{o}'"),
            Owner::Resources(u) => format!("resource '{}'", u[0]),
        };
        diags.push(
            Diagnostic::new(
                codes::SERVICE_CONFLICT,
                format!("service '{sname}' of workload '{wname}' is already defined by {by}"),
            )
            .with_help("rename the workload or container, or the provisioner's service"),
        );
        return;
    }
    out.services.insert(
        sname,
        Service {
            value: Value::Object(svc),
            owner: Owner::Workload(wname.to_string()),
        },
    );
}

/// How long a dependent waits for a resource service: until an init-like service (`restart:
/// "no"`) exits successfully, until a service with a healthcheck is healthy, else until started.
fn readiness_condition(svc: &Value) -> &'static str {
    if svc.get("restart").and_then(Value::as_str) == Some("no") {
        return "service_completed_successfully";
    }
    match svc.get("healthcheck") {
        Some(hc) if hc.get("disable") != Some(&Value::Bool(true)) => "service_healthy",
        _ => "service_started",
    }
}

/// `command`/`args` for compose: see [`escape_command_dollars`].
fn escaped_list(items: &[String]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::String(escape_command_dollars(s)))
            .collect(),
    )
}

/// Variables, sorted by name. Literal text is escaped for compose; expression outputs (e.g.
/// `${DEBUG}` from the environment provisioner) are compose interpolations and stay as they are.
fn environment(
    rc: &ResolvedContainer,
    project: &ResolvedProject,
    env_vars: &mut BTreeSet<String>,
) -> Map<String, Value> {
    let mut keys: Vec<&String> = rc.variables.keys().collect();
    keys.sort();
    let mut env = Map::new();
    for k in keys {
        let mut s = String::new();
        for piece in &rc.variables[k.as_str()].pieces {
            match piece {
                Piece::Text(t) => s.push_str(&escape_dollars(t)),
                Piece::Value(f) => {
                    let text = match &f.value {
                        Value::String(v) => v.clone(),
                        other => render_go_json(other),
                    };
                    if is_expression(f, project) {
                        env_vars.extend(interpolated_names(&text));
                        s.push_str(&text);
                    } else {
                        s.push_str(&escape_dollars(&text));
                    }
                }
                // A piece kind this target does not know yet: its plain text, escaped like literal text.
                other => s.push_str(&escape_dollars(
                    &Resolved {
                        pieces: vec![other.clone()],
                    }
                    .to_plain(),
                )),
            }
        }
        env.insert(k.clone(), Value::String(s));
    }
    env
}

/// An output value is a compose expression when core marked it, or when its provisioner lists
/// `*` in `expression_outputs` ("every key": the environment provisioner answers any key, so it
/// cannot list them). Core passes `*` through as a key; honouring it here keeps the target right
/// whether or not core expands it.
fn is_expression(f: &Found, project: &ResolvedProject) -> bool {
    f.expression
        || f.origin.as_ref().is_some_and(|o| {
            project
                .resources
                .get(o.uid.as_str())
                .is_some_and(|r| r.outputs.expression.contains("*"))
        })
}

/// Names in compose interpolations `${NAME}`, `${NAME:-x}`, `${NAME?err}`; `$$` is an escape.
fn interpolated_names(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'$' {
            i += 2;
        } else if b[i] == b'$' && b[i + 1] == b'{' {
            let name: String = s[i + 2..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    out
}

/// A mounted file's text; `Err(expression)` when it holds a compose interpolation, which compose
/// never applies to file contents.
fn file_text(r: &Resolved, project: &ResolvedProject) -> Result<String, String> {
    for p in &r.pieces {
        if let Piece::Value(f) = p
            && is_expression(f, project)
        {
            return Err(match &f.value {
                Value::String(s) => s.clone(),
                v => render_go_json(v),
            });
        }
    }
    Ok(r.to_plain())
}

/// `mode` is an octal string (the schema allows `^0?[0-7]{3}$`). The bind mount is read-only;
/// the mode is applied when the CLI writes the file (`Artefacts::modes`).
fn check_mode(mode: &str) -> Result<u32, String> {
    let m =
        u32::from_str_radix(mode, 8).map_err(|_| format!("failed to parse '{mode}' as octal"))?;
    if m > 0o777 {
        return Err("mode must be <= 0777".into());
    }
    Ok(m)
}

fn exposed_ports(spec: &Workload) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    if let Some(service) = &spec.service {
        for p in service.ports.values() {
            let mut s = p.effective_target_port().to_string();
            if p.effective_protocol() == score_core::model::Protocol::Udp {
                s.push_str("/udp");
            }
            if seen.insert(s.clone()) {
                out.push(Value::String(s));
            }
        }
    }
    out
}

/// A volume mount. A `${resources.<name>}` source takes its shape from the resource's outputs
/// (`type`: `volume` | `bind` | `tmpfs`, plus `source` and the compose sub-objects), as in
/// score-compose.
fn volume(target: &str, v: &ResolvedVolume, project: &ResolvedProject) -> Result<Value, String> {
    let mut m = match &v.source {
        VolumeSource::Other(r) => literal_volume(target, v, r.to_plain()),
        VolumeSource::Resource(uid) => resource_volume(target, v, uid, project)?,
        other => return Err(format!("unsupported volume source {other:?}")),
    };
    if v.read_only {
        m.insert("read_only".into(), Value::Bool(true));
    }
    Ok(Value::Object(m))
}

/// The host path a literal volume would bind-mount, when it is outside the project: absolute,
/// or with `..` climbing above the compose file's directory (after the volume's `path`).
fn outside_bind_source(v: &ResolvedVolume) -> Option<String> {
    let VolumeSource::Other(r) = &v.source else {
        return None;
    };
    let src = r.to_plain();
    if !(src.starts_with('/') || src.starts_with('.')) {
        return None; // a named volume
    }
    let full = match &v.path {
        Some(p) if !p.is_empty() => join(&src, p),
        _ => src.clone(),
    };
    if full.starts_with('/') {
        return Some(src);
    }
    let mut depth = 0usize;
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return Some(src),
            },
            _ => depth += 1,
        }
    }
    None
}

/// A mount whose source is not a resource: a path (`/`, `.`) is a bind mount, anything else a
/// named volume.
fn literal_volume(target: &str, v: &ResolvedVolume, src: String) -> Map<String, Value> {
    let mut m = Map::new();
    let kind = if src.starts_with('/') || src.starts_with('.') {
        "bind"
    } else {
        "volume"
    };
    m.insert("type".into(), kind.into());
    let src = match (&v.path, kind) {
        (Some(p), "bind") if !p.is_empty() => join(&src, p),
        _ => src,
    };
    m.insert("source".into(), Value::String(escape_dollars(&src)));
    m.insert("target".into(), target.into());
    if kind == "volume"
        && let Some(p) = v.path.as_ref().filter(|p| !p.is_empty())
    {
        m.insert("volume".into(), json!({ "subpath": p }));
    }
    m
}

/// A mount of a volume resource, shaped by its outputs (`type`, `source`, and the `volume`,
/// `bind` or `tmpfs` sub-object).
fn resource_volume(
    target: &str,
    v: &ResolvedVolume,
    uid: &ResourceUid,
    project: &ResolvedProject,
) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    let res = project
        .resources
        .get(uid)
        .ok_or_else(|| format!("resource '{uid}' was not provisioned"))?;
    let outs = &res.outputs.values;
    let kind = outs
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("resource '{uid}' has no 'type' output"))?;
    let string_out = |key: &str| -> Result<String, String> {
        match outs.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "resource '{uid}' output '{key}' must be a string, got {}",
                score_core::target::describe_type(other)
            )),
            None => Err(format!("resource '{uid}' has no '{key}' output")),
        }
    };
    let object_out = |key: &str| -> Result<Option<Map<String, Value>>, String> {
        match outs.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o.clone())),
            Some(other) => Err(format!(
                "resource '{uid}' output '{key}' must be a mapping, got {}",
                score_core::target::describe_type(other)
            )),
        }
    };
    let path = v.path.as_ref().filter(|p| !p.is_empty());
    m.insert("type".into(), kind.into());
    match kind {
        "volume" => {
            m.insert("source".into(), Value::String(string_out("source")?));
            m.insert("target".into(), target.into());
            let mut opts = object_out("volume")?;
            if let Some(p) = path {
                let o = opts.get_or_insert_with(Map::new);
                let sub = match o.get("subpath").and_then(Value::as_str) {
                    Some(base) if !base.is_empty() => join(base, p),
                    _ => p.clone(),
                };
                o.insert("subpath".into(), Value::String(sub));
            }
            if let Some(o) = opts {
                m.insert("volume".into(), Value::Object(o));
            }
        }
        "bind" => {
            let mut src = string_out("source")?;
            if let Some(p) = path {
                src = join(&src, p);
            }
            m.insert("source".into(), Value::String(escape_dollars(&src)));
            m.insert("target".into(), target.into());
            if let Some(o) = object_out("bind")? {
                m.insert("bind".into(), Value::Object(o));
            }
        }
        "tmpfs" => {
            if let Some(p) = path {
                return Err(format!(
                    "can't mount named tmpfs volume with sub path '{p}': not supported"
                ));
            }
            m.insert("target".into(), target.into());
            if let Some(o) = object_out("tmpfs")? {
                m.insert("tmpfs".into(), Value::Object(o));
            }
        }
        other => return Err(format!("resource '{uid}' has invalid type '{other}'")),
    }
    Ok(m)
}

fn join(base: &str, rest: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        rest.trim_start_matches('/')
    )
}

/// Probe → compose healthcheck. `exec` runs as `CMD`. `httpGet` needs an HTTP client in the
/// image: we run `curl` and fall back to `wget` (busybox has it), via `CMD-SHELL`.
fn healthcheck(p: &Probe) -> Result<Value, String> {
    let test = if let Some(e) = &p.exec {
        if e.command.is_empty() {
            return Err("exec command is empty".into());
        }
        let mut t = vec![Value::String("CMD".into())];
        t.extend(e.command.iter().map(|s| Value::String(escape_dollars(s))));
        t
    } else if let Some(h) = &p.http_get {
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
        let host = h.host.as_deref().unwrap_or("localhost");
        let path = if h.path.starts_with('/') {
            h.path.clone()
        } else {
            format!("/{}", h.path)
        };
        let url = shell_quote(&format!("{scheme}://{host}:{}{path}", h.port));
        let headers = h.http_headers.as_deref().unwrap_or_default();
        let mut curl = String::from("curl -fsS -o /dev/null");
        let mut wget = String::from("wget -q -O /dev/null");
        if scheme == "https" {
            curl.push_str(" -k");
            wget.push_str(" --no-check-certificate");
        }
        for hd in headers {
            let q = shell_quote(&format!("{}: {}", hd.name, hd.value));
            curl.push_str(&format!(" -H {q}"));
            wget.push_str(&format!(" --header {q}"));
        }
        let cmd = format!("{curl} {url} || {wget} {url}");
        vec![
            Value::String("CMD-SHELL".into()),
            Value::String(escape_dollars(&cmd)),
        ]
    } else {
        return Err("exec or httpGet must be specified".into());
    };
    Ok(json!({
        "test": test,
        "interval": "5s",
        "timeout": "5s",
        "retries": 3,
    }))
}

fn deploy_limits(l: &ResourcesLimits) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    if let Some(cpu) = &l.cpu {
        let millis = parse_cpu_millis(cpu).map_err(|e| format!("cpu '{cpu}': {e}"))?;
        m.insert("cpus".into(), Value::String(cpus_decimal(millis)));
    }
    if let Some(mem) = &l.memory {
        let bytes = parse_memory_bytes(mem).map_err(|e| format!("memory '{mem}': {e}"))?;
        m.insert("memory".into(), Value::String(memory_units(bytes)));
    }
    Ok(m)
}

/// 500 → `0.5`, 2000 → `2`, 1005 → `1.005`.
pub(crate) fn cpus_decimal(millis: u64) -> String {
    let whole = millis / 1000;
    let frac = millis % 1000;
    if frac == 0 {
        whole.to_string()
    } else {
        let f = format!("{frac:03}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
}

/// Bytes in the largest compose unit (`b`, `k`, `m`, `g`, all powers of 1024) that is exact.
pub(crate) fn memory_units(bytes: u64) -> String {
    for (unit, size) in [("g", 1u64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}b")
}

/// Applies the `publish` setting: `HOSTPORT:TARGET:PORT`, TARGET a workload (its network owner
/// gets the port) or any service name.
pub(crate) fn apply_publish(
    out: &mut Project,
    project: &ResolvedProject,
    publish: &[String],
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    for entry in publish {
        let parts: Vec<&str> = entry.split(':').collect();
        let parsed = match parts.as_slice() {
            [h, t, p] => match (h.parse::<u16>(), p.parse::<u16>()) {
                (Ok(h), Ok(p)) if h > 0 && p > 0 && !t.is_empty() => Some((h, *t, p)),
                _ => None,
            },
            _ => None,
        };
        let Some((host, target, port)) = parsed else {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_PUBLISH,
                    format!("--publish '{entry}': expected HOSTPORT:WORKLOAD:PORT"),
                )
                .with_help("for example --publish 8080:web:80 (ports 1-65535)"),
            );
            continue;
        };
        let (service, udp) = if let Some(s) = out.network_owners.get(target) {
            let udp = project
                .workloads
                .iter()
                .find(|w| w.name == target)
                .and_then(|w| w.spec.service.as_ref())
                .is_some_and(|svc| {
                    svc.ports.values().any(|p| {
                        p.effective_target_port() == port
                            && p.effective_protocol() == score_core::model::Protocol::Udp
                    })
                });
            (s.clone(), udp)
        } else if out.services.contains_key(target) {
            (target.to_string(), false)
        } else {
            let mut known: Vec<&str> = out.network_owners.keys().map(String::as_str).collect();
            known.extend(out.services.keys().map(String::as_str));
            diags.push(
                Diagnostic::new(
                    codes::INVALID_PUBLISH,
                    format!("--publish '{entry}': no workload or service named '{target}'"),
                )
                .with_help(format!("known: {}", known.join(", "))),
            );
            continue;
        };
        let Some(Value::Object(svc)) = out.services.get_mut(&service).map(|s| &mut s.value) else {
            continue;
        };
        let mut p = json!({ "target": port, "published": host.to_string() });
        if udp {
            p["protocol"] = Value::String("udp".into());
        }
        match svc.get_mut("ports") {
            Some(Value::Array(a)) => a.push(p),
            _ => {
                // Keep `ports` next to `expose` (or after `hostname`), where a reader looks.
                let anchor = ["expose", "hostname", "network_mode", "environment"]
                    .into_iter()
                    .find(|k| svc.contains_key(*k));
                let mut rebuilt = Map::new();
                let mut placed = false;
                for (k, v) in std::mem::take(svc) {
                    let here = Some(k.as_str()) == anchor;
                    rebuilt.insert(k, v);
                    if here {
                        rebuilt.insert("ports".into(), Value::Array(vec![p.clone()]));
                        placed = true;
                    }
                }
                if !placed {
                    rebuilt.insert("ports".into(), Value::Array(vec![p]));
                }
                *svc = rebuilt;
            }
        }
    }
    diags.into_result()
}

/// Compose refuses a service volume of type `volume` whose source is not declared at the top
/// level; declare (with defaults) every one a workload mounts that no provisioner declared.
pub(crate) fn declare_named_volumes(out: &mut Project) {
    let mut names = BTreeSet::new();
    for svc in out.services.values() {
        if !matches!(svc.owner, Owner::Workload(_)) {
            continue;
        }
        for m in svc
            .value
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if m.get("type").and_then(Value::as_str) == Some("volume")
                && let Some(src) = m.get("source").and_then(Value::as_str)
            {
                names.insert(src.to_string());
            }
        }
    }
    for n in names {
        out.volumes
            .entry(n)
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// The skeleton `.env`: every variable compose interpolates, empty.
pub(crate) fn env_skeleton(vars: &BTreeSet<String>) -> Vec<u8> {
    let mut s = String::from(
        "# Variables compose.yaml reads from the environment (environment resources).\n# Fill them in here or export them in your shell.\n",
    );
    for v in vars {
        s.push_str(v);
        s.push_str("=\n");
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_and_memory() {
        assert_eq!(cpus_decimal(500), "0.5");
        assert_eq!(cpus_decimal(2000), "2");
        assert_eq!(cpus_decimal(1005), "1.005");
        assert_eq!(cpus_decimal(250), "0.25");
        assert_eq!(memory_units(128 << 20), "128m");
        assert_eq!(memory_units(3 << 29), "1536m");
        assert_eq!(memory_units(1 << 30), "1g");
        assert_eq!(memory_units(128_000_000), "125000k");
        assert_eq!(memory_units(1_000_001), "1000001b");
    }

    #[test]
    fn interpolation_names() {
        assert_eq!(
            interpolated_names("${A}x${B_1:-d}${?}$${C}"),
            vec!["A", "B_1"]
        );
    }

    #[test]
    fn http_healthcheck_is_shell_safe() {
        let p: Probe = serde_json::from_value(json!({"httpGet": {"path": "health", "port": 8080,
            "httpHeaders": [{"name": "X-T", "value": "a'$b"}]}}))
        .unwrap();
        let hc = healthcheck(&p).unwrap();
        assert_eq!(hc["test"][0], "CMD-SHELL");
        assert_eq!(
            hc["test"][1],
            "curl -fsS -o /dev/null -H 'X-T: a'\\''$$b' 'http://localhost:8080/health' || wget -q -O /dev/null --header 'X-T: a'\\''$$b' 'http://localhost:8080/health'"
        );
    }

    #[test]
    fn resource_readiness_conditions() {
        assert_eq!(
            readiness_condition(&json!({"restart": "no"})),
            "service_completed_successfully"
        );
        assert_eq!(
            readiness_condition(&json!({"healthcheck": {"test": ["CMD", "x"]}})),
            "service_healthy"
        );
        assert_eq!(
            readiness_condition(&json!({"healthcheck": {"disable": true}})),
            "service_started"
        );
        assert_eq!(
            readiness_condition(&json!({"image": "x"})),
            "service_started"
        );
    }
}
