// Training, live: the engine trains a fresh model in the worker while the
// page draws its loss and its weights. The same defaults as the command line
// (the learning rate comes from the engine).
import { engine } from "../engine.js";
import { el, heatmap, lineChart } from "../draw.js";

const PRESETS = {
  tiny: { dModel: 8, nLayer: 2, nHead: 2, ctx: 8, dFF: 32 },
  small: { dModel: 64, nLayer: 2, nHead: 8, ctx: 64, dFF: 256 },
};
const BATCH = 16, STEPS = 2000, EVAL_EVERY = 100, EVAL_WINDOWS = 64, SEED = 1, RATE_RUNS = 16;

export async function training({ corpus, base, onModel }) {
  const fig = document.getElementById("training-figure");
  const lrs = {};
  for (const [name, p] of Object.entries(PRESETS)) lrs[name] = await engine.defaultLr(p.dModel);
  const preset = el("select", { id: "train-preset", "aria-label": "Preset" },
    ...Object.keys(PRESETS).map((p) => el("option", { value: p }, p)));
  const lr = el("input", { type: "number", id: "train-lr", step: "0.0005", min: "0.00001", max: "1",
    value: lrs.tiny, "aria-label": "Learning rate" });
  preset.addEventListener("change", () => { lr.value = lrs[preset.value]; reset(true); });
  lr.addEventListener("change", () => reset(true));
  const pos = el("select", { id: "train-pos", "aria-label": "Position embedding" },
    el("option", { value: "learned" }, "learned"), el("option", { value: "sinusoidal" }, "sinusoidal"));
  pos.addEventListener("change", () => reset(true));
  const start = el("button", { id: "train-start", "aria-pressed": "false" }, "Start");
  const stepButton = el("button", { id: "train-step" }, "Step");
  const resetButton = el("button", { id: "train-reset" }, "Reset");
  const stats = el("div", { class: "stats-row", id: "train-stats", "aria-live": "polite" });
  const chart = el("div", { id: "train-chart" });
  const heat = el("div", { class: "heat-grid", id: "train-heat" });

  fig.replaceChildren(
    el("div", { class: "controls" }, el("label", {}, "Preset ", preset), el("label", {}, "Positions ", pos),
      el("label", {}, "Learning rate ", lr), start, stepButton, resetButton),
    stats, chart,
    el("p", { class: "key" }, el("span", {}, el("span", { class: "sw", style: "background: var(--accent)" }), "training loss"),
      el("span", {}, el("span", { class: "sw", style: "background: var(--cool)" }), "validation loss (held-out text)"),
      el("span", {}, "dashed: ln(V), the loss of a uniform guess"),
      el("span", {}, "faded: earlier runs, to compare")),
    el("h3", {}, "The weights, as they learn"), heat);

  let model = null, running = false, trainPts = [], valPts = [], rate = 0, bpb = NaN, generation = 0;
  let recent = [];  // the last few runs of steps, [tokens, ms], for a steady tokens/s
  const history = [];  // earlier runs' validation curves: {name, points}
  const config = () => ({ vocab: base.config.vocab, pos: pos.value, ...PRESETS[preset.value] });

  function draw() {
    const last = trainPts.at(-1), val = valPts.at(-1);
    stats.replaceChildren(
      el("span", {}, "step ", el("b", { id: "train-step-count" }, String(last ? last[0] : 0)), ` of ${STEPS}`),
      el("span", {}, "loss ", el("b", { id: "train-loss" }, last ? last[1].toFixed(4) : "\u2013")),
      el("span", {}, "validation ", el("b", { id: "train-val" }, val ? val[1].toFixed(4) : "\u2013")),
      el("span", {}, "bits per byte ", el("b", {}, Number.isFinite(bpb) ? bpb.toFixed(3) : "\u2013")),
      el("span", {}, el("b", { id: "train-rate", "data-rate": rate }, rate ? Math.round(rate).toLocaleString("en") : "\u2013"), " tokens/s"));
    lineChart(chart, { series: [...history.map((h) => ({ name: h.name, cls: "past", points: h.points })),
      { name: "training loss", cls: "train", points: trainPts }, { name: "validation loss", cls: "val", points: valPts }],
    refs: [{ y: Math.log(base.config.vocab), label: `ln ${base.config.vocab} = ${Math.log(base.config.vocab).toFixed(2)}` }] });
  }

  // The boxes are made once per model and measured once; later redraws only
  // repaint their canvases, so that no redraw forces a layout of the page.
  let boxesOf = null, widths = [];
  async function drawWeights() {
    const t = await engine.tensors(model.id, ["wte", "wpe", "wqkv", "wout", "w1", "w2"]);
    const boxes = [];
    const add = (label, data, rows, cols) => {
      const box = boxesOf === model ? heat.children[boxes.length] : el("div", { class: "heat", "data-name": label });
      boxes.push([box, { name: label, data, rows, cols }]);
    };
    add("tokEmb", t.wte.data, t.wte.shape[0], t.wte.shape[1]);
    add("posEmb", t.wpe.data, t.wpe.shape[0], t.wpe.shape[1]);
    for (let l = 0; l < t.wqkv.shape[0]; l++)
      for (const [label, name] of [["wQkv", "wqkv"], ["wOut", "wout"], ["ff.w1", "w1"], ["ff.w2", "w2"]]) {
        const [, r, c] = t[name].shape;
        add(`layer ${l + 1} ${label}`, t[name].data.subarray(l * r * c, (l + 1) * r * c), r, c);
      }
    if (boxesOf !== model) {
      heat.replaceChildren(...boxes.map(([b]) => b));
      widths = boxes.map(([b]) => Math.max(120, b.clientWidth || 300));
      boxesOf = model;
    }
    for (const [i, [b, spec]] of boxes.entries()) {  // one per frame, so that the page stays responsive
      heatmap(b, { ...spec, width: widths[i] });
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
  }

  async function validate(step) {
    const v = await engine.validate(model.id, EVAL_WINDOWS);
    valPts.push([step, v.loss]);
    bpb = v.bpb;
  }

  // A fresh model; announce: make it the page's current model.
  async function reset(announce = false) {
    pause();
    const mine = ++generation;
    const old = model;
    const fresh = await engine.createModel(base.id, config(), SEED);
    await engine.trainBegin(fresh.id, corpus, { batch: BATCH, lr: Number(lr.value), steps: STEPS, seed: SEED });
    if (mine !== generation) return engine.free(fresh.id);
    if (old && valPts.length > 1) {
      history.push({ name: `${old.name}: validation`, points: valPts });
      if (history.length > 4) history.shift();
    }
    model = { name: `${preset.value}, ${pos.value} positions (trained here)`, ...fresh, tokenizer: base.tokenizer };
    if (old) engine.free(old.id);
    trainPts = [];
    valPts = [];
    rate = 0;
    recent = [];
    await validate(0);
    draw();
    await drawWeights();
    if (announce) onModel(model);
  }

  // Runs a few steps: about 40 ms of work, so that the page keeps drawing.
  async function advance(steps) {
    const r = await engine.trainRun(model.id, steps);
    r.losses.forEach((loss, i) => trainPts.push([r.step - steps + i + 1, loss]));
    // tokens/s over the last RATE_RUNS runs: the worker's own time for the
    // steps, steady enough to read while it changes
    recent = [...recent.slice(1 - RATE_RUNS), [steps * BATCH * model.config.ctx, r.ms]];
    const ms = recent.reduce((n, [, m]) => n + m, 0);
    if (ms > 0) rate = (1000 * recent.reduce((n, [t]) => n + t, 0)) / ms;
    if (r.step % EVAL_EVERY < steps || r.step === STEPS) await validate(r.step);
    return r.step;
  }

  let lastWeights = 0, lastDraw = 0;
  async function loop() {
    const chunk = preset.value === "tiny" ? 20 : 2;
    while (running) {
      const step = await advance(Math.min(chunk, STEPS - (trainPts.at(-1)?.[0] ?? 0)));
      // the chart and figures 5 times a second: smooth to the eye, and the
      // main thread leaves the cores to the worker
      if (performance.now() - lastDraw > 200 || step >= STEPS) {
        lastDraw = performance.now();
        draw();
      }
      if (performance.now() - lastWeights > 2000) {  // live, yet leaving the cores to training
        lastWeights = performance.now();
        await drawWeights();
      }
      if (step >= STEPS) pause();
    }
    draw();  // the last steps, however soon after a redraw they came
  }

  function pause() {
    const was = running;
    running = false;
    start.textContent = "Start";
    start.setAttribute("aria-pressed", "false");
    if (was) onModel(model);
  }
  // The chapters above follow the model being trained whenever it pauses:
  // redrawing them on every step would slow training down.
  start.addEventListener("click", () => {
    if (running) return pause();
    running = true;
    start.textContent = "Pause";
    start.setAttribute("aria-pressed", "true");
    loop();
  });
  stepButton.addEventListener("click", async () => {
    if (running) return;
    await advance(1);
    draw();
    await drawWeights();
    onModel(model);
  });
  resetButton.addEventListener("click", () => reset(true));
  document.addEventListener("visibilitychange", () => document.hidden && pause());
  await reset();
}
