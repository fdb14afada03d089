//! The Score community's provisioner files (`../shared/reference/peers/community-provisioners/`),
//! given to `score-gen` with `--provisioners` as their READMEs say: each file compiles its
//! folder's Score files (`score*.yaml`) with its tool's target, in a copy of the folder (so a
//! `cmd://` script reads the folder's own files, as it would in the repository), and the output
//! passes the real validators: the docker compose loader for compose, kubernetes-validate for
//! k8s (kinds it has no schema for must still carry apiVersion, kind and metadata.name).
//!
//! Files whose `cmd://` scripts need a program this machine does not have (gh, jq, yq, helm,
//! microcks) or a network host are listed in [`NEEDS`] with the reason, and are ignored trials.
//! Locally the corpus may be absent (skipped with a message); under `CI=true` that is a failure.

use score_testkit as kit;
use score_testkit::{compose, k8s};

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};

/// Community files that cannot run here, and why (folder/tool/file).
const NEEDS: &[(&str, &str)] = &[
    (
        "dns/score-compose/10-dns-in-codespace.provisioners.yaml",
        "its cmd:// script runs `gh codespace view` and `jq` inside a GitHub Codespace",
    ),
    (
        "dns/score-k8s/10-dns-in-codespace.provisioners.yaml",
        "its cmd:// script runs `gh codespace view` and `jq` inside a GitHub Codespace",
    ),
    (
        "endpoint/score-k8s/10-endpoint-with-microcks-cli.provisioners.yaml",
        "its cmd:// script runs the `microcks` CLI against a Microcks server",
    ),
    (
        "llm-model/score-compose/10-dmr-llm-model-via-curl-cmd.provisioners.yaml",
        "its cmd:// script runs `yq` and `curl` against Docker Model Runner on localhost:12434",
    ),
    (
        "redis/score-k8s/10-redis-helm-template.provisioners.yaml",
        "its cmd:// script runs `helm template` with the Bitnami chart from the network",
    ),
    (
        "redis/score-k8s/10-redis-helm-upgrade.provisioners.yaml",
        "its cmd:// script runs `helm upgrade --install` against a cluster",
    ),
];

/// What a community file's output expects from elsewhere, merged into its compose.yaml before
/// validation (score-compose's output has the same references): the Microcks mock depends on the
/// Microcks server the user runs beside it, and the Ollama puller on "an existing local Ollama
/// service" and its volume.
const COMPANIONS: &[(&str, &str)] = &[
    (
        "endpoint/score-compose/10-endpoint-with-microcks.provisioners.yaml",
        "services: {microcks: {image: 'quay.io/microcks/microcks-uber:latest'}}",
    ),
    (
        "llm-model/score-compose/10-ollama-llm-model-service.provisioners.yaml",
        "services: {ollama: {image: 'ollama/ollama:latest'}}\nvolumes: {ollama_data: {}}",
    ),
];

/// (tool folder, score-gen subcommand, output file).
const TOOLS: [(&str, &str, &str); 2] = [
    ("score-compose", "compose", "compose.yaml"),
    ("score-k8s", "k8s", "manifests.yaml"),
];

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}

/// Runs one community file: `score-gen <target> --provisioners <file> score*.yaml -o <out>` in a
/// copy of its folder, then the validator.
fn run_one(folder: &Path, tool: usize, file: &Path, key: &str) -> Result<(), Failed> {
    let (tool_dir, command, out) = TOOLS[tool];
    let tmp = tempfile::tempdir()?;
    copy_dir(folder, tmp.path())?;
    let mut scores: Vec<String> = std::fs::read_dir(folder)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("score") && n.ends_with(".yaml"))
        .collect();
    scores.sort();
    let rel = Path::new(tool_dir).join(file.file_name().ok_or("file name")?);
    let run = score_testkit::bin!("score-gen")
        .command()
        .current_dir(tmp.path())
        .arg(command)
        .arg("--provisioners")
        .arg(&rel)
        .args(&scores)
        .args(["-o", out])
        .output()?;
    if !run.status.success() {
        return Err(format!(
            "score-gen {command} failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        )
        .into());
    }
    let text = std::fs::read_to_string(tmp.path().join(out))?;
    let name = format!(
        "{}-{}",
        folder.file_name().unwrap_or_default().to_string_lossy(),
        file.file_stem().unwrap_or_default().to_string_lossy()
    )
    .replace('.', "-");
    if command == "compose" {
        let mut text = text;
        if let Some((_, extra)) = COMPANIONS.iter().find(|(k, _)| *k == key) {
            let mut doc: serde_json::Value = serde_saphyr::from_str(&text)?;
            let extra: serde_json::Map<String, serde_json::Value> = serde_saphyr::from_str(extra)?;
            for (section, entries) in extra {
                let slot = &mut doc[section.as_str()];
                if slot.is_null() {
                    *slot = serde_json::json!({});
                }
                for (k, v) in entries.as_object().into_iter().flatten() {
                    slot[k.as_str()] = v.clone();
                }
            }
            text = serde_saphyr::to_string(&doc)?;
        }
        // compose.yaml and everything score-gen wrote beside it (mounted files, .env).
        let mut files = vec![(PathBuf::from(out), text.into_bytes())];
        let mounts = tmp.path().join(".score-gen/mounts");
        if mounts.is_dir() {
            collect(&mounts, tmp.path(), &mut files)?;
        }
        compose::check_compose_files(&name, &files)?;
    } else {
        for doc in text.split("\n---\n").filter(|d| !d.trim().is_empty()) {
            let v: serde_json::Value = serde_saphyr::from_str(doc)?;
            for field in ["/apiVersion", "/kind", "/metadata/name"] {
                if !v.pointer(field).is_some_and(|x| x.is_string()) {
                    return Err(format!("{name}: a manifest has no {field}:\n{doc}").into());
                }
            }
        }
        k8s::kubernetes_validate(&text, &name);
    }
    Ok(())
}

fn collect(dir: &Path, base: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect(&p, base, out)?;
        } else {
            let rel = p
                .strip_prefix(base)
                .map(Path::to_path_buf)
                .unwrap_or(p.clone());
            out.push((rel, std::fs::read(&p)?));
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    if let Some(peers) = kit::peers_dir() {
        let root = peers.join("community-provisioners");
        let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
            .expect("community-provisioners")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_dir()
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        folders.sort();
        for folder in folders {
            for (tool, (tool_dir, _, _)) in TOOLS.iter().enumerate() {
                let Ok(entries) = std::fs::read_dir(folder.join(tool_dir)) else {
                    continue;
                };
                let mut files: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.to_string_lossy().ends_with(".provisioners.yaml"))
                    .collect();
                files.sort();
                for file in files {
                    let key = file
                        .strip_prefix(&root)
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let need = NEEDS.iter().find(|(k, _)| *k == key).map(|(_, why)| *why);
                    let name = match need {
                        Some(why) => format!("community::{key} (not here: {why})"),
                        None => format!("community::{key}"),
                    };
                    let folder = folder.clone();
                    trials.push(
                        Trial::test(name, move || run_one(&folder, tool, &file, &key))
                            .with_ignored_flag(need.is_some()),
                    );
                }
            }
        }
        assert!(
            trials.len() >= 20,
            "the community corpus has {} provisioner files; expected at least 20",
            trials.len()
        );
    }
    libtest_mimic::run(&args, trials).exit()
}
