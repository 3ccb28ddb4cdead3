// Chapter 3: tokenize any text with the loaded model's tokenizer, and
// replay the encoder's merges on one word.
import { engine } from "../engine.js";
import { el, tokenColor, tokenText } from "../draw.js";

export async function tokenize(model) {
  const fig = document.getElementById("tokenize-figure");
  const tok = model.tokenizer;
  const text = (id) => tokenText(tok.tokenBytes.subarray(tok.tokenStart[id], tok.tokenStart[id + 1]));
  const chip = (id) => el("span", { class: "chip", style: `background:${tokenColor(id)}`, "data-id": id,
    title: `token ${id}` }, el("span", { class: "t" }, text(id)), el("span", { class: "id" }, id));

  const input = el("textarea", { rows: 2, id: "tokenize-input", "aria-label": "Text to tokenize" });
  input.value = "To be, or not to be";
  const chips = el("div", { class: "chips", id: "tokenize-chips", "aria-live": "polite" });
  const stats = el("p", { class: "stats", id: "tokenize-stats" });
  const word = el("input", { type: "text", id: "tokenize-word", value: "To ", "aria-label": "A word to trace",
    style: "font-family: var(--mono); padding: .3rem .5rem; border: 1px solid var(--rule); border-radius: 6px" });
  const trace = el("ol", { class: "trace", id: "tokenize-trace" });

  fig.replaceChildren(input, chips, stats,
    el("h3", { style: "margin-top: 1.5rem" }, "Step by step"),
    el("p", {}, "The encoder on one piece of text: it starts from the bytes, and each round merges the ",
      "pair that was learned earliest, everywhere it appears. Try ", el("code", {}, "To "), " or ",
      el("code", {}, "thee"), ":"),
    el("div", { class: "controls" }, word), trace);

  let pending = 0;
  async function update() {
    const mine = ++pending, bytes = new TextEncoder().encode(input.value);
    const ids = await engine.encode(model.id, bytes);
    if (mine !== pending) return;  // a newer keystroke won
    chips.replaceChildren(...Array.from(ids, chip));
    stats.textContent = `${ids.length} tokens for ${bytes.length} bytes` +
      (ids.length ? ` (${(bytes.length / ids.length).toFixed(2)} bytes per token)` : "");
  }

  async function replay() {
    const bytes = new TextEncoder().encode(word.value.slice(0, 64));
    const steps = await engine.encodeSteps(model.id, bytes);
    trace.replaceChildren(...steps.map((s) => el("li", {},
      el("span", { class: "merge" }, s.rank < 0 ? "the bytes"
        : `merge ${s.rank + 1} (${text(tok.merges[2 * s.rank])} + ${text(tok.merges[2 * s.rank + 1])})`),
      el("span", { class: "chips" }, ...s.ids.map(chip)))));
  }

  input.addEventListener("input", update);
  word.addEventListener("input", replay);
  await Promise.all([update(), replay()]);
}
