// The page's budgets: its own files under 500 KB, the first render on
// localhost under 1 s, 512 BPE merges in the browser under 0.5 s (medians of
// several loads in Debian's chromium); and with the small preset, training
// in the page at 70% of the native single-thread speed or better, generation
// at 100 tokens/s or more, and no main-thread task over 50 ms meanwhile, nor
// at a pause, when every chapter opens the trained model; the time from a
// model switch to every chapter drawn; and training on the GPU, where the
// page has one, with no main-thread task over 50 ms meanwhile.
//
// usage: node bench/page_bench.mjs GLASSGPT
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { launch, serve } from "../tests/browser/chromium.mjs";

const glassgpt = process.argv[2] || "build/glassgpt";
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

function size(path) {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0) : st.size;
}
const bytes = size("web") + size("build/web/glassgpt.wasm");

const { server, base } = await serve(glassgpt);
const browser = await launch();
const paint = [], ready = [], bpe = [];
let genRate = 0, longTasks = [], pauseTasks = [], switchMs = [], switchTasks = [];
let gpuName = "", gpuRate = 0, gpuTasks = [];
const trainPairs = [];  // [the page's tokens/s, native's on one thread]
function nativeSmall() {
  const out = spawnSync("build/bench_model", ["1", "small"], { env: { ...process.env, OMP_NUM_THREADS: "1" } });
  return Number(out.stdout.toString().match(/GG_BENCH small train_tok_s=(\d+)/)[1]);
}
try {
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    const [fcp, rd] = await page.evaluate(() => [
      performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN, performance.now()]);
    paint.push(fcp);
    ready.push(rd);
    bpe.push(Number((await page.textContent("#bpe-timing")).match(/in (\d+) ms/)[1]));
    await page.close();
  }
  // model switches: tiny to small and back, to every chapter drawn
  {
    const page = await browser.newPage();
    await page.goto(base);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    await page.evaluate(() => {
      window.longTasks = [];
      new PerformanceObserver((l) => window.longTasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: "longtask" });
    });
    for (const [i, name] of ["small.ckpt", "tiny.ckpt", "small.ckpt", "tiny.ckpt", "small.ckpt", "tiny.ckpt"].entries()) {
      const t0 = await page.evaluate(() => performance.now());
      await page.selectOption("#model-picker", name);
      await page.waitForFunction((n) => Number(document.body.dataset.shown) > n, i + 1, { timeout: 30000 });
      switchMs.push((await page.evaluate(() => performance.now())) - t0);
    }
    switchTasks = await page.evaluate(() => window.longTasks);
    await page.close();
  }
  // training and generation with the small preset
  const page = await browser.newPage();
  await page.goto(base);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  await page.selectOption("#train-preset", "small");
  await page.waitForFunction(() => document.querySelector("#train-step-count")?.textContent === "0");
  await page.waitForTimeout(3000);  // the chapters redraw for the new model first
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => window.longTasks.push(...l.getEntries().map((e) => [e.startTime, e.duration])))
      .observe({ type: "longtask" });
  });
  // This 2-core VM has slow phases of several seconds, which could fall on
  // either side of a comparison. So the page and native training alternate,
  // in pairs a few seconds apart, and the median pair's ratio counts. The
  // page's figure is its tokens/s over its last few runs of steps; in each
  // window the best reading counts, as native takes its median of 5.
  const windows = [];  // [from, to] on the page's clock: training, not the redraw at a pause
  for (let round = 0; round < 3; round++) {
    const from = await page.evaluate(() => performance.now());
    await page.click("#train-start");
    await page.waitForTimeout(1500);
    let rate = 0;
    for (let i = 0; i < 8; i++) {
      await page.waitForTimeout(400);
      rate = Math.max(rate, Number(await page.getAttribute("#train-rate", "data-rate")));
    }
    windows.push([from, await page.evaluate(() => performance.now())]);
    await page.click("#train-start");  // pause, so that native has the cores
    await page.waitForTimeout(500);
    trainPairs.push([rate, nativeSmall()]);
  }
  const tasks = await page.evaluate(() => window.longTasks);
  const training = ([at]) => windows.some(([from, to]) => at >= from && at < to);
  longTasks = tasks.filter(training).map(([, ms]) => ms);
  pauseTasks = tasks.filter((t) => !training(t)).map(([, ms]) => ms);
  await page.waitForTimeout(1000);
  genRate = await page.evaluate(async () => {
    const { engine } = await import("./engine.js");
    const model = await engine.loadModel(await (await fetch("models/small.ckpt")).arrayBuffer());
    let { gid, state } = await engine.genBegin(model.id, [10], { temperature: 0.8, seed: 1 });
    const t0 = performance.now();
    for (let i = 0; i < 62; i++) ({ state } = await engine.genStep(gid, state.sampled));
    return 62000 / (performance.now() - t0);
  });
  // training on the GPU, where the page has one: the main thread meanwhile
  gpuName = await page.evaluate(async () => { await window.glassgpt.page.gpuReady; return window.glassgpt.page.gpu?.name ?? ""; });
  if (gpuName) {
    await page.selectOption("#train-backend", "gpu");
    await page.waitForFunction(() => /GPU/.test(document.querySelector("#train-runs-on").textContent));
    const from = await page.evaluate(() => performance.now());
    await page.click("#train-start");
    await page.waitForTimeout(6000);
    const to = await page.evaluate(() => performance.now());
    gpuRate = Number(await page.getAttribute("#train-rate", "data-rate"));
    await page.click("#train-start");
    gpuTasks = (await page.evaluate(() => window.longTasks)).filter(([at]) => at >= from && at < to).map(([, ms]) => ms);
  }
  await page.close();
} finally {
  await browser.close();
  server.kill("SIGINT");
}
const verdict = (ok) => (ok ? "met" : "MISSED");
console.log(`page files (web/ and the wasm): ${(bytes / 1024).toFixed(0)} KB  (goal < 500 KB: ${verdict(bytes < 500 * 1024)})`);
console.log(`first render (first contentful paint): ${median(paint).toFixed(0)} ms  (goal < 1000 ms: ${verdict(median(paint) < 1000)})`);
console.log(`everything computed and drawn: ${median(ready).toFixed(0)} ms`);
console.log(`512 BPE merges on tinyshakespeare in the browser: ${median(bpe)} ms  (goal < 500 ms: ${verdict(median(bpe) < 500)})`);

const [pageRate, nativeRate] = trainPairs.slice().sort((a, b) => a[0] / a[1] - b[0] / b[1])[1];
console.log(`training small in the page: ${pageRate.toFixed(0)} tokens/s; native on one thread: ${nativeRate} ` +
  `(${(100 * pageRate / nativeRate).toFixed(0)}%, the median of 3 pairs: ` +
  `${trainPairs.map(([p, n]) => `${(100 * p / n).toFixed(0)}%`).join(", ")}; goal >= 70%: ${verdict(pageRate >= 0.7 * nativeRate)})`);
console.log(`generation with the KV cache, small, in the page (every layer's state copied out): ${genRate.toFixed(0)} tokens/s ` +
  `(goal >= 100: ${verdict(genRate >= 100)})`);
const longest = longTasks.length ? Math.max(...longTasks) : 0;
console.log(`main-thread tasks over 50 ms while training: ${longTasks.length}` +
  (longTasks.length ? ` (longest ${longest.toFixed(0)} ms)` : "") + ` (goal: none: ${verdict(longTasks.length === 0)})`);
console.log(`  and at the pauses, where every chapter opens the trained model: ${pauseTasks.length}` +
  (pauseTasks.length ? ` (longest ${Math.max(...pauseTasks).toFixed(0)} ms)` : "") + ` (goal: none: ${verdict(pauseTasks.length === 0)})`);
console.log(`a model switch to every chapter drawn (tiny and small, the median of ${switchMs.length}): ` +
  `${median(switchMs).toFixed(0)} ms; tasks over 50 ms meanwhile: ${switchTasks.length}` +
  (switchTasks.length ? ` (longest ${Math.max(...switchTasks).toFixed(0)} ms)` : ""));
if (gpuName)
  console.log(`training small in the page on the GPU (${gpuName}): ${gpuRate.toFixed(0)} tokens/s; main-thread tasks over 50 ms ` +
    `meanwhile: ${gpuTasks.length}` + (gpuTasks.length ? ` (longest ${Math.max(...gpuTasks).toFixed(0)} ms)` : "") +
    ` (goal: none: ${verdict(gpuTasks.length === 0)})`);
else console.log("training in the page on the GPU: no WebGPU adapter here");
