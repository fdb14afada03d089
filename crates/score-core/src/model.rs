//! The typed Score v1b1 model.
//!
//! Built from a document that has passed the schema (see [`crate::load_workload`]), so field types are
//! already known good; `deny_unknown_fields` keeps the model honest if it is deserialised directly.
//! Maps are [`IndexMap`]s so the author's order survives a round trip; serialisation skips absent
//! optional fields and empty maps, so `load(serialize(w)) == w`.
//!
//! ```
//! use score_core::model::Workload;
//! let w: Workload = serde_json::from_value(serde_json::json!({
//!     "apiVersion": "score.dev/v1b1",
//!     "metadata": {"name": "hello"},
//!     "containers": {"main": {"image": "nginx"}}
//! })).unwrap();
//! assert_eq!(w.name(), "hello");
//! assert_eq!(w.containers["main"].image, "nginx");
//! ```

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

fn is_empty_map<K, V>(m: &IndexMap<K, V>) -> bool {
    m.is_empty()
}

/// A Score workload (`score.dev/v1b1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Workload {
    /// Always `score.dev/v1b1` once validated.
    pub api_version: String,
    /// `name` (required), `annotations`, and any other keys the author adds.
    pub metadata: Map<String, Value>,
    /// Ports the workload exposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Service>,
    /// Containers by name (at least one).
    pub containers: IndexMap<String, Container>,
    /// Resources the workload depends on, by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub resources: IndexMap<String, Resource>,
}

impl Workload {
    /// `metadata.name` (empty if absent, which validation rejects).
    pub fn name(&self) -> &str {
        self.metadata
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `metadata.annotations` as string pairs, in the author's order.
    pub fn annotations(&self) -> IndexMap<String, String> {
        match self.metadata.get("annotations") {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect(),
            _ => IndexMap::new(),
        }
    }
}

/// `service`: the workload's network ports.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    /// Ports by name.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub ports: IndexMap<String, ServicePort>,
}

/// One service port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePort {
    /// The public port.
    pub port: u16,
    /// The container port; defaults to `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
    /// `TCP` (default) or `UDP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
}

impl ServicePort {
    /// `targetPort`, or `port` when absent.
    pub fn effective_target_port(&self) -> u16 {
        self.target_port.unwrap_or(self.port)
    }

    /// `protocol`, or TCP when absent.
    pub fn effective_protocol(&self) -> Protocol {
        self.protocol.unwrap_or(Protocol::Tcp)
    }
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    /// `TCP` or `UDP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// A container.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Container {
    /// The image; `.` means "supplied by the tool" (`--image` / `--build`).
    pub image: String,
    /// Overrides the image entrypoint. Never substituted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Overrides the image arguments. Never substituted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Environment variables; values may hold placeholders.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub variables: IndexMap<String, String>,
    /// Files by target path in the container.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub files: IndexMap<String, ContainerFile>,
    /// Volumes by mount path in the container.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub volumes: IndexMap<String, ContainerVolume>,
    /// Compute limits and requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ContainerResources>,
    /// Liveness probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    /// Readiness probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    /// Containers this one must start before, and how ready it must be first.
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub before: IndexMap<String, Before>,
}

/// A file mounted into a container. Exactly one of `content`, `binary_content`, `source` is set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerFile {
    /// Octal mode as a string (`"0644"`, `"600"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Path of a local file, relative to the Score file (resolved by the loader).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Inline text; placeholders expanded unless `no_expand`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Inline standard base64 bytes; never expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_content: Option<String>,
    /// Turn off placeholder expansion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_expand: Option<bool>,
}

impl ContainerFile {
    /// True when placeholders in the content are expanded.
    pub fn expands(&self) -> bool {
        !self.no_expand.unwrap_or(false)
    }
}

/// A volume mount.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerVolume {
    /// The volume, usually `${resources.<name>}`.
    pub source: String,
    /// Sub-path inside the volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Mount read-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// `resources` of a container.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerResources {
    /// Upper bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourcesLimits>,
    /// Reservations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<ResourcesLimits>,
}

/// CPU and memory quantities, as written (see [`crate::quantity`] to parse them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourcesLimits {
    /// e.g. `128Mi`, `1.5Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// e.g. `500m`, `0.5`, `2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
}

/// A liveness or readiness probe.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Probe {
    /// HTTP GET check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpProbe>,
    /// Command check (preferred when both are given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecProbe>,
}

/// An HTTP GET probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpProbe {
    /// Host; defaults to the workload IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `HTTP` (default) or `HTTPS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Path to request.
    pub path: String,
    /// Port to request.
    pub port: u16,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<Vec<HttpHeader>>,
}

/// One HTTP header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpHeader {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// A command probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecProbe {
    /// Command and arguments.
    pub command: Vec<String>,
}

/// One `before` entry: this container starts before the named one, once it is `ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Before {
    /// How far this container must get before the other starts.
    pub ready: Readiness,
}

/// How ready a container must be before the next one starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Readiness {
    /// Started.
    Started,
    /// Healthy (its probe passes).
    Healthy,
    /// Exited successfully (an init container).
    Complete,
}

/// A resource the workload depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resource {
    /// Resource type, e.g. `postgres`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Class; `default` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Shared id: same type+class+id across workloads is one resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Resource metadata (annotations, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Provisioner parameters; placeholders allowed in any string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Map<String, Value>>,
}

impl Resource {
    /// `class`, or `default`.
    pub fn class_or_default(&self) -> &str {
        self.class.as_deref().unwrap_or("default")
    }
}
