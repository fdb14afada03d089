//! YAML alias bombs in a rendered provisioner section (the template fuzzer's finding, issue 21):
//! a Go-template section of 359 bytes whose nine levels of ten aliases each stand for 10⁹
//! strings grew past 24 GB before the fix. Each case must be a located error, and the whole
//! test process stays under a cap: past [`CAP`] live bytes its allocator fails, which aborts
//! the test binary instead of exhausting the machine (so without the bound this test fails
//! fast).

// Tests work with real files; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use score_core::provision::{provision, ProvisionInput};
use score_core::target::ResourceUid;
use score_core::Code;
use score_core::{ProvisionOptions, ProvisionerSet};

/// Live heap bytes the test process may hold.
const CAP: usize = 768 << 20;

struct Capped;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Capped {
    fn grow(size: usize) -> bool {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        if live > CAP {
            LIVE.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        PEAK.fetch_max(live, Ordering::Relaxed);
        true
    }
}

// SAFETY: every call goes to `System`; the counters are plain atomics.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if !Self::grow(layout.size()) {
                return std::ptr::null_mut();
            }
            let p = System.alloc(layout);
            if p.is_null() {
                LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            }
            p
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe {
            System.dealloc(ptr, layout);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            let old = layout.size();
            if new_size > old && !Self::grow(new_size - old) {
                return std::ptr::null_mut();
            }
            let p = System.realloc(ptr, layout, new_size);
            match (p.is_null(), new_size > old) {
                (true, true) => {
                    LIVE.fetch_sub(new_size - old, Ordering::Relaxed);
                }
                (false, false) => {
                    LIVE.fetch_sub(old - new_size, Ordering::Relaxed);
                }
                _ => {}
            }
            p
        }
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;

/// Nine levels of ten aliases: 10⁹ strings once expanded.
fn laughs() -> String {
    let mut text =
        String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let refs = vec![format!("*{prev}"); 10].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    text
}

/// One string of `len` bytes aliased `copies` times.
fn wide(len: usize, copies: usize) -> String {
    format!(
        "s: &s {}\nl: [{}]\n",
        "y".repeat(len),
        vec!["*s"; copies].join(", ")
    )
}

/// Provisions a one-entry file whose `outputs` section is `outputs`, literally (`{% raw %}` /
/// a Go template without actions), in the given dialect.
fn provision_outputs(engine: &str, outputs: &str) -> score_core::Diagnostic {
    let body = if engine == "minijinja" {
        format!("{{% raw %}}{outputs}{{% endraw %}}")
    } else {
        outputs.to_string()
    };
    let indented: String = body.lines().map(|l| format!("    {l}\n")).collect();
    let file =
        format!("- uri: template://bomb\n  engine: {engine}\n  type: t\n  outputs: |\n{indented}");
    let set = ProvisionerSet::load(&[score_core::input::ProvisionerFile::new(
        "bomb.provisioners.yaml",
        file,
    )])
    .unwrap_or_else(|d| panic!("load: {}", d.message));
    let uid = ResourceUid::new("w", "r", "t", None, None);
    let p = set.find(&uid).expect("the entry matches");
    let input = ProvisionInput::new(uid, "seed");
    let opts = ProvisionOptions {
        fuel: 100_000_000,
        ..ProvisionOptions::default()
    };
    match provision(p, &input, "compose", &opts) {
        Ok(out) => panic!("{engine}: provisioned {} outputs", out.outputs.len()),
        Err(d) => d,
    }
}

#[test]
fn alias_bombs_in_a_rendered_section_are_located_errors_within_a_memory_cap() {
    let cases = [
        ("gotemplate", laughs(), "excessive aliasing"),
        // Few nodes, many bytes: 1 MiB copied 2 000 times would be 2 GB.
        ("gotemplate", wide(1 << 20, 2000), "excessive aliasing"),
        ("minijinja", laughs(), ""),
        ("minijinja", wide(1 << 20, 2000), ""),
    ];
    for (engine, text, words) in cases {
        let d = provision_outputs(engine, &text);
        assert_eq!(
            d.code,
            Code::ProvisionInvalidSectionOutput,
            "{engine}: {}",
            d.message
        );
        assert!(d.message.contains(words), "{engine}: {}", d.message);
        assert!(
            d.message.contains("bomb.provisioners.yaml:5"),
            "{}",
            d.message
        );
        let span = d.span.expect("the error points at the section");
        assert_eq!(span.line, 5, "{engine}: {}", d.message);
    }
    let peak = PEAK.load(Ordering::Relaxed);
    assert!(peak < CAP, "peak {peak}");
}

/// Go-template functions whose result grows by a piece of text per match or per break, found
/// by the hostile review (issue 21): each stopped only at the CLI's memory budget. Now each is
/// the fuel error at the section, before the text is built.
#[test]
fn go_functions_that_multiply_text_stop_at_the_fuel() {
    let cases = [
        // 10 001 matches × 100 kB = 1 GB.
        r#"a: {{ regexReplaceAll "" (repeat 10000 "x") (repeat 100000 "y") | len }}"#,
        r#"a: {{ regexReplaceAllLiteral "" (repeat 10000 "x") (repeat 100000 "y") | len }}"#,
        r#"a: {{ mustRegexReplaceAll "x" (repeat 10000 "x") (repeat 100000 "y") | len }}"#,
        // A group expanded per match.
        r#"a: {{ regexReplaceAll "(x)" (repeat 10000 "x") (repeat 100000 "$1") | len }}"#,
        // 100 000 breaks × 100 kB = 10 GB.
        r#"a: {{ wrapWith 1 (repeat 100000 "y") (repeat 100000 "x") | len }}"#,
        // Quadratic work with the fuel untouched: minutes each before (time, not memory).
        r#"a: {{ uniq (until 200000) | len }}"#,
        r#"a: {{ $l := until 100000 }}{{ range $l }}{{ if has . $l }}{{ end }}{{ end }}"#,
        r#"a: {{ $l := until 100000 }}{{ range $l }}{{ if deepEqual $l $l }}{{ end }}{{ end }}"#,
    ];
    for template in cases {
        let file = format!(
            "- uri: template://bomb\n  engine: gotemplate\n  type: t\n  outputs: |\n    {template}\n"
        );
        let set = ProvisionerSet::load(&[score_core::input::ProvisionerFile::new(
            "go.provisioners.yaml",
            file,
        )])
        .unwrap_or_else(|d| panic!("load: {}", d.message));
        let uid = ResourceUid::new("w", "r", "t", None, None);
        let p = set.find(&uid).expect("the entry matches");
        let input = ProvisionInput::new(uid, "seed");
        let opts = ProvisionOptions {
            fuel: 1_000_000,
            ..ProvisionOptions::default()
        };
        let d = provision(p, &input, "compose", &opts).expect_err(template);
        assert_eq!(
            d.code,
            Code::ProvisionTemplateRender,
            "{template}: {}",
            d.message
        );
        assert!(d.message.contains("fuel"), "{template}: {}", d.message);
        assert!(
            d.message.contains("go.provisioners.yaml:5"),
            "{}",
            d.message
        );
    }
    // Ordinary use stays fine.
    let file = "- uri: template://ok\n  engine: gotemplate\n  type: t\n  outputs: |\n    a: {{ regexReplaceAll \"(b)\" \"abc\" \"[$1]\" }}\n    b: {{ wrapWith 3 \"|\" \"aaa bbb ccc\" }}\n    c: {{ trimAll (printf \"%sa\" (repeat 100000 \"b\")) (repeat 100000 \"a\") | len }}\n";
    let set = ProvisionerSet::load(&[score_core::input::ProvisionerFile::new(
        "ok.provisioners.yaml",
        file,
    )])
    .unwrap();
    let uid = ResourceUid::new("w", "r", "t", None, None);
    let out = provision(
        set.find(&uid).unwrap(),
        &ProvisionInput::new(uid, "s"),
        "compose",
        &ProvisionOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{}", d.message));
    assert_eq!(out.outputs["a"], "a[b]c");
    assert_eq!(out.outputs["b"], "aaa|bbb|ccc");
    // A long cutset over a long string: linear (it was 10¹⁰ character comparisons).
    assert_eq!(out.outputs["c"], 0);
}
