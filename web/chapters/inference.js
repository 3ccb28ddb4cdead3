// Inference: the model writes, one token at a time, through its own path
// with a KV cache. Each step shows what every layer computed for the newest
// position, and the probabilities of the next token.
import { engine } from "../engine.js";
import { barChart, el, heatmap, matrix, tokenColor, tokenText } from "../draw.js";

const percent = (p) => `${(100 * p).toFixed(p < 0.001 ? 3 : 1)}%`;

// The live instance's clean-up: the chapter is built again for every model
// the reader picks, and the one it replaces must stop writing and let go of
// its generator.
let retire = () => {};

export async function inference(model) {
  retire();
  const fig = document.getElementById("inference-figure");
  const { ctx, nLayer, nHead } = model.config;
  const t = model.tokenizer;
  const text = (id) => tokenText(t.tokenBytes.subarray(t.tokenStart[id], t.tokenStart[id + 1]));
  const prompt = el("input", { type: "text", id: "infer-prompt", value: "ROMEO:", "aria-label": "Prompt",
    style: "font-family: var(--mono); padding: .3rem .5rem; border: 1px solid var(--rule); border-radius: 6px" });
  const temp = el("input", { type: "range", id: "infer-temperature", min: 0, max: 2, step: 0.1, value: 0.8,
    "aria-label": "Temperature" });
  const tempValue = el("span", { class: "mono" }, "0.8");
  const topK = el("input", { type: "number", id: "infer-topk", min: 0, max: 768, value: 0, "aria-label": "Top-k (0: off)" });
  const seed = el("input", { type: "number", id: "infer-seed", min: 0, value: 1, "aria-label": "Seed" });
  const step = el("button", { id: "infer-step" }, "Step");
  const auto = el("button", { id: "infer-auto", "aria-pressed": "false" }, "Autoplay");
  const restart = el("button", { id: "infer-restart" }, "Start over");
  const out = el("div", { class: "chips", id: "infer-text", "aria-live": "polite" });
  const work = el("p", { class: "stats", id: "infer-work" });
  const bars = el("div", { id: "infer-probs" });
  const next = el("p", { id: "infer-next" });
  const layers = el("div", { id: "infer-layers" });
  const readout = el("div", { class: "readout", id: "infer-readout" });
  fig.replaceChildren(
    el("div", { class: "controls" }, el("label", {}, "Prompt ", prompt),
      el("label", {}, "Temperature ", temp, tempValue), el("label", {}, "Top-k ", topK), el("label", {}, "Seed ", seed)),
    el("div", { class: "controls" }, restart, step, auto),
    out, work,
    el("div", { class: "row" }, el("div", { class: "grow" }, el("h3", {}, "The next token"), next, bars),
      el("div", { class: "grow", style: "flex-basis: 30rem" }, layers)), readout);

  let gid = null, state = null, timer = null, generation = 0;
  retire = () => {
    stop();
    generation++;
    if (gid) engine.free(gid);
    gid = null;
  };
  const chip = (id, cls = "") => el("span", { class: `chip ${cls}`, style: `background:${tokenColor(id)}`, "data-id": id },
    el("span", { class: "t" }, text(id)), el("span", { class: "id" }, id));

  function render() {
    const top = Array.from(state.probs.keys()).sort((a, b) => state.probs[b] - state.probs[a]).slice(0, 10);
    if (!top.includes(state.sampled)) top[9] = state.sampled;
    barChart(bars, top.map((id) => ({ label: `${text(id)}${id === state.argmax ? " \u2605" : ""}`,
      value: state.probs[id], highlight: id === state.sampled })), { format: percent });
    next.replaceChildren("Drawn: ", el("strong", { class: "mono", id: "infer-sampled", "data-id": state.sampled }, text(state.sampled)),
      ` (orange; ${percent(state.sampledProbs[state.sampled])} after temperature and top-k). `,
      "Most likely: ", el("strong", { class: "mono", id: "infer-argmax", "data-id": state.argmax }, text(state.argmax)), " (\u2605).");
    work.textContent = `Context: ${state.length} of ${ctx} tokens. With the KV cache the model has computed ` +
      `${state.work} positions; recomputing the whole context for every token would have taken ${state.workWithout}.`;
    const n = state.length;
    const blocks = [el("h3", {}, "The newest position, layer by layer")];
    const strip = (label, b, id) => {
      const box = el("div", { id });
      blocks.push(el("div", {}, el("p", { class: "note" }, label), box));
      matrix(box, { data: b.data, rows: b.rows, cols: b.cols, numbers: false,
        explain: (r, c) => { readout.textContent = `${label}: [${r}][${c}] = ${b.data[r * b.cols + c].toFixed(6)}`; } });
    };
    strip(`embedding of \u201c${text(state.lastToken)}\u201d at position ${n - 1}`, state.x, "infer-x");
    state.layers.forEach((L, l) => {
      strip(`layer ${l + 1}: q, k, v [1\u00d7${L.qkv.cols}]`, L.qkv, `infer-qkv-${l}`);
      const att = el("div", { id: `infer-att-${l}` });
      blocks.push(el("div", {}, el("p", { class: "note" }, `layer ${l + 1}: each head's attention over the ${ctx} ` +
        `slots of the cache (${n} filled, the rest dark)`), att));
      matrix(att, { data: L.att.data, rows: nHead, cols: ctx, numbers: false, scale: 1,
        rowLabels: Array.from({ length: nHead }, (_, h) => `h${h + 1}`), masked: (r, c) => c >= n,
        explain: (r, c) => { readout.textContent = c >= n ? `slot ${c} of the cache is empty`
          : `layer ${l + 1}, head ${r + 1}: ${(100 * L.att.data[r * ctx + c]).toFixed(2)}% of the attention goes to ` +
            `position ${c} (score ${L.scores.data[r * ctx + c].toFixed(4)})`; } });
      const cache = el("div", { id: `infer-cache-${l}`, "data-filled": n });
      blocks.push(el("div", {}, el("p", { class: "note" }, `layer ${l + 1}: the key cache, one row per position ` +
        `(${n} of ${ctx} filled; the empty rows are dark)`), cache));
      const keys = L.key_cache.data;
      keys.fill(0, n * L.key_cache.cols);  // rows not written yet: shown as empty, whatever the buffer held
      heatmap(cache, { name: `layer ${l + 1} key cache`, data: keys, rows: ctx, cols: L.key_cache.cols });
      strip(`layer ${l + 1}: feed-forward hidden layer after GELU [1\u00d7${L.ffh_gelu.cols}]`, L.ffh_gelu, `infer-ffh-${l}`);
      strip(`layer ${l + 1}: the residual stream after the layer`, L.res_ff, `infer-res-${l}`);
    });
    layers.replaceChildren(...blocks);
  }

  async function begin() {
    stop();
    const mine = ++generation;
    if (gid) engine.free(gid);
    gid = null;
    const ids = Array.from(await engine.encode(model.id, prompt.value || "\n")).slice(-ctx);
    const r = await engine.genBegin(model.id, ids, { temperature: Number(temp.value), topK: Number(topK.value),
      topP: 1, seed: Number(seed.value) });
    if (mine !== generation) return engine.free(r.gid);
    gid = r.gid;
    state = { ...r.state, lastToken: ids.at(-1) };
    out.replaceChildren(...ids.map((id) => chip(id, "prompt")));
    render();
  }

  async function advance() {
    const token = state.sampled, mine = generation;
    const r = await engine.genStep(gid, token);
    if (mine !== generation) return;
    state = { ...r.state, lastToken: token };
    out.append(chip(token));
    render();
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    auto.setAttribute("aria-pressed", "false");
    auto.textContent = "Autoplay";
  }
  temp.addEventListener("input", () => { tempValue.textContent = Number(temp.value).toFixed(1); });
  for (const c of [prompt, temp, topK, seed]) c.addEventListener("change", begin);
  restart.addEventListener("click", begin);
  step.addEventListener("click", () => { stop(); advance(); });
  auto.addEventListener("click", () => {
    if (timer) return stop();
    auto.setAttribute("aria-pressed", "true");
    auto.textContent = "Pause";
    timer = setInterval(advance, 250);
  });
  await begin();
}
