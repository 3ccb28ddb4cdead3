// Multi-head attention: each head compares every query with the keys before
// it, q.k / sqrt(dh), masks the future, takes a softmax, and mixes the
// values: its output, att @ V.
import { html, render } from "../vendor/lit-html.js";
import { fixed, matrixView } from "../draw.js";
import { dims } from "./input.js";

export function attention(fig, snap, scope) {
  const { dModel: d, nHead: H } = snap.config, hs = d / H, l = snap.layer, { ids, labels } = snap, T = ids.length;
  const q = snap.act("qkv", l), scores = snap.act("scores", l), att = snap.act("att", l), atty = snap.act("atty", l);
  const fmt = (xs) => `[${Array.from(xs, (v) => fixed(v, 3)).join(", ")}]`;
  const part = (t, k, h) => q.subarray(t * 3 * d + k * d + h * hs, t * 3 * d + k * d + (h + 1) * hs);
  render(html`<p class="note">Layer ${l + 1} of ${snap.config.nLayer}. Rows are queries, columns keys; both are the
      sentence's positions.</p>
    <div class="heads" id="attention-heads">${Array.from({ length: H }, (_, h) => html`<div class="head-box" data-head=${h}>
      <h3>Head ${h + 1}: scores q\u00b7k/\u221a${hs}</h3><div class="scores"></div>
      <h3>after the mask and softmax</h3><div class="weights"></div>
      <h3>its output: weights @ V [${T}\u00d7${hs}]</h3><div class="out"></div></div>`)}</div>
    <div class="readout" id="attention-readout" aria-live="polite">Point at a score or a weight to see where it comes from.</div>`, fig);
  const readout = fig.querySelector("#attention-readout");
  const say = (text) => { readout.textContent = text; return text; };
  const common = { rows: T, cols: T, rowLabels: labels, colLabels: labels, rowsAre: "position", colsAre: "position", ids,
    rowTitle: "queries", colTitle: "keys" };
  for (let h = 0; h < H; h++) {
    const box = fig.querySelector(`[data-head="${h}"]`);
    const s = scores.subarray(h * T * T, (h + 1) * T * T), a = att.subarray(h * T * T, (h + 1) * T * T);
    const out = new Float32Array(T * hs);
    for (let t = 0; t < T; t++) out.set(atty.subarray(t * d + h * hs, t * d + (h + 1) * hs), t * hs);
    matrixView(box.querySelector(".scores"), { ...common, name: `head ${h + 1} scores`, data: s, masked: (r, c) => c > r,
      explain: (r, c) => say(`Head ${h + 1}, score of \u201c${labels[r]}\u201d (query ${r}) for \u201c${labels[c]}\u201d ` +
        `(key ${c}): q${fmt(part(r, 0, h))} \u00b7 k${fmt(part(c, 1, h))} / \u221a${hs} = ${fixed(s[r * T + c], 6)}, before the mask.` +
        (c > r ? " It is masked: a token may not look ahead, so after the softmax its weight is 0." : "")) }, scope);
    matrixView(box.querySelector(".weights"), { ...common, name: `head ${h + 1} weights`, data: a, scale: 1, fixedScale: true,
      explain: (r, c) => say(`Head ${h + 1}: \u201c${labels[r]}\u201d gives ${(100 * a[r * T + c]).toFixed(2)}% of its ` +
        `attention to \u201c${labels[c]}\u201d: the softmax of row ${r} of the scores, over keys 0 to ${r}.`) }, scope);
    matrixView(box.querySelector(".out"), { name: `head ${h + 1} output`, data: out, rows: T, cols: hs, rowLabels: labels,
      colLabels: dims(hs), rowsAre: "position", ids, rowTitle: "positions", colTitle: "the head's dimensions",
      explain: (r, c) => say(`Head ${h + 1}'s output for \u201c${labels[r]}\u201d, dimension ${c}: ` +
        `${Array.from({ length: r + 1 }, (_, k) => `${fixed(a[r * T + k], 3)}\u00d7v${k}`).join(" + ")} = ${fixed(out[r * hs + c], 6)}` +
        `, the weights of row ${r} times the values of head ${h + 1}.`) }, scope);
  }
}
