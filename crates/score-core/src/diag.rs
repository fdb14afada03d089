//! Diagnostics: the one error shape every stage returns for bad user input.
//!
//! A [`Diagnostic`] names what is wrong (`message`), what to do (`help`), where (`file`, `span`,
//! `pointer`) and which problem it is (`code`, a stable [`Code`]). It implements
//! [`miette::Diagnostic`] so the CLI renders it with a source snippet, and it serialises to JSON
//! for `--format json`.
//!
//! ```
//! use std::sync::Arc;
//! use score_core::{Code, Diagnostic};
//! use score_core::diag::{SourceFile, Span};
//! let file = Arc::new(SourceFile::new("score.yaml", "apiVersion: score.dev/v9\n"));
//! let d = Diagnostic::new(Code::SchemaViolation, "\"score.dev/v9\" does not match \"^score\\.dev/v1b1$\"")
//!     .with_file(file)
//!     .with_span(Span::new(12, 12, 1, 13))
//!     .with_pointer("/apiVersion")
//!     .with_help("use apiVersion: score.dev/v1b1");
//! assert_eq!(d.location(), "score.yaml:1:13");
//! assert_eq!(d.to_json()["code"], "score::schema::violation");
//! ```

pub use crate::fix::{apply_edits, apply_fixes, Applicability, Edit, EditError, Fix};
pub use crate::load::yaml::SpanIndex;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// A named source text, shared by every diagnostic that points into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Display name, usually the path as the user gave it.
    pub name: String,
    /// The text. Non-UTF-8 input is stored lossily (it is only used for snippets).
    pub text: String,
    /// `text` as snippets show it (see [`SourceFile::display_text`]), made on first use.
    display: std::sync::OnceLock<String>,
    /// Diagnostics must not show this file's text (see [`SourceFile::with_contents_hidden`]).
    hidden: bool,
}

impl SourceFile {
    /// A new source file.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            display: std::sync::OnceLock::new(),
            hidden: false,
        }
    }

    /// Marks the file's text as not for display: a file a repository links to from outside the
    /// project (`score.yaml -> ~/.aws/credentials`) must not have its contents printed. Every
    /// diagnostic pointing into it is shown by [`Diagnostic::redacted`]: code, file, line and
    /// column, and no snippet, label, help or message text taken from the file.
    pub fn with_contents_hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    /// Whether the text is not for display ([`SourceFile::with_contents_hidden`]).
    pub fn contents_hidden(&self) -> bool {
        self.hidden
    }

    /// The text as snippets show it, byte for byte the same length so every span still fits:
    /// control characters (a terminal escape in a hostile file, NUL, DEL, C1 controls) and the
    /// characters of [`is_hidden_format_char`] (bidirectional overrides, U+2028/U+2029) become
    /// `?` (one per byte), and a lone carriage return (an old Mac line ending, which YAML counts
    /// as a line break) becomes a newline so the snippet's lines are the parser's lines.
    ///
    /// ```
    /// let f = score_core::diag::SourceFile::new("x", "a: \u{1b}[31mred\rb: 1\r\n");
    /// assert_eq!(f.display_text(), "a: ?[31mred\nb: 1\r\n");
    /// let f = score_core::diag::SourceFile::new("x", "a: \u{202e}exe.txt\n");
    /// assert_eq!(f.display_text(), "a: ???exe.txt\n");
    /// ```
    pub fn display_text(&self) -> &str {
        self.display.get_or_init(|| {
            let mut out = String::with_capacity(self.text.len());
            let mut chars = self.text.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\r' if chars.peek() != Some(&'\n') => out.push('\n'),
                    '\n' | '\t' | '\r' => out.push(c),
                    c if c.is_control() || is_hidden_format_char(c) => {
                        out.extend(std::iter::repeat_n('?', c.len_utf8()));
                    }
                    c => out.push(c),
                }
            }
            out
        })
    }

    /// Line and column (both 1-based, column in characters) of a byte offset.
    ///
    /// Lines are those of [`SourceFile::display_text`], so a lone carriage return counts as a
    /// line break, as it does for the YAML parser.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.display_text().as_bytes()[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let col = String::from_utf8_lossy(&self.text.as_bytes()[line_start..offset])
            .chars()
            .count()
            + 1;
        (line, col)
    }
}

/// `s` with every control character but line feed and tab, and every
/// [`is_hidden_format_char`], written as an escape (`\u{1b}`), so text from an input cannot move
/// a terminal's cursor, retitle its window, clear its screen or reorder what it shows. The CLI
/// passes every message and table cell through it.
///
/// ```
/// assert_eq!(score_core::diag::escape_controls("a\u{1b}[2Jb\tc\n"), "a\\u{1b}[2Jb\tc\n");
/// ```
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && c != '\n' && c != '\t') || is_hidden_format_char(c);
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A character that is not a control character but changes how the text around it is shown:
/// the bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069; U+202E
/// shows what follows it reversed) and the line and paragraph separators U+2028 and U+2029.
/// Snippets show it as `?`, and the CLI escapes it in messages, as it does control characters.
pub fn is_hidden_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// A location in a [`SourceFile`]: byte offset and length, plus 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub offset: usize,
    /// Length in bytes (0 for a point).
    pub len: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl Span {
    /// A span from its parts.
    pub fn new(offset: usize, len: usize, line: usize, column: usize) -> Self {
        Self {
            offset,
            len,
            line,
            column,
        }
    }
}

/// Declares [`Code`]: each variant with its stable string and its summary, in one table so the
/// three can never disagree.
macro_rules! codes {
    ($( $variant:ident = $s:literal, $summary:literal; )*) => {
        /// What went wrong, one variant per problem a caller may want to tell apart.
        ///
        /// [`Code::as_str`] is stable: `score::<stage>::<problem>`, kebab-case, listed with its
        /// meaning in `spec/diagnostic-codes.md`. New codes may be added (hence
        /// `#[non_exhaustive]`); an existing code keeps its string and its meaning.
        ///
        /// ```
        /// use score_core::Code;
        /// assert_eq!(Code::ProvisionNoMatch.as_str(), "score::provision::no-match");
        /// assert_eq!(Code::ProvisionNoMatch.to_string(), "score::provision::no-match");
        /// assert!(Code::ALL.contains(&Code::LoadDuplicateKey));
        /// println!("{}", Code::ProvisionNoMatch.summary());
        /// ```
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = concat!("`", $s, "`: ", $summary)]
                $variant,
            )*
            /// A problem a target defines and reports itself ([`TargetCode`]), e.g. a
            /// workload the target cannot express. Its string and summary are the target's.
            Target(TargetCode),
        }

        impl Code {
            /// Every code core defines, in the order of `spec/diagnostic-codes.md` (a target's
            /// own codes are listed by [`crate::Target::codes`]).
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable string, e.g. `score::provision::no-match`.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $(Code::$variant => $s,)*
                    Code::Target(t) => t.code,
                }
            }

            /// One line: what the problem is and what usually fixes it.
            pub const fn summary(&self) -> &'static str {
                match self {
                    $(Code::$variant => $summary,)*
                    Code::Target(t) => t.summary,
                }
            }
        }
    };
}

codes! {
    // Loading: text → YAML value (Score, override and provisioner files alike).
    LoadTooLarge = "score::load::too-large",
        "the input is over the size or node limit (aliases count for what they expand to); check that the right file was given";
    LoadTooDeep = "score::load::too-deep",
        "the document nests deeper than the depth limit; flatten the structure";
    LoadAliasLimit = "score::load::alias-limit",
        "YAML aliases are too many or expand to too much data (possible alias bomb); expand them by hand or use fewer";
    LoadNotUtf8 = "score::load::not-utf8",
        "the input is not UTF-8 text; save the file as UTF-8 (binary content belongs in `binaryContent`)";
    LoadEmpty = "score::load::empty",
        "the input holds no YAML content; give a mapping with `apiVersion`, `metadata` and `containers`";
    LoadMultipleDocuments = "score::load::multiple-documents",
        "the file holds more than one YAML document; put each workload in its own file";
    LoadNotMapping = "score::load::not-a-mapping",
        "the document is not a YAML mapping; write the workload's fields as `key: value` lines";
    LoadSyntax = "score::load::syntax",
        "the text is not valid YAML; fix the syntax at the marked position";
    LoadDuplicateKey = "score::load::duplicate-key",
        "a mapping defines the same key twice; remove or merge one of the two entries";
    LoadNonScalarKey = "score::load::non-scalar-key",
        "a mapping key is a list or a mapping; use a plain string as the key";
    LoadNonFiniteNumber = "score::load::non-finite-number",
        "a number is NaN or infinite, which JSON cannot hold; quote it if it is meant as text";

    // Overrides (--override-file, --override-property).
    OverrideNotMapping = "score::override::not-a-mapping",
        "an override file is not a YAML mapping; write it as a partial Score file";
    OverrideInvalidProperty = "score::override::invalid-property",
        "an --override-property is malformed or cannot be applied; use PATH=VALUE with a path that exists";

    // Upgrades of deprecated forms.
    UpgradeMissingTarget = "score::upgrade::missing-target",
        "an item of a list-form `files` or `volumes` has no string `target`; add it, or use the map form keyed by target";

    // The JSON schema.
    SchemaViolation = "score::schema::violation",
        "the workload does not match the score.dev/v1b1 schema (unknown field, wrong type, missing field, bad value); see the help line";

    // Workload rules the schema cannot express.
    ValidateMetadataName = "score::validate::metadata-name",
        "metadata.name is missing or not a non-empty string; set it to a name such as `my-app`";
    ValidatePlaceholderMalformed = "score::validate::placeholder-malformed",
        "a `${...}` placeholder is malformed; write `${metadata.<key>}` or `${resources.<name>.<output>}`, or `$${...}` for a literal";
    ValidatePlaceholderUnknownResource = "score::validate::placeholder-unknown-resource",
        "a placeholder names a resource the workload does not declare; declare it under `resources:` or fix the name";
    ValidatePlaceholderUnsupported = "score::validate::placeholder-unsupported",
        "a placeholder starts with something other than `metadata` or `resources`; fix the first element or write `$${...}`";
    ValidateBeforeSelf = "score::validate::before-self",
        "a container's `before` names the container itself; remove the entry";
    ValidateBeforeUnknownContainer = "score::validate::before-unknown-container",
        "a container's `before` names a container the workload does not have; fix the name";
    ValidateBeforeCycle = "score::validate::before-cycle",
        "the containers' `before` entries form a cycle; remove one of them";
    ValidateHealthyNeedsProbe = "score::validate::healthy-needs-probe",
        "`before: {X: {ready: healthy}}` on a container without a readiness or liveness probe; add a probe or use `ready: started`";
    ValidateVariableName = "score::validate::variable-name",
        "an environment variable name holds a NUL or line-break character; rename the variable";
    ValidateEmptyVolumeSource = "score::validate::empty-volume-source",
        "a volume's `source` is empty; name the volume to mount, usually `${resources.<name>}`";

    // File contents.
    FilesSourceUnreadable = "score::files::source-unreadable",
        "a `files[].source` cannot be read; fix the path (relative to the Score file) or supply the file";
    FilesInvalidBase64 = "score::files::invalid-base64",
        "a file's `binaryContent` is not valid base64; give standard base64 with padding";

    // The project: all workloads of one run.
    ProjectDuplicateWorkload = "score::project::duplicate-workload",
        "two workloads of one run share a metadata.name; rename one of them";

    // The resource graph.
    GraphConflictingDefinitions = "score::graph::conflicting-definitions",
        "workloads declare the same shared resource (same uid) differently; make the declarations identical";
    GraphUnknownResource = "score::graph::unknown-resource",
        "a resource's params refer to a resource the workload does not declare; declare it or fix the name";
    GraphCycle = "score::graph::cycle",
        "resources' params refer to each other in a cycle; remove one of the references";

    // Provisioner files.
    ProvisionerFileInvalid = "score::provision::file-invalid",
        "a provisioner file or entry has the wrong shape (not a list, missing uri or type, wrong type, unknown key); fix the entry";
    ProvisionerDuplicateUri = "score::provision::duplicate-uri",
        "a provisioner file defines the same uri twice; give each entry its own uri";
    ProvisionTemplateSyntax = "score::provision::template-syntax",
        "a provisioner section is not a valid template; fix the template syntax at the marked line";

    // Provisioning a resource.
    ProvisionNoMatch = "score::provision::no-match",
        "no provisioner matches the resource's type, class and id; add a provisioner or fix the resource type";
    ProvisionUnsupportedParam = "score::provision::unsupported-param",
        "the resource passes a param the provisioner does not list in `supported_params`; remove it or use another provisioner";
    ProvisionParamsUnresolved = "score::provision::params-unresolved",
        "a placeholder in a resource's params cannot be resolved; fix the reference to the other resource's output";
    ProvisionProvisionerChanged = "score::provision::provisioner-changed",
        "the state says another provisioner made this resource; keep that provisioner or remove the resource from the state";
    ProvisionTemplateRender = "score::provision::template-render",
        "a provisioner template failed while rendering (undefined value, `fail()`, out of fuel); fix the template or the resource's params";
    ProvisionInvalidSectionOutput = "score::provision::invalid-section-output",
        "a provisioner section rendered text that is not YAML or not a mapping; fix the template";
    ProvisionMissingOutput = "score::provision::missing-output",
        "the provisioner did not produce an output it lists in `expected_outputs`; fix the provisioner";
    ProvisionCommandDenied = "score::provision::command-denied",
        "a cmd:// provisioner would run a program and the caller does not allow it; allow commands (CommandPolicy::Allow) or use a template provisioner";
    ProvisionCommandUntrusted = "score::provision::command-untrusted",
        "a provisioner file from outside the project (http, git, stdin) that is not pinned would run a program; review it, then pin it (#sha256=) or pass --allow-remote-commands";
    ProvisionCommandRelative = "score::provision::command-relative-program",
        "a cmd:// program path is relative but its provisioner file is not on the local disk; use an absolute path or a name on PATH";
    ProvisionCommandFailed = "score::provision::command-failed",
        "a cmd:// provisioner's program could not start or exited unsuccessfully; see its stderr in the message";
    ProvisionCommandTimeout = "score::provision::command-timeout",
        "a cmd:// provisioner's program ran past its time limit and was killed; make it faster or raise the limit";
    ProvisionCommandOutput = "score::provision::command-output",
        "a cmd:// provisioner's program wrote too much, unreadable or invalid JSON on stdout; fix the program";

    // Substituting placeholders.
    SubstituteUnresolved = "score::substitute::unresolved",
        "a placeholder names an output or metadata key that does not exist; use one of the outputs listed in the help";
    SubstituteEnvironmentUnset = "score::substitute::environment-unset",
        "an environment reference (`${resources.<env>.K}`) is read when score-gen runs and `K` is not set there; set it in the environment score-gen runs in";

    // State.
    StateEmpty = "score::state::empty",
        "the state file is empty; delete it to start from a fresh state";
    StateUnsupportedVersion = "score::state::unsupported-version",
        "the state file was written by a score-gen with another state version; use that release or delete the file";
    StateInvalid = "score::state::invalid",
        "the state file cannot be read as score-gen state (not UTF-8, bad YAML, wrong shape); fix or delete it";
    StateIo = "score::state::io",
        "the state directory or file cannot be opened, read or written; check permissions and that no other run holds the lock";
    StateLocked = "score::state::locked",
        "a run with --locked or --frozen would change the state's resources (a new resource, a new generated value, a changed provisioner); run without it, commit the state, and run again";
    StateUnknownResource = "score::state::unknown-resource",
        "the state holds no resource with that uid; pick one of the resources listed in the help";

    // Fetching provisioner files.
    FetchFailed = "score::fetch::failed",
        "a provisioner URI cannot be fetched (missing file, network or git error, unsupported scheme); fix the URI";
    FetchPinNeedsFile = "score::fetch::pin-needs-file",
        "a `#sha256=` pin is on a URI that names a directory; pin each file separately";
    FetchPinMismatch = "score::fetch::pin-mismatch",
        "the fetched file's sha256 differs from its pin; review the file and update the pin";
    FetchInsecureHttp = "score::fetch::insecure-http",
        "a plain http:// provisioner URI has no `#sha256=` pin; use https:// or pin the content";

    // Patch templates (applied by the targets that accept them).
    PatchTemplateSyntax = "score::patch::template-syntax",
        "a patch template is not a valid Go template; fix the template syntax at the marked line";
    PatchTemplateRender = "score::patch::template-render",
        "a patch template failed while rendering; fix the template or the data it reads";
    PatchInvalidOperations = "score::patch::invalid-operations",
        "a patch template did not render a YAML list of operations {op, path, value, description}; fix the template";
    PatchApplyFailed = "score::patch::apply-failed",
        "a patch operation cannot be applied (bad path, list index, query syntax) or leaves an invalid document; fix the operation's path";

    // The command line and the host.
    Usage = "score::usage::invalid-arguments",
        "the command-line arguments do not fit together; see the help line and --help";
    UsagePathOutsideProject = "score::usage::path-outside-project",
        "a path given on the command line (output, --env-file) lies outside the project directory; keep it inside or pass --allow-outside-paths";
    UsageOutputIsInput = "score::usage::output-is-input",
        "an output path names one of the run's input files; choose another output path";
    Io = "score::io::failed",
        "a file cannot be read or written; check the path and permissions";
    IoUnsafeWrite = "score::io::unsafe-write",
        "a write would pass through a symbolic link in the project or replace something that is not a regular file (spec/security.md); remove the link or choose another path";
    Internal = "score::internal::bug",
        "score-gen failed in a way it should not; please report it with the inputs attached";
}

/// A diagnostic code a target crate defines for the problems only it finds
/// (`score::<target>::<problem>`), with the same shape and stability promise as core's [`Code`]s.
/// A target lists its codes in [`crate::Target::codes`]; a diagnostic carries one as
/// [`Code::Target`].
///
/// ```
/// use score_core::{Code, Diagnostic};
/// use score_core::diag::TargetCode;
/// const EMIT: TargetCode = TargetCode::new("score::env::emit", "the file cannot be written; please report this");
/// let d = Diagnostic::new(EMIT, "bad value");
/// assert_eq!(d.code, EMIT);
/// assert_eq!(d.code.as_str(), "score::env::emit");
/// assert_eq!(d.to_json()["code"], "score::env::emit");
/// assert_ne!(d.code, Code::Internal);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetCode {
    code: &'static str,
    summary: &'static str,
}

impl TargetCode {
    /// A code from its stable string (`score::<target>::<problem>`) and its one-line summary
    /// (what the problem is; what usually fixes it).
    pub const fn new(code: &'static str, summary: &'static str) -> Self {
        Self { code, summary }
    }

    /// The stable string.
    pub const fn as_str(&self) -> &'static str {
        self.code
    }

    /// The one-line summary.
    pub const fn summary(&self) -> &'static str {
        self.summary
    }
}

impl From<TargetCode> for Code {
    fn from(code: TargetCode) -> Code {
        Code::Target(code)
    }
}

impl PartialEq<TargetCode> for Code {
    fn eq(&self, other: &TargetCode) -> bool {
        matches!(self, Code::Target(t) if t == other)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem with the user's input.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// What the problem is, e.g. [`Code::ProvisionNoMatch`] (`score::provision::no-match`).
    pub code: Code,
    /// What is wrong, one sentence, no trailing period.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The label shown under the snippet; defaults to the message.
    pub label: Option<String>,
    /// The file it is in, when there is one.
    pub file: Option<Arc<SourceFile>>,
    /// Where in the file.
    pub span: Option<Span>,
    /// JSON pointer of the offending value inside the document, when known.
    pub pointer: Option<String>,
    /// Further locations or causes (e.g. the other definition of a shared resource).
    pub related: Vec<Diagnostic>,
    /// True for a diagnostic attached to another one as a related note: it is not a problem of
    /// its own, so it renders as advice (`Advice:`) rather than as a second error.
    pub is_note: bool,
    /// Suggested changes to [`Diagnostic::file`] (spec/fixes.md): shown under the help line,
    /// included in the JSON form, applied by `score-gen fix` when machine-applicable.
    pub fixes: Vec<crate::fix::Fix>,
}

impl Diagnostic {
    /// A diagnostic with a code and a message and nothing else.
    pub fn new(code: impl Into<Code>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            help: None,
            label: None,
            file: None,
            span: None,
            pointer: None,
            related: Vec::new(),
            is_note: false,
            fixes: Vec::new(),
        }
    }

    /// Adds a suggested fix (its edits are in this diagnostic's file).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use score_core::{Code, Diagnostic};
    /// use score_core::diag::{Edit, Fix, SourceFile};
    /// let f = Arc::new(SourceFile::new("score.yaml", "containers:\n  web:\n    imagee: nginx\n"));
    /// let d = Diagnostic::new(Code::SchemaViolation, "unknown field `imagee`")
    ///     .with_file(f.clone())
    ///     .with_fix(Fix::machine("rename `imagee` to `image`", vec![Edit::at(&f, 22, 6, "image")]));
    /// assert_eq!(d.to_json()["fixes"][0]["edits"][0]["replacement"], "image");
    /// assert_eq!(d.to_json()["fixes"][0]["applicability"], "machine-applicable");
    /// ```
    pub fn with_fix(mut self, fix: crate::fix::Fix) -> Self {
        self.fixes.push(fix);
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the label shown at the span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the file.
    pub fn with_file(mut self, file: Arc<SourceFile>) -> Self {
        self.file = Some(file);
        self
    }

    /// Sets the span.
    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Sets the JSON pointer.
    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    /// Adds a related diagnostic.
    pub fn with_related(mut self, mut related: Diagnostic) -> Self {
        related.is_note = true;
        self.related.push(related);
        self
    }

    /// `file:line:col`, `file`, or `<input>` — for one-line renderings and tests.
    pub fn location(&self) -> String {
        match (&self.file, &self.span) {
            (Some(f), Some(s)) => format!("{}:{}:{}", f.name, s.line, s.column),
            (Some(f), None) => f.name.clone(),
            (None, _) => "<input>".to_string(),
        }
    }

    /// The span narrowed to the placeholder that starts with `prefix` (through its closing `}`)
    /// inside the current span: a `${...}` within a longer string or a block scalar. Unchanged
    /// when the source does not hold it verbatim (an escaped string).
    pub(crate) fn narrowed_to(mut self, prefix: &str) -> Diagnostic {
        let (Some(file), Some(span)) = (&self.file, self.span) else {
            return self;
        };
        let end = (span.offset + span.len).min(file.text.len());
        let Some(within) = file.text.get(span.offset..end) else {
            return self;
        };
        if let Some(start) = within.find(prefix) {
            let len = within[start..]
                .find('}')
                .map_or(prefix.len(), |close| close + 1);
            let offset = span.offset + start;
            let (line, column) = file.line_col(offset);
            self.span = Some(Span::new(offset, len, line, column));
        }
        self
    }

    /// This diagnostic as it may be shown: unchanged, unless it points into a file whose contents
    /// are hidden ([`SourceFile::with_contents_hidden`]); then its message, help and label are
    /// replaced by the code's summary and the span is dropped (its line and column go into the
    /// message), so nothing of the file's text is printed. Related notes likewise.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use score_core::{Code, Diagnostic};
    /// use score_core::diag::{SourceFile, Span};
    /// let f = Arc::new(SourceFile::new("score.yaml", "SECRET=hunter2\n").with_contents_hidden());
    /// let d = Diagnostic::new(Code::LoadSyntax, "unexpected 'SECRET=hunter2'")
    ///     .with_file(f)
    ///     .with_span(Span::new(0, 6, 1, 1));
    /// let shown = d.redacted();
    /// assert!(!shown.message.contains("hunter2"));
    /// assert!(shown.message.starts_with("line 1, column 1:"));
    /// assert_eq!(shown.code, Code::LoadSyntax);
    /// ```
    pub fn redacted(&self) -> Diagnostic {
        let mut d = self.clone();
        d.related = self.related.iter().map(Diagnostic::redacted).collect();
        let Some(file) = self.file.as_ref().filter(|f| f.contents_hidden()) else {
            return d;
        };
        let at = self
            .span
            .map(|s| format!("line {}, column {}: ", s.line, s.column))
            .unwrap_or_default();
        d.message = format!(
            "{at}{} (the contents of {} are not shown: it is a link to a file outside the project)",
            self.code.summary(),
            file.name
        );
        d.help = None;
        d.label = None;
        d.span = None;
        // A replacement may quote the file's text.
        d.fixes.clear();
        // A JSON pointer spells out the file's keys.
        d.pointer = None;
        d
    }

    /// A machine-readable form for `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        // Redacted where the file's contents are hidden; line and column are not contents and
        // stay for tools.
        let shown = self.redacted();
        serde_json::json!({
            "code": shown.code.as_str(),
            "message": shown.message,
            "help": shown.help,
            "file": self.file.as_ref().map(|f| f.name.clone()),
            "line": self.span.map(|s| s.line),
            "column": self.span.map(|s| s.column),
            "pointer": shown.pointer,
            "related": self.related.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
            "fixes": shown.fixes.iter().map(|f| f.to_json(self.file.as_deref())).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        if let Some(excerpt) = self.long_line_excerpt(span) {
            return Ok(Box::new(excerpt));
        }
        let inner =
            self.display_text()
                .read_span(span, context_lines_before, context_lines_after)?;
        // miette reads the header's column from a read without context and counts it in bytes;
        // ours (and `--format json`'s) count characters.
        let column = if context_lines_before == 0 {
            self.line_col(span.offset()).1 - 1
        } else {
            inner.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            column,
            inner.line_count(),
        )))
    }
}

/// Lines longer than this are shown as an excerpt around the span (a minified JSON file is one
/// line; miette's renderer cannot pad past column 65,535 and a megabyte-wide snippet helps no one).
const MAX_SNIPPET_LINE: usize = 1000;
/// Bytes of context kept on each side of the span in such an excerpt (at most).
const EXCERPT_CONTEXT: usize = 60;

impl SourceFile {
    /// For a span on a very long line: that line cut down to the span plus some context, with
    /// the real line and column, and no surrounding lines.
    fn long_line_excerpt(
        &self,
        span: &miette::SourceSpan,
    ) -> Option<miette::MietteSpanContents<'_>> {
        let text = self.display_text();
        let offset = span.offset().min(text.len());
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        if line_end - line_start <= MAX_SNIPPET_LINE {
            return None;
        }
        let floor = |mut i: usize| {
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let start = floor(offset.saturating_sub(EXCERPT_CONTEXT).max(line_start));
        let span_end = offset + span.len().min(MAX_SNIPPET_LINE);
        let end = floor((span_end + EXCERPT_CONTEXT).min(line_end));
        // miette reads the header's line:column from here: those of the span itself.
        let (line, column) = self.line_col(offset);
        Some(miette::MietteSpanContents::new_named(
            self.name.clone(),
            &text.as_bytes()[start..end],
            miette::SourceSpan::new(start.into(), end - start),
            line - 1,
            column - 1,
            1,
        ))
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.fixes.is_empty() {
            return self
                .help
                .as_ref()
                .map(|h| Box::new(h) as Box<dyn fmt::Display>);
        }
        // Each fix on a line of its own under the help, marked for whether `score-gen fix`
        // applies it.
        let mut text = self.help.clone().unwrap_or_default();
        for fix in &self.fixes {
            if !text.is_empty() {
                text.push('\n');
            }
            let how = if fix.is_machine_applicable() {
                "fix (score-gen fix)"
            } else {
                "suggestion"
            };
            text.push_str(&format!("{how}: {}", fix.message));
        }
        Some(Box::new(text))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match (&self.file, &self.span) {
            (Some(f), Some(_)) => Some(f.as_ref()),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        self.file.as_ref()?;
        let label = self.label.clone().unwrap_or_else(|| self.message.clone());
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some(label),
            span.offset,
            span.len,
        ))))
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.is_note.then_some(miette::Severity::Advice)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// How a value's type reads in a message: `null`, `a boolean`, `a number`, `a string`, `a list`,
/// `a mapping`.
///
/// ```
/// assert_eq!(score_core::target::describe_type(&serde_json::json!([1])), "a list");
/// ```
pub fn describe_type(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Several diagnostics, returned when a stage finds more than one problem.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", d.location(), d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("x", "ab\né: z\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'é' is two bytes; the byte after it is column 2.
        assert_eq!(f.line_col(5), (2, 2));
    }
}
