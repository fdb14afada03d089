// The Node build of the score-wasm npm package (issue 28) against the CLI.
//
// - Every snapshot fixture of the three targets (testdata/<target>/<case>/) compiles to exactly
//   the text of its insta snapshot, the bytes `score-gen <target>` writes (the target crates'
//   tests hold the CLI to those snapshots).
// - Every entry of the bad-input corpus (testdata/bad/) that the package can express gives the
//   same diagnostics as the real CLI run on it with `--format json` (code, message, help, file,
//   line, column, pointer, related notes); the entries it cannot express (a process to run, a
//   file to read from disk, a command-line flag) are listed with the reason, and a new corpus
//   entry must be placed in one list or the other.
// - Nothing inside the wasm reaches a file system, a process, the network or a clock.
//
// Run: `node --test web/test/package.test.mjs` after `bash crates/score-wasm/build.sh` and
// `cargo build -p score-cli` (SCORE_WASM_PKG and SCORE_GEN override where they are).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkgDir = process.env.SCORE_WASM_PKG ?? path.join(root, 'target/score-wasm-pkg');
const scoreGen = process.env.SCORE_GEN ?? path.join(root, 'target/debug/score-gen');
const require = createRequire(import.meta.url);
const wasm = require(path.join(pkgDir, 'node/score_wasm.js'));

const SEED = 'test-seed'; // the fixture kit's seed (crates/testkit)
const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined);

/** The body of an insta snapshot file (after its `---` header). */
function snapshotBody(file) {
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.startsWith('---\n'), `${file}: insta header`);
  const end = text.indexOf('\n---\n', 4);
  return text.slice(end + 5);
}

/** Rust's `{:?}` of a byte slice, as the fixture tests print binary files. */
const debugBytes = (bytes) => `<${bytes.length} bytes: [${Array.from(bytes).join(', ')}]>`;

/** What the target crates' fixture tests snapshot (crates/testkit/src/<target>.rs). */
function render(target, out) {
  const text = (i) => {
    assert.equal(typeof out.files[i].text, 'string', `${out.files[i].path} is UTF-8`);
    return out.files[i].text;
  };
  if (target === 'compose') {
    let s = text(0);
    for (const f of out.files.slice(1)) {
      s += `\n--- ${f.path} ---\n`;
      if (f.text !== undefined && !/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(f.text)) s += f.text;
      else if (f.text !== undefined) s += debugBytes(new TextEncoder().encode(f.text));
      else s += debugBytes(f.bytes);
    }
    for (const d of out.directories) s += `\n--- ${d}/ (directory) ---\n`;
    return s;
  }
  if (target === 'k8s') {
    assert.equal(out.files.length, 1, 'one manifests file');
    return text(0);
  }
  return out.files.map((f, i) => `=== ${f.path} ===\n${text(i)}`).join('\n');
}

/** Reads a flat `KEY: value` YAML mapping (environment.yaml of the fixtures); anything else in
 * such a file fails the test rather than being misread. */
function flatYaml(text) {
  const env = {};
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*): (.*)$/.exec(line);
    assert.ok(m && !/^[[{&*!|>'#]/.test(m[2]), `environment.yaml: not a flat plain mapping line: ${line}`);
    let v = m[2].trim();
    if (/^".*"$/.test(v)) v = JSON.parse(v);
    env[m[1]] = v;
  }
  return env;
}

const SNAPSHOT = { compose: 'compose.yaml', k8s: 'manifests.yaml', terraform: 'main.tf' };

for (const target of Object.keys(SNAPSHOT)) {
  test(`${target}: every fixture equals the CLI's snapshot byte for byte`, () => {
    const dir = path.join(root, 'testdata', target);
    const cases = fs.readdirSync(dir).filter((c) => fs.statSync(path.join(dir, c)).isDirectory()).sort();
    assert.ok(cases.length >= 10, `${target}: only ${cases.length} cases`);
    const failures = [];
    for (const name of cases) {
      const c = path.join(dir, name);
      const files = fs.readdirSync(c).sort();
      const named = (n) => ({ name: n, text: read(path.join(c, n)) });
      const scoreFiles = files.filter((n) => n.startsWith('score') && n.endsWith('.yaml')).map(named);
      const env = read(path.join(c, 'environment.yaml'));
      const options = {
        seed: SEED,
        ...(env !== undefined && { environment: flatYaml(env) }),
        ...(files.includes('options.yaml') && { targetOptions: read(path.join(c, 'options.yaml')) }),
        ...(files.includes('overrides.yaml') && { overrideFiles: [named('overrides.yaml')] }),
      };
      const provisioners = files.includes('provisioners.yaml') ? [named('provisioners.yaml')] : [];
      const out = wasm.compile(target, scoreFiles, provisioners, options);
      if (!out.ok) {
        failures.push(`${target}/${name}: ${out.diagnostics.map((d) => d.message).join('; ')}`);
        continue;
      }
      assert.deepEqual(out.diagnostics, []);
      const want = snapshotBody(path.join(c, `${SNAPSHOT[target]}.snap`));
      // insta ignores trailing line breaks when it compares.
      if (render(target, out).replace(/\n+$/, '') !== want.replace(/\n+$/, '')) {
        failures.push(`${target}/${name}: output differs from ${SNAPSHOT[target]}.snap`);
      }
    }
    assert.deepEqual(failures, []);
  });
}

// --- The bad-input corpus against the CLI ----------------------------------------------------

/** Entries the package cannot express, and why. Every other entry is compared with the CLI. */
const HOST_ONLY = {
  'files-source-symlink': 'a symbolic link out of the project is a file-system matter',
  'missing-score-file': 'reads a Score file from disk',
  'prov-file-missing': 'reads a provisioner file from disk',
  'usage-bad-color': 'a command-line flag',
  'usage-bad-timeout': 'a command-line flag',
  'usage-missing-file': 'a command line without Score files',
  'usage-unknown-flag': 'a command-line flag',
  'override-property-malformed': 'the CLI reports it without a location; compared separately below',
};

/** Entries whose program the CLI runs; the package never runs one and says so at the same place. */
const CMD = new Set([
  'cmd-crash', 'cmd-garbage', 'cmd-hang', 'cmd-huge-output',
  'cmd-missing-program', 'cmd-unknown-field', 'cmd-wrong-output-type',
]);

/** `files[].source` entries: the CLI reads the disk, the package the caller's `sources` (none
 * here). Code, place and pointer agree; the message names where the file was looked for. */
const SOURCES = new Set(['files-source-absolute', 'files-source-dotdot', 'files-source-missing']);

/** The case's working directory and arguments, as crates/score-cli/tests/it/bad_inputs.rs runs it. */
function invocation(name, tmp) {
  const p = path.join(root, 'testdata/bad', name);
  if (fs.statSync(p).isDirectory()) {
    const args = read(path.join(p, 'args')).split('\n').filter(Boolean).map((a) => a.replaceAll('$TMP', tmp));
    return { cwd: p, args };
  }
  return { cwd: path.join(root, 'testdata/bad'), args: ['validate', name] };
}

function cli(cwd, args) {
  const r = spawnSync(scoreGen, ['--color', 'never', '--format', 'json', ...args], { cwd, encoding: 'utf8' });
  assert.equal(r.error, undefined, `run ${scoreGen}: ${r.error}`);
  assert.equal(r.status, 1, `score-gen ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const doc = JSON.parse(r.stdout);
  return doc.diagnostics ?? doc.files?.flatMap((f) => f.diagnostics) ?? assert.fail(`no diagnostics in ${r.stdout}`);
}

/** The package's answer to the same invocation. */
function viaPackage(cwd, args) {
  const [command, ...rest] = args;
  const bytes = (f) => new Uint8Array(fs.readFileSync(path.join(cwd, f)));
  const text = (f) => ({ name: f, text: read(path.join(cwd, f)) });
  if (command === 'validate') {
    assert.equal(rest.length, 1, `validate takes one file here: ${args}`);
    return wasm.validate(bytes(rest[0]), rest[0]);
  }
  assert.ok(wasm.targets().includes(command), `a target command: ${command}`);
  const scoreFiles = [];
  const provisionerFiles = [];
  const options = { seed: SEED, overrideFiles: [], overrideProperties: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--provisioners') provisionerFiles.push(text(rest[++i]));
    else if (a === '--override-file') options.overrideFiles.push(text(rest[++i]));
    else if (a === '--override-property') options.overrideProperties.push(rest[++i]);
    else if (['--state-dir', '-o', '--cmd-timeout'].includes(a)) i++; // no disk, no programs
    else if (a.startsWith('-')) assert.fail(`flag ${a} has no package equivalent`);
    else scoreFiles.push(text(a));
  }
  const out = wasm.compile(command, scoreFiles, provisionerFiles, options);
  assert.equal(out.ok, false, `${args.join(' ')} compiles in the package`);
  return out.diagnostics;
}

/** The fields compared; `fixes` too, as the CLI's `--format json` has them. */
const project = (d, full) => ({
  code: d.code,
  file: d.file,
  line: d.line,
  column: d.column,
  pointer: d.pointer,
  ...(full && { message: d.message, help: d.help, fixes: d.fixes }),
  related: d.related.map((r) => project(r, full)),
});

test('the bad-input corpus: the package reports what the CLI reports', () => {
  assert.ok(fs.existsSync(scoreGen), `${scoreGen} is missing: run cargo build -p score-cli (or set SCORE_GEN)`);
  // Each entry's expected human diagnostic sits beside it as `<entry>.snap` (the CLI's test).
  const entries = fs.readdirSync(path.join(root, 'testdata/bad')).filter((n) => !n.endsWith('.snap')).sort();
  assert.ok(entries.length >= 70, `only ${entries.length} corpus entries`);
  const compared = [];
  const failures = [];
  for (const name of entries) {
    if (name in HOST_ONLY) continue;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'score-wasm-bad-'));
    try {
      const { cwd, args } = invocation(name, tmp);
      const got = viaPackage(cwd, args);
      if (CMD.has(name)) {
        // The CLI runs the program and reports how it failed; the package refuses to run it.
        assert.equal(got.length, 1, `${name}: ${JSON.stringify(got)}`);
        assert.equal(got[0].code, 'score::provision::command-denied', name);
        const want = cli(cwd, args);
        // Both point at the resource whose provisioner it is.
        const places = (ds) => ds.flatMap((d) => [d, ...d.related]).map((d) => `${d.file}:${d.line}:${d.column}`);
        const shared = places(got).filter((p) => places(want).includes(p) && !p.endsWith(':null:null'));
        if (shared.length === 0) failures.push(`${name}: no shared place: ${places(got)} vs ${places(want)}`);
        compared.push(name);
        continue;
      }
      const want = cli(cwd, args);
      const full = !SOURCES.has(name);
      const a = got.map((d) => project(d, full));
      const b = want.map((d) => project(d, full));
      try {
        assert.deepEqual(a, b);
      } catch {
        failures.push(`${name}:\n  package ${JSON.stringify(a)}\n  CLI     ${JSON.stringify(b)}`);
      }
      compared.push(name);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  assert.deepEqual(failures, [], failures.join('\n'));
  assert.equal(compared.length + Object.keys(HOST_ONLY).length, entries.length);
  assert.ok(compared.length >= 60, `only ${compared.length} entries compared`);
});

test('--override-property errors: same code and message as the CLI', () => {
  const { cwd, args } = invocation('override-property-malformed', os.tmpdir());
  const prop = args[args.indexOf('--override-property') + 1];
  const out = wasm.compile('compose', [{ name: 'score.yaml', text: read(path.join(cwd, 'score.yaml')) }], [], {
    seed: SEED,
    overrideProperties: [prop],
  });
  assert.equal(out.ok, false);
  const want = cli(cwd, args.map((a) => (a.includes('$TMP') ? os.tmpdir() : a)));
  assert.deepEqual(out.diagnostics.map((d) => [d.code, d.message, d.help]), want.map((d) => [d.code, d.message, d.help]));
});

// --- No host access ---------------------------------------------------------------------------

test('the wasm imports nothing but wasm-bindgen glue: no fs, process, network or clock', () => {
  const bytes = fs.readFileSync(path.join(pkgDir, 'node/score_wasm_bg.wasm'));
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
  assert.ok(imports.length > 0);
  const names = imports.map((i) => i.name);
  // wasm-bindgen names an import __wbg_<js name>_<hash> (or __wbindgen_<intrinsic>).
  for (const n of names) assert.match(n, /^__wb(g|indgen)_/, `unexpected import ${n}`);
  const forbidden = /(^|_)(now|Date|performance|readFile|writeFile|open|fetch|XMLHttpRequest|require|process|spawn|exec|env|argv|random)(_|$)/i;
  // getrandom's wasm_js backend (ahash's hash-map seeds inside jsonschema) is the one OS
  // facility: crypto.getRandomValues; no output byte depends on it (see the README).
  const bad = names.filter((n) => forbidden.test(n));
  assert.deepEqual(bad, []);
  const glue = fs.readFileSync(path.join(pkgDir, 'node/score_wasm.js'), 'utf8');
  // The loader reads the .wasm beside it; nothing else of node's.
  const requires = [...glue.matchAll(/require\(['"`]([^'"`]+)['"`]\)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(requires)].sort(), ['fs', 'path'].filter((m) => requires.includes(m)));
});

test('with the clock, Math.random and fetch poisoned, results are unchanged and nothing calls them', () => {
  const hello = { name: 'score.yaml', text: read(path.join(root, 'examples/hello/score.yaml')) ?? 'apiVersion: score.dev/v1b1\nmetadata:\n  name: hello\ncontainers:\n  main:\n    image: nginx\n' };
  const before = wasm.compile('k8s', [hello], [], { seed: SEED });
  const saved = { now: Date.now, perf: performance.now, random: Math.random, fetch: globalThis.fetch };
  const calls = [];
  const poison = (what) => (...a) => { calls.push(what); throw new Error(`${what} called`); };
  Date.now = poison('Date.now');
  performance.now = poison('performance.now');
  Math.random = poison('Math.random');
  globalThis.fetch = poison('fetch');
  try {
    const after = wasm.compile('k8s', [hello], [], { seed: SEED });
    assert.deepEqual(after, before);
    assert.deepEqual(wasm.validate(hello.text, 'score.yaml'), []);
  } finally {
    Date.now = saved.now;
    performance.now = saved.perf;
    Math.random = saved.random;
    globalThis.fetch = saved.fetch;
  }
  assert.deepEqual(calls, []);
});

test('cmd:// and remote provisioners give a clear error; files[].source comes from the caller', () => {
  const score = 'apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\n    files:\n      /etc/app.conf:\n        source: app.conf\nresources:\n  db:\n    type: thing\n';
  const cmd = '- uri: cmd:///bin/sh#x\n  type: thing\n  args: ["-c", "touch /tmp/score-wasm-ran"]\n';
  const r1 = wasm.compile('compose', [{ name: 'score.yaml', text: score }], [{ name: 'p.provisioners.yaml', text: cmd }], {
    seed: SEED,
    sources: { 'app.conf': 'x' },
  });
  assert.equal(r1.ok, false);
  assert.equal(r1.diagnostics[0].code, 'score::provision::command-denied');
  assert.match(r1.diagnostics[0].message + r1.diagnostics[0].help, /cmd/);
  const r2 = wasm.compile('compose', [{ name: 'score.yaml', text: score }], [{ name: 'https://example.com/p.yaml' }], { seed: SEED });
  assert.equal(r2.ok, false);
  assert.match(r2.diagnostics[0].help, /fetches no URLs/);
  const r3 = wasm.validate(score, 'score.yaml');
  assert.equal(r3.length, 1);
  assert.equal(r3[0].line, 9);
  assert.match(r3[0].message, /app\.conf/);
  assert.deepEqual(wasm.validate(score, 'score.yaml', { 'app.conf': 'x' }), []);
});

test('the state round-trips and the seed decides every generated value', () => {
  const score = { name: 'score.yaml', text: 'apiVersion: score.dev/v1b1\nmetadata:\n  name: app\ncontainers:\n  main:\n    image: nginx\n    variables:\n      PW: ${resources.db.password}\nresources:\n  db:\n    type: postgres\n' };
  const a = wasm.compile('compose', [score], [], { seed: 'seed-0123456789abcdef' });
  const b = wasm.compile('compose', [score], [], { seed: 'seed-0123456789abcdef' });
  const c = wasm.compile('compose', [score], [], { seed: 'seed-fedcba9876543210' });
  assert.ok(a.ok && b.ok && c.ok);
  assert.deepEqual(a, b);
  assert.notEqual(a.files[0].text, c.files[0].text);
  const again = wasm.compile('compose', [score], [], { state: a.state });
  assert.equal(again.ok, true, JSON.stringify(again.diagnostics));
  assert.equal(again.files[0].text, a.files[0].text);
});

test('bad arguments are diagnostics, never exceptions', () => {
  assert.deepEqual(wasm.targets(), ['compose', 'k8s', 'terraform']);
  const r = wasm.compile('nomad', [], [], { seed: SEED });
  assert.equal(r.ok, false);
  assert.match(r.diagnostics[0].help, /compose, k8s, terraform/);
  assert.equal(wasm.compile('compose', 'not an array', [], { seed: SEED }).ok, false);
  assert.equal(wasm.compile('compose', [], [], { seed: SEED, nope: 1 }).ok, false);
  assert.match(wasm.validate(42, 'x.yaml')[0].code, /^score::usage::/);
});

test('the .d.ts declares the hand-written types', () => {
  for (const build of ['node', 'web']) {
    const dts = fs.readFileSync(path.join(pkgDir, build, 'score_wasm.d.ts'), 'utf8');
    assert.match(dts, /export function validate\(text: string \| Uint8Array, fileName: string, sources\?: Record<string, string>( \| null)?\): Diagnostic\[\];/);
    assert.match(dts, /export function compile\(target: TargetName, scoreFiles: NamedText\[\], provisionerFiles[^)]*, options: CompileOptions\): CompileResult;/);
    assert.match(dts, /export function targets\(\): TargetName\[\];/);
    assert.match(dts, /export interface Diagnostic \{/);
  }
});
