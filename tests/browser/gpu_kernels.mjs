// Every WGSL kernel (web/kernels.wgsl, driven by web/gpu.js) against the
// engine's reference kernels (src/ops_ref.c, in WebAssembly), on random
// inputs, in Debian's chromium with SwiftShader's WebGPU. A case is one
// recorded call, in the words the engine itself writes (src/record.h):
// made on the reference kernels and on the GPU from the same arena, and
// the whole arena compared after, with an absolute plus relative tolerance
// (1e-5 forward, 1e-4 for gradients; exact where nothing is summed). The
// sizes are odd on purpose: T = 1, 7 and 64, widths that are no multiple
// of a tile, and a pass too large for one row of workgroups. The matrix
// products are checked both ways gpu.js makes them: tiled through
// workgroup memory, and direct.
//
// usage: node tests/browser/gpu_kernels.mjs GLASSGPT
import { readFileSync } from "node:fs";
import { blankPage, launch, serve, tally } from "./chromium.mjs";

const glassgpt = process.argv[2] || "build/glassgpt";
const { check, end } = tally();

const FWD = 1e-5, GRAD = 1e-4, EXACT = 0;
// A case: the kernel, its numbers by name, its buffers by name (a length;
// [length, "ids", below] for token ids; [length, "positive"] for numbers
// that must be; null for NULL), and the tolerance. The reference must
// change the arena, unless the case says it leaves it unchanged.
const attention = (B, T, C, NH, scores = B * NH * T * T) => ({ B, T, C, NH, qkv: B * T * 3 * C,
  out: B * T * C, scores, att: B * NH * T * T });
const CASES = [
  { kernel: "encoder_forward", n: { N: 14, T: 7, C: 20 }, b: { out: 280, tokens: [14, "ids", 11], wte: 220, wpe: 140 }, tol: EXACT },
  { kernel: "encoder_backward", n: { N: 14, T: 7, C: 20 }, b: { dwte: 220, dwpe: 140, dout: 280, tokens: [14, "ids", 5] }, tol: GRAD },
  { kernel: "encoder_backward", n: { N: 14, T: 7, C: 20 }, b: { dwte: 220, dwpe: null, dout: 280, tokens: [14, "ids", 5] }, tol: GRAD, what: "no position table" },
  { kernel: "layernorm_forward", n: { N: 14, C: 20 }, b: { out: 280, mean: 14, rstd: 14, inp: 280, w: 20, b: 20 }, tol: FWD },
  { kernel: "layernorm_backward", n: { N: 14, C: 20 },
    b: { dinp: 280, dw: 20, db: 20, dout: 280, inp: 280, w: 20, mean: 14, rstd: [14, "positive"] }, tol: GRAD },
  { kernel: "matmul_forward", n: { N: 14, C: 20, OC: 37 }, b: { out: 518, inp: 280, w: 740, bias: 37 }, tol: FWD },
  { kernel: "matmul_forward", n: { N: 130, C: 67, OC: 45 }, b: { out: 5850, inp: 8710, w: 3015, bias: null }, tol: FWD, what: "no bias" },
  { kernel: "matmul_forward", n: { N: 1, C: 16, OC: 16 }, b: { out: 16, inp: 16, w: 256, bias: 16 }, tol: FWD, what: "one row" },
  { kernel: "matmul_backward", n: { N: 14, C: 20, OC: 37 }, b: { dinp: 280, dw: 740, dbias: 37, dout: 518, inp: 280, w: 740 }, tol: GRAD },
  { kernel: "matmul_backward", n: { N: 130, C: 67, OC: 45 }, b: { dinp: 8710, dw: 3015, dbias: null, dout: 5850, inp: 8710, w: 3015 }, tol: GRAD, what: "no bias" },
  { kernel: "matmul_backward", n: { N: 300, C: 20, OC: 37 }, b: { dinp: 6000, dw: 740, dbias: 37, dout: 11100, inp: 6000, w: 740 },
    tol: GRAD, what: "dw over more rows than a block" },
  { kernel: "transpose", n: { R: 13, C: 29 }, b: { out: 377, inp: 377 }, tol: EXACT },
  { kernel: "transpose_backward", n: { R: 13, C: 29 }, b: { dinp: 377, dout: 377 }, tol: FWD },
  ...[1, 7, 64].flatMap((T) => {
    const a = attention(2, T, 12, 3);
    return [
      { kernel: "attention_forward", n: { B: 2, T, C: 12, NH: 3 }, b: { out: a.out, scores: a.scores, att: a.att, qkv: a.qkv }, tol: FWD, what: `T ${T}` },
      { kernel: "attention_backward", n: { B: 2, T, C: 12, NH: 3 },
        b: { dqkv: a.qkv, dout: a.out, qkv: a.qkv, att: [a.att, "positive"] }, tol: GRAD, what: `T ${T}` },
      { kernel: "attention_decode", n: { len: T, C: 12, NH: 3 },
        b: { out: 12, scores: 3 * T, att: 3 * T, q: 12, k: 12 * T, v: 12 * T }, tol: FWD, what: `len ${T}` },
    ];
  }),
  { kernel: "attention_forward", n: { B: 2, T: 7, C: 12, NH: 3 }, b: { out: 168, scores: null, att: 294, qkv: 504 }, tol: FWD, what: "no scores" },
  { kernel: "attention_scores", n: { B: 2, T: 7, C: 12, NH: 3 }, b: { scores: 294, qkv: 504 }, tol: FWD },
  { kernel: "gelu_forward", n: { N: 1001 }, b: { out: 1001, inp: 1001 }, tol: FWD },
  { kernel: "gelu_backward", n: { N: 1001 }, b: { dinp: 1001, inp: 1001, dout: 1001 }, tol: GRAD },
  { kernel: "residual_forward", n: { N: 1001 }, b: { out: 1001, a: 1001, b: 1001 }, tol: EXACT },
  { kernel: "residual_backward", n: { N: 1001 }, b: { da: 1001, db: 1001, dout: 1001 }, tol: EXACT },
  { kernel: "softmax_forward", n: { N: 7, V: 37 }, b: { probs: 259, logits: 259 }, tol: FWD },
  { kernel: "crossentropy_forward", n: { N: 7, V: 37 }, b: { losses: 7, probs: [259, "positive"], targets: [7, "ids", 37] }, tol: FWD },
  { kernel: "crossentropy_softmax_backward", n: { N: 7, V: 37, dloss: 1 / 7 },
    b: { dlogits: 259, probs: [259, "positive"], targets: [7, "ids", 37] }, tol: GRAD },
  // first past 2^32, so that its low word carries
  { kernel: "dropout", n: { n: 100003, first: [0xfffffff0, 1], p: 0.25, seed: [0x9abcdef0, 0x12345678] }, b: { x: 100003 }, tol: EXACT },
  { kernel: "adamw_update", n: { n: 1001, decay: 0.999, beta1: 0.9, beta2: 0.95, eps: 1e-8, step_size: 1e-3, bc2_sqrt: 0.3 },
    b: { p: 1001, g: 1001, m: 1001, v: [1001, "positive"] }, tol: FWD },
  { kernel: "zero", n: { n: 1001 }, b: { x: 1001 }, tol: EXACT },
  { kernel: "zero", n: { n: 4200001 }, b: { x: 4200001 }, tol: EXACT, what: "over 65535 workgroups" },
  { kernel: "copy", n: { n: 1001 }, b: { dst: 1001, src: 1001 }, tol: EXACT },
  { kernel: "mean", n: { n: 100003 }, b: { out: 1, x: 100003 }, tol: FWD },
  { kernel: "norm", n: { n: 100003 }, b: { out: 1, x: 100003 }, tol: FWD },
  { kernel: "clip", n: { n: 1001, max_norm: 0.01 }, b: { x: 1001, norm: [1, "positive"] }, tol: FWD, what: "clipped" },
  { kernel: "clip", n: { n: 1001, max_norm: 10 }, b: { x: 1001, norm: [1, "positive"] }, tol: EXACT, what: "not clipped",
    unchanged: true },
];

const { server, base } = await serve(glassgpt);
const browser = await launch();
try {
  const page = await blankPage(browser, base);
  page.on("console", (m) => m.type() === "error" && console.error("page:", m.text()));
  // the tests' build of the engine, which has the reference kernels
  await page.route(`${base}glassgpt-test.wasm`, (route) =>
    route.fulfill({ contentType: "application/wasm", body: readFileSync("build/web/glassgpt-test.wasm") }));
  const out = await page.evaluate(async (CASES) => {
    const { Engine } = await import("/engine-core.js");
    const { Gpu, NONE } = await import("/gpu.js");
    const engine = await Engine.fetch("/glassgpt-test.wasm");
    const table = engine.kernelTable(), { kernels, callWords } = table;
    let gpu;
    try { gpu = await Gpu.open(table); } catch (e) { return { error: String(e.message || e) }; }
    let seed = 12345;  // a small generator of its own, so that a failure repeats
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const f32bits = (x) => new Uint32Array(new Float32Array([x]).buffer)[0];
    const results = [];
    // the products both ways: tiled through workgroup memory, and direct
    // (as on a GPU emulated on the CPU)
    const runs = [...CASES.map((c) => ({ ...c, direct: false })),
      ...CASES.filter((c) => c.kernel.startsWith("matmul")).map((c) => ({ ...c, direct: true }))];
    for (const c of runs) {
      gpu.options.direct = c.direct;
      const k = kernels.findIndex((kk) => kk.name === c.kernel);
      const sig = kernels[k];
      // the arena: each buffer in signature order, then the call's words
      const at = {}, spec = {};
      let size = 0;
      for (const { name, kind } of sig.args) {
        if (kind !== "R" || c.b[name] === null) continue;
        spec[name] = Array.isArray(c.b[name]) ? c.b[name] : [c.b[name]];
        at[name] = size;
        size += spec[name][0];
      }
      const arena = new Float32Array(size), ints = new Int32Array(arena.buffer);
      for (const [name, [n, how, below]] of Object.entries(spec))
        for (let i = 0; i < n; i++) {
          if (how === "ids") ints[at[name] + i] = Math.floor(random() * below);
          else if (how === "positive") arena[at[name] + i] = 0.05 + random();
          else arena[at[name] + i] = (2 * random() - 1) * (c.kernel === "softmax_forward" ? 8 : c.kernel.startsWith("gelu") ? 4 : 1);
        }
      const words = new Uint32Array(callWords);
      words[0] = k;
      sig.args.forEach(({ name, kind }, j) => {
        const v = kind === "R" ? c.b[name] : c.n[name];
        if (kind === "R") [words[2 + 2 * j], words[3 + 2 * j]] = v === null ? [NONE, 0] : [0, at[name]];
        else if (kind === "F") words[2 + 2 * j] = f32bits(v);
        else if (kind === "U") [words[2 + 2 * j], words[3 + 2 * j]] = v;
        else words[2 + 2 * j] = v;
      });
      const want = arena.slice();
      engine.replayReference(words, [want]);
      const memory = gpu.arenas([arena.byteLength]);
      memory.write(0, 0, arena);
      gpu.run(memory, words);
      const got = await memory.read(0, 0, arena.length);
      memory.destroy();
      // the worst element of each buffer, against the tolerance
      let worst = { excess: -Infinity };
      for (const [name, [n]] of Object.entries(spec))
        for (let i = 0; i < n; i++) {
          const g = got[at[name] + i], w = want[at[name] + i];
          const excess = Object.is(g, w) || g === w ? -1 : Math.abs(g - w) - c.tol * (1 + Math.abs(w));
          if (!(excess <= worst.excess)) worst = { excess, name, i, got: g, want: w };
        }
      const changed = Object.keys(spec).some((name) =>
        want.subarray(at[name], at[name] + spec[name][0]).some((v, i) => !Object.is(v, arena[at[name] + i])));
      results.push({ kernel: c.kernel, what: [c.what, c.direct && "direct"].filter(Boolean).join(", "), worst,
        changed: changed !== Boolean(c.unchanged) });
    }
    const name = gpu.name;
    gpu.destroy();
    return { name, results, kernels: kernels.map((k) => k.name) };
  }, CASES);
  if (out.error) {
    check(false, `WebGPU did not start: ${out.error}`);
  } else {
    console.log(`adapter: ${out.name}`);
    const tested = new Set();
    for (const r of out.results) {
      const label = `${r.kernel}${r.what ? ` (${r.what})` : ""}`;
      const w = r.worst;
      check(r.changed, `${label}: the reference changes the arena as the case expects`);
      check(w.excess <= 0, `${label}: ${w.name}[${w.i}] is ${w.got} on the GPU, ${w.want} in C`);
      if (w.excess <= 0) console.log(`ok ${label}${w.excess > -1 ? ` (worst ${w.name}[${w.i}]: ${w.got} against ${w.want})` : " (exact)"}`);
      tested.add(r.kernel);
    }
    const untested = out.kernels.filter((k) => !tested.has(k));
    check(untested.length === 0, `every kernel is tested (not: ${untested.join(", ")})`);
  }
} finally {
  await browser.close();
  server.kill("SIGINT");
}
end();
