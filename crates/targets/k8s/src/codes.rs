//! The diagnostic codes only the k8s target reports (`score::k8s::*`, listed with their
//! meaning in `spec/diagnostic-codes.md`); core's own problems keep core's `Code`s.

use score_core::diag::TargetCode;

/// `score::k8s::invalid-namespace`: the namespace is not a valid Kubernetes name, or generate_namespace has no namespace.
pub const INVALID_NAMESPACE: TargetCode = TargetCode::new(
    "score::k8s::invalid-namespace",
    "the namespace is not a valid Kubernetes name, or generate_namespace has no namespace; give a valid namespace",
);
/// `score::k8s::unsupported-kind`: the workload's k8s.score.dev/kind annotation names a kind the target does not produce.
pub const UNSUPPORTED_KIND: TargetCode = TargetCode::new(
    "score::k8s::unsupported-kind",
    "the workload's k8s.score.dev/kind annotation names a kind the target does not produce; use Deployment or StatefulSet",
);
/// `score::k8s::invalid-service-name`: the workload's k8s.score.dev/service-name annotation is not a valid Service name.
pub const INVALID_SERVICE_NAME: TargetCode = TargetCode::new(
    "score::k8s::invalid-service-name",
    "the workload's k8s.score.dev/service-name annotation is not a valid Service name; use a DNS-1035 label such as my-service",
);
/// `score::k8s::image-not-pullable`: a container's image is `.`, which Kubernetes cannot pull.
pub const IMAGE_NOT_PULLABLE: TargetCode = TargetCode::new(
    "score::k8s::image-not-pullable",
    "a container's image is `.`, which Kubernetes cannot pull; give a built image (--image or an override)",
);
/// `score::k8s::invalid-probe`: a probe cannot become a Kubernetes probe (an exec probe with an empty command).
pub const INVALID_PROBE: TargetCode = TargetCode::new(
    "score::k8s::invalid-probe",
    "a probe cannot become a Kubernetes probe (an exec probe with an empty command); fix the probe",
);
/// `score::k8s::invalid-file-mode`: a file's `mode` is not an octal file mode.
pub const INVALID_FILE_MODE: TargetCode = TargetCode::new(
    "score::k8s::invalid-file-mode",
    "a file's `mode` is not an octal file mode; write it as a string such as \"0644\"",
);
/// `score::k8s::invalid-volume`: a volume cannot be mounted (not a resource, not provisioned, secret or invalid outputs, claimSpec without StatefulSet).
pub const INVALID_VOLUME: TargetCode = TargetCode::new(
    "score::k8s::invalid-volume",
    "a volume cannot be mounted (not a resource, not provisioned, secret or invalid outputs, claimSpec without StatefulSet); fix the volume or its provisioner",
);
/// `score::k8s::invalid-manifests`: a provisioner's `manifests` section is not a list of Kubernetes objects.
pub const INVALID_MANIFESTS: TargetCode = TargetCode::new(
    "score::k8s::invalid-manifests",
    "a provisioner's `manifests` section is not a list of Kubernetes objects; fix the provisioner",
);
/// `score::k8s::object-conflict`: two sources produce the same Kubernetes object with different content.
pub const OBJECT_CONFLICT: TargetCode = TargetCode::new(
    "score::k8s::object-conflict",
    "two sources produce the same Kubernetes object with different content; rename one of them",
);
/// `score::k8s::secret-in-clear-text`: a secret output would appear in clear text in a manifest.
pub const SECRET_IN_CLEAR_TEXT: TargetCode = TargetCode::new(
    "score::k8s::secret-in-clear-text",
    "a secret output would appear in clear text in a manifest; reference it through a Secret instead",
);
/// `score::k8s::secret-reference`: an encodeSecretRef reference is where a Secret cannot be referenced (mixed into a file, in a manifest, or malformed).
pub const SECRET_REFERENCE: TargetCode = TargetCode::new(
    "score::k8s::secret-reference",
    "an encodeSecretRef reference is where a Secret cannot be referenced (mixed into a file, in a manifest, or malformed); use it as a whole variable value, inside a variable, or as a whole file",
);
/// `score::k8s::emit`: the manifests cannot be written as YAML.
pub const EMIT: TargetCode = TargetCode::new(
    "score::k8s::emit",
    "the manifests cannot be written as YAML; please report this",
);

/// Every code of this target, in the order of `spec/diagnostic-codes.md` (what
/// [`K8sTarget`](crate::K8sTarget) answers to `Target::codes`).
pub const ALL: &[TargetCode] = &[
    INVALID_NAMESPACE,
    UNSUPPORTED_KIND,
    INVALID_SERVICE_NAME,
    IMAGE_NOT_PULLABLE,
    INVALID_PROBE,
    INVALID_FILE_MODE,
    INVALID_VOLUME,
    INVALID_MANIFESTS,
    OBJECT_CONFLICT,
    SECRET_IN_CLEAR_TEXT,
    SECRET_REFERENCE,
    EMIT,
];
