// Multi-head attention: each head compares every query with the keys before
// it, q.k / sqrt(dh), masks the future, takes a softmax, and mixes the values.
import { engine } from "../engine.js";
import { el, matrix } from "../draw.js";
import { inputTokens, layerPicker } from "./input.js";

export async function attention(model) {
  const fig = document.getElementById("attention-figure");
  const { dModel: d, nHead: H, nLayer: L } = model.config, hs = d / H;
  const { ids, labels } = await inputTokens(model);
  const T = ids.length;
  const readout = el("div", { class: "readout", id: "attention-readout", "aria-live": "polite" },
    "Hover a score or a weight to see where it comes from.");
  const heads = el("div", { class: "heads", id: "attention-heads" });
  fig.replaceChildren(el("div", { class: "controls" }, layerPicker(document, "attention-layer", L, show)), heads, readout);
  const fmt = (xs) => `[${Array.from(xs, (v) => v.toFixed(3)).join(", ")}]`;

  async function show(l) {
    const o = await engine.observe(model.id, ids, [["qkv", l], ["scores", l], ["att", l]]);
    const q = o[`qkv/${l}`].data, scores = o[`scores/${l}`].data, att = o[`att/${l}`].data;
    const boxes = [];
    for (let h = 0; h < H; h++) {
      const s = scores.subarray(h * T * T, (h + 1) * T * T), a = att.subarray(h * T * T, (h + 1) * T * T);
      const sBox = el("div", { "data-head": h }), aBox = el("div", { "data-head": h });
      boxes.push(el("div", { class: "head-box" }, el("h3", {}, `Head ${h + 1}: scores q\u00b7k/\u221a${hs}`), sBox,
        el("h3", {}, `after the mask and softmax`), aBox));
      const qRow = (t) => q.subarray(t * 3 * d + h * hs, t * 3 * d + (h + 1) * hs);
      const kRow = (t) => q.subarray(t * 3 * d + d + h * hs, t * 3 * d + d + (h + 1) * hs);
      matrix(sBox, { data: s, rows: T, cols: T, rowLabels: labels, colLabels: labels, numbers: T <= 8,
        masked: (r, c) => c > r,
        explain: (r, c) => {
          readout.textContent = `Head ${h + 1}, score of \u201c${labels[r]}\u201d (query ${r}) for \u201c${labels[c]}\u201d ` +
            `(key ${c}): q${fmt(qRow(r))} \u00b7 k${fmt(kRow(c))} / \u221a${hs} = ${s[r * T + c].toFixed(6)}, before the mask.` +
            (c > r ? " It is masked: a token may not look ahead, so after the softmax its weight is 0." : "");
        } });
      matrix(aBox, { data: a, rows: T, cols: T, rowLabels: labels, colLabels: labels, numbers: T <= 8, scale: 1,
        explain: (r, c) => {
          readout.textContent = `Head ${h + 1}: \u201c${labels[r]}\u201d gives ${(100 * a[r * T + c]).toFixed(2)}% of its ` +
            `attention to \u201c${labels[c]}\u201d: the softmax of row ${r} of the scores, over keys 0 to ${r}. ` +
            `Its output is this row of weights times the values of head ${h + 1}.`;
        } });
    }
    heads.replaceChildren(...boxes);
  }
  await show(0);
}
