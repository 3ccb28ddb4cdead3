// Take it home: the current model as a glassgpt checkpoint file, which
// `glassgpt generate` runs as it is, and any checkpoint loaded back in.
import { html, render } from "../vendor/lit-html.js";
import { tokenBytes } from "../draw.js";

// The text of token ids, as bytes put together and read as UTF-8.
function decode(t, ids) {
  const parts = Array.from(ids, (id) => tokenBytes(t, id));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  return new TextDecoder().decode(all);
}

export function takehome(fig, _snap, scope) {
  const { page } = scope, { engine } = page;
  let info = "";
  const show = (x) => { info = x; draw(); };
  async function download() {
    const m = page.model;
    if (!m) return show("There is no model yet: train one above first.");
    const bytes = await engine.serialize(m.id);
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: `glassgpt-${m.config.dModel}d-${m.config.nLayer}l.ckpt` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    show(`Downloaded ${m.name}: ${bytes.length.toLocaleString("en")} bytes.`);
  }
  async function upload(e) {
    const f = e.target.files[0];
    if (!f) return;
    try {
      const model = await page.load(f.name, await f.arrayBuffer());
      const t = await engine.tokenizerTables(model.id);
      const prompt = await engine.encode(model.id, "ROMEO:");
      const out = decode(t, await engine.generateGreedy(model.id, Array.from(prompt), 3 * model.config.ctx));
      const c = model.config;
      show(html`Loaded ${model.name}: d ${c.dModel}, ${c.nLayer} layers, ${c.nHead} heads, context ${c.ctx}.
        Its greedy continuation of \u201cROMEO:\u201d, computed here:
        <pre class="sample" id="takehome-sample" data-raw=${out}>ROMEO:${out}</pre>`);
      page.show(model);
    } catch (err) {
      show(`That file is not a glassgpt checkpoint: ${err.message}`);
    }
  }
  function draw() {
    render(html`<div class="controls"><button id="download-model" @click=${download}>Download the current model</button>
      <label>Load a checkpoint <input type="file" id="upload-model" accept=".ckpt,application/octet-stream"
        aria-label="A glassgpt checkpoint to load" @change=${upload}></label></div>
      <div id="takehome-info" aria-live="polite">${info}</div>`, fig);
  }
  draw();
}
