// The playground in a real browser (issue 28): Playwright (playwright-core) drives Debian's
// headless Chromium against target/playground/ served from localhost.
//
// Types an invalid score.yaml, checks the error is marked at its line with its help text, fixes
// it, checks the Compose and Kubernetes tabs show exactly what the package compiles for that
// file (the Node test holds the package to the CLI's bytes), that the graph is drawn and that a
// shared link restores the files. Screenshots: target/playground-test/*.png (CI keeps target/).
//
// Needs: bash crates/score-wasm/build.sh; node web/playground/build.mjs; Chromium at
// /usr/bin/chromium (CHROMIUM overrides).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const site = process.env.PLAYGROUND_OUT ?? path.join(root, 'target/playground');
const shots = path.join(root, 'target/playground-test');
const pkgDir = process.env.SCORE_WASM_PKG ?? path.join(root, 'target/score-wasm-pkg');
const wasm = createRequire(import.meta.url)(path.join(pkgDir, 'node/score_wasm.js'));
const SEED = 'score-gen-playground-0001'; // the playground's (playground.js)

const VALID = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  api:
    image: nginx:1.27
    variables:
      DB_HOST: \${resources.db.host}
resources:
  db:
    type: postgres
`;
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

let server;
let base;
let browser;

before(async () => {
  assert.ok(fs.existsSync(path.join(site, 'index.html')), `${site} is missing: run node web/playground/build.mjs`);
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const file = path.join(site, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
    if (!file.startsWith(site) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox'],
  });
  fs.mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok()));
});

async function open(url = base) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  return { page, errors };
}

/** Waits until the page has analysed the editors' current text. */
async function settled(page) {
  const n = await page.evaluate(() => Number(document.body.dataset.analysed));
  await page.waitForFunction((k) => Number(document.body.dataset.analysed) > k, n, { timeout: 10000 }).catch(() => {});
  // The 200 ms debounce may have fired already; wait until nothing is pending.
  await page.waitForTimeout(400);
}

test('type an invalid score.yaml, see the error at its line with help, fix it, see the outputs', async () => {
  const { page, errors } = await open();
  const editor = page.locator('#editor-score .cm-content');
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(VALID);
  await settled(page);
  assert.equal(await page.locator('#problems li').count(), 0, await page.locator('#problems').innerText());

  // Line 6 is `    image: nginx:1.27`; retype its key as `imag` with the keyboard.
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home'); // CodeMirror: to the line's indentation
  await page.keyboard.type('imag: nginx:1.27', { delay: 15 });
  await settled(page);

  const text = await page.evaluate(() => document.querySelector('#editor-score .cm-content').innerText);
  assert.match(text, /^ {4}imag: nginx:1\.27$/m);
  const want = wasm.validate(text.replace(/\n?$/, '\n'), 'score.yaml');
  assert.ok(want.length > 0);
  const problem = page.locator('#problems li[data-line="6"]');
  await problem.first().waitFor({ timeout: 10000 });
  const shown = await problem.first().innerText();
  const first = want.find((d) => d.line === 6);
  assert.ok(first, JSON.stringify(want));
  assert.ok(first.help, 'the diagnostic has help');
  assert.ok(shown.includes(first.message), shown);
  assert.ok(shown.includes(first.help), shown);
  assert.equal(await problem.first().getAttribute('data-code'), first.code);
  // CodeMirror's lint mark sits on line 6, and hovering it shows the message with its help.
  const mark = page.locator('#editor-score .cm-line').nth(5).locator('.cm-lintRange-error');
  assert.ok((await mark.count()) > 0, 'a lint mark on line 6');
  assert.equal(await page.locator('#editor-score .cm-line').nth(4).locator('.cm-lintRange-error').count(), 0);
  await mark.first().hover();
  const tooltip = page.locator('.cm-tooltip-lint');
  await tooltip.waitFor({ timeout: 5000 });
  assert.ok((await tooltip.innerText()).includes(first.help));
  assert.equal(await page.locator('#out-compose').getAttribute('data-ok'), 'false');
  await page.screenshot({ path: path.join(shots, 'playground-error.png') });

  // Fix it: the key back to `image`.
  await page.keyboard.press('Escape');
  await editor.click();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type('image: nginx:1.27', { delay: 15 });
  await settled(page);
  assert.equal(await page.locator('#problems li').count(), 0, await page.locator('#problems').innerText());
  const fixed = await page.evaluate(() => document.querySelector('#editor-score .cm-content').innerText);
  assert.equal(fixed.replace(/\n+$/, ''), VALID.replace(/\n+$/, ''));
  assert.equal(await page.locator('#editor-score .cm-lintRange-error').count(), 0);

  const expected = wasm.compile('compose', [{ name: 'score.yaml', text: VALID }], [], { seed: SEED });
  const k8s = wasm.compile('k8s', [{ name: 'score.yaml', text: VALID }], [], { seed: SEED });
  assert.ok(expected.ok && k8s.ok);
  assert.equal(await page.locator('#out-compose').getAttribute('data-ok'), 'true');
  assert.equal(await page.locator('#out-compose pre').first().textContent(), expected.files[0].text);
  assert.match(expected.files[0].text, /image: nginx:1\.27/);
  await page.click('#tab-k8s');
  assert.equal(await page.locator('#out-k8s').isVisible(), true);
  const manifests = await page.locator('#out-k8s pre').first().textContent();
  assert.equal(manifests, k8s.files[0].text);
  assert.match(manifests, /kind: Deployment/);
  assert.match(manifests, /name: shop/);
  await page.click('#tab-terraform');
  assert.match(await page.locator('#out-terraform pre').first().innerText(), /resource "kubernetes_deployment/);
  await page.click('#tab-graph');
  assert.equal(await page.locator('#graph-svg .workload[data-name="shop"]').count(), 1);
  assert.equal(await page.locator('#graph-svg .resource').count(), 1);
  await page.click('#tab-k8s');
  await page.screenshot({ path: path.join(shots, 'playground.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a diagnostic's fix applies from the editor's tooltip", async () => {
  const { page, errors } = await open();
  await page.locator('#editor-score .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(VALID.replace('    image:', '    imag:'));
  await settled(page);
  const mark = page.locator('#editor-score .cm-line').nth(5).locator('.cm-lintRange-error');
  await mark.first().hover();
  const fix = page.locator('.cm-tooltip-lint .cm-diagnosticAction');
  await fix.first().waitFor({ timeout: 5000 });
  assert.match(await fix.first().innerText(), /image/);
  await fix.first().click();
  await settled(page);
  assert.equal(await page.locator('#problems li').count(), 0, await page.locator('#problems').innerText());
  assert.equal(await page.locator('#out-compose').getAttribute('data-ok'), 'true');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a shared link restores both files; a provisioner file error shows in its editor', async () => {
  const { page, errors } = await open();
  await page.locator('#editor-score .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(VALID.replace('type: postgres', 'type: thing'));
  await page.click('#tab-provisioners');
  await page.locator('#editor-provisioners .cm-content').click();
  await page.keyboard.insertText('- uri: template://mine/thing\n  type: thing\n  outputs: |\n    host: {{ nope( }}\n');
  await settled(page);
  const problem = page.locator('#problems li[data-file="provisioners.yaml"]');
  await problem.first().waitFor({ timeout: 10000 });
  assert.ok((await page.locator('#editor-provisioners .cm-lintRange-error').count()) > 0);

  await page.click('#share');
  const link = page.locator('#share-link');
  await link.waitFor({ timeout: 5000 });
  const href = await link.getAttribute('href');
  assert.match(href, /#z=[A-Za-z0-9_-]+$/);
  const restored = await open(href);
  const texts = await restored.page.evaluate(() => [...document.querySelectorAll('.cm-content')].map((e) => e.innerText));
  assert.ok(texts[0].includes('type: thing'), texts[0]);
  assert.ok(texts[1].includes('template://mine/thing'), texts[1]);
  assert.ok((await restored.page.locator('#problems li[data-file="provisioners.yaml"]').count()) > 0);
  assert.deepEqual([...errors, ...restored.errors], []);
  await restored.page.close();
  await page.close();
});
