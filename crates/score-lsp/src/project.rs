//! The project around the open files: which target applies, which provisioner files (the
//! project folder's, the settings', then the target's defaults) and what each entry declares.
//!
//! The target is the setting `score.target`, else the one target the project folder was
//! initialised for (`.score-gen/<target>/`, as `score-gen init` leaves it; the first in the
//! table order when there are several), else the first target. Provisioner files are those
//! `generate` loads: `.score-gen/<target>/provisioners/*.yaml|yml` by name, after the files the
//! settings name; an open editor buffer of such a file wins over the disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use score_core::input::ProvisionerFile;
use score_core::provision::Provisioner;
use score_core::{Diagnostic, ProvisionerSet};

use crate::text::LineIndex;
use crate::yamlpath::key_of;
use crate::Doc;

/// A target as the server sees it: its name and its default provisioner file.
#[derive(Debug, Clone)]
pub struct TargetInfo {
    /// The target's name (`compose`, `k8s`, `terraform`): the state directory's name.
    pub name: String,
    /// The text of its default provisioner file, used after the project's files.
    pub default_provisioners: String,
}

/// What an open file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Score workload file.
    Score,
    /// A provisioner file (a YAML list of entries).
    Provisioner,
}

/// A file is a provisioner file when it sits in a `provisioners` folder of a state directory,
/// is named `*.provisioners.yaml`, or is a YAML list (a Score file is a mapping) not named
/// `score*.yaml` (a Score file being typed may start as a list: it gets validate's error).
pub fn classify(uri: &str, text: &str) -> Kind {
    let path = uri_to_path(uri).unwrap_or_else(|| PathBuf::from(uri));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let in_dir = path
        .parent()
        .is_some_and(|p| p.file_name().is_some_and(|n| n == "provisioners"));
    if in_dir || name.ends_with(".provisioners.yaml") || name.ends_with(".provisioners.yml") {
        return Kind::Provisioner;
    }
    if name.starts_with("score") && (name.ends_with(".yaml") || name.ends_with(".yml")) {
        return Kind::Score;
    }
    let first = text.lines().map(str::trim_start).find(|l| {
        !l.is_empty() && !l.starts_with('#') && !l.starts_with("---") && !l.starts_with('%')
    });
    match first {
        Some(l) if l == "-" || l.starts_with("- ") => Kind::Provisioner,
        _ => Kind::Score,
    }
}

/// The local path of a `file:` URI (percent-decoded).
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = rest.get(i + 1..i + 3).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// A `file:` URI for a local path (bytes outside the unreserved set percent-encoded).
pub fn path_to_uri(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The provisioners in force for the open files.
#[derive(Debug)]
pub struct Project {
    /// The target's name.
    pub target: String,
    /// User files (by URI, in order), then the target's defaults.
    pub set: ProvisionerSet,
}

/// Provisioner files larger than this are not read from disk (score-core's own input limit).
const MAX_FILE: u64 = 4 * 1024 * 1024;

impl Project {
    /// The target and provisioner set for the project at `root`.
    pub fn load(
        config: &crate::Config,
        root: Option<&Path>,
        target: &Option<String>,
        extra: &[String],
        docs: &BTreeMap<String, Doc>,
    ) -> Project {
        let info = pick_target(config, root, target.as_deref());
        let mut files: Vec<PathBuf> = Vec::new();
        if let Some(root) = root {
            files.extend(extra.iter().map(|p| root.join(p)));
            let dir = root.join(".score-gen").join(&info.0).join("provisioners");
            if let Ok(entries) = std::fs::read_dir(&dir) {
                let mut names: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                    .collect();
                names.sort();
                files.extend(names);
            }
        }
        let mut set = ProvisionerSet::default();
        for path in files {
            let uri = path_to_uri(&path);
            let text = match docs.get(&uri) {
                Some(d) => d.text.clone(),
                None => match read_small(&path) {
                    Some(t) => t,
                    None => continue,
                },
            };
            // A file that does not load contributes nothing; its errors show on the file.
            if let Ok(s) = ProvisionerSet::load(&[ProvisionerFile::new(uri, text)]) {
                set.extend(s);
            }
        }
        if let Some(defaults) = &info.1
            && let Ok(s) = ProvisionerSet::load(&[ProvisionerFile::new(
                format!("<{} default provisioners>", info.0),
                defaults.clone(),
            )])
        {
            set.extend(s);
        }
        Project {
            target: info.0,
            set,
        }
    }
}

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// (target name, its default provisioners).
fn pick_target(
    config: &crate::Config,
    root: Option<&Path>,
    setting: Option<&str>,
) -> (String, Option<String>) {
    let by_name = |n: &str| config.targets.iter().find(|t| t.name == n);
    let chosen = setting
        .and_then(by_name)
        .or_else(|| {
            let root = root?;
            config
                .targets
                .iter()
                .find(|t| root.join(".score-gen").join(&t.name).is_dir())
        })
        .or(config.targets.first());
    match (chosen, setting) {
        (Some(t), _) => (t.name.clone(), Some(t.default_provisioners.clone())),
        (None, Some(s)) => (s.to_string(), None),
        (None, None) => (String::new(), None),
    }
}

/// The load diagnostics of a provisioner file's text (template syntax, unknown keys, shape).
pub fn provisioner_file_diagnostics(uri: &str, text: &str) -> Vec<Diagnostic> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    match ProvisionerSet::load(&[ProvisionerFile::new(uri, text)]) {
        Ok(_) => Vec::new(),
        Err(d) => vec![d],
    }
}

/// The output keys an entry declares: `expected_outputs`, `secret_outputs`,
/// `expression_outputs`, and the top-level keys its `outputs` template writes literally. Each
/// with whether it is secret.
pub fn outputs_of(p: &Provisioner) -> Vec<(String, bool)> {
    let mut keys: Vec<String> = Vec::new();
    let mut add = |k: &str| {
        if !k.is_empty() && !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    };
    for k in p
        .expected_outputs
        .iter()
        .chain(&p.secret_outputs)
        .chain(&p.expression_outputs)
    {
        add(k);
    }
    for k in template_output_keys(&p.source.file.text, p.source.line) {
        add(&k);
    }
    keys.into_iter()
        .map(|k| {
            let secret = p.secret_outputs.contains(&k);
            (k, secret)
        })
        .collect()
}

/// The keys at the first indentation of the `outputs: |` block of the entry starting at
/// 1-based `line` (lines that are plain `key:` text, not template tags).
fn template_output_keys(text: &str, line: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(first) = lines.get(line.saturating_sub(1)) else {
        return Vec::new();
    };
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let dash = indent(first);
    let mut out = Vec::new();
    let mut i = line; // the line after the entry's first
    while i < lines.len() {
        let l = lines[i];
        if !l.trim().is_empty() && indent(l) <= dash {
            break; // the next entry
        }
        let body = l.trim_start();
        if body.starts_with("outputs:") && body["outputs:".len()..].trim_start().starts_with('|') {
            let key_indent = indent(l);
            let mut base = None;
            i += 1;
            while i < lines.len() {
                let b = lines[i];
                if b.trim().is_empty() {
                    i += 1;
                    continue;
                }
                let ind = indent(b);
                if ind <= key_indent {
                    break;
                }
                let base = *base.get_or_insert(ind);
                if ind == base
                    && let Some(k) = key_of(b.trim_start())
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    out.push(k.to_string());
                }
                i += 1;
            }
            break;
        }
        i += 1;
    }
    out
}

/// Hover in a provisioner file: the documentation of the template function under the cursor,
/// in the dialect of its entry (`engine: minijinja`, else Go templates).
pub fn provisioner_hover(
    text: &str,
    index: &LineIndex,
    offset: usize,
) -> Option<(String, (usize, usize))> {
    let pos = index.position(text, offset);
    let line_no = pos.line as usize;
    let line = index.line(text, line_no);
    let start_of_line = index.line_start(line_no)?;
    let col = crate::text::floor_boundary(line, offset - start_of_line);
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ws = line[..col]
        .rfind(|c: char| !is_word(c))
        .map_or(0, |i| i + 1);
    let we = line[col..]
        .find(|c: char| !is_word(c))
        .map_or(line.len(), |i| col + i);
    let word = &line[ws..we];
    if word.is_empty() {
        return None;
    }
    let minijinja = entry_is_minijinja(text, index, line_no);
    let (table, dialect) = if minijinja {
        (crate::functions::MINIJINJA, "minijinja")
    } else {
        (crate::functions::GO, "Go template")
    };
    // Only inside a template tag on this line or a template block (any line after `{{`).
    let doc = crate::functions::doc(table, word)?;
    Some((
        format!("{doc}\n\n*{dialect} function*"),
        (start_of_line + ws, we - ws),
    ))
}

/// Whether the entry containing line `line_no` says `engine: minijinja`.
fn entry_is_minijinja(text: &str, index: &LineIndex, line_no: usize) -> bool {
    let mut start = line_no;
    loop {
        let l = index.line(text, start);
        if l.starts_with("- ") || l == "-" || start == 0 {
            break;
        }
        start -= 1;
    }
    let mut i = start;
    while i < index.len() {
        let l = index.line(text, i);
        if i > start && (l.starts_with("- ") || l == "-") {
            break;
        }
        let body = l.trim_start_matches([' ', '-']);
        if body.starts_with("engine:") && body.contains("minijinja") {
            return true;
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/score.yaml");
        let u = path_to_uri(p);
        assert_eq!(u, "file:///tmp/a%20b/score.yaml");
        assert_eq!(uri_to_path(&u).unwrap(), p);
        assert_eq!(uri_to_path("file:///x%2"), Some(PathBuf::from("/x%2")));
        assert!(uri_to_path("untitled:1").is_none());
    }

    #[test]
    fn classifies_files() {
        assert_eq!(
            classify("file:///p/score.yaml", "apiVersion: x\n"),
            Kind::Score
        );
        assert_eq!(
            classify("file:///p/x.yaml", "# c\n- uri: template://a\n"),
            Kind::Provisioner
        );
        assert_eq!(classify("file:///p/score.yaml", "- a\n"), Kind::Score);
        assert_eq!(
            classify("file:///p/.score-gen/compose/provisioners/a.yaml", ""),
            Kind::Provisioner
        );
    }

    #[test]
    fn output_keys_from_the_template() {
        let text = "- uri: template://a\n  type: x\n  expected_outputs: [host]\n  outputs: |\n    host: h\n    {% if true %}\n    port: 1\n    {% endif %}\n    nested:\n      inner: 1\n- uri: template://b\n  type: y\n";
        let set = ProvisionerSet::load(&[ProvisionerFile::new("f", text)]).unwrap();
        let p = set.iter().next().unwrap();
        let keys: Vec<String> = outputs_of(p).into_iter().map(|k| k.0).collect();
        assert_eq!(keys, ["host", "port", "nested"]);
    }
}
