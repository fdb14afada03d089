// Size and speed of the score-wasm package in Node (BENCHMARKS.md, "score-wasm"): the .wasm
// size (raw and gzip -9), the time to load the package, and the time to validate and to compile
// examples/hello/score.yaml for each target (median and 95th percentile of repeated runs, after a
// warm-up). Prints a Markdown table; no assertion (timings vary with the machine's load).
//
// Run: node web/bench/bench.mjs (after bash crates/score-wasm/build.sh).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkgDir = process.env.SCORE_WASM_PKG ?? path.join(root, 'target/score-wasm-pkg');
const wasmFile = path.join(pkgDir, 'node/score_wasm_bg.wasm');
const bytes = fs.readFileSync(wasmFile);
const gz = zlib.gzipSync(bytes, { level: 9 }).length;

let t = performance.now();
const wasm = createRequire(import.meta.url)(path.join(pkgDir, 'node/score_wasm.js'));
const load = performance.now() - t;

const hello = fs.readFileSync(path.join(root, 'examples/hello/score.yaml'), 'utf8');
const files = [{ name: 'score.yaml', text: hello }];
const SEED = 'bench-seed-0123456789';

function measure(fn, n) {
  t = performance.now();
  fn();
  const first = performance.now() - t;
  for (let i = 0; i < 5; i++) fn();
  const times = [];
  for (let i = 0; i < n; i++) {
    t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { first, median: times[Math.floor(n / 2)], p95: times[Math.floor(n * 0.95)] };
}

const rows = [['validate', measure(() => assertOk(wasm.validate(hello, 'score.yaml').length === 0), 200)]];
for (const target of wasm.targets()) {
  rows.push([`compile ${target}`, measure(() => assertOk(wasm.compile(target, files, [], { seed: SEED }).ok), 100)]);
}

function assertOk(ok) {
  if (!ok) throw new Error('examples/hello/score.yaml did not validate or compile');
}

const ms = (x) => x.toFixed(2);
console.log(`score_wasm_bg.wasm: ${bytes.length} bytes, gzip -9: ${gz} bytes`);
console.log(`load (require: read + compile + instantiate): ${ms(load)} ms; node ${process.version}`);
console.log('| examples/hello | first call (ms) | median (ms) | p95 (ms) |');
console.log('|---|---:|---:|---:|');
for (const [name, r] of rows) console.log(`| ${name} | ${ms(r.first)} | ${ms(r.median)} | ${ms(r.p95)} |`);
