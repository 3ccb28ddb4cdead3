// The engine's worker: long work (training a tokenizer, running a model)
// happens here, so the page never freezes. Requests and answers are small
// messages; tables travel back as transferred buffers, never as JSON.
import { Engine } from "./engine-core.js";
import { Gpu, GpuGeneration, GpuTraining, STATE } from "./gpu.js";

let engine;
const objects = new Map();  // handle -> {kind, ptr}, and a model's or generator's GPU side
let next = 1;

// ---- the GPU: a second backend for training and generation ----
//
// A model trained on the GPU keeps its weights, gradients and optimizer
// state there (gpu.js: GpuTraining). Every SYNC_MS they come home, with the
// trainer's position, so that whatever needs the weights here (validation,
// the chapters, a checkpoint) and a GPU that is lost have a recent state.

const SYNC_MS = 2000;
let gpu = null, gpuWhy = "", gpuTried = null;

function openGpu() {
  gpuTried ??= Gpu.open(engine.kernelTable()).then((g) => {
    gpu = g;
    g.lost.then(gpuLost);
  }, (e) => { gpuWhy = String(e.message || e); });
  return gpuTried;
}

// A lost GPU: every model on it goes back to its last state brought home,
// and goes on on the CPU; the page hears why.
function gpuLost(why) {
  if (!gpu) return;
  const lost = gpu;
  gpu = null;
  gpuWhy = why;
  lost.device.destroy();  // a device that failed is given up too
  for (const o of objects.values()) {
    if (o.training) {
      engine.trainSetPosition(o.ptr, o.synced);
      o.training = null;
    }
    o.generation = null;  // its buffers were brought home after every token
  }
  self.postMessage({ event: "gpu-lost", why });
}

// Brings model o's weights and optimizer state home from the GPU, if they
// changed there since. Weights that are no longer finite stay there: the
// GPU goes back to the last state brought home, and the next trainRun says
// that training diverged.
async function sync(o) {
  if (!o.training || !o.dirty) return;
  const position = engine.trainPosition(o.ptr);
  if (await o.training.download()) o.synced = position;
  else o.diverged = diverged(o, `the weights are not finite by step ${position[0]}`);
  o.dirty = false;
  o.lastSync = performance.now();
}

// Training on the GPU that diverged (what showed it): the model goes back
// to its last state brought home (the engine's). Returns what to tell.
function diverged(o, what) {
  engine.trainSetPosition(o.ptr, o.synced);
  o.training.upload(STATE);
  o.dirty = false;
  return `${what}: training has diverged (try a lower learning rate); the model is back at step ` +
    `${o.synced[0]}, its last state brought home from the GPU`;
}

function model(id) {
  const o = objects.get(id);
  if (o?.kind !== "model") throw new Error(`no model ${id}`);
  return o;
}

function keep(kind, ptr) {
  const id = next++;
  objects.set(id, { kind, ptr });
  return id;
}

function tokenizerPtr(id) {
  const o = objects.get(id);
  if (!o) throw new Error(`no tokenizer ${id}`);
  return o.kind === "model" ? engine.modelTokenizer(o.ptr) : o.ptr;
}

const modelPtr = (id) => model(id).ptr;

// The model's pointer, with its state brought home from the GPU first.
async function modelHere(id) {
  const o = model(id);
  await sync(o);
  return o.ptr;
}

function generator(gid) {
  const o = objects.get(gid);
  if (o?.kind !== "generator") throw new Error(`no generator ${gid}`);
  return o;
}

const transfer = (tables) =>
  Object.values(tables).filter((v) => ArrayBuffer.isView(v)).map((v) => v.buffer);

const handlers = {
  async init({ wasmUrl }) {
    engine = await Engine.fetch(wasmUrl);
    // A browser runs new WebAssembly with a quick compiler first and swaps
    // in well-optimised code once a function has proved hot. A small
    // training run now makes the trainer hot before the reader's does.
    const words = "the cat sat on the mat and to be or not to be that is the question ";
    engine.freeTokenizer(engine.trainBpe(new TextEncoder().encode(words.repeat(2000)), 768));
    return { ok: true };
  },
  trainBpe({ bytes, vocab }) {
    const t0 = performance.now();
    const ptr = engine.trainBpe(new Uint8Array(bytes), vocab);
    const ms = performance.now() - t0;
    const tables = engine.tokenizerTables(ptr);
    return [{ id: keep("tokenizer", ptr), ms, ...tables }, transfer(tables)];
  },
  tokenizerTables({ id }) {
    const tables = engine.tokenizerTables(tokenizerPtr(id));
    return [tables, transfer(tables)];
  },
  encode({ id, bytes }) {
    const ids = engine.encode(tokenizerPtr(id), new Uint8Array(bytes));
    return [{ ids }, [ids.buffer]];
  },
  encodeSteps({ id, bytes }) {
    return { steps: engine.encodeSteps(tokenizerPtr(id), new Uint8Array(bytes)) };
  },
  loadModel({ bytes }) {
    const ptr = engine.loadModel(new Uint8Array(bytes));
    return { id: keep("model", ptr), config: engine.modelConfig(ptr) };
  },
  createModel({ from, config, seed }) {
    const ptr = engine.createModel(tokenizerPtr(from), config, seed);
    return { id: keep("model", ptr), config: engine.modelConfig(ptr) };
  },
  // The command line's training defaults, and the presets named with their
  // configurations and default learning rates.
  trainingDefaults({ presets }) {
    return { ...engine.trainingDefaults(), presets: Object.fromEntries(presets.map((name) => {
      const config = engine.preset(name);
      return [name, { config, lr: engine.defaultLr(config.dModel) }];
    })) };
  },
  trainBegin({ id, bytes, options }) {
    engine.trainBegin(modelPtr(id), new Uint8Array(bytes), options);
    return {};
  },
  // k training steps, on the model's backend: {step, losses, ms, backend}.
  // When the GPU is lost on the way, the CPU takes over from the model's
  // last state brought home: the steps then end earlier than asked.
  async trainRun({ id, steps }) {
    const o = model(id), t0 = performance.now();
    if (o.diverged) {
      const why = o.diverged;
      o.diverged = "";
      throw new Error(why);
    }
    if (o.training) {
      let losses = null;
      try {
        losses = await o.training.run(steps);
      } catch (e) {
        gpuLost(`the GPU failed (${e.message || e})`);
        if (o.training) throw e;
      }
      if (losses && o.training) {  // not lost on the way
        const at = engine.trainPosition(o.ptr)[0] - losses.length, bad = losses.findIndex((x) => !Number.isFinite(x));
        if (bad >= 0) throw new Error(diverged(o, `the loss is ${losses[bad]} at step ${at + bad + 1}`));
        o.dirty = true;
        if (performance.now() - o.lastSync > SYNC_MS) await sync(o);
        return [{ step: at + losses.length, losses, ms: performance.now() - t0, backend: "gpu" }, [losses.buffer]];
      }
    }
    const r = engine.trainRun(o.ptr, steps);  // from the last state brought home, if the GPU was lost
    return [{ ...r, ms: performance.now() - t0, backend: "cpu" }, [r.losses.buffer]];
  },
  // Where the GPU stands: {name, software} or {why} it is not there.
  async gpu() {
    await openGpu();
    return gpu ? { name: gpu.name, software: gpu.software } : { why: gpuWhy };
  },
  // Moves model id's training to backend "gpu" or "cpu", with its
  // weights, optimizer state and step.
  async useBackend({ id, backend }) {
    const o = model(id);
    if (backend === "gpu" && !o.training) {
      await openGpu();
      if (!gpu) throw new Error(`no GPU: ${gpuWhy}`);
      o.training = new GpuTraining(gpu, engine, o.ptr);
      o.synced = engine.trainPosition(o.ptr);
      o.dirty = false;
      o.lastSync = performance.now();
    } else if (backend === "cpu" && o.training) {
      await sync(o);
      o.training.destroy();
      o.training = null;
    }
    return { backend: o.training ? "gpu" : "cpu" };
  },
  // For the tests: the GPU device destroyed, as a lost one would be.
  loseGpu() {
    gpu?.device.destroy();
    return {};
  },
  async validate({ id, windows }) {
    return engine.validate(await modelHere(id), windows);
  },
  async tensors({ id, names }) {
    const t = engine.tensors(await modelHere(id), names);
    return [t, Object.values(t).map((v) => v.data.buffer)];
  },
  // Everything the chapters show of model id reading text, computed at once
  // (a model switch is one round trip, not one per chapter): the model's
  // configuration and tokenizer, the window of tokens it reads, every
  // parameter and every intermediate, the logit lens, the map of its
  // embeddings, the fixed position table of its shape, the moments of the
  // rows around every layer norm, and the encoder's rounds on word.
  async snapshot({ id, text, word }) {
    const m = await modelHere(id), tok = engine.modelTokenizer(m), config = engine.modelConfig(m);
    const utf8 = new TextEncoder();
    const all = engine.encode(tok, utf8.encode(text));
    if (!all.length) throw new Error("the text is empty: there is nothing for the model to read");
    const ids = Array.from(all.subarray(0, config.ctx));
    const acts = engine.observe(m, ids);
    const T = ids.length, d = config.dModel;
    // each layer norm's input and output rows: [place][row] -> {mean, variance}
    const rows = (key, t) => acts[key].data.subarray(t * d, (t + 1) * d);
    const places = [];
    for (let l = 0; l < config.nLayer; l++)
      places.push([l ? `res_ff/${l - 1}` : "encoded/-1", `ln1/${l}`], [`res_att/${l}`, `ln2/${l}`]);
    places.push([`res_ff/${config.nLayer - 1}`, "lnf/-1"]);
    const moments = places.map(([before, after]) => Array.from({ length: T }, (_, t) =>
      [engine.moments(rows(before, t)), engine.moments(rows(after, t))]));
    const snap = {
      config, text, tokens: all.length, ids, allIds: Array.from(all),
      tokenizer: engine.tokenizerTables(tok),
      params: engine.tensors(m, []),
      acts,
      lens: engine.lens(m, T),
      pca: engine.pca(m),
      sinusoidal: engine.sinusoidal(config.ctx, d),
      places, moments,
      steps: engine.encodeSteps(tok, utf8.encode(word.slice(0, 64))),
    };
    const buffers = [...Object.values(snap.params), ...Object.values(acts)].map((t) => t.data.buffer)
      .concat([snap.lens.buffer, snap.pca.coords.buffer, snap.pca.axes.buffer, snap.sinusoidal.buffer],
        Object.values(snap.tokenizer).filter((v) => ArrayBuffer.isView(v)).map((v) => v.buffer));
    return [snap, buffers];
  },
  async pca({ id }) {
    const p = engine.pca(await modelHere(id));
    return [p, [p.coords.buffer, p.axes.buffer]];
  },
  // generation one token at a time: begin, then step (push a token, read
  // everything, draw the next); on the CPU, or on the GPU with backend
  // "gpu" (its KV cache there, every buffer of the newest position brought
  // back for the page)
  async genBegin({ id, options, prompt, text, backend }) {
    const model = await modelHere(id);
    if (text !== undefined) {
      const ids = engine.encode(engine.modelTokenizer(model), new TextEncoder().encode(text || "\n"));
      prompt = Array.from(ids.subarray(Math.max(0, ids.length - engine.modelConfig(model).ctx)));
    }
    const ptr = engine.genBegin(model, options);
    const gid = keep("generator", ptr), o = objects.get(gid);
    o.model = model;
    if (backend === "gpu") {
      await openGpu();
      if (gpu) o.generation = new GpuGeneration(gpu, engine, model, ptr);
    }
    for (const [i, t] of prompt.entries()) await push(o, t, i === prompt.length - 1);
    return { gid, prompt, state: engine.genState(ptr, model, true), backend: o.generation ? "gpu" : "cpu" };
  },
  async genStep({ gid, token }) {
    const o = generator(gid);
    await push(o, token, true);
    return { state: engine.genState(o.ptr, o.model, true), backend: o.generation ? "gpu" : "cpu" };
  },
  // new sampling settings, the text kept: the same position drawn again
  genConfigure({ gid, options }) {
    const o = generator(gid);
    engine.genConfigure(o.ptr, options);
    return { state: engine.genState(o.ptr, o.model, true) };
  },
  gelu({ xs }) {
    const ys = engine.gelu(new Float32Array(xs));
    return [{ ys }, [ys.buffer]];
  },
  async generateGreedy({ id, ids, n }) {
    const tokens = engine.generateGreedy(await modelHere(id), ids, n);
    return [{ tokens }, [tokens.buffer]];
  },
  async serialize({ id }) {
    const bytes = engine.serializeModel(await modelHere(id));
    return [{ bytes }, [bytes.buffer]];
  },
  // A model's generators point into it, so they end with it.
  free({ id }) {
    const o = objects.get(id);
    if (o?.kind === "model") {
      for (const [gid, g] of objects)
        if (g.kind === "generator" && g.model === o.ptr) handlers.free({ id: gid });
      o.training?.destroy();
      engine.freeModel(o.ptr);
    }
    if (o?.kind === "tokenizer") engine.freeTokenizer(o.ptr);
    if (o?.kind === "generator") {
      o.generation?.destroy();
      engine.genEnd(o.ptr);
    }
    objects.delete(id);
    return {};
  },
};

// A push on the generator's backend; `last`: the position the page shows,
// whose buffers come back from the GPU whole. A GPU that fails leaves the
// generator on the CPU, where its last position's buffers already are.
async function push(o, token, last) {
  if (o.generation) {
    try {
      return await o.generation.push(token, { everything: last });
    } catch (e) {
      gpuLost(`the GPU failed (${e.message || e})`);
      if (o.generation) throw e;
    }
  }
  engine.genPush(o.ptr, token);
}

// One message at a time, in order: a handler that waits on the GPU must not
// let the next one in (a step, say, while the model moves between backends).
// Looking for the GPU (compiling its kernels) takes a while and touches
// nothing else: it goes on beside the queue.
let queue = Promise.resolve();
const BESIDE = new Set(["gpu"]);
self.onmessage = ({ data: { seq, op, args } }) => {
  const answer = async () => {
    if (seq === undefined) return handlers[op](args);  // no answer wanted
    try {
      const out = await handlers[op](args);
      const [result, buffers] = Array.isArray(out) ? out : [out, []];
      self.postMessage({ seq, result }, buffers);
    } catch (e) {
      self.postMessage({ seq, error: String(e.message || e) });
    }
  };
  if (BESIDE.has(op)) answer();
  else queue = queue.then(answer);
};
