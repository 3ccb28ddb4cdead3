// The engine's kernels on WebGPU.
//
// The engine records the kernel calls of a step (src/record.h) as arena
// offsets and numbers; this file makes those calls on the GPU, with the
// shaders of kernels.wgsl. Every arena lives in one storage buffer, so
// that a call's buffers are offsets into it, passed in a uniform. What the
// model computes, in what order, on which slices, stays in model.c: here
// each kernel call only becomes its passes, each a dispatch.
//
//   const gpu = await Gpu.open(engine.kernelTable());  // or throws why not
//   const arenas = gpu.arenas([paramsBytes, gradsBytes, ...]);
//   arenas.write(0, 0, params);  gpu.run(arenas, words);  await arenas.read(3, 0, n);
//
// A call is callWords 32-bit words (record.h): its kernel, then
// each argument in two words: a buffer as (arena, offset in elements) or
// (NONE, 0) for NULL; a number as its bits, low word first.

export const NONE = 0xffffffff;
const EXTRA = 32;  // a pass's own numbers follow its call's arguments, from this word on
const SLOT = 256;  // bytes of uniform a pass: minUniformBufferOffsetAlignment
const WG = 64, MAX_GROUPS = 65535, TILE = 16;
// given to kernels.wgsl, which has them from here
const PRELUDE = `const WG: u32 = ${WG}u;\nconst EXTRA: u32 = ${EXTRA}u;\nconst TILE: u32 = ${TILE}u;\n`;

// A pass over `threads` threads of entry point `entry`, with extra numbers.
const pass = (entry, threads, extra = []) => {
  const groups = Math.ceil(threads / WG);
  return { entry, extra, groups: groups <= MAX_GROUPS ? [groups, 1] : [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS)] };
};
// out (M, N) (+)= A (M, K) B (K, N) (+ bias): [buffer, row stride, column
// stride] for A and B, [buffer, row stride] for out; the sum over K in
// blocks of `block` (0: one block); `direct`: a thread per output, with no
// workgroup memory (for a GPU emulated on the CPU)
const gemm = (M, N, K, [a, a_rs, a_cs], [b, b_rs, b_cs], [c, c_rs], bias, accumulate, { block = 0, direct }) => {
  const extra = [M, N, K, a, a_rs, a_cs, b, b_rs, b_cs, c, c_rs, bias, accumulate, block];
  return direct ? pass("gemm_direct", Math.ceil(M / 4) * Math.ceil(N / 4), extra) : { entry: "gemm", extra, groups: [Math.ceil(N / TILE), Math.ceil(M / TILE)] };
};
const one = (entry) => ({ entry, extra: [], groups: [1, 1] });

// Each kernel's passes, from its arguments by name (as ops.h names them;
// buffers already offsets into the one storage buffer) and the options:
// the engine's dwRows (Engine.kernelTable), and direct for gemm_direct.
const PLANS = {
  encoder_forward: (a) => [pass("encoder_forward", a.N * a.C)],
  encoder_backward: (a) => [pass("encoder_backward_wte", a.C),
    ...(a.dwpe === NONE ? [] : [pass("encoder_backward_wpe", a.T * a.C)])],
  layernorm_forward: (a) => [pass("layernorm_forward", a.N)],
  layernorm_backward: (a) => [pass("layernorm_backward_inp", a.N), pass("layernorm_backward_wb", a.C)],
  matmul_forward: (a, o) => [gemm(a.N, a.OC, a.C, [a.inp, a.C, 1], [a.w, a.OC, 1], [a.out, a.OC], a.bias, 0, o)],
  matmul_backward: (a, o) => [
    gemm(a.N, a.C, a.OC, [a.dout, a.OC, 1], [a.w, 1, a.OC], [a.dinp, a.C], NONE, 1, o),  // dout @ w^T
    gemm(a.C, a.OC, a.N, [a.inp, 1, a.C], [a.dout, a.OC, 1], [a.dw, a.OC], NONE, 1, { ...o, block: o.dwRows }),  // inp^T @ dout
    ...(a.dbias === NONE ? [] : [pass("column_sums", a.OC, [a.N, a.OC, a.dout, a.dbias])])],
  transpose: (a) => [pass("transpose_forward", a.R * a.C)],
  transpose_backward: (a) => [pass("transpose_backward", a.R * a.C)],
  attention_forward: (a) => [pass("attention_forward", a.B * a.NH * a.T)],
  attention_scores: (a) => [pass("attention_scores", a.B * a.NH * a.T * a.T)],
  attention_backward: (a) => [pass("attention_backward_query", a.B * a.NH * a.T),
    pass("attention_backward_key", a.B * a.NH * a.T)],
  attention_decode: (a) => [pass("attention_decode_scores", a.NH * a.len),
    pass("attention_decode_softmax", a.NH), pass("attention_decode_out", a.C)],
  gelu_forward: (a) => [pass("gelu_forward", a.N)],
  gelu_backward: (a) => [pass("gelu_backward", a.N)],
  residual_forward: (a) => [pass("residual_forward", a.N)],
  residual_backward: (a) => [pass("residual_backward", a.N)],
  softmax_forward: (a) => [pass("softmax_forward", a.N)],
  crossentropy_forward: (a) => [pass("crossentropy_forward", a.N)],
  crossentropy_softmax_backward: (a) => [pass("crossentropy_softmax_backward", a.N * a.V)],
  dropout: (a) => [pass("dropout", a.n)],
  adamw_update: (a) => [pass("adamw_update", a.n)],
  zero: (a) => [pass("zero", a.n)],
  copy: (a) => [pass("copy", a.n)],
  mean: () => [one("mean")],
  norm: () => [one("norm")],
  clip: (a) => [pass("clip", a.n)],
};
// The floats of scratch a call needs (kernels.wgsl: attention_backward_query).
const SCRATCH = { attention_backward: (a) => a.B * a.NH * a.T * (a.T + 1) };

export class Gpu {
  // The adapter and device, and the kernels compiled, for the engine's
  // table of kernels (Engine.kernelTable). Throws an Error that says why not.
  static async open(table, { wgslUrl = new URL("./kernels.wgsl", import.meta.url) } = {}) {
    if (!globalThis.navigator?.gpu) throw new Error("this browser has no WebGPU (navigator.gpu)");
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error("WebGPU found no adapter");
    const limits = adapter.limits;
    const device = await adapter.requestDevice({ requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, maxBufferSize: limits.maxBufferSize } });
    const code = await (await fetch(wgslUrl)).text();
    const gpu = new Gpu(adapter, device, table);
    await gpu.compile(PRELUDE + code);
    return gpu;
  }

  constructor(adapter, device, table) {
    const info = adapter.info || {};
    this.name = [info.vendor, info.architecture || info.device, info.description].filter(Boolean).join(" ") || "WebGPU";
    // a GPU emulated on the CPU (SwiftShader): right, but slower than the
    // engine; its products go without workgroup memory, whose barriers it
    // pays dearly for
    this.software = Boolean(info.isFallbackAdapter || adapter.isFallbackAdapter) || /swiftshader/i.test(this.name);
    this.options = { dwRows: table.dwRows, direct: this.software };
    this.device = device;
    this.table = table;  // { kernels: [{ name, args: [{ name, kind }] }], callWords, dwRows }
    for (const k of table.kernels) if (!PLANS[k.name]) throw new Error(`no WebGPU plan for the kernel ${k.name}`);
    if (table.dwRows % TILE) throw new Error(`gemm's blocks are whole tiles: ${table.dwRows} rows are not`);
    this.scratch = this.uniforms = null;
    this.buffers = 0;  // how many times scratch or uniforms were made anew
    // resolves, with why, when the device is gone or a kernel fails
    this.lost = new Promise((resolve) => {
      device.lost.then((info) => resolve(`the GPU was lost (${info.message || info.reason})`));
      device.addEventListener("uncapturederror", (e) => resolve(`a GPU error (${e.error.message})`));
    });
  }

  async compile(code) {
    const device = this.device;
    const module = device.createShaderModule({ code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length) throw new Error(`kernels.wgsl: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; ")}`);
    this.layoutOfBindings = device.createBindGroupLayout({ entries: [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage" } },
      { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: "storage" } },
      { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: SLOT } },
    ] });
    const layout = device.createPipelineLayout({ bindGroupLayouts: [this.layoutOfBindings] });
    const entries = [...code.matchAll(/@compute[^\n]*\nfn (\w+)/g)].map((m) => m[1]);
    this.pipelines = {};
    await Promise.all(entries.map(async (entry) => {
      this.pipelines[entry] = await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: entry } });
    }));
  }

  // A set of arenas of these sizes (bytes) in one storage buffer.
  arenas(sizes) { return new Arenas(this, sizes); }

  // The passes of the recorded calls in `words` (a Uint32Array) on arenas
  // placed at `bases`, and the scratch they need.
  plan(words, bases) {
    const { kernels, callWords } = this.table, n = words.length / callWords, passes = [];
    let scratch = 0;
    for (let c = 0; c < n; c++) {
      const w = words.subarray(c * callWords, (c + 1) * callWords);
      const kernel = kernels[w[0]];
      if (!kernel) throw new Error(`call ${c}: no kernel ${w[0]}`);
      const call = new Uint32Array(EXTRA), named = {};
      kernel.args.forEach(({ name, kind }, j) => {
        let lo = w[2 + 2 * j], hi = w[3 + 2 * j];
        if (kind === "R" && lo !== NONE) {
          if (lo >= bases.length) throw new Error(`call ${c}, ${kernel.name}: no arena ${lo}`);
          [lo, hi] = [bases[lo] + hi, 0];
        }
        call[2 * j] = lo;
        call[2 * j + 1] = hi;
        named[name] = lo;
      });
      scratch = Math.max(scratch, SCRATCH[kernel.name]?.(named) ?? 0);
      for (const p of PLANS[kernel.name](named, this.options)) passes.push({ ...p, call });
    }
    return { passes, scratch };
  }

  // Makes the recorded calls, in order, on the GPU, on these arenas.
  // Returns at once; Arenas.read waits for them.
  run(arenas, words) {
    const { passes, scratch } = this.plan(words, arenas.bases);
    const device = this.device;
    if (!this.scratch || this.scratch.size < 4 * scratch) {
      this.scratch?.destroy();
      this.scratch = device.createBuffer({ size: Math.max(4 * scratch, SLOT), usage: GPUBufferUsage.STORAGE });
      this.buffers++;
    }
    if (!this.uniforms || this.uniforms.size < SLOT * passes.length) {
      this.uniforms?.destroy();
      this.uniforms = device.createBuffer({ size: SLOT * Math.max(passes.length, 64) * 2,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      this.buffers++;
    }
    if (arenas.bound !== this.buffers) {
      arenas.bindGroup = device.createBindGroup({ layout: this.layoutOfBindings, entries: [
        { binding: 0, resource: { buffer: arenas.buffer } }, { binding: 1, resource: { buffer: this.scratch } },
        { binding: 2, resource: { buffer: this.uniforms, size: SLOT } }] });
      arenas.bound = this.buffers;
    }
    const slots = new Uint32Array(passes.length * SLOT / 4);
    passes.forEach((p, i) => {
      slots.set(p.call, i * SLOT / 4);
      slots.set(p.extra, i * SLOT / 4 + EXTRA);
    });
    device.queue.writeBuffer(this.uniforms, 0, slots);
    const enc = device.createCommandEncoder();
    const cp = enc.beginComputePass();
    passes.forEach((p, i) => {
      cp.setPipeline(this.pipelines[p.entry]);
      cp.setBindGroup(0, arenas.bindGroup, [i * SLOT]);
      cp.dispatchWorkgroups(p.groups[0], p.groups[1]);
    });
    cp.end();
    device.queue.submit([enc.finish()]);
  }

  destroy() {
    for (const b of [this.scratch, this.uniforms]) b?.destroy();
    this.device.destroy();
  }
}

// Arenas in one storage buffer of the GPU, each on a 256-byte boundary:
// what a recording's calls name by number. They start as zeros.
export class Arenas {
  constructor(gpu, sizes) {
    let at = 0;
    this.gpu = gpu;
    this.bases = sizes.map((bytes) => { const base = at; at += Math.ceil(bytes / SLOT) * SLOT; return base / 4; });
    this.sizes = sizes.slice();
    this.buffer = gpu.device.createBuffer({ size: Math.max(at, SLOT),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.bound = -1;  // the Gpu's buffers its bind group was made with
  }

  // Copies data (a typed array) into arena i at byte `offset`.
  write(i, offset, data) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.check(i, offset, bytes.length);
    this.gpu.device.queue.writeBuffer(this.buffer, this.bases[i] * 4 + offset, bytes);
  }

  // n floats of arena i from byte `offset`, once the GPU has done all that
  // was run before.
  async read(i, offset, n) {
    this.check(i, offset, 4 * n);
    const device = this.gpu.device;
    const staging = device.createBuffer({ size: Math.max(4 * n, 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder();
    if (n) enc.copyBufferToBuffer(this.buffer, this.bases[i] * 4 + offset, staging, 0, 4 * n);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0, 4 * n));
    staging.destroy();
    return out;
  }

  check(i, offset, bytes) {
    if (!(i >= 0 && i < this.bases.length) || offset < 0 || offset % 4 || offset + bytes > this.sizes[i])
      throw new Error(`arena ${i}: bytes ${offset}..${offset + bytes} are outside it`);
  }

  destroy() { this.buffer.destroy(); }
}

// What a model's training keeps from step to step: the rest a step writes
// before it reads.
export const STATE = ["params", "m", "v"];

// A model's training on the GPU: each step, the engine records the step
// without computing it (Engine.trainRecord), the batch it drew is uploaded
// (B x T tokens and targets, the only upload of a step), and the GPU makes
// the calls. Weights, gradients and the optimizer's moments stay on the
// GPU until download() brings them back into the engine's model.
export class GpuTraining {
  constructor(gpu, engine, h) {
    this.gpu = gpu;
    this.engine = engine;
    this.h = h;
    this.arenas = engine.trainArenas(h);
    this.index = Object.fromEntries(this.arenas.map((a, i) => [a.name, i]));
    this.memory = gpu.arenas(this.arenas.map((a) => a.bytes));
    this.upload(this.arenas.map((a) => a.name));
  }

  // Copies these arenas from the engine to the GPU.
  upload(names) {
    for (const name of names) this.memory.write(this.index[name], 0, this.engine.arenaBytes(this.arenas[this.index[name]]));
  }

  // Queues the next training step; returns at once.
  step() {
    const words = this.engine.trainRecord(this.h);
    this.upload(["tokens", "targets"]);
    this.gpu.run(this.memory, words);
  }

  // Makes k steps, queued one after another; their losses come back
  // together, in one read at the end, so that the GPU never waits on the
  // page between steps. Returns the losses (a Float32Array).
  async run(k) {
    const { device } = this.gpu, memory = this.memory, loss = this.index.loss;
    const losses = device.createBuffer({ size: 4 * k, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (let i = 0; i < k; i++) {
      this.step();
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(memory.buffer, memory.bases[loss] * 4, losses, 4 * i, 4);
      device.queue.submit([enc.finish()]);
    }
    try {
      await losses.mapAsync(GPUMapMode.READ);
      return new Float32Array(losses.getMappedRange().slice(0));
    } finally {
      losses.destroy();
    }
  }

  // An arena's floats on the GPU, once the steps queued before are done.
  read(name) {
    return this.memory.read(this.index[name], 0, this.arenas[this.index[name]].bytes / 4);
  }

  destroy() { this.memory.destroy(); }

  // Brings these arenas back from the GPU into the engine's model (its
  // weights and the optimizer's moments: what the CPU needs to go on
  // training, or a checkpoint to be written).
  // Returns false, and brings nothing, when a number there is not finite:
  // training has diverged, and a GPU may not say so in its loss (WGSL lets
  // a GPU assume that there are no NaNs, and its min and max drop them).
  async download(names = STATE) {
    const data = await Promise.all(names.map((name) => this.read(name)));
    if (data.some((d) => d.some((x) => !Number.isFinite(x)))) return false;
    names.forEach((name, i) => this.engine.arenaBytes(this.arenas[this.index[name]]).set(new Uint8Array(data[i].buffer)));
    return true;
  }
}

// Generation on the GPU, with its KV cache there: each push, the engine
// records it without computing it (Engine.genRecord), and the GPU makes it.
// The logits come back into the engine's generator, whose sampler draws
// the next token; with `everything`, the whole inference path comes back,
// for the figures.
export class GpuGeneration {
  // g: a generator of the engine's model h (Engine.genBegin)
  constructor(gpu, engine, h, g) {
    this.gpu = gpu;
    this.engine = engine;
    this.g = g;
    this.vocab = engine.modelConfig(h).vocab;
    this.arenas = engine.genArenas(g);  // the weights, the inference path
    this.inference = this.arenas.findIndex((a) => a.name === "inference");
    this.memory = gpu.arenas(this.arenas.map((a) => a.bytes));
    this.arenas.forEach((a, i) => this.memory.write(i, 0, engine.arenaBytes(a)));
  }

  // Feeds a token; returns the length of the text.
  async push(token, { everything = false } = {}) {
    const { engine, memory } = this, inference = this.arenas[this.inference];
    this.gpu.run(memory, engine.genRecord(this.g, token));
    const at = everything ? 0 : engine.genLogitsOffset(this.g);
    const n = everything ? inference.bytes / 4 : this.vocab;
    const data = await memory.read(this.inference, at, n);
    new Uint8Array(engine.memory, inference.ptr + at, 4 * n).set(new Uint8Array(data.buffer));
    return engine.genPushed(this.g);
  }

  destroy() { this.memory.destroy(); }
}
