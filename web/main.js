// Boots the walkthrough: builds the chapters from their registry, starts
// the engine in its worker, and opens a model. For every model (and every
// sentence) the worker computes one snapshot, and every chapter draws from
// it. The page's state (model, sentence, chapter, layer, sampling, colour
// scale) lives in the URL, so that a link shows what its sender saw.
import { html, render } from "./vendor/lit-html.js";
import { engine, trips } from "./engine.js";
import { CHAPTERS } from "./chapters/index.js";
import { drawn, maxAbs, tokenLabeller } from "./draw.js";

const status = document.getElementById("status");
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

// ---- the page's state, in the URL ----

const DEFAULTS = { model: "", text: "To be, or not to be", word: "To ", chapter: "", layer: 0,
  temperature: 0.8, topK: 0, seed: 1, scale: "own" };
function readState() {
  const q = new URLSearchParams(location.search), s = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS))
    if (q.has(k)) {
      const v = typeof DEFAULTS[k] === "number" ? Number(q.get(k)) : q.get(k);
      if (typeof v === "string" || Number.isFinite(v)) s[k] = v;
    }
  return s;
}

// ---- the page: what chapters share ----

const listeners = new Map();  // event -> Set of functions
let linked = null;            // the token the page links now
const page = {
  engine,
  state: readState(),
  // Merges patch into the state and writes it to the URL (no history entry).
  save(patch) {
    Object.assign(page.state, patch);
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(page.state)) if (String(v) !== String(DEFAULTS[k])) q.set(k, v);
    history.replaceState(null, "", `${location.pathname}${q.size ? `?${q}` : ""}${location.hash}`);
  },
  on(event, fn) {
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event).add(fn);
    return () => listeners.get(event).delete(fn);
  },
  emit(event, value) { for (const fn of listeners.get(event) ?? []) fn(value); },
  // The token under the pointer or the cursor, anywhere: {pos, id} or null.
  // The same token told again is no news: nothing is redrawn for it.
  link(l) {
    if (l === linked || (l && linked && l.pos === linked.pos && l.id === linked.id)) return;
    linked = l;
    page.emit("link", l);
  },
  // One colour scale for every figure, or each its own.
  sharedScale: { on: false, value: 1 },
  // What a chapter's listeners and late answers hang on: dispose() ends
  // them all, and signal.aborted says the chapter has been replaced.
  scope() {
    const offs = [], ac = new AbortController();
    return { page, signal: ac.signal, on: (e, fn) => offs.push(page.on(e, fn)), add: (fn) => offs.push(fn),
      dispose() { ac.abort(); offs.splice(0).forEach((f) => f()); } };
  },
  snap: null,      // the current snapshot
  model: null,     // the current model: {id, name, config, loaded}
  // Where training and generation run: "cpu", the engine in WebAssembly, or
  // "gpu", its kernels on WebGPU (gpu.js); the GPU: {name, software}, or
  // {why} there is none (null until the worker has looked).
  backend: "cpu",
  gpu: null,
  setBackend(backend) {
    page.backend = backend;
    page.emit("backend", backend);
  },
};
// A GPU lost (or failing) sends everything back to the CPU; the chapters say why.
engine.on("gpu-lost", ({ why }) => {
  page.gpu = { why };
  page.emit("gpu-lost", why);
  page.setBackend("cpu");
});

// ---- the chapters: numbers, map and figures from the registry ----

const figures = {};
for (const [i, ch] of CHAPTERS.entries()) {
  const section = document.getElementById(ch.id);
  if (!section) throw new Error(`chapter ${ch.id} has no section in index.html`);
  section.setAttribute("aria-labelledby", `${ch.id}-title`);
  const h2 = document.createElement("h2");
  h2.id = `${ch.id}-title`;
  h2.innerHTML = `<span class="num">${i + 1}</span> `;
  h2.append(ch.title);
  section.prepend(h2);
  figures[ch.id] = Object.assign(document.createElement("div"), { className: "figure", id: `${ch.id}-figure` });
  section.append(figures[ch.id]);
}
if (document.querySelectorAll("main > section").length !== CHAPTERS.length)
  throw new Error("index.html has a section that is not in the chapter registry");

// The map: the chapters as the model's path, with the block's chapters
// framed once for all its layers. One tab stop; the arrow keys move along it.
function drawMap() {
  const nLayer = page.snap?.config.nLayer;
  const link = (ch) => html`<li><a href="#${ch.id}" data-chapter=${ch.id} tabindex="-1"
    ><span class="n">${CHAPTERS.indexOf(ch) + 1}</span> ${ch.short}</a></li>`;
  const group = (g) => CHAPTERS.filter((c) => c.group === g).map(link);
  const layers = nLayer ? Array.from({ length: nLayer }, (_, l) => l) : [0];
  render(html`<div class="map-controls">
      <label>Layer <select id="layer-picker" aria-label="The layer the chapters show"
        @change=${(e) => setLayer(Number(e.target.value))}>
        ${layers.map((l) => html`<option value=${l} ?selected=${l === page.state.layer}>${l + 1}</option>`)}</select></label>
      <label class="switch"><input type="checkbox" id="shared-scale" .checked=${page.sharedScale.on}
        @change=${(e) => setScale(e.target.checked)}> one colour scale</label>
    </div>
    <ol class="map">
      ${group("start")}
      <li class="group input"><ol>${group("input")}</ol></li>
      <li class="group block"><span class="group-title">each of ${nLayer ?? "the"} layers</span><ol>${group("block")}</ol></li>
      <li class="group output"><ol>${group("output")}</ol></li>
      ${group("use")}
    </ol>`, toc);
  roveMap();
}
const toc = document.getElementById("toc");
function roveMap() {
  const links = [...toc.querySelectorAll(".map a")];
  const current = links.find((a) => a.classList.contains("current")) ?? links[0];
  links.forEach((a) => (a.tabIndex = a === current ? 0 : -1));
}
toc.addEventListener("keydown", (e) => {
  const links = [...toc.querySelectorAll(".map a")], i = links.indexOf(document.activeElement);
  if (i < 0) return;
  const to = { ArrowDown: i + 1, ArrowRight: i + 1, ArrowUp: i - 1, ArrowLeft: i - 1, Home: 0, End: links.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  const a = links[Math.max(0, Math.min(links.length - 1, to))];
  links.forEach((x) => (x.tabIndex = x === a ? 0 : -1));
  a.focus();
});

// The chapter being read: marked on the map, kept in view on it, and in the
// URL (once the page has gone to the chapter its URL named).
let followed = false;
function followChapters() {
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      for (const a of toc.querySelectorAll(".map a")) {
        const here = a.dataset.chapter === e.target.id;
        a.classList.toggle("current", here);
        if (here) {
          a.setAttribute("aria-current", "location");
          const box = a.closest(".map"), r = a.getBoundingClientRect(), b = box.getBoundingClientRect();
          if (r.left < b.left || r.right > b.right) box.scrollLeft += r.left - b.left - (b.width - r.width) / 2;
          if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - (b.height - r.height) / 2;
        } else a.removeAttribute("aria-current");
      }
      if (followed) page.save({ chapter: e.target.id });
      roveMap();
    }
  }, { rootMargin: "-40% 0px -55% 0px" });
  document.querySelectorAll("main > section").forEach((s) => seen.observe(s));
}

// ---- models and snapshots ----

const mounted = new Map();  // chapter id -> its scope
async function mount(ch, snap) {
  mounted.get(ch.id)?.dispose();
  const scope = page.scope();
  mounted.set(ch.id, scope);
  await ch.mount(figures[ch.id], snap, scope);
}

// A snapshot, with what every chapter reads of it: the text of a token and
// the labels of the sentence's tokens.
function prepare(snap, model) {
  snap.name = model.name;
  snap.id = model.id;
  snap.tokenLabel = tokenLabeller(snap.tokenizer);
  snap.labels = snap.ids.map(snap.tokenLabel);
  snap.act = (name, layer = -1) => snap.acts[`${name}/${layer}`].data;
  snap.layer = Math.min(page.state.layer, snap.config.nLayer - 1);
  return snap;
}

let shown = 0;
// Opens model in every model chapter: one snapshot, then the chapters one
// per task, so that the page answers between them.
async function show(model) {
  const mine = ++shown;
  let snap;
  try {
    snap = prepare(await engine.snapshot(model.id, page.state.text, page.state.word), model);
  } catch (e) {
    status.textContent = `The engine could not open ${model.name}: ${e.message}`;
    status.classList.add("error");
    return;
  }
  if (mine !== shown) return;
  const previous = page.model;
  page.model = model;
  page.snap = snap;
  page.sharedScale.value = Math.max(...Object.values(snap.params).map((p) => maxAbs(p.data)));
  status.classList.remove("error");
  const c = snap.config;
  status.textContent = `Engine ready: ${model.name}, d ${c.dModel}, ${c.nLayer} layers, ${c.nHead} heads, ` +
    `context ${c.ctx}, vocabulary ${c.vocab}.`;
  drawMap();
  for (const ch of CHAPTERS.filter((x) => x.kind === "model")) {
    await mount(ch, snap);
    await nextTask();
    if (mine !== shown) return;
  }
  // A model loaded from the picker or a file is the page's to free once
  // another has taken its place everywhere (training frees its own).
  if (previous?.loaded && previous !== model) engine.free(previous.id);
  await drawn();
  document.body.dataset.shown = String(mine);
}
page.show = show;

// The sentence every model chapter follows.
page.setText = (text) => {
  page.save({ text });
  if (page.model) return show(page.model);
};
function setLayer(layer) {
  page.save({ layer });
  if (page.model) show(page.model);
}
function setScale(on) {
  page.sharedScale.on = on;
  page.save({ scale: on ? "shared" : "own" });
  page.emit("scale", on);
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r.arrayBuffer();
}

// Loads a checkpoint (an ArrayBuffer) as the page's model.
page.load = async (name, bytes) => ({ name, loaded: true, ...(await engine.loadModel(bytes)) });

async function boot() {
  page.sharedScale.on = page.state.scale === "shared";
  drawMap();
  followChapters();
  await engine.init();
  // the GPU is looked for meanwhile; a real one (not a CPU emulating one)
  // runs training and generation from then on
  page.gpuReady = engine.gpu().then((info) => {
    page.gpu = info;
    if (info.name && !info.software) page.setBackend("gpu");
    else page.emit("backend", page.backend);
  });
  const [models, corpus] = await Promise.all([(await fetch("api/models")).json(), fetchBytes("data/tinyshakespeare.txt")]);
  page.corpus = new Uint8Array(corpus);
  const picker = document.getElementById("model-picker");
  picker.replaceChildren(...models.map((m) => new Option(`${m.name} (d ${m.d_model}, ${m.n_layer} layers)`, m.name)));
  const pick = models.find((m) => m.name === page.state.model) ?? models.find((m) => m.name === "tiny.ckpt") ?? models[0];
  // the chapters that stay: the tokenizer trained here, training, take-home
  const once = CHAPTERS.filter((c) => c.kind === "once");
  await mount(once[0], null);  // BPE: its tokenizer is the base when the server has no model
  if (pick) {
    picker.value = pick.name;
    page.base = await page.load(pick.name, await fetchBytes(pick.url));
    page.base.loaded = false;  // training builds on its tokenizer: it stays
    await show(page.base);
  } else {
    picker.replaceChildren(new Option("none yet: train one below", ""));
    picker.disabled = true;
    status.textContent = "The server has no trained model yet. Train one in the Training chapter (or load a " +
      "checkpoint in Take it home), and every chapter will open it up.";
    for (const ch of CHAPTERS.filter((x) => x.kind === "model"))
      render(html`<p class="note empty-model">No model yet: the Training chapter below trains one here, in your
        browser, with the tokenizer the BPE chapter just made.</p>`, figures[ch.id]);
  }
  for (const ch of once.slice(1)) await mount(ch, null);
  picker.addEventListener("change", async () => {
    const chosen = models.find((m) => m.name === picker.value);
    page.save({ model: chosen.name });
    await show(await page.load(chosen.name, await fetchBytes(chosen.url)));
  });
  document.body.dataset.ready = "true";
  await goToChapter(page.state.chapter);
  followed = true;
}

// Goes to the chapter a link named, and stays there while the figures above
// it take their sizes (unless the reader moves first).
async function goToChapter(id) {
  const target = id && document.getElementById(id);
  if (!target) return;
  let moved = false;
  const stop = () => { moved = true; };
  for (const e of ["wheel", "keydown", "touchstart", "pointerdown"]) addEventListener(e, stop, { once: true, passive: true });
  const go = () => target.scrollIntoView({ behavior: "instant" });
  const hold = new ResizeObserver(() => moved || go());
  hold.observe(document.querySelector("main"));
  go();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  hold.disconnect();
}

window.glassgpt = { page, trips, ready: boot().catch((e) => {
  status.textContent = `The engine could not start: ${e.message}`;
  status.classList.add("error");
  throw e;
}) };
