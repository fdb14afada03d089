//! The module check, on the files one run emits (paths relative to the output directory): every
//! `module` whose `source` is local (`./`, `../`) points at a directory the run wrote, every
//! argument passed to it is a `variable` of that module and every variable without a default is
//! passed, and every `module.X.Y` reference names a `module "X"` of the same directory and, when
//! X is local, an `output "Y"` of it. Modules from elsewhere (a registry, git, a team's path that
//! the run does not write) are only checked to be declared. In every directory, each `var.X`,
//! `local.X` and `<type>.<name>` reference to a kubernetes or random resource names a
//! `variable`, a `locals` entry or a `resource` declared there (what `terraform validate` would
//! say of a typo, without the providers it needs).

use std::collections::{BTreeMap, BTreeSet};

/// What one directory's `.tf` files declare.
#[derive(Default, Debug)]
struct Dir {
    /// name → has a default.
    variables: BTreeMap<String, bool>,
    outputs: BTreeSet<String>,
    /// label → (source, argument names).
    modules: BTreeMap<String, (String, Vec<String>)>,
    /// `module.X.Y` references: (X, Y).
    references: Vec<(String, String)>,
    /// `locals` names.
    locals: BTreeSet<String>,
    /// `resource "T" "N"`: `T.N`.
    resources: BTreeSet<String>,
    /// `var.X`, `local.X` and `T.N` (T a kubernetes_/random_ type) references, as written.
    names: Vec<String>,
}

/// Arguments Terraform itself gives a `module` block.
const META: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

fn dir_of(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}

/// `dir` joined with a relative `source`, `.` and `..` resolved; `None` when it leaves the root.
fn join(dir: &str, source: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in source.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// `module.X.Y` in `text` (X, Y identifiers), not preceded by an identifier character.
fn references(text: &str) -> Vec<(String, String)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in text.match_indices("module.") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = &text[i + "module.".len()..];
        let x = ident(rest);
        let after = &rest[x.len()..];
        if x.is_empty() || !after.starts_with('.') {
            continue;
        }
        let y = ident(&after[1..]);
        if !y.is_empty() {
            out.push((x, y));
        }
    }
    out
}

/// `prefix` + identifier (`var.x`) and, for resource types (`kubernetes_x.n`, `random_x.n`),
/// the type and name, wherever they appear in `text` after a non-identifier character.
fn names(text: &str) -> Vec<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = Vec::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if is_ident(bytes[i]) && (i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == '.')) {
            let start = i;
            while i < bytes.len() && is_ident(bytes[i]) {
                i += 1;
            }
            let first: String = bytes[start..i].iter().collect();
            let wanted = first == "var"
                || first == "local"
                || first.starts_with("kubernetes_")
                || first.starts_with("random_");
            if wanted && i < bytes.len() && bytes[i] == '.' {
                let s2 = i + 1;
                let mut j = s2;
                while j < bytes.len() && is_ident(bytes[j]) {
                    j += 1;
                }
                if j > s2 {
                    let second: String = bytes[s2..j].iter().collect();
                    out.push(format!("{first}.{second}"));
                }
                i = j;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Every problem of the run's modules; `files` are (relative path, text).
pub fn check(files: &[(String, String)]) -> Vec<String> {
    let mut dirs: BTreeMap<String, Dir> = BTreeMap::new();
    let mut problems = Vec::new();
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".tf")) {
        let d = dirs.entry(dir_of(path)).or_default();
        let body: hcl::Body = match hcl::parse(text) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{path}: not HCL: {e}"));
                continue;
            }
        };
        for b in body.blocks() {
            let label = b.labels().first().map(|l| l.as_str().to_string());
            match (b.identifier(), label) {
                ("variable", Some(name)) => {
                    let has_default = b.body().attributes().any(|a| a.key() == "default");
                    d.variables.insert(name, has_default);
                }
                ("output", Some(name)) => {
                    d.outputs.insert(name);
                }
                ("resource", Some(ty)) => {
                    if let Some(n) = b.labels().get(1) {
                        d.resources.insert(format!("{ty}.{}", n.as_str()));
                    }
                }
                ("locals", _) => {
                    d.locals
                        .extend(b.body().attributes().map(|a| a.key().to_string()));
                }
                ("module", Some(name)) => {
                    let source = b
                        .body()
                        .attributes()
                        .find(|a| a.key() == "source")
                        .and_then(|a| match a.expr() {
                            hcl::Expression::String(s) => Some(s.clone()),
                            _ => None,
                        });
                    let Some(source) = source else {
                        problems.push(format!("{path}: module \"{name}\" has no string source"));
                        continue;
                    };
                    let args = b
                        .body()
                        .attributes()
                        .map(|a| a.key().to_string())
                        .filter(|k| !META.contains(&k.as_str()))
                        .collect();
                    d.modules.insert(name, (source, args));
                }
                _ => {}
            }
        }
        d.references.extend(references(text));
        d.names.extend(names(text));
    }
    for (dir, d) in &dirs {
        let at = if dir.is_empty() { "." } else { dir.as_str() };
        for (name, (source, args)) in &d.modules {
            if !(source.starts_with("./") || source.starts_with("../")) {
                continue;
            }
            let Some(target) = join(dir, source).filter(|t| dirs.contains_key(t)) else {
                problems.push(format!(
                    "{at}: module \"{name}\": source '{source}' is not a directory the run wrote"
                ));
                continue;
            };
            let m = &dirs[&target];
            for a in args {
                if !m.variables.contains_key(a) {
                    problems.push(format!(
                        "{at}: module \"{name}\": argument '{a}' is not a variable of {target}"
                    ));
                }
            }
            for (v, has_default) in &m.variables {
                if !has_default && !args.contains(v) {
                    problems.push(format!(
                        "{at}: module \"{name}\": the required variable '{v}' of {target} is not passed"
                    ));
                }
            }
        }
        for n in &d.names {
            let (kind, name) = n.split_once('.').unwrap();
            let known = match kind {
                "var" => d.variables.contains_key(name),
                "local" => d.locals.contains(name),
                _ => d.resources.contains(n),
            };
            if !known {
                problems.push(format!("{at}: {n} is not declared here"));
            }
        }
        for (x, y) in &d.references {
            let Some((source, _)) = d.modules.get(x) else {
                problems.push(format!("{at}: module.{x}.{y}: no module \"{x}\" here"));
                continue;
            };
            if !(source.starts_with("./") || source.starts_with("../")) {
                continue;
            }
            if let Some(m) = join(dir, source).and_then(|t| dirs.get(&t))
                && !m.outputs.contains(y)
            {
                problems.push(format!(
                    "{at}: module.{x}.{y}: '{y}' is not an output of {source}"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_names() {
        assert_eq!(
            super::names("a = var.x\nb = \"${local.y}\" c = kubernetes_service_v1.s.metadata[0].name d = random_password.p.result e = \"app.kubernetes.io/name\" f = x.var.z"),
            ["var.x", "local.y", "kubernetes_service_v1.s", "random_password.p"]
        );
    }

    #[test]
    fn finds_references() {
        assert_eq!(
            super::references("a = module.db.host\nb = \"${module.x.y}\" c = amodule.q.r"),
            vec![
                ("db".to_string(), "host".to_string()),
                ("x".to_string(), "y".to_string())
            ]
        );
    }
}
