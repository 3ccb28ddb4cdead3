// The model on WebGPU against the same model in WebAssembly, in Debian's
// chromium with SwiftShader's WebGPU: the same checkpoint (tiny and small),
// the same text, batch and seed, dropout on. One copy trains in the
// engine; the other has the engine record each step without computing it,
// and the GPU make it (web/gpu.js). Checked:
//   - the first step's logits agree within 1e-4 (abs + rel);
//   - 50 steps' losses agree within 1e-3 each, and the weights at the end
//     within 1e-3;
//   - greedy generation on the GPU (its KV cache there, the window sliding
//     past the context) gives the engine's 32 tokens and the command line's
//     text, from the command line's checkpoint;
//   - the GPU-trained weights, downloaded into a checkpoint, run in
//     `glassgpt generate`, which gives the same greedy text as the engine
//     in the page from the same weights.
//
// usage: node tests/browser/gpu_model.mjs GLASSGPT
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blankPage, launch, serve, tally } from "./chromium.mjs";

const glassgpt = process.argv[2] || "build/glassgpt";
const { check, end } = tally();
const STEPS = 50, PROMPT = "ROMEO:", GREEDY = 32;

const { server, base } = await serve(glassgpt);
const browser = await launch();
const dir = mkdtempSync(join(tmpdir(), "glassgpt-gpu-"));
try {
  for (const model of ["tiny", "small"]) {
    const page = await blankPage(browser, base);
    page.on("console", (m) => m.type() === "error" && console.error("page:", m.text()));
    const out = await page.evaluate(async ({ model, STEPS, PROMPT, GREEDY }) => {
      const { Engine } = await import("/engine-core.js");
      const { Gpu, GpuTraining, GpuGeneration } = await import("/gpu.js");
      const { tokenBytes } = await import("/draw.js");
      const engine = await Engine.fetch("/glassgpt.wasm");
      let gpu;
      try { gpu = await Gpu.open(engine.kernelTable()); } catch (e) { return { error: String(e.message || e) }; }
      const ckpt = new Uint8Array(await (await fetch(`/models/${model}.ckpt`)).arrayBuffer());
      const text = new Uint8Array(await (await fetch("/data/tinyshakespeare.txt")).arrayBuffer()).subarray(0, 200000);
      const cpu = engine.loadModel(ckpt), dev = engine.loadModel(ckpt);
      const tables = engine.tokenizerTables(engine.x.gg_model_tokenizer(dev));
      const decode = (ids) => new TextDecoder().decode(new Uint8Array(ids.flatMap((t) => [...tokenBytes(tables, t)])));
      // greedy generation on the GPU, with its KV cache there, from the
      // command line's checkpoint; past the context, the window slides
      const prompt = Array.from(engine.encode(engine.x.gg_model_tokenizer(dev), new TextEncoder().encode(PROMPT)));
      const g = engine.genBegin(dev, { temperature: 0 });
      const generation = new GpuGeneration(gpu, engine, dev, g);
      for (const t of prompt) await generation.push(t);
      const gpuGreedy = [];
      for (let i = 0; i < GREEDY; i++) {
        gpuGreedy.push(engine.x.gg_gen_sample(g));
        if (i + 1 < GREEDY) await generation.push(gpuGreedy[i]);
      }
      generation.destroy();
      engine.genEnd(g);
      const wasmGreedy = Array.from(engine.generateGreedy(cpu, prompt, GREEDY));
      const options = { batch: 4, steps: 200, seed: 7, dropout: 0.1 };
      engine.trainBegin(cpu, text, options);
      engine.trainBegin(dev, text, options);
      const training = new GpuTraining(gpu, engine, dev);
      const cpuArenas = Object.fromEntries(engine.trainArenas(cpu).map((a) => [a.name, a]));
      const floats = (a) => new Float32Array(engine.arenaBytes(a).slice().buffer);
      // the worst element of got against want: |got - want| / (1 + |want|)
      const worst = (got, want) => {
        let w = 0;
        for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
        return w;
      };
      const cfg = engine.modelConfig(dev);
      const losses = [];
      let logits = null;
      for (let s = 0; s < STEPS; s++) {
        training.step();
        const gpuLoss = (await training.read("loss"))[0];
        const cpuLoss = engine.trainRun(cpu, 1).losses[0];
        losses.push([gpuLoss, cpuLoss]);
        if (s === 0) {
          // the logits: (B T, V) floats of the activations' arena, where the
          // engine's model has them
          const at = (engine.x.gg_model_logits(cpu) - cpuArenas.acts.ptr) / 4, n = options.batch * cfg.ctx * cfg.vocab;
          const acts = await training.read("acts"), want = floats(cpuArenas.acts);
          logits = { worst: worst(acts.subarray(at, at + n), want.subarray(at, at + n)), n };
        }
      }
      const params = { worst: worst(await training.read("params"), floats(cpuArenas.params)) };
      const moments = { worst: worst(await training.read("v"), floats(cpuArenas.v)) };
      await training.download();
      // the weights brought home: the engine's model of dev is the GPU's now
      const devParams = engine.trainArenas(dev).find((a) => a.name === "params");
      const downloaded = { worst: worst(floats(devParams), floats(cpuArenas.params)) };
      const greedy = Array.from(engine.generateGreedy(dev, prompt, GREEDY));
      const ckptOut = Array.from(engine.serializeModel(dev));
      const name = gpu.name;
      gpu.destroy();
      return { name, cfg, losses, logits, params, moments, downloaded, greedy, ckptOut, gpuGreedy, wasmGreedy,
        gpuText: decode(gpuGreedy), trainedText: decode(greedy) };
    }, { model, STEPS, PROMPT, GREEDY });
    if (!check(!out.error, `${model}: WebGPU started (${out.error})`)) continue;
    console.log(`${model} on ${out.name}: d ${out.cfg.dModel}, ${out.cfg.nLayer} layers, ctx ${out.cfg.ctx}`);
    const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
    check(same(out.gpuGreedy, out.wasmGreedy), `${model}: greedy generation on the GPU gives the engine's ${GREEDY} tokens ` +
      `(${out.gpuGreedy.join(" ")} against ${out.wasmGreedy.join(" ")})`);
    const cliGreedy = execFileSync(glassgpt, ["generate", "-m", `models/${model}.ckpt`, "--prompt", PROMPT, "-n", String(GREEDY),
      "--temperature", "0"]).toString();
    check(cliGreedy.startsWith(PROMPT + out.gpuText),
      `${model}: the command line's checkpoint on the GPU gives the command line's greedy text ${JSON.stringify(cliGreedy)}`);
    check(out.logits.worst <= 1e-4 && out.logits.n > 0, `${model}: the first step's ${out.logits.n} logits agree within 1e-4 (worst ${out.logits.worst.toExponential(2)})`);
    let worstLoss = 0;
    out.losses.forEach(([g, c], s) => {
      const d = Math.abs(g - c) / (1 + Math.abs(c));
      worstLoss = Math.max(worstLoss, d);
      if (d > 1e-3) check(false, `${model}: step ${s + 1}'s loss is ${g} on the GPU, ${c} in wasm`);
    });
    check(worstLoss <= 1e-3 && out.losses.length === STEPS, `${model}: ${STEPS} losses agree within 1e-3`);
    check(out.params.worst <= 1e-3, `${model}: the weights after ${STEPS} steps agree within 1e-3 (worst ${out.params.worst.toExponential(2)})`);
    check(out.downloaded.worst <= 1e-3, `${model}: the weights brought home from the GPU are the trained ones (worst ${out.downloaded.worst.toExponential(2)})`);
    check(out.moments.worst <= 1e-3, `${model}: AdamW's second moments agree within 1e-3 (worst ${out.moments.worst.toExponential(2)})`);
    console.log(`${model}: losses ${out.losses[0][0].toFixed(4)} .. ${out.losses[STEPS - 1][0].toFixed(4)} on the GPU; ` +
      `worst differences: logits ${out.logits.worst.toExponential(2)}, loss ${worstLoss.toExponential(2)}, ` +
      `weights ${out.params.worst.toExponential(2)}`);
    // the GPU's weights, in a checkpoint, in the command line
    const file = join(dir, `${model}-gpu.ckpt`);
    writeFileSync(file, Buffer.from(out.ckptOut));
    const cli = execFileSync(glassgpt, ["generate", "-m", file, "--prompt", PROMPT, "-n", String(GREEDY), "--temperature", "0"]).toString();
    const pageText = out.trainedText;
    check(cli.includes(pageText) && pageText.length > 0,
      `${model}: glassgpt generate on the GPU-trained checkpoint gives the page's greedy text ${JSON.stringify(pageText)} (it gave ${JSON.stringify(cli)})`);
    await page.close();
  }
} finally {
  await browser.close();
  server.kill("SIGINT");
  rmSync(dir, { recursive: true, force: true });
}
end();
