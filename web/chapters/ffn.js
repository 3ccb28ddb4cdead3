// Feed-forward: each position on its own, d -> 4d through GELU -> d, added
// back to the stream. The GELU curve is drawn from the engine's GELU.
import { engine } from "../engine.js";
import { el, matrix, svg } from "../draw.js";
import { inputTokens, layerPicker } from "./input.js";

export async function ffn(model) {
  const fig = document.getElementById("ffn-figure");
  const { dModel: d, dFF: F, nLayer: L } = model.config;
  const { ids, labels } = await inputTokens(model);
  const T = ids.length;
  const body = el("div"), curve = el("div", { id: "ffn-curve" });
  const readout = el("div", { class: "readout", id: "ffn-readout", "aria-live": "polite" });
  fig.replaceChildren(el("div", { class: "controls" }, layerPicker(document, "ffn-layer", L, show)), body,
    el("h3", {}, "GELU, with this layer's values on it"), curve, readout);
  const xs = Float32Array.from({ length: 161 }, (_, i) => -4 + i * 0.05);
  const ys = await engine.gelu(xs);

  async function show(l) {
    const o = await engine.observe(model.id, ids, [["ffh", l], ["ffh_gelu", l], ["ffproj", l], ["res_ff", l]]);
    const h = o[`ffh/${l}`].data, g = o[`ffh_gelu/${l}`].data, p = o[`ffproj/${l}`].data, r = o[`res_ff/${l}`].data;
    const boxes = ["h", "g", "p", "r"].map((k) => el("div", { id: `ffn-${k}` }));
    body.replaceChildren(
      el("h3", {}, `LayerNorm(x) @ W1 + b1 = hidden [${T}\u00d7${F}]`), boxes[0],
      el("h3", {}, `GELU(hidden) [${T}\u00d7${F}]`), boxes[1],
      el("div", { class: "eq" }, el("div", {}, el("h3", {}, `@ W2 + b2 = [${T}\u00d7${d}]`), boxes[2]),
        el("span", { class: "op" }, "\u2192"), el("div", {}, el("h3", {}, `x + that = x after the layer`), boxes[3])));
    matrix(boxes[0], { data: h, rows: T, cols: F, rowLabels: labels, numbers: false,
      explain: (a, b) => { readout.textContent = `hidden[${a}][${b}] = ${h[a * F + b].toFixed(5)}, GELU of it = ${g[a * F + b].toFixed(5)}`; } });
    matrix(boxes[1], { data: g, rows: T, cols: F, rowLabels: labels, numbers: false, name: "GELU(hidden)", readout });
    matrix(boxes[2], { data: p, rows: T, cols: d, rowLabels: labels, numbers: d <= 8, name: "hidden @ W2 + b2", readout });
    matrix(boxes[3], { data: r, rows: T, cols: d, numbers: d <= 8, name: "x after the layer", readout });
    // the curve, and the hidden values as dots on it
    const W = 520, H = 200, X = (x) => 30 + ((x + 4) / 8) * (W - 40), Y = (y) => H - 20 - ((y + 0.5) / 4.5) * (H - 30);
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "The GELU curve" });
    svg("line", { x1: X(-4), x2: X(4), y1: Y(0), y2: Y(0), class: "grid-line" }, s);
    svg("line", { x1: X(0), x2: X(0), y1: Y(-0.5), y2: Y(4), class: "grid-line" }, s);
    svg("polyline", { class: "series val", points: Array.from(xs, (x, i) => `${X(x)},${Y(ys[i])}`).join(" ") }, s);
    for (let i = 0; i < h.length; i++)
      if (h[i] > -4 && h[i] < 4) svg("circle", { cx: X(h[i]), cy: Y(g[i]), r: 2.2, class: "dot" }, s);
    curve.replaceChildren(s);
  }
  await show(0);
}
