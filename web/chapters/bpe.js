// Chapter 2: byte pair encoding, trained live on the corpus. The grid of
// 32 x 24 cells fills merge by merge; beside it, the pairs that competed.
import { engine } from "../engine.js";
import { barChart, byteLabel, el, hex, tokenText } from "../draw.js";

const COLS = 32, ROWS = 24, TOP = 10, STEP_WORDS = 2 + 3 * TOP;
const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

export async function bpe(corpus) {
  const fig = document.getElementById("bpe-figure");
  let t = null, step = 0, timer = null;
  const text = (id) => tokenText(t.tokenBytes.subarray(t.tokenStart[id], t.tokenStart[id + 1]));
  const bytesOf = (id) => Array.from(t.tokenBytes.subarray(t.tokenStart[id], t.tokenStart[id + 1]));

  // controls
  const counter = el("span", { class: "counter", id: "bpe-counter", "aria-live": "polite" });
  const slider = el("input", { type: "range", min: 0, max: 512, value: 0, id: "bpe-slider",
    "aria-label": "Merges applied" });
  const play = el("button", { id: "bpe-play", "aria-pressed": "false" }, "Play");
  const button = (label, title, fn) => el("button", { title, "aria-label": title, onclick: fn }, label);
  const controls = el("div", { class: "controls" },
    button("Start", "Back to the bytes", () => show(0)),
    button("\u25c0", "One merge back", () => show(step - 1)),
    play,
    button("\u25b6", "One merge forward", () => show(step + 1)),
    button("End", "All merges", () => show(t.vocab - 256)),
    slider, counter);

  // the grid, with hex headers
  const grid = el("div", { class: "grid", id: "bpe-grid", role: "grid", "aria-label": "The vocabulary" });
  grid.append(el("div", { class: "head" }));
  for (let c = 0; c < COLS; c++) grid.append(el("div", { class: "head" }, hex(c)));
  const cells = [];
  for (let r = 0; r < ROWS; r++) {
    grid.append(el("div", { class: "head" }, hex(r * COLS, 3)));
    for (let c = 0; c < COLS; c++) {
      const cell = el("div", { class: "cell", "data-id": r * COLS + c });
      cells.push(cell);
      grid.append(cell);
    }
  }
  const tip = el("div", { class: "tooltip", id: "bpe-tip", "aria-live": "polite" },
    "Hover a token to see where it came from.");
  const chartTitle = el("h3", {}, "Candidates");
  const chart = el("div", { id: "bpe-chart" });
  const timing = el("p", { class: "note", id: "bpe-timing" });

  // your own text
  const own = el("textarea", { rows: 3, id: "bpe-text", "aria-label": "Your text",
    placeholder: "Paste a text to train on, or choose a file\u2026" });
  const file = el("input", { type: "file", accept: ".txt,text/plain", "aria-label": "A text file to train on" });
  file.addEventListener("change", async () => { if (file.files[0]) own.value = await file.files[0].text(); });
  const ownButton = el("button", { onclick: () => train(new TextEncoder().encode(own.value), "your text") },
    "Train on this text");
  const shakespeare = el("button", { onclick: () => train(corpus, "tinyshakespeare") }, "Back to Shakespeare");

  // bytes of many alphabets
  const examples = el("div", { id: "bpe-examples" });

  fig.replaceChildren(controls,
    el("div", { class: "row" },
      el("div", { class: "grow", style: "flex-basis: 34rem" }, el("div", { class: "grid-wrap" }, grid), tip),
      el("div", { class: "grow" }, chartTitle, chart)),
    timing,
    el("h3", {}, "Any script, any emoji"), examples,
    el("h3", {}, "Train on your own text"), own, el("div", { class: "controls" }, file, ownButton, shakespeare));

  grid.addEventListener("mouseover", (e) => {
    const id = Number(e.target.dataset?.id);
    if (Number.isInteger(id) && e.target.classList.contains("cell")) describe(id);
  });

  function describe(id) {
    if (id >= 256 + step) {
      tip.textContent = `Token ${id} does not exist yet: it will be made by merge ${id - 255}.`;
      return;
    }
    const bytes = bytesOf(id).map((b) => hex(b)).join(" ");
    if (id < 256) {
      tip.replaceChildren(`Token ${id}: the byte `, el("code", {}, `0x${hex(id)}`), ` (${byteLabel(id)}). `,
        "Every text is made of these 256.");
      return;
    }
    const r = id - 256, l = t.merges[2 * r], rt = t.merges[2 * r + 1];
    tip.replaceChildren(`Token ${id} `, el("code", {}, text(id)), `: bytes `, el("code", {}, bytes),
      `. Merge ${r + 1} joined `, el("code", {}, text(l)), ` (${l}) and `, el("code", {}, text(rt)),
      ` (${rt}), seen ${t.counts[r].toLocaleString("en")} times.`);
  }

  function label(id) {
    return id < 256 ? byteLabel(id) : text(id);
  }

  function show(k) {
    step = Math.max(0, Math.min(t.vocab - 256, k));
    slider.value = step;
    counter.textContent = `Vocab: ${256 + step} tokens \u00b7 ${step} merges`;
    for (let id = 0; id < cells.length; id++) {
      const c = cells[id], exists = id < 256 + step;
      c.className = `cell ${!exists ? "empty" : id < 256 ? (id < 33 || id >= 127 ? "ctrl byte" : "byte")
        : id === 255 + step ? "merged latest" : "merged"}`;
      c.textContent = exists ? label(id) : "";
    }
    // the candidates of the merge just made (or, at the start, of the first)
    const s = Math.max(0, step - 1);
    if (t.trace && t.vocab > 256) {
      const at = s * STEP_WORDS, n = t.trace[at + 1], rows = [];
      for (let k2 = 0; k2 < n; k2++) {
        const l = t.trace[at + 2 + 3 * k2], r = t.trace[at + 3 + 3 * k2], count = t.trace[at + 4 + 3 * k2];
        rows.push({ label: `${label(l)} ${label(r)}`, value: count, highlight: k2 === 0 });
      }
      chartTitle.textContent = step === 0 ? "The pairs competing for the first merge"
        : `Merge ${step}: the pairs that competed (the winner in orange)`;
      barChart(chart, rows, { format: (v) => v.toLocaleString("en") });
    }
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  }
  play.addEventListener("click", () => {
    if (timer) return stop();
    if (step >= t.vocab - 256) show(0);
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(() => (step >= t.vocab - 256 ? stop() : show(step + (reduceMotion ? 8 : 1))), 40);
  });
  slider.addEventListener("input", () => show(Number(slider.value)));

  async function showExamples(name) {
    const samples = [["\u732b", "a CJK character (cat)"], ["\ud83d\udc08", "an emoji (cat)"], ["To be", "English"]];
    const rows = [];
    for (const [s, what] of samples) {
      const ids = await engine.encode(t.id, s), bytes = new TextEncoder().encode(s);
      rows.push(el("li", {}, el("span", { class: "merge" }, `${s}, ${what}`),
        `${bytes.length} bytes (${Array.from(bytes, (b) => hex(b)).join(" ")}) \u2192 ${ids.length} token${ids.length > 1 ? "s" : ""}: `,
        el("code", {}, Array.from(ids).join(" "))));
    }
    examples.replaceChildren(
      el("p", {}, `A Chinese character is three bytes in UTF-8 and an emoji four, so each starts as `,
        `several byte tokens. Nothing is ever unknown: the bytes always work. Merges only help where `,
        `the training text repeats them. Trained on ${name}:`),
      el("ul", { class: "trace" }, ...rows));
  }

  async function train(bytes, name) {
    stop();
    if (!bytes.length) { tip.textContent = "The text is empty: there is nothing to learn from."; return; }
    const old = t;
    try {
      t = await engine.trainBpe(bytes, 768);
    } catch (e) {
      tip.textContent = `Training failed: ${e.message}`;
      return;
    }
    if (old) engine.free(old.id);
    slider.max = t.vocab - 256;
    timing.textContent = `The trainer made ${t.vocab - 256} merges on ${bytes.length.toLocaleString("en")} bytes ` +
      `of ${name} in ${t.ms.toFixed(0)} ms, here in your browser. The text became ` +
      `${t.trainedTokens.toLocaleString("en")} tokens, ${(bytes.length / t.trainedTokens).toFixed(2)} bytes each.` +
      (t.vocab < 768 ? ` It ran out of pairs after ${t.vocab - 256} merges.` : "");
    show(t.vocab - 256);
    await showExamples(name);
  }

  await train(corpus, "tinyshakespeare");
  fig.dataset.trained = "true";
}
