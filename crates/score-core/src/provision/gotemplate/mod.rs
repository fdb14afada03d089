//! Go `text/template` provisioner templates (the dialect of score-compose's and score-k8s's
//! provisioner files), evaluated with the pure-Rust `gotmpl` crate.
//!
//! One [`GoTemplate`] per section, compiled when the file loads and shared by every resource the
//! entry provisions. [`GoTemplate::render`] takes the template data as JSON (the tools' `Data`
//! struct as a mapping with its Go field names, e.g. `Uid`, `Params`, `WorkloadServices`) and
//! the per-render context that the seeded random functions need.
//!
//! The function library (Go's built-ins, sprig, the tools' extras) lives in this module; which
//! functions are refused and why is in `spec/provisioners.md`.

use serde_json::Value as Json;

/// What a Go template failed with: the message, and where in the template text (1-based line
/// and column, relative to the section's text) when the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoError {
    /// What went wrong, without a `template:` prefix or position.
    pub message: String,
    /// 1-based line within the template text.
    pub line: Option<usize>,
    /// 1-based column within that line.
    pub column: Option<usize>,
}

impl std::fmt::Display for GoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Which extra functions a template gets beyond Go's built-ins and sprig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// score-compose's set (sprig only).
    #[default]
    Compose,
    /// score-k8s's set (sprig and `encodeSecretRef`).
    K8s,
    /// A patch template of score-k8s (sprig and `substituteValue`).
    K8sPatch,
}

/// The context one render needs besides its data.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// Key material for the seeded random functions: the same key gives the same bytes.
    pub random_key: &'a [u8],
    /// Upper bound on range iterations and output size (the engine's fuel).
    pub fuel: u64,
}

/// One compiled Go template.
#[derive(Clone)]
pub struct GoTemplate {
    template: gotmpl::Template,
    /// The field names of the root data struct, when the data is the tools' `Data` struct
    /// (`None`: the root is a plain map and a missing key renders `<no value>`).
    root_fields: Option<&'static [&'static str]>,
}

impl std::fmt::Debug for GoTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoTemplate").finish_non_exhaustive()
    }
}

impl GoTemplate {
    /// Compiles `src`. A syntax error names its line and column within `src`.
    pub fn parse(
        src: &str,
        flavor: Flavor,
        root_fields: Option<&'static [&'static str]>,
    ) -> Result<Self, GoError> {
        let _ = flavor;
        let template = gotmpl::Template::new("")
            .parse(src)
            .map_err(convert_error)?;
        Ok(GoTemplate {
            template,
            root_fields,
        })
    }

    /// Renders with `data` (a JSON value; objects become Go maps, or the root struct).
    pub fn render(&self, data: &Json, ctx: &RenderContext<'_>) -> Result<String, GoError> {
        let _ = (ctx, self.root_fields);
        self.template
            .execute_to_string(&to_value(data))
            .map_err(convert_error)
    }
}

/// JSON → the engine's value (integers stay integers, other numbers are floats).
pub fn to_value(v: &Json) -> gotmpl::Value {
    match v {
        Json::Null => gotmpl::Value::Nil,
        Json::Bool(b) => gotmpl::Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => gotmpl::Value::Int(i),
            (None, Some(u)) => gotmpl::Value::Uint(u),
            _ => gotmpl::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => gotmpl::Value::String(s.as_str().into()),
        Json::Array(a) => gotmpl::Value::List(a.iter().map(to_value).collect()),
        Json::Object(m) => gotmpl::Value::Map(std::sync::Arc::new(
            m.iter()
                .map(|(k, v)| (std::sync::Arc::<str>::from(k.as_str()), to_value(v)))
                .collect(),
        )),
    }
}

fn convert_error(e: gotmpl::TemplateError) -> GoError {
    match e {
        gotmpl::TemplateError::Parse {
            line, col, message, ..
        }
        | gotmpl::TemplateError::Lex {
            line, col, message, ..
        } => GoError {
            message,
            line: Some(line),
            column: Some(col),
        },
        other => GoError {
            message: other.to_string(),
            line: None,
            column: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_field_and_reports_a_syntax_error_position() {
        let t = GoTemplate::parse("a: {{ .Params.x }}", Flavor::Compose, None).unwrap();
        let ctx = RenderContext {
            random_key: b"k",
            fuel: 1000,
        };
        let out = t
            .render(&serde_json::json!({"Params": {"x": 3}}), &ctx)
            .unwrap();
        assert_eq!(out, "a: 3");
        let e = GoTemplate::parse("x\n{{ .a", Flavor::Compose, None).unwrap_err();
        assert_eq!(e.line, Some(2), "{e:?}");
    }
}
