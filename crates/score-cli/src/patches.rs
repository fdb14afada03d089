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

use score_core::host::fetch::{self, FetchOptions};
use score_core::host::fsutil;
use score_core::{check_patch_template, PatchDialect, PatchTemplate};
use score_core::{Code, Diagnostic, Diagnostics};

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

/// The data and functions `target`'s patch templates get; `None` for a target without patch
/// templates.
fn dialect(target: &str) -> Option<PatchDialect> {
    match target {
        "compose" => Some(PatchDialect::Compose),
        "k8s" => Some(PatchDialect::K8s {
            namespace: String::new(),
        }),
        _ => None,
    }
}

/// For `score-compose init --patch-templates` / `score-k8s init --patch-templates`: fetches
/// every URI and checks each template parses; the templates in order.
pub fn fetch_checked(uris: &[String], target: &str) -> Result<Vec<PatchTemplate>, Diagnostics> {
    let Some((_, bytes)) = init_file(uris, Path::new("."), target)? else {
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
    target: &str,
) -> Result<Option<(PathBuf, Vec<u8>)>, Diagnostics> {
    if uris.is_empty() {
        return Ok(None);
    }
    let Some(dialect) = dialect(target) else {
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
                format!("--patch-templates {uri}: no file found there"),
            )
            .with_help("give the path or URI of a template file")
            .into());
        }
        for f in files {
            let t = Stored {
                origin: f.uri.clone(),
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
    Ok(Some((store_path(state_dir, target), render(&store)?)))
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
        .map_err(|e| crate::generate::io_diag(&name, e))?;
    let invalid = |msg: String| -> Diagnostics {
        Diagnostic::new(Code::StateInvalid, format!("{name}: {msg}"))
            .with_help(format!(
                "the file holds `templates: [{{origin, remote, pinned, text}}]`; fix it, or run `score-gen init --target {target} --patch-templates URI` again"
            ))
            .into()
    };
    let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8".into()))?;
    let store: Store = serde_saphyr::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let templates: Vec<PatchTemplate> = store.templates.iter().map(template).collect();
    if crate::VERBOSE.load(std::sync::atomic::Ordering::Relaxed) > 0 {
        for t in &templates {
            eprintln!(
                "score-gen {target}: applying patch template {} (stored in {name})",
                t.origin
            );
        }
    }
    Ok(templates)
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
    fn terraform_has_no_patch_templates() {
        let e = init_file(&["x.tpl".into()], Path::new(".score-gen"), "terraform").unwrap_err();
        assert_eq!(e.0[0].code, Code::Usage);
        assert!(init_file(&[], Path::new(".score-gen"), "terraform")
            .unwrap()
            .is_none());
    }
}
