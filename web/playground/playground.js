// The score-gen playground: score.yaml and an optional provisioner file in CodeMirror 6, checked
// and compiled as you type by the score-wasm package (web build), entirely in the page.
import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import init, { compile } from 'score-gen-wasm';
import { renderGraph } from './graph.js';

const SCORE = 'score.yaml';
const PROVISIONERS = 'provisioners.yaml';
const TARGETS = [
  ['compose', 'Compose'],
  ['k8s', 'Kubernetes'],
  ['terraform', 'Terraform'],
];
// A fixed seed: the same link shows the same generated names and passwords to everyone.
const SEED = 'score-gen-playground-0001';

const EXAMPLE = `apiVersion: score.dev/v1b1
metadata:
  name: hello
containers:
  web:
    image: nginx:1.27
    variables:
      GREETING: "Hello from \${metadata.name}"
      DB_URL: "postgres://\${resources.db.username}:\${resources.db.password}@\${resources.db.host}:\${resources.db.port}/\${resources.db.name}"
service:
  ports:
    http:
      port: 80
      targetPort: 8080
resources:
  db:
    type: postgres
`;

const $ = (sel) => document.querySelector(sel);
const status = (text) => {
  $('#status').textContent = text;
};

// --- Positions: the package counts 1-based lines and columns in characters (code points). ---

function position(doc, line, column) {
  if (!line) return 0;
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  let offset = 0;
  for (let c = 1; c < (column || 1) && offset < l.length; c++) {
    offset += l.text.codePointAt(offset) > 0xffff ? 2 : 1;
  }
  return l.from + offset;
}

/** The marked range: from the diagnostic's column to the end of the word (or line) there. */
function range(doc, d) {
  const from = position(doc, d.line, d.column);
  const l = doc.lineAt(from);
  const rest = l.text.slice(from - l.from);
  const word = /^\S+/.exec(rest);
  let to = word ? from + word[0].length : l.to;
  if (to === from && l.to > l.from) return { from: Math.max(l.from, from - 1), to: Math.max(from, l.from + 1) };
  return { from, to };
}

function actions(d) {
  // Fixes the package suggests: each edit carries 1-based line/column start and end.
  return (d.fixes || []).map((fix) => ({
    name: fix.applicability === 'machine-applicable' ? `Fix: ${fix.message}` : fix.message,
    apply(view) {
      const doc = view.state.doc;
      view.dispatch({
        changes: fix.edits.map((e) => ({
          from: position(doc, e.line, e.column),
          to: position(doc, e.end_line, e.end_column),
          insert: e.replacement,
        })),
      });
    },
  }));
}

function renderMessage(d) {
  return () => {
    const el = document.createElement('div');
    el.append(d.message, ' ');
    const code = document.createElement('code');
    code.textContent = d.code;
    el.append(code);
    if (d.help) {
      const help = document.createElement('span');
      help.className = 'help';
      help.textContent = d.help;
      el.append(help);
    }
    return el;
  };
}

// --- Editors ---

let pending = null;
const changed = EditorView.updateListener.of((u) => {
  if (!u.docChanged) return;
  clearTimeout(pending);
  pending = setTimeout(analyse, 200);
});

function editor(parent, text) {
  return new EditorView({
    parent,
    state: EditorState.create({ doc: text, extensions: [basicSetup, yaml(), lintGutter(), changed] }),
  });
}

const views = {};

// --- Share links: the files, deflated, in the URL fragment (nothing goes to a server). ---

const b64 = {
  encode: (bytes) => btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''),
  decode: (s) => Uint8Array.from(atob(s.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0)),
};

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

async function encodeShare(files) {
  const json = new TextEncoder().encode(JSON.stringify(files));
  return `#z=${b64.encode(await pipe(json, new CompressionStream('deflate-raw')))}`;
}

async function decodeShare(hash) {
  const m = /^#z=([A-Za-z0-9_-]+)$/.exec(hash);
  if (!m) return null;
  const json = await pipe(b64.decode(m[1]), new DecompressionStream('deflate-raw'));
  const files = JSON.parse(new TextDecoder().decode(json));
  return typeof files?.score === 'string' ? files : null;
}

async function share() {
  const hash = await encodeShare({ score: views.score.state.doc.toString(), provisioners: views.provisioners.state.doc.toString() });
  history.replaceState(null, '', hash);
  const url = location.href;
  let copied = false;
  try {
    await navigator.clipboard.writeText(url);
    copied = true;
  } catch {
    // No clipboard permission: the link is in the address bar and below.
  }
  const a = document.createElement('a');
  a.href = url;
  a.id = 'share-link';
  a.textContent = copied ? 'link copied' : 'link';
  $('#share-status').replaceChildren(a);
}

// --- Analysis: one compile per target; its diagnostics go to the editors and the list. ---

function key(d) {
  return [d.code, d.file, d.line, d.column, d.message].join('\u0000');
}

function analyse() {
  const score = views.score.state.doc.toString();
  const provisioners = views.provisioners.state.doc.toString();
  const provisionerFiles = provisioners.trim() ? [{ name: PROVISIONERS, text: provisioners }] : [];
  const started = performance.now();
  const byKey = new Map();
  const results = {};
  for (const [target] of TARGETS) {
    const r = compile(target, [{ name: SCORE, text: score }], provisionerFiles, { seed: SEED });
    results[target] = r;
    for (const d of r.diagnostics) {
      const k = key(d);
      if (!byKey.has(k)) byKey.set(k, { d, targets: [] });
      byKey.get(k).targets.push(target);
    }
  }
  const diagnostics = [...byKey.values()];
  for (const [name, view] of [[SCORE, views.score], [PROVISIONERS, views.provisioners]]) {
    const doc = view.state.doc;
    const mine = diagnostics.filter(({ d }) => d.file === name || (name === SCORE && !d.file));
    view.dispatch(setDiagnostics(view.state, mine.map(({ d }) => ({
      ...range(doc, d),
      severity: 'error',
      message: d.help ? `${d.message}\nhelp: ${d.help}` : d.message,
      renderMessage: renderMessage(d),
      actions: actions(d),
    }))));
  }
  showProblems(diagnostics);
  for (const [target] of TARGETS) showOutput(target, results[target]);
  showGraph(results);
  status(`${diagnostics.length ? `${diagnostics.length} problem(s)` : 'valid'} · compiled 3 targets in ${Math.round(performance.now() - started)} ms`);
  document.body.dataset.analysed = String(Number(document.body.dataset.analysed || 0) + 1);
}

function showProblems(diagnostics) {
  const list = $('#problems');
  list.replaceChildren(...diagnostics.map(({ d, targets }) => {
    const li = document.createElement('li');
    Object.assign(li.dataset, { code: d.code, file: d.file ?? '', line: d.line ?? '', column: d.column ?? '' });
    const where = d.file ? `${d.file}${d.line ? `:${d.line}:${d.column}` : ''}` : '';
    const head = document.createElement('div');
    head.append(`${where ? `${where} ` : ''}${d.message} `);
    const code = document.createElement('code');
    code.textContent = targets.length < TARGETS.length ? `${d.code} (${targets.join(', ')})` : d.code;
    head.append(code);
    li.append(head);
    if (d.help) {
      const help = document.createElement('div');
      help.className = 'help';
      help.textContent = d.help;
      li.append(help);
    }
    if (d.file && d.line) {
      li.style.cursor = 'pointer';
      li.addEventListener('click', () => {
        const view = d.file === PROVISIONERS ? views.provisioners : views.score;
        select(d.file === PROVISIONERS ? 'tab-provisioners' : 'tab-score');
        const pos = position(view.state.doc, d.line, d.column);
        view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
        view.focus();
      });
    }
    return li;
  }));
  $('#problem-count').textContent = diagnostics.length ? `(${diagnostics.length})` : '';
}

function showOutput(target, r) {
  const pane = $(`#out-${target}`);
  pane.dataset.ok = String(r.ok);
  if (!r.ok) {
    const p = document.createElement('p');
    p.className = 'failed';
    p.textContent = `Not compiled: ${r.diagnostics.length} problem(s), listed under Problems.`;
    pane.replaceChildren(p);
    return;
  }
  const parts = [];
  for (const f of r.files) {
    const h = document.createElement('h3');
    h.textContent = f.path;
    const pre = document.createElement('pre');
    pre.dataset.path = f.path;
    pre.textContent = f.text ?? `(${f.bytes.length} bytes of binary content)`;
    parts.push(h, pre);
  }
  for (const d of r.directories) {
    const h = document.createElement('h3');
    h.textContent = `${d}/ (directory)`;
    parts.push(h);
  }
  pane.replaceChildren(...parts);
}

function showGraph(results) {
  const pane = $('#out-graph');
  const r = results.compose.ok ? results.compose : Object.values(results).find((x) => x.ok);
  if (!r || !r.graph) {
    const p = document.createElement('p');
    p.className = 'failed';
    p.textContent = 'No graph: the files do not compile.';
    pane.replaceChildren(p);
    return;
  }
  pane.replaceChildren(renderGraph(r.graph));
}

// --- Tabs ---

function select(tabId) {
  const tab = document.getElementById(tabId);
  for (const t of tab.parentElement.querySelectorAll('[role=tab]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
  }
}

for (const t of document.querySelectorAll('[role=tab]')) t.addEventListener('click', () => select(t.id));

// --- Start ---

async function start() {
  const shared = await decodeShare(location.hash).catch(() => null);
  views.score = editor($('#editor-score'), shared?.score ?? EXAMPLE);
  views.provisioners = editor($('#editor-provisioners'), shared?.provisioners ?? '');
  await init({ module_or_path: new URL('score_wasm_bg.wasm', import.meta.url) });
  $('#share').addEventListener('click', () => share());
  analyse();
  document.body.dataset.ready = 'true';
}

start().catch((e) => {
  status(`failed to start: ${e}`);
  throw e;
});
