//! The set of emitted objects: de-duplication, namespaces, output order, secret leak check.

use crate::codes;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use score_core::target::ResolvedProject;
use score_core::{Diagnostic, Diagnostics};
use serde_json::{json, Map, Value};

/// Output order of kinds (Helm's install order: what others depend on comes first). Kinds not
/// listed follow, sorted by kind name.
pub const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Kinds that live outside namespaces: never given `metadata.namespace`.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "PersistentVolume",
    "StorageClass",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "IngressClass",
    "GatewayClass",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "Node",
    "ClusterIssuer",
];

/// The target settings, checked.
pub(crate) struct Settings {
    pub namespace: Option<String>,
    pub generate_namespace: bool,
}

impl Settings {
    /// No namespace.
    fn none() -> Self {
        Settings {
            namespace: None,
            generate_namespace: false,
        }
    }

    pub(crate) fn from_options(opts: &crate::K8sOptions) -> Result<Self, Diagnostics> {
        let namespace = opts.namespace.clone().filter(|s| !s.is_empty());
        if let Some(ns) = &namespace
            && !is_dns_label(ns)
        {
            return Err(Diagnostic::new(
                    codes::INVALID_NAMESPACE,
                    format!("namespace '{ns}' is not a valid Kubernetes namespace name"),
                )
                .with_help(
                    "a namespace is 1 to 63 lower-case letters, digits or '-', starting and ending with a letter or digit",
                )
                .into());
        }
        let generate_namespace = opts.generate_namespace;
        if generate_namespace && namespace.is_none() {
            return Err(Diagnostic::new(
                codes::INVALID_NAMESPACE,
                "generate_namespace needs a namespace",
            )
            .with_help("give the namespace to create (--namespace)")
            .into());
        }
        Ok(Self {
            namespace,
            generate_namespace,
        })
    }
}

/// RFC 1123 label: what Kubernetes requires of namespace names.
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A fragment object must say what it is: apiVersion, kind and metadata.name (strings).
pub(crate) fn check_object(v: &Value) -> Result<(), String> {
    let Value::Object(m) = v else {
        return Err(format!(
            "expected a Kubernetes object (a map), got {}",
            score_core::target::describe_type(v)
        ));
    };
    for key in ["apiVersion", "kind"] {
        match m.get(key) {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(format!("'{key}' must be a non-empty string")),
        }
    }
    match m.get("metadata").and_then(|md| md.get("name")) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => Err("'metadata.name' must be a non-empty string".into()),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or_default()
}

/// How the origin of a provisioner's object begins (`resource '<uid>'`).
pub(crate) const RESOURCE_ORIGIN: &str = "resource '";

/// An object's identity: apiVersion group, kind, namespace, name.
type Identity = (String, String, String, String);

fn identity(obj: &Value) -> Identity {
    let group = str_at(obj, &["apiVersion"])
        .split_once('/')
        .map_or("", |(g, _)| g)
        .to_string();
    (
        group,
        str_at(obj, &["kind"]).to_string(),
        str_at(obj, &["metadata", "namespace"]).to_string(),
        str_at(obj, &["metadata", "name"]).to_string(),
    )
}

/// Two objects of one identity with different content.
fn conflict(origin: &str, first: &str, key: &Identity) -> Diagnostics {
    Diagnostic::new(
        codes::OBJECT_CONFLICT,
        format!(
            "{origin} and {first} both produce {} '{}' with different content",
            key.1, key.3
        ),
    )
    .with_help("rename one of them: object names must be unique per kind and namespace")
    .into()
}

/// Where emitted objects go: [`ObjectSet`] (values) or [`Written`] (text).
pub(crate) trait Sink {
    /// Adds an object; an identical object already present is dropped (shared resources may
    /// render the same instance for every user), a different one with the same identity is an error.
    fn add(&mut self, obj: Value, origin: &str) -> Result<(), Diagnostics>;

    /// Adds an object a provisioner rendered: as in score-k8s, a later resource's object replaces
    /// an earlier resource's object of the same identity (a shared instance rendered by each of
    /// its users); one that collides with a workload's object is still an error.
    fn add_from_resource(&mut self, obj: Value, origin: &str) -> Result<(), Diagnostics>;
}

/// Objects by identity (apiVersion group, kind, namespace, name), in insertion order.
#[derive(Default)]
pub(crate) struct ObjectSet {
    items: Vec<(Value, String)>,
    /// Identity → position in `items` (a hash map: only looked up, never walked in order).
    index: HashMap<Identity, usize>,
}

impl Sink for ObjectSet {
    fn add(&mut self, obj: Value, origin: &str) -> Result<(), Diagnostics> {
        self.insert(obj, origin, false)
    }

    fn add_from_resource(&mut self, obj: Value, origin: &str) -> Result<(), Diagnostics> {
        self.insert(obj, origin, true)
    }
}

impl ObjectSet {
    fn insert(&mut self, obj: Value, origin: &str, replace: bool) -> Result<(), Diagnostics> {
        let slot = match self.index.entry(identity(&obj)) {
            Entry::Vacant(v) => {
                v.insert(self.items.len());
                self.items.push((obj, origin.to_string()));
                return Ok(());
            }
            Entry::Occupied(o) => o,
        };
        let key = slot.key().clone();
        let at = *slot.get();
        let (existing, first) = &self.items[at];
        if *existing == obj {
            return Ok(());
        }
        if replace && first.starts_with(RESOURCE_ORIGIN) {
            self.items[at] = (obj, origin.to_string());
            return Ok(());
        }
        Err(conflict(origin, first, &key))
    }

    /// The objects in output order, with namespaces applied.
    pub(crate) fn finish(self, settings: &Settings) -> Vec<Value> {
        let mut docs: Vec<Value> = self.items.into_iter().map(|(v, _)| v).collect();
        if let Some(ns) = &settings.namespace {
            for d in &mut docs {
                set_namespace(d, ns);
            }
            if settings.generate_namespace {
                docs.push(namespace_object(ns));
            }
        }
        // Cached: the key allocates three strings, once per object instead of per comparison.
        docs.sort_by_cached_key(sort_key);
        docs
    }
}

/// The `Namespace` object of `--generate-namespace`.
fn namespace_object(ns: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": ns,
            "labels": {"app.kubernetes.io/managed-by": "score-gen"},
        },
    })
}

/// The objects of one emit, each checked and written as YAML as soon as it is complete (its
/// value freed), in the order and with the checks of [`ObjectSet::finish`],
/// [`check_no_clear_secrets`] and [`check_no_secret_references`]: a large project's manifests
/// are held as text, not as values (issue 24). An object of an identity already present is
/// compared by its text.
pub(crate) struct Written<'s> {
    settings: &'s Settings,
    clear: Option<&'s ClearCheck<'s>>,
    items: Vec<WrittenItem>,
    index: HashMap<Identity, usize>,
    hits: Vec<usize>,
}

/// One written object.
struct WrittenItem {
    text: String,
    origin: String,
    sort: SortKey,
    /// What [`check_no_clear_secrets`] reports of it.
    clear: Vec<Diagnostic>,
    /// What [`check_no_secret_references`] reports of it.
    reference: Option<Diagnostic>,
}

impl Sink for Written<'_> {
    fn add(&mut self, obj: Value, origin: &str) -> Result<(), Diagnostics> {
        self.insert(obj, origin, false)
    }

    fn add_from_resource(&mut self, obj: Value, origin: &str) -> Result<(), Diagnostics> {
        self.insert(obj, origin, true)
    }
}

impl<'s> Written<'s> {
    /// Nothing written yet; `clear` checks for secrets in clear text (`None`: no secret to
    /// look for).
    pub(crate) fn new(settings: &'s Settings, clear: Option<&'s ClearCheck<'s>>) -> Self {
        Written {
            settings,
            clear,
            items: Vec::new(),
            index: HashMap::new(),
            hits: Vec::new(),
        }
    }

    fn insert(&mut self, obj: Value, origin: &str, replace: bool) -> Result<(), Diagnostics> {
        let slot = match self.index.entry(identity(&obj)) {
            Entry::Vacant(v) => {
                v.insert(self.items.len());
                let item = write_item(obj, origin, self.settings, self.clear, &mut self.hits)?;
                self.items.push(item);
                return Ok(());
            }
            Entry::Occupied(o) => o,
        };
        let key = slot.key().clone();
        let at = *slot.get();
        let item = write_item(obj, origin, self.settings, self.clear, &mut self.hits)?;
        let existing = &self.items[at];
        if existing.text == item.text {
            return Ok(());
        }
        if replace && existing.origin.starts_with(RESOURCE_ORIGIN) {
            self.items[at] = item;
            return Ok(());
        }
        Err(conflict(origin, &existing.origin, &key))
    }

    /// The objects as one multi-document YAML text, in output order (the bytes of
    /// `render_yaml` over [`ObjectSet::finish`]), or what the secret checks found.
    pub(crate) fn finish(self) -> Result<String, Diagnostics> {
        let mut items = self.items;
        if let (Some(ns), true) = (&self.settings.namespace, self.settings.generate_namespace) {
            let mut hits = Vec::new();
            let ns = write_item(namespace_object(ns), "", &Settings::none(), None, &mut hits)?;
            items.push(ns);
        }
        items.sort_by(|a, b| a.sort.cmp(&b.sort));
        let clear: Vec<Diagnostic> = (items.iter_mut())
            .flat_map(|i| std::mem::take(&mut i.clear))
            .collect();
        Diagnostics(clear).into_result()?;
        let references: Vec<Diagnostic> = (items.iter_mut())
            .filter_map(|i| i.reference.take())
            .collect();
        Diagnostics(references).into_result()?;
        let len = items.iter().map(|i| i.text.len() + 4).sum::<usize>();
        let mut out = String::with_capacity(len);
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&item.text);
        }
        Ok(out)
    }
}

/// An object as it is written: its namespace set, checked, as YAML.
fn write_item(
    mut obj: Value,
    origin: &str,
    settings: &Settings,
    clear: Option<&ClearCheck<'_>>,
    hits: &mut Vec<usize>,
) -> Result<WrittenItem, Diagnostics> {
    if let Some(ns) = &settings.namespace {
        set_namespace(&mut obj, ns);
    }
    let clear = clear.map_or_else(Vec::new, |c| c.diagnostics(&obj, hits));
    let reference = reference_diagnostic(&obj);
    let mut text = String::new();
    serde_saphyr::to_fmt_writer_with_options(
        &mut text,
        &obj,
        serde_saphyr::SerializerOptions::default(),
    )
    .map_err(crate::emit_error)?;
    Ok(WrittenItem {
        text,
        origin: origin.to_string(),
        sort: sort_key(&obj),
        clear,
        reference,
    })
}

/// Output order: kind rank, kind, namespace, name.
type SortKey = (usize, String, String, String);

fn sort_key(v: &Value) -> SortKey {
    let kind = str_at(v, &["kind"]);
    let rank = KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len());
    (
        rank,
        kind.to_string(),
        str_at(v, &["metadata", "namespace"]).to_string(),
        str_at(v, &["metadata", "name"]).to_string(),
    )
}

/// Sets `metadata.namespace` on a namespaced object that has none (an explicit namespace in a
/// provisioner's manifest is the author's choice and stays).
fn set_namespace(obj: &mut Value, ns: &str) {
    let kind = str_at(obj, &["kind"]).to_string();
    if CLUSTER_SCOPED.contains(&kind.as_str()) {
        return;
    }
    let Some(Value::Object(md)) = obj.get_mut("metadata") else {
        return;
    };
    if md.get("namespace").is_some_and(|v| !v.is_null()) {
        return;
    }
    // Put it right after the name, where readers look for it.
    let mut out = Map::new();
    for (k, v) in std::mem::take(md) {
        let is_name = k == "name";
        out.insert(k, v);
        if is_name {
            out.insert("namespace".into(), Value::String(ns.to_string()));
        }
    }
    *md = out;
}

/// Secret values shorter than this are not searched for (a 1-character secret would match
/// everywhere); default provisioners generate 16+ characters.
const MIN_SECRET_LEN: usize = 6;
// `SecretIndex` packs a MIN_SECRET_LEN-byte prefix into a u64.
const _: () = assert!(MIN_SECRET_LEN <= 8);

/// Defence in depth: no secret output value may appear in clear text in an object that is not a
/// Secret. The workload conversion never writes one; this catches a provisioner that renders a
/// secret into, say, a ConfigMap or a container `env` value.
pub(crate) fn check_no_clear_secrets(
    project: &ResolvedProject,
    docs: &[Value],
) -> Result<(), Diagnostics> {
    let secrets = secret_outputs(project);
    if secrets.is_empty() {
        return Ok(());
    }
    let check = ClearCheck::new(&secrets);
    let mut hits = Vec::new();
    let mut diags = Diagnostics::default();
    for d in docs {
        diags.0.extend(check.diagnostics(d, &mut hits));
    }
    diags.into_result()
}

/// Every secret output long enough to search for: (resource uid, output key, text).
pub(crate) fn secret_outputs(project: &ResolvedProject) -> Vec<(String, String, String)> {
    let mut secrets: Vec<(String, String, String)> = Vec::new();
    for res in project.resources() {
        for key in &res.outputs.secret {
            if let Some(v) = res.outputs.values.get(key) {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if text.chars().count() >= MIN_SECRET_LEN {
                    secrets.push((res.uid.to_string(), key.clone(), text));
                }
            }
        }
    }
    secrets
}

/// The clear-text secret check over [`secret_outputs`], one object at a time.
pub(crate) struct ClearCheck<'a> {
    secrets: &'a [(String, String, String)],
    index: SecretIndex<'a>,
}

impl<'a> ClearCheck<'a> {
    pub(crate) fn new(secrets: &'a [(String, String, String)]) -> Self {
        ClearCheck {
            secrets,
            index: SecretIndex::new(secrets.iter().map(|(_, _, t)| t.as_str())),
        }
    }

    /// What [`check_no_clear_secrets`] reports of one object (`hits` is scratch space).
    fn diagnostics(&self, d: &Value, hits: &mut Vec<usize>) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        if str_at(d, &["kind"]) == "Secret" {
            return diags;
        }
        let mut found = Vec::new();
        visit_strings(d, &mut |s| {
            // Per string, report in the order of `secrets` (as a plain scan over them would).
            self.index.matches(s, hits);
            for &i in hits.iter() {
                let (uid, key, _) = &self.secrets[i];
                if !found.contains(&(uid, key)) {
                    found.push((uid, key));
                }
            }
        });
        for (uid, key) in found {
            diags.push(
                Diagnostic::new(
                    codes::SECRET_IN_CLEAR_TEXT,
                    format!(
                        "the secret output '{key}' of resource '{uid}' appears in clear text in {} '{}'",
                        str_at(d, &["kind"]),
                        str_at(d, &["metadata", "name"])
                    ),
                )
                .with_help(
                    "secret outputs may only be written into Secrets; reference them with secretKeyRef or a secret volume",
                ),
            );
        }
        diags
    }
}

/// score-k8s refuses output that still holds an `encodeSecretRef` reference where nothing
/// resolves it (a provisioner's manifests, an annotation, ...): Kubernetes would see the marks.
pub(crate) fn check_no_secret_references(docs: &[Value]) -> Result<(), Diagnostics> {
    Diagnostics(docs.iter().filter_map(reference_diagnostic).collect()).into_result()
}

/// What [`check_no_secret_references`] reports of one object.
fn reference_diagnostic(d: &Value) -> Option<Diagnostic> {
    /// The path (innermost first) of the first string holding a reference: built only on the
    /// way back from a hit, so the common case (none) allocates nothing.
    fn find(v: &Value) -> Option<Vec<String>> {
        match v {
            Value::String(s) => crate::secret_refs::holds_reference(s).then(Vec::new),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
                let mut path = find(x)?;
                path.push(i.to_string());
                Some(path)
            }),
            Value::Object(m) => m.iter().find_map(|(k, x)| {
                let mut path = find(x)?;
                path.push(k.clone());
                Some(path)
            }),
            _ => None,
        }
    }
    let mut path = find(d)?;
    path.reverse();
    Some(
        Diagnostic::new(
                    codes::SECRET_REFERENCE,
                    format!(
                        "{} '{}' holds an unresolved secret reference at {}",
                        str_at(d, &["kind"]),
                        str_at(d, &["metadata", "name"]),
                        path.join(".")
                    ),
                )
        .with_help("encodeSecretRef values can be used in workload variables and as a whole file's content, not inside manifests"),
    )
}

/// Finds which of many secret texts occur in a string in one pass over the string.
///
/// Testing every secret against every string was O(secrets × strings), i.e. quadratic in the
/// number of workloads. Secrets are bucketed by their first [`MIN_SECRET_LEN`] bytes; each byte
/// position of a string probes the buckets once and only bucket members are compared in full.
/// A byte-level match starts at a character boundary (a secret starts with a leading byte), so
/// the result equals `str::contains`.
struct SecretIndex<'a> {
    texts: Vec<&'a str>,
    by_prefix: std::collections::HashMap<u64, Vec<usize>, PrefixHash>,
}

/// The prefixes are already uniform bytes; a multiply spreads them over the table cheaply.
#[derive(Default, Clone, Copy)]
struct PrefixHash;

impl std::hash::BuildHasher for PrefixHash {
    type Hasher = PrefixHasher;
    fn build_hasher(&self) -> PrefixHasher {
        PrefixHasher(0)
    }
}

struct PrefixHasher(u64);

impl std::hash::Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b) ^ self.0.rotate_left(8));
        }
    }
    fn write_u64(&mut self, x: u64) {
        let h = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

impl<'a> SecretIndex<'a> {
    fn new(texts: impl Iterator<Item = &'a str>) -> Self {
        let texts: Vec<&str> = texts.collect();
        let mut by_prefix: std::collections::HashMap<u64, Vec<usize>, PrefixHash> =
            std::collections::HashMap::default();
        for (i, t) in texts.iter().enumerate() {
            // Callers keep only texts of at least MIN_SECRET_LEN characters, hence bytes.
            if let Some(p) = prefix_key(t.as_bytes(), 0) {
                by_prefix.entry(p).or_default().push(i);
            }
        }
        Self { texts, by_prefix }
    }

    /// The indices of the texts that occur in `s`, ascending, into `out` (cleared first).
    fn matches(&self, s: &str, out: &mut Vec<usize>) {
        out.clear();
        let bytes = s.as_bytes();
        let mut at = 0;
        while let Some(key) = prefix_key(bytes, at) {
            if let Some(candidates) = self.by_prefix.get(&key) {
                for &i in candidates {
                    if bytes[at..].starts_with(self.texts[i].as_bytes()) && !out.contains(&i) {
                        out.push(i);
                    }
                }
            }
            at += 1;
        }
        out.sort_unstable();
    }
}

/// The MIN_SECRET_LEN bytes at `at`, packed into a u64; `None` past the last full window.
fn prefix_key(bytes: &[u8], at: usize) -> Option<u64> {
    let window = bytes.get(at..at + MIN_SECRET_LEN)?;
    Some(window.iter().fold(0u64, |k, b| (k << 8) | u64::from(*b)))
}

fn visit_strings<'a>(v: &'a Value, f: &mut impl FnMut(&'a str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| visit_strings(x, f)),
        Value::Object(m) => m.values().for_each(|x| visit_strings(x, f)),
        _ => {}
    }
}

#[cfg(test)]
mod secret_index_tests {
    use super::*;

    #[test]
    fn secret_index_agrees_with_contains() {
        let secrets = [
            "hunter22",
            "hunter2234",
            "pässwörd",
            "abcdef",
            "xyzxyzxyz",
            "Ωmega-secret",
        ];
        let index = SecretIndex::new(secrets.iter().copied());
        let haystacks = [
            "",
            "short",
            "postgres://u:hunter2234@db:5432/x",
            "abcdefabcdef and pässwörd",
            "xyzxyzxyzxyz",
            "no secrets here at all, but abcde f",
            "prefix Ωmega-secret suffix hunter22",
            "ömega-secret Ωmega-secre",
        ];
        let mut got = Vec::new();
        for h in haystacks {
            index.matches(h, &mut got);
            let want: Vec<usize> = (0..secrets.len())
                .filter(|&i| h.contains(secrets[i]))
                .collect();
            assert_eq!(got, want, "{h:?}");
        }
    }
}
