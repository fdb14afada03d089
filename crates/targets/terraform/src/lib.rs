//! score-gen terraform target (filled by its issue).
