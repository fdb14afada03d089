//! The loader's fast path: a [`Document`] built straight from granit-parser's events.
//!
//! serde-saphyr's spanned deserializer (the slow path) spends most of its time above the event
//! parser it uses, granit-parser: peeking, wrapping every node in `Spanned`, a node tree, then
//! [`super::Converter`]. Building the value and the span index from the events themselves, in one
//! loop, costs well under half as much.
//!
//! It answers only when the answer is certain to be the slow path's, and returns `None`
//! otherwise, so the slow path decides (and words every error). It declines on any parse error,
//! tags, anchors and aliases, merge keys, duplicate keys, a key that is not plainly a string,
//! a plain scalar whose type is not certain (see [`crate::load::yaml::events::scalar`], with
//! the loader's strict booleans), more than one document, a root that is not a mapping when one
//! is required, nesting deeper than the limit and more events than the node limit.
//!
//! Spans: serde-saphyr gives a node the location of its first event (the scalar, or the start of
//! the sequence or mapping), with the event's byte offset and length, and the line and the
//! column (+1) of its start. This does the same from the same events. Debug builds parse every
//! file both ways and assert the documents are equal ([`check_against_slow`]), so the whole test
//! suite and the fuzz loops check this path.

use std::fmt::Write as _;
use std::sync::Arc;

use granit_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Value};

use super::{escape_pointer_segment, Document, Limits, SpanIndex};
#[cfg(feature = "yaml-cross-check")]
use crate::diag::Diagnostic;
use crate::diag::{SourceFile, Span};
use crate::load::yaml::events::scalar;

/// An open collection, with the JSON pointer of the collection itself.
enum Frame {
    Seq(Vec<Value>, String),
    /// A mapping, and the key waiting for its value (with the member's pointer).
    Map(Map<String, Value>, Option<(String, String)>, String),
}

/// The span serde-saphyr's `Location` for this event gives (see `super::location_span`).
fn span_of(source: &SourceFile, bom: usize, span: &granit_parser::Span) -> Option<Span> {
    let line = span.start.line();
    if line == 0 {
        return None;
    }
    let start = span.start.byte_offset()?;
    let end = span.end.byte_offset()?;
    let offset = start + bom;
    let len = end
        .saturating_sub(start)
        .min(source.text.len().saturating_sub(offset));
    Some(Span::new(offset, len, line, span.start.col() + 1))
}

/// The document, or `None` when the slow path must decide.
pub(super) fn parse_body(
    source: &Arc<SourceFile>,
    bom: usize,
    body: &str,
    limits: &Limits,
    require_mapping: bool,
) -> Option<Document> {
    let mut spans = SpanIndex::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0;
    let mut events = 0usize;
    for next in Parser::new_from_str(body) {
        let (event, ev_span) = next.ok()?;
        let is_seq = matches!(event, Event::SequenceStart(..));
        events += 1;
        if events > limits.max_nodes {
            return None;
        }
        let (value_start, container) = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                if let Some(Frame::Map(map, key @ None, pointer)) = stack.last_mut() {
                    // A key: certain to be a string, and new.
                    let k = match scalar(text, style, true)? {
                        Value::String(k) if !(k == "<<" && style == ScalarStyle::Plain) => k,
                        _ => return None,
                    };
                    if map.contains_key(&k) {
                        return None;
                    }
                    let span = span_of(source, bom, &ev_span)?;
                    let member = member_pointer(pointer, &k);
                    spans.set_key(member.clone(), span);
                    *key = Some((k, member));
                    continue;
                }
                (Some(scalar(text, style, true)?), None)
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag) => {
                if anchor != 0 || tag.is_some() || stack.len() + 1 >= limits.max_depth {
                    return None;
                }
                // A collection as a key has no JSON counterpart.
                if let Some(Frame::Map(_, None, _)) = stack.last() {
                    return None;
                }
                (None, Some(is_seq))
            }
            Event::SequenceEnd => {
                let Frame::Seq(items, _) = stack.pop()? else {
                    return None;
                };
                attach(&mut stack, &mut root, Value::Array(items))?;
                continue;
            }
            Event::MappingEnd => {
                let Frame::Map(map, None, _) = stack.pop()? else {
                    return None;
                };
                attach(&mut stack, &mut root, Value::Object(map))?;
                continue;
            }
            // Aliases, and anything else the parser may report: the slow path.
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        // A new node: its pointer, and its span.
        let pointer = match stack.last_mut() {
            None => {
                if root.is_some() || (require_mapping && container != Some(false)) {
                    return None;
                }
                String::new()
            }
            Some(Frame::Seq(items, p)) => {
                let mut ptr = String::with_capacity(p.len() + 4);
                ptr.push_str(p);
                ptr.push('/');
                let _ = write!(ptr, "{}", items.len());
                ptr
            }
            // The member's pointer was made with its key; only the key is needed from here on.
            Some(Frame::Map(_, Some((_, member)), _)) => std::mem::take(member),
            Some(Frame::Map(_, None, _)) => return None,
        };
        let span = span_of(source, bom, &ev_span)?;
        match (value_start, container) {
            (Some(v), _) => {
                spans.set_value(pointer, span);
                attach(&mut stack, &mut root, v)?;
            }
            (None, is_seq) => {
                spans.set_value(pointer.clone(), span);
                stack.push(if is_seq == Some(true) {
                    Frame::Seq(Vec::new(), pointer)
                } else {
                    Frame::Map(Map::new(), None, pointer)
                });
            }
        }
    }
    if !stack.is_empty() {
        return None;
    }
    Some(Document {
        source: source.clone(),
        value: root?,
        spans,
    })
}

/// `parent/key`, the key escaped (RFC 6901), without going through `format!`.
fn member_pointer(parent: &str, key: &str) -> String {
    let mut p = String::with_capacity(parent.len() + key.len() + 1);
    p.push_str(parent);
    p.push('/');
    if key.contains(['~', '/']) {
        p.push_str(&escape_pointer_segment(key));
    } else {
        p.push_str(key);
    }
    p
}

/// Puts a finished value into its parent (or makes it the root).
fn attach(stack: &mut [Frame], root: &mut Option<Value>, value: Value) -> Option<()> {
    match stack.last_mut() {
        None => {
            if root.is_some() {
                return None;
            }
            *root = Some(value);
        }
        Some(Frame::Seq(items, _)) => items.push(value),
        Some(Frame::Map(map, key, _)) => {
            map.insert(key.take()?.0, value);
        }
    }
    Some(())
}

/// Debug builds: the fast answer must be exactly the slow path's.
#[cfg(feature = "yaml-cross-check")]
pub(super) fn check_against_slow(fast: &Document, slow: &Result<Document, Diagnostic>) {
    let slow = match slow {
        Ok(d) => d,
        Err(e) => panic!(
            "fast loader accepted what the slow path rejects ({}): {}",
            e.message, fast.source.text
        ),
    };
    assert_eq!(fast.value, slow.value, "fast loader value differs");
    assert_eq!(fast.spans, slow.spans, "fast loader spans differ");
}

/// Where the document first nests deeper than `max_depth` collections (the root is level 1),
/// counting block and flow collections alike: the start of the first collection at level
/// `max_depth + 1`. serde-saphyr's budget counts flow brackets on their own, so its position for
/// `args: [[[...` is off by the block levels around it. `None` when the events end (or fail)
/// before that depth.
pub(super) fn first_too_deep(source: &SourceFile, bom: usize, max_depth: usize) -> Option<Span> {
    let body = source.text.get(bom..)?;
    let mut depth = 0usize;
    for next in Parser::new_from_str(body) {
        let (event, ev_span) = next.ok()?;
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > max_depth {
                    return span_of(source, bom, &ev_span);
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the corpus test reads the repository's YAML files
mod tests {
    use super::super::{Limits, SourceFile};
    use std::path::Path;
    use std::sync::Arc;

    fn fast(text: &str) -> Option<super::Document> {
        let source = Arc::new(SourceFile::new("t.yaml", text));
        super::parse_body(&source, 0, text, &Limits::default(), false)
    }

    fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, out);
            } else if path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                out.push(path);
            }
        }
    }

    /// Every YAML and JSON file under testdata/ and examples/ (fixtures, provisioner files, the
    /// bad-input corpus) through both paths: wherever the fast path answers, the answer is the
    /// slow path's. And it does answer for most of them, including every fixture workload.
    #[test]
    fn agrees_with_the_slow_path_on_the_corpus() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        yaml_files(&root.join("testdata"), &mut files);
        yaml_files(&root.join("examples"), &mut files);
        files.sort();
        let (mut answered, mut total) = (0, 0);
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            total += 1;
            let source = Arc::new(SourceFile::new("t.yaml", &text));
            let limits = Limits::default();
            let Some(doc) = super::parse_body(&source, 0, &text, &limits, false) else {
                continue;
            };
            answered += 1;
            let slow = super::super::slow_path(&source, 0, &text, &limits, false, &|m| {
                crate::diag::Diagnostic::new(crate::diag::Code::Internal, m)
            });
            let slow = slow.unwrap_or_else(|e| {
                panic!(
                    "{}: fast accepts, slow rejects: {}",
                    path.display(),
                    e.message
                )
            });
            assert_eq!(doc.value, slow.value, "{}", path.display());
            assert_eq!(doc.spans, slow.spans, "{}", path.display());
        }
        eprintln!("fast path answered {answered} of {total}");
        assert!(total > 100, "{total} files");
        assert!(
            answered * 10 >= total * 7,
            "fast path answered {answered} of {total}"
        );
    }

    #[test]
    fn declines_what_it_cannot_decide() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "<<: {a: 1}\n",
            "a: 1\na: 2\n",
            "a: 1.5\n",
            "a: 0777\n",
            "? [1]\n: x\n",
            "a: [1\n",
            "--- 1\n--- 2\n",
            "1: x\n",
            "null: x\n",
        ] {
            assert!(fast(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn answers_with_strict_booleans_and_spans() {
        let doc = fast("a: yes\nb: True\nc: \"1\"\nd:\n  - x\n  - 2\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"a": "yes", "b": true, "c": "1", "d": ["x", 2]})
        );
        let s = doc.spans.value("/d/1").unwrap();
        assert_eq!((s.line, s.column, s.len), (6, 5, 1));
        let k = doc.spans.key("/c").unwrap();
        assert_eq!((k.line, k.column, k.offset), (3, 1, 15));
    }
}
