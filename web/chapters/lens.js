// The logit lens: the final LayerNorm and the head applied to the stream
// after the embedding and after every block. Each cell is what the model
// would predict at that position if it stopped at that depth; the last row
// is its real prediction.
import { html, render } from "../vendor/lit-html.js";

const percent = (p) => `${(100 * p).toFixed(p < 0.001 ? 3 : 1)}%`;

export function lens(fig, snap, scope) {
  const { vocab: V, nLayer: L } = snap.config, { ids, labels } = snap, T = ids.length;
  const rows = L + 1, at = (r, t) => snap.lens.subarray((r * T + t) * V, (r * T + t + 1) * V);
  const best = (p, k) => Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, k);
  const depth = (r) => (r === 0 ? "the embedding" : `layer ${r}`);
  // each cell's five likeliest tokens, ranked once
  const tops = Array.from({ length: rows }, (_, r) => Array.from({ length: T }, (_, t) => best(at(r, t), 5)));
  let cur = { r: L, t: T - 1 }, picked = null, linked = null;  // linked: the position the page links
  const say = () => {
    const p = at(cur.r, cur.t), top = tops[cur.r][cur.t];
    return `After ${depth(cur.r)}, at \u201c${labels[cur.t]}\u201d (position ${cur.t}): ` +
      top.map((id) => `\u201c${snap.tokenLabel(id)}\u201d ${percent(p[id])}`).join(", ") +
      (picked != null ? `; the picked token \u201c${snap.tokenLabel(picked)}\u201d ${percent(p[picked])}` : "") +
      (cur.r === L ? ". This row is the model's own prediction." : ".");
  };
  function show() {
    render(html`<p class="note">Rows: the stream after each depth; columns: the sentence's positions. Each cell is the
        top next-token guess there, shaded by its probability.</p>
      <div class="lens-wrap" tabindex="-1"><table class="lens" id="lens-table" tabindex="0" role="grid"
          aria-label="The logit lens: arrow keys move" aria-activedescendant="lens-${cur.r}-${cur.t}"
          @keydown=${key} @focus=${() => show()}>
        <thead><tr><th></th>${labels.map((s, t) => html`<th data-pos=${t}
          class="tok ${t === linked ? "linked" : ""}">${s}</th>`)}</tr></thead>
        <tbody>${Array.from({ length: rows }, (_, r) => html`<tr><th scope="row">${depth(r)}</th>
          ${labels.map((_, t) => {
            const p = at(r, t), id = tops[r][t][0];
            return html`<td id="lens-${r}-${t}" data-r=${r} data-pos=${t} data-id=${id}
              class="${cur.r === r && cur.t === t ? "active" : ""} ${t === linked ? "linked" : ""}"
              style="--p:${p[id].toFixed(3)}"
              @mouseenter=${() => move(r, t)}>${snap.tokenLabel(id)}<small>${percent(p[id])}</small></td>`;
          })}</tr>`)}</tbody></table></div>
      <div class="readout" id="lens-readout" aria-live="polite">${say()}</div>`, fig);
  }
  function move(r, t) {
    cur = { r: Math.max(0, Math.min(L, r)), t: Math.max(0, Math.min(T - 1, t)) };
    show();
    scope.page.link({ pos: cur.t, id: ids[cur.t] });
  }
  function key(e) {
    const d = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!d) return;
    e.preventDefault();
    move(cur.r + d[0], cur.t + d[1]);
  }
  scope.on("link", (l) => { linked = l?.pos ?? null; show(); });
  scope.on("pick", (id) => { picked = id; show(); });
  show();
  fig.querySelector("#lens-table").values = snap.lens;
}
