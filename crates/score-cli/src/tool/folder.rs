//! The drop-in tools' project folder (`.score-compose/`, `.score-k8s/`): which tool, and the
//! `*.provisioners.yaml` files the folder holds, named and tried as the tools do. Below the
//! tools' command lines (`tool.rs`): the generate flow and `init` read it too.

use std::path::{Path, PathBuf};

use score_core::host::fetch::{self, FetchOptions};
use score_core::input::ProvisionerFile;
use score_core::{Code, Diagnostic, Diagnostics, ProvisionerSet};

use crate::files::io_diag;
use crate::row;

/// Which tool's command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// score-compose.
    Compose,
    /// score-k8s.
    K8s,
}

impl Tool {
    /// The program name.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Compose => "score-compose",
            Tool::K8s => "score-k8s",
        }
    }

    /// The project folder, relative to the working directory.
    pub fn folder(self) -> &'static str {
        match self {
            Tool::Compose => ".score-compose",
            Tool::K8s => ".score-k8s",
        }
    }

    /// The score-gen target: the table's row for this tool.
    pub fn target(self) -> &'static str {
        row::of_tool(self.program()).name
    }

    /// The error when the folder is missing, in the tool's words.
    pub fn not_initialised(self) -> Diagnostics {
        Diagnostic::new(
            Code::Usage,
            format!(
                "state directory does not exist, please run \"{} init\" first",
                self.program()
            ),
        )
        .with_help(format!(
            "`{} init` creates {}/ with the default provisioners and a sample score.yaml",
            self.program(),
            self.folder()
        ))
        .into()
    }
}

/// Provisioner files `init --provisioners` stores, and the older copies they replace.
pub struct StoredProvisioners {
    /// (path, bytes, confinement base) for `prepare_writes`.
    pub files: Vec<(PathBuf, Vec<u8>, PathBuf)>,
    stale: Vec<PathBuf>,
}

impl StoredProvisioners {
    /// Removes the older copies of the files just written (same URI), as the tools do.
    pub fn remove_stale(&self) -> Result<(), Diagnostics> {
        for old in &self.stale {
            std::fs::remove_file(old).map_err(|e| io_diag(&old.display().to_string(), e))?;
            crate::render::note!("removed the older copy {}", old.display());
        }
        Ok(())
    }
}

/// Fetches and checks each `--provisioners` URI and names it for `dir` as the tools do: the
/// newest first, an older copy of the same URI replaced.
pub fn store_provisioner_files(
    uris: &[String],
    allow_remote_commands: bool,
    dir: &Path,
) -> Result<StoredProvisioners, Diagnostics> {
    let fetched = fetch_provisioner_files(uris, allow_remote_commands)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut out = StoredProvisioners {
        files: Vec::new(),
        stale: Vec::new(),
    };
    for (i, (uri, text)) in fetched.iter().enumerate() {
        // Later URIs get an earlier prefix, so they are tried first, as in the tools.
        let (name, hash) = stored_provisioner_name(uri, now + i as u128);
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let old = entry.file_name().to_string_lossy().into_owned();
            if old.ends_with(&hash) && old != name {
                out.stale.push(dir.join(old));
            }
        }
        let header = format!("# Downloaded from {uri}\n");
        out.files.push((
            dir.join(&name),
            [header.as_bytes(), text.as_bytes()].concat(),
            PathBuf::from("."),
        ));
    }
    Ok(out)
}

/// The default provisioners file's name in the tools' folders.
pub const DEFAULT_PROVISIONERS: &str = "zz-default.provisioners.yaml";

/// The suffix the tools load from their folder.
pub const PROVISIONERS_SUFFIX: &str = ".provisioners.yaml";

/// Fetches each `--provisioners` URI and checks it loads; (URI, text) per file. A file from
/// outside the project (not pinned) that runs programs needs `allow_remote_commands`: once
/// stored in the folder it is a local file, which may run its programs.
fn fetch_provisioner_files(
    uris: &[String],
    allow_remote_commands: bool,
) -> Result<Vec<(String, String)>, Diagnostics> {
    let mut out = Vec::new();
    for uri in uris {
        for f in fetch::fetch(uri, Path::new("."), &FetchOptions::default())? {
            let trusted = f.trusted();
            let set = ProvisionerSet::load_with_trust(
                &[ProvisionerFile::new(f.uri.clone(), f.text.clone())],
                trusted,
            )?;
            if !trusted
                && !allow_remote_commands
                && let Some(p) = set.iter().find(|p| p.is_cmd())
            {
                return Err(Diagnostic::new(
                        Code::Usage,
                        format!(
                            "--provisioners {uri}: the file comes from outside the project, is not pinned, and its entry {} runs a program",
                            p.uri
                        ),
                    )
                    .with_help("pin it with #sha256=HEX, review it and pass --allow-remote-commands, or install a reviewed local copy (spec/security.md)")
                    .into());
            }
            let saved = if f.uri == "-" {
                "from-stdin.provisioners.yaml".to_string()
            } else {
                f.uri.clone()
            };
            out.push((saved, f.text));
        }
    }
    Ok(out)
}

/// The tools' name for a stored provisioner file: a prefix that sorts newer files first
/// (base64url of `i64::MAX - nanoseconds`, big-endian), then base64url of the first 16 bytes of
/// SHA-256(URI) and `.provisioners.yaml`. Returns (name, the part after the prefix).
fn stored_provisioner_name(uri: &str, nanos: u128) -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let digest = sha2::Sha256::digest(uri.as_bytes());
    let hash = format!("{}{PROVISIONERS_SUFFIX}", b64.encode(&digest[..16]));
    let nanos = u64::try_from(nanos)
        .unwrap_or(u64::MAX)
        .min(i64::MAX as u64);
    let prefix = b64.encode((i64::MAX as u64 - nanos).to_be_bytes());
    (format!("{prefix}.{hash}"), hash)
}

/// The `*.provisioners.yaml` files of a tool folder, in the order the tools try them (by name).
pub fn folder_provisioner_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostics> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_diag(&dir.display().to_string(), e))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with(PROVISIONERS_SUFFIX)
        })
        .map(|e| e.path())
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_sort_newest_first_and_share_the_uri_hash() {
        let (old, h1) = stored_provisioner_name("./a.yaml", 1_000);
        let (new, h2) = stored_provisioner_name("./a.yaml", 2_000);
        assert_eq!(h1, h2);
        assert!(new < old, "{new} sorts before {old}");
        assert!(old.ends_with(".provisioners.yaml") && old.ends_with(&h1));
        let (_, other) = stored_provisioner_name("./b.yaml", 1_000);
        assert_ne!(other, h1);
    }
}
