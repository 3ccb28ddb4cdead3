// Inference: the model writes, one token at a time, through its own path
// with a KV cache. Each step shows the next token's probabilities before and
// after temperature and top-k, and what every layer computed for the newest
// position, its attention over the cache and the cache itself.
import { html, render } from "../vendor/lit-html.js";
import { barChart, chip, fixed, linkChips, matrixView, plural, sized } from "../draw.js";
import { backendName, backendPicker, gpuLine } from "./backend.js";
import { dims } from "./input.js";

const percent = (p) => `${(100 * p).toFixed(p < 0.001 ? 3 : 1)}%`;

export async function inference(fig, snap, scope) {
  const { page } = scope, { engine } = page, { ctx, nLayer, nHead, dModel: d, dFF } = snap.config;
  const text = snap.tokenLabel;
  let gid = null, state = null, timer = null, written = [], picked = null, prompt = "ROMEO:", barsWidth = 0;
  let where = "cpu", lost = "";  // the backend generating, and why the GPU went, if it did
  const options = () => ({ temperature: page.state.temperature, topK: page.state.topK, topP: 1, seed: page.state.seed });
  scope.add(() => { clearInterval(timer); if (gid) engine.free(gid); gid = null; });

  function stop() {
    clearInterval(timer);
    timer = null;
    draw();
  }
  async function begin() {
    stop();
    if (gid) engine.free(gid);
    gid = null;
    state = null;  // no step until the new text has begun
    const r = await engine.genBegin(snap.id, prompt, options(), page.backend);
    if (scope.signal.aborted) return engine.free(r.gid);
    gid = r.gid;
    where = r.backend;
    fig.dataset.begun = Number(fig.dataset.begun ?? 0) + 1;  // texts started here, for the tests to wait on
    written = r.prompt.map((id) => ({ id, prompt: true }));
    state = r.state;
    draw();
  }
  async function advance() {
    if (!state || !gid) return;
    const token = state.sampled;
    const r = await engine.genStep(gid, token);
    if (scope.signal.aborted) return;
    where = r.backend;
    written.push({ id: token });
    state = r.state;
    draw();
  }
  // New sampling settings: the text so far stays, and the next token is drawn again.
  async function configure(patch) {
    page.save(patch);
    if (!gid) return;
    const r = await engine.genConfigure(gid, options());
    if (scope.signal.aborted) return;
    state = r.state;
    draw();
  }

  // The newest position's buffers, each a matrix made once and repainted.
  function matrices(n) {
    const at = (key, spec) => matrixView(fig.querySelector(`#${key}`), spec, scope);
    at("infer-x", { name: `the embedding of \u201c${text(written.at(-1).id)}\u201d`, data: state.x.data, rows: 1, cols: d,
      colLabels: dims(d), colTitle: "dimensions" });
    state.layers.forEach((Ls, l) => {
      at(`infer-qkv-${l}`, { name: `layer ${l + 1}: q, k, v`, data: Ls.qkv.data, rows: 1, cols: 3 * d,
        marks: [d, 2 * d], colTitle: "query | key | value" });
      let filled = 0;  // the scale of the filled slots, so that they show
      for (let h = 0; h < nHead; h++) for (let c = 0; c < n; c++) filled = Math.max(filled, Ls.att.data[h * ctx + c]);
      at(`infer-att-${l}`, { name: `layer ${l + 1}: attention over the cache`, data: Ls.att.data, rows: nHead, cols: ctx,
        rowLabels: Array.from({ length: nHead }, (_, h) => `h${h + 1}`), masked: (r, c) => c >= n, scale: filled || 1,
        fixedScale: true, rowTitle: "heads", colTitle: `the ${ctx} slots of the cache (${n} filled)`,
        explain: (r, c) => (c >= n ? `slot ${c} of the cache is empty` : `layer ${l + 1}, head ${r + 1}: ` +
          `${(100 * Ls.att.data[r * ctx + c]).toFixed(2)}% of the attention goes to position ${c} ` +
          `(score ${fixed(Ls.scores.data[r * ctx + c], 4)})`) });
      for (const [kind, buf] of [["key", Ls.key_cache], ["value", Ls.value_cache]]) {
        const data = buf.data.slice();
        data.fill(0, n * buf.cols);  // rows not written yet: empty, whatever the buffer held
        at(`infer-${kind}-${l}`, { name: `layer ${l + 1}: the ${kind} cache`, data, rows: ctx, cols: buf.cols,
          masked: (r) => r >= n, marks: Array.from({ length: nHead }, (_, h) => (h * d) / nHead),
          rowTitle: `positions (${n} of ${ctx} filled)`, colTitle: "each head's slice" });
      }
      at(`infer-ffh-${l}`, { name: `layer ${l + 1}: the feed-forward after GELU`, data: Ls.ffh_gelu.data, rows: 1, cols: dFF,
        colTitle: "hidden units" });
      at(`infer-res-${l}`, { name: `layer ${l + 1}: the stream after the layer`, data: Ls.res_ff.data, rows: 1, cols: d,
        colLabels: dims(d), colTitle: "dimensions" });
    });
  }

  function bars() {
    if (!state || !barsWidth) return;
    const top = Array.from(state.probs.keys()).sort((a, b) => state.probs[b] - state.probs[a]).slice(0, 10);
    if (!top.includes(state.sampled)) top[9] = state.sampled;
    render(barChart({ width: barsWidth, format: percent, pair: ["raw", "after temperature and top-k"],
      rows: top.map((id) => ({ key: id, label: `${text(id)}${id === state.argmax ? " \u2605" : ""}`, value: state.probs[id],
        value2: state.sampledProbs[id], highlight: id === state.sampled })) }), fig.querySelector("#infer-probs"));
  }

  function draw() {
    if (!state) return;
    const n = state.length, total = written.length, gone = total - n;
    render(html`<div class="controls">
        <label>Prompt <input type="text" id="infer-prompt" class="mono-input" .value=${prompt} aria-label="Prompt"
          @change=${(e) => { prompt = e.target.value; begin(); }}></label>
        <label>Temperature <input type="range" id="infer-temperature" min="0" max="2" step="0.1"
          .value=${String(page.state.temperature)} aria-label="Temperature"
          @input=${(e) => configure({ temperature: Number(e.target.value) })}>
          <span class="mono">${page.state.temperature.toFixed(1)}</span></label>
        <label>Top-k <input type="number" id="infer-topk" min="0" max=${snap.config.vocab} .value=${String(page.state.topK)}
          aria-label="Top-k (0: off)" @change=${(e) => configure({ topK: Math.max(0, Number(e.target.value) | 0) })}></label>
        <label>Seed <input type="number" id="infer-seed" min="0" .value=${String(page.state.seed)} aria-label="Seed"
          @change=${(e) => configure({ seed: Math.max(0, Number(e.target.value) | 0) })}></label>
        ${backendPicker(page, "infer-backend", where)}</div>
      <p class="stats" id="infer-backend-line">Generating on <b id="infer-runs-on">${backendName(where)}</b>, with the same
        sampler on either. ${gpuLine(page, lost)}</p>
      <div class="controls"><button id="infer-restart" @click=${begin}>Start over</button>
        <button id="infer-step" @click=${() => { stop(); advance(); }}>Step</button>
        <button id="infer-auto" aria-pressed=${timer ? "true" : "false"} @click=${auto}>${timer ? "Pause" : "Autoplay"}</button></div>
      <div class="chips" id="infer-text" aria-live="polite">${written.map((w, i) =>
        chip(w.id, text(w.id), { cls: `${w.prompt ? "prompt" : ""} ${i < gone ? "dropped" : ""}` }))}</div>
      <p class="stats" id="infer-work">Context: ${n} of ${ctx} tokens${gone ? html`. When it is full, the window keeps
        its newest half: the first ${plural(gone, "token")} (faded) are out of it` : ""}. With the KV cache the model has computed
        ${state.work} positions; recomputing the whole context for every token would have taken ${state.workWithout}.</p>
      <div class="row"><div class="grow"><h3>The next token</h3>
          <p id="infer-next">Drawn: <strong class="mono" id="infer-sampled" data-id=${state.sampled}>${text(state.sampled)}</strong>
            (orange; ${percent(state.sampledProbs[state.sampled])} after temperature and top-k). Most likely:
            <strong class="mono" id="infer-argmax" data-id=${state.argmax}>${text(state.argmax)}</strong> (\u2605).
            ${picked != null ? html`The token picked in the BPE grid, \u201c${text(picked)}\u201d:
              <span id="infer-picked">${percent(state.probs[picked])}</span>.` : ""}</p>
          <p class="key"><span><span class="sw" style="background:#9aa0a8"></span>the model's probabilities</span>
            <span><span class="sw" style="background: var(--accent)"></span>after temperature ${page.state.temperature.toFixed(1)}
            and top-k ${page.state.topK || "off"}</span></p>
          <div id="infer-probs"></div></div>
        <div class="grow" style="flex-basis: 30rem" id="infer-layers"><h3>The newest position, layer by layer</h3>
          <div id="infer-x"></div>
          ${Array.from({ length: nLayer }, (_, l) => html`<div id="infer-qkv-${l}"></div><div id="infer-att-${l}"></div>
            <div id="infer-key-${l}" data-filled=${n}></div><div id="infer-value-${l}"></div>
            <div id="infer-ffh-${l}"></div><div id="infer-res-${l}"></div>`)}</div></div>`, fig);
    matrices(n);
    bars();
  }
  function auto() {
    if (timer) return stop();
    timer = setInterval(advance, 250);
    draw();
  }
  scope.on("pick", (id) => { picked = id; draw(); });
  // another backend: the text starts again there
  scope.on("backend", (b) => { if (b !== where) begin(); else draw(); });
  // the worker has moved the generator to the CPU already, its text kept
  scope.on("gpu-lost", (why) => { where = "cpu"; lost = `${why}: generation goes on on the CPU.`; draw(); });
  await begin();
  linkChips(fig.querySelector("#infer-text"), scope);
  const probs = fig.querySelector("#infer-probs");
  scope.add(sized(probs, (w) => { barsWidth = w; bars(); }));
}
