//! The source scan of the two architecture tests (`crates/score-core/tests/it/architecture.rs`
//! and `crates/score-cli/tests/it/architecture.rs`): the Rust files of a folder, and the code of a
//! line (its comments stripped), so both scans read sources alike.

use std::path::Path;

/// Every `.rs` file under `dir` (recursively when `recurse`), sorted, as (path relative to
/// `dir` with `/` separators, text).
pub fn rust_files(dir: &Path, recurse: bool) -> Vec<(String, String)> {
    fn walk(dir: &Path, base: &Path, recurse: bool, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if recurse {
                    walk(&p, base, recurse, out);
                }
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, recurse, &mut out);
    out
}

/// The code of a line, string literals included: what precedes a `//` comment that is not
/// inside a string (doc comments included). Doctests live in comments and are not scanned, on
/// purpose: an example may name a target.
pub fn code_of(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

/// The lines of `files` whose code (lower-cased) contains one of `words`, by file, each as
/// `file:line: text`. `skip_tests`: a `#[cfg(test)] mod tests` at the end of a file is not read.
pub fn lines_naming(
    files: &[(String, String)],
    words: &[&str],
    skip_tests: bool,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut hits: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (rel, text) in files {
        let text = if skip_tests {
            text.split("#[cfg(test)]\nmod tests").next().unwrap()
        } else {
            text.as_str()
        };
        for (i, line) in text.lines().enumerate() {
            let code = code_of(line).to_lowercase();
            if words.iter().any(|w| code.contains(w)) {
                hits.entry(rel.clone()).or_default().push(format!(
                    "{rel}:{}: {}",
                    i + 1,
                    line.trim()
                ));
            }
        }
    }
    hits
}
