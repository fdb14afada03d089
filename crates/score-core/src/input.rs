//! What goes into the pipeline, for embedders: Score and provisioner files as named texts, where
//! `files[].source` contents come from ([`SourceReader`]: [`MemorySources`], or with the `host`
//! feature `host::FsSources`), the parse limits, and the parsed [`Document`] (a value plus the
//! span of every node) that [`crate::LoadedWorkload`] and [`crate::parse_document`] hand back.

pub use crate::compile::ScoreFile;
pub use crate::load::yaml::{Document, Limits, SpanIndex};
pub use crate::load::{MemorySources, SourceError, SourceReader};
pub use crate::provision::ProvisionerFile;
