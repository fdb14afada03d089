//! The diagnostic codes only the compose target reports (`score::compose::*`, listed with their
//! meaning in `spec/diagnostic-codes.md`); core's own problems keep core's `Code`s.

use score_core::diag::TargetCode;

/// `score::compose::invalid-before`: a `before` entry cannot become a compose `depends_on` (unknown container, `healthy` without a probe).
pub const INVALID_BEFORE: TargetCode = TargetCode::new(
    "score::compose::invalid-before",
    "a `before` entry cannot become a compose `depends_on` (unknown container, `healthy` without a probe); fix the entry",
);
/// `score::compose::image-needs-build`: a container's image is `.` and no build context or image was given.
pub const IMAGE_NEEDS_BUILD: TargetCode = TargetCode::new(
    "score::compose::image-needs-build",
    "a container's image is `.` and no build context or image was given; pass --build or --image",
);
/// `score::compose::invalid-volume`: a volume cannot be mounted in compose.
pub const INVALID_VOLUME: TargetCode = TargetCode::new(
    "score::compose::invalid-volume",
    "a volume cannot be mounted in compose; use a volume resource whose outputs compose understands",
);
/// `score::compose::volume-outside-project`: a volume bind-mounts a host path outside the project (absolute, or `..` above it).
pub const VOLUME_OUTSIDE_PROJECT: TargetCode = TargetCode::new(
    "score::compose::volume-outside-project",
    "a volume bind-mounts a host path outside the project (absolute, or `..` above it); mount a path inside the project or pass --allow-outside-paths",
);
/// `score::compose::file-interpolation`: a file's content uses a compose environment variable, which compose cannot put in a mounted file.
pub const FILE_INTERPOLATION: TargetCode = TargetCode::new(
    "score::compose::file-interpolation",
    "a file's content uses a compose environment variable, which compose cannot put in a mounted file; set noExpand or use `variables`",
);
/// `score::compose::invalid-file-mode`: a file's `mode` is not an octal file mode.
pub const INVALID_FILE_MODE: TargetCode = TargetCode::new(
    "score::compose::invalid-file-mode",
    "a file's `mode` is not an octal file mode; write it as a string such as \"0644\"",
);
/// `score::compose::file-conflict`: two files would be written to the same mount path.
pub const FILE_CONFLICT: TargetCode = TargetCode::new(
    "score::compose::file-conflict",
    "two files would be written to the same mount path; give them different targets",
);
/// `score::compose::invalid-probe`: a probe cannot become a compose healthcheck.
pub const INVALID_PROBE: TargetCode = TargetCode::new(
    "score::compose::invalid-probe",
    "a probe cannot become a compose healthcheck; fix the probe",
);
/// `score::compose::invalid-resources`: a container's resource limits or requests cannot be expressed in compose.
pub const INVALID_RESOURCES: TargetCode = TargetCode::new(
    "score::compose::invalid-resources",
    "a container's resource limits or requests cannot be expressed in compose; fix the quantity",
);
/// `score::compose::service-conflict`: two workloads, containers or provisioners produce the same compose service.
pub const SERVICE_CONFLICT: TargetCode = TargetCode::new(
    "score::compose::service-conflict",
    "two workloads, containers or provisioners produce the same compose service; rename one of them",
);
/// `score::compose::invalid-publish`: a --publish entry is malformed or names no workload or service.
pub const INVALID_PUBLISH: TargetCode = TargetCode::new(
    "score::compose::invalid-publish",
    "a --publish entry is malformed or names no workload or service; write HOSTPORT:WORKLOAD:PORT",
);
/// `score::compose::invalid-fragment`: a provisioner's compose section has the wrong shape or an invalid name.
pub const INVALID_FRAGMENT: TargetCode = TargetCode::new(
    "score::compose::invalid-fragment",
    "a provisioner's compose section has the wrong shape or an invalid name; fix the provisioner",
);
/// `score::compose::fragment-conflict`: two resources render different values for the same compose entry.
pub const FRAGMENT_CONFLICT: TargetCode = TargetCode::new(
    "score::compose::fragment-conflict",
    "two resources render different values for the same compose entry; give each its own name or render identical values",
);
/// `score::compose::emit`: compose.yaml cannot be written.
pub const EMIT: TargetCode = TargetCode::new(
    "score::compose::emit",
    "compose.yaml cannot be written; please report this",
);

/// Every code of this target, in the order of `spec/diagnostic-codes.md` (what
/// [`ComposeTarget`](crate::ComposeTarget) answers to `Target::codes`).
pub const ALL: &[TargetCode] = &[
    INVALID_BEFORE,
    IMAGE_NEEDS_BUILD,
    INVALID_VOLUME,
    VOLUME_OUTSIDE_PROJECT,
    FILE_INTERPOLATION,
    INVALID_FILE_MODE,
    FILE_CONFLICT,
    INVALID_PROBE,
    INVALID_RESOURCES,
    SERVICE_CONFLICT,
    INVALID_PUBLISH,
    INVALID_FRAGMENT,
    FRAGMENT_CONFLICT,
    EMIT,
];
