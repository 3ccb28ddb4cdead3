// QKV projection: each position's normalised vector times one fused weight
// W_qkv [d x 3d] gives its query, key and value, every head's slice at once.
import { html, render } from "../vendor/lit-html.js";
import { matrixView } from "../draw.js";
import { dims, layerSlice } from "./input.js";

// Where each section of a [.. x 3d] qkv row starts, and its name (Q1, K2...).
export function qkvColumns(d, H) {
  const hs = d / H, marks = Array.from({ length: 3 * H }, (_, k) => k * hs);
  const labels = Array.from({ length: 3 * d }, (_, j) => (j % hs === 0 ? `${"QKV"[Math.floor(j / d)]}${Math.floor((j % d) / hs) + 1}` : ""));
  return { marks, labels };
}

export function qkv(fig, snap, scope) {
  const { dModel: d, nHead: H } = snap.config, hs = d / H, l = snap.layer, { ids, labels } = snap, T = ids.length;
  const ln1 = snap.act("ln1", l), q = snap.act("qkv", l);
  const w = layerSlice(snap.params.wqkv, l), b = layerSlice(snap.params.bqkv, l);
  const { marks, labels: colLabels } = qkvColumns(d, H);
  render(html`<p class="note">Layer ${l + 1} of ${snap.config.nLayer}.</p>
    <div class="eq"><div><h3>LayerNorm(x) [${T}\u00d7${d}]</h3><div id="qkv-ln"></div></div><span class="op">@</span>
      <div class="grow"><h3>W<sub>qkv</sub> [${d}\u00d7${3 * d}] (+ bias)</h3><div id="qkv-w"></div></div></div>
    <h3>= qkv [${T}\u00d7${3 * d}]: queries | keys | values, head by head</h3><div id="qkv-out"></div>`, fig);
  matrixView(fig.querySelector("#qkv-ln"), { name: `layer ${l + 1} LayerNorm(x)`, data: ln1, rows: T, cols: d,
    rowLabels: labels, colLabels: dims(d), rowTitle: "positions", colTitle: "dimensions", rowsAre: "position", ids }, scope);
  matrixView(fig.querySelector("#qkv-w"), { name: `layer ${l + 1} W_qkv`, data: w, rows: d, cols: 3 * d, square: true,
    marks, colLabels, rowLabels: dims(d), rowTitle: "input dimensions", colTitle: "Q, K and V of each head" }, scope);
  matrixView(fig.querySelector("#qkv-out"), { name: "qkv", data: q, rows: T, cols: 3 * d, rowLabels: labels, colLabels, marks,
    rowTitle: "positions", colTitle: "Q, K and V of each head", rowsAre: "position", ids,
    explain: (r, c) => {
      const part = "QKV"[Math.floor(c / d)], head = Math.floor((c % d) / hs) + 1;
      return `qkv[${r}][${c}] = ${q[r * 3 * d + c].toFixed(6)}: the ${part === "Q" ? "query" : part === "K" ? "key" : "value"} ` +
        `of \u201c${labels[r]}\u201d for head ${head} (dimension ${c % hs} of ${hs}), the dot product of its LayerNorm row ` +
        `with column ${c} of W_qkv, plus the bias ${b[c].toFixed(6)}.`;
    } }, scope);
}
