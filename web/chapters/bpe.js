// Byte pair encoding, trained live on the corpus. The vocabulary grid fills
// merge by merge (32 columns, or 16 on a narrow screen); beside it, the
// pairs that competed. A token picked in the grid is followed into the
// model's chapters (its embedding row, its next-token probability).
import { engine } from "../engine.js";
import { barChart, byteLabel, el, hex, plural, sized, tokenBytes, tokenText } from "../draw.js";
import { render } from "../vendor/lit-html.js";

const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

export async function bpe(fig, _snap, scope) {
  const { page } = scope;
  let t = null, step = 0, timer = null, cols = 32, active = 0;
  const text = (id) => tokenText(tokenBytes(t, id));
  const label = (id) => (id < 256 ? byteLabel(id) : text(id));

  // controls: one toolbar (one tab stop, the arrow keys move along it) and the slider
  const counter = el("span", { class: "counter", id: "bpe-counter", "aria-live": "polite" });
  const slider = el("input", { type: "range", min: 0, max: 512, value: 0, id: "bpe-slider",
    "aria-label": "Merges applied" });
  const play = el("button", { id: "bpe-play", "aria-pressed": "false", tabindex: "-1" }, "Play");
  const button = (text, title, fn) => el("button", { title, "aria-label": title, onclick: fn, tabindex: "-1" }, text);
  const tools = [button("Start", "Back to the bytes", () => show(0)), button("\u25c0", "One merge back", () => show(step - 1)),
    play, button("\u25b6", "One merge forward", () => show(step + 1)), button("End", "All merges", () => show(t.vocab - 256))];
  tools[0].tabIndex = 0;
  const toolbar = el("div", { role: "toolbar", "aria-label": "Play the merges", class: "toolbar" }, ...tools);
  toolbar.addEventListener("keydown", (e) => {
    const i = tools.indexOf(document.activeElement), d = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (i < 0 || !d) return;
    const to = tools[(i + d + tools.length) % tools.length];
    tools.forEach((b) => (b.tabIndex = b === to ? 0 : -1));
    to.focus();
  });

  // the grid: one tab stop; the arrow keys move the active token
  const grid = el("div", { class: "grid", id: "bpe-grid", role: "listbox", tabindex: "0",
    "aria-label": "The vocabulary: arrow keys move, Enter follows a token into the model" });
  const cells = [];
  const tip = el("div", { class: "tooltip", id: "bpe-tip", "aria-live": "polite" },
    "Point at a token, or walk the grid with the arrow keys, to see where it came from.");
  const chart = el("div", { id: "bpe-chart" });
  const chartTitle = el("h3", {}, "Candidates");
  const timing = el("p", { class: "note", id: "bpe-timing" });
  const examples = el("div", { id: "bpe-examples" });
  const own = el("textarea", { rows: 3, id: "bpe-text", "aria-label": "Your text",
    placeholder: "Paste a text to train on, or choose a file\u2026" });
  const file = el("input", { type: "file", accept: ".txt,text/plain", "aria-label": "A text file to train on" });
  file.addEventListener("change", async () => { if (file.files[0]) own.value = await file.files[0].text(); });
  const ownButton = el("button", { onclick: () => train(new TextEncoder().encode(own.value), "your text") }, "Train on this text");
  const shakespeare = el("button", { onclick: () => train(page.corpus, "tinyshakespeare") }, "Back to Shakespeare");

  fig.replaceChildren(el("div", { class: "controls" }, toolbar, slider, counter),
    el("div", { class: "grid-wrap", tabindex: "-1" }, grid), tip,
    el("div", { class: "row" }, el("div", { class: "grow" }, chartTitle, chart), el("div", { class: "grow" }, timing)),
    el("h3", {}, "Any script, any emoji"), examples,
    el("details", {}, el("summary", {}, "Train on your own text"), own,
      el("div", { class: "controls" }, file, ownButton, shakespeare)));

  // The grid is built for a number of columns and its labels cut to fit
  // its cells (with an ellipsis: the tip has the whole token).
  let capacity = () => true;
  function build() {
    const rows = 768 / cols;
    grid.style.gridTemplateColumns = `3.2em repeat(${cols}, minmax(0, 1fr))`;
    const head = (text = "") => el("div", { class: "head", "aria-hidden": "true" }, text);
    grid.replaceChildren(head());
    cells.length = 0;
    for (let c = 0; c < cols; c++) grid.append(head(hex(c)));
    for (let r = 0; r < rows; r++) {
      grid.append(head(hex(r * cols, 3)));
      for (let c = 0; c < cols; c++) {
        const cell = el("div", { class: "cell", role: "option", "data-id": r * cols + c, id: `bpe-cell-${r * cols + c}` });
        cells.push(cell);
        grid.append(cell);
      }
    }
  }
  function fit() {
    const probe = cells[0], room = probe.clientWidth - 4, font = getComputedStyle(probe).font;
    const c = new OffscreenCanvas(1, 1).getContext("2d");
    c.font = font;
    capacity = (s) => c.measureText(s).width <= room;
  }
  function shortLabel(id) {
    const s = label(id);
    if (capacity(s)) return s;
    const chars = Array.from(s);
    for (let n = chars.length - 1; n > 0; n--) if (capacity(chars.slice(0, n).join("") + "\u2026")) return chars.slice(0, n).join("") + "\u2026";
    return "\u2026";
  }

  function describe(id) {
    active = id;
    grid.setAttribute("aria-activedescendant", `bpe-cell-${id}`);
    cells.forEach((c, i) => { c.classList.toggle("active", i === id); c.setAttribute("aria-selected", String(i === id)); });
    if (id >= 256 + step) {
      tip.textContent = `Token ${id} does not exist yet: merge ${id - 255} will make it.`;
      return;
    }
    if (id < 256) {
      tip.replaceChildren(`Token ${id}: the byte `, el("code", {}, `0x${hex(id)}`), ` (${byteLabel(id)}). `,
        "Every text is made of these 256.");
      return;
    }
    const r = id - 256, l = t.merges[2 * r], rt = t.merges[2 * r + 1];
    tip.replaceChildren(`Token ${id} `, el("code", {}, text(id)), ": bytes ",
      el("code", {}, Array.from(tokenBytes(t, id), (b) => hex(b)).join(" ")),
      `. Merge ${r + 1} joined `, el("code", {}, text(l)), ` (${l}) and `, el("code", {}, text(rt)),
      ` (${rt}), seen ${t.counts[r].toLocaleString("en")} times.`);
  }
  // The cell under the pointer, when the pointer moves: not when the grid
  // scrolls under a pointer at rest (as the arrow keys scroll it), which
  // would take the keyboard's cursor away.
  let pointer = "";
  grid.addEventListener("pointermove", (e) => {
    const at = `${e.clientX},${e.clientY}`, id = Number(e.target.dataset?.id);
    if (at === pointer) return;
    pointer = at;
    if (Number.isInteger(id) && e.target.classList.contains("cell")) describe(id);
  });
  // a token picked here is followed into the model's chapters
  const pick = (id) => { if (id < 256 + step) page.emit("pick", id); };
  grid.addEventListener("click", (e) => { const id = Number(e.target.dataset?.id); if (Number.isInteger(id)) pick(id); });
  grid.addEventListener("keydown", (e) => {
    const d = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, Home: -(active % cols),
      End: cols - 1 - (active % cols) }[e.key];
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); return pick(active); }
    if (d === undefined) return;
    e.preventDefault();
    describe(Math.max(0, Math.min(767, active + d)));
    cells[active].scrollIntoView({ block: "nearest", inline: "nearest" });
  });
  grid.addEventListener("focus", () => describe(active));

  function show(k) {
    step = Math.max(0, Math.min(t.vocab - 256, k));
    slider.value = step;
    counter.textContent = `Vocab: ${plural(256 + step, "token")} \u00b7 ${plural(step, "merge")}`;
    for (let id = 0; id < cells.length; id++) {
      const c = cells[id], exists = id < 256 + step;
      c.className = `cell ${!exists ? "empty" : id < 256 ? (id < 33 || id >= 127 ? "ctrl byte" : "byte")
        : id === 255 + step ? "merged latest" : "merged"}${id === active && document.activeElement === grid ? " active" : ""}`;
      c.textContent = exists ? shortLabel(id) : "";
      c.dataset.label = exists ? label(id) : "";
      c.setAttribute("aria-label", exists ? `token ${id}: ${label(id)}` : `token ${id}: not made yet`);
    }
    // the candidates of the merge just made (or, at the start, of the first)
    const s = Math.max(0, step - 1);
    if (t.trace && t.vocab > 256) {
      const at = s * t.stepWords, n = t.trace[at + 1], rows = [];
      for (let j = 0; j < n; j++) {
        const l = t.trace[at + 2 + 3 * j], r = t.trace[at + 3 + 3 * j], count = t.trace[at + 4 + 3 * j];
        rows.push({ label: `${label(l)} ${label(r)}`, value: count, highlight: j === 0 });
      }
      chartTitle.textContent = step === 0 ? "The pairs competing for the first merge"
        : `Merge ${step}: the pairs that competed (the winner in orange)`;
      chart.rows = rows;
      if (chart.width) render(barChart({ width: chart.width, rows, format: (v) => v.toLocaleString("en") }), chart);
    }
  }
  scope.add(sized(chart, (w) => { chart.width = w; if (chart.rows) render(barChart({ width: w, rows: chart.rows,
    format: (v) => v.toLocaleString("en") }), chart); }));
  scope.add(sized(grid, (w) => {
    const want = w / 32 >= 30 ? 32 : 16;
    if (want !== cols || !cells.length) { cols = want; build(); }
    fit();
    if (t) show(step);
  }));

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
  scope.add(stop);
  slider.addEventListener("input", () => show(Number(slider.value)));

  async function showExamples(name) {
    const samples = [["\u732b", "a CJK character (cat)"], ["\ud83d\udc08", "an emoji (cat)"], ["To be", "English"]];
    const rows = [];
    for (const [s, what] of samples) {
      const ids = await engine.encode(t.id, s), bytes = new TextEncoder().encode(s);
      rows.push(el("li", {}, el("span", { class: "merge" }, el("span", { class: "glyph" }, s), `, ${what}`),
        `${plural(bytes.length, "byte")} (${Array.from(bytes, (b) => hex(b)).join(" ")}) \u2192 ${plural(ids.length, "token")}: `,
        el("code", {}, Array.from(ids).join(" "))));
    }
    examples.replaceChildren(
      el("p", {}, "A Chinese character is three bytes in UTF-8 and an emoji four, so each starts as ",
        "several byte tokens. Nothing is ever unknown: the bytes always work. Merges only help where ",
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
    // The first one, Shakespeare's, stays: with no model on the server,
    // training a model starts from it.
    if (old && old !== page.tokenizer) engine.free(old.id);
    page.tokenizer ??= t;
    slider.max = t.vocab - 256;
    timing.textContent = `The trainer made ${plural(t.vocab - 256, "merge")} on ${plural(bytes.length, "byte")} ` +
      `of ${name} in ${t.ms.toFixed(0)} ms, here in your browser. The text became ` +
      `${plural(t.trainedTokens, "token")}, ${(bytes.length / t.trainedTokens).toFixed(2)} bytes each.` +
      (t.vocab < 768 ? ` It ran out of pairs after ${plural(t.vocab - 256, "merge")}.` : "");
    show(t.vocab - 256);
    await showExamples(name);
  }

  await train(page.corpus, "tinyshakespeare");
  fig.dataset.trained = "true";
}
