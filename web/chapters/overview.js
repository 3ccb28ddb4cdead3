// The whole model, drawn for the page's sentence with the current model's
// sizes: the path of the tokens through every block, each block a link to
// its chapter, and the model's real prediction of the next token.
import { html, render } from "../vendor/lit-html.js";
import { barChart, chip, linkChips, plural, sized } from "../draw.js";

export function overview(fig, snap, scope) {
  const { vocab, dModel: d, nLayer, nHead, ctx, dFF } = snap.config, T = snap.ids.length;
  const V = vocab, probs = snap.act("probs").subarray((T - 1) * V, T * V);
  const top = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, 5);
  const next = top[0], percent = (p) => `${(100 * p).toFixed(1)}%`;
  const box = (href, label, dims, cls = "") => html`<a class="block ${cls}" href=${href} tabindex="-1">
    <span>${label}</span><span class="dim">${dims}</span></a>`;
  const layer = (l) => html`<div class="layer-frame"><span class="layer-name">layer ${l + 1}</span>
    ${box("#layernorm", "LayerNorm", `[${T}\u00d7${d}]`)}
    <a class="block attn" href="#attention" tabindex="-1"><span>Attention, ${plural(nHead, "head")}</span>
      <span class="dim">qkv [${d}\u00d7${3 * d}], out [${d}\u00d7${d}]</span>
      <span class="heads">${Array.from({ length: nHead }, (_, h) => html`<span class="head">h${h + 1}</span>`)}</span></a>
    ${box("#layernorm", "LayerNorm", `[${T}\u00d7${d}]`)}
    ${box("#ffn", "Feed-forward (GELU)", `${d} \u2192 ${dFF} \u2192 ${d}`, "ffn")}
  </div>`;
  const lead = snap.tokens > T ? `The sentence is ${plural(snap.tokens, "token")}; this model's context holds ${ctx}, ` +
    `so it reads the first ${T}.` : `The sentence is ${plural(T, "token")}.`;
  render(html`<div class="row">
    <div class="grow diagram" style="flex-basis: 24rem" @keydown=${rove}
      aria-label="The model's blocks: the arrow keys move, Enter opens a block's chapter">
      <div class="chips" id="overview-tokens" aria-label="The tokens">${snap.ids.map((id, t) => chip(id, snap.labels[t], { pos: t }))}</div>
      ${box("#embedding", "Token + position embedding", `[${V}\u00d7${d}] + [${ctx}\u00d7${d}]`)}
      ${Array.from({ length: nLayer }, (_, l) => layer(l))}
      ${box("#lens", "Final LayerNorm", `[${T}\u00d7${d}]`)}
      ${box("#lens", "Linear head (the token embedding, transposed)", `[${d}\u00d7${V}]`)}
      ${box("#inference", "Softmax: next-token probabilities", `[${V}]`)}
    </div>
    <div class="grow">
      <h3>What comes next</h3>
      <p>After \u201c${snap.labels.join("")}\u201d the model predicts
        <strong class="mono" id="overview-next" data-id=${next}>${snap.tokenLabel(next)}</strong>
        (token ${next}), with probability ${percent(probs[next])}.</p>
      <div id="overview-bars"></div>
    </div></div>
    <p class="note" id="overview-note">${lead} A model this small (${snap.name}) guesses poorly, but its guess is its own.</p>`, fig);
  // the blocks: one tab stop, the arrow keys along them
  const blocks = [...fig.querySelectorAll(".diagram .block")];
  blocks.forEach((b, i) => (b.tabIndex = i ? -1 : 0));
  function rove(e) {
    const i = blocks.indexOf(document.activeElement), d = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[e.key];
    if (i < 0 || !d || !blocks[i + d]) return;
    e.preventDefault();
    blocks.forEach((b) => (b.tabIndex = b === blocks[i + d] ? 0 : -1));
    blocks[i + d].focus();
  }
  linkChips(fig.querySelector("#overview-tokens"), scope);
  const bars = fig.querySelector("#overview-bars");
  scope.add(sized(bars, (width) => render(barChart({ width, format: percent,
    rows: top.map((id, i) => ({ label: snap.tokenLabel(id), value: probs[id], highlight: i === 0 })) }), bars)));
}
