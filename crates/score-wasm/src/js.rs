//! The wasm-bindgen exports: JavaScript values in, plain JavaScript objects out.
//!
//! Functions never throw for bad input: a problem is a diagnostic object (code, message, help,
//! file, line, column, pointer, related, fixes), the same as the CLI's `--format json`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use score_core::Diagnostics;

use crate::{CompileOptions, NamedText};

/// The JavaScript-facing types, written by hand so the `.d.ts` says exactly what the functions
/// take and return (wasm-bindgen alone would say `any`). Keep in step with `crate::CompileOptions`,
/// `crate::CompileOutput` and `Diagnostic::to_json`; the Node test checks real results against
/// them.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The name of a target: the CLI's subcommand. */
export type TargetName = "compose" | "k8s" | "terraform";

/** One edit of a fix, in the diagnostic's file (1-based line and column, in characters). */
export interface Edit {
  offset: number;
  len: number;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  replacement: string;
}

/** A suggested change; `machine-applicable` ones are what `score-gen fix` applies. */
export interface Fix {
  message: string;
  applicability: "machine-applicable" | "maybe-incorrect";
  edits: Edit[];
}

/** One problem, exactly as the CLI prints it with `--format json`. */
export interface Diagnostic {
  /** A stable code, e.g. `score::schema::unknown-field`. */
  code: string;
  message: string;
  help: string | null;
  /** The file name the caller gave (`null` for a problem of no file). */
  file: string | null;
  /** 1-based; `null` when the problem has no place in a file. */
  line: number | null;
  /** 1-based, in characters. */
  column: number | null;
  /** JSON pointer into the document, e.g. `/containers/main/image`. */
  pointer: string | null;
  related: Diagnostic[];
  fixes: Fix[];
}

/** A file passed in by the caller. */
export interface NamedText {
  /** The display name diagnostics use, e.g. `score.yaml`. */
  name: string;
  /** The contents: the package reads no files and fetches no URLs. */
  text: string;
}

export interface CompileOptions {
  /** The seed of a new state: 16 characters or more (e.g. hex from `crypto.getRandomValues`). */
  seed?: string;
  /** Or the `state` a previous `compile` returned, to keep generated names and passwords. */
  state?: string;
  /** `files[].source` contents, by path as written in the Score file. */
  sources?: Record<string, string>;
  /** The environment provisioners see. */
  environment?: Record<string, string>;
  /** The target's options (snake_case keys, as the CLI's flags), as an object or YAML text. */
  targetOptions?: Record<string, unknown> | string;
  /** Partial Score files merged over every Score file, in order (`--override-file`). */
  overrideFiles?: NamedText[];
  /** `PATH=VALUE` overrides, after the files (`--override-property`). */
  overrideProperties?: string[];
  /** Replaces every container image that is `.` (`--image`). */
  image?: string;
}

/** One output file: `text` when it is UTF-8, else `bytes`. */
export interface OutputFile {
  path: string;
  text?: string;
  bytes?: Uint8Array;
  /** Unix permission bits, when the file needs them. */
  mode?: number;
}

/** What was provisioned for whom; lists sorted (workloads by name, resources by uid). */
export interface Graph {
  workloads: { name: string; containers: string[] }[];
  resources: {
    uid: string;
    type: string;
    class: string;
    /** The uri of the provisioner entry that provisioned it. */
    provisioner: string;
    users: { workload: string; resource: string }[];
  }[];
}

export type CompileResult =
  | {
      ok: true;
      /** The target's files, the primary output first. */
      files: OutputFile[];
      /** Directories to create, relative. */
      directories: string[];
      /** The new state (YAML): pass it as `options.state` next time. */
      state: string;
      graph: Graph;
      diagnostics: [];
    }
  | { ok: false; diagnostics: Diagnostic[] };
"#;

fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    // Maps become plain objects, `null` stays `null` (as in the CLI's JSON), `bytes` become
    // Uint8Array.
    let ser = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    value
        .serialize(&ser)
        .unwrap_or_else(|e| JsValue::from_str(&format!("score-wasm: cannot convert a result: {e}")))
}

fn arg<T: serde::de::DeserializeOwned>(what: &str, value: JsValue) -> Result<T, Diagnostics> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        crate::usage(
            format!("{what}: {e}"),
            "see the score-wasm README for the shape of each argument",
        )
        .into()
    })
}

fn failed(diags: &Diagnostics) -> JsValue {
    to_js(&serde_json::json!({ "ok": false, "diagnostics": crate::to_json(diags) }))
}

/// The names of the targets `compile` accepts.
#[wasm_bindgen(js_name = targets, unchecked_return_type = "TargetName[]")]
pub fn targets() -> Vec<String> {
    crate::target_names()
        .into_iter()
        .map(String::from)
        .collect()
}

/// The problems of one Score file (`text`: a string or a Uint8Array) as an array of diagnostic
/// objects; empty when it is valid. `sources` (optional): `files[].source` contents by path.
#[wasm_bindgen(js_name = validate, unchecked_return_type = "Diagnostic[]")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] text: JsValue,
    #[wasm_bindgen(js_name = fileName)] file_name: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string>")] sources: Option<
        JsValue,
    >,
) -> JsValue {
    let bytes = match text.as_string() {
        Some(s) => s.into_bytes(),
        None if text.is_instance_of::<js_sys::Uint8Array>() => {
            js_sys::Uint8Array::new(&text).to_vec()
        }
        None => {
            return to_js(&crate::to_json(
                &crate::usage(
                    "validate: text must be a string or a Uint8Array",
                    "pass the Score file's contents",
                )
                .into(),
            ))
        }
    };
    let sources: BTreeMap<String, String> = match sources {
        None => BTreeMap::new(),
        Some(s) if s.is_null() => BTreeMap::new(),
        Some(s) => match arg("validate: sources", s) {
            Ok(s) => s,
            Err(d) => return to_js(&crate::to_json(&d)),
        },
    };
    to_js(&crate::validate(file_name, &bytes, &sources))
}

/// Compiles for `target`: `scoreFiles` and `provisionerFiles` are arrays of `{name, text}`,
/// `options` is `{seed | state, sources?, environment?, targetOptions?}`. Returns
/// `{ok: true, files: [{path, text | bytes, mode?}], directories, state, diagnostics: []}` or
/// `{ok: false, diagnostics}`.
#[wasm_bindgen(js_name = compile, unchecked_return_type = "CompileResult")]
pub fn compile(
    #[wasm_bindgen(unchecked_param_type = "TargetName")] target: &str,
    #[wasm_bindgen(js_name = scoreFiles, unchecked_param_type = "NamedText[]")]
    score_files: JsValue,
    #[wasm_bindgen(
        js_name = provisionerFiles,
        unchecked_param_type = "NamedText[] | undefined"
    )]
    provisioner_files: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CompileOptions")] options: JsValue,
) -> JsValue {
    let run = || -> Result<crate::CompileOutput, Diagnostics> {
        let scores: Vec<NamedText> = arg("compile: scoreFiles", score_files)?;
        let provisioners: Vec<NamedText> =
            if provisioner_files.is_undefined() || provisioner_files.is_null() {
                Vec::new()
            } else {
                arg("compile: provisionerFiles", provisioner_files)?
            };
        let options: CompileOptions = if options.is_undefined() || options.is_null() {
            CompileOptions::default()
        } else {
            // Through serde_json so `targetOptions` may be any object.
            let v: Value = arg("compile: options", options)?;
            serde_json::from_value(v).map_err(|e| {
                Diagnostics::from(crate::usage(
                    format!("compile: options: {e}"),
                    "options are {seed | state, sources, environment, targetOptions}",
                ))
            })?
        };
        crate::compile(target, scores, provisioners, options)
    };
    match run() {
        Ok(out) => {
            #[derive(Serialize)]
            struct Ok<'a> {
                ok: bool,
                #[serde(flatten)]
                out: &'a crate::CompileOutput,
                diagnostics: [(); 0],
            }
            to_js(&Ok {
                ok: true,
                out: &out,
                diagnostics: [],
            })
        }
        Err(d) => failed(&d),
    }
}
