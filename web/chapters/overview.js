// Chapter 1: the whole model, drawn for one sentence with the loaded
// model's sizes, and its real prediction of the next token.
import { engine } from "../engine.js";
import { barChart, el, svg, tokenText } from "../draw.js";

const SENTENCE = "The cat sat on a mat";

export async function overview(model) {
  const fig = document.getElementById("overview-figure");
  const { vocab, dModel: d, nLayer, nHead, ctx, dFF } = model.config;
  const tok = model.tokenizer;
  const text = (id) => tokenText(tok.tokenBytes.subarray(tok.tokenStart[id], tok.tokenStart[id + 1]));

  const ids = Array.from(await engine.encode(model.id, SENTENCE));
  const window = ids.slice(-ctx);  // the model sees at most ctx tokens
  const probs = await engine.nextTokenProbs(model.id, window);
  const top = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, 5);

  // The diagram: one column of blocks, top to bottom.
  const W = 720, boxW = 460, x0 = (W - boxW) / 2, gap = 14, h = 38;
  const s = svg("svg", { class: "diagram", role: "img",
    "aria-label": `The flow of "${SENTENCE}" through the model` });
  const defs = svg("defs", {}, s);
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#5d6470" }, marker);
  let y = 10;
  const arrow = () => { svg("line", { class: "flow", x1: W / 2, y1: y, x2: W / 2, y2: y + gap - 2 }, s); y += gap; };
  const box = (label, dims, cls = "", href) => {
    const parent = href ? svg("a", { href, "aria-label": `${label}: ${dims}` }, s) : s;
    svg("rect", { class: `box ${cls}`, x: x0, y, width: boxW, height: h, rx: 7 }, parent);
    svg("text", { x: x0 + 14, y: y + 24 }, parent).textContent = label;
    svg("text", { class: "dim", x: x0 + boxW - 14, y: y + 24, "text-anchor": "end" }, parent).textContent = dims;
    y += h;
  };

  // the tokens
  const tokLink = svg("a", { href: "#tokenize", "aria-label": "the tokens" }, s);
  const cw = Math.min(70, (W - 20) / window.length);
  window.forEach((id, i) => {
    const x = (W - cw * window.length) / 2 + i * cw;
    svg("rect", { class: "tok", x: x + 2, y, width: cw - 4, height: 34, rx: 5 }, tokLink);
    svg("text", { x: x + cw / 2, y: y + 15, "text-anchor": "middle" }, tokLink).textContent = text(id);
    svg("text", { class: "dim", x: x + cw / 2, y: y + 29, "text-anchor": "middle" }, tokLink).textContent = id;
  });
  y += 34;
  arrow();
  box("Token + position embedding", `[${vocab}\u00d7${d}] + [${ctx}\u00d7${d}]`);
  arrow();
  for (let l = 0; l < nLayer; l++) {
    const top0 = y;
    y += 8;
    box("LayerNorm", `[${window.length}\u00d7${d}]`);
    arrow();
    // attention, with its heads drawn separately
    svg("rect", { class: "box attn", x: x0, y, width: boxW, height: 66, rx: 7 }, s);
    svg("text", { x: x0 + 14, y: y + 20 }, s).textContent = `Attention, ${nHead} heads`;
    svg("text", { class: "dim", x: x0 + boxW - 14, y: y + 20, "text-anchor": "end" }, s).textContent =
      `qkv [${d}\u00d7${3 * d}], out [${d}\u00d7${d}]`;
    const hw = (boxW - 28) / nHead;
    for (let hd = 0; hd < nHead; hd++) {
      svg("rect", { class: "box head", x: x0 + 14 + hd * hw + 2, y: y + 30, width: hw - 4, height: 26, rx: 4 }, s);
      if (hw > 26) svg("text", { class: "dim", x: x0 + 14 + hd * hw + hw / 2, y: y + 47, "text-anchor": "middle" }, s)
        .textContent = `h${hd + 1}`;
    }
    y += 66;
    arrow();
    box("LayerNorm", `[${window.length}\u00d7${d}]`);
    arrow();
    box("Feed-forward (GELU)", `${d} \u2192 ${dFF} \u2192 ${d}`, "ffn");
    svg("rect", { class: "layer", x: x0 - 18, y: top0, width: boxW + 36, height: y - top0 + 8, rx: 10 }, s);
    svg("text", { class: "dim", x: x0 - 24, y: top0 + 16, "text-anchor": "end" }, s).textContent = `layer ${l + 1}`;
    y += 8;
    arrow();
  }
  box("Final LayerNorm", `[${window.length}\u00d7${d}]`);
  arrow();
  box("Linear head (the token embedding, transposed)", `[${d}\u00d7${vocab}]`);
  arrow();
  box("Softmax: next-token probabilities", `[${vocab}]`);
  s.setAttribute("viewBox", `0 0 ${W} ${y + 6}`);

  const predicted = top[0];
  const bars = el("div", { class: "grow" });
  fig.replaceChildren(el("div", { class: "row" },
    el("div", { class: "grow", style: "flex-basis: 26rem" }, s),
    el("div", { class: "grow" },
      el("h3", {}, "What comes next"),
      el("p", {}, "After \u201c", SENTENCE, "\u201d the model predicts ",
        el("strong", { class: "mono", id: "overview-next", "data-id": predicted }, text(predicted)),
        ` (token ${predicted}), with probability ${(100 * probs[predicted]).toFixed(1)}%.`),
      bars)));
  barChart(bars, top.map((id, i) => ({ label: text(id), value: probs[id], highlight: i === 0 })),
    { format: (p) => `${(100 * p).toFixed(1)}%` });
  document.getElementById("overview-note").textContent =
    `The sentence is ${ids.length} tokens; ` + (ids.length > ctx
      ? `this model's context holds ${ctx}, so it sees the last ${ctx}. `
      : "") + `A model this small (${model.name}) guesses poorly, but its guess is its own.`;
}
