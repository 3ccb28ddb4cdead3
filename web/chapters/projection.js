// Concat and output projection: the heads' outputs side by side, times W_out,
// added back to the residual stream.
import { engine } from "../engine.js";
import { el, heatmap, matrix } from "../draw.js";
import { inputTokens, layerPicker } from "./input.js";

export async function projection(model) {
  const fig = document.getElementById("projection-figure");
  const { dModel: d, nHead: H, nLayer: L } = model.config, hs = d / H;
  const { ids, labels } = await inputTokens(model);
  const T = ids.length;
  const { wout } = await engine.tensors(model.id, ["wout"]);
  const body = el("div"), readout = el("div", { class: "readout", id: "projection-readout", "aria-live": "polite" });
  fig.replaceChildren(el("div", { class: "controls" }, layerPicker(document, "projection-layer", L, show)), body, readout);
  const numbers = d <= 8, marks = Array.from({ length: H }, (_, h) => h * hs);

  async function show(l) {
    const input = l ? ["res_ff", l - 1] : ["encoded", -1];
    const o = await engine.observe(model.id, ids, [input, ["atty", l], ["attproj", l], ["res_att", l]]);
    const x = o[`${input[0]}/${input[1]}`].data, atty = o[`atty/${l}`].data;
    const proj = o[`attproj/${l}`].data, res = o[`res_att/${l}`].data;
    const boxes = ["atty", "w", "proj", "x", "res"].map((k) => el("div", { id: `projection-${k}` }));
    body.replaceChildren(
      el("div", { class: "eq" }, el("div", {}, el("h3", {}, `heads, concatenated [${T}\u00d7${d}]`), boxes[0]),
        el("span", { class: "op" }, "@"), el("div", { style: "flex: 1; min-width: 10rem" }, el("h3", {}, `W_out [${d}\u00d7${d}]`), boxes[1]),
        el("span", { class: "op" }, "="), el("div", {}, el("h3", {}, `projection [${T}\u00d7${d}]`), boxes[2])),
      el("div", { class: "eq" }, el("div", {}, el("h3", {}, `the residual stream x [${T}\u00d7${d}]`), boxes[3]),
        el("span", { class: "op" }, "+"), el("div", {}, el("h3", {}, "the projection"), el("p", { class: "note" }, "(above)")),
        el("span", { class: "op" }, "="), el("div", {}, el("h3", {}, `x after attention [${T}\u00d7${d}]`), boxes[4])),
      el("p", {}, `The sum only works because the projection has the stream's shape, ${T}\u00d7${d}: W_out maps the ` +
        `${H} heads' ${hs} numbers each back to the model's ${d}. Every block reads from this stream and adds to it.`));
    matrix(boxes[0], { data: atty, rows: T, cols: d, rowLabels: labels, numbers, marks,
      explain: (r, c) => { readout.textContent = `head ${Math.floor(c / hs) + 1}'s output for \u201c${labels[r]}\u201d, ` +
        `dimension ${c % hs}: ${atty[r * d + c].toFixed(6)}`; } });
    heatmap(boxes[1], { name: `layer ${l + 1} W_out`, data: wout.data.subarray(l * d * d, (l + 1) * d * d), rows: d, cols: d });
    matrix(boxes[2], { data: proj, rows: T, cols: d, numbers,
      explain: (r, c) => { readout.textContent = `projection[${r}][${c}] = ${proj[r * d + c].toFixed(6)}`; } });
    matrix(boxes[3], { data: x, rows: T, cols: d, rowLabels: labels, numbers, name: "x", readout });
    matrix(boxes[4], { data: res, rows: T, cols: d, numbers,
      explain: (r, c) => { readout.textContent = `${x[r * d + c].toFixed(4)} + ${proj[r * d + c].toFixed(4)} = ${res[r * d + c].toFixed(4)}`; } });
  }
  await show(0);
}
