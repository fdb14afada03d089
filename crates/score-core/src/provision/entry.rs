//! One provisioner entry (what every kind of entry has, and its kind's part) and the ordered set
//! of entries that resources are matched against.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::kinds::cmd::CmdSpec;
use super::kinds::Kind;
use crate::diag::{Code, Diagnostic, SourceFile, Span};
use crate::uid::ResourceUid;

/// Where a provisioner entry was defined.
#[derive(Debug, Clone)]
pub struct ProvisionerSource {
    /// The provisioner file (display name and text), for diagnostics.
    pub file: Arc<SourceFile>,
    /// 1-based line of the entry's first key.
    pub line: usize,
    /// The entry's position within its file (0-based).
    pub index: usize,
    /// The directory relative `cmd://./x` programs resolved against (`None`: the file is not on
    /// the local disk, so such programs cannot run).
    pub dir: Option<PathBuf>,
    /// Whether the file is trusted like the project's own code (a local file, or a remote one
    /// pinned by hash): [`super::CommandPolicy::AllowTrusted`] runs only these entries' programs.
    pub trusted: bool,
}

impl fmt::Display for ProvisionerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.name, self.line)
    }
}

/// The template language of a `template://` entry (spec/provisioners.md, "Dialects").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// Go `text/template` with sprig, in the score-compose / score-k8s entry format: what
    /// `template://` means to every Score tool, and the default.
    GoTemplate,
    /// score-gen's own minijinja entries (`engine: minijinja`).
    Minijinja,
}

/// One entry of a provisioner file.
///
/// ```
/// use score_core::provision::ProvisionerSet;
/// let text = "- uri: template://x\n  engine: minijinja\n  type: redis\n  outputs: |\n    host: redis\n";
/// let set = ProvisionerSet::load(&[score_core::input::ProvisionerFile::new("p.yaml", text)]).unwrap();
/// let p = set.iter().next().unwrap();
/// assert_eq!((p.uri.as_str(), p.kind.as_str(), p.source.line), ("template://x", "redis", 1));
/// ```
#[derive(Debug, Clone)]
pub struct Provisioner {
    /// Unique id of the entry (`template://...` or `cmd://...`).
    pub uri: String,
    /// Resource type it provisions.
    pub kind: String,
    /// Only this class, when set.
    pub class: Option<String>,
    /// Only this resource id, when set.
    pub id: Option<String>,
    /// Free text for `provisioners list`.
    pub description: String,
    /// When set, any other param is an error.
    pub supported_params: Option<Vec<String>>,
    /// Outputs that must be present after provisioning.
    pub expected_outputs: Vec<String>,
    /// Where each of `expected_outputs` is written in the file (for a missing one's error).
    pub(crate) expected_output_spans: Vec<Option<Span>>,
    /// Top-level output keys that are secret.
    pub secret_outputs: Vec<String>,
    /// Top-level output keys that are target expressions, not literals.
    pub expression_outputs: Vec<String>,
    /// Where the entry is.
    pub source: ProvisionerSource,
    /// The kind of entry, and its part of the entry.
    pub(crate) how: Kind,
}

impl Provisioner {
    /// True when the entry matches the resource: type equal, and class / id equal when set.
    pub(crate) fn matches(&self, uid: &ResourceUid) -> bool {
        self.kind == uid.kind()
            && self.class.as_deref().is_none_or(|c| c == uid.class())
            && self.id.as_deref().is_none_or(|i| i == uid.id())
    }

    /// True for `cmd://` entries.
    pub fn is_cmd(&self) -> bool {
        matches!(self.how, Kind::Cmd(_))
    }

    /// The template language of a `template://` entry (`None` for `cmd://`).
    pub fn dialect(&self) -> Option<Dialect> {
        match self.how {
            Kind::Minijinja(_) => Some(Dialect::Minijinja),
            Kind::GoTemplate(_) => Some(Dialect::GoTemplate),
            Kind::Cmd(_) | Kind::LocalEnv(_) => None,
        }
    }

    /// The command of a `cmd://` entry.
    pub fn cmd(&self) -> Option<&CmdSpec> {
        match &self.how {
            Kind::Cmd(c) => Some(c),
            _ => None,
        }
    }
}

/// An ordered list of provisioners: user files first (in the order given), target defaults last.
#[derive(Debug, Clone, Default)]
pub struct ProvisionerSet {
    pub(super) entries: Vec<Provisioner>,
}

impl ProvisionerSet {
    /// Appends the entries of `other` after this set's (e.g. target defaults after user files).
    pub fn extend(&mut self, other: ProvisionerSet) {
        self.entries.extend(other.entries);
    }

    /// The first entry that matches `uid`: type equal, and class / id equal when the entry sets them.
    pub fn find(&self, uid: &ResourceUid) -> Option<&Provisioner> {
        self.entries.iter().find(|p| p.matches(uid))
    }

    /// The error for a resource no entry matches: names the uid and the types that do have
    /// provisioners (sorted), so a typo in `type:` is obvious.
    pub fn no_match_error(&self, uid: &ResourceUid) -> Diagnostic {
        let types: BTreeSet<&str> = self.entries.iter().map(|p| p.kind.as_str()).collect();
        let same_type: Vec<String> = self
            .entries
            .iter()
            .filter(|p| p.kind == uid.kind())
            .map(|p| {
                let mut s = p.uri.clone();
                if let Some(c) = &p.class {
                    s.push_str(&format!(" (class {c})"));
                }
                if let Some(i) = &p.id {
                    s.push_str(&format!(" (id {i})"));
                }
                s
            })
            .collect();
        let help = if !same_type.is_empty() {
            format!(
                "provisioners for type '{}' exist but none matches class '{}' and id '{}': {}",
                uid.kind(),
                uid.class(),
                uid.id(),
                same_type.join(", ")
            )
        } else if types.is_empty() {
            "no provisioners are loaded; pass a provisioner file".to_string()
        } else {
            format!(
                "types with provisioners: {}; add a provisioner for '{}' or fix the resource type",
                types.into_iter().collect::<Vec<_>>().join(", "),
                uid.kind()
            )
        };
        Diagnostic::new(
            Code::ProvisionNoMatch,
            format!("resource '{uid}' is not supported by any provisioner"),
        )
        .with_help(help)
    }

    /// Every entry, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = &Provisioner> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entries are loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
