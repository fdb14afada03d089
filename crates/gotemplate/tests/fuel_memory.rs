//! The fuel counts the text of a value before it is produced (issue 21): a list holding one
//! large string many times prints to far more bytes than building it cost, and the render must
//! fail without allocating that text. A counting allocator measures the peak (this binary has
//! this one test, so nothing else allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use score_gotemplate::{Functions, GoTemplate, RenderContext};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// `$l`: 100,000 references to one 10 kB string (1 GB of text), built for ~130,000 fuel.
const BIG_LIST: &str = "{{ $s := repeat 10000 \"x\" }}{{ $a := list $s $s $s $s $s $s $s $s $s $s }}{{ $b := list $a $a $a $a $a $a $a $a $a $a }}{{ $c := list $b $b $b $b $b $b $b $b $b $b }}{{ $d := list $c $c $c $c $c $c $c $c $c $c }}{{ $l := list $d $d $d $d $d $d $d $d $d $d }}";

#[test]
fn printing_a_list_of_shared_strings_fails_before_producing_the_text() {
    let mut results = Vec::new();
    for action in [
        "{{ join \",\" $l | len }}",
        "{{ toJson $l | len }}",
        "{{ toPrettyJson $l | len }}",
        "{{ print $l | len }}",
        "{{ printf \"%v\" $l | len }}",
        "{{ $f := \"%v\" }}{{ printf $f $l | len }}",
        "{{ cat $l | len }}",
        "{{ toString $l | len }}",
        "{{ toStrings $l | len }}",
        "{{ quote $l | len }}",
        "{{ $l }}",
    ] {
        let src = format!("{BIG_LIST}{action}");
        let t = GoTemplate::parse(&src, &Functions::sprig(), None).unwrap();
        let base = NOW.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let r = t.render(
            &serde_json::json!({}),
            &RenderContext {
                random_key: b"k",
                fuel: 1_000_000,
            },
        );
        let peak = PEAK.load(Ordering::Relaxed) - base;
        results.push((action, peak, r));
    }
    for (action, peak, r) in &results {
        let e = r.as_ref().expect_err(action);
        assert!(e.message.contains("fuel"), "{action}: {e:?}");
        assert!(*peak < 64 << 20, "{action}: {} MB allocated", *peak >> 20);
    }
    // Splitting a long separator-only text and joining it with a large separator.
    let t = GoTemplate::parse(
        "{{ $l := splitList \",\" (repeat 50000 \",\") }}{{ join (repeat 100000 \"x\") $l | len }}",
        &Functions::sprig(),
        None,
    )
    .unwrap();
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let e = t
        .render(
            &serde_json::json!({}),
            &RenderContext {
                random_key: b"k",
                fuel: 1_000_000,
            },
        )
        .unwrap_err();
    assert!(e.message.contains("fuel"), "{e:?}");
    assert!(PEAK.load(Ordering::Relaxed) - base < 64 << 20);
}
