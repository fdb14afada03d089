// Bundles the playground into target/playground/ (a static site: index.html, playground.css,
// playground.js, score_wasm_bg.wasm) with esbuild. The score-wasm package must be built first
// (bash crates/score-wasm/build.sh); SCORE_WASM_PKG overrides where it is.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const pkg = process.env.SCORE_WASM_PKG ?? path.join(root, 'target/score-wasm-pkg');
const out = process.env.PLAYGROUND_OUT ?? path.join(root, 'target/playground');
const glue = path.join(pkg, 'web/score_wasm.js');
if (!fs.existsSync(glue)) {
  console.error(`build.mjs: ${glue} is missing: run bash crates/score-wasm/build.sh first`);
  process.exit(1);
}
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [path.join(here, 'playground.js')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'eof',
  alias: { 'score-gen-wasm': glue },
  outfile: path.join(out, 'playground.js'),
  logLevel: 'warning',
});
for (const f of ['index.html', 'playground.css']) fs.copyFileSync(path.join(here, f), path.join(out, f));
fs.copyFileSync(path.join(pkg, 'web/score_wasm_bg.wasm'), path.join(out, 'score_wasm_bg.wasm'));
const size = (f) => fs.statSync(path.join(out, f)).size;
console.log(`playground: ${out} (playground.js ${size('playground.js')} bytes, score_wasm_bg.wasm ${size('score_wasm_bg.wasm')} bytes)`);
