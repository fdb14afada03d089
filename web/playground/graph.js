// Draws the package's resource graph (CompileResult.graph) as SVG: workloads on the left,
// resources on the right, an edge for each declaration labelled with the resource's name there.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function renderGraph(graph) {
  const rowH = 64;
  const boxW = 230;
  const boxH = 44;
  const left = 20;
  const right = 420;
  const rows = Math.max(graph.workloads.length, graph.resources.length, 1);
  const svg = el('svg', { width: right + boxW + 20, height: rows * rowH + 20, role: 'img', 'aria-label': 'resource graph', id: 'graph-svg' });
  const defs = el('defs', {});
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#58627a' }));
  defs.append(marker);
  svg.append(defs);
  const y = (i) => 10 + i * rowH;
  const workloadRow = new Map(graph.workloads.map((w, i) => [w.name, i]));
  graph.resources.forEach((r, j) => {
    for (const u of r.users) {
      const i = workloadRow.get(u.workload);
      if (i === undefined) continue;
      const x1 = left + boxW;
      const y1 = y(i) + boxH / 2;
      const x2 = right;
      const y2 = y(j) + boxH / 2;
      const edge = el('g', { class: 'edge', 'data-from': u.workload, 'data-to': r.uid });
      edge.append(el('path', { d: `M ${x1} ${y1} C ${x1 + 80} ${y1}, ${x2 - 80} ${y2}, ${x2} ${y2}`, fill: 'none', stroke: '#58627a', 'marker-end': 'url(#arrow)' }));
      edge.append(el('text', { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle', fill: '#333' }, u.resource));
      svg.append(edge);
    }
  });
  const box = (x, yy, title, sub, fill, data) => {
    const g = el('g', data);
    g.append(el('rect', { x, y: yy, width: boxW, height: boxH, rx: 6, fill, stroke: '#58627a' }));
    g.append(el('text', { x: x + 10, y: yy + 18, 'font-weight': 600 }, title));
    g.append(el('text', { x: x + 10, y: yy + 34, fill: '#555' }, sub));
    svg.append(g);
  };
  graph.workloads.forEach((w, i) => box(left, y(i), w.name, `containers: ${w.containers.join(', ')}`, '#e4ecff', { class: 'workload', 'data-name': w.name }));
  graph.resources.forEach((r, j) => box(right, y(j), `${r.type}${r.class === 'default' ? '' : ` (${r.class})`}`, r.provisioner, '#fff4dc', { class: 'resource', 'data-uid': r.uid }));
  return svg;
}
