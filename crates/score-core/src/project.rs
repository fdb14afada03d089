//! The front half of the pipeline for one Score file: parse → override → upgrade → schema →
//! extra rules → typed model → normalise file sources.
//!
//! ```
//! use score_core::project::{load_workload, LoadOptions};
//! let text = "apiVersion: score.dev/v1b1\nmetadata: {name: hello}\ncontainers: {main: {image: nginx}}\n";
//! let loaded = load_workload("score.yaml", text.as_bytes(), &LoadOptions::default()).unwrap();
//! assert_eq!(loaded.workload.name(), "hello");
//! ```

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics, SourceFile};
use crate::load::{self, Document, Limits};
use crate::model::Workload;
use crate::{overrides, schema, upgrade, validate};

/// How to load a workload.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Size, depth and alias limits for parsing.
    pub limits: Limits,
    /// Documents deep-merged over the workload before validation (`--override-file`), in order.
    pub override_files: Vec<Document>,
    /// `PATH=VALUE` overrides (`--override-property`), applied after the files, in order.
    pub override_properties: Vec<String>,
    /// Replaces every container image that is `.` (`--image`).
    pub image: Option<String>,
    /// Directory that `files[].source` paths are relative to (the Score file's directory).
    /// `None` leaves `source` as it is (no file is read).
    pub base_dir: Option<PathBuf>,
    /// Allow `files[].source` to point outside `base_dir` (`--allow-outside-paths`).
    pub allow_outside_paths: bool,
}

/// A workload that passed every check.
#[derive(Debug, Clone)]
pub struct LoadedWorkload {
    /// The typed workload; file `source`s are already read into `content`/`binaryContent`
    /// when [`LoadOptions::base_dir`] was given.
    pub workload: Workload,
    /// The parsed document (after overrides and upgrades), with spans into the source.
    pub document: Document,
    /// Upgrades applied to deprecated forms, as messages (e.g. `containers.web.files: migrated to object`).
    pub upgrades: Vec<String>,
}

/// Runs the front half of the pipeline on one Score file's bytes.
pub fn load_workload(
    name: &str,
    bytes: &[u8],
    opts: &LoadOptions,
) -> Result<LoadedWorkload, Diagnostics> {
    let source = Arc::new(SourceFile::new(name, String::from_utf8_lossy(bytes)));
    let mut document = load::parse(source, bytes, &opts.limits)?;
    apply_overrides(&mut document, opts)?;

    let upgrades = upgrade::apply_common_upgrade_transforms(&mut document.value)
        .map_err(|e| document.diagnostic("score::upgrade", &e.pointer, e.message))?;

    let schema_errors = schema::validate(&document.value);
    if !schema_errors.is_empty() {
        return Err(Diagnostics(
            schema_errors
                .into_iter()
                .map(|e| {
                    let mut d = document.diagnostic("score::schema", &e.pointer, e.message);
                    if e.on_key {
                        if let Some(span) = document.spans.key(&e.pointer) {
                            d.span = Some(span);
                        }
                    }
                    match e.help {
                        Some(h) => d.with_help(h),
                        None => d,
                    }
                })
                .collect(),
        ));
    }

    let issues = validate::validate(&document.value);
    if !issues.is_empty() {
        return Err(Diagnostics(
            issues
                .into_iter()
                .map(|i| {
                    let d = document.diagnostic("score::validate", &i.pointer, i.message);
                    match i.help {
                        Some(h) => d.with_help(h),
                        None => d,
                    }
                })
                .collect(),
        ));
    }

    let mut workload: Workload = serde_json::from_value(document.value.clone()).map_err(|e| {
        // The schema admits exactly what the model reads; reaching this is a bug, but it must
        // still be a diagnostic, not a panic.
        Diagnostics::from(
            document
                .diagnostic(
                    "score::model",
                    "",
                    format!("internal: workload does not fit the model: {e}"),
                )
                .with_help("please report this with the Score file attached"),
        )
    })?;

    if let Some(dir) = &opts.base_dir {
        normalise_file_sources(&mut workload, &document, dir, opts.allow_outside_paths)?;
    }
    Ok(LoadedWorkload {
        workload,
        document,
        upgrades,
    })
}

fn apply_overrides(document: &mut Document, opts: &LoadOptions) -> Result<(), Diagnostics> {
    for file in &opts.override_files {
        if !file.value.is_object() {
            return Err(file
                .diagnostic(
                    "score::override",
                    "",
                    "an override file must be a YAML mapping",
                )
                .into());
        }
        document.value = overrides::merge_overrides_file(&document.value, &file.value);
    }
    for prop in &opts.override_properties {
        let bad = |msg: String| {
            Diagnostic::new("score::override", msg)
                .with_file(document.source.clone())
                .with_help("use --override-property PATH=VALUE, e.g. containers.main.image=nginx:1.27 (empty VALUE deletes)")
        };
        let (path, value) = overrides::parse_override_property(prop).map_err(&bad)?;
        let delete = value.is_none();
        document.value = overrides::override_path(&document.value, &path, delete, value)
            .map_err(|e| bad(format!("--override-property '{prop}': {e}")))?;
    }
    if let Some(image) = &opts.image {
        if let Some(Value::Object(containers)) = document.value.get_mut("containers") {
            for c in containers.values_mut() {
                if let Some(img) = c.get_mut("image") {
                    if img.as_str() == Some(".") {
                        *img = Value::String(image.clone());
                    }
                }
            }
        }
    }
    Ok(())
}

/// Reads each `files[].source` (relative to `base_dir`) into `content` (valid UTF-8) or
/// `binaryContent` (standard base64), as score-go's `loader.Normalize`.
fn normalise_file_sources(
    workload: &mut Workload,
    document: &Document,
    base_dir: &Path,
    allow_outside: bool,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    for (cname, container) in workload.containers.iter_mut() {
        for (target, file) in container.files.iter_mut() {
            let Some(source) = file.source.clone() else {
                continue;
            };
            let pointer = format!(
                "/containers/{}/files/{}/source",
                load::escape_pointer_segment(cname),
                load::escape_pointer_segment(target)
            );
            match read_source(base_dir, &source, allow_outside) {
                Ok(bytes) => {
                    file.source = None;
                    match String::from_utf8(bytes) {
                        Ok(text) => file.content = Some(text),
                        Err(e) => {
                            file.binary_content = Some(
                                base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
                            )
                        }
                    }
                }
                Err((msg, help)) => diags.push(
                    document
                        .diagnostic(
                            "score::files",
                            &pointer,
                            format!("embedding file '{source}' for container '{cname}': {msg}"),
                        )
                        .with_help(help),
                ),
            }
        }
    }
    diags.into_result()
}

fn read_source(
    base: &Path,
    source: &str,
    allow_outside: bool,
) -> Result<Vec<u8>, (String, String)> {
    let rel = Path::new(source);
    let joined = if rel.is_absolute() {
        rel.to_path_buf()
    } else {
        base.join(rel)
    };
    if !allow_outside {
        let escapes_lexically = rel.is_absolute()
            || rel
                .components()
                .try_fold(0i32, |depth, c| match c {
                    Component::ParentDir if depth == 0 => None,
                    Component::ParentDir => Some(depth - 1),
                    Component::Normal(_) => Some(depth + 1),
                    _ => Some(depth),
                })
                .is_none();
        // Symlinks count: compare canonical paths when the file exists.
        let escapes_via_link = match (joined.canonicalize(), base.canonicalize()) {
            (Ok(f), Ok(b)) => !f.starts_with(&b),
            _ => false,
        };
        if escapes_lexically || escapes_via_link {
            return Err((
                format!(
                    "{} is outside the project directory {}",
                    clean(&joined).display(),
                    clean(base).display()
                ),
                "keep file sources inside the Score file's directory, or pass --allow-outside-paths"
                    .into(),
            ));
        }
    }
    std::fs::read(&joined).map_err(|e| {
        (
            format!("open {}: {}", clean(&joined).display(), io_reason(&e)),
            "paths in `source` are relative to the Score file's directory".into(),
        )
    })
}

/// Go's `filepath.Clean`, lexically: score-go names the file `filepath.Join(baseDir, source)`,
/// so `./fixtures` + `./x.txt` is reported as `fixtures/x.txt`, not `./fixtures/./x.txt`.
fn clean(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
