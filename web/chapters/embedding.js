// Token embedding: the table [V x d] the model looks its input up in.
import { engine } from "../engine.js";
import { el, heatmap, matrix } from "../draw.js";
import { inputTokens, INPUT } from "./input.js";

export async function embedding(model) {
  const fig = document.getElementById("embedding-figure");
  const { vocab: V, dModel: d } = model.config;
  const { ids, labels } = await inputTokens(model);
  const { wte } = await engine.tensors(model.id, ["wte"]);
  const table = el("div", { id: "embedding-table" }), rows = el("div", { id: "embedding-rows" });
  const readout = el("div", { class: "readout", id: "embedding-readout", "aria-live": "polite" },
    "Hover a number to see where it sits in the table.");
  fig.replaceChildren(
    el("h3", {}, `The whole table: ${V} tokens \u00d7 ${d} dimensions, one column per token here`), table,
    el("h3", {}, `The rows of \u201c${INPUT}\u201d, lifted out`), rows, readout);
  heatmap(table, { name: "tokEmb", data: wte.data, rows: V, cols: d, highlightRows: ids });
  const picked = new Float32Array(ids.length * d);
  ids.forEach((id, i) => picked.set(wte.data.subarray(id * d, (id + 1) * d), i * d));  // rows, copied as they are
  matrix(rows, { data: picked, rows: ids.length, cols: d, rowLabels: ids.map((id, i) => `${labels[i]} ${id}`),
    colLabels: Array.from({ length: d }, (_, j) => String(j)),
    explain: (r, c) => { readout.textContent = `tokEmb[${ids[r]}][${c}] = ${picked[r * d + c].toFixed(6)}: ` +
      `row ${ids[r]} (the token \u201c${labels[r]}\u201d), dimension ${c} of [${V}\u00d7${d}]. ` +
      `Training changes it like any other weight.`; } });
}
