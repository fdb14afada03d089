//! score-gen terraform target: Score workloads as Terraform HCL for the kubernetes provider.
//!
//! `main.tf` holds a `terraform { required_providers }` block, then every provisioned resource's
//! blocks (in resource-uid order, identical duplicates kept once), then each workload (by name)
//! as `kubernetes_config_map_v1` / `kubernetes_secret_v1` / `kubernetes_deployment_v1` /
//! `kubernetes_service_v1`. Every `variable` block goes to `variables.tf` (sorted by name), and
//! the host of each workload's Service is an `output` in `outputs.tf`; each is written only when
//! it has a block. Files that provisioners render (`terraform.files`, e.g. the default modules
//! under `modules/<type>/`) follow, by path. Every file is byte-identical to `terraform fmt`.
//! The format is specified in `spec/targets/terraform.md`.
//!
//! ```
//! use score_core::{compile, CompileInputs, State};
//! use score_target_terraform::TerraformTarget;
//!
//! let score = "apiVersion: score.dev/v1b1\nmetadata: {name: hello}\ncontainers:\n  main: {image: nginx}\n";
//! let inputs = CompileInputs::new().score_file("score.yaml", score);
//! let out = compile(&TerraformTarget::default(), &inputs, State::with_seed("doc")).unwrap();
//! let main_tf = String::from_utf8(out.artefacts.files[0].content.clone()).unwrap();
//! assert!(main_tf.contains("resource \"kubernetes_deployment_v1\" \"hello\" {"));
//! ```

mod blocks;
pub mod codes;
mod format;
mod strings;
mod workload;

use std::collections::BTreeMap;

use hcl::Block;
use score_core::diag::TargetCode;
use score_core::target::{ArtefactFile, Artefacts, ResolvedProject, ResolvedWorkload};
use score_core::Target;
use score_core::{Code, Diagnostic, Diagnostics};

/// The default provisioner file for this target: `provisioners/default.provisioners.yaml` with
/// the Terraform modules it writes (`modules/<type>/*.tf`) put in place by `build.rs`.
pub const DEFAULT_PROVISIONERS: &str =
    include_str!(concat!(env!("OUT_DIR"), "/default.provisioners.yaml"));

/// The terraform target (`score-gen terraform`), with its options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerraformTarget {
    /// What the command line chose.
    pub options: TerraformOptions,
}

impl TerraformTarget {
    /// The terraform target with `options`.
    pub fn new(options: TerraformOptions) -> Self {
        Self { options }
    }
}

/// The terraform target's options (`score-gen terraform` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TerraformOptions {
    /// `--namespace`: the default of the root variable `namespace`, which every Kubernetes
    /// object's metadata uses; also handed to provisioner templates as `target.namespace`.
    pub namespace: Option<String>,
    /// `--module-source TYPE=SOURCE`: handed to templates as `target.module_sources.<type>`; the
    /// default provisioners of module types (postgres, postgres-instance, mysql, mssql, redis,
    /// mongodb, amqp, kafka-topic, s3) use it as the module `source` when the resource has no
    /// `source` param, and then write no module files for it.
    pub module_sources: BTreeMap<String, String>,
    /// The caller can write only one file (`-o -`, stdout): `variables.tf` and `outputs.tf` are
    /// appended to `main.tf`, and a run that needs module files beside it is refused instead of
    /// writing them somewhere the user did not ask for.
    pub single_file: bool,
    /// `--allow-source-params`: the default provisioners accept a resource's `source` param as
    /// its module `source` (handed to templates as `target.allow_source_params`). Without it such
    /// a param is an error: a Score file is data, and the module is code that `terraform init`
    /// downloads and `terraform apply` runs (spec/security.md).
    pub allow_source_params: bool,
}

impl Target for TerraformTarget {
    fn name(&self) -> &'static str {
        "terraform"
    }

    fn codes(&self) -> &'static [score_core::diag::TargetCode] {
        codes::ALL
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    fn context(&self) -> serde_json::Value {
        let opts = &self.options;
        let mut ctx = serde_json::Map::new();
        ctx.insert("name".into(), "terraform".into());
        if let Some(ns) = &opts.namespace {
            ctx.insert("namespace".into(), ns.clone().into());
        }
        let sources: serde_json::Map<String, serde_json::Value> = opts
            .module_sources
            .iter()
            .map(|(t, v)| (t.clone(), v.clone().into()))
            .collect();
        ctx.insert("module_sources".into(), sources.into());
        ctx.insert(
            "allow_source_params".into(),
            opts.allow_source_params.into(),
        );
        ctx.into()
    }

    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
        let out = emit(project, None, self.options.namespace.as_deref())?;
        if self.options.single_file {
            return single_file(out);
        }
        Ok(out)
    }

    /// Frees each workload once its blocks are written (issue 24).
    fn emit_owned(&self, mut project: ResolvedProject) -> Result<Artefacts, Diagnostics> {
        let workloads = std::mem::take(&mut project.workloads);
        let out = emit(&project, Some(workloads), self.options.namespace.as_deref())?;
        if self.options.single_file {
            return single_file(out);
        }
        Ok(out)
    }
}

/// The output as one file, for stdout: the root module's files (main.tf, variables.tf,
/// outputs.tf) are one module whichever files hold it, so they are joined into `main.tf`; module
/// directories cannot be, and a configuration that needs one is refused.
fn single_file(out: Artefacts) -> Result<Artefacts, Diagnostics> {
    let nested: Vec<String> = out
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .filter(|p| p.contains('/'))
        .collect();
    if !nested.is_empty() {
        return Err(Diagnostic::new(
            Code::Usage,
            format!(
                "the terraform output needs {} more files beside main.tf ({}), and stdout holds one",
                nested.len(),
                nested.join(", ")
            ),
        )
        .with_help("write to a directory instead: -o infra/ (main.tf and the modules/ it calls)")
        .into());
    }
    let mut text = Vec::new();
    for (i, f) in out.files.iter().enumerate() {
        if i > 0 {
            text.push(b'\n');
        }
        text.extend_from_slice(&f.content);
    }
    Ok(Artefacts {
        files: vec![ArtefactFile::new("main.tf", text)],
        ..out
    })
}

/// Blocks by (type, labels), keeping the first and rejecting a different block under the same
/// address (two resources that render the same module or variable must render it identically).
/// Each block is printed as it is added and held as text (issue 24: a large project's blocks
/// as hcl-rs values were its peak); a second block under an address is compared by its text.
#[derive(Default)]
struct BlockSet {
    /// Each block's labels and text, in the order added.
    blocks: Vec<(Vec<String>, String)>,
    owners: BTreeMap<(String, Vec<String>), (usize, String)>,
}

impl BlockSet {
    fn add(&mut self, b: Block, owner: &str) -> Result<(), (TargetCode, String)> {
        let key = (
            b.identifier().to_string(),
            b.labels().iter().map(|l| l.as_str().to_string()).collect(),
        );
        let text =
            format::to_terraform_string(&blocks::body_of(vec![b])).map_err(|e| (codes::EMIT, e))?;
        if let Some((idx, first)) = self.owners.get(&key) {
            if self.blocks[*idx].1 == text {
                return Ok(());
            }
            return Err((
                codes::BLOCK_CONFLICT,
                format!(
                    "{owner} and {first} both define the block `{}` differently",
                    address(&key)
                ),
            ));
        }
        let labels = key.1.clone();
        self.owners
            .insert(key, (self.blocks.len(), owner.to_string()));
        self.blocks.push((labels, text));
        Ok(())
    }

    /// The blocks' text as one file, as [`format::to_terraform_string`] prints a body of them:
    /// a blank line between blocks.
    fn into_text(blocks: Vec<(Vec<String>, String)>) -> String {
        let len = blocks.iter().map(|(_, t)| t.len() + 1).sum();
        let mut out = String::with_capacity(len);
        for (i, (_, text)) in blocks.into_iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&text);
        }
        out
    }
}

/// A [`BlockSet::add`] error as a diagnostic.
fn block_error((code, message): (TargetCode, String)) -> Diagnostic {
    Diagnostic::new(code, message)
}

fn address((kind, labels): &(String, Vec<String>)) -> String {
    let mut s = kind.clone();
    for l in labels {
        s.push_str(&format!(" \"{l}\""));
    }
    s
}

const FILES_HELP: &str = "a terraform provisioner's `files` section renders a mapping of relative path (modules/<name>/<file>.tf) to HCL text (spec/targets/terraform.md)";

/// The files of `project`; with `owned`, the project's workloads (taken out of it), each
/// freed once its blocks are written.
fn emit(
    project: &ResolvedProject,
    owned: Option<Vec<ResolvedWorkload>>,
    namespace: Option<&str>,
) -> Result<Artefacts, Diagnostics> {
    let mut main = BlockSet::default();
    let mut vars = BlockSet::default();
    let mut outputs = BlockSet::default();
    vars.add(namespace_variable(namespace), "the target")
        .map_err(block_error)?;
    main.add(required_providers(), "the target")
        .map_err(block_error)?;

    let mut diags = Diagnostics::default();
    // Files beside main.tf (modules), by path: first owner, the text it rendered, printed. Many
    // resources render the same module: a text seen before is not parsed and printed again.
    let mut extra: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for r in project.resources() {
        let owner = format!("resource '{}'", r.uid);
        let what = format!(
            "resource '{}' (provisioner '{}', {})",
            r.uid, r.provisioner, r.provisioner_source
        );
        match blocks::resource_files(&r.fragments, &what) {
            Ok(fs) => {
                for (path, source) in fs {
                    if extra.get(path).is_some_and(|(_, s, _)| s == source) {
                        continue;
                    }
                    let printed = match blocks::file_text(source) {
                        Ok(t) => t,
                        Err((code, e)) => {
                            let d = Diagnostic::new(code, format!("{what}: files: '{path}'{e}"));
                            diags.push(if code == codes::INVALID_SECTION {
                                d.with_help(FILES_HELP)
                            } else {
                                d
                            });
                            continue;
                        }
                    };
                    match extra.get(path) {
                        Some((first, _, t)) if *t != printed => diags.push(Diagnostic::new(
                            codes::BLOCK_CONFLICT,
                            format!("{owner} and {first} both write the file `{path}` differently"),
                        )),
                        Some(_) => {}
                        None => {
                            extra.insert(
                                path.to_string(),
                                (owner.clone(), source.to_string(), printed),
                            );
                        }
                    }
                }
            }
            Err(e) => diags.push(Diagnostic::new(codes::INVALID_SECTION, e).with_help(FILES_HELP)),
        }
        match blocks::resource_blocks(&r.fragments, &what) {
            Ok(bs) => {
                for b in bs {
                    let res = if b.identifier() == "variable" {
                        vars.add(b, &owner)
                    } else {
                        main.add(b, &owner)
                    };
                    if let Err(e) = res {
                        diags.push(block_error(e));
                    }
                }
            }
            Err(e) => diags.push(Diagnostic::new(codes::INVALID_SECTION, e).with_help(
                "a terraform provisioner section renders `blocks: [{type, labels, body, blocks}]` and optionally `expression_outputs: [keys]` (spec/targets/terraform.md)",
            )),
        }
    }
    let mut add_workload = |w: &ResolvedWorkload| {
        let owner = format!("workload '{}'", w.name);
        match workload::workload_blocks(w, project) {
            Ok(out) => {
                for b in out.main {
                    if let Err(e) = main.add(b, &owner) {
                        diags.push(block_error(e));
                    }
                }
                for b in out.variables {
                    if let Err(e) = vars.add(b, &owner) {
                        diags.push(block_error(e));
                    }
                }
                for b in out.outputs {
                    if let Err(e) = outputs.add(b, &owner) {
                        diags.push(block_error(e));
                    }
                }
            }
            Err(d) => diags.push(d),
        }
    };
    match owned {
        Some(workloads) => workloads.into_iter().for_each(|w| add_workload(&w)),
        None => project.workloads.iter().for_each(add_workload),
    }
    diags.into_result()?;

    let mut files = vec![ArtefactFile::new(
        "main.tf",
        BlockSet::into_text(main.blocks),
    )];
    if !vars.blocks.is_empty() {
        let mut v = vars.blocks;
        // Stable: blocks of equal labels keep their order.
        v.sort_by(|a, b| a.0.cmp(&b.0));
        files.push(ArtefactFile::new("variables.tf", BlockSet::into_text(v)));
    }
    if !outputs.blocks.is_empty() {
        files.push(ArtefactFile::new(
            "outputs.tf",
            BlockSet::into_text(outputs.blocks),
        ));
    }
    for (path, (_, _, text)) in extra {
        files.push(ArtefactFile::new(path, text));
    }
    Ok(Artefacts {
        files,
        ..Artefacts::default()
    })
}

/// `variable "namespace"`: the namespace of every Kubernetes object, the workloads' and the
/// default modules' alike, so one configuration can go to several namespaces
/// (`-var namespace=...`); `--namespace` is its default.
fn namespace_variable(namespace: Option<&str>) -> Block {
    Block::builder("variable")
        .add_label("namespace")
        .add_attribute((
            "type",
            hcl::Expression::Variable(hcl::Variable::unchecked("string")),
        ))
        .add_attribute((
            "description",
            "Namespace of every Kubernetes object; null: the provider's default namespace.",
        ))
        .add_attribute((
            "default",
            namespace.map_or(hcl::Expression::Null, hcl::Expression::from),
        ))
        .build()
}

fn required_providers() -> Block {
    Block::builder("terraform")
        .add_block(
            Block::builder("required_providers")
                .add_attribute((
                    "kubernetes",
                    blocks::string_object([
                        ("source", hcl::Expression::from("hashicorp/kubernetes")),
                        ("version", hcl::Expression::from(">= 2.23")),
                    ]),
                ))
                .build(),
        )
        .build()
}
