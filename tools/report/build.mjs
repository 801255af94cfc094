// Builds the self-contained report page: node build.mjs DATA.json OUT.html
// DATA.json comes from `sgatlin report` (src/eval/interactive_report.cpp): records, lens,
// co-activation, CKA and exact k-nearest-neighbour graphs. Here umap-js lays each graph
// out in 2-D (seeded, so the same data gives the same page); the page script and styles
// are inlined with the data, so report.html opens offline from file://.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UMAP } from "umap-js";

const here = dirname(fileURLToPath(import.meta.url));
const [dataPath, outPath] = process.argv.slice(2);
if (!dataPath || !outPath) {
  console.error("usage: node build.mjs DATA.json OUT.html");
  process.exit(2);
}

// mulberry32: a small seeded generator for umap-js's random choices.
function seeded(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// UMAP of a precomputed kNN graph {k, ids, dists} (flat, N*k); returns N*2 coordinates
// scaled to [0, 1] and rounded.
function layout(knn, seed) {
  const n = knn.ids.length / knn.k;
  const ids = [], dists = [];
  for (let i = 0; i < n; i++) {
    ids.push(knn.ids.slice(i * knn.k, (i + 1) * knn.k));
    dists.push(knn.dists.slice(i * knn.k, (i + 1) * knn.k));
  }
  const umap = new UMAP({ nNeighbors: knn.k, minDist: 0.1, nEpochs: n > 10000 ? 150 : 300, random: seeded(seed) });
  umap.setPrecomputedKNN(ids, dists);
  // With the graph given, umap-js uses X only for its length.
  const emb = umap.fit(Array.from({ length: n }, () => [0]));
  const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  for (const p of emb) for (let d = 0; d < 2; d++) (lo[d] = Math.min(lo[d], p[d])), (hi[d] = Math.max(hi[d], p[d]));
  const out = new Array(n * 2);
  emb.forEach((p, i) => {
    for (let d = 0; d < 2; d++) out[i * 2 + d] = Math.round(((p[d] - lo[d]) / (hi[d] - lo[d] || 1)) * 1e4) / 1e4;
  });
  return out;
}

const data = JSON.parse(readFileSync(dataPath, "utf8"));
const t0 = Date.now();
const NEAREST = 8;  // neighbours the page lists for a clicked token
for (const l of data.layers) {
  l.map = layout(l.knn, 1 + l.layer);
  const k = l.knn.k, n = l.knn.ids.length / k, keep = Math.min(NEAREST, k);
  l.nearest = { k: keep, ids: [], dists: [] };
  for (let i = 0; i < n; i++)
    for (let j = 0; j < keep; j++) l.nearest.ids.push(l.knn.ids[i * k + j]), l.nearest.dists.push(l.knn.dists[i * k + j]);
  delete l.knn;
}
data.embedding_map = layout(data.embedding_knn, 99);
delete data.embedding_knn;
console.error(`report: UMAP layouts of ${data.layers.length} layers + embeddings in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// JSON inside <script>: "<" escaped so no "</script>" or "<!--" can end the block.
const json = JSON.stringify(data).replace(/</g, "\\u003c");
const page = readFileSync(join(here, "page.html"), "utf8")
  .replace("/*STYLE*/", () => readFileSync(join(here, "page.css"), "utf8"))
  .replace("/*SCRIPT*/", () => readFileSync(join(here, "page.js"), "utf8"))
  .replace("/*DATA*/", () => json);
writeFileSync(outPath, page);
