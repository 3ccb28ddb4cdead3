// Embedded input: token embedding + position embedding = the input [T x d],
// cell by cell, with the engine's numbers.
import { html, render } from "../vendor/lit-html.js";
import { fixed, matrixView } from "../draw.js";
import { dims, rowsOf } from "./input.js";

const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;

export function embedded(fig, snap, scope) {
  const { dModel: d } = snap.config, { ids, labels } = snap, T = ids.length;
  const wte = snap.params.wte.data, sum = snap.act("encoded");
  const tok = rowsOf(wte, ids, d), pos = snap.params.wpe.data.subarray(0, T * d);
  let running = false;
  render(html`<div class="eq">
      <div><h3>token rows [${T}\u00d7${d}]</h3><div id="embedded-tok"></div></div><span class="op">+</span>
      <div><h3>positions 0\u2013${T - 1} [${T}\u00d7${d}]</h3><div id="embedded-pos"></div></div><span class="op">=</span>
      <div><h3>the input x [${T}\u00d7${d}]</h3><div id="embedded-sum"></div></div></div>
    <div class="controls"><button id="embedded-play" @click=${() => playSum()}>Show the sum, cell by cell</button></div>
    <div class="readout" id="embedded-readout" aria-live="polite"></div>`, fig);
  const readout = fig.querySelector("#embedded-readout");
  const explain = (r, k) => `x[${r}][${k}] = tokEmb[${ids[r]}][${k}] + posEmb[${r}][${k}] = ` +
    `${fixed(tok[r * d + k], 4)} + ${fixed(pos[r * d + k], 4)} = ${fixed(sum[r * d + k], 4)}`;
  const common = { rows: T, cols: d, colLabels: dims(d), rowsAre: "position", ids, colTitle: "dimensions",
    explain: (r, k) => { readout.textContent = explain(r, k); return explain(r, k); } };
  const views = [
    matrixView(fig.querySelector("#embedded-tok"), { ...common, name: "token rows", data: tok, rowLabels: labels, rowTitle: "positions" }, scope),
    matrixView(fig.querySelector("#embedded-pos"), { ...common, name: "position rows", data: pos }, scope),
    matrixView(fig.querySelector("#embedded-sum"), { ...common, name: "x", data: sum }, scope)];
  // The cursor walks the sum, its two terms pointed at beside it.
  async function playSum() {
    if (running) return;
    running = true;
    const last = T * d - 1, ms = Math.max(30, Math.min(220, 2400 / (T * d)));
    for (let i = reduceMotion ? last : 0; i <= last && !scope.signal.aborted; i++) {
      views.forEach((v) => v.point(Math.floor(i / d), i % d, "play"));
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    running = false;
  }
}
