// The page's budgets: its own files under 500 KB, the first render on
// localhost under 1 s, and 512 BPE merges in the browser under 0.5 s.
// Medians of several loads in Debian's chromium.
//
// usage: node bench/page_bench.mjs GLASSGPT
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const glassgpt = process.argv[2] || "build/glassgpt";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu-sandbox", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

function size(path) {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0) : st.size;
}
const bytes = size("web") + size("build/web/glassgpt.wasm");

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const server = spawn(glassgpt, ["serve", "--port", String(port)], { stdio: ["ignore", "pipe", "ignore"] });
await new Promise((resolve) => server.stdout.on("data", (d) => String(d).includes("serving") && resolve()));
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
const paint = [], ready = [], bpe = [];
try {
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    const [fcp, rd] = await page.evaluate(() => [
      performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN, performance.now()]);
    paint.push(fcp);
    ready.push(rd);
    bpe.push(Number((await page.textContent("#bpe-timing")).match(/in (\d+) ms/)[1]));
    await page.close();
  }
} finally {
  await browser.close();
  server.kill("SIGINT");
}
const verdict = (ok) => (ok ? "met" : "MISSED");
console.log(`page files (web/ and the wasm): ${(bytes / 1024).toFixed(0)} KB  (goal < 500 KB: ${verdict(bytes < 500 * 1024)})`);
console.log(`first render (first contentful paint): ${median(paint).toFixed(0)} ms  (goal < 1000 ms: ${verdict(median(paint) < 1000)})`);
console.log(`everything computed and drawn: ${median(ready).toFixed(0)} ms`);
console.log(`512 BPE merges on tinyshakespeare in the browser: ${median(bpe)} ms  (goal < 500 ms: ${verdict(median(bpe) < 500)})`);
