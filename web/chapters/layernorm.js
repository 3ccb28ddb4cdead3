// LayerNorm, where it sits: before attention, before the feed-forward, and
// at the end. A real row, before and after, with its mean and variance.
import { engine } from "../engine.js";
import { el, matrix } from "../draw.js";
import { inputTokens } from "./input.js";

export async function layernorm(model) {
  const fig = document.getElementById("layernorm-figure");
  const { dModel: d, nLayer: L } = model.config;
  const { ids, labels } = await inputTokens(model);
  const T = ids.length;
  const places = [];
  for (let l = 0; l < L; l++) {
    places.push({ label: `layer ${l + 1}, before attention`, before: l ? ["res_ff", l - 1] : ["encoded", -1], after: ["ln1", l] });
    places.push({ label: `layer ${l + 1}, before the feed-forward`, before: ["res_att", l], after: ["ln2", l] });
  }
  places.push({ label: "at the end, before the head", before: ["res_ff", L - 1], after: ["lnf", -1] });
  const where = el("select", { id: "layernorm-place", "aria-label": "Which LayerNorm" },
    ...places.map((p, i) => el("option", { value: i }, p.label)));
  const row = el("select", { id: "layernorm-row", "aria-label": "Which token" },
    ...labels.map((t, i) => el("option", { value: i }, `${t} (position ${i})`)));
  const body = el("div"), readout = el("div", { class: "readout", id: "layernorm-readout", "aria-live": "polite" });
  fig.replaceChildren(el("div", { class: "controls" }, el("label", {}, "LayerNorm ", where), el("label", {}, "Row ", row)), body, readout);

  async function show() {
    const p = places[Number(where.value)], t = Number(row.value);
    const o = await engine.observe(model.id, ids, [p.before, p.after]);
    const before = o[p.before.join("/")].data.subarray(t * d, (t + 1) * d), after = o[p.after.join("/")].data.subarray(t * d, (t + 1) * d);
    const [mb, ma] = await engine.moments([before, after]);
    const a = el("div", { id: "layernorm-before" }), b = el("div", { id: "layernorm-after" });
    body.replaceChildren(
      el("h3", {}, `before: mean ${mb.mean.toFixed(4)}, variance ${mb.variance.toFixed(4)}`), a,
      el("h3", {}, `after: mean ${ma.mean.toFixed(4)}, variance ${ma.variance.toFixed(4)}`), b,
      el("p", { class: "note", id: "layernorm-note" }, `LayerNorm subtracts the row's mean (${mb.mean.toFixed(4)}), divides by its ` +
        `standard deviation (\u221a${mb.variance.toFixed(4)}), then scales and shifts each dimension by two learned weights; ` +
        `so the row after has a mean near 0 and a variance near 1, unless those weights moved it.`));
    matrix(a, { data: before, rows: 1, cols: d, numbers: d <= 8, name: "before", readout });
    matrix(b, { data: after, rows: 1, cols: d, numbers: d <= 8, name: "after", readout });
  }
  where.addEventListener("change", show);
  row.addEventListener("change", show);
  await show();
}
