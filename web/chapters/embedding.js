// Token embedding: the table [V x d] the model looks its input up in, the
// rows of the sentence lifted out, and a map of every row.
import { html, render } from "../vendor/lit-html.js";
import { embeddingMap, fixed, matrixView } from "../draw.js";
import { dims, onItsSide, rowsOf } from "./input.js";

export function embedding(fig, snap, scope) {
  const { vocab: V, dModel: d } = snap.config, { ids, labels } = snap, T = ids.length;
  const wte = snap.params.wte.data;
  const picked = rowsOf(wte, ids, d), side = onItsSide(wte, V, d);  // side: a column per token
  render(html`<h3>The whole table: ${V} tokens \u00d7 ${d} dimensions, drawn on its side (a column per token)</h3>
    <div id="embedding-table"></div>
    <h3>The rows of \u201c${labels.join("")}\u201d, lifted out</h3>
    <div id="embedding-rows"></div>
    <h3>A map of all ${V} rows</h3>
    <div id="embedding-map"></div>
    <p class="note" id="embedding-pick" aria-live="polite"></p>`, fig);
  const pickNote = fig.querySelector("#embedding-pick");
  pickNote.textContent = "Pick a token in the BPE grid to find its row here.";
  matrixView(fig.querySelector("#embedding-table"), { name: "tokEmb (on its side)", data: side, rows: d, cols: V,
    rowLabels: dims(d), rowTitle: "dimensions", colTitle: "tokens 0\u2026" + (V - 1), colsAre: "token", square: true,
    numbers: false, explain: (j, v) => `tokEmb[${v}][${j}] = ${fixed(wte[v * d + j], 6)}: row ${v} (the token ` +
      `\u201c${snap.tokenLabel(v)}\u201d), dimension ${j}` }, scope);
  matrixView(fig.querySelector("#embedding-rows"), { name: "the sentence's rows", data: picked, rows: T, cols: d,
    rowLabels: ids.map((id, i) => `${labels[i]} ${id}`), colLabels: dims(d), rowTitle: "positions (their tokens)",
    colTitle: "dimensions", rowsAre: "position", ids,
    explain: (r, c) => `tokEmb[${ids[r]}][${c}] = ${fixed(picked[r * d + c], 6)}: row ${ids[r]} (the token ` +
      `\u201c${labels[r]}\u201d), dimension ${c} of [${V}\u00d7${d}]. Training changes it like any other weight.` }, scope);
  embeddingMap(fig.querySelector("#embedding-map"), { pca: snap.pca, label: snap.tokenLabel, marked: ids }, scope);
  scope.on("pick", (id) => {
    pickNote.textContent = `Token ${id} \u201c${snap.tokenLabel(id)}\u201d: its row is column ${id} of the table above, ` +
      `ringed on the map: [${Array.from(wte.subarray(id * d, Math.min((id + 1) * d, id * d + 8)), (v) => fixed(v, 3)).join(", ")}` +
      `${d > 8 ? ", \u2026" : ""}].`;
    scope.page.link({ pos: null, id });
  });
}
