// Embedded input: token embedding + position embedding = the input [T x d],
// cell by cell, with the engine's numbers.
import { engine } from "../engine.js";
import { el, matrix } from "../draw.js";
import { inputTokens } from "./input.js";

const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

export async function embedded(model) {
  const fig = document.getElementById("embedded-figure");
  const { dModel: d } = model.config;
  const { ids, labels } = await inputTokens(model);
  const T = ids.length;
  const { wte, wpe } = await engine.tensors(model.id, ["wte", "wpe"]);
  const sum = (await engine.observe(model.id, ids, [["encoded", -1]]))["encoded/-1"].data;
  const tok = new Float32Array(T * d), pos = wpe.data.subarray(0, T * d);
  ids.forEach((id, t) => tok.set(wte.data.subarray(id * d, (id + 1) * d), t * d));  // the rows, copied
  const a = el("div", { id: "embedded-tok" }), b = el("div", { id: "embedded-pos" }), c = el("div", { id: "embedded-sum" });
  const readout = el("div", { class: "readout", id: "embedded-readout", "aria-live": "polite" });
  const play = el("button", { id: "embedded-play" }, "Show the sum, cell by cell");
  fig.replaceChildren(el("div", { class: "eq" },
    el("div", {}, el("h3", {}, `token rows [${T}\u00d7${d}]`), a), el("span", { class: "op" }, "+"),
    el("div", {}, el("h3", {}, `positions 0\u2013${T - 1} [${T}\u00d7${d}]`), b), el("span", { class: "op" }, "="),
    el("div", {}, el("h3", {}, `the input x [${T}\u00d7${d}]`), c)), el("div", { class: "controls" }, play), readout);
  const numbers = d <= 8, rowLabels = labels;
  const explain = (r, k) => {
    readout.textContent = `x[${r}][${k}] = tokEmb[${ids[r]}][${k}] + posEmb[${r}][${k}] = ` +
      `${tok[r * d + k].toFixed(4)} + ${pos[r * d + k].toFixed(4)} = ${sum[r * d + k].toFixed(4)}`;
  };
  matrix(a, { data: tok, rows: T, cols: d, rowLabels, numbers, explain });
  matrix(b, { data: pos, rows: T, cols: d, numbers, explain });
  const grid = matrix(c, { data: sum, rows: T, cols: d, numbers, explain });
  // Each cell's two numbers fly from their cells into the sum's cell.
  play.addEventListener("click", async () => {
    const cellsOf = (box) => box.querySelectorAll(".cell");
    const [ca, cb, cc] = [cellsOf(a), cellsOf(b), cellsOf(c)];
    if (reduceMotion) return explain(0, 0);  // no motion: the readout explains, hover shows the rest
    cc.forEach((x) => (x.style.opacity = "0.15"));
    const pause = (ms) => new Promise((res) => setTimeout(res, ms));
    const ms = Math.max(30, Math.min(220, 2400 / cc.length));
    for (let i = 0; i < cc.length; i++) {
      const to = cc[i].getBoundingClientRect();
      const flights = [ca[i], cb[i]].map((from) => {
        const r = from.getBoundingClientRect();
        const f = el("div", { class: "flight" }, from.textContent || from.dataset.v.slice(0, 5));
        Object.assign(f.style, { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px`,
          transition: `transform ${ms}ms ease-in, opacity ${ms}ms ease-in` });
        document.body.append(f);
        requestAnimationFrame(() => {
          f.style.transform = `translate(${to.left - r.left}px, ${to.top - r.top}px)`;
          f.style.opacity = "0.3";
        });
        return f;
      });
      explain(Math.floor(i / d), i % d);
      await pause(ms);
      flights.forEach((f) => f.remove());
      cc[i].style.opacity = "1";
    }
  });
  return grid;
}
