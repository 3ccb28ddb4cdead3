// The page's one way to the engine: every call goes to the worker that runs
// glassgpt.wasm, and comes back as a promise (but free, which needs no answer).
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let seq = 0;

// What the worker tells unasked: {event, ...}, to the listeners of event.
const listeners = new Map();

worker.onmessage = ({ data }) => {
  if (data.event) {
    for (const fn of listeners.get(data.event) ?? []) fn(data);
    return;
  }
  const p = pending.get(data.seq);
  pending.delete(data.seq);
  if (data.error) p.reject(new Error(data.error));
  else p.resolve(data.result);
};

// Every round trip to the worker, counted (the tests hold a model switch to
// a few).
export const trips = { count: 0 };

function call(op, args = {}, transfer = []) {
  trips.count++;
  return new Promise((resolve, reject) => {
    pending.set(++seq, { resolve, reject });
    worker.postMessage({ seq, op, args }, transfer);
  });
}

const utf8 = new TextEncoder();
const bytesOf = (text) => (typeof text === "string" ? utf8.encode(text) : text);

export const engine = {
  init: () => call("init", { wasmUrl: new URL("glassgpt.wasm", location.href).href }),
  // Trains a tokenizer in the worker: {id, ms, vocab, merges, counts,
  // tokenStart, tokenBytes, trace, trainedTokens}.
  trainBpe(text, vocab = 768) {
    const bytes = bytesOf(text).slice();
    return call("trainBpe", { bytes: bytes.buffer, vocab }, [bytes.buffer]);
  },
  tokenizerTables: (id) => call("tokenizerTables", { id }),
  async encode(id, text) {
    return (await call("encode", { id, bytes: bytesOf(text) })).ids;
  },
  async encodeSteps(id, text) {
    return (await call("encodeSteps", { id, bytes: bytesOf(text) })).steps;
  },
  // Loads a checkpoint (an ArrayBuffer): {id, config}. Its tokenizer is used
  // with the same id.
  loadModel: (bytes) => call("loadModel", { bytes }, [bytes]),
  // A fresh model of config, with the tokenizer of model `from`, seeded.
  createModel: (from, config, seed = 1) => call("createModel", { from, config, seed }),
  // the command line's training defaults, and presets' configurations and
  // learning rates: {batch, steps, seed, evalEvery, evalWindows, presets}
  trainingDefaults: (presets) => call("trainingDefaults", { presets }),
  trainBegin(id, corpus, options) {
    const bytes = corpus.slice();
    return call("trainBegin", { id, bytes: bytes.buffer, options }, [bytes.buffer]);
  },
  // k training steps: {step, losses, ms, backend} (the last step done: on
  // a GPU lost, the CPU goes on from an earlier one)
  trainRun: (id, steps) => call("trainRun", { id, steps }),
  // The GPU: {name, software}, or {why} there is none.
  gpu: () => call("gpu"),
  // Moves a model's training to backend "gpu" or "cpu": {backend}.
  useBackend: (id, backend) => call("useBackend", { id, backend }),
  // For the tests: the GPU lost, as a device is.
  loseGpu: () => call("loseGpu"),
  // Calls fn with what the worker tells of event ("gpu-lost": {why}).
  on(event, fn) {
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event).add(fn);
    return () => listeners.get(event).delete(fn);
  },
  // the mean loss on `windows` held-out windows, and its bits per byte
  validate: (id, windows) => call("validate", { id, windows }),
  // copies of parameter tensors: {name: {shape, data}}
  tensors: (id, names = []) => call("tensors", { id, names }),
  // Everything the chapters show of model id reading text (worker.js says
  // what), and the encoder's rounds on word.
  snapshot: (id, text, word = "") => call("snapshot", { id, text, word }),
  // the map of the token embeddings: {coords, axes, variance}
  pca: (id) => call("pca", { id }),
  // Starts generating from prompt ids: {gid, state}; then genStep feeds a
  // token and returns the next state (see Engine.genState).
  // The prompt may be token ids or a text, which the worker encodes (the
  // last ctx tokens of it are kept).
  // backend "gpu" generates on the GPU (the answer's backend says where).
  genBegin: (id, prompt, options, backend = "cpu") => call("genBegin", { id, options, backend,
    ...(typeof prompt === "string" ? { text: prompt } : { prompt: Array.from(prompt) }) }),
  genStep: (gid, token) => call("genStep", { gid, token }),
  // new temperature, top-k or seed for a generator: {state}, its text kept
  genConfigure: (gid, options) => call("genConfigure", { gid, options }),
  // the engine's GELU of each x
  async gelu(xs) { return (await call("gelu", { xs: Array.from(xs) })).ys; },
  async serialize(id) { return (await call("serialize", { id })).bytes; },
  // greedy generation with the KV cache: n ids after the prompt's
  async generateGreedy(id, ids, n) {
    return (await call("generateGreedy", { id, ids: Int32Array.from(ids), n })).tokens;
  },
  // Frees a model, tokenizer or generator: a message with no answer.
  free: (id) => worker.postMessage({ op: "free", args: { id } }),
};
