// Training, live: the engine trains a fresh model in the worker while the
// page draws its loss, its weights and the map of its embeddings. The same
// defaults as the command line (the learning rate comes from the engine).
// At a pause, the model being trained becomes the page's: every model
// chapter opens it up.
import { html, render } from "../vendor/lit-html.js";
import { embeddingMap, lineChart, matrixView, sized, tokenLabeller } from "../draw.js";
import { backendName, backendPicker, gpuLine } from "./backend.js";
import { onItsSide } from "./input.js";

// The presets small enough to train in a page; their sizes, and every other
// default, are the command line's (src/model.c, src/train.h).
const PRESETS = ["tiny", "small"];
const RATE_RUNS = 16;  // runs of steps that the tokens/s figure averages
const RUN_MS = 40, MAX_CHUNK = 50;  // the work of a run of steps, and its most steps

export async function training(fig, _snap, scope) {
  const { page } = scope, { engine } = page;
  // the model (or, with none on the server, the tokenizer) whose vocabulary it learns
  const base = page.base ?? { id: page.tokenizer.id, config: { vocab: page.tokenizer.vocab } };
  const tables = page.base ? page.snap.tokenizer : page.tokenizer;
  const label = tokenLabeller(tables);
  const V = base.config.vocab;
  const defaults = await engine.trainingDefaults(PRESETS), presets = defaults.presets;
  const { batch: BATCH, steps: STEPS, seed: SEED, evalEvery: EVAL_EVERY, evalWindows: EVAL_WINDOWS } = defaults;
  let preset = "tiny", pos = "learned", lr = presets.tiny.lr;
  let model = null, running = false, trainPts = [], valPts = [], bpb = NaN, generation = 0, chartWidth = 0;
  // where the model trains now, and each backend's tokens/s over its last
  // few runs of steps ([tokens, ms] each), steady enough to read
  let backend = "cpu", lost = "", problem = "";
  const recent = { cpu: [], gpu: [] }, rate = { cpu: 0, gpu: 0 };
  const history = [];  // earlier runs' validation curves: {name, points}
  const config = () => ({ ...presets[preset].config, vocab: V, pos });
  const rateOf = (b) => (rate[b] ? html`; <span id="train-rate-${b}">${Math.round(rate[b]).toLocaleString("en")}</span>
    tokens/s on ${b === "cpu" ? "the CPU" : "the GPU"}` : "");

  function draw() {
    const last = trainPts.at(-1), val = valPts.at(-1);
    render(html`<div class="controls">
        <button id="train-start" aria-pressed=${running ? "true" : "false"} @click=${toggle}>${running ? "Pause" : "Start"}</button>
        <button id="train-step" @click=${stepOnce}>Step</button>
        <button id="train-reset" @click=${() => reset(true)}>Reset</button>
        <label>Preset <select id="train-preset" aria-label="Preset" @change=${(e) => { preset = e.target.value; lr = presets[preset].lr; reset(true); }}>
          ${PRESETS.map((p) => html`<option value=${p} ?selected=${p === preset}>${p}</option>`)}</select></label>
        <label>Positions <select id="train-pos" aria-label="Position embedding" @change=${(e) => { pos = e.target.value; reset(true); }}>
          ${["learned", "sinusoidal"].map((p) => html`<option value=${p} ?selected=${p === pos}>${p}</option>`)}</select></label>
        <label>Learning rate <input type="number" id="train-lr" step="0.0005" min="0.00001" max="1" .value=${String(lr)}
          aria-label="Learning rate" @change=${(e) => { lr = Number(e.target.value); reset(true); }}></label>
        ${backendPicker(page, "train-backend", backend)}</div>
      <p class="stats" id="train-backend-line">Training runs on <b id="train-runs-on">${backendName(backend)}</b>${rateOf("cpu")}${rateOf("gpu")}.
        ${gpuLine(page, lost)}</p>
      ${problem ? html`<p class="note error" id="train-problem" role="alert">${problem}</p>` : ""}
      <div class="stats-row" id="train-stats" aria-live="polite">
        <span>step <b id="train-step-count">${last ? last[0] : 0}</b> of ${STEPS}</span>
        <span>loss <b id="train-loss">${last ? last[1].toFixed(4) : "\u2013"}</b></span>
        <span>validation <b id="train-val">${val ? val[1].toFixed(4) : "\u2013"}</b></span>
        <span>bits per byte <b>${Number.isFinite(bpb) ? bpb.toFixed(3) : "\u2013"}</b></span>
        <span><b id="train-rate" data-rate=${rate[backend]}>${rate[backend] ? Math.round(rate[backend]).toLocaleString("en") : "\u2013"}</b> tokens/s</span></div>
      <div id="train-chart">${chartWidth ? lineChart({ width: chartWidth,
        series: [...history.map((h) => ({ name: h.name, cls: "past", points: h.points })),
          { name: "training loss", cls: "train", points: trainPts }, { name: "validation loss", cls: "val", points: valPts }],
        refs: [{ y: Math.log(V), label: `ln ${V} = ${Math.log(V).toFixed(2)}` }] }) : ""}</div>
      <p class="key"><span><span class="sw" style="background: var(--accent)"></span>training loss</span>
        <span><span class="sw" style="background: var(--cool)"></span>validation loss (held-out text)</span>
        <span>dashed: ln(V), the loss of a uniform guess</span><span>faded: earlier runs, to compare</span></p>
      <h3>The weights, as they learn</h3><div class="heat-grid" id="train-heat"></div>
      <h3>The map of the token embeddings, as they learn</h3><div id="train-map"></div>`, fig);
  }
  scope.add(sized(fig, (w) => { chartWidth = Math.max(200, w - 42); draw(); }));

  // The figures are made once per model (their boxes) and repainted in
  // place after, one per frame, so that the page stays responsive.
  let boxesOf = null;
  async function drawWeights() {
    const t = await engine.tensors(model.id, ["wte", "wpe", "wqkv", "wout", "w1", "w2"]);
    const pca = await engine.pca(model.id);
    if (scope.signal.aborted) return;
    const specs = [["tokEmb", t.wte.data, ...t.wte.shape], ["posEmb", t.wpe.data, ...t.wpe.shape]];
    for (let l = 0; l < t.wqkv.shape[0]; l++)
      for (const [name, key] of [["W_qkv", "wqkv"], ["W_out", "wout"], ["W1", "w1"], ["W2", "w2"]]) {
        const [, r, c] = t[key].shape;
        specs.push([`layer ${l + 1} ${name}`, t[key].data.subarray(l * r * c, (l + 1) * r * c), r, c]);
      }
    const heat = fig.querySelector("#train-heat"), fresh = boxesOf !== model;
    if (fresh) {
      heat.replaceChildren(...specs.map(([name]) => Object.assign(document.createElement("div"), { className: "heat", title: name })));
      boxesOf = model;
    }
    for (const [i, [name, data, rows, cols]] of specs.entries()) {
      const side = rows > 4 * cols;  // a tall table, drawn on its side
      matrixView(heat.children[i], { name: side ? `${name} (on its side)` : name, data: side ? onItsSide(data, rows, cols) : data,
        rows: side ? cols : rows, cols: side ? rows : cols, square: !side, numbers: false }, scope);
      if (!fresh) await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    embeddingMap(fig.querySelector("#train-map"), { pca, label, name: "the embeddings being trained" }, scope);
  }

  async function validate(step) {
    const v = await engine.validate(model.id, EVAL_WINDOWS);
    valPts.push([step, v.loss]);
    bpb = v.bpb;
  }

  // A fresh model; announce: make it the page's current model. Start and
  // Step, pressed while it is being made, wait for it (resetting) rather
  // than run the model it replaces.
  let resetting = Promise.resolve();
  function reset(announce = false) {
    resetting = renew(announce);
    return resetting;
  }
  async function renew(announce) {
    pause();
    const mine = ++generation;
    const old = model;
    const fresh = await engine.createModel(base.id, config(), SEED);
    await engine.trainBegin(fresh.id, page.corpus, { batch: BATCH, lr, steps: STEPS, seed: SEED });
    backend = await move(fresh.id, page.backend);
    if (mine !== generation) return engine.free(fresh.id);
    if (old && valPts.length > 1) {
      history.push({ name: `${old.name}: validation`, points: valPts });
      if (history.length > 4) history.shift();
    }
    model = { name: `${preset}, ${pos} positions (trained here)`, ...fresh };
    if (old && old !== page.model) engine.free(old.id);
    else if (old) old.loaded = true;  // the page frees it once it shows another
    trainPts = [];
    valPts = [];
    problem = "";
    for (const b of ["cpu", "gpu"]) rate[b] = 0, recent[b] = [];
    await validate(0);
    draw();
    await drawWeights();
    if (announce) page.show(model);
  }

  // Runs a few steps: about RUN_MS of work, so that the page keeps drawing
  // (and a GPU waits for the page once a run, not once a step).
  let chunk = 1;
  async function advance(steps) {
    const r = await engine.trainRun(model.id, steps), k = r.losses.length, first = r.step - k;
    if (k) chunk = Math.max(1, Math.min(MAX_CHUNK, Math.round((RUN_MS * k) / Math.max(r.ms, 1))));
    // a GPU lost on the way: the CPU went on from an earlier step
    while (trainPts.length && trainPts.at(-1)[0] > first) trainPts.pop();
    r.losses.forEach((loss, i) => trainPts.push([first + i + 1, loss]));
    // tokens/s over the last RATE_RUNS runs: the worker's own time for the
    // steps, on the backend they ran on
    backend = r.backend;
    const runs = recent[backend] = [...recent[backend].slice(1 - RATE_RUNS), [k * BATCH * model.config.ctx, r.ms]];
    const ms = runs.reduce((n, [, m]) => n + m, 0);
    if (ms > 0) rate[backend] = (1000 * runs.reduce((n, [t]) => n + t, 0)) / ms;
    if (r.step % EVAL_EVERY < k || r.step === STEPS) await validate(r.step);
    return r.step;
  }

  // Moves model id's training to backend b, if it can go there; returns
  // where it is.
  async function move(id, b) {
    if (b === "gpu" && !page.gpu?.name) return "cpu";
    try {
      return (await engine.useBackend(id, b)).backend;
    } catch (e) {
      lost = e.message;
      return "cpu";
    }
  }
  scope.on("backend", async (b) => {
    if (model && b !== backend) backend = await move(model.id, b);
    draw();
  });
  scope.on("gpu-lost", (why) => {
    backend = "cpu";
    lost = `${why}: training goes on on the CPU, from the last state it brought home (step ${trainPts.at(-1)?.[0] ?? 0} or a little before).`;
    draw();
  });

  let lastWeights = 0, lastDraw = 0;
  // (Paused and started again while a run of steps or a reset is under
  // way, the newest loop goes on alone.)
  let loops = 0;
  async function loop() {
    const me = ++loops;
    await resetting.catch(() => {});  // (its caller reports a failure)
    while (running && me === loops && !scope.signal.aborted) {
      const step = await advanceOrStop(Math.min(chunk, STEPS - (trainPts.at(-1)?.[0] ?? 0)));
      if (step === null) break;
      // the chart 5 times a second: smooth to the eye, and the main thread
      // leaves the cores to the worker
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

  // The chapters above follow the model being trained whenever it pauses:
  // redrawing them on every step would slow training down.
  function pause() {
    const was = running;
    running = false;
    draw();
    if (was) page.show(model);
  }
  function toggle() {
    if (running) return pause();
    running = true;
    draw();
    loop();
  }
  // A step that fails (training that diverges, say) stops training, and
  // the chapter says why.
  async function advanceOrStop(steps) {
    try {
      problem = "";
      return await advance(steps);
    } catch (e) {
      problem = e.message;
      pause();
      return null;
    }
  }
  async function stepOnce() {
    if (running) return;
    await resetting.catch(() => {});
    if (running) return;
    if (await advanceOrStop(1) === null) return;
    draw();
    await drawWeights();
    page.show(model);
  }
  const hide = () => document.hidden && pause();
  document.addEventListener("visibilitychange", hide);
  scope.add(() => document.removeEventListener("visibilitychange", hide));
  draw();
  await reset();
}
