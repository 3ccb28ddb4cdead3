// Position embedding: a second table [ctx x d], added to the token's row, so
// that the same word at two places differs. Learned, or a fixed table of
// sines and cosines: the toggle shows both, as the engine builds them.
import { engine } from "../engine.js";
import { el, heatmap, matrix } from "../draw.js";

export async function position(model) {
  const fig = document.getElementById("position-figure");
  const { ctx: P, dModel: d } = model.config;
  const learned = (await engine.tensors(model.id, ["wpe"])).wpe.data;
  // the fixed table, from a model configured with sinusoidal positions
  const sin = await engine.createModel(model.id, { ...model.config, pos: "sinusoidal" }, 1);
  const fixed = (await engine.tensors(sin.id, ["wpe"])).wpe.data;
  engine.free(sin.id);
  const kind = el("select", { id: "position-kind", "aria-label": "Position embedding" },
    el("option", { value: "learned" }, `learned (this model: ${model.config.pos})`), el("option", { value: "sinusoidal" }, "sinusoidal (fixed)"));
  const table = el("div", { id: "position-table" }), cells = el("div", { id: "position-cells" });
  const formula = el("p", { id: "position-formula" });
  const readout = el("div", { class: "readout", id: "position-readout", "aria-live": "polite" });
  fig.replaceChildren(el("div", { class: "controls" }, el("label", {}, "Show ", kind)), formula, table, cells, readout);

  function show() {
    const sinus = kind.value === "sinusoidal", data = sinus ? fixed : learned;
    formula.replaceChildren(...(sinus ? [
      "pe[pos][2i] = sin(pos / 10000", el("sup", {}, "2i/d"), "), pe[pos][2i+1] = cos(pos / 10000", el("sup", {}, "2i/d"),
      `). For example position 1, dimension 0 = sin(1) \u2248 `, el("strong", { id: "position-example" }, data[d].toFixed(4)),
      ": the engine's own table. Not trained."] : [
      "Learned like every other weight: these numbers started random and training shaped them."]));
    heatmap(table, { name: sinus ? "posEmb (sinusoidal)" : "posEmb", data, rows: P, cols: d });
    const rows = Math.min(P, 8);
    matrix(cells, { data: data.subarray(0, rows * d), rows, cols: d, numbers: d <= 8,
      rowLabels: Array.from({ length: rows }, (_, p) => `pos ${p}`),
      explain: (r, c) => { readout.textContent = `posEmb[${r}][${c}] = ${data[r * d + c].toFixed(6)}` +
        (sinus ? ` = ${c % 2 ? "cos" : "sin"}(${r} / 10000^(${c - (c % 2)}/${d}))` : ", a learned weight"); } });
  }
  kind.addEventListener("change", show);
  show();
}
