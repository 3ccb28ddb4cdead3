// The engine on WebGPU against the engine in WebAssembly, in the same
// Chromium, the same run: training and generation tokens/s of tiny, small
// and base, with the adapter named. Here the adapter is SwiftShader, a GPU
// emulated on the CPU, so its figures only guard against regressions; on a
// real GPU, base should train at 10 times the WebAssembly figure or more.
//
// usage: node bench/gpu_bench.mjs GLASSGPT
import { blankPage, launch, serve } from "../tests/browser/chromium.mjs";

const glassgpt = process.argv[2] || "build/glassgpt";
const { server, base } = await serve(glassgpt);
const browser = await launch();
try {
  const page = await blankPage(browser, base);
  const out = await page.evaluate(async () => {
    const { Engine } = await import("/engine-core.js");
    const { Gpu, GpuGeneration, GpuTraining } = await import("/gpu.js");
    const engine = await Engine.fetch("/glassgpt.wasm");
    let gpu;
    try { gpu = await Gpu.open(engine.kernelTable()); } catch (e) { return { error: String(e.message || e) }; }
    const tokenizer = engine.loadModel(new Uint8Array(await (await fetch("/models/tiny.ckpt")).arrayBuffer()));
    const text = new Uint8Array(await (await fetch("/data/tinyshakespeare.txt")).arrayBuffer()).subarray(0, 300000);
    const { batch } = engine.trainingDefaults();
    const rows = [];
    for (const [preset, steps] of [["tiny", 40], ["small", 8], ["base", 2]]) {
      const config = engine.preset(preset), tokens = batch * config.ctx;
      const fresh = () => {
        const h = engine.createModel(engine.x.gg_model_tokenizer(tokenizer), config, 1);
        engine.trainBegin(h, text, { batch, steps: 1000 });
        return h;
      };
      // training: one step first (allocation, compilation), then the timed ones
      const cpu = fresh();
      engine.trainRun(cpu, 1);
      let t0 = performance.now();
      engine.trainRun(cpu, steps);
      const cpuTrain = (tokens * steps * 1000) / (performance.now() - t0);
      const dev = fresh(), training = new GpuTraining(gpu, engine, dev);
      await training.run(1);
      t0 = performance.now();
      await training.run(steps);
      const gpuTrain = (tokens * steps * 1000) / (performance.now() - t0);
      training.destroy();
      // generation: a prompt of one token, then 32 more, with the KV cache
      const N = 32, g1 = engine.genBegin(cpu, { temperature: 0 });
      engine.genPush(g1, 10);
      t0 = performance.now();
      for (let i = 0; i < N; i++) engine.genPush(g1, engine.x.gg_gen_sample(g1));
      const cpuGen = (N * 1000) / (performance.now() - t0);
      engine.genEnd(g1);
      const g2 = engine.genBegin(cpu, { temperature: 0 }), generation = new GpuGeneration(gpu, engine, cpu, g2);
      await generation.push(10);
      t0 = performance.now();
      for (let i = 0; i < N; i++) await generation.push(engine.x.gg_gen_sample(g2));
      const gpuGen = (N * 1000) / (performance.now() - t0);
      generation.destroy();
      engine.genEnd(g2);
      engine.freeModel(cpu);
      engine.freeModel(dev);
      rows.push({ preset, steps, cpuTrain, gpuTrain, cpuGen, gpuGen });
    }
    return { name: gpu.name, software: gpu.software, rows };
  });
  if (out.error) {
    console.log(`WebGPU did not start: ${out.error}`);
  } else {
    console.log(`adapter: ${out.name}${out.software ? " (emulated on the CPU)" : ""}; WebAssembly on one thread`);
    const f = (x) => Math.round(x).toLocaleString("en").padStart(10);
    console.log(`${"model".padEnd(8)} ${"train tok/s: wasm".padStart(18)} ${"WebGPU".padStart(10)} ${"ratio".padStart(7)}` +
      `   ${"generate tok/s: wasm".padStart(21)} ${"WebGPU".padStart(10)} ${"ratio".padStart(7)}`);
    for (const r of out.rows) {
      console.log(`${r.preset.padEnd(8)} ${f(r.cpuTrain).padStart(18)} ${f(r.gpuTrain)} ${(r.gpuTrain / r.cpuTrain).toFixed(2).padStart(6)}x` +
        `   ${f(r.cpuGen).padStart(21)} ${f(r.gpuGen)} ${(r.gpuGen / r.cpuGen).toFixed(2).padStart(6)}x`);
      console.log(`GG_BENCH webgpu_${r.preset} train_wasm=${r.cpuTrain.toFixed(0)} train_webgpu=${r.gpuTrain.toFixed(0)} ` +
        `gen_wasm=${r.cpuGen.toFixed(0)} gen_webgpu=${r.gpuGen.toFixed(0)} adapter="${out.name}"`);
    }
  }
} finally {
  await browser.close();
  server.kill("SIGINT");
}
