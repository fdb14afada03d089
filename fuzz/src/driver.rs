//! A deterministic mutation fuzzer for the stable toolchain (no libFuzzer, no coverage feedback).
//!
//! Inputs come from a seeded xorshift generator: the repository's YAML files (examples, testdata,
//! the bad corpus) as seeds, mutated by byte flips, dictionary inserts, deletions, duplications
//! and splices; plus pure token soup from the target's dictionary. The same `SEED` replays the
//! same inputs. A panic, an `Err` from the check, or an input slower than [`SLOW`] is a finding:
//! the input is written to `fuzz/artifacts/<target>/` and the process exits 1. `fuzz_<target>
//! FILE` replays one saved input.
//!
//! Memory is a finding too: the loops run under [`CappedAlloc`], which counts live heap bytes;
//! an input that makes them pass [`MAX_LIVE`] (or `FUZZ_MAX_MEMORY_MIB`) is saved as
//! `oom-<seed>.bin` before the process aborts, instead of growing until the machine kills it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One input taking longer than this (debug build) counts as a hang.
pub const SLOW: Duration = Duration::from_secs(10);

/// Live heap bytes one fuzz process may hold (default 1 GiB; `FUZZ_MAX_MEMORY_MIB` overrides).
/// Every check's own bounds (fuel, node counts, sizes) keep an input far below this.
pub const MAX_LIVE: usize = 1 << 30;

/// The system allocator with a count of live bytes and a cap: passing the cap saves the input
/// being checked (see `CappedAlloc::watch`) and aborts with a message naming the file.
pub struct CappedAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static REPORTING: AtomicBool = AtomicBool::new(false);
static INPUT_PTR: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static INPUT_LEN: AtomicUsize = AtomicUsize::new(0);
static SAVE_PATH: AtomicPtr<String> = AtomicPtr::new(std::ptr::null_mut());

impl CappedAlloc {
    /// Live heap bytes now.
    pub fn live() -> usize {
        LIVE.load(Ordering::Relaxed)
    }

    /// Arms the cap: `limit` live bytes; `save` is where the input being checked goes.
    fn arm(limit: usize, save: PathBuf) {
        let path = Box::leak(Box::new(save.to_string_lossy().into_owned()));
        SAVE_PATH.store(path, Ordering::SeqCst);
        LIMIT.store(limit, Ordering::SeqCst);
    }

    /// Records `input` as the one being checked (it must outlive the check).
    fn watch(input: &[u8]) {
        INPUT_LEN.store(input.len(), Ordering::SeqCst);
        INPUT_PTR.store(input.as_ptr().cast_mut(), Ordering::SeqCst);
    }

    /// No input is being checked (the last one is about to be dropped).
    fn unwatch() {
        INPUT_PTR.store(std::ptr::null_mut(), Ordering::SeqCst);
        INPUT_LEN.store(0, Ordering::SeqCst);
    }

    /// Over the cap: save the input, say so, and let the caller fail the allocation (abort).
    #[cold]
    fn over(size: usize) {
        if REPORTING.swap(true, Ordering::SeqCst) {
            return;
        }
        let path = SAVE_PATH.load(Ordering::SeqCst);
        let (ptr, len) = (
            INPUT_PTR.load(Ordering::SeqCst),
            INPUT_LEN.load(Ordering::SeqCst),
        );
        let mut err = std::io::stderr();
        if !path.is_null() && !ptr.is_null() {
            // SAFETY: both were stored from live values (a leaked String; the input, which
            // the loop keeps alive while its check runs).
            let (path, input) = unsafe { (&*path, std::slice::from_raw_parts(ptr, len)) };
            let _ = std::fs::write(path.as_str(), input);
            let _ = writeln!(
                err,
                "fuzz: FINDING: an allocation of {size} bytes would pass the memory cap of {} \
                 live bytes ({} live); input saved to {path}",
                LIMIT.load(Ordering::Relaxed),
                LIVE.load(Ordering::Relaxed)
            );
        }
    }
}

// SAFETY: every call goes to `System`; the counters are plain atomics.
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            if live > LIMIT.load(Ordering::Relaxed) && !REPORTING.load(Ordering::Relaxed) {
                LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
                Self::over(layout.size());
                return std::ptr::null_mut();
            }
            let p = System.alloc(layout);
            if p.is_null() {
                LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            }
            p
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            if live > LIMIT.load(Ordering::Relaxed) && !REPORTING.load(Ordering::Relaxed) {
                LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
                Self::over(layout.size());
                return std::ptr::null_mut();
            }
            let p = System.alloc_zeroed(layout);
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
            if new_size > old {
                let grow = new_size - old;
                let live = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                if live > LIMIT.load(Ordering::Relaxed) && !REPORTING.load(Ordering::Relaxed) {
                    LIVE.fetch_sub(grow, Ordering::Relaxed);
                    Self::over(new_size);
                    return std::ptr::null_mut();
                }
                let p = System.realloc(ptr, layout, new_size);
                if p.is_null() {
                    LIVE.fetch_sub(grow, Ordering::Relaxed);
                }
                p
            } else {
                let p = System.realloc(ptr, layout, new_size);
                if !p.is_null() {
                    LIVE.fetch_sub(old - new_size, Ordering::Relaxed);
                }
                p
            }
        }
    }
}

/// xorshift64*: tiny, deterministic, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is mapped to a fixed non-zero state).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Tokens that matter to YAML, Score placeholders and minijinja.
fn dictionary(target: &str) -> Vec<&'static [u8]> {
    let mut d: Vec<&'static [u8]> = vec![
        b"\n",
        b"  ",
        b"    ",
        b"\t",
        b": ",
        b"- ",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b"&a ",
        b"*a",
        b"&b ",
        b"*b",
        b"<<: *a",
        b"!!str ",
        b"!!binary ",
        b"!custom ",
        b"|\n",
        b">-\n",
        b"---\n",
        b"...\n",
        b"\"",
        b"'",
        b"\\u00e9",
        b"#",
        b"%YAML 1.2\n",
        b"? ",
        b"~",
        b"null",
        b"true",
        b"0x1F",
        b"0o17",
        b"1e400",
        b"-.inf",
        b".nan",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xc3\xa9",
        b"\r\n",
        b"\0",
        b"${",
        b"$${",
        b"$$",
        b"${metadata.name}",
        b"${resources.db.host}",
        b"${resources.db}",
        b"\\.",
        b"apiVersion: score.dev/v1b1\n",
        b"metadata:\n  name: x\n",
        b"containers:\n  main:\n    image: nginx\n",
        b"resources:\n  db:\n    type: postgres\n",
        b"files:\n",
        b"volumes:\n",
        b"source: ",
        b"content: ",
        b"before:\n",
        b"params:\n",
    ];
    if target == "state" {
        d.extend_from_slice(&[
            b"version: 1\n" as &[u8],
            b"version: 2\n",
            b"seed: ",
            b"seed: \"\"\n",
            b"workloads:\n",
            b"resources:\n",
            b"shared_state:\n",
            b"  postgres.default#web.db:\n",
            b"    provisioner: template://x\n",
            b"    outputs:\n",
            b"    secret_outputs: [password]\n",
            b"  web:\n",
            b"    file: score.yaml\n",
            b"    dir: .\n",
            b"    spec:\n",
            b"      apiVersion: score.dev/v1b1\n      metadata: {name: web}\n      containers: {main: {image: nginx}}\n",
            b"    builds: {main: {context: .}}\n",
            b"\"\\e[2J\":\n",
        ]);
    }
    if target == "patch" {
        d.extend_from_slice(&[
            b"- op: set\n" as &[u8],
            b"- op: delete\n",
            b"  path: ",
            b"  value: ",
            b"  description: ",
            b"services.app-main.",
            b"environment.A",
            b"ports.0.target",
            b"ports.-1",
            b"ports.99999",
            b"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a",
            b"\\.",
            b":0000.",
            b"..",
            b"#",
            b"|",
            b"\0",
        ]);
    }
    if target == "render" {
        d.extend_from_slice(&[
            b"\x1b[31m" as &[u8],
            b"\x1b]0;title\x07",
            b"\r",
            b"\xc2\x9b",
            b"\x7f",
            b"\xe6\x97\xa5\xe6\x9c\xac",
            b"{\"a\": \"",
        ]);
    }
    if target == "template" {
        d.extend_from_slice(&[
            b"{{ " as &[u8],
            b" }}",
            b"{% ",
            b" %}",
            b"{# ",
            b" #}",
            b"{% for i in range(9) %}",
            b"{% endfor %}",
            b"{% if x %}",
            b"{% endif %}",
            b"{% set x = 1 %}",
            b"{% macro m() %}",
            b"{% endmacro %}",
            b"{% raw %}",
            b"{% endraw %}",
            b"state.password",
            b"params.version",
            b"params.list",
            b"params.map",
            b"outputs",
            b"shared",
            b"init",
            b"uid",
            b"guid",
            b"| quote",
            b"| b64encode",
            b"| b64decode",
            b"| sha256",
            b"| to_yaml",
            b"| to_json",
            b"| default(1)",
            b"dig(params, \"map.a\", 0)",
            b"rand_alnum(8)",
            b"rand_alnum(5000)",
            b"fail(\"x\")",
            b"| indent(4)",
            b"| replace(\".\", \"-\")",
            b"~",
            b"loop.index",
            b"{% include \"x\" %}",
            b"\0",
            b"host: ",
            b"1 / 0",
            b"[1,2][5]",
            b"x.y.z",
            b"range(100000)",
            b"9999999999999999999999 * 99999999999999",
            b"\"a\" * 100000",
        ]);
    }
    d
}

/// Seed inputs: YAML/JSON files of the repository (relative to this crate).
fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["examples", "testdata"] {
        collect(&root.join(dir), &mut out);
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        out.push(b"apiVersion: score.dev/v1b1\nmetadata:\n  name: x\n".to_vec());
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if let Ok(bytes) = std::fs::read(&p)
            && bytes.len() <= 64 * 1024
        {
            out.push(bytes);
        }
    }
}

/// One mutated input.
pub fn generate(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[&[u8]]) -> Vec<u8> {
    let mut buf = if rng.below(8) == 0 {
        Vec::new()
    } else {
        seeds[rng.below(seeds.len())].clone()
    };
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = buf.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                buf[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let tok = dict[rng.below(dict.len())];
                let at = rng.below(len + 1);
                buf.splice(at..at, tok.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                buf.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let chunk = buf[a..b].to_vec();
                let at = rng.below(len + 1);
                for _ in 0..1 + rng.below(4) {
                    buf.splice(at..at, chunk.iter().copied());
                }
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(256)).min(other.len());
                    let at = rng.below(len + 1);
                    buf.splice(at..at, other[a..b].iter().copied());
                }
            }
            _ => {
                // Token soup tail: structure the seeds do not have.
                for _ in 0..1 + rng.below(16) {
                    buf.extend_from_slice(dict[rng.below(dict.len())]);
                }
            }
        }
    }
    buf.truncate(64 * 1024);
    buf
}

/// `fuzz_<target> [SECONDS] [SEED]`: runs `check` on generated inputs until the time is up.
pub fn main(target: &str, check: fn(&[u8]) -> Result<(), String>) -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("artifacts")
        .join(target);
    let cap = std::env::var("FUZZ_MAX_MEMORY_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(MAX_LIVE, |mib| mib << 20);
    // `fuzz_<target> FILE` replays one saved input.
    if let Some(path) = args.peek().filter(|a| Path::new(a).is_file()).cloned() {
        let input = std::fs::read(&path).unwrap_or_default();
        CappedAlloc::arm(cap, artifacts.join("oom-replay.bin"));
        CappedAlloc::watch(&input);
        let result = catch_unwind(AssertUnwindSafe(|| check(&input)));
        return match result {
            Ok(Ok(())) => {
                eprintln!("{path}: ok");
                ExitCode::SUCCESS
            }
            Ok(Err(e)) => {
                eprintln!("{path}: {e}");
                ExitCode::FAILURE
            }
            Err(_) => {
                eprintln!("{path}: panicked (message above)");
                ExitCode::FAILURE
            }
        };
    }
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let seeds = seeds();
    let dict = dictionary(target);
    let mut rng = Rng::new(seed);
    let _ = std::fs::create_dir_all(&artifacts);
    CappedAlloc::arm(cap, artifacts.join(format!("oom-{seed}.bin")));
    // Silence the default hook: a panic is reported below with its input.
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs: u64 = 0;
    let mut slowest = Duration::ZERO;
    eprintln!(
        "fuzz_{target}: {} seeds, {} dictionary tokens, seed {seed}, {seconds}s",
        seeds.len(),
        dict.len()
    );
    while Instant::now() < deadline {
        let input = generate(&mut rng, &seeds, &dict);
        CappedAlloc::watch(&input);
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| check(&input)));
        CappedAlloc::unwatch();
        let took = started.elapsed();
        slowest = slowest.max(took);
        runs += 1;
        let finding = match result {
            Ok(Ok(())) if took <= SLOW => None,
            Ok(Ok(())) => Some(format!("slow input: {took:?}")),
            Ok(Err(e)) => Some(e),
            Err(p) => Some(format!(
                "panic: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        if let Some(f) = finding {
            let _ = std::fs::create_dir_all(&artifacts);
            let file = artifacts.join(format!("finding-{seed}-{runs}.bin"));
            let _ = std::fs::write(&file, &input);
            eprintln!("fuzz_{target}: FINDING after {runs} runs: {f}");
            eprintln!("input saved to {}", file.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!("fuzz_{target}: {runs} runs, no findings (slowest input {slowest:?})");
    ExitCode::SUCCESS
}
