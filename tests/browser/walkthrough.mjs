// Browser tests of the walkthrough: a real `glassgpt serve` on a free port,
// Debian's chromium driven by playwright-core. Each chapter must render with
// no console errors and show the engine's numbers (checked against the
// native command line). The page must fit at 1280 and 400 px and after a
// resize between them (by geometry, not pixels), keep every text readable,
// answer the keyboard (one tab stop per figure), link a token across the
// chapters, keep its state in the URL, and open a new model in a few worker
// round trips. Screenshots of every chapter, at both widths, go to
// test-artifacts/.
//
// usage: node tests/browser/walkthrough.mjs GLASSGPT
import { spawnSync, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, serve, tally } from "./chromium.mjs";

const glassgpt = process.argv[2] || "build/glassgpt";
const ARTIFACTS = "test-artifacts";
const CHAPTERS = ["overview", "bpe", "tokenize", "embedding", "position", "embedded", "qkv", "attention",
  "projection", "ffn", "layernorm", "lens", "training", "inference", "takehome"];

const { check, end } = tally();

const nativeEncode = (text) =>
  execFileSync(glassgpt, ["bpe", "encode", "-t", "models/tokenizer.bpe"], { input: text }).toString().trim();
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const close = (a, b, atol, rtol) => Math.abs(a - b) <= atol + rtol * Math.abs(b);

// The page's geometry: nothing wider than the window, no figure's part
// outside its figure, no canvas wider than its box unless it says it
// scrolls, no two parts of a figure on top of each other.
const geometry = (page) => page.evaluate(() => {
  const bad = [], vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw) bad.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${vw})`);
  const name = (e) => `${e.closest("section")?.id}: ${e.tagName.toLowerCase()}.${String(e.className?.baseVal ?? e.className).split(" ")[0]}`;
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  for (const fig of document.querySelectorAll(".figure")) {
    const f = fig.getBoundingClientRect();
    for (const e of fig.querySelectorAll(".mat, svg, .grid-wrap, .lens-wrap, .diagram .block, .chips, .controls, h3, p, textarea")) {
      if (!shown(e) || e.closest(".mat-scroll, .lens-wrap, .grid-wrap, .chips") !== null && !e.matches(".grid-wrap, .lens-wrap, .chips")) continue;
      const r = e.getBoundingClientRect();
      if (r.left < f.left - 0.5 || r.right > f.right + 0.5) bad.push(`${name(e)} spills out of its figure (${r.left.toFixed(0)}..${r.right.toFixed(0)} in ${f.left.toFixed(0)}..${f.right.toFixed(0)})`);
    }
    for (const m of fig.querySelectorAll(".mat")) {
      const s = m.querySelector(".mat-scroll"), c = m.querySelector("canvas");
      if (s && c && c.getBoundingClientRect().width > s.clientWidth + 0.5 && !m.classList.contains("scrolls"))
        bad.push(`${name(m)} "${m.getAttribute("aria-label")}" is cut off with no cue`);
    }
    const leaves = [...fig.querySelectorAll(".mat, svg.chart, svg.bars, table.lens, .diagram .block, .grid")].filter(shown);
    for (let i = 0; i < leaves.length; i++)
      for (let j = i + 1; j < leaves.length; j++) {
        const [a, b] = [leaves[i], leaves[j]];
        if (a.contains(b) || b.contains(a)) continue;
        const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
        if (Math.min(p.right, q.right) - Math.max(p.left, q.left) > 1 && Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top) > 1)
          bad.push(`${name(a)} overlaps ${name(b)}`);
      }
  }
  return bad;
});

// Every visible text, and its size on the screen (SVG text scaled as drawn).
const smallTexts = (page, min) => page.evaluate((min) => {
  const small = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !e) continue;
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || e.closest("details:not([open]) > :not(summary)") || e.matches(".skip")) continue;
    let size = parseFloat(getComputedStyle(e).fontSize);
    if (e instanceof SVGElement) { const m = e.getScreenCTM(); size *= Math.hypot(m.a, m.b); }
    if (size < min - 0.05) small.push(`${e.closest("section")?.id ?? "page"} ${e.tagName.toLowerCase()} "${n.textContent.trim().slice(0, 16)}" ${size.toFixed(1)}px`);
  }
  return small;
}, min);

// An independent PCA: covariance in doubles, then power iteration with
// deflation (the engine uses Jacobi rotations).
function pca2(X, n, d) {
  const mean = new Float64Array(d), cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += X[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++)
    cov[j * d + k] += (X[i * d + j] - mean[j]) * (X[i * d + k] - mean[k]) / (n - 1);
  const axes = [];
  for (let a = 0; a < 2; a++) {
    let v = Float64Array.from({ length: d }, (_, j) => 1 + j / d);
    for (let it = 0; it < 3000; it++) {
      const w = new Float64Array(d);
      for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) w[j] += cov[j * d + k] * v[k];
      const norm = Math.hypot(...w);
      v = w.map((x) => x / norm);
    }
    let lambda = 0;
    for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) lambda += v[j] * cov[j * d + k] * v[k];
    for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) cov[j * d + k] -= lambda * v[j] * v[k];
    axes.push(v);
  }
  return Array.from({ length: n }, (_, i) => axes.map((v) => v.reduce((s, x, j) => s + (X[i * d + j] - mean[j]) * x, 0)));
}

const ckpt = readFileSync("models/tiny.ckpt");
const WTE_AT = 48 + 12 * 512;  // header, then the tokenizer's 512 merges
const wte = new Float32Array(ckpt.buffer.slice(ckpt.byteOffset + WTE_AT, ckpt.byteOffset + WTE_AT + 4 * 768 * 8));
const wpe = new Float32Array(ckpt.buffer.slice(ckpt.byteOffset + WTE_AT + 4 * 768 * 8, ckpt.byteOffset + WTE_AT + 4 * 768 * 8 + 4 * 64));
const inputIds = nativeEncode("To be, or not to be").split(" ");
const native = (act, layer, model = "models/tiny.ckpt", ids = inputIds) =>
  execFileSync("build/dump_acts", [model, "--act", act, String(layer), ...ids])
    .toString().trim().split(/\s+/).map((v) => Math.fround(Number(v)));

const { server, base } = await serve(glassgpt);
const browser = await launch();
mkdirSync(ARTIFACTS, { recursive: true });

// page helpers
const values = (page, sel) => page.$eval(`${sel} .mat`, (e) => Array.from(e.values));
async function pointAt(page, sel, r, c) {
  await page.locator(`${sel} .mat`).first().scrollIntoViewIfNeeded();
  const p = await page.$eval(`${sel} .mat`, (e, [r, c]) => e.cellCenter(r, c), [r, c]);
  await page.mouse.move(p.x, p.y);
}
const shownCount = (page) => page.evaluate(() => Number(document.body.dataset.shown || 0));
async function redrawn(page, action) {
  const n = await shownCount(page);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.shown || 0) > n, n, { timeout: 30000 });
}
async function open(page, url = base) {
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 40000 });
}

try {
  for (const [name, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 400, height: 800 }]]) {
    const page = await browser.newPage({ viewport });
    const errors = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    const t0 = Date.now();
    await open(page);
    console.log(`${name}: ready in ${Date.now() - t0} ms`);

    // the registry: numbers, map and sections agree
    const heads = await page.$$eval("main > section > h2", (h) => h.map((x) => [x.parentElement.id, x.textContent.trim()]));
    check(heads.length === CHAPTERS.length && heads.every(([id, t], i) => id === CHAPTERS[i] && t.startsWith(`${i + 1} `)),
      `${name}: the chapters are numbered in the registry's order (${heads.map(([id]) => id).join(" ")})`);
    const links = await page.$$eval("#toc .map a", (a) => a.map((x) => x.getAttribute("href")));
    check(same(links, CHAPTERS.map((c) => `#${c}`)), `${name}: the map links every chapter (${links.join(" ")})`);

    // 1. the overview: the loaded model's sizes and a real prediction
    const status = await page.textContent("#status");
    check(/tiny\.ckpt, d 8, 2 layers, 2 heads, context 8, vocabulary 768/.test(status), `${name}: status "${status}"`);
    check((await page.$$eval("#overview-figure .diagram .block", (r) => r.length)) === 2 * 4 + 4, `${name}: the diagram's blocks`);
    check((await page.$$eval("#overview-figure .head", (r) => r.length)) === 2 * 2, `${name}: each of 2 layers draws its 2 heads`);
    const next = Number(await page.getAttribute("#overview-next", "data-id"));
    const windowText = execFileSync(glassgpt, ["bpe", "decode", "-t", "models/tokenizer.bpe"], { input: inputIds.join(" ") });
    const generated = execFileSync(glassgpt, ["generate", "-m", "models/tiny.ckpt", "--prompt", String(windowText),
      "-n", "1", "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
    const nextNative = nativeEncode(generated.slice(String(windowText).length).replace(/\n$/, ""));
    check(String(next) === nextNative.split(" ")[0], `${name}: the page predicts token ${next}, the CLI ${nextNative}`);
    check(!/; [A-Z]/.test(await page.textContent("#overview-note")), `${name}: the overview's note reads as sentences`);

    // 2. BPE: trained in the browser, all merges shown, 768 tokens in the grid
    await page.waitForSelector("#bpe-figure[data-trained=true]");
    check((await page.textContent("#bpe-counter")) === "Vocab: 768 tokens \u00b7 512 merges", `${name}: the counter at the end`);
    check((await page.$$eval("#bpe-grid .cell:not(.empty)", (c) => c.length)) === 768, `${name}: 768 tokens in the grid`);
    console.log(`${name}: 512 merges in the browser in ${(await page.textContent("#bpe-timing")).match(/in (\d+) ms/)[1]} ms`);
    check((await page.getAttribute('#bpe-grid .cell[data-id="418"]', "data-label")) === "To\u2423", `${name}: token 418 is "To␣"`);
    const clipped = await page.$$eval("#bpe-grid .cell, #bpe-grid .head", (cells) =>
      cells.filter((c) => c.scrollWidth > c.clientWidth + 0.5).map((c) => c.dataset.label ?? c.textContent));
    check(clipped.length === 0, `${name}: no label in the grid is clipped (${clipped.length}: ${clipped.slice(0, 8).join(" ")})`);
    const cut = await page.$$eval("#bpe-grid .cell", (cells) => cells.filter((c) => c.textContent.endsWith("\u2026")
      && !c.dataset.label.startsWith(c.textContent.slice(0, -1))).length);
    check(cut === 0, `${name}: a shortened label is the start of its token`);
    await page.click('button[aria-label="Back to the bytes"]');
    check((await page.textContent("#bpe-counter")) === "Vocab: 256 tokens \u00b7 0 merges", `${name}: back to the bytes`);
    check((await page.getAttribute('#bpe-grid .cell[data-id="0"]', "data-label")) === "NUL" &&
          (await page.getAttribute('#bpe-grid .cell[data-id="32"]', "data-label")) === "\u2423" &&
          (await page.getAttribute('#bpe-grid .cell[data-id="128"]', "data-label")) === "\\x80", `${name}: the bytes are labelled`);
    await page.click('button[aria-label="One merge forward"]');
    check((await page.textContent("#bpe-counter")) === "Vocab: 257 tokens \u00b7 1 merge", `${name}: one merge, singular`);
    check((await page.getAttribute('#bpe-grid .cell[data-id="256"]', "data-label")) === "e\u2423", `${name}: the first merge is "e␣"`);
    check((await page.$$eval("#bpe-chart rect.bar", (r) => r.length)) === 10, `${name}: ten candidates`);
    await page.hover('#bpe-grid .cell[data-id="256"]');
    check((await page.textContent("#bpe-tip")).includes("Merge 1 joined"), `${name}: hovering explains a token`);
    await page.fill("#bpe-slider", "300");
    check((await page.textContent("#bpe-counter")) === "Vocab: 556 tokens \u00b7 300 merges", `${name}: scrubbing`);
    await page.click('button[aria-label="All merges"]');
    // the grid answers the keyboard, and Enter follows a token into the model
    await page.focus("#bpe-grid");
    const activeId = async () => Number((await page.getAttribute("#bpe-grid", "aria-activedescendant")).replace("bpe-cell-", ""));
    const from = await activeId();
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowDown");
    const cols = await page.$$eval("#bpe-grid .head", (h) => h.filter((x) => /^[0-9A-F]{2}$/.test(x.textContent)).length);
    const to = await activeId();
    check(to === from + 1 + cols, `${name}: the arrow keys move through the grid (${from} to ${to})`);
    check((await page.textContent("#bpe-tip")).startsWith(`Token ${to}`), `${name}: the grid's readout follows the keys`);
    const down = Math.floor((418 - to) / cols), right = 418 - to - down * cols;
    for (let i = 0; i < Math.abs(down); i++) await page.keyboard.press(down > 0 ? "ArrowDown" : "ArrowUp");
    for (let i = 0; i < Math.abs(right); i++) await page.keyboard.press(right > 0 ? "ArrowRight" : "ArrowLeft");
    // a few frames later, with the pointer still resting over the grid as it
    // scrolled: the keyboard's cursor stays where the keys left it
    for (let i = 0; i < 3; i++) await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
    await page.waitForTimeout(100);
    const reached = await activeId();
    check(reached === 418, `${name}: the keys reach token 418 (from ${to}, ${down} down and ${right} across in ${cols} columns: ${reached})`);
    await page.keyboard.press("Enter");
    check((await page.textContent("#embedding-pick")).startsWith("Token 418 \u201cTo\u2423\u201d"), `${name}: a merge followed to its embedding row`);
    check(/picked token \u201cTo\u2423\u201d/.test(await page.textContent("#lens-readout")), `${name}: ... and to its probability in the lens`);
    await page.locator("#bpe").screenshot({ path: `${ARTIFACTS}/2-bpe-${name}.png` });
    check((await page.$eval("#bpe-examples .glyph", (g) => getComputedStyle(g).fontFamily)).includes("Noto Sans CJK"),
      `${name}: the page names a CJK font`);

    // 3. Tokenize: the page's sentence, as the command line cuts it
    const chipIds = async () => (await page.$$eval("#tokenize-chips .chip", (c) => c.map((x) => x.dataset.id))).join(" ");
    check((await chipIds()) === inputIds.join(" "), `${name}: the default sentence's ids`);
    const trace = await page.$$eval("#tokenize-trace li", (l) => l.map((x) => [...x.querySelectorAll(".chip")].map((c) => c.dataset.id).join(",")));
    check(trace.length === 3 && trace[0] === "84,111,32" && trace[2] === "418", `${name}: "To " replays T o ␣ -> To ␣ -> To␣ (${trace.join(" | ")})`);

    // 4-11. The model's tensors and intermediates, against the native engine's
    const T = inputIds.length;
    check(same(await values(page, "#embedding-rows"), inputIds.flatMap((id) => Array.from(wte.subarray(id * 8, id * 8 + 8)))),
      `${name}: the embedding rows shown are the checkpoint's`);
    await pointAt(page, "#embedding-rows", 0, 3);
    check((await page.textContent("#embedding-rows .readout")).startsWith(`tokEmb[${inputIds[0]}][3] = `), `${name}: pointing at a value explains it`);
    // the map: a PCA of the table, computed independently here
    const coords = await page.$eval("#embedding-map .mat", (e) => Array.from(e.values));
    const mine = pca2(wte, 768, 8), scale = Math.max(...mine.flat().map(Math.abs));
    const signs = [0, 1].map((a) => Math.sign(mine.reduce((s, p, i) => s + p[a] * coords[2 * i + a], 0)));
    const worst = Math.max(...mine.map((p, i) => Math.max(...[0, 1].map((a) => Math.abs(signs[a] * p[a] - coords[2 * i + a])))));
    check(coords.length === 2 * 768 && worst <= 1e-4 * scale, `${name}: the map is the table's PCA (worst difference ${worst.toExponential(2)} of ${scale.toFixed(3)})`);
    check(same(await values(page, "#position-cells"), Array.from(wpe)), `${name}: the learned positions are the checkpoint's`);
    await page.selectOption("#position-kind", "sinusoidal");
    check((await page.textContent("#position-example")) === "0.8415", `${name}: position 1, dimension 0 = sin(1)`);
    const sinus = await values(page, "#position-cells");
    check(sinus.every((v, i) => Math.abs(v - ((i % 8) % 2 ? Math.cos : Math.sin)(Math.floor(i / 8) /
      10000 ** (((i % 8) - ((i % 8) % 2)) / 8))) < 1e-6), `${name}: the fixed table is sin and cos`);
    check(same(await values(page, "#embedded-sum"), native("encoded", -1)), `${name}: the input x equals the native engine's`);
    await pointAt(page, "#embedded-sum", 1, 2);
    check(/^x\[1\]\[2\] = tokEmb\[\d+\]\[2\] \+ posEmb\[1\]\[2\] = /.test(await page.textContent("#embedded-readout")),
      `${name}: pointing at the sum shows its two terms`);
    check(same(await values(page, "#qkv-out"), native("qkv", 0)), `${name}: qkv of layer 1 equals the native engine's`);
    const heads2 = await page.$$eval("#attention-heads [data-head]", (h) => h.map((b) => [".scores", ".weights", ".out"]
      .map((k) => Array.from(b.querySelector(`${k} .mat`).values))));
    const nScores = native("scores", 0), nAtt = native("att", 0), nAtty = native("atty", 0);
    check(heads2.length === 2 && heads2.every(([s, a, o], h) => same(s, nScores.slice(h * T * T, (h + 1) * T * T)) &&
      same(a, nAtt.slice(h * T * T, (h + 1) * T * T)) &&
      same(o, Array.from({ length: T * 4 }, (_, i) => nAtty[Math.floor(i / 4) * 8 + h * 4 + (i % 4)]))),
    `${name}: every head's scores, weights and output equal the native engine's`);
    await pointAt(page, "#attention-heads [data-head='0'] .scores", 2, 1);
    check(/q\[.*\] \u00b7 k\[.*\] \/ \u221a4 = /.test(await page.textContent("#attention-readout")), `${name}: pointing at a score explains it`);
    await pointAt(page, "#attention-heads [data-head='0'] .scores", 1, 4);
    check(/It is masked/.test(await page.textContent("#attention-readout")), `${name}: the future is masked`);
    check(same(await values(page, "#projection-proj"), native("attproj", 0)), `${name}: the projection equals the native engine's`);
    check(same(await values(page, "#projection-res"), native("res_att", 0)), `${name}: the residual after attention`);
    check(same(await values(page, "#ffn-h"), native("ffh", 0)) && same(await values(page, "#ffn-g"), native("ffh_gelu", 0)),
      `${name}: the hidden layer before and after GELU`);
    check((await page.$$eval("#ffn-curve circle", (c) => c.length)) === native("ffh", 0).filter((v) => v > -4 && v < 4).length,
      `${name}: every hidden value sits on the GELU curve`);
    check(same(await values(page, "#layernorm-after"), native("ln1", 0)), `${name}: the normalised rows`);
    check(/^after: mean -?\d+\.\d{4}, variance \d+\.\d{4}$/.test(await page.$$eval("#layernorm-figure h3", (h) => h[1].textContent.trim())),
      `${name}: the row's mean and variance after`);
    // 12. the logit lens: its last layer is the model's own prediction, to the bit
    const lensVals = await page.$eval("#lens-table", (e) => Array.from(e.values));
    const nProbs = native("probs", -1);
    check(same(lensVals.slice(2 * T * 768), nProbs), `${name}: the lens's last layer is the model's probabilities`);
    const row0 = lensVals.slice(0, 768).reduce((a, b) => a + b, 0);
    check(close(row0, 1, 1e-4, 0) && !same(lensVals.slice(0, T * 768), nProbs), `${name}: the embedding's lens is a distribution of its own`);
    check((await page.$$eval("#lens-table tbody tr", (r) => r.length)) === 3, `${name}: the lens has the embedding and 2 layers`);

    // numbers are written without "-0.00"
    check((await page.evaluate(() => import("./draw.js").then((d) => [d.fixed(-0.001), d.fixed(-0.004, 2), d.fixed(-0.006)].join(" ")))) ===
      "0.00 0.00 -0.01", `${name}: a number that rounds to zero is written 0.00`);
    const negZero = (await page.textContent("main")).match(/(?<![\d.])-0\.0+(?![\d])/g);
    check(negZero === null, `${name}: no "-0.00" on the page (${negZero})`);
    check((await page.$$eval("#tokenize-stats, #bpe-counter, #bpe-timing", (e) => e.map((x) => x.textContent).join(" "))).match(/\b1 (tokens|merges|bytes)\b/) === null,
      `${name}: counts of one are singular`);

    // every text at 400 px is at least 11 px; at 1280 the same
    const small = await smallTexts(page, 11);
    check(small.length === 0, `${name}: texts under 11 px: ${small.slice(0, 6).join("; ")} (${small.length})`);
    // nothing spills, overlaps or scrolls the page sideways
    const bad = await geometry(page);
    check(bad.length === 0, `${name}: geometry: ${bad.slice(0, 6).join("; ")} (${bad.length})`);

    // a token pointed at in one chapter lights up in the others
    await page.locator("#tokenize-chips .chip[data-pos='2']").scrollIntoViewIfNeeded();
    await page.hover("#tokenize-chips .chip[data-pos='2']");
    const lit = await page.$$eval(".linked", (l) => [...new Set(l.map((e) => e.closest("section")?.id))]);
    check(lit.filter((s) => s !== "tokenize").length >= 5, `${name}: a token lights up in ${lit.length - 1} other chapters (${lit.join(" ")})`);
    await page.mouse.move(1, 1);

    // every figure answers the arrow keys, and says what it is on: each
    // figure of matrices has one of them as its tab stop
    for (const fig of ["embedding", "position", "embedded", "qkv", "attention", "projection", "ffn", "layernorm",
      "training", "inference"]) {
      const first = await page.$(`#${fig}-figure .mat[tabindex="0"]`);
      check(first !== null && (await page.$$(`#${fig}-figure .mat[tabindex="0"]`)).length === 1,
        `${name}: ${fig}'s figure has one tab stop`);
      if (!first) continue;
      await first.focus();
      await page.keyboard.press("ArrowRight");
      const said = await page.evaluate(() => {
        const r = document.activeElement.querySelector(".readout");
        return r && r.getAttribute("aria-live") === "polite" ? r.textContent : "";
      });
      check(said.length > 0, `${name}: ${fig}'s figure answers the arrow keys`);
    }
    // the lens walks its cells with the arrow keys too
    await page.focus("#lens-table");
    await page.keyboard.press("ArrowLeft");
    check((await page.textContent("#lens-readout")).includes(`(position ${T - 2})`), `${name}: the lens answers the arrow keys`);
    // past a matrix's edge, the next one of the figure
    await page.focus("#embedded-figure .mat[tabindex='0']");
    await page.keyboard.press("End");
    await page.keyboard.press("ArrowRight");
    check(await page.evaluate(() => document.activeElement.closest("#embedded-pos") !== null), `${name}: the arrow keys go on to the next matrix`);

    for (const sec of CHAPTERS.filter((c) => !["bpe", "training", "takehome"].includes(c)))
      await page.locator(`#${sec}`).screenshot({ path: `${ARTIFACTS}/${CHAPTERS.indexOf(sec) + 1}-${sec}-${name}.png` });

    // 14. Inference: tokens come, the cache grows, greedy is the CLI's greedy
    const chipsNow = () => page.$$eval("#infer-text .chip", (c) => c.length);
    const stepOnce = async () => {
      const before = await chipsNow();
      await page.click("#infer-step");
      await page.waitForFunction((n) => document.querySelectorAll("#infer-text .chip").length === n + 1, before);
    };
    const promptLen = await chipsNow();
    // the attention over the cache follows the steps: a slot empty before a step is filled after it
    const slot = async () => { await pointAt(page, "#infer-att-0", 0, promptLen); return page.textContent("#infer-att-0 .readout"); };
    const before = await slot();
    await stepOnce();
    const after = await slot();
    check(promptLen < 8 && before === `slot ${promptLen} of the cache is empty` && after.includes(`goes to position ${promptLen} `),
      `${name}: the cache's filled slots follow the steps ("${before}", then "${after}")`);
    for (let i = 0; i < 2; i++) await stepOnce();
    check((await chipsNow()) === promptLen + 3, `${name}: three steps emit three tokens`);
    const filled = Number(await page.getAttribute("#infer-key-0", "data-filled"));
    check(filled === Math.min(8, promptLen + 3), `${name}: the cache holds a row per position`);

    check((await page.$$eval("#infer-key-0 canvas, #infer-value-0 canvas", (c) => c.length)) === 2, `${name}: both caches, K and V, are drawn`);
    const [withCache, without] = (await page.textContent("#infer-work")).match(/(\d+) positions; .* taken (\d+)/).slice(1).map(Number);
    check(withCache < without, `${name}: the cache saves work (${withCache} < ${without})`);
    // the bars: the raw distribution and the one after temperature and top-k
    const bars = async () => JSON.parse(await page.getAttribute("#infer-probs svg", "data-values"));
    const b08 = await bars(), textBefore = await page.$$eval("#infer-text .chip", (c) => c.map((x) => x.dataset.id).join(" "));
    await page.fill("#infer-temperature", "1.6");
    await page.waitForFunction((old) => document.querySelector("#infer-probs svg")?.dataset.values !== old, JSON.stringify(b08));
    const b16 = await bars(), was = new Map(b08.map(([id, raw, after]) => [id, [raw, after]]));
    const both = b16.filter(([id]) => was.has(id));
    check(both.length >= 9 && both.every(([id, raw]) => raw === was.get(id)[0]) && both.some(([id, , after]) => after !== was.get(id)[1]),
      `${name}: the temperature changes the bars after sampling, not the raw ones`);
    check((await page.$$eval("#infer-text .chip", (c) => c.map((x) => x.dataset.id).join(" "))) === textBefore,
      `${name}: changing the temperature keeps the text written so far`);
    await page.fill("#infer-topk", "3");
    await page.dispatchEvent("#infer-topk", "change");
    await page.waitForFunction(() => JSON.parse(document.querySelector("#infer-probs svg").dataset.values).filter(([, , a]) => a > 0).length <= 3);
    check((await bars()).filter(([, , a]) => a > 0).length === 3, `${name}: top-k 3 leaves three tokens to draw from`);
    await page.fill("#infer-topk", "0");
    await page.dispatchEvent("#infer-topk", "change");
    // at temperature 0 the drawn token is the most likely: the CLI's greedy text
    await page.fill("#infer-temperature", "0");
    await page.click("#infer-restart");
    await page.waitForFunction(() => document.querySelectorAll("#infer-text .chip:not(.prompt)").length === 0);
    for (let i = 0; i < 6; i++) {
      check((await page.getAttribute("#infer-sampled", "data-id")) === (await page.getAttribute("#infer-argmax", "data-id")),
        `${name}: at temperature 0 the drawn token is the most likely`);
      await stepOnce();
    }
    const greedyIds = await page.$$eval("#infer-text .chip:not(.prompt)", (c) => c.map((x) => x.dataset.id).join(" "));
    const generatedText = execFileSync(glassgpt, ["bpe", "decode", "-t", "models/tokenizer.bpe"], { input: greedyIds }).toString();
    const cliGreedy = execFileSync(glassgpt, ["generate", "-m", "models/tiny.ckpt", "--prompt", "ROMEO:", "-n", "6",
      "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
    check("ROMEO:" + generatedText + "\n" === cliGreedy, `${name}: greedy inference in the page writes the CLI's text`);
    // the context slides: the tokens that fell out of it look it
    // (when the window is full it keeps its newest half, as the engine's generator does)
    const total = await chipsNow(), dropped = await page.$$eval("#infer-text .chip.dropped", (c) => c.length);
    const inWindow = Number((await page.textContent("#infer-work")).match(/Context: (\d+) of 8/)[1]);
    check(total > 8 && dropped > 0 && dropped === total - inWindow, `${name}: ${dropped} of ${total} tokens marked as out of the context (${inWindow} in it)`);
    await page.locator("#inference").screenshot({ path: `${ARTIFACTS}/14-inference-${name}.png` });

    if (name === "desktop") {
      // 13. Training: the page's first steps are the command line's, to the bit
      const cli = spawnSync(glassgpt, ["train", "--data", "data/tinyshakespeare.txt", "-t", "models/tokenizer.bpe",
        "--preset", "tiny", "--stop-after", "30", "-o", `${ARTIFACTS}/cli-30.ckpt`]).stderr.toString().match(/step 30\/2000 \| loss ([0-9.]+) \| val ([0-9.]+)/);
      for (let i = 0; i < 30; i++) await page.click("#train-step");
      await page.waitForFunction(() => document.querySelector("#train-step-count").textContent === "30");
      check((await page.textContent("#train-loss")) === cli[1], `the page's loss at step 30 is the CLI's (${cli[1]})`);
      const val0 = Number(await page.textContent("#train-val"));
      check(Math.abs(val0 - Math.log(768)) < 0.1, `validation starts near ln 768 (${val0})`);
      await page.click("#train-start");
      await page.waitForFunction(() => Number(document.querySelector("#train-step-count").textContent) >= 300, null, { timeout: 60000 });
      await redrawn(page, () => page.click("#train-start"));
      const val300 = Number(await page.textContent("#train-val"));
      check(val300 < val0 - 0.4, `training lowers the validation loss: ${val0} -> ${val300}`);
      // the loss chart: distinct y ticks, a y title beside the axis, several steps on x
      const yt = await page.$$eval("#train-chart .ytick", (t) => t.map((x) => x.textContent));
      check(yt.length >= 3 && new Set(yt).size === yt.length, `the loss chart's y ticks are distinct (${yt.join(" ")})`);
      const xt = await page.$$eval("#train-chart .xtick", (t) => t.map((x) => x.textContent));
      check(xt.length >= 3, `the loss chart's x axis has ${xt.length} labels (${xt.join(" ")})`);
      const [title, axis] = await page.$$eval("#train-chart .title", (t) => t.map((x) => x.getBoundingClientRect()));
      const plotLeft = await page.$eval("#train-chart .grid-line", (l) => l.getBoundingClientRect().left);
      check(axis.right < plotLeft && axis.height > axis.width, "the y title stands beside the y axis");
      check(title.top > (await page.$eval("#train-chart .xtick", (t) => t.getBoundingClientRect().bottom)), "the x title sits under the x ticks");
      // training pauses when the tab is hidden
      await page.click("#train-start");
      await page.waitForFunction(() => document.querySelector("#train-start").textContent === "Pause");
      await page.evaluate(() => {
        Object.defineProperty(document, "hidden", { value: true, configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      const paused = await page.waitForFunction(() => document.querySelector("#train-start").textContent === "Start",
        null, { timeout: 10000 }).then(() => true, () => false);
      check(paused, "hiding the tab pauses training");
      await page.evaluate(() => { delete document.hidden; });
      check((await page.$$eval("#train-heat canvas", (c) => c.length)) === 2 + 4 * 2, "weight figures for tokEmb, posEmb and 4 per layer");
      check((await page.$$eval("#train-map canvas", (c) => c.length)) === 1, "the embedding map of the model in training");
      const opened = await page.waitForFunction(() => /tiny, learned positions \(trained here\)/.test(
        document.querySelector("#status").textContent), null, { timeout: 10000 }).then(() => true, () => false);
      check(opened, "the trained model becomes the current one");
      await page.locator("#training").screenshot({ path: `${ARTIFACTS}/13-training-${name}.png` });

      // 15. Take it home: the download runs in glassgpt generate; a CLI
      // checkpoint uploaded gives the CLI's greedy text
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-model")]);
      await download.saveAs(`${ARTIFACTS}/downloaded.ckpt`);
      let ran = true;
      try {
        execFileSync(glassgpt, ["generate", "-m", `${ARTIFACTS}/downloaded.ckpt`, "--prompt", "ROMEO:", "-n", "20",
          "--temperature", "0"], { stdio: "ignore" });
      } catch { ran = false; }
      check(ran, "glassgpt generate runs the model downloaded from the page");
      await redrawn(page, () => page.setInputFiles("#upload-model", "models/small.ckpt"));
      await page.waitForSelector("#takehome-sample", { timeout: 30000 });
      const sample = await page.getAttribute("#takehome-sample", "data-raw");
      const cliText = execFileSync(glassgpt, ["generate", "-m", "models/small.ckpt", "--prompt", "ROMEO:", "-n", "192",
        "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
      check("ROMEO:" + sample + "\n" === cliText, "an uploaded CLI checkpoint gives the CLI's greedy text");
      check(/small\.ckpt, d 64/.test(await page.textContent("#status")), "the page opens the uploaded model");
      check((await page.$$eval("#overview-figure .head", (r) => r.length)) === 2 * 8, "the overview follows the uploaded model");
      const smallIds = nativeEncode("To be, or not to be").split(" ");
      check(same(await values(page, "#qkv-out"), native("qkv", 0, "models/small.ckpt", smallIds)), "qkv follows the uploaded model");
      check((await geometry(page)).length === 0, `small's wide matrices fit: ${(await geometry(page)).slice(0, 4).join("; ")}`);
      await page.locator("#takehome").screenshot({ path: `${ARTIFACTS}/15-takehome-${name}.png` });

      // a model switch is a few round trips to the worker (the checkpoint,
      // the snapshot, the generator)
      const trips0 = await page.evaluate(() => window.glassgpt.trips.count);
      await redrawn(page, () => page.selectOption("#model-picker", "tiny.ckpt"));
      const trips = (await page.evaluate(() => window.glassgpt.trips.count)) - trips0;
      check(trips <= 3, `a model switch takes ${trips} worker round trips`);
      check(same(await values(page, "#qkv-out"), native("qkv", 0)), "switching back to tiny.ckpt shows its numbers again");
      // a generator left on autoplay with the old model stops with it
      await page.click("#infer-auto");
      await page.waitForFunction(() => document.querySelectorAll("#infer-text .chip:not(.prompt)").length >= 2);
      await redrawn(page, () => page.selectOption("#model-picker", "small.ckpt"));
      await page.waitForTimeout(500);
      check((await page.textContent("#infer-auto")) === "Autoplay", "the new model's inference starts paused");
      await redrawn(page, () => page.selectOption("#model-picker", "tiny.ckpt"));

      // layer 2, the shared colour scale and a new sentence, kept in the URL
      await redrawn(page, () => page.selectOption("#layer-picker", { value: "1" }));
      check(same(await values(page, "#qkv-out"), native("qkv", 1)), "the layer picker shows layer 2's qkv");
      check(same(await values(page, "#ffn-h"), native("ffh", 1)), "... and layer 2's feed-forward");
      const caption = () => page.textContent("#position-cells .mat-caption");
      const own = await caption();
      await page.check("#shared-scale");
      const shared = await caption();
      check(/its own scale/.test(own) && /shared scale/.test(shared) && own !== shared, `one colour scale for all figures: "${shared}"`);
      await redrawn(page, async () => {
        await page.fill("#tokenize-input", "Wherefore art thou, Romeo? \u732b\ud83d\udc08");
      });
      const typed = "Wherefore art thou, Romeo? \u732b\ud83d\udc08";
      const typedIds = nativeEncode(typed).split(" ");
      check((await chipIds()) === typedIds.join(" "), "a new sentence's ids equal glassgpt bpe encode");
      check(same(await values(page, "#embedded-sum"), native("encoded", -1, "models/tiny.ckpt", typedIds.slice(0, 8))),
        "every chapter follows the new sentence (the input x)");
      check((await page.$$eval("#tokenize-chips .chip.dropped", (c) => c.length)) === typedIds.length - 8,
        "the tokens past the context are marked");
      await page.locator("#attention").scrollIntoViewIfNeeded();
      await page.waitForFunction(() => new URLSearchParams(location.search).get("chapter") === "attention");
      const url = page.url();
      const q = new URL(url).searchParams;
      check(q.get("text") === typed && q.get("layer") === "1" && q.get("scale") === "shared" && q.get("model") === "tiny.ckpt" &&
        q.get("temperature") === "0", `the URL holds the page's state: ${url}`);
      const shared2 = await browser.newPage({ viewport });
      await open(shared2, url);
      check((await shared2.inputValue("#tokenize-input")) === typed && (await shared2.inputValue("#layer-picker")) === "1" &&
        (await shared2.isChecked("#shared-scale")) && (await shared2.inputValue("#infer-temperature")) === "0",
      "a link opens the same sentence, layer, colour scale and temperature");
      check(same(await values(shared2, "#qkv-out"), native("qkv", 1, "models/tiny.ckpt", typedIds.slice(0, 8))), "... and the same numbers");
      const inView = await shared2.$eval("#attention", (s) => { const r = s.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; });
      check(inView, "... at the same chapter");
      await shared2.close();
    }

    // keyboard: from the top, the training Start button within 25 Tabs
    await open(page, base);
    let tabs = 0;
    while (tabs < 60 && !(await page.evaluate(() => document.activeElement?.id === "train-start"))) {
      await page.keyboard.press("Tab");
      tabs++;
    }
    check(tabs <= 25, `${name}: the training Start button is ${tabs} Tabs from the top`);
    // the map: one tab stop, the arrow keys along it, Enter follows
    await page.focus("#toc .map a[tabindex='0']");
    await page.keyboard.press("ArrowDown");
    check(await page.evaluate(() => document.activeElement?.getAttribute("href") === "#bpe"), `${name}: the arrow keys move along the map`);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => location.hash === "#bpe");
    await page.focus("#bpe-slider");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    check((await page.textContent("#bpe-counter")) === "Vocab: 257 tokens \u00b7 1 merge", `${name}: the slider answers the keys`);
    await page.screenshot({ path: `${ARTIFACTS}/0-map-${name}.png` });  // the map, sticky in the window

    // the map keeps the current chapter in view
    await page.locator("#inference").scrollIntoViewIfNeeded();
    await page.waitForFunction(() => document.querySelector("#toc a.current")?.dataset.chapter === "inference");
    const seen = await page.evaluate(() => {
      const a = document.querySelector("#toc a.current").getBoundingClientRect(), m = document.querySelector("#toc .map").getBoundingClientRect();
      return a.left >= m.left - 1 && a.right <= m.right + 1 && a.top >= 0 && a.bottom <= innerHeight;
    });
    check(seen, `${name}: the map shows the chapter being read`);
    // beside the chapters, the whole map shows at once: no chapter's name cut off
    if (viewport.width >= 1100) {
      const hidden = await page.$$eval("#toc .map a", (links) => links.filter((a) => {
        const r = a.getBoundingClientRect(), m = a.closest(".map").getBoundingClientRect();
        return r.left < m.left - 0.5 || r.right > m.right + 0.5 || r.top < 0 || r.bottom > innerHeight;
      }).map((a) => a.textContent));
      check(hidden.length === 0, `${name}: chapters cut off the map: ${hidden.join(", ")}`);
    }

    check(errors.length === 0, `${name}: console errors: ${errors.join(" | ")}`);
    await page.close();
  }

  // A resize from 1280 to 400 px: every figure follows the window.
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await open(page);
  await page.waitForTimeout(500);
  await page.setViewportSize({ width: 400, height: 800 });
  await page.waitForTimeout(800);
  const bad = await geometry(page);
  check(bad.length === 0, `after a resize to 400 px: ${bad.slice(0, 6).join("; ")} (${bad.length})`);
  const wide = await page.$$eval("canvas", (c) => c.filter((x) => !x.closest(".mat.scrolls") && x.getBoundingClientRect().width > 400).length);
  check(wide === 0, `after a resize, ${wide} canvases are still wider than the window`);
  // and at the widths between and beyond (the map moves beside the chapters at 1100)
  for (const width of [360, 800, 1099, 1100, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(600);
    const wrong = await geometry(page);
    check(wrong.length === 0, `at ${width} px: ${wrong.slice(0, 4).join("; ")} (${wrong.length})`);
    const tiny = await smallTexts(page, 11);
    check(tiny.length === 0, `at ${width} px, texts under 11 px: ${tiny.slice(0, 4).join("; ")}`);
  }
  await page.close();

  // The fonts that setup installs, so that CJK and emoji render
  const fonts = execFileSync("fc-list", [":", "family"]).toString();
  check(/Noto Sans CJK/.test(fonts) && /Noto Color Emoji/.test(fonts), "the Noto CJK and colour emoji fonts are installed");
} finally {
  await browser.close();
  server.kill("SIGINT");
}

// With no models on the server the page still works: it trains one.
{
  const empty = mkdtempSync(join(tmpdir(), "glassgpt-nomodels-"));
  const { server: bare, base: bareBase } = await serve(glassgpt, ["--models", join(empty, "models")]);
  const browser2 = await launch();
  try {
    const page = await browser2.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await open(page, bareBase);
    check(/no trained model yet/.test(await page.textContent("#status")), "without models, the page says how to get one");
    check((await page.$$eval(".empty-model", (e) => e.length)) >= 10, "the model chapters wait for a model");
    await redrawn(page, () => page.click("#train-step"));
    check(/tiny, learned positions \(trained here\)/.test(await page.textContent("#status")), "a model trained in the page opens everywhere");
    check((await page.$$eval("#qkv-out .mat", (m) => m.length)) === 1, "its QKV chapter is drawn");
    check(errors.length === 0, `no errors without models: ${errors.join(" | ")}`);
  } finally {
    await browser2.close();
    bare.kill("SIGINT");
    rmSync(empty, { recursive: true, force: true });
  }
}
writeFileSync(`${ARTIFACTS}/README.txt`, "Screenshots of the walkthrough, written by tests/browser/walkthrough.mjs.\n");
end();
