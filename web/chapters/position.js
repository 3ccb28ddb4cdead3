// Position embedding: a second table [ctx x d], added to the token's row, so
// that the same word at two places differs. Learned, or a fixed table of
// sines and cosines; the engine makes both.
import { html, render } from "../vendor/lit-html.js";
import { matrixView } from "../draw.js";
import { dims } from "./input.js";

export function position(fig, snap, scope) {
  const { ctx: P, dModel: d, pos } = snap.config, T = snap.ids.length;
  const own = snap.params.wpe.data, fixedTable = snap.sinusoidal;
  let kind = pos === "sinusoidal" ? "sinusoidal" : "learned";
  function show() {
    const sinus = kind === "sinusoidal", data = sinus ? fixedTable : own;
    render(html`<div class="controls"><label>Show <select id="position-kind" aria-label="Position embedding"
        @change=${(e) => { kind = e.target.value; show(); }}>
        <option value="learned" ?selected=${!sinus}>this model's table (${pos})</option>
        <option value="sinusoidal" ?selected=${sinus}>the fixed sinusoidal table</option></select></label></div>
      <p id="position-formula">${sinus ? html`pe[pos][2i] = sin(pos / 10000<sup>2i/d</sup>), pe[pos][2i+1] =
        cos(pos / 10000<sup>2i/d</sup>). For example position 1, dimension 0 = sin(1) \u2248
        <strong id="position-example">${data[d].toFixed(4)}</strong>: the engine's own table. Not trained.`
        : pos === "learned" ? "Learned like every other weight: these numbers started random and training shaped them."
          : "This model uses the fixed table: the engine made it, and training leaves it as it is."}</p>
      <div id="position-cells"></div>`, fig);
    matrixView(fig.querySelector("#position-cells"), { name: sinus ? "posEmb (sinusoidal)" : "posEmb", data, rows: P, cols: d,
      rowLabels: Array.from({ length: P }, (_, p) => `pos ${p}`), colLabels: dims(d), rowTitle: "positions",
      colTitle: "dimensions", rowsAre: "position", ids: snap.ids.slice(0, T),
      explain: (r, c) => `posEmb[${r}][${c}] = ${data[r * d + c].toFixed(6)}` +
        (sinus ? ` = ${c % 2 ? "cos" : "sin"}(${r} / 10000^(${c - (c % 2)}/${d}))` : pos === "learned" ? ", a learned weight" : "") }, scope);
  }
  show();
}
