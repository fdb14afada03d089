//! Overrides applied to a raw workload document before validation: dotted-path property overrides
//! (`--override-property PATH=VALUE`), map-in-map overrides, and overrides files.
//!
//! Semantics and error texts follow score-go's `framework/override_utils.go` and score-compose's
//! `generate` command (see `spec/overrides.md`). Every function is copy-on-write: the input is
//! never modified. Unlike score-go, nothing here panics.
//!
//! ```
//! use score_core::load::overrides::{override_path, parse_override_property};
//! use serde_json::json;
//!
//! let doc = json!({"containers": {"web": {"image": "."}}});
//! let (path, value) = parse_override_property("containers.web.image=nginx:1.27").unwrap();
//! let out = override_path(&doc, &path, value.is_none(), value).unwrap();
//! assert_eq!(out, json!({"containers": {"web": {"image": "nginx:1.27"}}}));
//! ```

use serde_json::{Map, Value};

/// Splits an override path on `.`; `\.` is a literal dot and `\\` a literal backslash
/// (score-go `ParseDotPathParts`).
///
/// ```
/// use score_core::load::overrides::parse_dot_path;
/// assert_eq!(parse_dot_path(r"metadata.annotations.example\.com/x"),
///            vec!["metadata", "annotations", "example.com/x"]);
/// assert_eq!(parse_dot_path(r"a.b\\.c"), vec!["a", r"b\", "c"]);
/// assert_eq!(parse_dot_path(""), vec![""]);
/// ```
pub fn parse_dot_path(s: &str) -> Vec<String> {
    // A left-to-right scan is equivalent to Go's two ReplaceAll passes (`\\` first, then `\.`):
    // both consume `\\` pairs greedily from the left before a `\.` can be formed.
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('\\') | Some('.')) => {
                if let Some(next) = chars.next() {
                    cur.push(next);
                }
            }
            '.' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// Sets (or deletes) the value at `path` inside `input` (score-go `OverridePathInMap`).
///
/// * The last segment in a map is deleted when `delete` is set or `value` is `None` or JSON
///   `null`; otherwise it is set (created if absent).
/// * A missing intermediate map key is created as an empty map (even when deleting).
/// * In an array the segment is a decimal index (`+1` accepted); when setting the last segment,
///   `-1` appends. Out-of-range indexes are errors, including on the way through (where Go panics).
/// * Errors are prefixed by each parent segment (`a: b: …`).
///
/// ```
/// use score_core::load::overrides::override_path;
/// use serde_json::json;
/// let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
/// let doc = json!({"a": ["x"]});
/// assert_eq!(override_path(&doc, &p(&["a", "-1"]), false, Some(json!("y"))).unwrap(),
///            json!({"a": ["x", "y"]}));
/// assert_eq!(override_path(&doc, &p(&["a", "5"]), false, Some(json!("y"))).unwrap_err(),
///            "a: cannot set '5' in array: out of range");
/// assert_eq!(override_path(&doc, &[], true, None).unwrap_err(), "cannot change root node");
/// ```
pub fn override_path(
    input: &Value,
    path: &[String],
    delete: bool,
    value: Option<Value>,
) -> Result<Value, String> {
    let value = value.filter(|v| !v.is_null());
    let delete = delete || value.is_none();
    match input {
        Value::Object(m) => in_map(m, path, delete, value).map(Value::Object),
        Value::Array(a) => in_array(a, path, delete, value).map(Value::Array),
        _ if path.is_empty() => Err("cannot change root node".to_string()),
        _ => Err("cannot set path in non-map/non-array".to_string()),
    }
}

fn in_map(
    input: &Map<String, Value>,
    path: &[String],
    delete: bool,
    value: Option<Value>,
) -> Result<Map<String, Value>, String> {
    let Some((key, rest)) = path.split_first() else {
        return Err("cannot change root node".to_string());
    };
    let mut out = input.clone();
    if rest.is_empty() {
        match value {
            Some(v) if !delete => {
                out.insert(key.clone(), v);
            }
            _ => {
                // shift_remove keeps the author's key order (serde_json uses preserve_order).
                out.shift_remove(key);
            }
        }
        return Ok(out);
    }
    let prefix = |e: String| format!("{key}: {e}");
    let sub = match out.get(key) {
        None => Value::Object(in_map(&Map::new(), rest, delete, value).map_err(prefix)?),
        Some(Value::Object(m)) => Value::Object(in_map(m, rest, delete, value).map_err(prefix)?),
        Some(Value::Array(a)) => Value::Array(in_array(a, rest, delete, value).map_err(prefix)?),
        Some(_) => return Err(format!("{key}: cannot set path in non-map/non-array")),
    };
    out.insert(key.clone(), sub);
    Ok(out)
}

fn in_array(
    input: &[Value],
    path: &[String],
    delete: bool,
    value: Option<Value>,
) -> Result<Vec<Value>, String> {
    let Some((seg, rest)) = path.split_first() else {
        return Err("cannot change root node".to_string());
    };
    // Go strconv.Atoi: optional sign, decimal digits, 64-bit range; i64::from_str is the same.
    let index: i64 = seg
        .parse()
        .map_err(|_| format!("failed to parse '{seg}' as array index"))?;
    let in_range = usize::try_from(index).ok().filter(|i| *i < input.len());
    let mut out = input.to_vec();
    if rest.is_empty() {
        match value {
            Some(v) if !delete => {
                if index == -1 {
                    out.push(v);
                } else if let Some(i) = in_range {
                    out[i] = v;
                } else {
                    return Err(format!("cannot set '{index}' in array: out of range"));
                }
            }
            _ => {
                let Some(i) = in_range else {
                    return Err(format!("cannot remove '{index}' in array: out of range"));
                };
                out.remove(i);
            }
        }
        return Ok(out);
    }
    // Go indexes the slice here without a check and panics; newer score-go returns this error.
    let Some(i) = in_range else {
        return Err(format!("cannot set '{index}' in array: out of range"));
    };
    let prefix = |e: String| format!("{seg}: {e}");
    out[i] = match &out[i] {
        Value::Object(m) => Value::Object(in_map(m, rest, delete, value).map_err(prefix)?),
        Value::Array(a) => Value::Array(in_array(a, rest, delete, value).map_err(prefix)?),
        _ => return Err(format!("{seg}: cannot set path in non-map/non-array")),
    };
    Ok(out)
}

/// Merges `overrides` into `input` (score-go `OverrideMapInMap`): maps merge recursively, other
/// values (arrays included) replace, and a `null` override deletes the key.
///
/// If either side is not a map, `overrides` replaces `input` (a `null` override gives `null`).
///
/// ```
/// use score_core::load::overrides::override_map_in_map;
/// use serde_json::json;
/// assert_eq!(override_map_in_map(&json!({"a": {"b": 1, "c": 2}, "d": [1]}),
///                                &json!({"a": {"b": null, "e": 3}, "d": []})),
///            json!({"a": {"c": 2, "e": 3}, "d": []}));
/// ```
pub fn override_map_in_map(input: &Value, overrides: &Value) -> Value {
    let (Value::Object(base), Value::Object(over)) = (input, overrides) else {
        return overrides.clone();
    };
    let mut out = base.clone();
    for (k, v) in over {
        if v.is_null() {
            out.shift_remove(k);
            continue;
        }
        let merged = match out.get(k) {
            Some(existing @ Value::Object(_)) if v.is_object() => override_map_in_map(existing, v),
            _ => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    Value::Object(out)
}

/// Merges an overrides file into a document like score-compose's `--overrides-file`
/// (`mergo.Merge(..., WithOverride)`): maps merge recursively, any other value (arrays, scalars,
/// empty values and `null` included) replaces. A `null` does **not** delete the key; it sets it to
/// `null`.
///
/// One deliberate difference from mergo: a map overriding a non-empty scalar or array replaces it
/// (mergo silently keeps the old value).
///
/// ```
/// use score_core::load::overrides::merge_overrides_file;
/// use serde_json::json;
/// assert_eq!(merge_overrides_file(&json!({"a": {"b": 1, "c": 2}, "d": [1, 2]}),
///                                 &json!({"a": {"b": null}, "d": [3]})),
///            json!({"a": {"b": null, "c": 2}, "d": [3]}));
/// ```
pub fn merge_overrides_file(base: &Value, overlay: &Value) -> Value {
    let (Value::Object(b), Value::Object(o)) = (base, overlay) else {
        return overlay.clone();
    };
    let mut out = b.clone();
    for (k, v) in o {
        let merged = match out.get(k) {
            Some(existing @ Value::Object(_)) if v.is_object() => merge_overrides_file(existing, v),
            _ => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    Value::Object(out)
}

/// Parses a `--override-property` argument `PATH=VALUE` into the path segments and the value.
///
/// Split at the first `=`; an empty `VALUE` (or one that parses as YAML `null`) means delete
/// (`None`); otherwise `VALUE` is YAML (`8080` is a number, `true` a boolean, `{"a":1}` a map,
/// `yes`/`on` stay strings as in Go's yaml.v3).
///
/// ```
/// use score_core::load::overrides::parse_override_property;
/// use serde_json::json;
/// assert_eq!(parse_override_property("a.b=8080").unwrap(), (vec!["a".into(), "b".into()], Some(json!(8080))));
/// assert_eq!(parse_override_property("a=").unwrap(), (vec!["a".into()], None));
/// assert_eq!(parse_override_property("a").unwrap_err(),
///            "--override-property 'a' is invalid, expected a =-separated path and value");
/// ```
pub fn parse_override_property(arg: &str) -> Result<(Vec<String>, Option<Value>), String> {
    let Some((path, raw)) = arg.split_once('=') else {
        return Err(format!(
            "--override-property '{arg}' is invalid, expected a =-separated path and value"
        ));
    };
    let path = parse_dot_path(path);
    if raw.is_empty() {
        return Ok((path, None));
    }
    let value: Value = crate::load::yaml::parse_scalar_value(raw).map_err(|e| {
        format!("--override-property '{arg}' is invalid, failed to unmarshal value as yaml: {e}")
    })?;
    Ok((path, Some(value).filter(|v| !v.is_null())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn root_not_a_map() {
        assert_eq!(
            override_path(&json!(1), &p(&["a"]), false, Some(json!(1))).unwrap_err(),
            "cannot set path in non-map/non-array"
        );
        assert_eq!(
            override_path(&json!({}), &[], false, Some(json!(1))).unwrap_err(),
            "cannot change root node"
        );
    }

    #[test]
    fn nested_error_prefixes_with_array_segment() {
        let doc = json!({"a": [{"b": 1}]});
        assert_eq!(
            override_path(&doc, &p(&["a", "+0", "b", "c"]), false, Some(json!(1))).unwrap_err(),
            "a: +0: b: cannot set path in non-map/non-array"
        );
    }

    #[test]
    fn delete_keeps_key_order() {
        let doc = json!({"z": 1, "a": 2, "m": 3});
        let out = override_path(&doc, &p(&["a"]), true, None).unwrap();
        let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "m"]);
    }

    #[test]
    fn property_values_are_yaml() {
        let v = |s: &str| parse_override_property(s).unwrap().1;
        assert_eq!(v("a=true"), Some(json!(true)));
        assert_eq!(v("a=yes"), Some(json!("yes")));
        assert_eq!(v("a=[1, 2]"), Some(json!([1, 2])));
        assert_eq!(v(r#"a={"b": 1}"#), Some(json!({"b": 1})));
        assert_eq!(v("a=null"), None);
        assert_eq!(v("a=x=y"), Some(json!("x=y")));
        assert_eq!(v("a=1.5"), Some(json!(1.5)));
        assert!(parse_override_property("a=[1").unwrap_err().starts_with(
            "--override-property 'a=[1' is invalid, failed to unmarshal value as yaml: "
        ));
    }

    #[test]
    fn merge_file_replaces_scalars_with_maps() {
        assert_eq!(
            merge_overrides_file(&json!({"a": "x"}), &json!({"a": {"b": 1}})),
            json!({"a": {"b": 1}})
        );
        assert_eq!(
            merge_overrides_file(&json!({"a": 1}), &json!({"a": 0, "n": ""})),
            json!({"a": 0, "n": ""})
        );
    }
}
