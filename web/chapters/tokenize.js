// Tokenize: the page's sentence as the current model's tokens (change it,
// and every chapter after follows), and the encoder's rounds on one word.
import { html, render } from "../vendor/lit-html.js";
import { chip, linkChips, plural } from "../draw.js";

export function tokenize(fig, snap, scope) {
  const { page } = scope, { ctx } = snap.config;
  const bytes = new TextEncoder().encode(snap.text).length, n = snap.allIds.length;
  const tok = snap.tokenizer;
  let typing = null;
  const onText = (e) => {
    clearTimeout(typing);
    const text = e.target.value;
    typing = setTimeout(() => { if (text.trim()) page.setText(text); }, 300);  // a pause in the typing
  };
  scope.add(() => clearTimeout(typing));
  const trace = (steps) => steps.map((s) => html`<li><span class="merge">${s.rank < 0 ? "the bytes"
    : `merge ${s.rank + 1} (${snap.tokenLabel(tok.merges[2 * s.rank])} + ${snap.tokenLabel(tok.merges[2 * s.rank + 1])})`}</span>
    <span class="chips">${s.ids.map((id) => chip(id, snap.tokenLabel(id)))}</span></li>`);
  const onWord = async (e) => {
    const word = e.target.value;
    page.save({ word });
    const steps = await page.engine.encodeSteps(snap.id, word.slice(0, 64));
    if (!scope.signal.aborted) render(trace(steps), fig.querySelector("#tokenize-trace"));
  };
  render(html`<textarea rows="2" id="tokenize-input" aria-label="The sentence every chapter follows"
      @input=${onText}></textarea>
    <div class="chips" id="tokenize-chips" aria-live="polite">${snap.allIds.map((id, t) =>
      chip(id, snap.tokenLabel(id), { pos: t < ctx ? t : null, cls: t < ctx ? "" : "dropped" }))}</div>
    <p class="stats" id="tokenize-stats">${plural(n, "token")} for ${plural(bytes, "byte")}
      (${(bytes / n).toFixed(2)} bytes per token)${n > ctx ? html`; the model reads the first ${ctx}, and the faded
      ones fall outside its context` : ""}.</p>
    <h3>Step by step</h3>
    <p>The encoder on one piece of text: it starts from the bytes, and each round merges the
      pair that was learned earliest, everywhere it appears. Try <code>To </code> or <code>thee</code>:</p>
    <div class="controls"><input type="text" id="tokenize-word" class="mono-input" aria-label="A word to trace"
      .value=${page.state.word} @input=${onWord}></div>
    <ol class="trace" id="tokenize-trace"></ol>`, fig);
  render(trace(snap.steps), fig.querySelector("#tokenize-trace"));
  const input = fig.querySelector("#tokenize-input");
  if (document.activeElement !== input && input.value !== snap.text) input.value = snap.text;
  linkChips(fig.querySelector("#tokenize-chips"), scope);
}
