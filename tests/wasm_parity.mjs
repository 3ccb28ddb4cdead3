// Native against WebAssembly: the tokenizer trained by glassgpt.wasm (in
// Node) must equal the native one merge for merge, count for count and
// trace row for trace row, and encode the same texts to the same ids. For
// the same checkpoint and tokens, the logits must agree (within 1e-5
// relative; in practice to the bit), greedy generation must give the same
// text, a checkpoint written by the wasm build must run natively, and the
// same training run must end with the same weights to the bit.
//
// usage: node tests/wasm_parity.mjs GLASSGPT CORPUS [MODEL...]
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../web/engine-core.js";

const [glassgpt, corpusPath, ...modelPaths] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) passed++; else { failed++; console.error("FAIL:", what); } };
const equal = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

const engine = await Engine.load(readFileSync("build/web/glassgpt.wasm"));
const corpus = readFileSync(corpusPath);
const dir = mkdtempSync(join(tmpdir(), "glassgpt-parity-"));
try {
  const tokPath = join(dir, "t.bpe"), tracePath = join(dir, "t.tsv");
  execFileSync(glassgpt, ["bpe", "train", corpusPath, "-o", tokPath, "--trace", tracePath]);

  const t0 = performance.now();
  const h = engine.trainBpe(corpus, 768);
  const ms = performance.now() - t0;
  const wasm = engine.tokenizerTables(h);
  console.log(`wasm: 512 merges in ${ms.toFixed(0)} ms`);

  // merges and counts, against the native file
  const lines = readFileSync(tokPath, "utf8").split("\n").slice(2).filter((l) => l && !l.startsWith("#"));
  const native = lines.map((l) => l.split("#")[0].trim().split(/\s+/).map(Number));
  check(native.length === 512 && wasm.merges.length === 1024, "512 merges on both sides");
  check(native.every(([l, r, c], i) => wasm.merges[2 * i] === l && wasm.merges[2 * i + 1] === r && wasm.counts[i] === c),
        "every merge and count equals the native trainer's");

  // the trace, against the native TSV
  const rows = readFileSync(tracePath, "utf8").trim().split("\n").slice(1).map((l) => l.split("\t"));
  let same = rows.length === 5120;
  for (const [step, id, rank, left, right, count] of rows) {
    const at = 32 * (step - 1), k = rank - 1;
    same &&= wasm.trace[at] === +id && wasm.trace[at + 2 + 3 * k] === +left &&
      wasm.trace[at + 3 + 3 * k] === +right && wasm.trace[at + 4 + 3 * k] === +count;
  }
  check(same, "the trace equals the native trace, row for row");

  // encodings
  const samples = [
    corpus.subarray(0, 200000),
    new TextEncoder().encode("To be, or not to be"),
    new TextEncoder().encode("\u732b\u304c\u5ea7\u3063\u305f \ud83d\udc08 caf\u00e9"),
    Uint8Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24),
    new Uint8Array(20000).fill(97),
  ];
  for (const [i, bytes] of samples.entries()) {
    const file = join(dir, `s${i}`);
    writeFileSync(file, bytes);
    const nat = execFileSync(glassgpt, ["bpe", "encode", "-t", tokPath, file], { maxBuffer: 1 << 26 })
      .toString().trim().split(" ").filter(Boolean).map(Number);
    check(equal(Array.from(engine.encode(h, bytes)), nat), `sample ${i}: wasm and native encodings differ`);
  }
  engine.freeTokenizer(h);

  // models: logits, greedy text, and a checkpoint the wasm build writes
  const line = "ROMEO:\nBut, soft! what light through yonder window breaks?";
  for (const path of modelPaths) {
    const m = engine.loadModel(readFileSync(path));
    const { ctx, vocab } = engine.modelConfig(m);
    const ids = Array.from(engine.encode(engine.modelTokenizer(m), new TextEncoder().encode(line))).slice(0, ctx);
    const wasmLogits = engine.logits(m, ids);
    const native = execFileSync("build/dump_acts", [path, ...ids.map(String)], { maxBuffer: 1 << 28 })
      .toString().trim().split(/\s+/).map(Number);
    let close = native.length === wasmLogits.length, bitwise = 0;
    for (let i = 0; close && i < native.length; i++) {
      close = Math.abs(wasmLogits[i] - native[i]) <= 1e-6 + 1e-5 * Math.abs(native[i]);
      if (Math.fround(native[i]) === wasmLogits[i]) bitwise++;
    }
    check(close, `${path}: wasm and native logits differ`);
    console.log(`${path}: ${bitwise} of ${native.length} logits equal to the bit`);

    const prompt = Array.from(engine.encode(engine.modelTokenizer(m), new TextEncoder().encode("ROMEO:")));
    const decode = (t) => execFileSync(glassgpt, ["bpe", "decode", "-t", path], { input: Array.from(t).join(" ") }).toString();
    const wasmText = "ROMEO:" + decode(engine.generateGreedy(m, prompt, 3 * ctx));
    const nativeText = execFileSync(glassgpt, ["generate", "-m", path, "--prompt", "ROMEO:", "-n", String(3 * ctx),
      "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString().replace(/\n$/, "");
    check(wasmText === nativeText, `${path}: greedy text differs:\n${JSON.stringify(wasmText)}\n${JSON.stringify(nativeText)}`);

    const file = join(dir, "from-wasm.ckpt");
    writeFileSync(file, engine.serializeModel(m));
    const again = execFileSync(glassgpt, ["generate", "-m", file, "--prompt", "ROMEO:", "-n", String(3 * ctx),
      "--temperature", "0"], { stdio: ["ignore", "pipe", "ignore"] }).toString().replace(/\n$/, "");
    check(again === nativeText, `${path}: a checkpoint written by the wasm build generates differently`);
    engine.freeModel(m);
  }

  // Training: the same run, native and in wasm, ends with the same weights
  // to the bit, for head sizes 8 (small) and 16 (the optimised attention's
  // two register widths) and 4 (the reference's rows).
  if (modelPaths.length) {
    const tokModel = engine.loadModel(readFileSync(modelPaths[modelPaths.length - 1]));
    const tok = engine.modelTokenizer(tokModel);
    const text = corpus.subarray(0, 200000), textPath = join(dir, "text.txt");
    writeFileSync(textPath, text);
    const runs = [
      { name: "head size 8", d: 64, layers: 2, heads: 8, ctx: 64, ff: 256 },
      { name: "head size 16", d: 32, layers: 1, heads: 2, ctx: 37, ff: 64 },
      { name: "head size 16 and dropout 0.2", d: 32, layers: 1, heads: 2, ctx: 37, ff: 64, dropout: 0.2 },
      { name: "head size 4", d: 8, layers: 2, heads: 2, ctx: 8, ff: 32 },
    ];
    for (const r of runs) {
      const config = { vocab: engine.modelConfig(tokModel).vocab, dModel: r.d, nLayer: r.layers,
        nHead: r.heads, ctx: r.ctx, dFF: r.ff, pos: "learned" };
      const m = engine.createModel(tok, config, 3);
      engine.trainBegin(m, text, { batch: 4, lr: 2e-3, steps: 5, seed: 3, dropout: r.dropout ?? 0 });
      engine.trainRun(m, 5);
      const wasm = engine.serializeModel(m);
      engine.freeModel(m);
      const out = join(dir, "native.ckpt");
      execFileSync(glassgpt, ["train", "--data", textPath, "-t", modelPaths[modelPaths.length - 1],
        "--d", String(r.d), "--layers", String(r.layers), "--heads", String(r.heads), "--ctx", String(r.ctx),
        "--ff", String(r.ff), "--batch", "4", "--lr", "2e-3", "--steps", "5", "--seed", "3",
        "--dropout", String(r.dropout ?? 0), "-o", out],
      { stdio: "ignore" });
      const native = readFileSync(out);
      // the weights follow the header (48 bytes) and the merges (12 bytes each)
      const at = 48 + 12 * new DataView(wasm.buffer).getUint32(44, true);
      const size = wasm.length - at - 4;  // the wasm build saves no optimizer state
      check(size > 0 && Buffer.compare(wasm.subarray(at, at + size), native.subarray(at, at + size)) === 0,
            `5 training steps, ${r.name}: the wasm build's weights differ from the native build's`);
    }
    // the page's presets, default learning rates and batch are the command line's
    for (const preset of ["tiny", "small", "base"]) {
      const c = engine.preset(preset), d = c.dModel;
      const err = spawnSync(glassgpt, ["train", "--data", textPath, "-t", modelPaths[modelPaths.length - 1],
        "--preset", preset, "--steps", "1", "-o", join(dir, "lr.ckpt")]).stderr.toString();
      const cli = Number(/; lr ([0-9.e-]+)/.exec(err)?.[1]);
      check(cli === engine.defaultLr(d), `${preset}: the page's default learning rate ${engine.defaultLr(d)}, the command line's ${cli}`);
      const sizes = `(V ${c.vocab}, d ${d}, ${c.nLayer} layers, ${c.nHead} heads, ctx ${c.ctx}, ff ${c.dFF}, ${c.pos} positions)`;
      check(err.includes(sizes), `${preset}: the page's preset ${sizes} is the command line's: ${err.split("\n")[0]}`);
      check(err.includes(`batch ${engine.trainingDefaults().batch} x ${c.ctx}`), `${preset}: the page's batch is the command line's`);
    }
    // and so are its other training defaults, as glassgpt train --help states them
    const help = spawnSync(glassgpt, ["train", "--help"]).stdout.toString();
    const stated = (option) => Number(new RegExp(`${option} .*\\(default (\\d+)\\)`).exec(help)?.[1]);
    const t = engine.trainingDefaults();
    check(t.steps === stated("--steps N") && t.batch === stated("--batch B") && t.seed === stated("--seed S") &&
      t.evalEvery === stated("--eval-every K"), `the page's training defaults ${JSON.stringify(t)} are the command line's`);
    engine.freeModel(tokModel);
  }

  // Sizes that wrap in 32 bits: 8192 wide, 16 layers is 4.30e9 parameters,
  // which a 32-bit size_t holds as 7.6 million. Refused, never allocated.
  const bytes256 = engine.trainBpe(corpus.subarray(0, 1000), 256);
  const huge = { vocab: 256, dModel: 8192, nLayer: 16, nHead: 1, ctx: 1, dFF: 1, pos: "learned" };
  let refused = "";
  try { engine.freeModel(engine.createModel(bytes256, huge)); } catch (e) { refused = e.message; }
  check(/4298530832 parameters is more than glassgpt handles/.test(refused),
        `a model of 4.3e9 parameters in wasm32: '${refused}'`);
  // 537 million parameters: within what glassgpt handles, past what wasm32 can
  const header = new Uint8Array(48 + 12 * 512 + 64);
  header.set(new TextEncoder().encode("GLASSGPT"));
  new Uint32Array(header.buffer, 8, 10).set([1, 768, 2048, 32, 1, 1, 1, 0, 0, 512]);
  refused = "";
  try { engine.freeModel(engine.loadModel(header)); } catch (e) { refused = e.message; }
  check(/parameters is more than this 32-bit build can address/.test(refused),
        `a checkpoint of 5.4e8 parameters in wasm32: '${refused}'`);
  engine.freeTokenizer(bytes256);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
