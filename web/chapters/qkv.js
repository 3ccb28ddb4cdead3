// QKV projection: each position's normalised vector times one fused weight
// W_qkv [d x 3d] gives its query, key and value, every head's slice at once.
import { engine } from "../engine.js";
import { el, heatmap, matrix } from "../draw.js";
import { inputTokens, layerPicker } from "./input.js";

export async function qkv(model) {
  const fig = document.getElementById("qkv-figure");
  const { dModel: d, nHead: H, nLayer: L } = model.config, hs = d / H;
  const { ids, labels } = await inputTokens(model);
  const T = ids.length;
  const { wqkv, bqkv } = await engine.tensors(model.id, ["wqkv", "bqkv"]);
  const readout = el("div", { class: "readout", id: "qkv-readout", "aria-live": "polite" },
    "Hover a number of qkv to see where it comes from.");
  const body = el("div");
  fig.replaceChildren(el("div", { class: "controls" }, layerPicker(document, "qkv-layer", L, show)), body, readout);
  const colLabels = Array.from({ length: 3 * d }, (_, j) =>
    j % hs === 0 ? `${"QKV"[Math.floor(j / d)]}${Math.floor((j % d) / hs) + 1}` : "");
  const marks = Array.from({ length: 3 * H }, (_, k) => k * hs);

  async function show(l) {
    const o = await engine.observe(model.id, ids, [["ln1", l], ["qkv", l]]);
    const ln1 = o[`ln1/${l}`].data, q = o[`qkv/${l}`].data;
    const w = wqkv.data.subarray(l * d * 3 * d, (l + 1) * d * 3 * d), b = bqkv.data.subarray(l * 3 * d, (l + 1) * 3 * d);
    const left = el("div"), mid = el("div", { style: "min-width: 12rem; flex: 1" }), right = el("div", { id: "qkv-out" });
    body.replaceChildren(el("div", { class: "eq" },
      el("div", {}, el("h3", {}, `LayerNorm(x) [${T}\u00d7${d}]`), left), el("span", { class: "op" }, "@"),
      el("div", { style: "flex: 1; min-width: 12rem" }, el("h3", {}, `W_qkv [${d}\u00d7${3 * d}] (+ bias)`), mid)),
    el("h3", {}, `= qkv [${T}\u00d7${3 * d}]: queries | keys | values, head by head`), right);
    matrix(left, { data: ln1, rows: T, cols: d, rowLabels: labels, numbers: d <= 8, name: `layer ${l + 1} LayerNorm(x)`, readout });
    heatmap(mid, { name: `layer ${l + 1} W_qkv`, data: w, rows: d, cols: 3 * d });
    matrix(right, { data: q, rows: T, cols: 3 * d, rowLabels: labels, colLabels, marks, numbers: d <= 8,
      explain: (r, c) => {
        const part = "QKV"[Math.floor(c / d)], head = Math.floor((c % d) / hs) + 1;
        readout.textContent = `qkv[${r}][${c}] = ${q[r * 3 * d + c].toFixed(6)}: the ${part === "Q" ? "query" :
          part === "K" ? "key" : "value"} of \u201c${labels[r]}\u201d for head ${head} (dimension ${c % hs} of ${hs}), ` +
          `the dot product of its LayerNorm row with column ${c} of W_qkv, plus the bias ${b[c].toFixed(6)}.`;
      } });
  }
  await show(0);
}
