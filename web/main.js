// Boots the walkthrough: starts the engine in its worker, loads the corpus
// and a model from the server, and hands them to the chapters.
import { engine } from "./engine.js";
import { overview } from "./chapters/overview.js";
import { bpe } from "./chapters/bpe.js";
import { tokenize } from "./chapters/tokenize.js";
import { embedding } from "./chapters/embedding.js";
import { position } from "./chapters/position.js";
import { embedded } from "./chapters/embedded.js";
import { qkv } from "./chapters/qkv.js";
import { projection } from "./chapters/projection.js";
import { ffn } from "./chapters/ffn.js";
import { layernorm } from "./chapters/layernorm.js";
import { attention } from "./chapters/attention.js";
import { training } from "./chapters/training.js";
import { inference } from "./chapters/inference.js";
import { takehome } from "./chapters/takehome.js";

const status = document.getElementById("status");

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r.arrayBuffer();
}

// Highlights the section being read in the navigator.
function followSections() {
  const links = new Map([...document.querySelectorAll(".toc a")].map((a) => [a.hash.slice(1), a]));
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries)
      if (e.isIntersecting) for (const [id, a] of links) a.classList.toggle("current", id === e.target.id);
  }, { rootMargin: "-40% 0px -55% 0px" });
  document.querySelectorAll("main section").forEach((s) => seen.observe(s));
}

// The chapters that open up the current model.
const modelChapters = (m) => [embedding, position, embedded, qkv, attention, projection, ffn, layernorm, inference]
  .map((chapter) => chapter(m));

async function boot() {
  await engine.init();
  const models = await (await fetch("api/models")).json();
  if (!models.length) throw new Error("the server has no models; run `make run` to train them");
  const pick = models.find((m) => m.name === "tiny.ckpt") || models[0];
  const [modelBytes, corpus] = await Promise.all([fetchBytes(pick.url), fetchBytes("data/tinyshakespeare.txt")]);
  const model = { name: pick.name, ...(await engine.loadModel(modelBytes)) };
  model.tokenizer = await engine.tokenizerTables(model.id);
  // The current model: the one loaded, or the one being trained, or one
  // uploaded. The chapters that show a model follow it.
  let current = model;
  const describe = (m) => {
    const c = m.config;
    status.textContent = `Engine ready: ${m.name}, d ${c.dModel}, ${c.nLayer} layers, ` +
      `${c.nHead} heads, context ${c.ctx}, vocabulary ${c.vocab}.`;
  };
  // A model loaded from the picker or a file is the page's to free once
  // another takes its place and every chapter has moved on (the first model
  // stays: training builds on its tokenizer; training frees its own).
  const onModel = async (m) => {
    const previous = current;
    current = m;
    describe(m);
    await Promise.all([overview(m), tokenize(m), ...modelChapters(m)]);
    if (previous.loaded && previous !== current) engine.free(previous.id);
  };
  describe(model);
  const text = new Uint8Array(corpus);
  await Promise.all([overview(model), bpe(text), tokenize(model), ...modelChapters(model)]);
  takehome({ current: () => current, onModel });
  // any checkpoint the server offers
  const picker = document.getElementById("model-picker");
  picker.replaceChildren(...models.map((m) => new Option(`${m.name} (d ${m.d_model}, ${m.n_layer} layers)`, m.url)));
  picker.value = pick.url;
  picker.addEventListener("change", async () => {
    const chosen = models.find((m) => m.url === picker.value);
    const next = { name: chosen.name, loaded: true, ...(await engine.loadModel(await fetchBytes(chosen.url))) };
    next.tokenizer = await engine.tokenizerTables(next.id);
    await onModel(next);
  });
  // Training makes a model of its own, which becomes the current one once
  // the reader trains it.
  await training({ corpus: text, base: model, onModel });
  document.body.dataset.ready = "true";
}

followSections();
window.glassgpt = { ready: boot().catch((e) => {
  status.textContent = `The engine could not start: ${e.message}`;
  status.classList.add("error");
  throw e;
}) };
