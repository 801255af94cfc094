// The report page: everything precomputed by `sgatlin report` + build.mjs; this script
// only indexes and draws. No network: the data is the JSON block above.
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const M = D.meta, N = M.S * M.T;
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === "text" ? (e.textContent = v) : e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
const text = (p) => p.replace(/\u2581/g, " ");
const layerIndex = new Map(D.layers.map((l, i) => [l.layer, i]));
// Neuron records by layer: key "c:n" -> [c, n, count, contexts, partners].
const neuronsBy = D.layers.map((l) => new Map(l.neurons.map((r) => [r[0] + ":" + r[1], r])));
const state = { layer: 0, channel: 0, colour: "input", search: "" };

function contextNode(seq, pos, left = 5, right = 2) {
  const span = el("span", { class: "ctx" });
  for (let t = Math.max(0, pos - left); t <= Math.min(M.T - 1, pos + right); t++) {
    const p = text(D.pieces[seq * M.T + t]);
    span.append(t === pos ? el("mark", { text: p }) : p);
  }
  return span;
}
function contextString(seq, pos) {
  let s = "";
  for (let t = Math.max(0, pos - 6); t <= Math.min(M.T - 1, pos + 3); t++) {
    const p = text(D.pieces[seq * M.T + t]);
    s += t === pos ? "[" + p + "]" : p;
  }
  return s;
}
const hue = (id) => (id * 137.508) % 360;
const neuronLink = (layer, c, n, label) => el("a", { href: `#n/${layer}/${c}/${n}`, text: label ?? `L${layer} c${c} n${n}` });

// ---- neuron list: most used of the chosen layer/channel, or those that fired on a token
function tokenIdsMatching(q) {
  const ids = [];
  D.vocab.forEach((p, i) => { if (text(p).trim() === q) ids.push(i); });
  return ids;
}
function renderList() {
  const ol = $("neurons");
  ol.replaceChildren();
  const li = (layer, c, n, count, note) => {
    const item = el("li", { "data-key": `${layer}:${c}:${n}`, "data-count": String(count) });
    item.append(neuronLink(layer, c, n), ` ${count} ${note}`);
    const rec = neuronsBy[layerIndex.get(layer)].get(c + ":" + n);
    if (rec && rec[3].length) item.append(el("br"), contextNode(rec[3][0][0], rec[3][0][1], 4, 1));
    ol.append(item);
  };
  if (state.search) {
    const merged = new Map();
    for (const id of tokenIdsMatching(state.search))
      for (const [layer, c, n, count] of D.token_neurons[id] ?? []) {
        const k = `${layer}:${c}:${n}`;
        merged.set(k, (merged.get(k) ?? 0) + count);
      }
    const rows = [...merged].sort((a, b) => b[1] - a[1]);
    $("list-title").textContent = `neurons that fired on "${state.search}" (${rows.length})`;
    for (const [k, count] of rows) {
      const [layer, c, n] = k.split(":").map(Number);
      li(layer, c, n, count, "times on it");
    }
    return;
  }
  const l = D.layers[state.layer];
  $("list-title").textContent = `layer ${l.layer}, channel ${state.channel}: most used neurons`;
  const rows = l.neurons.filter((r) => r[0] === state.channel).sort((a, b) => b[2] - a[2] || a[1] - b[1]).slice(0, 60);
  for (const r of rows) li(l.layer, r[0], r[1], r[2], "picks");
}

// ---- maps: canvas scatter with a grid index for hover
function scatter(canvas, xy, colourOf, label) {
  const ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height, pad = 6, n = xy.length / 2;
  ctx.clearRect(0, 0, W, H);
  const G = 48, grid = Array.from({ length: G * G }, () => []);
  const px = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const x = pad + xy[2 * i] * (W - 2 * pad), y = pad + xy[2 * i + 1] * (H - 2 * pad);
    px[2 * i] = x, px[2 * i + 1] = y;
    ctx.fillStyle = colourOf(i);
    ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
    grid[Math.min(G - 1, Math.floor((y / H) * G)) * G + Math.min(G - 1, Math.floor((x / W) * G))].push(i);
  }
  canvas.dataset.points = String(n);
  const nearest = (x, y) => {
    let best = -1, bd = 64;
    const gx = Math.floor((x / W) * G), gy = Math.floor((y / H) * G);
    for (let a = gy - 1; a <= gy + 1; a++) for (let b = gx - 1; b <= gx + 1; b++) {
      if (a < 0 || b < 0 || a >= G || b >= G) continue;
      for (const i of grid[a * G + b]) {
        const d = (px[2 * i] - x) ** 2 + (px[2 * i + 1] - y) ** 2;
        if (d < bd) (bd = d), (best = i);
      }
    }
    return best;
  };
  canvas.onmousemove = (e) => {
    const r = canvas.getBoundingClientRect(), i = nearest(e.clientX - r.left, e.clientY - r.top), tip = $("tip");
    if (i < 0) return void (tip.hidden = true);
    tip.hidden = false;
    tip.textContent = label(i);
    tip.style.left = e.clientX + 12 + "px";
    tip.style.top = e.clientY + 12 + "px";
  };
  canvas.onmouseleave = () => ($("tip").hidden = true);
  canvas.onclick = (e) => {
    const r = canvas.getBoundingClientRect(), i = nearest(e.clientX - r.left, e.clientY - r.top);
    if (i >= 0 && canvas.onpick) canvas.onpick(i);
  };
  return (i) => { const r = canvas.getBoundingClientRect(); return [r.left + px[2 * i], r.top + px[2 * i + 1]]; };
}
function colourFor(i) {
  const s = Math.floor(i / M.T), t = i % M.T;
  if (state.colour === "part") return `hsl(${(s / Math.max(1, M.S)) * 300},70%,45%)`;
  if (state.colour === "target") return t + 1 < M.T ? `hsl(${hue(D.tokens[i + 1])},65%,45%)` : "#999";
  return `hsl(${hue(D.tokens[i])},65%,45%)`;
}
function renderNearest(i) {
  const l = D.layers[state.layer], k = l.nearest.k, box = $("nearest");
  const s = Math.floor(i / M.T), t = i % M.T;
  const table = el("table", { id: "nearest-table" });
  table.append(el("tr", {}, el("th", { text: "cosine" }), el("th", {}, contextNode(s, t))));
  for (let j = 0; j < k; j++) {
    const u = l.nearest.ids[i * k + j];
    table.append(el("tr", { "data-token": String(u) }, el("td", { text: (1 - l.nearest.dists[i * k + j]).toFixed(3) }),
                    el("td", {}, contextNode(Math.floor(u / M.T), u % M.T))));
  }
  box.replaceChildren(el("p", { text: `layer ${l.layer}: nearest gating patterns of seq ${s} pos ${t}` }), table);
}
function renderMap() {
  const l = D.layers[state.layer];
  $("map").onpick = renderNearest;
  window.sgReport.mapScreen = scatter($("map"), l.map, colourFor, (i) => {
    const s = Math.floor(i / M.T), t = i % M.T;
    return `seq ${s} pos ${t}: ${contextString(s, t)}`;
  });
}
function renderHeat() {
  const co = D.layers[state.layer].coact[state.channel], h = co.top.length, cv = $("heat"), ctx = cv.getContext("2d");
  const cell = cv.width / Math.max(1, h);
  let max = 1;
  for (let a = 0; a < h; a++) for (let b = 0; b < h; b++) if (a !== b) max = Math.max(max, co.heat[a * h + b]);
  ctx.clearRect(0, 0, cv.width, cv.height);
  for (let a = 0; a < h; a++) for (let b = 0; b < h; b++) {
    const v = a === b ? 0 : co.heat[a * h + b] / max;
    ctx.fillStyle = a === b ? "#ddd" : `rgba(180,40,20,${v})`;
    ctx.fillRect(b * cell, a * cell, cell - 1, cell - 1);
  }
  cv.title = "rows and columns: neurons " + co.top.join(", ");
  const ol = $("pairs");
  ol.replaceChildren();
  for (const [a, b, count] of co.pairs) {
    ol.append(el("li", {}, neuronLink(D.layers[state.layer].layer, state.channel, a, `n${a}`), " + ",
                 neuronLink(D.layers[state.layer].layer, state.channel, b, `n${b}`), ` together on ${count} tokens`));
  }
}
function renderSummary() {
  const s = $("summary");
  s.replaceChildren();
  const cka = el("table");
  cka.append(el("tr", {}, el("th", { text: "linear CKA" }), el("th", { text: "input embeddings" }),
                ...D.layers.map((l) => el("th", { text: `layer ${l.layer}` }))));
  D.layers.forEach((l, a) => cka.append(el("tr", {}, el("th", { text: `layer ${l.layer} gating` }),
    el("td", { text: D.cka.embedding[a].toFixed(3) }), ...D.cka.layers[a].map((v) => el("td", { text: v.toFixed(3) })))));
  const use = el("table");
  use.append(el("tr", {}, ...["layer", "frac_used", "entropy", "cv", "min/max"].map((h) => el("th", { text: h }))));
  for (const u of D.usage)
    use.append(el("tr", {}, ...[u.layer, u.frac_used, u.entropy, u.cv, u.min_max_ratio].map((v) => el("td", { text: String(v) }))));
  s.append(el("p", { text: "CKA near 1 with the input embeddings: the layer routes by token identity; lower: by context." }), cka,
           el("p", { text: "Neuron usage over the recorded tokens (mean over channels)." }), use);
}

// ---- neuron page
function lensRow(title, cls, ids) {
  const p = el("p", { class: "lens " + cls }, el("b", { text: title + " " }));
  for (const id of ids) p.append(el("span", { class: "tok " + cls, "data-id": String(id), text: text(D.vocab[id]) }));
  return p;
}
function renderNeuron(layer, c, n) {
  const li = layerIndex.get(layer), page = $("neuron");
  page.replaceChildren();
  if (li === undefined || c >= M.C || n >= M.M) return void page.append(el("p", { text: "no such neuron" }));
  const l = D.layers[li], rec = neuronsBy[li].get(c + ":" + n), k = M.lens_k;
  const row = (M.P === 1 ? 0 : c) * M.M + n, lens = (name) => l.lens[name].slice(row * k, (row + 1) * k);
  const lensRows = l.lens ? [lensRow("writes", "out", lens("out_top")), lensRow("suppresses", "neg", lens("out_bottom")),
                             lensRow("read from (embeddings)", "in", lens("in_top"))]
                          : [el("p", { text: "no lens: this layer has no single-neuron expert tables (moe)" })];
  const count = l.counts[c * M.M + n];
  page.append(el("h2", { text: `layer ${layer}, channel ${c}, neuron ${n}` }),
              el("p", { id: "usage", text: `picked for ${count} of ${N} recorded tokens (${((100 * count) / N).toFixed(2)} %)` }),
              el("h3", { text: "Lens (through the tied unembedding, after the final norm's scale)" }), ...lensRows);
  const ctxs = el("table", { id: "contexts" });
  ctxs.append(el("tr", {}, el("th", { text: "score" }), el("th", { text: "strongest contexts" })));
  for (const [s, t, score] of rec ? rec[3] : []) ctxs.append(el("tr", {}, el("td", { text: score.toFixed(3) }), el("td", {}, contextNode(s, t))));
  const co = el("ol", { id: "partners" });
  for (const [m, cnt] of rec ? rec[4] : []) co.append(el("li", {}, neuronLink(layer, c, m), ` on ${cnt} tokens together`));
  page.append(el("h3", { text: "Contexts" }), ctxs, el("h3", { text: "Co-activated neurons (same channel)" }), co);
}

// ---- routing and controls
function route() {
  const m = location.hash.match(/^#n\/(\d+)\/(\d+)\/(\d+)$/);
  $("overview").hidden = !!m;
  $("neuron").hidden = !m;
  if (m) renderNeuron(+m[1], +m[2], +m[3]);
}
function init() {
  $("meta").textContent = `${M.checkpoint} (${M.fingerprint}) · ${M.data} · ${M.S} sequences x ${M.T} tokens · ${M.ffw_type}, ${M.C} channels, K ${M.K} of ${M.M} neurons`;
  for (const l of D.layers) $("layer").append(el("option", { value: String(layerIndex.get(l.layer)), text: String(l.layer) }));
  for (let c = 0; c < M.C; c++) $("channel").append(el("option", { value: String(c), text: String(c) }));
  $("layer").onchange = (e) => { state.layer = +e.target.value; renderList(); renderMap(); renderHeat(); };
  $("channel").onchange = (e) => { state.channel = +e.target.value; renderList(); renderHeat(); };
  $("colour").onchange = (e) => { state.colour = e.target.value; renderMap(); };
  $("search").oninput = (e) => { state.search = e.target.value.trim(); renderList(); };
  window.sgReport = {};
  renderList();
  renderMap();
  renderHeat();
  const counts = new Map();
  D.tokens.forEach((t) => counts.set(t, (counts.get(t) ?? 0) + 1));
  scatter($("emap"), D.embedding_map, (v) => (counts.has(v) ? `hsl(${hue(v)},65%,45%)` : "#ccc"),
          (v) => `token ${v} "${text(D.vocab[v])}" · ${counts.get(v) ?? 0} times in the records`);
  renderSummary();
  window.onhashchange = route;
  route();
  window.sgReport.renderMs = performance.now();
  document.body.dataset.ready = "1";
}
init();
