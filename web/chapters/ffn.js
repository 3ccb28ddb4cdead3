// Feed-forward: each position on its own, d -> 4d through GELU -> d, added
// back to the stream. The GELU curve is drawn from the engine's GELU.
import { html, render, svg } from "../vendor/lit-html.js";
import { matrixView, sized } from "../draw.js";
import { dims } from "./input.js";

const XS = Float32Array.from({ length: 161 }, (_, i) => -4 + i * 0.05);
let curve = null;  // the engine's GELU at XS: the same for every model, asked once

export async function ffn(fig, snap, scope) {
  const { dModel: d, dFF: F } = snap.config, l = snap.layer, { ids, labels } = snap, T = ids.length;
  const h = snap.act("ffh", l), g = snap.act("ffh_gelu", l), p = snap.act("ffproj", l), r = snap.act("res_ff", l);
  render(html`<p class="note">Layer ${l + 1} of ${snap.config.nLayer}.</p>
    <h3>LayerNorm(x) @ W1 + b1 = hidden [${T}\u00d7${F}]</h3><div id="ffn-h"></div>
    <h3>GELU(hidden) [${T}\u00d7${F}]</h3><div id="ffn-g"></div>
    <div class="eq"><div class="grow"><h3>@ W2 + b2 = [${T}\u00d7${d}]</h3><div id="ffn-p"></div></div>
      <span class="op">\u2192</span><div class="grow"><h3>x + that = x after the layer</h3><div id="ffn-r"></div></div></div>
    <h3>GELU, with this layer's hidden values on it</h3><div id="ffn-curve"></div>`, fig);
  const rows = { rows: T, rowLabels: labels, rowsAre: "position", ids, rowTitle: "positions" };
  matrixView(fig.querySelector("#ffn-h"), { ...rows, name: "hidden", data: h, cols: F, colTitle: `the ${F} hidden units`,
    explain: (a, b) => `hidden[${a}][${b}] = ${h[a * F + b].toFixed(5)}, GELU of it = ${g[a * F + b].toFixed(5)}` }, scope);
  matrixView(fig.querySelector("#ffn-g"), { ...rows, name: "GELU(hidden)", data: g, cols: F, colTitle: `the ${F} hidden units` }, scope);
  matrixView(fig.querySelector("#ffn-p"), { ...rows, name: "hidden @ W2 + b2", data: p, cols: d, colLabels: dims(d), colTitle: "dimensions" }, scope);
  matrixView(fig.querySelector("#ffn-r"), { ...rows, name: "x after the layer", data: r, cols: d, colLabels: dims(d), colTitle: "dimensions" }, scope);
  curve ??= await scope.page.engine.gelu(XS);
  if (scope.signal.aborted) return;
  const box = fig.querySelector("#ffn-curve");
  scope.add(sized(box, (width) => {
    const W = Math.min(width, 560), H = 220, X = (x) => 36 + ((x + 4) / 8) * (W - 46), Y = (y) => H - 24 - ((y + 0.5) / 4.5) * (H - 34);
    const dots = [];
    for (let i = 0; i < h.length; i++) if (h[i] > -4 && h[i] < 4) dots.push(svg`<circle cx=${X(h[i])} cy=${Y(g[i])} r="2.2" class="dot"/>`);
    render(svg`<svg viewBox="0 0 ${W} ${H}" width=${W} height=${H} class="chart" role="img"
        aria-label="The GELU curve, with ${dots.length} hidden values on it">
      <line x1=${X(-4)} x2=${X(4)} y1=${Y(0)} y2=${Y(0)} class="grid-line"/>
      <line x1=${X(0)} x2=${X(0)} y1=${Y(-0.5)} y2=${Y(4)} class="grid-line"/>
      ${[-4, -2, 0, 2, 4].map((x) => svg`<text x=${X(x)} y=${H - 6} text-anchor="middle" class="axis">${x}</text>`)}
      ${[0, 2, 4].map((y) => svg`<text x=${X(-4) - 6} y=${Y(y) + 4} text-anchor="end" class="axis">${y}</text>`)}
      <polyline class="series val" points=${Array.from(XS, (x, i) => `${X(x)},${Y(curve[i])}`).join(" ")}/>
      ${dots}</svg>`, box);
  }));
}
