//! Behaviour of `score_core::load`: spans, limits and error diagnostics (see `spec/loading.md`).

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::sync::Arc;

use score_core::diag::SourceFile;
use score_core::input::Limits;
use score_core::load::yaml::{parse, parse_str};
use score_core::{Code, Diagnostic};
use serde_json::json;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/load/");

fn fixture(name: &str) -> String {
    let path = format!("{FIXTURES}{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path} is missing: {e}"))
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn pos_of(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

#[allow(clippy::result_large_err)] // mirrors `load::parse`
fn parse_bytes(
    name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<score_core::input::Document, Diagnostic> {
    let source = Arc::new(SourceFile::new(name, String::from_utf8_lossy(bytes)));
    parse(source, bytes, limits)
}

fn assert_load_error(d: &Diagnostic, needle: &str) {
    assert!(d.code.as_str().starts_with("score::load::"), "{d:?}");
    assert!(
        d.message.contains(needle),
        "message {:?} lacks {needle:?}",
        d.message
    );
    assert!(d.help.is_some(), "no help line: {d:?}");
    assert!(d.file.is_some(), "no file: {d:?}");
}

#[test]
fn yaml_fixture_values_follow_yaml_v3_scalars() {
    let text = fixture("score.yaml");
    let doc = parse_str("score.yaml", &text).expect("fixture parses");
    let hello = &doc.value["containers"]["hello"];
    // strict booleans: `yes` stays a string, like yaml.v3 into an untyped map.
    assert_eq!(hello["variables"]["DEBUG"], json!("yes"));
    assert_eq!(
        hello["files"]["/etc/hello-world/config.yaml"]["noExpand"],
        json!(true)
    );
    assert_eq!(
        hello["files"]["/etc/hello-world/config.yaml"]["content"],
        json!("---\n${resources.env.APP_CONFIG}\n")
    );
    assert_eq!(doc.value["service"]["ports"]["www"]["port"], json!(80));
    assert!(doc.value["service"]["ports"]["www"]["port"].is_i64());
    // File order is kept (preserve_order), so later emitters stay stable.
    let keys: Vec<&str> = doc
        .value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "apiVersion",
            "metadata",
            "service",
            "containers",
            "resources"
        ]
    );
}

#[test]
fn spans_for_nested_pointers_escapes_and_sequence_items() {
    let text = fixture("score.yaml");
    let doc = parse_str("score.yaml", &text).unwrap();
    let s = &doc.spans;

    let mode = s
        .value("/containers/hello/files/~1etc~1hello-world~1config.yaml/mode")
        .unwrap();
    assert_eq!((mode.line, mode.column), pos_of(&text, "\"666\""));
    assert_eq!(&text[mode.offset..mode.offset + mode.len], "\"666\"");

    let file_key = s
        .key("/containers/hello/files/~1etc~1hello-world~1config.yaml")
        .unwrap();
    assert_eq!(
        (file_key.line, file_key.column),
        pos_of(&text, "/etc/hello-world/config.yaml:")
    );
    assert_eq!(
        &text[file_key.offset..file_key.offset + file_key.len],
        "/etc/hello-world/config.yaml"
    );

    let arg = s.value("/containers/hello/args/0").unwrap();
    assert_eq!(
        &text[arg.offset..arg.offset + arg.len],
        "\"Hello $(FRIEND)\""
    );
    assert!(
        s.key("/containers/hello/args/0").is_none(),
        "sequence items have no key span"
    );

    let ann = s
        .value("/resources/db/metadata/annotations/my.org~1version")
        .unwrap();
    assert_eq!((ann.line, ann.column), pos_of(&text, "\"0.1\""));
    let ann_key = s
        .key("/resources/db/metadata/annotations/my.org~1version")
        .unwrap();
    assert_eq!(
        &text[ann_key.offset..ann_key.offset + ann_key.len],
        "\"my.org/version\""
    );

    // Block scalar: serde-saphyr puts the value span at its first content line.
    let content = s
        .value("/containers/hello/files/~1etc~1hello-world~1config.yaml/content")
        .unwrap();
    let content_key = s
        .key("/containers/hello/files/~1etc~1hello-world~1config.yaml/content")
        .unwrap();
    assert_eq!(content_key.line, pos_of(&text, "content: |").0);
    assert_eq!(content.line, content_key.line + 1);

    // Unknown pointers: exact lookup fails, locate() climbs to the nearest ancestor.
    assert!(s.value("/containers/hello/nope/deeper").is_none());
    let hello = s.value("/containers/hello").unwrap();
    assert_eq!(s.locate("/containers/hello/nope/deeper"), Some(hello));
    assert_eq!(s.locate("/containers/hello/args/0"), Some(arg));
    assert!(s.locate("").is_some(), "the root has a span");
    assert!(s.len() > 40);
}

#[test]
fn diagnostic_points_at_nearest_span_with_file() {
    let text = fixture("score.yaml");
    let doc = parse_str("dir/score.yaml", &text).unwrap();
    let d = doc.diagnostic(
        Code::SchemaViolation,
        "/containers/hello/image",
        "bad image",
    );
    let (line, col) = pos_of(&text, "busybox");
    assert_eq!(d.location(), format!("dir/score.yaml:{line}:{col}"));
    assert_eq!(d.pointer.as_deref(), Some("/containers/hello/image"));
    assert_eq!(d.code, Code::SchemaViolation);
    let d = doc.diagnostic(Code::SchemaViolation, "/containers/hello/missing", "x");
    assert_eq!(d.span, doc.spans.value("/containers/hello"));
}

#[test]
fn json_input_parses_with_spans() {
    let text = fixture("score.json");
    let doc = parse_str("score.json", &text).expect("JSON is YAML");
    assert_eq!(doc.value["containers"]["hello"]["image"], json!("busybox"));
    let cpu = &doc.value["containers"]["hello"]["resources"]["limits"]["cpu"];
    assert!(cpu.is_f64(), "floats stay floats: {cpu}");
    assert_eq!(cpu.as_f64(), Some(0.5));
    assert!(doc.value["service"]["ports"]["www"]["targetPort"].is_u64());
    let mode = doc
        .spans
        .value("/containers/hello/files/~1etc~1hello-world~1config.yaml/mode")
        .unwrap();
    assert_eq!((mode.line, mode.column), pos_of(&text, "\"666\""));
    let key = doc
        .spans
        .key("/containers/hello/files/~1etc~1hello-world~1config.yaml")
        .unwrap();
    assert_eq!(
        &text[key.offset..key.offset + key.len],
        "\"/etc/hello-world/config.yaml\""
    );
}

#[test]
fn duplicate_key_names_both_lines() {
    let text = "apiVersion: score.dev/v1b1\nmetadata:\n  name: a\ncontainers:\n  web:\n    image: one\n    command: [x]\n    image: two\n";
    let d = parse_str("dup.yaml", text).unwrap_err();
    assert_load_error(&d, "duplicate key `image`");
    assert!(
        d.message.contains("first defined on line 6"),
        "{}",
        d.message
    );
    let span = d.span.expect("span of the second key");
    assert_eq!((span.line, span.column), (8, 5));
    assert_eq!(d.pointer.as_deref(), Some("/containers/web/image"));
    assert_eq!(d.related.len(), 1);
    assert_eq!(d.related[0].span.map(|s| s.line), Some(6));

    // Top level, and keys that only collide once turned into strings.
    let d = parse_str("dup.yaml", "a: 1\nb: 2\na: 3\n").unwrap_err();
    assert_eq!(d.span.map(|s| s.line), Some(3));
    let d = parse_str("dup.yaml", "m:\n  1: a\n  \"1\": b\n").unwrap_err();
    assert!(d.message.contains("duplicate key `1`"), "{}", d.message);
}

#[test]
fn scalar_options_match_yaml_v3() {
    let doc = parse_str(
        "s.yaml",
        "a: yes\nb: True\nc: 0755\nd: 0o755\ne: 1_000\nf: 1.0\ng: ~\nh: 0x1F\ni: -3\n",
    )
    .unwrap();
    assert_eq!(
        doc.value,
        json!({"a": "yes", "b": true, "c": 493, "d": 493, "e": 1000, "f": 1.0, "g": null, "h": 31, "i": -3})
    );
    assert!(doc.value["f"].is_f64());
    // Anchors, aliases and merge keys work.
    let doc = parse_str(
        "s.yaml",
        "base: &b {x: 1}\nuse: *b\nmerged:\n  <<: *b\n  y: 2\n",
    )
    .unwrap();
    assert_eq!(doc.value["use"], json!({"x": 1}));
    assert_eq!(doc.value["merged"], json!({"x": 1, "y": 2}));
}

#[test]
fn non_utf8_garbage_is_rejected_with_byte_offset() {
    let mut bytes = b"apiVersion: score.dev/v1b1\n".to_vec();
    let at = bytes.len();
    bytes.extend_from_slice(&[0xff, 0xfe, 0x00, 0x80]);
    // A megabyte of garbage after it must not matter: the check stops at the first bad byte.
    bytes.extend(std::iter::repeat_n(0xc3u8, 1 << 20));
    let d = parse_bytes("bin", &bytes, &Limits::default()).unwrap_err();
    assert_load_error(&d, &format!("input is not valid UTF-8 at byte {at}"));
    assert_eq!(d.span.map(|s| s.line), Some(2));

    let elf = [0x7fu8, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0xff, 0xa0];
    let d = parse_bytes("a.out", &elf, &Limits::default()).unwrap_err();
    assert_load_error(&d, "input is not valid UTF-8 at byte 9");
}

#[test]
fn alias_bomb_is_rejected() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    let d = parse_str("bomb.yaml", &text).unwrap_err();
    assert_load_error(&d, "alias");
    assert!(d.message.contains("alias bomb"), "{}", d.message);
    assert!(d.span.is_some());

    // The knob is real: a tiny replay budget rejects even a modest alias use.
    let small = "x: &x [1, 2, 3, 4, 5, 6, 7, 8]\ny: [*x, *x, *x, *x]\n";
    assert!(parse_str("ok.yaml", small).is_ok());
    let limits = Limits {
        max_alias_replayed_events: 10,
        ..Limits::default()
    };
    let d = parse_bytes("small.yaml", small.as_bytes(), &limits).unwrap_err();
    assert!(d.message.contains("alias"), "{}", d.message);
}

#[test]
fn deep_nesting_is_rejected_block_and_flow() {
    let mut block = String::new();
    for i in 0..2000 {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    let d = parse_str("deep.yaml", &block).unwrap_err();
    assert_load_error(&d, "nests deeper than 64 levels");
    assert!(d.span.is_some());

    let flow = format!("a: {}{}", "[".repeat(2000), "]".repeat(2000));
    let d = parse_str("deep.json", &flow).unwrap_err();
    assert_load_error(&d, "nests deeper than 64 levels");

    // Exactly at the limit is fine; one more is not.
    let at_limit = format!("a: {}{}", "[".repeat(63), "]".repeat(63));
    assert!(parse_str("ok.yaml", &at_limit).is_ok());
    let over = format!("a: {}{}", "[".repeat(64), "]".repeat(64));
    assert!(parse_str("over.yaml", &over).is_err());
}

#[test]
fn oversized_input_is_rejected_before_parsing() {
    let limits = Limits::default();
    assert_eq!(limits.max_bytes, 4 * 1024 * 1024);
    // Invalid YAML, so only the size check can produce this message.
    let big = vec![b'['; limits.max_bytes + 1];
    let d = parse_bytes("big.yaml", &big, &limits).unwrap_err();
    assert_load_error(&d, "input is too large");
    assert!(d.message.contains(&format!("{}", limits.max_bytes + 1)));

    let limits = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    let d = parse_bytes("s.yaml", b"apiVersion: x\n", &limits).unwrap_err();
    assert_load_error(&d, "input is too large");
    assert!(parse_bytes("s.yaml", b"a: 1\n", &limits).is_ok());
}

#[test]
fn empty_input_is_an_eof_error() {
    for text in ["", "\n\n", "# only a comment\n", "   "] {
        let d = parse_str("empty.yaml", text).unwrap_err();
        assert_load_error(&d, "empty document");
        assert!(d.message.contains("EOF"), "{}", d.message);
    }
}

#[test]
fn top_level_must_be_a_mapping() {
    let d = parse_str("x.yaml", "<NOT A VALID YAML>").unwrap_err();
    assert_load_error(&d, "a Score file must be a YAML mapping");
    assert!(d.message.contains("a string"), "{}", d.message);
    assert_eq!(d.span.map(|s| (s.line, s.column, s.len)), Some((1, 1, 18)));
    for (text, kind) in [
        ("- a\n- b\n", "a sequence"),
        ("---\n", "null"),
        ("42\n", "a number"),
    ] {
        let d = parse_str("x.yaml", text).unwrap_err();
        assert_load_error(&d, "a Score file must be a YAML mapping");
        assert!(d.message.contains(kind), "{}", d.message);
    }
}

#[test]
fn multiple_documents_are_rejected_but_a_leading_marker_is_fine() {
    let d = parse_str("m.yaml", "a: 1\n---\nb: 2\n").unwrap_err();
    assert_load_error(&d, "more than one YAML document");
    assert_eq!(d.span.map(|s| s.line), Some(3));
    let doc = parse_str("m.yaml", "---\na: 1\n").unwrap();
    assert_eq!(doc.value, json!({"a": 1}));
    let doc = parse_str("m.yaml", "---\na: 1\n...\n").unwrap();
    assert_eq!(doc.value, json!({"a": 1}));
}

#[test]
fn syntax_errors_carry_a_location() {
    let d = parse_str("s.yaml", "a: [1, 2\n").unwrap_err();
    assert_load_error(&d, "invalid YAML");
    assert!(d.span.is_some());
    let d = parse_str("s.yaml", "a:\n\tb: 1\n").unwrap_err();
    assert_load_error(&d, "invalid YAML");
    let span = d.span.unwrap();
    assert_eq!(span.line, 2);
    // Byte offset agrees with line/column even when the parser gives no byte info.
    assert_eq!(span.offset, "a:\n".len() + span.column - 1);
}

#[test]
fn non_scalar_keys_and_non_finite_numbers_are_rejected() {
    let d = parse_str("k.yaml", "? [a, b]\n: 1\n").unwrap_err();
    assert_load_error(&d, "mapping key must be a scalar");
    assert_eq!(d.code, Code::LoadNonScalarKey);
    let d = parse_str("k.yaml", "a: .inf\n").unwrap_err();
    assert_eq!(d.code, Code::LoadNonFiniteNumber);
    assert!(d.message.contains("finite"), "{}", d.message);
}

#[test]
fn byte_order_mark_is_skipped_and_spans_still_index_the_text() {
    let text = "\u{feff}apiVersion: v\nname: n\n";
    let doc = parse_str("bom.yaml", text).unwrap();
    assert_eq!(doc.value, json!({"apiVersion": "v", "name": "n"}));
    let k = doc.spans.key("/apiVersion").unwrap();
    assert_eq!((k.line, k.column), (1, 1));
    assert_eq!(&text[k.offset..k.offset + k.len], "apiVersion");
    let s = doc.spans.value("/name").unwrap();
    assert_eq!(&text[s.offset..s.offset + s.len], "n");
    assert_eq!(s.line, 2);
}
