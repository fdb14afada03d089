//! One workload → Deployment or StatefulSet, Service, ConfigMaps and Secrets.

use crate::codes;
use std::collections::BTreeMap;

use base64::Engine as _;
use indexmap::IndexMap;
use score_core::model::{Container, Probe, Readiness, ResourcesLimits};
use score_core::target::{
    FileContent, ResolvedContainer, ResolvedProject, ResolvedWorkload, VolumeSource,
};
use score_core::target::{Piece, Resolved};
use score_core::{Code, Diagnostic, Diagnostics};
use serde_json::{json, Map, Value};

/// Annotations under this prefix steer the target and are not copied onto objects.
pub(crate) const ANNOTATION_PREFIX: &str = "k8s.score.dev/";
/// Workload annotation choosing `Deployment` (default) or `StatefulSet`.
pub(crate) const KIND_ANNOTATION: &str = "k8s.score.dev/kind";
/// Workload annotation naming the workload's Service (default: the workload's name), as in
/// score-k8s.
pub(crate) const SERVICE_NAME_ANNOTATION: &str = "k8s.score.dev/service-name";
/// Annotation naming the workload an object was generated for.
pub(crate) const SOURCE_WORKLOAD_ANNOTATION: &str = "k8s.score.dev/source-workload";
/// score-k8s's annotation naming the workload of a workload object and its pods: patch templates
/// written for score-k8s select objects by it.
pub(crate) const WORKLOAD_NAME_ANNOTATION: &str = "k8s.score.dev/workload-name";

const LABEL_NAME: &str = "app.kubernetes.io/name";
const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The text one piece contributes (a non-string value renders like score-go: Go JSON).
fn piece_text(p: &Piece) -> String {
    match p {
        Piece::Text(t) => t.clone(),
        Piece::Value(f) => match &f.value {
            Value::String(s) => s.clone(),
            _ => Resolved {
                pieces: vec![p.clone()],
            }
            .to_plain(),
        },
        // A piece kind this target does not know yet: its plain text.
        _ => Resolved {
            pieces: vec![p.clone()],
        }
        .to_plain(),
    }
}

/// An env `value` Kubernetes will not rewrite: the kubelet expands `$(VAR)` and turns `$$` into
/// `$`, so every `$` of literal text and of plain values is doubled. Expression outputs are
/// meant for that interpolation and stay as they are.
pub(crate) fn env_value(r: &Resolved) -> String {
    let mut out = String::new();
    for p in &r.pieces {
        let text = piece_text(p);
        match p {
            Piece::Value(f) if f.expression => out.push_str(&text),
            _ => out.push_str(&text.replace('$', "$$")),
        }
    }
    out
}

/// A Secret/ConfigMap key for variable `name`: Kubernetes allows `[-._a-zA-Z0-9]+`.
fn data_key(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}{clean}")
}

/// `"0644"` → 420.
fn parse_mode(mode: &str) -> Option<i64> {
    if mode.is_empty() || mode.len() > 4 {
        return None;
    }
    i64::from_str_radix(mode, 8).ok().filter(|m| *m <= 0o777)
}

fn probe(p: &Probe) -> Option<Value> {
    // Score: "execProbe should be preferred if the Score implementation supports both".
    if let Some(exec) = &p.exec {
        return Some(json!({"exec": {"command": exec.command}}));
    }
    let h = p.http_get.as_ref()?;
    let mut get = Map::new();
    if let Some(host) = &h.host {
        get.insert("host".into(), json!(host));
    }
    get.insert("path".into(), json!(h.path));
    get.insert("port".into(), json!(h.port));
    if let Some(scheme) = &h.scheme {
        get.insert("scheme".into(), json!(scheme));
    }
    if let Some(headers) = h.http_headers.as_ref().filter(|v| !v.is_empty()) {
        let list: Vec<Value> = headers
            .iter()
            .map(|x| json!({"name": x.name, "value": x.value}))
            .collect();
        get.insert("httpHeaders".into(), Value::Array(list));
    }
    Some(json!({"httpGet": get}))
}

fn quantities(l: &ResourcesLimits) -> Option<Value> {
    let mut m = Map::new();
    if let Some(cpu) = &l.cpu {
        m.insert("cpu".into(), json!(cpu));
    }
    if let Some(mem) = &l.memory {
        m.insert("memory".into(), json!(mem));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

fn resources(c: &Container) -> Option<Value> {
    let r = c.resources.as_ref()?;
    let mut m = Map::new();
    if let Some(v) = r.limits.as_ref().and_then(quantities) {
        m.insert("limits".into(), v);
    }
    if let Some(v) = r.requests.as_ref().and_then(quantities) {
        m.insert("requests".into(), v);
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// Pod-level volumes, de-duplicated by resource so two mounts of one resource share a volume.
#[derive(Default)]
struct PodVolumes {
    volumes: Vec<Value>,
    claims: Vec<Value>,
    by_uid: BTreeMap<String, String>,
}

struct Ctx<'a> {
    w: &'a ResolvedWorkload,
    project: &'a ResolvedProject,
    stateful: bool,
    labels: Value,
    annotations: Value,
    diags: Diagnostics,
    objects: Vec<Value>,
    pod: PodVolumes,
}

impl Ctx<'_> {
    /// An error at the workload field `path` (segments, e.g. `["containers", "web", "files", "/etc/x"]`).
    fn err(&mut self, code: impl Into<Code>, path: &[&str], message: String, help: Option<&str>) {
        let pointer: String = path
            .iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect();
        let mut d = Diagnostic::new(
            code,
            format!("workload '{}': {}: {message}", self.w.name, path.join(".")),
        )
        .with_pointer(pointer);
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.diags.push(self.w.locate(d));
    }

    fn metadata(&self, name: &str) -> Value {
        json!({
            "name": name,
            "labels": self.labels,
            "annotations": self.annotations,
        })
    }

    /// One container of the pod, with its ConfigMap, Secret and pod volumes beside it.
    fn container(&mut self, index: usize, cname: &str, rc: &ResolvedContainer) -> Value {
        let w = self.w;
        let Some(c) = w.spec.containers.get(cname) else {
            self.err(
                Code::Internal,
                &["containers", cname],
                "missing from the workload spec".into(),
                None,
            );
            return Value::Null;
        };
        let secret_name = format!("{}-{}-secrets", w.name, cname);

        if c.image == "." {
            self.err(
                codes::IMAGE_NOT_PULLABLE,
                &["containers", cname, "image"],
                "'.' is not an image Kubernetes can pull".into(),
                Some("replace it with a built image (e.g. --image or an override of containers.<name>.image)"),
            );
        }

        let mut secret_data: BTreeMap<String, String> = BTreeMap::new();
        let (env, ref_errors) = environment(rc, &secret_name, &mut secret_data);
        for (var, message) in ref_errors {
            self.err(
                codes::SECRET_REFERENCE,
                &["containers", cname, "variables", &var],
                message,
                None,
            );
        }
        let mut mounts = self.file_mounts(index, cname, rc, &secret_name, &mut secret_data);
        if !secret_data.is_empty() {
            self.objects.push(json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": self.metadata(&secret_name),
                "type": "Opaque",
                "data": secret_data,
            }));
        }
        mounts.extend(self.volume_mounts(cname, rc));
        for (name, p) in [
            ("livenessProbe", &c.liveness_probe),
            ("readinessProbe", &c.readiness_probe),
        ] {
            if p.as_ref()
                .and_then(|p| p.exec.as_ref())
                .is_some_and(|e| e.command.is_empty())
            {
                // The API server rejects `exec: {command: []}`; compose refuses it too.
                self.err(
                    codes::INVALID_PROBE,
                    &["containers", cname, name, "exec", "command"],
                    "exec command is empty".into(),
                    Some("give the probe a command, e.g. [\"/bin/check\"], or use httpGet"),
                );
            }
        }
        container_object(cname, c, env, mounts)
    }

    /// Files: one ConfigMap (and one Secret) per container, an item per file, mounted by
    /// subPath so files in one directory don't hide each other or the image's files. Secret
    /// contents go to `secret_data`; the ConfigMap and both pod volumes are added here.
    fn file_mounts(
        &mut self,
        index: usize,
        cname: &str,
        rc: &ResolvedContainer,
        secret_name: &str,
        secret_data: &mut BTreeMap<String, String>,
    ) -> Vec<Value> {
        let mut cm_data: BTreeMap<String, String> = BTreeMap::new();
        let mut cm_binary: BTreeMap<String, String> = BTreeMap::new();
        let mut mounts: Vec<Value> = Vec::new();
        let mut cm_items = Vec::new();
        let mut secret_items = Vec::new();
        let cm_volume = format!("files-{index}");
        let secret_volume = format!("secret-files-{index}");
        for (fi, (target, f)) in rc.files.iter().enumerate() {
            let key = format!("file-{fi}");
            let mut item = json!({"key": key, "path": key});
            if let Some(mode) = &f.mode {
                match parse_mode(mode) {
                    Some(m) => item["mode"] = json!(m),
                    None => {
                        self.err(
                            codes::INVALID_FILE_MODE,
                            &["containers", cname, "files", target, "mode"],
                            format!("'{mode}' is not an octal file mode"),
                            Some("write the mode as an octal string such as \"0644\""),
                        );
                        continue;
                    }
                }
            }
            if let FileContent::Text(r) = &f.content {
                match crate::secret_refs::decode(&r.to_plain()) {
                    Ok(None) => {}
                    Ok(Some((parts, refs)))
                        if refs.len() == 1 && parts.iter().all(String::is_empty) =>
                    {
                        // score-k8s: a file that is exactly one reference is projected from
                        // that Secret.
                        let volume = format!("secret-ref-{index}-{fi}");
                        let mut ref_item = json!({"key": refs[0].key, "path": key});
                        if let Some(m) = item.get("mode") {
                            ref_item["mode"] = m.clone();
                        }
                        self.pod.volumes.push(json!({
                            "name": volume,
                            "secret": {"secretName": refs[0].name, "items": [ref_item]},
                        }));
                        mounts.push(json!({
                            "name": volume,
                            "mountPath": target,
                            "subPath": key,
                            "readOnly": true,
                        }));
                        continue;
                    }
                    Ok(Some(_)) => {
                        self.err(
                            codes::SECRET_REFERENCE,
                            &["containers", cname, "files", target],
                            "the content mixes secret references (encodeSecretRef) with other text".into(),
                            Some("a file can be exactly one secret reference (projected from its Secret), or text without references"),
                        );
                        continue;
                    }
                    Err(m) => {
                        self.err(
                            codes::SECRET_REFERENCE,
                            &["containers", cname, "files", target],
                            m,
                            None,
                        );
                        continue;
                    }
                }
            }
            let volume = match &f.content {
                FileContent::Text(r) if r.is_secret() => {
                    secret_data.insert(key.clone(), b64(r.to_plain().as_bytes()));
                    secret_items.push(item);
                    &secret_volume
                }
                FileContent::Text(r) => {
                    cm_data.insert(key.clone(), r.to_plain());
                    cm_items.push(item);
                    &cm_volume
                }
                FileContent::Binary(bytes) => {
                    cm_binary.insert(key.clone(), b64(bytes));
                    cm_items.push(item);
                    &cm_volume
                }
                other => {
                    self.err(
                        Code::Internal,
                        &["containers", cname, "files", target],
                        format!("the k8s target cannot write file content {other:?}"),
                        None,
                    );
                    continue;
                }
            };
            mounts.push(json!({
                "name": volume,
                "mountPath": target,
                "subPath": key,
                "readOnly": true,
            }));
        }
        if !cm_items.is_empty() {
            self.add_files_config_map(cname, &cm_volume, cm_items, cm_data, cm_binary);
        }
        if !secret_items.is_empty() {
            self.pod.volumes.push(json!({
                "name": secret_volume,
                "secret": {"secretName": secret_name, "items": secret_items},
            }));
        }
        mounts
    }

    /// The container's files ConfigMap and the pod volume projecting its `items`.
    fn add_files_config_map(
        &mut self,
        cname: &str,
        volume: &str,
        items: Vec<Value>,
        data: BTreeMap<String, String>,
        binary: BTreeMap<String, String>,
    ) {
        let files_name = format!("{}-{}-files", self.w.name, cname);
        self.pod.volumes.push(json!({
            "name": volume,
            "configMap": {"name": files_name, "items": items},
        }));
        let mut cm = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": self.metadata(&files_name),
        });
        if !data.is_empty() {
            cm["data"] = json!(data);
        }
        if !binary.is_empty() {
            cm["binaryData"] = json!(binary);
        }
        self.objects.push(cm);
    }

    /// Mounts of the container's volumes, each a resource's pod volume (see [`Self::volume_for`]).
    fn volume_mounts(&mut self, cname: &str, rc: &ResolvedContainer) -> Vec<Value> {
        let mut mounts = Vec::new();
        for (target, v) in &rc.volumes {
            let path = ["containers", cname, "volumes", target.as_str(), "source"];
            let uid = match &v.source {
                VolumeSource::Resource(uid) => uid,
                VolumeSource::Other(r) => {
                    self.err(
                        codes::INVALID_VOLUME,
                        &path,
                        format!(
                            "'{}' does not name a resource; the k8s target mounts only volume resources",
                            r.to_plain()
                        ),
                        Some("write source: ${resources.<name>} with a resource of type volume"),
                    );
                    continue;
                }
                other => {
                    self.err(
                        codes::INVALID_VOLUME,
                        &path,
                        format!("unsupported volume source {other:?}"),
                        None,
                    );
                    continue;
                }
            };
            let Some(name) = self.volume_for(uid.as_str(), &path) else {
                continue;
            };
            let mut m = json!({"name": name, "mountPath": target});
            if let Some(p) = v.path.as_ref().filter(|p| !p.is_empty()) {
                m["subPath"] = json!(p);
            }
            if v.read_only {
                m["readOnly"] = json!(true);
            }
            mounts.push(m);
        }
        mounts
    }

    /// The pod volume name for resource `uid`, creating the volume (or claim template) once.
    fn volume_for(&mut self, uid: &str, path: &[&str]) -> Option<String> {
        if let Some(n) = self.pod.by_uid.get(uid) {
            return Some(n.clone());
        }
        let Some(res) = self.project.resources.get(uid) else {
            self.err(
                codes::INVALID_VOLUME,
                path,
                format!("resource '{uid}' was not provisioned"),
                None,
            );
            return None;
        };
        let outputs = &res.outputs;
        let source = outputs.values.get("source").filter(|v| !v.is_null());
        let claim = outputs.values.get("claimSpec").filter(|v| !v.is_null());
        let name = format!("vol-{}", self.pod.by_uid.len());
        let help = "a volume provisioner outputs either 'source' (a Kubernetes volume source such as {persistentVolumeClaim: {claimName: ...}}) or 'claimSpec' (a PersistentVolumeClaim spec, StatefulSet only)";
        if outputs.secret.contains("source") || outputs.secret.contains("claimSpec") {
            self.err(
                codes::INVALID_VOLUME,
                path,
                format!("resource '{uid}': volume outputs must not be secret"),
                None,
            );
            return None;
        }
        match (source, claim) {
            (Some(Value::Object(src)), None) if !src.is_empty() => {
                let mut vol = Map::new();
                vol.insert("name".into(), json!(name));
                for (k, v) in src {
                    vol.insert(k.clone(), v.clone());
                }
                self.pod.volumes.push(Value::Object(vol));
            }
            (None, Some(Value::Object(spec))) if !spec.is_empty() => {
                if !self.stateful {
                    self.err(
                        codes::INVALID_VOLUME,
                        path,
                        format!("resource '{uid}' outputs a claimSpec, which needs a StatefulSet"),
                        Some("add the workload annotation k8s.score.dev/kind: StatefulSet, or use a volume provisioner that outputs 'source'"),
                    );
                    return None;
                }
                self.pod.claims.push(json!({
                    "metadata": {"name": name},
                    "spec": spec,
                }));
            }
            _ => {
                self.err(
                    codes::INVALID_VOLUME,
                    path,
                    format!(
                        "failed to convert resource '{uid}' outputs into a volume: exactly one non-empty map of 'source' or 'claimSpec' is required"
                    ),
                    Some(help),
                );
                return None;
            }
        }
        self.pod.by_uid.insert(uid.to_string(), name.clone());
        Some(name)
    }

    /// The pod template: the containers and the pod volumes gathered while they were built.
    fn pod_template(
        &mut self,
        init_containers: Vec<Value>,
        containers: Vec<Value>,
        carried: &BTreeMap<String, String>,
    ) -> Value {
        let mut pod_spec = Map::new();
        if !init_containers.is_empty() {
            pod_spec.insert("initContainers".into(), Value::Array(init_containers));
        }
        pod_spec.insert("containers".into(), Value::Array(containers));
        if !self.pod.volumes.is_empty() {
            pod_spec.insert(
                "volumes".into(),
                Value::Array(std::mem::take(&mut self.pod.volumes)),
            );
        }
        json!({
            "metadata": {"labels": self.labels, "annotations": carried},
            "spec": pod_spec,
        })
    }

    /// A StatefulSet needs a governing headless Service for its pods' DNS names; adds it and
    /// returns its name.
    fn headless_service(&mut self, selector: &Value, ports: Vec<Value>) -> String {
        let headless = format!("{}-headless", self.w.name);
        let mut svc_spec = json!({"clusterIP": "None", "selector": selector});
        if !ports.is_empty() {
            svc_spec["ports"] = Value::Array(ports);
        }
        self.objects.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.metadata(&headless),
            "spec": svc_spec,
        }));
        headless
    }
}

/// `env`, sorted by name like the peers do. A secret value lives in the container's Secret
/// (added to `secret_data`) and is referenced from there.
///
/// A value holding score-k8s secret references (`encodeSecretRef`) reads them from their Secrets:
/// exactly one reference is a `secretKeyRef`; references inside text become `__ref_<hash>`
/// variables, listed first, that the value interpolates as `$(__ref_<hash>)`. The second result
/// lists (variable, problem) for malformed references.
fn environment(
    rc: &ResolvedContainer,
    secret_name: &str,
    secret_data: &mut BTreeMap<String, String>,
) -> (Vec<Value>, Vec<(String, String)>) {
    let mut vars: Vec<(&String, &Resolved)> = rc.variables.iter().collect();
    vars.sort_by(|a, b| a.0.cmp(b.0));
    let mut env = Vec::new();
    let mut ref_vars: BTreeMap<String, Value> = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, r) in vars {
        if !r.is_secret() {
            let value = env_value(r);
            match crate::secret_refs::decode(&value) {
                Ok(None) => {}
                Ok(Some((parts, refs))) => {
                    let key_ref = |r: &crate::secret_refs::SecretRef| json!({"secretKeyRef": {"name": r.name, "key": r.key}});
                    if refs.len() == 1 && parts.iter().all(String::is_empty) {
                        env.push(json!({"name": name, "valueFrom": key_ref(&refs[0])}));
                        continue;
                    }
                    let mut text = String::new();
                    for (i, part) in parts.iter().enumerate() {
                        if i > 0 {
                            let var = crate::secret_refs::ref_var_name(&refs[i - 1]);
                            text.push_str(&format!("$({var})"));
                            ref_vars.entry(var.clone()).or_insert_with(
                                || json!({"name": var, "valueFrom": key_ref(&refs[i - 1])}),
                            );
                        }
                        text.push_str(part);
                    }
                    env.push(json!({"name": name, "value": text}));
                    continue;
                }
                Err(m) => {
                    errors.push((name.clone(), m));
                    continue;
                }
            }
        }
        if r.is_secret() {
            // The whole rendered value (text and secret pieces) lives in the Secret: a value
            // mixing text with a secret is still secret.
            let mut key = data_key("env.", name);
            // Two names that differ only in characters a key cannot hold must not collide.
            if secret_data.contains_key(&key) {
                let mut n = 2;
                while secret_data.contains_key(&format!("{key}-{n}")) {
                    n += 1;
                }
                key = format!("{key}-{n}");
            }
            secret_data.insert(key.clone(), b64(r.to_plain().as_bytes()));
            env.push(json!({
                "name": name,
                "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}},
            }));
        } else {
            env.push(json!({"name": name, "value": env_value(r)}));
        }
    }
    // score-k8s lists the `__ref_` variables first, so the others can interpolate them.
    let env = ref_vars.into_values().chain(env).collect();
    (env, errors)
}

/// The container object from its parts, its keys always in the same order.
fn container_object(cname: &str, c: &Container, env: Vec<Value>, mounts: Vec<Value>) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(cname));
    out.insert("image".into(), json!(c.image));
    if let Some(cmd) = &c.command {
        out.insert("command".into(), json!(cmd));
    }
    if let Some(args) = &c.args {
        out.insert("args".into(), json!(args));
    }
    if !env.is_empty() {
        out.insert("env".into(), Value::Array(env));
    }
    if let Some(r) = resources(c) {
        out.insert("resources".into(), r);
    }
    if !mounts.is_empty() {
        out.insert("volumeMounts".into(), Value::Array(mounts));
    }
    if let Some(p) = c.liveness_probe.as_ref().and_then(probe) {
        out.insert("livenessProbe".into(), p);
    }
    if let Some(p) = c.readiness_probe.as_ref().and_then(probe) {
        out.insert("readinessProbe".into(), p);
    }
    Value::Object(out)
}

/// The objects of one workload.
pub(crate) fn convert(
    w: &ResolvedWorkload,
    project: &ResolvedProject,
) -> Result<Vec<Value>, Diagnostics> {
    let annotations: IndexMap<String, String> = w.spec.annotations();
    let kind = workload_kind(w, &annotations)?;
    let stateful = kind == "StatefulSet";
    let carried = carried_annotations(w, &annotations);
    let labels = json!({
        LABEL_NAME: w.name,
        LABEL_INSTANCE: w.name,
        LABEL_MANAGED_BY: "score-gen",
    });
    let selector = json!({ LABEL_INSTANCE: w.name });

    let mut ctx = Ctx {
        w,
        project,
        stateful,
        labels,
        annotations: Value::Object(workload_annotations(&w.name).into_iter().collect()),
        diags: Diagnostics::default(),
        objects: Vec::new(),
        pod: PodVolumes::default(),
    };

    let mut built = Vec::new();
    for (i, (cname, rc)) in w.containers.iter().enumerate() {
        built.push((cname.as_str(), ctx.container(i, cname, rc)));
    }
    let (init_containers, containers) = split_init_containers(w, built);

    let ports = service_ports(w);
    if !ports.is_empty() {
        let name = checked_service_name(w)?;
        ctx.objects.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": ctx.metadata(&name),
            "spec": {"selector": selector, "ports": ports},
        }));
    }

    let template = ctx.pod_template(init_containers, containers, &carried);
    let mut spec = Map::new();
    spec.insert("selector".into(), json!({"matchLabels": selector}));
    if stateful {
        let headless = ctx.headless_service(&selector, ports);
        spec.insert("serviceName".into(), json!(headless));
    }
    spec.insert("template".into(), template);
    if !ctx.pod.claims.is_empty() {
        spec.insert(
            "volumeClaimTemplates".into(),
            Value::Array(std::mem::take(&mut ctx.pod.claims)),
        );
    }
    let mut metadata = ctx.metadata(&w.name);
    metadata["annotations"] = json!(carried);
    ctx.objects.push(json!({
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": metadata,
        "spec": spec,
    }));
    ctx.diags.into_result()?;
    Ok(ctx.objects)
}

/// The workload object's kind, from the kind annotation: `Deployment` (the default) or
/// `StatefulSet`.
fn workload_kind(
    w: &ResolvedWorkload,
    annotations: &IndexMap<String, String>,
) -> Result<&'static str, Diagnostics> {
    match annotations
        .get(KIND_ANNOTATION)
        .map(String::as_str)
        .unwrap_or("Deployment")
    {
        "Deployment" => Ok("Deployment"),
        "StatefulSet" => Ok("StatefulSet"),
        other => Err(Diagnostic::new(
            codes::UNSUPPORTED_KIND,
            format!(
                "workload '{}': metadata.annotations.{KIND_ANNOTATION}: unsupported workload kind '{other}'",
                w.name
            ),
        )
        .with_pointer(score_core::target::json_pointer(&[
            "metadata",
            "annotations",
            KIND_ANNOTATION,
        ]))
        .with_help("use Deployment (the default) or StatefulSet"))
        .map_err(|d| w.locate(d).into()),
    }
}

/// The workload's Service name: the `k8s.score.dev/service-name` annotation, else the workload's
/// name. What provisioners see as `workload_services[w].service_name` (`Target::service_name`).
pub(crate) fn service_name(spec: &score_core::model::Workload) -> String {
    spec.annotations()
        .get(SERVICE_NAME_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| spec.name().to_string())
}

/// [`service_name`], which must be a DNS-1035 label (Kubernetes' rule for Service names).
fn checked_service_name(w: &ResolvedWorkload) -> Result<String, Diagnostics> {
    let name = service_name(&w.spec);
    let valid = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        return Ok(name);
    }
    Err(w
        .locate(
            Diagnostic::new(
                codes::INVALID_SERVICE_NAME,
                format!(
                    "workload '{}': metadata.annotations.{SERVICE_NAME_ANNOTATION}: '{name}' is not a valid Service name",
                    w.name
                ),
            )
            .with_pointer(score_core::target::json_pointer(&[
                "metadata",
                "annotations",
                SERVICE_NAME_ANNOTATION,
            ]))
            .with_help(
                "a Service name is a DNS-1035 label: lower-case letters, digits and '-', a letter \
                 first, not ending in '-', at most 63 characters",
            ),
        )
        .into())
}

/// The author's annotations (sorted) travel to the workload object and its pods; ours steer
/// the target and stay behind.
fn carried_annotations(
    w: &ResolvedWorkload,
    annotations: &IndexMap<String, String>,
) -> BTreeMap<String, String> {
    let mut carried: BTreeMap<String, String> = annotations
        .iter()
        .filter(|(k, _)| !k.starts_with(ANNOTATION_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in workload_annotations(&w.name) {
        carried.insert(k, v.as_str().unwrap_or_default().to_string());
    }
    carried
}

/// What every object of a workload is annotated with: its workload, under our key and under
/// score-k8s's (`k8s.score.dev/workload-name`), so tooling and patch templates written for either
/// find it.
fn workload_annotations(name: &str) -> Vec<(String, Value)> {
    vec![
        (SOURCE_WORKLOAD_ANNOTATION.into(), json!(name)),
        (WORKLOAD_NAME_ANNOTATION.into(), json!(name)),
    ]
}

/// The ports of the workload's `service`, as Service ports.
fn service_ports(w: &ResolvedWorkload) -> Vec<Value> {
    w.spec
        .service
        .iter()
        .flat_map(|s| s.ports.iter())
        .map(|(name, p)| {
            json!({
                "name": name,
                "port": p.port,
                "targetPort": p.effective_target_port(),
                "protocol": p.effective_protocol().as_str(),
            })
        })
        .collect()
}

/// `before`: a container that must start before others becomes an init container, which
/// Kubernetes starts before every app container (a stricter order than Score asks for).
/// - any `complete` entry: a plain init container that must exit successfully (probes removed:
///   Kubernetes rejects them on plain init containers);
/// - otherwise a sidecar (`restartPolicy: Always`, Kubernetes >= 1.29) that keeps running; with a
///   `healthy` entry its readiness (else liveness) probe becomes its `startupProbe`, so the app
///   containers wait until it is healthy.
///
/// Init containers run in order, so they are sorted so that `A before B` puts A first (author
/// order otherwise; validation has rejected cycles).
fn split_init_containers(
    w: &ResolvedWorkload,
    built: Vec<(&str, Value)>,
) -> (Vec<Value>, Vec<Value>) {
    let before_of = |name: &str| w.spec.containers.get(name).map(|c| &c.before);
    let mut init: Vec<(&str, Value)> = Vec::new();
    let mut app = Vec::new();
    for (name, mut c) in built {
        let Some(before) = before_of(name).filter(|b| !b.is_empty()) else {
            app.push(c);
            continue;
        };
        if let Value::Object(m) = &mut c {
            if before.values().any(|b| b.ready == Readiness::Complete) {
                m.shift_remove("livenessProbe");
                m.shift_remove("readinessProbe");
            } else {
                m.insert("restartPolicy".into(), json!("Always"));
                if before.values().any(|b| b.ready == Readiness::Healthy)
                    && let Some(p) = m.get("readinessProbe").or_else(|| m.get("livenessProbe"))
                {
                    let p = p.clone();
                    m.insert("startupProbe".into(), p);
                }
            }
        }
        init.push((name, c));
    }
    // Stable topological order: repeatedly take the first container no remaining one must precede.
    let mut ordered = Vec::new();
    while !init.is_empty() {
        let pick = init
            .iter()
            .position(|(n, _)| {
                !init
                    .iter()
                    .any(|(other, _)| before_of(other).is_some_and(|b| b.contains_key(*n)))
            })
            .unwrap_or(0);
        ordered.push(init.remove(pick).1);
    }
    (ordered, app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use score_core::target::Found;

    fn found(v: &str, secret: bool, expression: bool) -> Piece {
        Piece::Value(Found {
            value: json!(v),
            secret,
            expression,
            origin: None,
        })
    }

    #[test]
    fn env_values_escape_dollars_except_expressions() {
        let r = Resolved {
            pieces: vec![
                Piece::Text("a$b $(X) ".into()),
                found("$y", false, false),
                found("$(DEBUG)", false, true),
            ],
        };
        assert_eq!(env_value(&r), "a$$b $$(X) $$y$(DEBUG)");
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(parse_mode("0644"), Some(0o644));
        assert_eq!(parse_mode("755"), Some(0o755));
        assert_eq!(parse_mode("0800"), None);
        assert_eq!(parse_mode(""), None);
        assert_eq!(parse_mode("07777"), None);
    }

    #[test]
    fn data_keys_are_valid() {
        assert_eq!(data_key("env.", "DB_URL"), "env.DB_URL");
        assert_eq!(data_key("env.", "a b/c"), "env.a_b_c");
    }
}
