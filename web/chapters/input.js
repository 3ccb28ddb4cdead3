// The sentence the model chapters follow, as the current model's tokens
// (at most its context length).
import { engine } from "../engine.js";
import { tokenText } from "../draw.js";

export const INPUT = "To be, or not to be";

export async function inputTokens(model) {
  const ids = Array.from(await engine.encode(model.id, INPUT)).slice(0, model.config.ctx);
  const t = model.tokenizer;
  const text = (id) => tokenText(t.tokenBytes.subarray(t.tokenStart[id], t.tokenStart[id + 1]));
  return { ids, labels: ids.map(text), text };
}

// A <select> of the model's layers, calling onChange(layer) with a 0-based layer.
export function layerPicker(doc, id, nLayer, onChange) {
  const s = doc.createElement("select");
  s.id = id;
  s.setAttribute("aria-label", "Layer");
  for (let l = 0; l < nLayer; l++) s.append(new Option(`layer ${l + 1}`, String(l)));
  s.addEventListener("change", () => onChange(Number(s.value)));
  return s;
}
