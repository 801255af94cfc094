// Screenshots of a report for the docs: node screenshot.mjs REPORT.html OUT_PREFIX [TOKEN]
// writes OUT_PREFIX_overview.png (token search for TOKEN, default "LORD", with a map point
// clicked: its context and nearest gating patterns) and OUT_PREFIX_neuron.png (the page of the first neuron listed).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const [report, prefix, token = "LORD"] = process.argv.slice(2);
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
  await page.goto("file://" + resolve(report));
  await page.waitForSelector("body[data-ready='1']");
  await page.fill("#search", token);
  const [x, y] = await page.evaluate(() => window.sgReport.mapScreen(300));
  await page.mouse.click(x, y);
  await page.screenshot({ path: `${prefix}_overview.png` });
  await page.click("#neurons li a");
  await page.waitForSelector("#neuron:not([hidden]) .lens");
  await page.screenshot({ path: `${prefix}_neuron.png` });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
