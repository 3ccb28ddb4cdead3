// Concat and output projection: the heads' outputs side by side, times W_out,
// added back to the residual stream.
import { html, render } from "../vendor/lit-html.js";
import { fixed, matrixView } from "../draw.js";
import { dims, layerSlice } from "./input.js";

export function projection(fig, snap, scope) {
  const { dModel: d, nHead: H } = snap.config, hs = d / H, l = snap.layer, { ids, labels } = snap, T = ids.length;
  const x = l ? snap.act("res_ff", l - 1) : snap.act("encoded"), atty = snap.act("atty", l);
  const proj = snap.act("attproj", l), res = snap.act("res_att", l), w = layerSlice(snap.params.wout, l);
  const marks = Array.from({ length: H }, (_, h) => h * hs), heads = marks.map((_, h) => `h${h + 1}`);
  const headLabels = Array.from({ length: d }, (_, j) => (j % hs === 0 ? heads[j / hs] : ""));
  render(html`<p class="note">Layer ${l + 1} of ${snap.config.nLayer}.</p>
    <h3>heads, concatenated [${T}\u00d7${d}]</h3><div id="projection-atty"></div>
    <div class="eq"><span class="op">@</span><div class="grow"><h3>W<sub>out</sub> [${d}\u00d7${d}]</h3><div id="projection-w"></div></div></div>
    <h3>= the projection [${T}\u00d7${d}]</h3><div id="projection-proj"></div>
    <h3>the residual stream x [${T}\u00d7${d}]</h3><div id="projection-x"></div>
    <h3>x + the projection = x after attention [${T}\u00d7${d}]</h3><div id="projection-res"></div>
    <p>The sum only works because the projection has the stream's shape, ${T}\u00d7${d}: W<sub>out</sub> maps the
      ${H} heads' ${hs} numbers each back to the model's ${d}. Every block reads from this stream and adds to it.</p>`, fig);
  const rows = { rows: T, rowLabels: labels, rowsAre: "position", ids, rowTitle: "positions" };
  matrixView(fig.querySelector("#projection-atty"), { ...rows, name: "heads, concatenated", data: atty, cols: d, marks,
    colLabels: headLabels, colTitle: "each head's output",
    explain: (r, c) => `head ${Math.floor(c / hs) + 1}'s output for \u201c${labels[r]}\u201d, dimension ${c % hs}: ${fixed(atty[r * d + c], 6)}` }, scope);
  matrixView(fig.querySelector("#projection-w"), { name: `layer ${l + 1} W_out`, data: w, rows: d, cols: d, square: true,
    rowLabels: dims(d), rowTitle: "the heads' dimensions", colTitle: "the stream's dimensions" }, scope);
  matrixView(fig.querySelector("#projection-proj"), { ...rows, name: "projection", data: proj, cols: d, colLabels: dims(d),
    colTitle: "dimensions" }, scope);
  matrixView(fig.querySelector("#projection-x"), { ...rows, name: "x", data: x, cols: d, colLabels: dims(d), colTitle: "dimensions" }, scope);
  matrixView(fig.querySelector("#projection-res"), { ...rows, name: "x after attention", data: res, cols: d, colLabels: dims(d),
    colTitle: "dimensions", explain: (r, c) => `${fixed(x[r * d + c], 4)} + ${fixed(proj[r * d + c], 4)} = ${fixed(res[r * d + c], 4)}` }, scope);
}
