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

fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    // Maps become plain objects; `bytes` become Uint8Array.
    let ser = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
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
#[wasm_bindgen(js_name = targets)]
pub fn targets() -> Vec<String> {
    crate::target_names()
        .into_iter()
        .map(String::from)
        .collect()
}

/// The problems of one Score file (`text`: a string or a Uint8Array) as an array of diagnostic
/// objects; empty when it is valid. `sources` (optional): `files[].source` contents by path.
#[wasm_bindgen(js_name = validate)]
pub fn validate(text: JsValue, file_name: &str, sources: JsValue) -> JsValue {
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
    let sources: BTreeMap<String, String> = if sources.is_undefined() || sources.is_null() {
        BTreeMap::new()
    } else {
        match arg("validate: sources", sources) {
            Ok(s) => s,
            Err(d) => return to_js(&crate::to_json(&d)),
        }
    };
    to_js(&crate::validate(file_name, &bytes, &sources))
}

/// Compiles for `target`: `scoreFiles` and `provisionerFiles` are arrays of `{name, text}`,
/// `options` is `{seed | state, sources?, environment?, targetOptions?}`. Returns
/// `{ok: true, files: [{path, text | bytes, mode?}], directories, state, diagnostics: []}` or
/// `{ok: false, diagnostics}`.
#[wasm_bindgen(js_name = compile)]
pub fn compile(
    target: &str,
    score_files: JsValue,
    provisioner_files: JsValue,
    options: JsValue,
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
