//! The provider schema check: every `resource` and `data` block of every emitted file against the
//! real schema of its provider, read from the `.jsii` manifest of the pinned npm packages
//! `@cdktf/provider-kubernetes@12.1.1` (kubernetes provider 2.38.0) and
//! `@cdktf/provider-random@12.0.1` (installed by `.ci/validators`; no provider registry is
//! reachable here).
//!
//! How the manifest holds a schema: a class per resource whose docs summary links the registry
//! page `.../docs/resources/<x> <terraform type>` (or `data-sources/`), its `<Class>Config`
//! struct lists the top-level arguments, and a struct per nested block. A property's docs name
//! its HCL name after the last `#` of the `{@link ...#name Class#name}`; a nested
//! block's summary is "<name> block."; a required argument or block is not `optional`.
//! (The docs link sits in the summary or the remarks; two properties have none and take the
//! snake case of their name.)

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// The pinned packages: (npm name, version).
pub const PACKAGES: &[(&str, &str)] = &[
    ("@cdktf/provider-kubernetes", "12.1.1"),
    ("@cdktf/provider-random", "12.0.1"),
];

/// The providers of those packages (a resource type's first word).
pub const PROVIDERS: &[&str] = &["kubernetes", "random"];

#[derive(Debug, Default)]
struct Struct {
    /// HCL name → required.
    attributes: BTreeMap<String, bool>,
    /// HCL name → (required, struct fqn).
    blocks: BTreeMap<String, (bool, String)>,
}

pub struct Schemas {
    structs: HashMap<String, Struct>,
    /// (`resource` | `data`, terraform type) → config struct fqn.
    roots: HashMap<(String, String), String>,
}

fn package_dir(name: &str) -> PathBuf {
    crate::workspace_root()
        .join(".validators/node_modules")
        .join(name)
}

/// The schemas, or `None` (with the kit's skip or CI failure) when the packages are missing.
/// Panics when an installed package is not the pinned version.
pub fn schemas() -> Option<&'static Schemas> {
    static CELL: OnceLock<Option<Schemas>> = OnceLock::new();
    CELL.get_or_init(|| {
        let mut all = Schemas {
            structs: HashMap::new(),
            roots: HashMap::new(),
        };
        for (name, version) in PACKAGES {
            let dir = package_dir(name);
            let Ok(pkg) = std::fs::read_to_string(dir.join("package.json")) else {
                crate::validator_missing(&format!("the provider schema package {name}@{version}"));
                return None;
            };
            let pkg: Value = serde_json::from_str(&pkg).unwrap();
            assert_eq!(
                pkg["version"].as_str(),
                Some(*version),
                "{name}: the schema check is pinned to {version}; run `bash .ci/validators`"
            );
            load(&dir.join(".jsii"), &mut all);
        }
        Some(all)
    })
    .as_ref()
}

fn load(path: &Path, into: &mut Schemas) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let jsii: Value = serde_json::from_str(&text).unwrap();
    let types = jsii["types"]
        .as_object()
        .expect("a .jsii manifest has types");
    for (fqn, t) in types {
        let summary = t["docs"]["summary"].as_str().unwrap_or_default();
        if t["kind"] == "class" {
            if let Some(root) = resource_of(summary) {
                let config = format!("{fqn}Config");
                assert!(types.contains_key(&config), "{fqn}: no {config}");
                into.roots.insert(root, config);
            }
            continue;
        }
        if t["kind"] != "interface" || t["datatype"] != true {
            continue;
        }
        let mut s = Struct::default();
        for p in t["properties"].as_array().into_iter().flatten() {
            let docs = &p["docs"];
            let text = format!(
                "{} {}",
                docs["summary"].as_str().unwrap_or_default(),
                docs["remarks"].as_str().unwrap_or_default()
            );
            let name = hcl_name(&text)
                .unwrap_or_else(|| snake_case(p["name"].as_str().unwrap_or_default()));
            let required = p["optional"] != true;
            let is_block = docs["summary"]
                .as_str()
                .is_some_and(|s| s.ends_with(" block."));
            match (is_block, nested_fqn(&p["type"])) {
                (true, Some(inner)) => {
                    s.blocks.insert(name, (required, inner));
                }
                _ => {
                    s.attributes.insert(name, required);
                }
            }
        }
        into.structs.insert(fqn.clone(), s);
    }
}

/// `Represents a {@link https://.../docs/resources/x kubernetes_x}.` → (`resource`, `kubernetes_x`).
fn resource_of(summary: &str) -> Option<(String, String)> {
    let rest = summary.strip_prefix("Represents a {@link ")?;
    let (url, tail) = rest.split_once(' ')?;
    let ty = tail.split('}').next()?.to_string();
    let kind = if url.contains("/docs/resources/") {
        "resource"
    } else if url.contains("/docs/data-sources/") {
        "data"
    } else {
        return None;
    };
    Some((kind.to_string(), ty))
}

/// `... {@link https://...#wait_until_bound Class#wait_until_bound}` → `wait_until_bound` (the
/// link is in the summary or in the remarks).
fn hcl_name(docs: &str) -> Option<String> {
    docs.match_indices('#').rev().find_map(|(i, _)| {
        let rest = &docs[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty() && rest[name.len()..].starts_with('}')).then_some(name)
    })
}

/// `storageClassName` → `storage_class_name` (for the few properties whose docs have no link).
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The struct of a block: the type's `fqn`, or the element of a list in a union.
fn nested_fqn(t: &Value) -> Option<String> {
    if let Some(f) = t["fqn"].as_str() {
        return (!f.starts_with("cdktf.")).then(|| f.to_string());
    }
    if let Some(e) = t.get("collection") {
        return nested_fqn(&e["elementtype"]);
    }
    t["union"]["types"].as_array()?.iter().find_map(nested_fqn)
}

/// Meta-arguments Terraform accepts in every resource and data block.
const META_ATTRIBUTES: &[&str] = &["count", "for_each", "depends_on", "provider"];
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];

impl Schemas {
    /// Every problem of the `resource`/`data` blocks of one file's text (`file` names it).
    pub fn check_file(&self, file: &str, text: &str) -> Vec<String> {
        let body: hcl::Body = match hcl::parse(text) {
            Ok(b) => b,
            Err(e) => return vec![format!("{file}: not HCL: {e}")],
        };
        let mut problems = Vec::new();
        for b in body.blocks() {
            let kind = b.identifier();
            if kind != "resource" && kind != "data" {
                continue;
            }
            let labels: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
            let at = format!("{file}: {kind} \"{}\"", labels.join("\" \""));
            let Some(ty) = labels.first() else {
                problems.push(format!("{at}: no type label"));
                continue;
            };
            // A type's provider is its first word; other providers (a user provisioner's aws_*)
            // have no pinned schema here and are left to `terraform validate` on the user's side.
            let provider = ty.split('_').next().unwrap_or_default();
            if !PROVIDERS.contains(&provider) {
                continue;
            }
            match self.roots.get(&(kind.to_string(), ty.to_string())) {
                None => problems.push(format!(
                    "{at}: no {kind} type '{ty}' in the pinned provider schemas"
                )),
                Some(fqn) => self.check_body(fqn, b.body(), true, &at, &mut problems),
            }
        }
        problems
    }

    fn check_body(
        &self,
        fqn: &str,
        body: &hcl::Body,
        top: bool,
        at: &str,
        problems: &mut Vec<String>,
    ) {
        let s = &self.structs[fqn];
        for a in body.attributes() {
            let k = a.key();
            if s.attributes.contains_key(k) || (top && META_ATTRIBUTES.contains(&k)) {
                continue;
            }
            if s.blocks.contains_key(k) {
                problems.push(format!("{at}: '{k}' is a block, written as an attribute"));
            } else {
                problems.push(format!("{at}: no argument '{k}'"));
            }
        }
        for b in body.blocks() {
            let k = b.identifier();
            if let Some((_, inner)) = s.blocks.get(k) {
                self.check_body(inner, b.body(), false, &format!("{at}.{k}"), problems);
            } else if top && META_BLOCKS.contains(&k) {
            } else if s.attributes.contains_key(k) {
                problems.push(format!("{at}: '{k}' is an attribute, written as a block"));
            } else {
                problems.push(format!("{at}: no block '{k}'"));
            }
        }
        for (k, required) in &s.attributes {
            if *required && !body.attributes().any(|a| a.key() == k) {
                problems.push(format!("{at}: the required argument '{k}' is not set"));
            }
        }
        for (k, (required, _)) in &s.blocks {
            if *required && !body.blocks().any(|b| b.identifier() == k) {
                problems.push(format!("{at}: the required block '{k}' is missing"));
            }
        }
    }
}
