// The engine's worker: long work (training a tokenizer, running a model)
// happens here, so the page never freezes. Requests and answers are small
// messages; tables travel back as transferred buffers, never as JSON.
import { Engine } from "./engine-core.js";

let engine;
const objects = new Map();  // handle -> {kind, ptr}
let next = 1;

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

function modelPtr(id) {
  const o = objects.get(id);
  if (o?.kind !== "model") throw new Error(`no model ${id}`);
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
    const bytes = await (await fetch(wasmUrl)).arrayBuffer();
    engine = await Engine.load(bytes);
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
  trainRun({ id, steps }) {
    const t0 = performance.now();
    const r = engine.trainRun(modelPtr(id), steps);
    return [{ ...r, ms: performance.now() - t0 }, [r.losses.buffer]];
  },
  validate({ id, windows }) {
    return engine.validate(modelPtr(id), windows);
  },
  tensors({ id, names }) {
    const t = engine.tensors(modelPtr(id), names);
    return [t, Object.values(t).map((v) => v.data.buffer)];
  },
  // Everything the chapters show of model id reading text, computed at once
  // (a model switch is one round trip, not one per chapter): the model's
  // configuration and tokenizer, the window of tokens it reads, every
  // parameter and every intermediate, the logit lens, the map of its
  // embeddings, the fixed position table of its shape, the moments of the
  // rows around every layer norm, and the encoder's rounds on word.
  snapshot({ id, text, word }) {
    const m = modelPtr(id), tok = engine.modelTokenizer(m), config = engine.modelConfig(m);
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
  pca({ id }) {
    const p = engine.pca(modelPtr(id));
    return [p, [p.coords.buffer, p.axes.buffer]];
  },
  // generation one token at a time: begin, then step (push a token, read
  // everything, draw the next)
  genBegin({ id, options, prompt, text }) {
    const model = modelPtr(id);
    if (text !== undefined) {
      const ids = engine.encode(engine.modelTokenizer(model), new TextEncoder().encode(text || "\n"));
      prompt = Array.from(ids.subarray(Math.max(0, ids.length - engine.modelConfig(model).ctx)));
    }
    const ptr = engine.genBegin(model, options);
    const gid = keep("generator", ptr);
    objects.get(gid).model = model;
    for (const t of prompt) engine.genPush(ptr, t);
    return { gid, prompt, state: engine.genState(ptr, model, true) };
  },
  genStep({ gid, token }) {
    const o = generator(gid);
    engine.genPush(o.ptr, token);
    return { state: engine.genState(o.ptr, o.model, true) };
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
  generateGreedy({ id, ids, n }) {
    const tokens = engine.generateGreedy(modelPtr(id), ids, n);
    return [{ tokens }, [tokens.buffer]];
  },
  serialize({ id }) {
    const bytes = engine.serializeModel(modelPtr(id));
    return [{ bytes }, [bytes.buffer]];
  },
  // A model's generators point into it, so they end with it.
  free({ id }) {
    const o = objects.get(id);
    if (o?.kind === "model") {
      for (const [gid, g] of objects)
        if (g.kind === "generator" && g.model === o.ptr) handlers.free({ id: gid });
      engine.freeModel(o.ptr);
    }
    if (o?.kind === "tokenizer") engine.freeTokenizer(o.ptr);
    if (o?.kind === "generator") engine.genEnd(o.ptr);
    objects.delete(id);
    return {};
  },
};

self.onmessage = async ({ data: { seq, op, args } }) => {
  if (seq === undefined) return handlers[op](args);  // no answer wanted
  try {
    const out = await handlers[op](args);
    const [result, buffers] = Array.isArray(out) ? out : [out, []];
    self.postMessage({ seq, result }, buffers);
  } catch (e) {
    self.postMessage({ seq, error: String(e.message || e) });
  }
};
