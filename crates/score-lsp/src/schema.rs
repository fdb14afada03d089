//! Walking the Score JSON Schema (score-core's embedded one) along a path of keys: which keys
//! a mapping may have, what a key means (its `description`), which values an enum allows.

use serde_json::Value;

use crate::yamlpath::Seg;

/// A schema node plus the description found on the way to it (a `$ref` sibling's).
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    value: &'a Value,
    description: Option<&'a str>,
}

fn root() -> &'static Value {
    score_core::score_schema()
}

/// Follows `$ref`s (local `#/$defs/...` only), keeping the first description seen.
fn resolve(mut value: &Value) -> Node<'_> {
    let mut description = value.get("description").and_then(Value::as_str);
    for _ in 0..16 {
        let Some(r) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(target) = r.strip_prefix('#').and_then(|p| root().pointer(p)) else {
            break;
        };
        value = target;
        description = description.or_else(|| value.get("description").and_then(Value::as_str));
    }
    Node { value, description }
}

/// The branches of a node: itself, or its `oneOf` / `anyOf` alternatives (resolved).
fn branches(node: Node<'_>) -> Vec<Node<'_>> {
    let mut out = vec![node];
    for k in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = node.value.get(k).and_then(Value::as_array) {
            out.extend(list.iter().map(resolve));
        }
    }
    out
}

/// The schema node at `path` from the root (`None` when the path leaves the schema).
pub fn at(path: &[Seg]) -> Option<Node<'static>> {
    let mut node = resolve(root());
    for seg in path {
        node = child(node, seg)?;
    }
    Some(node)
}

/// The node for one step down.
pub fn child<'a>(node: Node<'a>, seg: &Seg) -> Option<Node<'a>> {
    for b in branches(node) {
        let found = match seg {
            Seg::Key(k) => b
                .value
                .get("properties")
                .and_then(|p| p.get(k.as_str()))
                .or_else(|| {
                    b.value
                        .get("additionalProperties")
                        .filter(|a| a.is_object())
                }),
            Seg::Item => b.value.get("items"),
        };
        if let Some(v) = found {
            return Some(resolve(v));
        }
    }
    None
}

impl<'a> Node<'a> {
    /// The description, if the schema has one for this place.
    pub fn description(&self) -> Option<&'a str> {
        self.description.or_else(|| {
            branches(*self)
                .iter()
                .find_map(|b| b.value.get("description").and_then(Value::as_str))
        })
    }

    /// The named properties (with their descriptions), across `oneOf` branches, in schema order.
    pub fn properties(&self) -> Vec<(&'a str, Option<&'a str>)> {
        let mut out: Vec<(&str, Option<&str>)> = Vec::new();
        for b in branches(*self) {
            let Some(props) = b.value.get("properties").and_then(Value::as_object) else {
                continue;
            };
            for (k, v) in props {
                if out.iter().all(|(name, _)| name != k) {
                    out.push((k.as_str(), resolve(v).description));
                }
            }
        }
        out
    }

    /// The allowed values of an `enum` / `const` (strings and numbers as text).
    pub fn enum_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for b in branches(*self) {
            let vals = b
                .value
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .chain(b.value.get("const").cloned());
            for v in vals {
                let s = match v {
                    Value::String(s) => s,
                    Value::Null => continue,
                    other => other.to_string(),
                };
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(keys: &[&str]) -> Vec<Seg> {
        keys.iter()
            .map(|k| {
                if *k == "-" {
                    Seg::Item
                } else {
                    Seg::Key((*k).to_string())
                }
            })
            .collect()
    }

    #[test]
    fn container_keys_and_descriptions() {
        let n = at(&path(&["containers", "web"])).unwrap();
        let props: Vec<&str> = n.properties().iter().map(|p| p.0).collect();
        assert!(
            props.contains(&"image") && props.contains(&"variables"),
            "{props:?}"
        );
        let img = at(&path(&["containers", "web", "image"])).unwrap();
        assert!(img.description().unwrap().to_lowercase().contains("image"));
        let r = at(&path(&["resources", "db"])).unwrap();
        let props: Vec<&str> = r.properties().iter().map(|p| p.0).collect();
        assert_eq!(props, ["type", "class", "id", "metadata", "params"]);
        assert!(at(&path(&["nope", "x"])).is_none());
    }
}
