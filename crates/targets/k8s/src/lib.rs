//! score-gen k8s target (filled by its issue).
