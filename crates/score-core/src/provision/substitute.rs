//! Placeholder substitution: resolving `${metadata…}` / `${resources…}` references in strings and
//! values, with the exact behaviour and error texts of score-go's `framework/substitution.go`.
//!
//! The grammar (what is a reference, what is an escape) lives in [`crate::provision::placeholder`]; this module
//! decides what a reference *means*. A substituted string is kept as a list of [`Piece`]s rather
//! than a flat `String` because a resource output may be a secret (a Kubernetes target must move it
//! into a `Secret`) or a Terraform expression (rendered as a reference, not as a literal); targets
//! that do not care call [`Resolved::to_plain`].
//!
//! ```
//! use std::collections::BTreeMap;
//! use score_core::provision::substitute::{Context, OutputLookup, Outputs};
//! use serde_json::json;
//!
//! let metadata = json!({"name": "orders"});
//! let db = Outputs::new("postgres.default#orders.db", json!({"host": "pg", "password": "s3cret"}))
//!     .with_secret("password");
//! let mut resources: BTreeMap<String, &dyn OutputLookup> = BTreeMap::new();
//! resources.insert("db".into(), &db);
//! let ctx = Context { metadata: metadata.as_object().unwrap(), resources };
//!
//! let r = ctx.substitute("postgres://${metadata.name}:${resources.db.password}@${resources.db.host}").unwrap();
//! assert_eq!(r.to_plain(), "postgres://orders:s3cret@pg");
//! assert!(r.is_secret());
//! let err = ctx.substitute("${resources.db}").unwrap_err();
//! assert_eq!(err.to_string(), "invalid ref 'resources.db': at least one lookup key is required");
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::provision::placeholder::{split_ref_parts, tokenize, Token};

/// Where a resolved value came from: a resource uid and the output keys looked up in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The resource uid, e.g. `postgres.default#orders.db`.
    pub uid: String,
    /// The lookup keys, e.g. `["host"]`.
    pub key: Vec<String>,
}

/// What a reference resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The value; a string is used as it is, anything else renders with [`render_go_json`].
    pub value: Value,
    /// The value is sensitive (a target must not write it in clear text).
    pub secret: bool,
    /// The value is an expression of the target language (e.g. Terraform), not a literal.
    pub expression: bool,
    /// The resource output this came from (`None` for metadata and ad-hoc lookups).
    pub origin: Option<Origin>,
}

impl Found {
    /// A plain (not secret, not expression) value with no origin.
    ///
    /// ```
    /// use score_core::provision::substitute::Found;
    /// assert_eq!(Found::plain("x").render(), "x");
    /// ```
    pub fn plain(value: impl Into<Value>) -> Self {
        Self {
            value: value.into(),
            secret: false,
            expression: false,
            origin: None,
        }
    }

    /// The text the value contributes to a string: strings verbatim, anything else Go-JSON.
    ///
    /// ```
    /// use score_core::provision::substitute::Found;
    /// assert_eq!(Found::plain(serde_json::json!({"b": 1, "a": 1.0})).render(), r#"{"a":1,"b":1}"#);
    /// ```
    pub fn render(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            other => render_go_json(other),
        }
    }
}

/// One piece of a substituted string.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Piece {
    /// Literal text (including un-escaped `$$`).
    Text(String),
    /// The value a reference resolved to.
    Value(Found),
}

/// A substituted string, as the pieces it is made of (adjacent text is merged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolved {
    /// The pieces in order.
    pub pieces: Vec<Piece>,
}

impl Resolved {
    /// The string with every value rendered in place (what score-go returns).
    pub fn to_plain(&self) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Value(f) => match &f.value {
                    Value::String(s) => out.push_str(s),
                    other => score_gotemplate::gofmt::write_marshal_json(&mut out, other),
                },
            }
        }
        out
    }

    /// Whether any piece is a secret value.
    pub fn is_secret(&self) -> bool {
        self.values().any(|f| f.secret)
    }

    /// Whether any piece is a target-language expression.
    pub fn has_expression(&self) -> bool {
        self.values().any(|f| f.expression)
    }

    /// The value, if the whole string is exactly one reference (e.g. `"${resources.db.password}"`).
    pub fn single_value(&self) -> Option<&Found> {
        match self.pieces.as_slice() {
            [Piece::Value(f)] => Some(f),
            _ => None,
        }
    }

    /// The values in order.
    pub fn values(&self) -> impl Iterator<Item = &Found> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Value(f) => Some(f),
            Piece::Text(_) => None,
        })
    }

    fn push_text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Piece::Text(t)) = self.pieces.last_mut() {
            t.push_str(s);
        } else {
            self.pieces.push(Piece::Text(s.to_string()));
        }
    }
}

/// Substitution failed for at least one reference.
///
/// Like score-go, a failure does not stop the scan: `partial` holds the string with every failed
/// reference replaced by nothing, and `messages` every error in order. `Display` joins them with
/// `\n` (Go `errors.Join`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", messages.join("\n"))]
pub struct SubstitutionError {
    /// The string with failed references left empty.
    pub partial: Resolved,
    /// One message per failed reference, in order.
    pub messages: Vec<String>,
}

/// How escapes (`$$`, `$${…}`) are turned into text.
#[derive(Clone, Copy, Default)]
pub enum Unescape<'a> {
    /// Drop the first `$`: `$$` → `$`, `$${x}` → `${x}` (score-go's `DefaultUnEscaper`).
    #[default]
    DropFirst,
    /// Keep the escape as written (score-compose's identity un-escaper for environment values,
    /// which compose un-escapes itself).
    Keep,
    /// Any other mapping from the whole escape text to its replacement.
    Custom(&'a dyn Fn(&str) -> String),
}

impl std::fmt::Debug for Unescape<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DropFirst => f.write_str("DropFirst"),
            Self::Keep => f.write_str("Keep"),
            Self::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl Unescape<'_> {
    fn apply(&self, escape: &str) -> String {
        match self {
            // The escape always starts with the ASCII `$`, so slicing at 1 is on a char boundary.
            Self::DropFirst => escape[1..].to_string(),
            Self::Keep => escape.to_string(),
            Self::Custom(f) => f(escape),
        }
    }
}

/// Substitutes every `${ref}` in `input` with `resolve(ref)` and un-escapes escapes.
///
/// Replacement text is never re-scanned. On failure every other reference is still resolved and
/// the error carries the partial result.
///
/// ```
/// use score_core::provision::substitute::{substitute, Found, Unescape};
/// let r = substitute("$${x} ${a}", |r| Ok(Found::plain(r.to_uppercase())), Unescape::DropFirst).unwrap();
/// assert_eq!(r.to_plain(), "${x} A");
/// let e = substitute("${a}-${b}", |r| Err(format!("no {r}")), Unescape::Keep).unwrap_err();
/// assert_eq!((e.partial.to_plain(), e.to_string()), ("-".to_string(), "no a\nno b".to_string()));
/// ```
pub fn substitute(
    input: &str,
    mut resolve: impl FnMut(&str) -> Result<Found, String>,
    unescape: Unescape<'_>,
) -> Result<Resolved, SubstitutionError> {
    let mut out = Resolved::default();
    let mut messages = Vec::new();
    for tok in tokenize(input) {
        match tok {
            Token::Literal(l) => out.push_text(l),
            Token::Escape(e) => out.push_text(&unescape.apply(e)),
            Token::Reference { reference, .. } => match resolve(reference) {
                Ok(found) => out.pieces.push(Piece::Value(found)),
                Err(m) => messages.push(m),
            },
        }
    }
    if messages.is_empty() {
        Ok(out)
    } else {
        Err(SubstitutionError {
            partial: out,
            messages,
        })
    }
}

/// score-go `SubstituteString`: substitutes with a string replacer and the default un-escaper;
/// several errors are joined with `\n`.
///
/// ```
/// use score_core::provision::substitute::substitute_string;
/// assert_eq!(substitute_string("a $$ ${b}", |r| Ok(format!("<{r}>"))).unwrap(), "a $ <b>");
/// ```
pub fn substitute_string(
    input: &str,
    mut replacer: impl FnMut(&str) -> Result<String, String>,
) -> Result<String, String> {
    substitute(
        input,
        |r| replacer(r).map(Found::plain),
        Unescape::DropFirst,
    )
    .map(|r| r.to_plain())
    .map_err(|e| e.to_string())
}

/// Resource output lookup for one resource (score-go `OutputLookupFunc`): called with the keys
/// after `resources.<name>` (possibly none).
pub trait OutputLookup {
    /// Looks up `keys`; the error text is appended to `invalid ref '<ref>': `.
    fn lookup(&self, keys: &[String]) -> Result<Found, String>;
}

impl<F: Fn(&[String]) -> Result<Found, String>> OutputLookup for F {
    fn lookup(&self, keys: &[String]) -> Result<Found, String> {
        self(keys)
    }
}

/// The outputs a provisioner produced for one resource, and which top-level keys are secret or
/// target expressions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outputs {
    /// Output values by key.
    pub values: Map<String, Value>,
    /// Top-level keys whose values (and everything below them) are secret.
    pub secret: BTreeSet<String>,
    /// Top-level keys whose values are target expressions.
    pub expression: BTreeSet<String>,
    /// The resource uid (recorded as the [`Origin`] of every lookup).
    pub uid: String,
}

impl Outputs {
    /// Outputs from a JSON object (anything else gives no outputs).
    pub fn new(uid: impl Into<String>, values: Value) -> Self {
        Self {
            values: match values {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            uid: uid.into(),
            ..Self::default()
        }
    }

    /// Marks a top-level key as secret.
    pub fn with_secret(mut self, key: impl Into<String>) -> Self {
        self.secret.insert(key.into());
        self
    }

    /// Marks a top-level key as a target expression.
    pub fn with_expression(mut self, key: impl Into<String>) -> Self {
        self.expression.insert(key.into());
        self
    }
}

impl OutputLookup for Outputs {
    /// score-go `ScoreResourceState.OutputLookup`: at least one key, then a map walk where a
    /// `null` on the way counts as "not found".
    fn lookup(&self, keys: &[String]) -> Result<Found, String> {
        let Some(first) = keys.first() else {
            return Err("at least one lookup key is required".to_string());
        };
        let mut cur = self
            .values
            .get(first)
            .ok_or_else(|| format!("key '{first}' not found"))?;
        for k in &keys[1..] {
            cur = match cur {
                Value::Object(m) => m.get(k).ok_or_else(|| format!("key '{k}' not found"))?,
                Value::Null => return Err(format!("key '{k}' not found")),
                _ => return Err(format!("cannot lookup key '{k}', context is not a map")),
            };
        }
        Ok(Found {
            value: cur.clone(),
            secret: self.secret.contains(first),
            expression: self.expression.contains(first),
            origin: Some(Origin {
                uid: self.uid.clone(),
                key: keys.to_vec(),
            }),
        })
    }
}

/// The reference context of one workload: its metadata and its resources by name.
pub struct Context<'a> {
    /// The workload's `metadata`.
    pub metadata: &'a Map<String, Value>,
    /// Output lookups by resource name.
    pub resources: BTreeMap<String, &'a dyn OutputLookup>,
}

impl Context<'_> {
    /// Resolves one reference (the text inside `${…}`), with score-go's exact error texts.
    pub fn resolve(&self, reference: &str) -> Result<Found, String> {
        let parts = split_ref_parts(reference);
        let invalid = |msg: &str| format!("invalid ref '{reference}': {msg}");
        match parts[0].as_str() {
            "metadata" => {
                if parts.len() < 2 {
                    return Err(invalid("requires at least a metadata key to lookup"));
                }
                // Go's map walk: the root is a map; a null on the way is "not a map" (unlike
                // resource outputs, where it is "not found").
                let mut cur: Option<&Value> = None;
                for k in &parts[1..] {
                    let map = match cur {
                        None => self.metadata,
                        Some(Value::Object(m)) => m,
                        Some(_) => {
                            return Err(invalid(&format!(
                                "cannot lookup key '{k}', context is not a map"
                            )))
                        }
                    };
                    cur = Some(
                        map.get(k)
                            .ok_or_else(|| invalid(&format!("key '{k}' not found")))?,
                    );
                }
                // parts.len() >= 2, so the loop ran at least once.
                Ok(Found::plain(cur.cloned().unwrap_or(Value::Null)))
            }
            "resources" => {
                if parts.len() < 2 {
                    return Err(invalid("requires at least a resource name to lookup"));
                }
                let name = &parts[1];
                let lookup = self
                    .resources
                    .get(name)
                    .ok_or_else(|| invalid(&format!("no known resource '{name}'")))?;
                lookup.lookup(&parts[2..]).map_err(|e| invalid(&e))
            }
            _ => Err(invalid(
                "unknown reference root, use $$ to escape the substitution",
            )),
        }
    }

    /// Substitutes a string in this context with the default un-escaper.
    pub fn substitute(&self, input: &str) -> Result<Resolved, SubstitutionError> {
        substitute(input, |r| self.resolve(r), Unescape::DropFirst)
    }
}

/// score-go `Substitute`: substitutes every string inside `v` (recursively) and returns a copy;
/// other scalars are unchanged.
///
/// The first failure wins and is prefixed by its path (`a: 0: b: …`). Map keys are visited in
/// sorted order so the reported error is deterministic (Go's depends on map iteration order);
/// the output keeps the input's key order.
///
/// ```
/// use std::collections::BTreeMap;
/// use score_core::provision::substitute::{substitute_value, Context};
/// use serde_json::json;
/// let md = json!({"name": "web"});
/// let ctx = Context { metadata: md.as_object().unwrap(), resources: BTreeMap::new() };
/// assert_eq!(substitute_value(&json!({"x": ["${metadata.name}", 1]}), &ctx).unwrap(),
///            json!({"x": ["web", 1]}));
/// assert_eq!(substitute_value(&json!({"b": "${x}", "a": "${y}"}), &ctx).unwrap_err(),
///            "a: invalid ref 'y': unknown reference root, use $$ to escape the substitution");
/// ```
pub fn substitute_value(v: &Value, ctx: &Context) -> Result<Value, String> {
    substitute_value_with(v, &mut |s| {
        ctx.substitute(s)
            .map(|r| r.to_plain())
            .map_err(|e| e.to_string())
    })
}

fn substitute_value_with(
    v: &Value,
    sub: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<Value, String> {
    match v {
        Value::String(s) => sub(s).map(Value::String),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| substitute_value_with(x, sub).map_err(|e| format!("{i}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut done: BTreeMap<&str, Value> = BTreeMap::new();
            for k in keys {
                let x =
                    substitute_value_with(&m[k.as_str()], sub).map_err(|e| format!("{k}: {e}"))?;
                done.insert(k, x);
            }
            let mut out = Map::new();
            for k in m.keys() {
                if let Some(x) = done.remove(k.as_str()) {
                    out.insert(k.clone(), x);
                }
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// Renders a value exactly like Go's `json.Marshal`: compact, object keys sorted, `<`, `>`, `&`,
/// U+2028 and U+2029 escaped as `\u003c`…, integral floats without `.0`, shortest floats
/// (exponent form below 1e-6 and from 1e21, as `1e-7` / `1e+21`).
///
/// ```
/// use score_core::provision::substitute::render_go_json;
/// use serde_json::json;
/// assert_eq!(render_go_json(&json!({"k": "a<b&c", "f": 1.0, "a": [true, null]})),
///            r#"{"a":[true,null],"f":1,"k":"a\u003cb\u0026c"}"#);
/// assert_eq!(render_go_json(&json!(1e21)), "1e+21");
/// ```
pub fn render_go_json(v: &Value) -> String {
    score_gotemplate::gofmt::marshal_json(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pieces_merge_text_and_keep_flags() {
        let o = Outputs::new("t.default#w.r", json!({"p": "pw", "e": "aws_db.x.host"}))
            .with_secret("p")
            .with_expression("e");
        let mut res: BTreeMap<String, &dyn OutputLookup> = BTreeMap::new();
        res.insert("r".into(), &o);
        let md = json!({"name": "w"});
        let ctx = Context {
            metadata: md.as_object().unwrap(),
            resources: res,
        };
        let r = ctx.substitute("a$$b${resources.r.p}").unwrap();
        assert_eq!(r.pieces.len(), 2);
        assert_eq!(r.pieces[0], Piece::Text("a$b".into()));
        assert!(r.is_secret() && !r.has_expression());
        assert!(r.single_value().is_none());
        let r = ctx.substitute("${resources.r.e}").unwrap();
        let f = r.single_value().unwrap();
        assert!(f.expression && !f.secret);
        assert_eq!(
            f.origin,
            Some(Origin {
                uid: "t.default#w.r".into(),
                key: vec!["e".into()]
            })
        );
    }

    #[test]
    fn outputs_walk_errors() {
        let o = Outputs::new("u", json!({"a": {"b": null, "c": 1}}));
        let k = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(o.lookup(&k(&["a", "c"])).unwrap().value, json!(1));
        assert_eq!(o.lookup(&k(&["a", "b"])).unwrap().value, Value::Null);
        assert_eq!(
            o.lookup(&k(&["a", "b", "x"])).unwrap_err(),
            "key 'x' not found"
        );
        assert_eq!(
            o.lookup(&k(&["a", "c", "x"])).unwrap_err(),
            "cannot lookup key 'x', context is not a map"
        );
        assert_eq!(o.lookup(&k(&["z"])).unwrap_err(), "key 'z' not found");
    }

    #[test]
    fn metadata_null_is_not_a_map() {
        let md = json!({"n": null});
        let ctx = Context {
            metadata: md.as_object().unwrap(),
            resources: BTreeMap::new(),
        };
        assert_eq!(
            ctx.resolve("metadata.n.x").unwrap_err(),
            "invalid ref 'metadata.n.x': cannot lookup key 'x', context is not a map"
        );
    }

    #[test]
    fn keep_unescape_is_identity() {
        let r = substitute("$$ $${x}", |_| Err(String::new()), Unescape::Keep).unwrap();
        assert_eq!(r.to_plain(), "$$ $${x}");
    }
}
