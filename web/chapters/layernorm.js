// LayerNorm, where it sits: before attention, before the feed-forward, and
// at the end. The rows before and after, with each row's mean and variance
// as the engine computes them.
import { html, render } from "../vendor/lit-html.js";
import { fixed, matrixView } from "../draw.js";
import { dims } from "./input.js";

export function layernorm(fig, snap, scope) {
  const { dModel: d, nLayer: L } = snap.config, { ids, labels } = snap, T = ids.length;
  const names = [];
  for (let l = 0; l < L; l++) names.push(`layer ${l + 1}, before attention`, `layer ${l + 1}, before the feed-forward`);
  names.push("at the end, before the head");
  let place = 2 * snap.layer, row = 0;
  const key = (k) => k.split("/");
  function show() {
    const [before, after] = snap.places[place], [mb, ma] = snap.moments[place][row];
    render(html`<div class="controls"><label>LayerNorm <select id="layernorm-place" aria-label="Which LayerNorm"
        @change=${(e) => { place = Number(e.target.value); show(); }}>
        ${names.map((n, i) => html`<option value=${i} ?selected=${i === place}>${n}</option>`)}</select></label></div>
      <p class="note" id="layernorm-row">Row ${row}, \u201c${labels[row]}\u201d (point at another row to choose it):</p>
      <h3>before: mean ${fixed(mb.mean, 4)}, variance ${fixed(mb.variance, 4)}</h3><div id="layernorm-before"></div>
      <h3>after: mean ${fixed(ma.mean, 4)}, variance ${fixed(ma.variance, 4)}</h3><div id="layernorm-after"></div>
      <p class="note" id="layernorm-note">LayerNorm subtracts the row's mean (${fixed(mb.mean, 4)}), divides by its
        standard deviation (\u221a${fixed(mb.variance, 4)}), then scales and shifts each dimension by two learned weights;
        so the row after has a mean near 0 and a variance near 1, unless those weights moved it.</p>`, fig);
    const common = { rows: T, cols: d, rowLabels: labels, colLabels: dims(d), rowsAre: "position", ids,
      rowTitle: "positions", colTitle: "dimensions" };
    matrixView(fig.querySelector("#layernorm-before"), { ...common, name: "before", data: snap.act(...key(before)) }, scope);
    matrixView(fig.querySelector("#layernorm-after"), { ...common, name: "after", data: snap.act(...key(after)) }, scope);
  }
  scope.on("link", (l) => { if (l?.pos != null && l.pos < T && l.pos !== row) { row = l.pos; show(); } });
  show();
}
