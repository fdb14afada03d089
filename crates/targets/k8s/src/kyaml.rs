//! KYAML, the Kubernetes dialect of YAML (<https://kubernetes.io/docs/reference/encodings/kyaml/>),
//! for [`K8sOptions::kyaml`](crate::K8sOptions) (`score-gen k8s --format kyaml`) as score-k8s
//! writes it: every document starts with `---`,
//! mappings are `{ }` and lists `[ ]` (flow style, one entry a line, each followed by a comma),
//! a list of mappings is "cuddled" (`[{` ... `}, {` ... `}]`), every string value is
//! double-quoted, and a key is quoted only when a YAML parser could read it as something other
//! than that string (`"no"`, `"1"`, `"a b"`). The result is YAML, so any YAML reader (kubectl)
//! reads it back to the same values.

use score_core::{Code, Diagnostic, Diagnostics};
use serde_json::Value;

/// The manifests written as YAML (`yaml`, what [`crate::render_yaml`] wrote), read back and
/// written as KYAML: the documents KYAML shows are exactly those the YAML holds.
pub fn from_yaml(yaml: &str) -> Result<String, Diagnostics> {
    // The reader's budget scales with the text, as the state reader's does: the manifests of a
    // large project exceed serde-saphyr's fixed defaults.
    let scaled = yaml.len().saturating_add(1024);
    let opts = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: scaled.max(250_000),
            max_events: scaled.max(1_000_000),
            max_documents: scaled,
        },
    };
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(yaml, opts).map_err(|e| {
        Diagnostic::new(
            Code::Internal,
            format!("internal: cannot read the manifests back to write KYAML: {e}"),
        )
        .with_help("please report this with the Score files attached; --format yaml works")
    })?;
    Ok(render(&docs))
}

/// The documents as one KYAML stream.
pub fn render(docs: &[Value]) -> String {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        value(&mut out, doc, 0);
        out.push('\n');
    }
    out
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Writes `v` starting at the current position (its first line is already indented), with
/// nested lines at `level + 1`.
fn value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => quoted(out, s),
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(m) => {
            out.push_str("{\n");
            entries(out, m, level + 1);
            indent(out, level);
            out.push('}');
        }
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Array(a)
            if a.iter()
                .all(|x| matches!(x, Value::Object(m) if !m.is_empty())) =>
        {
            // Cuddled: `[{`, the entries, `}, {`, ..., `}]`.
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if let Value::Object(m) = item {
                    out.push_str("{\n");
                    entries(out, m, level + 1);
                    indent(out, level);
                    out.push('}');
                }
            }
            out.push(']');
        }
        Value::Array(a) => {
            out.push_str("[\n");
            for item in a {
                indent(out, level + 1);
                value(out, item, level + 1);
                out.push_str(",\n");
            }
            indent(out, level);
            out.push(']');
        }
    }
}

fn entries(out: &mut String, m: &serde_json::Map<String, Value>, level: usize) {
    for (k, v) in m {
        indent(out, level);
        key(out, k);
        out.push_str(": ");
        value(out, v, level);
        out.push_str(",\n");
    }
}

/// A key as written: bare when it is a plain word of letters, digits and `-_./` that no YAML
/// parser reads as a boolean, null or number; else double-quoted.
fn key(out: &mut String, k: &str) {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !ambiguous(k);
    if plain {
        out.push_str(k);
    } else {
        quoted(out, k);
    }
}

/// Words YAML 1.1 or 1.2 reads as booleans or null (`.inf`/`.nan` start with a dot and are
/// quoted anyway).
fn ambiguous(k: &str) -> bool {
    const WORDS: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(k))
}

/// A double-quoted YAML string: `"` and `\` escaped, and every character YAML does not allow
/// raw (controls, surrogates' neighbours, the BOM) as an escape, as is every character a YAML
/// 1.1 reader takes for a line break (NEL U+0085, LINE SEPARATOR U+2028, PARAGRAPH SEPARATOR
/// U+2029: go-yaml v2, behind sigs.k8s.io/yaml, folds or refuses them raw inside quotes).
fn quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
}

/// YAML 1.2's printable set (c-printable), less tab, line feed and carriage return (escaped),
/// less every line break of YAML 1.1 (NEL, U+2028, U+2029: escaped) and the BOM.
fn printable(c: char) -> bool {
    matches!(c as u32,
        0x20..=0x7E | 0xA0..=0x2027 | 0x202A..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..=0x10_FFFF)
        && c != '\u{FEFF}'
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape() {
        let doc = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web", "no": "x"}},
            "spec": {"ports": [{"port": 80, "name": "a b"}, {"port": 81}], "selector": {},
                     "args": ["sh", "-c", "echo \"$$X\"\n"], "n": null, "ok": true, "list": []}
        });
        let text = render(&[doc]);
        let expected = r#"---
{
  apiVersion: "v1",
  kind: "Service",
  metadata: {
    name: "web",
    labels: {
      app.kubernetes.io/name: "web",
      "no": "x",
    },
  },
  spec: {
    ports: [{
      port: 80,
      name: "a b",
    }, {
      port: 81,
    }],
    selector: {},
    args: [
      "sh",
      "-c",
      "echo \"$$X\"\n",
    ],
    "n": null,
    ok: true,
    list: [],
  },
}
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn odd_strings_are_escaped() {
        let mut s = String::new();
        quoted(&mut s, "a\u{1}b\u{FEFF}c\u{7F}é😀");
        assert_eq!(s, "\"a\\u0001b\\uFEFFc\\u007Fé😀\"");
        let mut k = String::new();
        key(&mut k, "1abc");
        assert_eq!(k, "\"1abc\"");
    }

    #[test]
    fn yaml_1_1_line_breaks_are_escaped_and_read_back() {
        // YAML 1.1 (go-yaml v2 behind sigs.k8s.io/yaml) reads NEL, U+2028 and U+2029 as line
        // breaks: raw inside quotes they fold into spaces or fail the read (issue 21).
        let text = "a\u{85}b\u{2028}c\u{2029}d\re\nf";
        let out = render(&[json!({"k\u{2028}": text})]);
        for c in ['\u{85}', '\u{2028}', '\u{2029}', '\r'] {
            assert!(!out.contains(c), "{c:?} raw in {out:?}");
        }
        assert_eq!(out.lines().count(), 4, "{out:?}");
        assert!(out.contains(r#""a\u0085b\u2028c\u2029d\re\nf""#), "{out}");
        let back: serde_json::Value = serde_saphyr::from_str(&out).unwrap();
        assert_eq!(back, json!({"k\u{2028}": text}));
    }
}
