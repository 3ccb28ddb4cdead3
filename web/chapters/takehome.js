// Take it home: the current model as a glassgpt checkpoint file, which
// `glassgpt generate` runs as it is, and any checkpoint loaded back in.
import { engine } from "../engine.js";
import { el } from "../draw.js";

// The text of token ids, as bytes put together and read as UTF-8.
function decode(t, ids) {
  const parts = Array.from(ids, (id) => t.tokenBytes.subarray(t.tokenStart[id], t.tokenStart[id + 1]));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return new TextDecoder().decode(all);
}

export function takehome({ current, onModel }) {
  const fig = document.getElementById("takehome-figure");
  const download = el("button", { id: "download-model" }, "Download the current model");
  const file = el("input", { type: "file", id: "upload-model", accept: ".ckpt,application/octet-stream",
    "aria-label": "A glassgpt checkpoint to load" });
  const info = el("p", { id: "takehome-info", "aria-live": "polite" });

  download.addEventListener("click", async () => {
    const m = current();
    const bytes = await engine.serialize(m.id);
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const a = el("a", { href: url, download: `glassgpt-${m.config.dModel}d-${m.config.nLayer}l.ckpt` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    info.textContent = `Downloaded ${m.name}: ${bytes.length.toLocaleString("en")} bytes.`;
  });

  file.addEventListener("change", async () => {
    if (!file.files[0]) return;
    try {
      const loaded = await engine.loadModel(await file.files[0].arrayBuffer());
      const model = { name: file.files[0].name, loaded: true, ...loaded };
      model.tokenizer = await engine.tokenizerTables(model.id);
      const t = model.tokenizer;
      const prompt = await engine.encode(model.id, "ROMEO:");
      const out = await engine.generateGreedy(model.id, Array.from(prompt), 3 * model.config.ctx);
      const c = model.config;
      info.replaceChildren(`Loaded ${model.name}: d ${c.dModel}, ${c.nLayer} layers, ${c.nHead} heads, ` +
        `context ${c.ctx}. Its greedy continuation of \u201cROMEO:\u201d, computed here:`,
        el("pre", { class: "sample", id: "takehome-sample", "data-raw": decode(t, out) }, "ROMEO:" + decode(t, out)));
      onModel(model);
    } catch (e) {
      info.textContent = `That file is not a glassgpt checkpoint: ${e.message}`;
    }
  });

  fig.replaceChildren(el("div", { class: "controls" }, download, el("label", {}, "Load a checkpoint ", file)), info);
}
