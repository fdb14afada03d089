//! Patch templates in the project: `init --patch-templates URI` fetches each template once,
//! checks that it parses and stores it, with where it came from, in
//! `<state-dir>/<target>/patch-templates.yaml`; `compose` and `k8s` (and `all`) load that file
//! and hand the templates to their target, which applies them to its output (spec/patching.md).
//!
//! As in score-compose and score-k8s, `init --patch-templates` replaces the stored list (in the
//! order given) and `init` without the flag keeps it. The stored file is the project's own, like
//! `.score-gen/<target>/provisioners/`: it may be reviewed and edited by hand.

use std::path::{Path, PathBuf};
use std::time::Duration;

use score_core::diag::{SourceFile, Span};
use score_core::host::fetch::{self, FetchOptions};
use score_core::host::fsutil;
use score_core::target::{check_patch_template, PatchTemplate};
use score_core::Target;
use score_core::{Code, Diagnostic, Diagnostics};
use std::sync::Arc;

/// The stored file, inside `<state-dir>/<target>/`.
pub const STORE_FILE: &str = "patch-templates.yaml";

/// The largest stored file read back (the fetch limit is per template).
const MAX_STORE_BYTES: u64 = 64 * 1024 * 1024;

const HEADER: &str = "\
# Patch templates stored by `score-gen init --patch-templates` (spec/patching.md), applied in this
# order to the output of every generate for this target. `origin` is where each was fetched from;
# `remote` and `pinned` record whether it came from outside the project (http, git, stdin) and
# whether a #sha256= pin checked it. Run init --patch-templates again to replace the list.
";

/// The stored file's shape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Store {
    templates: Vec<Stored>,
}

/// One stored template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    origin: String,
    remote: bool,
    pinned: bool,
    text: String,
}

/// `<state-dir>/<target>/patch-templates.yaml`.
pub fn store_path(state_dir: &Path, target: &str) -> PathBuf {
    state_dir.join(target).join(STORE_FILE)
}

/// For `score-compose init --patch-templates` / `score-k8s init --patch-templates`: fetches
/// every URI and checks each template parses; the templates in order.
pub fn fetch_checked(uris: &[String], target: &str) -> Result<Vec<PatchTemplate>, Diagnostics> {
    let target = (crate::row::by_name(target).build)(&crate::row::TargetFlags::default())?;
    let Some((_, bytes)) = init_file(uris, Path::new("."), target.as_ref())? else {
        return Ok(Vec::new());
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostic::new(
            Code::Internal,
            "internal: the patch templates are not UTF-8",
        )
    })?;
    let store: Store = serde_saphyr::from_str(&text).map_err(|e| {
        Diagnostic::new(
            Code::Internal,
            format!("internal: cannot read the templates back: {e}"),
        )
    })?;
    Ok(store.templates.iter().map(template).collect())
}

/// For `init --patch-templates`: fetches every URI (a directory gives each of its YAML files),
/// checks each template parses, and returns the file to write with its contents. `None` when
/// no URI is given (the stored list stays as it is).
pub fn init_file(
    uris: &[String],
    state_dir: &Path,
    target: &dyn Target,
) -> Result<Option<(PathBuf, Vec<u8>)>, Diagnostics> {
    if uris.is_empty() {
        return Ok(None);
    }
    let Some(dialect) = target.patch_dialect() else {
        let target = target.name();
        return Err(Diagnostic::new(
            Code::Usage,
            format!("--patch-templates: the {target} target has no patch templates"),
        )
        .with_help("patch templates apply to the compose and k8s targets (--target compose or --target k8s)")
        .into());
    };
    let mut templates = Vec::new();
    let mut diags = Diagnostics::default();
    for uri in uris {
        let files = fetch::fetch(uri, Path::new("."), &FetchOptions::default())?;
        if files.is_empty() {
            return Err(Diagnostic::new(
                Code::FetchFailed,
                format!(
                    "--patch-templates {}: no file found there",
                    fetch::without_credentials(uri)
                ),
            )
            .with_help("give the path or URI of a template file")
            .into());
        }
        for f in files {
            // The stored file is meant to be committed: a template in the project that is a
            // link to a file outside it (`p.tpl -> /proc/self/environ`, planted by a
            // repository) is not copied into it (spec/security.md).
            let local = f
                .dir
                .as_ref()
                .filter(|_| !f.remote)
                .map(|d| d.join(&f.name));
            if let Some(path) = local.filter(|p| crate::files::linked_out_of_project(p)) {
                diags.push(
                    Diagnostic::new(
                        Code::Usage,
                        format!(
                            "--patch-templates {}: it is a link to a file outside the project; \
                             score-gen does not copy such a file into {STORE_FILE}",
                            path.display()
                        ),
                    )
                    .with_help(
                        "copy the template into the project, or give the path of the file itself",
                    ),
                );
                continue;
            }
            // The stored file is meant to be committed: a token in the URI stays out of it.
            let origin = fetch::without_credentials(&f.uri);
            if origin != f.uri {
                crate::render::note!(
                    "score-gen init: --patch-templates {origin}: the user name and password (or token) in the URI are not stored"
                );
            }
            let t = Stored {
                origin,
                remote: f.remote,
                pinned: f.pinned,
                text: f.text,
            };
            match check_patch_template(&template(&t), &dialect) {
                Ok(()) => templates.push(t),
                Err(d) => diags.push(d),
            }
        }
    }
    diags.into_result()?;
    let store = Store { templates };
    Ok(Some((
        store_path(state_dir, target.name()),
        render(&store)?,
    )))
}

fn template(s: &Stored) -> PatchTemplate {
    PatchTemplate {
        origin: s.origin.clone(),
        text: s.text.clone(),
    }
}

fn render(store: &Store) -> Result<Vec<u8>, Diagnostics> {
    let yaml = serde_saphyr::to_string(store).map_err(|e| {
        Diagnostic::new(
            Code::Internal,
            format!("cannot write the patch templates: {e}"),
        )
    })?;
    Ok(format!("{HEADER}{yaml}").into_bytes())
}

/// The patch templates stored for `target` under `state_dir` (none when the file is absent).
pub fn load(state_dir: &Path, target: &str) -> Result<Vec<PatchTemplate>, Diagnostics> {
    let path = store_path(state_dir, target);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let name = path.display().to_string();
    let bytes = fsutil::read_bounded(&path, MAX_STORE_BYTES, Duration::from_secs(10))
        .map_err(|e| crate::files::io_diag(&name, e))?;
    let help = format!(
        "the file holds `templates: [{{origin, remote, pinned, text}}]`; fix it, or run `score-gen init --target {target} --patch-templates URI` again"
    );
    let mut file = SourceFile::new(name.clone(), String::from_utf8_lossy(&bytes).into_owned());
    // A planted link out of the project (`patch-templates.yaml -> /proc/self/environ`): its
    // errors keep their place and show none of its text (spec/security.md).
    if crate::files::linked_out_of_project(&path) {
        file = file.with_contents_hidden();
    }
    let file = Arc::new(file);
    let Ok(text) = std::str::from_utf8(&bytes) else {
        let at = bytes.utf8_chunks().next().map_or(0, |c| c.valid().len());
        let (line, column) = file.line_col(at);
        return Err(
            Diagnostic::new(Code::StateInvalid, format!("{name}: not UTF-8 (byte {at})"))
                .with_file(file.clone())
                .with_span(Span::new(at, 0, line, column))
                .with_help(help)
                .into(),
        );
    };
    let opts = serde_saphyr::options! {
        with_snippet: false,
    };
    let store: Store = serde_saphyr::from_str_with_options(text, opts).map_err(|e| {
        let message = e.to_string();
        let mut d = Diagnostic::new(
            Code::StateInvalid,
            format!("{name}: {}", message.lines().next().unwrap_or_default()),
        )
        .with_file(file.clone())
        .with_help(help.clone());
        if let Some(loc) = e.location() {
            let line = usize::try_from(loc.line()).unwrap_or(0);
            let column = usize::try_from(loc.column()).unwrap_or(0).max(1);
            if line > 0 {
                let offset = loc
                    .span()
                    .byte_offset()
                    .and_then(|o| usize::try_from(o).ok())
                    .filter(|o| *o <= text.len() && text.is_char_boundary(*o))
                    .unwrap_or_else(|| offset_of(text, line, column));
                d = d.with_span(Span::new(offset, 0, line, column));
            }
        }
        Diagnostics::from(d)
    })?;
    let templates: Vec<PatchTemplate> = store.templates.iter().map(template).collect();
    if crate::render::VERBOSE.load(std::sync::atomic::Ordering::Relaxed) > 0 {
        for t in &templates {
            let line = format!(
                "score-gen {target}: applying patch template {} (stored in {name})",
                t.origin
            );
            eprintln!("{}", crate::render::terminal_safe(&line));
        }
    }
    Ok(templates)
}

/// Byte offset of a 1-based line and character column, clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        .min(text.len());
    let rest = &text[start..];
    start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_round_trips_any_template_text() {
        let texts = [
            "- op: set\n  path: a\n  value: 1\n",
            "  leading spaces\n\ttab\nno trailing newline",
            "trailing blank lines\n\n\n",
            "{{ range $i, $m := .Manifests }}\n- op: delete\n  path: \"{{ $i }}\"\n{{ end }}",
            "",
            "# comment: with colon\n---\n'quotes' \"and\" \\ backslash \u{e9}\n",
        ];
        let store = Store {
            templates: texts
                .iter()
                .enumerate()
                .map(|(i, t)| Stored {
                    origin: format!("https://example.com/{i}.tpl"),
                    remote: i % 2 == 0,
                    pinned: i == 2,
                    text: t.to_string(),
                })
                .collect(),
        };
        let bytes = render(&store).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("# Patch templates"));
        let back: Store = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, store, "{text}");
    }

    #[test]
    fn credentials_are_not_part_of_an_origin() {
        for (uri, want) in [
            ("https://user:token@host/p.tpl", "https://host/p.tpl"),
            (
                "https://token@host:8443/a/b.tpl#sha256=ab",
                "https://host:8443/a/b.tpl#sha256=ab",
            ),
            (
                "git-https://u:p@ss@github.com/o/r.git/p.tpl",
                "git-https://github.com/o/r.git/p.tpl",
            ),
            ("https://host/a@b.tpl", "https://host/a@b.tpl"),
            ("patches/x@y.tpl", "patches/x@y.tpl"),
            ("https://host?x=@y", "https://host?x=@y"),
            // An ssh user name is no secret (the key is); a password is.
            (
                "git-ssh://git@github.com/o/r.git/p.tpl",
                "git-ssh://git@github.com/o/r.git/p.tpl",
            ),
            (
                "git-ssh://git:pw@github.com/o/r.git/p.tpl",
                "git-ssh://git@github.com/o/r.git/p.tpl",
            ),
        ] {
            assert_eq!(fetch::without_credentials(uri), want, "{uri}");
        }
    }

    #[test]
    fn terraform_has_no_patch_templates() {
        crate::row::install(crate::targets::DEFAULT_TARGETS);
        let terraform = crate::row::default_target("terraform").unwrap();
        let e = init_file(
            &["x.tpl".into()],
            Path::new(".score-gen"),
            terraform.as_ref(),
        )
        .unwrap_err();
        assert_eq!(e.0[0].code, Code::Usage);
        assert!(init_file(&[], Path::new(".score-gen"), terraform.as_ref())
            .unwrap()
            .is_none());
    }
}
