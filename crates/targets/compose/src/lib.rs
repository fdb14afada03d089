//! score-gen compose target (filled by its issue).
