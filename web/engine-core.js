// The engine, loaded from glassgpt.wasm: a thin wrapper over its exported
// functions (wasm/exports.c). It runs wherever WebAssembly does: in the
// page's worker, and in Node for the tests. Every number comes from the C
// engine; this file only moves bytes in and out of its memory.
import { wasiImports } from "./wasi.js";


export class Engine {
  static async load(bytes) {
    let instance;
    const imports = wasiImports(() => instance.exports.memory);
    ({ instance } = await WebAssembly.instantiate(bytes, imports));
    instance.exports._initialize();
    return new Engine(instance.exports);
  }

  // The engine at url (glassgpt.wasm), fetched and loaded.
  static async fetch(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
    return Engine.load(await r.arrayBuffer());
  }

  constructor(exports) {
    this.x = exports;
  }

  get memory() { return this.x.memory.buffer; }  // changes when memory grows

  error() { return this.cString(this.x.gg_last_error()); }

  // Copies values into the module as elements of type T (bytes unless told:
  // Int32Array for token ids, Float32Array for floats); returns the pointer
  // (free it).
  put(values, T = Uint8Array) {
    const p = this.x.gg_alloc(T.BYTES_PER_ELEMENT * values.length);
    new T(this.memory, p, values.length).set(values);
    return p;
  }

  // The handle that make(p, n) returns for n values copied in at p (as by
  // put, and freed after); the engine's message is thrown when it is null.
  handle(values, make, T = Uint8Array) {
    const p = this.put(values, T);
    const h = make(p, values.length);
    this.x.gg_free(p);
    if (!h) throw new Error(this.error());
    return h;
  }

  // A copy of n elements of type T (Uint32Array, Float32Array...) at p.
  take(T, p, n) { return new T(this.memory, p, n).slice(); }

  // Trains a tokenizer on bytes; returns a handle (free with freeTokenizer).
  trainBpe(bytes, vocab) {
    return this.handle(bytes, (p, n) => this.x.gg_bpe_train_text(p, n, vocab));
  }

  parseBpe(text) {
    return this.handle(new TextEncoder().encode(text), (p, n) => this.x.gg_bpe_parse(p, n));
  }

  freeTokenizer(h) { this.x.gg_bpe_free(h); }

  // Everything about a tokenizer, copied out as typed arrays: the merges
  // (pairs of ids), their counts, the bytes of every token, and, when it
  // was trained here, the trace: stepWords words a step, the new id, the
  // number of candidates, and (left, right, count) of the best of them.
  tokenizerTables(h) {
    const x = this.x, n = x.gg_bpe_n_merges(h), vocab = 256 + n;
    const tokenStart = this.take(Uint32Array, x.gg_bpe_token_start(h), vocab + 1);
    const tracePtr = x.gg_bpe_trace(h), stepWords = x.gg_bpe_step_words();
    return {
      vocab,
      merges: this.take(Uint32Array, x.gg_bpe_merges(h), 2 * n),
      counts: this.take(Uint32Array, x.gg_bpe_counts(h), n),
      tokenStart,
      tokenBytes: this.take(Uint8Array, x.gg_bpe_token_bytes(h), tokenStart[vocab]),
      trace: tracePtr ? this.take(Uint32Array, tracePtr, stepWords * n) : null, stepWords,
      trainedTokens: Number(x.gg_bpe_trained_tokens(h)),
    };
  }

  encode(h, bytes) {
    const p = this.put(bytes), out = this.x.gg_alloc(4 * Math.max(1, bytes.length));
    const n = this.x.gg_bpe_encode_text(h, p, bytes.length, out);
    const ids = n >= 0 ? this.take(Uint32Array, out, n) : null;
    this.x.gg_free(p);
    this.x.gg_free(out);
    if (!ids) throw new Error(this.error());
    return ids;
  }

  // The encoder's rounds on a short text: a list of {rank, ids}.
  encodeSteps(h, bytes) {
    const cap = 16 + 3 * bytes.length * (bytes.length + 2);
    const p = this.put(bytes), out = this.x.gg_alloc(4 * cap);
    const used = this.x.gg_bpe_steps(h, p, bytes.length, out, cap);
    const words = used >= 0 ? this.take(Int32Array, out, used) : null;
    this.x.gg_free(p);
    this.x.gg_free(out);
    if (!words) throw new Error(this.error());
    const steps = [];
    for (let at = 0; at < words.length; at += 2 + words[at + 1])
      steps.push({ rank: words[at], ids: Array.from(words.subarray(at + 2, at + 2 + words[at + 1])) });
    return steps;
  }

  // Loads a checkpoint; returns a handle (free with freeModel).
  loadModel(bytes) {
    return this.handle(bytes, (p, n) => this.x.gg_model_load(p, n));
  }

  freeModel(h) { this.x.gg_model_free_all(h); }

  modelConfig(h) { return this.config(this.x.gg_model_config(h)); }

  // A gg_config at p: {vocab, dModel, nLayer, nHead, ctx, dFF, pos}.
  config(p) {
    const [vocab, dModel, nLayer, nHead, ctx, dFF, posKind] = new Int32Array(this.memory, p, 7);
    return { vocab, dModel, nLayer, nHead, ctx, dFF, pos: posKind ? "sinusoidal" : "learned" };
  }

  modelTokenizer(h) { return this.x.gg_model_tokenizer(h); }

  // Runs the model on token ids; returns every position's logits, (T, V).
  logits(h, ids) {
    const { vocab } = this.modelConfig(h);
    const p = this.put(ids, Int32Array);
    const ok = this.x.gg_model_run(h, p, ids.length);
    this.x.gg_free(p);
    if (!ok) throw new Error(this.error());
    return this.take(Float32Array, this.x.gg_model_logits(h), vocab * ids.length);
  }

  // Greedy generation with the KV cache: n token ids after the prompt's.
  generateGreedy(h, ids, n) {
    const p = this.put(ids, Int32Array), out = this.x.gg_alloc(4 * n);
    const got = this.x.gg_model_generate_greedy(h, p, ids.length, n, out);
    const tokens = got >= 0 ? this.take(Int32Array, out, n) : null;
    this.x.gg_free(p);
    this.x.gg_free(out);
    if (!tokens) throw new Error(this.error());
    return tokens;
  }

  // The model as a glassgpt checkpoint file, for download.
  serializeModel(h) {
    const lenPtr = this.x.gg_alloc(4);
    const buf = this.x.gg_model_serialize(h, lenPtr);
    const len = new Uint32Array(this.memory, lenPtr, 1)[0];
    this.x.gg_free(lenPtr);
    if (!buf) throw new Error(this.error());
    const bytes = this.take(Uint8Array, buf, len);
    this.x.gg_free(buf);
    return bytes;
  }

  // A fresh model of config ({vocab, dModel, nLayer, nHead, ctx, dFF, pos})
  // with the tokenizer of model or tokenizer handle tok, seeded.
  createModel(tok, config, seed = 1) {
    const c = [config.vocab, config.dModel, config.nLayer, config.nHead, config.ctx, config.dFF,
      config.pos === "sinusoidal" ? 1 : 0];
    return this.handle(c, (p) => this.x.gg_model_create(tok, p, seed), Int32Array);
  }

  // The command line's training defaults: {batch, steps, seed, evalEvery,
  // evalWindows}.
  trainingDefaults() {
    const [batch, steps, seed, evalEvery, evalWindows] = new Int32Array(this.memory, this.x.gg_train_defaults(), 5);
    return { batch, steps, seed, evalEvery, evalWindows };
  }

  // The configuration of the preset called name ({vocab, dModel, ...}).
  preset(name) {
    const p = this.put(new TextEncoder().encode(name + "\0"));
    const cfg = this.x.gg_preset(p);
    this.x.gg_free(p);
    if (!cfg) throw new Error(this.error());
    return this.config(cfg);
  }

  // The command line's default peak learning rate for a model dModel wide.
  // (A float, shown as the decimal it was written as: 0.003, not 0.0030000000261.)
  defaultLr(dModel) { return Number(this.x.gg_lr_default(dModel).toPrecision(6)); }

  // Begins training model h on bytes; what options leave out is the
  // command line's default.
  trainBegin(h, bytes, options = {}) {
    const d = this.trainingDefaults();
    const { batch = d.batch, steps = d.steps, seed = d.seed, dropout = 0,
      lr = this.defaultLr(this.modelConfig(h).dModel) } = options;
    const p = this.put(bytes);
    const rc = this.x.gg_train_begin(h, p, bytes.length, batch, lr, steps, seed, dropout);
    this.x.gg_free(p);
    if (rc < 0) throw new Error(this.error());
  }

  // k training steps: {step, losses}.
  trainRun(h, k) {
    const out = this.x.gg_alloc(4 * k);
    const step = this.x.gg_train_run(h, k, out);
    const losses = step >= 0 ? this.take(Float32Array, out, k) : null;
    this.x.gg_free(out);
    if (!losses) throw new Error(this.error());
    return { step, losses };
  }

  // The arenas of model h's training, allocated now (training must have
  // begun): [{name, ptr, bytes}], in the order recorded calls number them.
  trainArenas(h) { return this.arenas((n) => this.x.gg_train_arenas(h, n)); }

  // The arenas of generator g's pushes: the weights and the inference path.
  genArenas(g) { return this.arenas((n) => this.x.gg_gen_arenas(g, n)); }

  // What an export returns with a count: make(nPtr) returns a pointer, or 0
  // on failure, and writes how many things are there: {p, n}.
  counted(make) {
    const nPtr = this.x.gg_alloc(4), p = make(nPtr), n = new Uint32Array(this.memory, nPtr, 1)[0];
    this.x.gg_free(nPtr);
    if (!p) throw new Error(this.error());
    return { p, n };
  }

  // The arenas an export lists: list(nPtr) returns a table of gg_arena
  // ({name, base, bytes}, 3 words each) and writes their number.
  arenas(list) {
    const { p, n } = this.counted(list), t = new Uint32Array(this.memory, p, 3 * n);
    return Array.from({ length: n }, (_, i) => ({ name: this.cString(t[3 * i]), ptr: t[3 * i + 1], bytes: t[3 * i + 2] }));
  }

  // Where model h's training stands (steps done, the batch generator), to
  // go back to with trainSetPosition: a Uint32Array.
  trainPosition(h) {
    const p = this.x.gg_alloc(12);
    this.x.gg_train_position(h, p);
    const at = this.take(Uint32Array, p, 3);
    this.x.gg_free(p);
    return at;
  }

  trainSetPosition(h, [step, lo, hi]) { this.x.gg_train_set_position(h, step, lo, hi); }

  // Records model h's next training step without computing it: its calls,
  // as words (a Uint32Array) for another backend to make. The step counts
  // as done, and its batch is left in the tokens and targets arenas.
  trainRecord(h) { return this.recorded((n) => this.x.gg_train_record(h, n)); }

  // Records generator g's push of token without computing it: its calls.
  genRecord(g, token) { return this.recorded((n) => this.x.gg_gen_record(g, token, n)); }

  // After a push computed elsewhere, its logits copied into the inference
  // arena: the next token's probabilities follow; returns the length.
  genPushed(g) { return this.x.gg_gen_pushed(g); }

  // Where generator g's logits are in its inference arena, in bytes.
  genLogitsOffset(g) { return this.x.gg_gen_logits_offset(g); }

  // The words of a recording an export makes: record(nCallsPtr) returns
  // them, and writes how many calls.
  recorded(record) {
    const { p, n } = this.counted(record);
    return this.take(Uint32Array, p, n * this.x.gg_record_call_words());
  }

  // The bytes of an arena ({ptr, bytes}), in place: valid until the
  // engine's memory grows.
  arenaBytes({ ptr, bytes }) { return new Uint8Array(this.memory, ptr, bytes); }

  validate(h, windows = this.trainingDefaults().evalWindows) {
    const loss = this.x.gg_train_validate(h, windows);
    if (loss < 0) throw new Error(this.error());
    return { loss, bpb: this.x.gg_train_bits_per_byte(h, loss) };
  }

  cString(p) {
    const bytes = new Uint8Array(this.memory, p);
    return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
  }

  // Copies of the parameter tensors named (all when names is empty):
  // {name: {shape, data}}.
  tensors(h, names = []) {
    const out = {}, nameP = this.x.gg_alloc(4), shapeP = this.x.gg_alloc(12);
    for (let k = 0; ; k++) {
      const p = this.x.gg_model_tensor(h, k, nameP, shapeP);
      if (!p) break;
      const name = this.cString(new Uint32Array(this.memory, nameP, 1)[0]);
      if (names.length && !names.includes(name)) continue;
      const shape = Array.from(new Int32Array(this.memory, shapeP, 3)).filter((d) => d > 0);
      out[name] = { shape, data: this.take(Float32Array, p, shape.reduce((a, b) => a * b, 1)) };
    }
    this.x.gg_free(nameP);
    this.x.gg_free(shapeP);
    return out;
  }

  // Runs the model on ids with the observer on, and copies every
  // intermediate it saw: {"name/layer": {shape, data}} (layer -1 outside
  // the blocks). The engine names them; this file lists none.
  observe(h, ids) {
    const p = this.put(ids, Int32Array);
    const n = this.x.gg_model_observe(h, p, ids.length);
    this.x.gg_free(p);
    if (n < 0) throw new Error(this.error());
    const out = {}, nameP = this.x.gg_alloc(4), layerP = this.x.gg_alloc(4), shapeP = this.x.gg_alloc(16);
    for (let k = 0; k < n; k++) {
      const data = this.x.gg_model_seen_at(h, k, nameP, layerP, shapeP);
      const name = this.cString(new Uint32Array(this.memory, nameP, 1)[0]);
      const layer = new Int32Array(this.memory, layerP, 1)[0];
      const shape = Array.from(new Int32Array(this.memory, shapeP, 4)).filter((d) => d > 0);
      out[`${name}/${layer}`] = { shape, data: this.take(Float32Array, data, shape.reduce((a, b) => a * b, 1)) };
    }
    [nameP, layerP, shapeP].forEach((q) => this.x.gg_free(q));
    return out;
  }

  // The logit lens of the last observe: the head applied to the stream
  // after the embedding and after each block, (L + 1, T, V).
  lens(h, T) {
    const { vocab, nLayer } = this.modelConfig(h);
    const p = this.x.gg_model_lens(h);
    if (!p) throw new Error(this.error());
    return this.take(Float32Array, p, (nLayer + 1) * T * vocab);
  }

  // The map of the token embeddings: their first two principal components,
  // {coords (V, 2), axes (2, d), variance [first, second, total]}.
  pca(h) {
    const { vocab, dModel } = this.modelConfig(h);
    const c = this.x.gg_alloc(8 * vocab), a = this.x.gg_alloc(8 * dModel), v = this.x.gg_alloc(24);
    const rc = this.x.gg_model_pca(h, c, a, v);
    const out = rc ? null : { coords: this.take(Float32Array, c, 2 * vocab), axes: this.take(Float32Array, a, 2 * dModel),
      variance: Array.from(new Float64Array(this.memory, v, 3)) };
    [c, a, v].forEach((q) => this.x.gg_free(q));
    if (!out) throw new Error(this.error());
    return out;
  }

  // The fixed position table of a sinusoidal model, ctx x d.
  sinusoidal(ctx, d) {
    const p = this.x.gg_alloc(4 * ctx * d);
    this.x.gg_sinusoidal(p, ctx, d);
    const table = this.take(Float32Array, p, ctx * d);
    this.x.gg_free(p);
    return table;
  }

  genBegin(h, { temperature = 0.8, topK = 0, topP = 1, seed = 1 } = {}) {
    const g = this.x.gg_gen_begin(h, temperature, topK, topP, seed);
    if (!g) throw new Error(this.error());
    return g;
  }

  genEnd(g) { this.x.gg_gen_end(g); }

  // New sampling settings; the text so far and its cache stay.
  genConfigure(g, { temperature = 0.8, topK = 0, topP = 1, seed = 1 } = {}) {
    if (this.x.gg_gen_configure(g, temperature, topK, topP, seed) < 0) throw new Error(this.error());
  }

  genPush(g, token) {
    if (this.x.gg_gen_push(g, token) < 0) throw new Error(this.error());
  }

  // Everything about the latest position: the next token's probabilities
  // (at temperature 1, and as sampled), the argmax, a draw, and each layer's
  // buffers, copied.
  genState(g, h, draw) {
    const x = this.x, { vocab, nLayer } = this.modelConfig(h), shapeP = x.gg_alloc(8);
    const buffer = (name, layer) => {
      const nameP = this.put(new TextEncoder().encode(name + "\0"));
      const p = x.gg_gen_buffer(g, nameP, layer, shapeP);
      x.gg_free(nameP);
      const [rows, cols] = new Int32Array(this.memory, shapeP, 2);
      return { rows, cols, data: this.take(Float32Array, p, rows * cols) };
    };
    const sampled = draw ? x.gg_gen_sample(g) : -1;
    const state = {
      length: x.gg_gen_length(g), argmax: x.gg_gen_argmax(g), sampled,
      probs: this.take(Float32Array, x.gg_gen_probs(g), vocab),
      sampledProbs: this.take(Float32Array, x.gg_gen_sampled_probs(g), vocab),
      work: Number(x.gg_gen_work(g, 0)), workWithout: Number(x.gg_gen_work(g, 1)),
      x: buffer("x", 0), layers: [],
    };
    for (let l = 0; l < nLayer; l++)
      state.layers.push(Object.fromEntries(["qkv", "scores", "att", "ffh_gelu", "res_ff", "key_cache", "value_cache"]
        .map((n) => [n, buffer(n, l)])));
    x.gg_free(shapeP);
    return state;
  }

  // The engine's GELU of each x (a Float32Array).
  gelu(xs) {
    const p = this.put(xs, Float32Array), out = this.x.gg_alloc(4 * xs.length);
    this.x.gg_gelu(p, out, xs.length);
    const ys = this.take(Float32Array, out, xs.length);
    this.x.gg_free(p);
    this.x.gg_free(out);
    return ys;
  }

  // {mean, variance} of a row, as layer norm computes them.
  moments(row) {
    const p = this.put(row, Float32Array), out = this.x.gg_alloc(8);
    this.x.gg_row_moments(p, row.length, out);
    const [mean, variance] = new Float32Array(this.memory, out, 2);
    this.x.gg_free(p);
    this.x.gg_free(out);
    return { mean, variance };
  }

  // What another backend needs to make the engine's recorded calls
  // (src/record.h): the kernels of the ops table, in its order, with their
  // arguments ([{name, args: [{name, kind}]}], kind one of R (a buffer), I,
  // Z, F, U (numbers)); the words of a call; and the rows matmul_backward
  // sums dw over at a time (src/ops.h), so that its sums are the engine's.
  kernelTable() {
    const kernels = [];
    for (let k = 0, p; (p = this.x.gg_kernel(k)); k++) {
      const [name, ...args] = this.cString(p).split(" ");
      kernels.push({ name, args: args.map((a) => { const [arg, kind] = a.split(":"); return { name: arg, kind }; }) });
    }
    return { kernels, callWords: this.x.gg_record_call_words(), dwRows: this.x.gg_dw_rows() };
  }

  // Makes recorded calls (a Uint32Array of words, record.h) on the
  // reference kernels, with arena i standing in arenas[i], a typed array
  // that receives the results. Only in the tests' build of the engine
  // (glassgpt-test.wasm): the page never runs the reference kernels.
  replayReference(words, arenas) {
    const x = this.x, n = arenas.length;
    const at = arenas.map((a) => this.put(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
    const bases = this.put(at, Uint32Array), bytes = this.put(arenas.map((a) => a.byteLength), Uint32Array);
    const w = this.put(words, Uint32Array);
    const rc = x.gg_replay_reference(w, words.length / x.gg_record_call_words(), bases, bytes, n);
    arenas.forEach((a, i) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
      .set(new Uint8Array(this.memory, at[i], a.byteLength)));
    for (const p of [...at, bases, bytes, w]) x.gg_free(p);
    if (rc) throw new Error(this.error());
  }
}
