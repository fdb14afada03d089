//! Builds the default provisioner file: `provisioners/default.provisioners.yaml` with each
//! `#include modules/<type>/<file>.tf` line replaced by that file of `modules/` (the Terraform
//! modules the default provisioners write beside main.tf), indented as the line is. The modules
//! are real `.tf` files so that they are formatted and checked as files (`terraform fmt -check`
//! in `tests/it/files.rs`); the result is embedded by `src/lib.rs` (`DEFAULT_PROVISIONERS`).

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=provisioners");
    println!("cargo:rerun-if-changed=modules");
    let src = dir.join("provisioners/default.provisioners.yaml");
    let text = std::fs::read_to_string(&src).expect("provisioners/default.provisioners.yaml");
    let mut out = String::with_capacity(text.len() * 4);
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches('\n');
        let Some(path) = body.trim_start().strip_prefix("#include ") else {
            out.push_str(line);
            continue;
        };
        let indent = &body[..body.len() - body.trim_start().len()];
        let file = dir.join(path.trim());
        let module = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "default.provisioners.yaml:{}: {}: {e}",
                n + 1,
                file.display()
            )
        });
        for l in module.lines() {
            if !l.is_empty() {
                out.push_str(indent);
                out.push_str(l);
            }
            out.push('\n');
        }
        if !line.ends_with('\n') {
            out.pop();
        }
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("default.provisioners.yaml");
    std::fs::write(dest, out).unwrap();
}
