// Opens a report in headless Debian Chromium (playwright-core drives /usr/bin/chromium,
// no browser download) and checks it against the scope records it was built from:
//   node browser_test.mjs SCOPE_DIR REPORT_DIR [SCREENSHOT.png]
// - no console errors or page errors; the page renders (time printed)
// - the gating map draws one point per recorded token, hovering a point shows its context,
//   clicking it lists the tokens with the nearest gating patterns (checked by brute force)
// - searching a token lists only neurons that fired on it, with the counts the records give
// - a neuron page lists that neuron's lens tokens (lens_layer_L_*_ids.npy)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const [scopeDir, reportDir, shot] = process.argv.slice(2);
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
};

// .npy v1.0, little-endian int32, C order: shape and values.
function readNpy(path) {
  const b = readFileSync(path), len = b.readUInt16LE(8), header = b.toString("latin1", 10, 10 + len);
  if (!header.includes("'<i4'")) throw new Error(`${path}: expected int32`);
  const shape = header.match(/\(([^)]*)\)/)[1].split(",").filter((s) => s.trim()).map(Number);
  const data = new Int32Array(b.buffer.slice(b.byteOffset + 10 + len, b.byteOffset + b.length));
  return { shape, data };
}

const index = JSON.parse(readFileSync(join(scopeDir, "index.json"), "utf8"));
const S = index.sequences, T = index.seq_len, C = index.n_channels, K = index.knn, M = index.n_neurons;
const tokens = readNpy(join(scopeDir, index.tokens)).data;
const vocab = JSON.parse(readFileSync(join(reportDir, "vocab.json"), "utf8"));
const text = (p) => p.replace(/\u2581/g, " ").trim();

// The most frequent recorded token whose text no other vocab entry shares.
const freq = new Map();
tokens.forEach((t) => freq.set(t, (freq.get(t) ?? 0) + 1));
const byText = new Map();
vocab.forEach((p) => byText.set(text(p), (byText.get(text(p)) ?? 0) + 1));
const [probe] = [...freq].filter(([t]) => t > 2 && text(vocab[t]) && byText.get(text(vocab[t])) === 1)
  .sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
const query = text(vocab[probe]);
// Ground truth from the records: "layer:channel:neuron" -> picks on the probe token.
const fired = new Map();
for (const l of index.layers) {
  const idx = readNpy(join(scopeDir, l.indices)).data;
  for (let n = 0; n < S * T; n++) {
    if (tokens[n] !== probe) continue;
    for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) {
      const key = `${l.layer}:${c}:${idx[(n * C + c) * K + k]}`;
      fired.set(key, (fired.get(key) ?? 0) + 1);
    }
  }
}

const profile = mkdtempSync(join(tmpdir(), "sgatlin-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 1000 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  const requests = [];
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url()); });
  const t0 = Date.now();
  await page.goto("file://" + resolve(reportDir, "report.html"));
  await page.waitForSelector("body[data-ready='1']", { timeout: 60000 });
  const wall = Date.now() - t0, renderMs = await page.evaluate(() => window.sgReport.renderMs);
  console.log(`render: ${(renderMs / 1000).toFixed(2)} s after navigation start (${(wall / 1000).toFixed(2)} s wall, goto to ready)`);
  if (shot) await page.screenshot({ path: shot, fullPage: false });

  check((await page.getAttribute("#map", "data-points")) === String(S * T), `gating map has ${S * T} points (one per recorded token)`);
  const [x, y] = await page.evaluate(() => window.sgReport.mapScreen(1));
  await page.mouse.move(x, y);
  const tip = await page.textContent("#tip");
  check(await page.isVisible("#tip") && tip.startsWith("seq 0 pos "), `hovering a map point shows its context: ${JSON.stringify(tip)}`);

  // Clicking a point lists its nearest gating patterns: check them against brute force.
  await page.mouse.click(x, y);
  const near = await page.$$eval("#nearest-table tr[data-token]", (rs) =>
    rs.map((r) => [+r.dataset.token, +r.firstChild.textContent]));
  const first = readNpy(join(scopeDir, index.layers[0].indices)).data, CK = C * K;
  const picks = (t) => new Set(Array.from({ length: CK }, (_, j) => Math.floor(j / K) * M + first[t * CK + j]));
  const mine = picks(1);
  const cos = (u) => [...picks(u)].filter((p) => mine.has(p)).length / CK;
  const best = Array.from({ length: S * T }, (_, u) => u).filter((u) => u !== 1).map(cos).sort((a, b) => b - a);
  check(near.length === 8 && near.every(([u, c], j) => Math.abs(cos(u) - c) < 6e-4 && Math.abs(best[j] - c) < 6e-4),
        `clicking a point lists its 8 nearest gating patterns (cosines ${near.map(([, c]) => c).join(" ")})`);

  await page.fill("#search", query);
  const listed = await page.$$eval("#neurons li", (lis) => lis.map((li) => [li.dataset.key, +li.dataset.count]));
  const unlisted = [...fired].filter(([k]) => !listed.some(([l]) => l === k)).map(([, c]) => c);
  check(listed.length === Math.min(12, fired.size) && listed.length > 0,
        `search "${query}" lists ${listed.length} neurons (${fired.size} fired on it)`);
  check(listed.every(([k, c]) => fired.get(k) === c), "every listed neuron fired on it, as often as the records say");
  check(listed.every(([, c]) => unlisted.every((u) => u <= c)), "no unlisted neuron fired on it more often");

  const [key] = listed[0];
  const [layer, c, n] = key.split(":").map(Number);
  await page.click(`#neurons li[data-key='${key}'] a`);
  await page.waitForSelector("#neuron:not([hidden]) .lens");
  for (const part of ["out_top", "out_bottom", "in_top"]) {
    const lens = readNpy(join(reportDir, `lens_layer_${layer}_${part}_ids.npy`));
    const k = lens.shape[2], row = (lens.shape[0] === 1 ? 0 : c) * M + n;
    const want = [...lens.data.slice(row * k, (row + 1) * k)].map(String);
    const cls = { out_top: "out", out_bottom: "neg", in_top: "in" }[part];
    const got = await page.$$eval(`#neuron .lens.${cls} .tok`, (ts) => ts.map((t) => t.dataset.id));
    check(JSON.stringify(got) === JSON.stringify(want), `neuron page ${key} lists its ${part} lens tokens`);
  }
  check((await page.$$("#contexts tr")).length > 1, "the neuron page lists contexts");
  if (shot) await page.screenshot({ path: shot.replace(/\.png$/, "_neuron.png") });
  check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
  check(requests.length === 0, `no network requests${requests.length ? ": " + requests.join(" ") : ""}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${failures ? "FAILED" : "passed"}: ${failures} failed checks`);
process.exit(failures ? 1 : 0);
