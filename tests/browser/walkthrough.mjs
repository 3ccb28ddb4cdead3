// Browser tests of the walkthrough: a real `glassgpt serve` on a free port,
// Debian's chromium driven by playwright-core. Each chapter must render with
// no console errors, show the engine's numbers (checked against the native
// command line), and answer the keyboard. Screenshots of every chapter, at
// desktop and phone widths, go to test-artifacts/.
//
// usage: node tests/browser/walkthrough.mjs GLASSGPT
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const glassgpt = process.argv[2] || "build/glassgpt";
const ARTIFACTS = "test-artifacts";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu-sandbox", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader",
  "--use-webgpu-adapter=swiftshader"];

let passed = 0, failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else { failed++; console.error("FAIL:", what); }
}

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const port = await freePort();
const server = spawn(glassgpt, ["serve", "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
await new Promise((resolve, reject) => {
  server.stdout.on("data", (d) => String(d).includes("serving") && resolve());
  server.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
});
const base = `http://127.0.0.1:${port}/`;
const nativeEncode = (text) =>
  execFileSync(glassgpt, ["bpe", "encode", "-t", "models/tokenizer.bpe"], { input: text }).toString().trim();

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: FLAGS });
mkdirSync(ARTIFACTS, { recursive: true });
try {
  for (const [name, viewport] of [["desktop", { width: 1280, height: 900 }], ["phone", { width: 400, height: 800 }]]) {
    const page = await browser.newPage({ viewport });
    const errors = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    const t0 = Date.now();
    await page.goto(base);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    console.log(`${name}: ready in ${Date.now() - t0} ms`);

    // 1. the overview: the loaded model's sizes and a real prediction
    const status = await page.textContent("#status");
    check(/tiny\.ckpt, d 8, 2 layers, 2 heads, context 8, vocabulary 768/.test(status), `${name}: status "${status}"`);
    const boxes = await page.$$eval("#overview-figure svg.diagram rect.box", (r) => r.length);
    check(boxes >= 2 * 5 + 4, `${name}: the diagram has ${boxes} blocks`);
    const heads = await page.$$eval("#overview-figure rect.head", (r) => r.length);
    check(heads === 2 * 2, `${name}: each of 2 layers draws its 2 heads (${heads})`);
    const next = Number(await page.getAttribute("#overview-next", "data-id"));
    // the native engine's greedy token after the same 8 tokens
    const ids = nativeEncode("The cat sat on a mat").split(" ").map(Number).slice(-8);
    const windowText = execFileSync(glassgpt, ["bpe", "decode", "-t", "models/tokenizer.bpe"], { input: ids.join(" ") });
    check(nativeEncode(windowText) === ids.join(" "), `${name}: the window re-encodes to itself`);
    const generated = execFileSync(glassgpt, ["generate", "-m", "models/tiny.ckpt", "--prompt", String(windowText),
      "-n", "1", "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
    const nextNative = nativeEncode(generated.slice(String(windowText).length).replace(/\n$/, ""));
    check(String(next) === nextNative.split(" ")[0], `${name}: the page predicts token ${next}, the CLI ${nextNative}`);
    await page.locator("#overview").screenshot({ path: `${ARTIFACTS}/1-overview-${name}.png` });

    // 2. BPE: trained in the browser, all merges shown, 768 tokens in the grid
    await page.waitForSelector("#bpe-figure[data-trained=true]");
    check((await page.textContent("#bpe-counter")) === "Vocab: 768 tokens \u00b7 512 merges", `${name}: the counter at the end`);
    const filled = await page.$$eval("#bpe-grid .cell:not(.empty)", (c) => c.length);
    check(filled === 768, `${name}: ${filled} tokens in the grid after all merges`);
    const ms = Number((await page.textContent("#bpe-timing")).match(/in (\d+) ms/)[1]);
    console.log(`${name}: 512 merges in the browser in ${ms} ms`);
    const cell418 = await page.textContent('#bpe-grid .cell[data-id="418"]');
    check(cell418 === "To\u2423", `${name}: token 418 is "To␣" (${cell418})`);
    await page.click('button[aria-label="Back to the bytes"]');
    check((await page.textContent("#bpe-counter")) === "Vocab: 256 tokens \u00b7 0 merges", `${name}: back to the bytes`);
    check((await page.textContent('#bpe-grid .cell[data-id="0"]')) === "NUL" &&
          (await page.textContent('#bpe-grid .cell[data-id="32"]')) === "\u2423" &&
          (await page.textContent('#bpe-grid .cell[data-id="128"]')) === "\\x80", `${name}: the bytes are labelled`);
    await page.click('button[aria-label="One merge forward"]');
    check((await page.textContent('#bpe-grid .cell[data-id="256"]')) === "e\u2423", `${name}: the first merge is "e␣"`);
    const bars = await page.$$eval("#bpe-chart rect.bar", (r) => r.length);
    check(bars === 10, `${name}: ten candidates (${bars})`);
    await page.hover('#bpe-grid .cell[data-id="256"]');
    check((await page.textContent("#bpe-tip")).includes("Merge 1 joined"), `${name}: hovering explains a token`);
    await page.fill("#bpe-slider", "300");
    check((await page.textContent("#bpe-counter")) === "Vocab: 556 tokens \u00b7 300 merges", `${name}: scrubbing`);
    await page.click('button[aria-label="All merges"]');
    await page.locator("#bpe").screenshot({ path: `${ARTIFACTS}/2-bpe-${name}.png` });

    // 3. Tokenize: the same ids as the command line, on every keystroke
    const chipIds = async () => (await page.$$eval("#tokenize-chips .chip", (c) => c.map((x) => x.dataset.id))).join(" ");
    check((await chipIds()) === nativeEncode("To be, or not to be"), `${name}: the default text's ids`);
    const typed = "Wherefore art thou, Romeo? \u732b\ud83d\udc08";
    await page.fill("#tokenize-input", "");
    await page.type("#tokenize-input", typed);
    await page.waitForFunction((n) => document.querySelectorAll("#tokenize-chips .chip").length > 0 &&
      document.querySelector("#tokenize-stats").textContent.includes(`${n} bytes`), new TextEncoder().encode(typed).length);
    check((await chipIds()) === nativeEncode(typed), `${name}: typed text's ids equal glassgpt bpe encode`);
    const trace = await page.$$eval("#tokenize-trace li", (l) => l.map((x) => [...x.querySelectorAll(".chip")].map((c) => c.dataset.id).join(",")));
    check(trace.length === 3 && trace[0] === "84,111,32" && trace[2] === "418", `${name}: "To " replays T o ␣ -> To ␣ -> To␣ (${trace.join(" | ")})`);
    await page.locator("#tokenize").screenshot({ path: `${ARTIFACTS}/3-tokenize-${name}.png` });
    await page.screenshot({ path: `${ARTIFACTS}/page-${name}.png`, fullPage: true });

    // 4-6. The model's tensors and intermediates, against the native engine's
    const inputIds = nativeEncode("To be, or not to be").split(" ");
    const native = (act, layer) => execFileSync("build/dump_acts", ["models/tiny.ckpt", "--act", act, String(layer), ...inputIds])
      .toString().trim().split(/\s+/).map((v) => Math.fround(Number(v)));
    const shown = (sel) => page.$$eval(sel, (cells) => cells.map((c) => Number(c.dataset.v)));
    const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
    const ckpt = readFileSync("models/tiny.ckpt");
    const wte = new Float32Array(ckpt.buffer.slice(ckpt.byteOffset + 48 + 12 * 512, ckpt.byteOffset + 48 + 12 * 512 + 4 * 768 * 8));
    const rowsShown = await shown("#embedding-rows .cell");
    check(same(rowsShown, inputIds.flatMap((id) => Array.from(wte.subarray(id * 8, id * 8 + 8)))),
      `${name}: the embedding rows shown are the checkpoint's`);
    check((await page.$$eval("#embedding-table canvas", (c) => c.length)) === 1, `${name}: the whole table is drawn`);
    await page.hover("#embedding-rows .cell[data-r='0'][data-c='3']");
    check((await page.textContent("#embedding-readout")).startsWith(`tokEmb[${inputIds[0]}][3] = `), `${name}: hovering an embedding value explains it`);
    check(same(await shown("#qkv-out .cell"), native("qkv", 0)), `${name}: qkv of layer 1 equals the native engine's`);
    await page.selectOption("#qkv-layer", "1");
    await page.waitForFunction(() => document.querySelector("#qkv-layer").value === "1");
    await page.waitForTimeout(300);
    check(same(await shown("#qkv-out .cell"), native("qkv", 1)), `${name}: qkv of layer 2 equals the native engine's`);
    const T = inputIds.length;
    const scores = await shown("#attention-heads [data-head] .cell");  // per head: scores, then weights
    const nScores = native("scores", 0), nAtt = native("att", 0);
    const perHead = [0, 1].map((h) => scores.slice(2 * h * T * T, (2 * h + 2) * T * T));
    check(perHead.every((v, h) => same(v.slice(0, T * T), nScores.slice(h * T * T, (h + 1) * T * T)) &&
      same(v.slice(T * T), nAtt.slice(h * T * T, (h + 1) * T * T))), `${name}: every head's scores and weights equal the native engine's`);
    check((await page.$$eval("#attention-heads .cell.masked", (c) => c.length)) === 2 * (T * (T - 1)) / 2,
      `${name}: the future is masked in every head`);
    await page.hover("#attention-heads [data-head='0'] .cell[data-r='2'][data-c='1']");
    check(/q\[.*\] \u00b7 k\[.*\] \/ \u221a4 = /.test(await page.textContent("#attention-readout")), `${name}: hovering a score explains it`);
    // 5. position embedding: the checkpoint's table, and the fixed one
    const wpe = new Float32Array(ckpt.buffer.slice(ckpt.byteOffset + 48 + 12 * 512 + 4 * 768 * 8,
      ckpt.byteOffset + 48 + 12 * 512 + 4 * 768 * 8 + 4 * 64));
    check(same(await shown("#position-cells .cell"), Array.from(wpe)), `${name}: the learned positions are the checkpoint's`);
    await page.selectOption("#position-kind", "sinusoidal");
    check((await page.textContent("#position-example")) === "0.8415", `${name}: position 1, dimension 0 = sin(1)`);
    const sinus = await shown("#position-cells .cell");
    check(sinus.every((v, i) => Math.abs(v - ((i % 8) % 2 ? Math.cos : Math.sin)(Math.floor(i / 8) /
      10000 ** (((i % 8) - ((i % 8) % 2)) / 8))) < 1e-6), `${name}: the fixed table is sin and cos`);
    // 6. embedded input: token + position, from the engine
    check(same(await shown("#embedded-sum .cell"), native("encoded", -1)), `${name}: the input x equals the native engine's`);
    await page.hover("#embedded-sum .cell[data-r='1'][data-c='2']");
    check(/^x\[1\]\[2\] = tokEmb\[\d+\]\[2\] \+ posEmb\[1\]\[2\] = /.test(await page.textContent("#embedded-readout")),
      `${name}: hovering the sum shows its two terms`);
    // 9. output projection and the residual add
    check(same(await shown("#projection-proj .cell"), native("attproj", 0)), `${name}: the projection equals the native engine's`);
    check(same(await shown("#projection-res .cell"), native("res_att", 0)), `${name}: the residual after attention`);
    // 10. feed-forward
    check(same(await shown("#ffn-h .cell"), native("ffh", 0)) && same(await shown("#ffn-g .cell"), native("ffh_gelu", 0)),
      `${name}: the hidden layer before and after GELU`);
    check((await page.$$eval("#ffn-curve circle", (c) => c.length)) === native("ffh", 0).filter((v) => v > -4 && v < 4).length,
      `${name}: every hidden value sits on the GELU curve`);
    // 11. LayerNorm: a real row before and after
    check(same(await shown("#layernorm-after .cell"), native("ln1", 0).slice(0, 8)), `${name}: the normalised row`);
    check(/^after: mean -?\d+\.\d{4}, variance \d+\.\d{4}$/.test(await page.$$eval("#layernorm-figure h3", (h) => h[1].textContent)),
      `${name}: the row's mean and variance after`);
    check(/^before: mean -?\d+\.\d{4}, variance \d+\.\d{4}$/.test(await page.$$eval("#layernorm-figure h3", (h) => h[0].textContent)),
      `${name}: the row's mean and variance before`);
    for (const [i, sec] of ["position", "embedded"].entries())
      await page.locator(`#${sec}`).screenshot({ path: `${ARTIFACTS}/${5 + i}-${sec}-${name}.png` });
    for (const [i, sec] of ["projection", "ffn", "layernorm"].entries())
      await page.locator(`#${sec}`).screenshot({ path: `${ARTIFACTS}/${9 + i}-${sec}-${name}.png` });
    await page.click("#embedded-play");
    const ended = await page.waitForFunction(() => document.querySelector("#embedded-readout").textContent.startsWith("x[6][7]") &&
      !document.querySelector(".flight") && [...document.querySelectorAll("#embedded-sum .cell")].every((c) => c.style.opacity !== "0.15"),
      null, { timeout: 20000 }).then(() => true, () => false);
    check(ended, `${name}: the animation of the sum runs to its end`);
    await page.locator("#embedding").screenshot({ path: `${ARTIFACTS}/4-embedding-${name}.png` });
    await page.locator("#qkv").screenshot({ path: `${ARTIFACTS}/7-qkv-${name}.png` });
    await page.locator("#attention").screenshot({ path: `${ARTIFACTS}/8-attention-${name}.png` });

    // 8. Inference: tokens come, the cache grows, greedy is the CLI's greedy
    const chipsNow = () => page.$$eval("#infer-text .chip", (c) => c.length);
    const promptLen = await chipsNow();
    for (let i = 0; i < 3; i++) {
      const before = await chipsNow();
      await page.click("#infer-step");
      await page.waitForFunction((n) => document.querySelectorAll("#infer-text .chip").length === n + 1, before);
    }
    check((await chipsNow()) === promptLen + 3, `${name}: three steps emit three tokens`);
    const cached = Number(await page.getAttribute("#infer-cache-0", "data-filled"));
    check(cached === Math.min(8, promptLen + 3), `${name}: the key cache holds a row per position (${cached})`);
    check((await page.$$eval("#infer-cache-0 canvas", (c) => c.length)) === 1, `${name}: the key cache is drawn`);
    const [withCache, without] = (await page.textContent("#infer-work")).match(/(\d+) positions; .* taken (\d+)/).slice(1).map(Number);
    check(withCache < without, `${name}: the cache saves work (${withCache} < ${without})`);
    check((await page.$$eval("#infer-probs rect.bar", (r) => r.length)) === 10, `${name}: ten next-token bars`);
    await page.fill("#infer-temperature", "0");
    await page.dispatchEvent("#infer-temperature", "change");
    await page.waitForFunction(() => document.querySelectorAll("#infer-text .chip:not(.prompt)").length === 0);
    for (let i = 0; i < 6; i++) {
      check((await page.getAttribute("#infer-sampled", "data-id")) === (await page.getAttribute("#infer-argmax", "data-id")),
        `${name}: at temperature 0 the drawn token is the most likely`);
      const before = await chipsNow();
      await page.click("#infer-step");
      await page.waitForFunction((n) => document.querySelectorAll("#infer-text .chip").length === n + 1, before);
    }
    const greedyIds = await page.$$eval("#infer-text .chip:not(.prompt)", (c) => c.map((x) => x.dataset.id).join(" "));
    const generatedText = execFileSync(glassgpt, ["bpe", "decode", "-t", "models/tokenizer.bpe"], { input: greedyIds }).toString();
    const cliGreedy = execFileSync(glassgpt, ["generate", "-m", "models/tiny.ckpt", "--prompt", "ROMEO:", "-n", "6",
      "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
    check("ROMEO:" + generatedText + "\n" === cliGreedy, `${name}: greedy inference in the page writes the CLI's text`);
    await page.locator("#inference").screenshot({ path: `${ARTIFACTS}/13-inference-${name}.png` });

    if (name === "desktop") {
      // 7. Training: the page's first steps are the command line's, to the bit
      const cli = spawnSync(glassgpt, ["train", "--data", "data/tinyshakespeare.txt", "-t", "models/tokenizer.bpe",
        "--preset", "tiny", "--stop-after", "30", "-o", `${ARTIFACTS}/cli-30.ckpt`]).stderr.toString().match(/step 30\/2000 \| loss ([0-9.]+) \| val ([0-9.]+)/);
      for (let i = 0; i < 30; i++) await page.click("#train-step");
      await page.waitForFunction(() => document.querySelector("#train-step-count").textContent === "30");
      check((await page.textContent("#train-loss")) === cli[1], `the page's loss at step 30 is the CLI's (${cli[1]})`);
      const val0 = Number(await page.textContent("#train-val"));
      check(Math.abs(val0 - Math.log(768)) < 0.1, `validation starts near ln 768 (${val0})`);
      await page.click("#train-start");
      await page.waitForFunction(() => Number(document.querySelector("#train-step-count").textContent) >= 300, null, { timeout: 60000 });
      await page.click("#train-start");
      const val300 = Number(await page.textContent("#train-val"));
      check(val300 < val0 - 0.4, `training lowers the validation loss: ${val0} -> ${val300}`);
      // training pauses when the tab is hidden
      await page.click("#train-start");
      await page.waitForFunction(() => document.querySelector("#train-start").textContent === "Pause");
      await page.evaluate(() => {
        Object.defineProperty(document, "hidden", { value: true, configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      });
      check((await page.textContent("#train-start")) === "Start", "hiding the tab pauses training");
      await page.evaluate(() => { delete document.hidden; });
      const heat = await page.$$eval("#train-heat canvas", (c) => c.length);
      check(heat === 2 + 4 * 2, `weight heatmaps for tokEmb, posEmb and 4 per layer (${heat})`);
      check(/tiny, learned positions \(trained here\)/.test(await page.textContent("#status")), "the trained model becomes the current one");
      await page.locator("#training").screenshot({ path: `${ARTIFACTS}/12-training-${name}.png` });

      // 9. Take it home: the download runs in glassgpt generate; a CLI
      // checkpoint uploaded gives the CLI's greedy text
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-model")]);
      await download.saveAs(`${ARTIFACTS}/downloaded.ckpt`);
      let ran = true;
      try {
        execFileSync(glassgpt, ["generate", "-m", `${ARTIFACTS}/downloaded.ckpt`, "--prompt", "ROMEO:", "-n", "20",
          "--temperature", "0"], { stdio: "ignore" });
      } catch { ran = false; }
      check(ran, "glassgpt generate runs the model downloaded from the page");
      await page.setInputFiles("#upload-model", "models/small.ckpt");
      await page.waitForSelector("#takehome-sample", { timeout: 30000 });
      const sample = await page.getAttribute("#takehome-sample", "data-raw");
      const cliText = execFileSync(glassgpt, ["generate", "-m", "models/small.ckpt", "--prompt", "ROMEO:", "-n", "192",
        "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString();
      check("ROMEO:" + sample + "\n" === cliText, "an uploaded CLI checkpoint gives the CLI's greedy text");
      await page.waitForFunction(() => /small\.ckpt, d 64/.test(document.querySelector("#status").textContent));
      const heads8 = await page.$$eval("#overview-figure rect.head", (r) => r.length);
      check(heads8 === 2 * 8, `the overview follows the uploaded model (${heads8} heads drawn)`);
      await page.locator("#takehome").screenshot({ path: `${ARTIFACTS}/14-takehome-${name}.png` });

      // any model the server offers can be opened up; inference left on
      // autoplay with the old model stops with it (the model is freed, and
      // a step on its generator would be an error)
      await page.click("#infer-auto");
      await page.waitForFunction(() => document.querySelectorAll("#infer-text .chip:not(.prompt)").length >= 2);
      await page.selectOption("#model-picker", "/models/tiny.ckpt");
      await page.waitForFunction(() => /tiny\.ckpt, d 8/.test(document.querySelector("#status").textContent));
      await page.waitForTimeout(1000);
      check((await page.textContent("#infer-auto")) === "Autoplay", "the new model's inference starts paused");
      await page.waitForFunction(() => document.querySelectorAll("#attention-heads [data-head]").length === 4);
      check(same(await shown("#qkv-out .cell"), native("qkv", 0)), "switching back to tiny.ckpt shows its numbers again");
    }

    // keyboard: Tab reaches the navigator, Enter follows a link, and the
    // BPE controls answer Enter and the arrow keys
    await page.goto(base);
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    let reached = false;
    for (let i = 0; i < 12 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await page.evaluate(() => document.activeElement?.getAttribute("href") === "#bpe");
    }
    check(reached, `${name}: Tab reaches the navigator's link to BPE`);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => location.hash === "#bpe");
    await page.focus("#bpe-slider");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    check((await page.textContent("#bpe-counter")) === "Vocab: 257 tokens \u00b7 1 merges", `${name}: the slider answers the keys`);
    // every value of a matrix is reachable by the keyboard, and explains itself
    await page.focus("#attention-heads [data-head='0'] .cell[data-r='1'][data-c='0']");
    check(/^Head 1, score of/.test(await page.textContent("#attention-readout")), `${name}: focusing a score explains it`);
    await page.keyboard.press("Tab");
    check(/^Head 1, score of .* \(key 1\)/.test(await page.textContent("#attention-readout")), `${name}: Tab moves to the next score`);

    check(errors.length === 0, `${name}: console errors: ${errors.join(" | ")}`);
    await page.close();
  }
} finally {
  await browser.close();
  server.kill("SIGINT");
}
writeFileSync(`${ARTIFACTS}/README.txt`, "Screenshots of the walkthrough, written by tests/browser/walkthrough.mjs.\n");
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
