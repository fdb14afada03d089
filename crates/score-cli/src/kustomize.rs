//! k8s `--kustomize DIR`: one file per object plus `kustomization.yaml`, so per-environment
//! overlays (`resources: [../base]`, `patches:`, `replicas:`) work on score-gen's output.
//!
//! The objects' text is the target's own, cut at the document separators, so a file holds
//! exactly the bytes the object has in `manifests.yaml` (YAML or KYAML).

use score_core::target::{ArtefactFile, Artefacts};
use score_core::{Code, Diagnostic, Diagnostics};

/// The name of the primary artefact.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

/// Replaces the manifests (the primary artefact) by `kustomization.yaml` listing one file per
/// object, `<kind>-<name>.yaml` (lower case; `-<namespace>` added when two objects share kind
/// and name, then a counter), in the manifests' order.
pub fn split(artefacts: &mut Artefacts) -> Result<(), Diagnostics> {
    let Some(first) = artefacts.files.first() else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&first.content).into_owned();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut taken = std::collections::BTreeSet::new();
    for doc in documents(&text) {
        let value: serde_json::Value = serde_saphyr::from_str(&doc).map_err(|e| {
            Diagnostic::new(
                Code::Internal,
                format!("internal: cannot read a manifest back to split it: {e}"),
            )
            .with_help("please report this with the Score files attached; -o FILE works")
        })?;
        if value.is_null() {
            continue;
        }
        let field = |p: &str| value.pointer(p).and_then(|v| v.as_str()).unwrap_or("");
        let base = format!(
            "{}-{}",
            file_part(field("/kind")),
            file_part(field("/metadata/name"))
        );
        let mut name = format!("{base}.yaml");
        if taken.contains(&name) {
            name = format!("{base}-{}.yaml", file_part(field("/metadata/namespace")));
        }
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}.yaml");
            n += 1;
        }
        taken.insert(name.clone());
        files.push((name, doc.into_bytes()));
    }
    let mut kustomization = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    if files.is_empty() {
        kustomization = kustomization.replace("resources:\n", "resources: []\n");
    }
    for (name, _) in &files {
        kustomization.push_str(&format!("- {name}\n"));
    }
    let mut out = vec![ArtefactFile::new(KUSTOMIZATION, kustomization)];
    out.extend(files.into_iter().map(|(n, b)| ArtefactFile::new(n, b)));
    // Any further artefact of the target stays after the objects.
    out.extend(artefacts.files.drain(1..));
    artefacts.files = out;
    Ok(())
}

/// The documents of a multi-document YAML text, each ending with a newline, without the `---`
/// lines (KYAML puts one before every document).
fn documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            if !cur.trim().is_empty() {
                docs.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        }
        cur.push_str(line);
    }
    if !cur.trim().is_empty() {
        if !cur.ends_with('\n') {
            cur.push('\n');
        }
        docs.push(cur);
    }
    docs
}

/// A kind, name or namespace as part of a file name: lower case, `[a-z0-9.-]` kept, the rest `_`.
fn file_part(s: &str) -> String {
    let s: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_and_names_files() {
        let mut a = Artefacts::default();
        a.files.push(ArtefactFile::new(
            "manifests.yaml",
            b"apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: b\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n".to_vec(),
        ));
        split(&mut a).unwrap();
        let names: Vec<String> = a
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                KUSTOMIZATION,
                "service-web.yaml",
                "service-web-b.yaml",
                "deployment-web.yaml"
            ]
        );
        assert_eq!(
            String::from_utf8_lossy(&a.files[0].content),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- service-web.yaml\n- service-web-b.yaml\n- deployment-web.yaml\n"
        );
        assert_eq!(
            String::from_utf8_lossy(&a.files[3].content),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        );
    }

    #[test]
    fn kyaml_documents_split_too() {
        let docs = documents("---\n{\n  kind: \"A\",\n}\n---\n{\n  kind: \"B\",\n}\n");
        assert_eq!(docs, ["{\n  kind: \"A\",\n}\n", "{\n  kind: \"B\",\n}\n"]);
    }
}
