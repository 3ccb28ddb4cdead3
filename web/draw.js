// Shared drawing: how bytes and tokens are written, the colour scale, and
// the figures every chapter uses (a matrix on canvas that the keyboard can
// walk, a line chart, bar charts). Nothing here computes a model's numbers:
// it draws what the engine returned.
import { html, svg } from "./vendor/lit-html.js";

const CONTROL = ["NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT",
  "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM",
  "SUB", "ESC", "FS", "GS", "RS", "US"];

export const hex = (n, width = 2) => n.toString(16).toUpperCase().padStart(width, "0");

// The label of one byte in the vocabulary grid.
export function byteLabel(b) {
  if (b < 32) return CONTROL[b];
  if (b === 32) return "\u2423";
  if (b === 127) return "DEL";
  if (b < 127) return String.fromCharCode(b);
  return `\\x${hex(b)}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

// The length of the complete UTF-8 character at bytes[i], or 0.
function charLength(bytes, i) {
  const b = bytes[i];
  const n = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 0;
  if (!n || i + n > bytes.length) return 0;
  try { utf8.decode(bytes.subarray(i, i + n)); return n; } catch { return 0; }
}

// A token's bytes as readable text: whole UTF-8 characters as themselves,
// the space as a visible mark, line breaks and tabs as arrows, and any other
// byte as \xNN, as `glassgpt bpe show` writes them.
export function tokenText(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b === 32) s += "\u2423";
    else if (b === 10) s += "\u21b5";
    else if (b === 9) s += "\u2192";
    else if (b > 32 && b < 127) s += String.fromCharCode(b);
    else {
      const n = b >= 0x80 ? charLength(bytes, i) : 0;
      if (n) { s += utf8.decode(bytes.subarray(i, i + n)); i += n; continue; }
      s += `\\x${hex(b)}`;
    }
    i++;
  }
  return s;
}

// The bytes of token id, from a tokenizer's tables (engine-core.js); and a
// function that writes any token of those tables as text.
export const tokenBytes = (t, id) => t.tokenBytes.subarray(t.tokenStart[id], t.tokenStart[id + 1]);
export const tokenLabeller = (t) => (id) => tokenText(tokenBytes(t, id));

// A number as the figures write it: fixed digits, and never "-0.00".
export function fixed(v, digits = 2) {
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

export const plural = (n, one, many = `${one}s`) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

// A calm, distinct colour per token id (golden-angle hues).
export const tokenHue = (id) => (id * 137.508) % 360;
export const tokenColor = (id, light = 88) => `hsl(${tokenHue(id)} 70% ${light}%)`;

// A token as a chip: its text over its id.
export const chip = (id, text, { pos, cls = "" } = {}) => html`<span class="chip ${cls}"
  style="background:${tokenColor(id)}" data-id=${id} data-pos=${pos ?? ""}
  ><span class="t">${text}</span><span class="id">${id}</span></span>`;

// An element, for the few figures built by hand (the vocabulary grid):
// attributes, "on..." listeners, and children.
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// Token chips inside container follow the page's link: pointing at one
// links its position (and token) everywhere, and the chips of the linked
// position or token light up.
export function linkChips(container, scope) {
  const chipOf = (e) => e.target.closest?.(".chip[data-id]");
  const over = (e) => {
    const c = chipOf(e);
    if (c) scope.page.link({ pos: c.dataset.pos === "" ? null : Number(c.dataset.pos), id: Number(c.dataset.id) });
  };
  const out = (e) => { if (chipOf(e)) scope.page.link(null); };
  container.addEventListener("pointerover", over);
  container.addEventListener("pointerout", out);
  scope.add(() => { container.removeEventListener("pointerover", over); container.removeEventListener("pointerout", out); });
  scope.on("link", (l) => {
    for (const c of container.querySelectorAll(".chip[data-id]")) {
      const pos = c.dataset.pos === "" ? null : Number(c.dataset.pos);
      c.classList.toggle("linked", !!l && (l.pos != null ? pos === l.pos : Number(c.dataset.id) === l.id));
    }
  });
}

// The diverging scale of every matrix: blue for negative, dark near zero,
// orange for positive, by |value| / scale.
const DARK = [32, 34, 40], HOT = [234, 108, 32], COLD = [56, 120, 240];

// Writes the colour of v to px[i..i+2], allocating nothing: a matrix paints
// tens of thousands of cells at a time.
function paint(px, i, v, scale) {
  const t = Math.max(-1, Math.min(1, v / (scale || 1)));
  const end = t >= 0 ? HOT : COLD, a = Math.abs(t);
  px[i] = Math.round(DARK[0] + (end[0] - DARK[0]) * a);
  px[i + 1] = Math.round(DARK[1] + (end[1] - DARK[1]) * a);
  px[i + 2] = Math.round(DARK[2] + (end[2] - DARK[2]) * a);
}

export const maxAbs = (data) => {
  let m = 0;
  for (const v of data) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
};

// Drawing, a few figures per task: a new model or a resize redraws dozens
// of figures, and drawn all at once they would hold the page for 100 ms.
const waiting = new Map();  // key -> draw
let flushing = null, settle = [];
function later(key, draw) {
  waiting.set(key, draw);
  flushing ??= setTimeout(flush, 0);
}
function flush() {
  const t0 = performance.now();
  for (const [key, draw] of waiting) {
    waiting.delete(key);
    draw();
    if (performance.now() - t0 > 6) break;
  }
  flushing = waiting.size ? setTimeout(flush, 0) : null;
  if (!flushing) settle.splice(0).forEach((resolve) => resolve());
}
// Resolves once every figure waiting to be drawn is drawn.
export const drawn = () => (flushing ? new Promise((resolve) => settle.push(resolve)) : Promise.resolve());

// Calls draw(width) soon if the container has a width, and again whenever
// that width changes; returns the way to stop.
export function sized(container, draw) {
  let last = -1, stopped = false;
  const ro = new ResizeObserver(() => {
    const w = Math.floor(container.clientWidth);
    if (w > 0 && w !== last) { last = w; later(container, () => stopped || draw(w)); }
  });
  ro.observe(container);
  return () => { stopped = true; ro.disconnect(); waiting.delete(container); };
}

// Sizes a canvas to W x H CSS pixels, sharp at the screen's pixel ratio;
// returns its context, drawing in CSS pixels.
function sizeCanvas(canvas, W, H) {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(W * dpr);
  canvas.height = Math.round(H * dpr);
  canvas.style.width = `${W}px`;
  canvas.style.height = `${H}px`;
  const c = canvas.getContext("2d");
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  return c;
}

const LABEL_FONT = "12px system-ui, sans-serif", NUMBER_FONT = "11px ui-monospace, monospace";
let measurer;
const textWidth = (s, font) => {
  measurer ??= new OffscreenCanvas(1, 1).getContext("2d");
  measurer.font = font;
  return measurer.measureText(s).width;
};

// A matrix drawn on a canvas that fits its container, with one tab stop:
// the arrow keys (and Home, End, PageUp, PageDown) walk a cursor over its
// values and the readout says what each one is. The pointer does the same.
//
// spec: {name, data, rows, cols, rowLabels, colLabels, rowTitle, colTitle,
//   scale (own: the largest |value|), numbers (when they fit), masked(r, c),
//   marks: columns where a section starts, explain(r, c) -> text,
//   rowsAre / colsAre: "position" or "token" (the link follows them),
//   ids: the tokens of the positions, square: cells keep a 1:1 aspect,
//   fixedScale: the scale given, whatever the page's shared one}
// scope: the chapter's (the page's link and scale events reach the view
// through it). Returns the view: {root, readout, update(data, spec), point(r, c)};
// root carries .values, .rows, .cols and .cellCenter(r, c) for the tests.
// A matrix of the same shape drawn again into the same container, by the
// same chapter, repaints the view there (its cursor and focus stay).
const MATRIX_DEFAULTS = { numbers: true, marks: [], masked: () => false };
export function matrixView(container, spec, scope) {
  const old = container.ggView;
  if (old?.kind === "matrix" && old.scope === scope && old.root.rows === spec.rows && old.root.cols === spec.cols) {
    old.update(spec.data, spec);
    return old;
  }
  let s = { ...MATRIX_DEFAULTS, ...spec };
  const root = document.createElement("div");
  root.className = "mat";
  root.tabIndex = 0;
  root.setAttribute("role", "group");
  root.setAttribute("aria-roledescription", "matrix");
  const scroller = document.createElement("div");
  scroller.className = "mat-scroll";
  scroller.tabIndex = -1;  // the matrix's keys scroll it: not a tab stop of its own
  const canvas = document.createElement("canvas");
  const over = document.createElement("div");
  over.className = "mat-over";
  const caption = document.createElement("div");
  caption.className = "mat-caption";
  const readout = document.createElement("div");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  scroller.append(canvas, over);
  root.append(caption, scroller, readout);
  container.replaceChildren(root);

  let g = null, cursor = null, linked = null, stretched = 0;  // g: the geometry of the last drawing
  const view = { kind: "matrix", scope, root, readout };

  const scaleOf = () => (scope?.page.sharedScale.on && !s.fixedScale
    ? scope.page.sharedScale.value : s.scale ?? (maxAbs(s.data) || 1));

  function describe() {
    const sc = scaleOf();
    const shared = scope?.page.sharedScale.on && !s.fixedScale;
    const axes = [s.rowTitle && `rows: ${s.rowTitle}`, s.colTitle && `columns: ${s.colTitle}`].filter(Boolean).join("; ");
    caption.textContent = `${s.name} [${s.rows}\u00d7${s.cols}]${axes ? ` \u00b7 ${axes}` : ""} \u00b7 ` +
      `colour: \u00b1${fixed(sc, 3)} (${s.fixedScale ? "fixed" : shared ? "shared" : "its own"} scale)` +
      (stretched ? ` \u00b7 rows drawn ${stretched.toFixed(0)}\u00d7 taller than wide` : "") +
      (g?.scrolls ? " \u00b7 wider than the page: scroll sideways \u2192" : "");
    root.setAttribute("aria-label", `${s.name}, ${s.rows} by ${s.cols}. Arrow keys move through the values.`);
  }

  function draw(width) {
    const labelW = s.rowLabels ? Math.ceil(Math.max(...s.rowLabels.map((t) => textWidth(String(t), LABEL_FONT)))) + 10 : 0;
    const topH = s.colLabels ? 18 : 0;
    let cw = Math.min(s.maxCell ?? 52, (width - labelW) / s.cols);
    if (s.square) cw = Math.min(cw, Math.max(1, 360 / s.rows));  // a tall weight stays within a screen
    const scrolls = cw < 1;
    if (scrolls) cw = 1;
    const numbers = s.numbers && cw >= textWidth("-0.00", NUMBER_FONT) + 4;
    // square cells keep a weight's true shape, unless its rows would be too thin to see
    const ch = numbers ? 22 : s.square ? Math.max(4, Math.min(cw, 24)) : Math.max(6, Math.min(cw, 16));
    stretched = s.square && ch > cw * 1.01 ? ch / cw : 0;
    const W = Math.ceil(labelW + cw * s.cols), H = Math.ceil(topH + ch * s.rows);
    g = { labelW, topH, cw, ch, W, H, scrolls };
    root.classList.toggle("scrolls", scrolls);
    const c = sizeCanvas(canvas, W, H);
    c.clearRect(0, 0, W, H);
    // one pixel per cell, then scaled up without smoothing: cheap and crisp
    const sc = scaleOf(), cells = new OffscreenCanvas(s.cols, s.rows), cc = cells.getContext("2d");
    const img = cc.createImageData(s.cols, s.rows);
    for (let r = 0; r < s.rows; r++)
      for (let k = 0; k < s.cols; k++) {
        const i = 4 * (r * s.cols + k);
        if (s.masked(r, k)) { img.data[i] = 58; img.data[i + 1] = 61; img.data[i + 2] = 68; }
        else paint(img.data, i, s.data[r * s.cols + k], sc);
        img.data[i + 3] = 255;
      }
    cc.putImageData(img, 0, 0);
    c.imageSmoothingEnabled = false;
    c.drawImage(cells, labelW, topH, cw * s.cols, ch * s.rows);
    hatch(c, labelW, topH, cw, ch);
    c.strokeStyle = "rgba(255,255,255,.9)";
    c.lineWidth = 1.5;
    for (const m of s.marks) if (m > 0) {
      c.beginPath();
      c.moveTo(labelW + m * cw, topH);
      c.lineTo(labelW + m * cw, H);
      c.stroke();
    }
    if (numbers) {
      c.font = NUMBER_FONT;
      c.textAlign = "center";
      c.textBaseline = "middle";
      for (let r = 0; r < s.rows; r++)
        for (let k = 0; k < s.cols; k++) {
          if (s.masked(r, k)) continue;
          const v = s.data[r * s.cols + k];
          c.fillStyle = Math.abs(v) > 0.45 * sc ? "#fff" : "#e8e6e1";
          c.fillText(fixed(v), labelW + (k + 0.5) * cw, topH + (r + 0.5) * ch);
        }
    }
    c.fillStyle = "#5d6470";
    c.font = LABEL_FONT;
    c.textBaseline = "middle";
    if (s.rowLabels && ch >= 12) {
      c.textAlign = "right";
      s.rowLabels.forEach((t, r) => c.fillText(String(t), labelW - 6, topH + (r + 0.5) * ch));
    }
    if (s.colLabels) {
      // a section's label starts at its mark; a column's is centred on it
      const sections = s.marks.length > 0;
      c.textAlign = "left";
      let lastEnd = -Infinity;
      s.colLabels.forEach((t, k) => {
        if (!t) return;
        const w = textWidth(String(t), LABEL_FONT);
        const left = sections ? labelW + k * cw + 2 : labelW + (k + 0.5) * cw - w / 2;
        if (left < lastEnd + 4) return;  // no label over another
        c.fillText(String(t), left, topH / 2);
        lastEnd = left + w;
      });
    }
    describe();
    paintOverlay();
  }

  // Masked cells are hatched: there is no value there.
  function hatch(c, x0, y0, cw, ch) {
    c.save();
    c.beginPath();
    for (let r = 0; r < s.rows; r++)
      for (let k = 0; k < s.cols; k++) if (s.masked(r, k)) c.rect(x0 + k * cw, y0 + r * ch, cw, ch);
    c.clip();
    c.strokeStyle = "rgba(255,255,255,.18)";
    c.lineWidth = 1;
    c.beginPath();
    const W = x0 + s.cols * cw, H = y0 + s.rows * ch;
    for (let x = x0 - H; x < W; x += 6) { c.moveTo(x, H); c.lineTo(x + H, y0); }
    c.stroke();
    c.restore();
  }

  // The cursor and the linked rows and columns, as boxes over the canvas.
  function box(cls, r0, c0, nr, nc) {
    const b = document.createElement("div");
    b.className = cls;
    Object.assign(b.style, { left: `${g.labelW + c0 * g.cw}px`, top: `${g.topH + r0 * g.ch}px`,
      width: `${Math.max(2, nc * g.cw)}px`, height: `${Math.max(2, nr * g.ch)}px` });
    return b;
  }
  function paintOverlay() {
    if (!g) return;
    const boxes = [];
    if (linked) {
      const hits = (kind, n) => {
        if (kind === "position") {
          if (linked.pos != null) return linked.pos < n ? [linked.pos] : [];
          return s.ids ? s.ids.flatMap((id, i) => (id === linked.id && i < n ? [i] : [])) : [];
        }
        if (kind === "token") return linked.id != null && linked.id < n ? [linked.id] : [];
        return [];
      };
      for (const r of hits(s.rowsAre, s.rows)) boxes.push(box("linked", r, 0, 1, s.cols));
      for (const k of hits(s.colsAre, s.cols)) boxes.push(box("linked", 0, k, s.rows, 1));
    }
    if (cursor) boxes.push(box("cursor", cursor.r, cursor.c, 1, 1));
    over.replaceChildren(...boxes);
  }

  function explain(r, c) {
    return s.explain?.(r, c) ?? `${s.name}[${r}][${c}] = ${fixed(s.data[r * s.cols + c], 6)}`;
  }
  function point(r, c, source) {
    if (source === "pointer" && cursor?.r === r && cursor?.c === c) return;  // the same cell
    cursor = { r: Math.max(0, Math.min(s.rows - 1, r)), c: Math.max(0, Math.min(s.cols - 1, c)) };
    readout.textContent = explain(cursor.r, cursor.c);
    paintOverlay();
    if (!scope) return;
    const pos = s.rowsAre === "position" ? cursor.r : s.colsAre === "position" ? cursor.c : null;
    const id = s.rowsAre === "token" ? cursor.r : s.colsAre === "token" ? cursor.c : pos != null && s.ids ? s.ids[pos] : null;
    if (pos != null || id != null) scope.page.link({ pos, id });
    if (source === "key" && g) {  // keep the cursor in sight when the matrix scrolls
      const x = g.labelW + cursor.c * g.cw;
      if (x < scroller.scrollLeft || x > scroller.scrollLeft + scroller.clientWidth - g.cw)
        scroller.scrollLeft = x - scroller.clientWidth / 2;
    }
  }
  const cellAt = (e) => {
    const b = canvas.getBoundingClientRect();
    const c = Math.floor((e.clientX - b.left - g.labelW) / g.cw), r = Math.floor((e.clientY - b.top - g.topH) / g.ch);
    return r >= 0 && r < s.rows && c >= 0 && c < s.cols ? [r, c] : null;
  };
  canvas.addEventListener("mousemove", (e) => { const at = g && cellAt(e); if (at) point(...at, "pointer"); });
  canvas.addEventListener("mouseleave", () => { cursor = null; paintOverlay(); scope?.page.link(null); });
  root.addEventListener("focus", () => { if (!cursor) point(0, 0, "key"); });
  root.addEventListener("keydown", (e) => {
    if (!cursor) cursor = { r: 0, c: 0 };
    const page = Math.max(1, Math.round(s.cols / 8));
    const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0],
      PageUp: [0, -page], PageDown: [0, page] };
    if (!moves[e.key] && e.key !== "Home" && e.key !== "End") return;
    const m = moves[e.key];
    e.preventDefault();
    if (m) {
      const r = cursor.r + m[0], c = cursor.c + m[1];
      const past = (r < 0 && cursor.r === 0) || (c < 0 && cursor.c === 0) ? -1
        : (r >= s.rows && cursor.r === s.rows - 1) || (c >= s.cols && cursor.c === s.cols - 1) ? 1 : 0;
      if (past) root.dispatchEvent(new CustomEvent("mat-edge", { bubbles: true, detail: past }));
      else point(r, c, "key");
    } else if (e.key === "Home") point(cursor.r, 0, "key");
    else if (e.key === "End") point(cursor.r, s.cols - 1, "key");
  });

  joinFigure(root, container);
  root.values = s.data;
  root.rows = s.rows;
  root.cols = s.cols;
  // where cell (r, c) is on the screen, for the pointer
  root.cellCenter = (r, c) => {
    const b = canvas.getBoundingClientRect();
    return { x: b.left + g.labelW + (c + 0.5) * g.cw, y: b.top + g.topH + (r + 0.5) * g.ch };
  };
  let width = 0;
  const offs = [sized(scroller, (w) => { width = w; draw(w); })];
  if (scope) {
    offs.push(scope.page.on("link", (l) => { linked = l; paintOverlay(); }),
      scope.page.on("scale", () => width && draw(width)));
    scope.add(() => view.dispose());
  }
  adopt(container, view, offs);
  // New values of the same shape, and with them, when given, a new spec (a
  // mask, a scale, a title that changed): repainted in place.
  view.update = (data, next) => {
    s = next ? { ...MATRIX_DEFAULTS, ...next, data } : { ...s, data };
    root.values = data;
    if (width) draw(width);
  };
  view.point = point;
  return view;
}

// A view takes the place of the one its container held: that one's
// listeners end now, not when its chapter does.
function adopt(container, view, offs) {
  container.ggView?.dispose();
  container.ggView = view;
  view.dispose = () => { offs.splice(0).forEach((f) => f()); };
}

// One tab stop per figure: the first view (.mat) of a figure holds it, the
// others are reached from it with the arrow keys past an edge.
function joinFigure(root, container) {
  const figure = container.closest(".figure");
  if (!figure) return;
  root.tabIndex = [...figure.querySelectorAll('.mat[tabindex="0"]')].some((m) => m !== root) ? -1 : 0;
  roving(figure);
}

// The matrices of a figure as one tab stop: an arrow key past a matrix's
// edge moves to the next (or the previous) one, which then holds the stop.
const roved = new WeakSet();
function roving(figure) {
  if (roved.has(figure)) return;
  roved.add(figure);
  figure.addEventListener("mat-edge", (e) => {
    const all = [...figure.querySelectorAll(".mat")], i = all.indexOf(e.target);
    const to = all[i + e.detail];
    if (!to) return;
    all.forEach((m) => (m.tabIndex = m === to ? 0 : -1));
    to.focus();
  });
  figure.addEventListener("focusin", (e) => {
    if (!e.target.classList?.contains("mat")) return;
    for (const m of figure.querySelectorAll(".mat")) m.tabIndex = m === e.target ? 0 : -1;
  });
}

// "Nice" tick values from lo to hi: about n of them, at 1, 2 or 5 times a
// power of ten, with the digits that tell them apart.
export function ticks(lo, hi, n = 5, integer = false) {
  const span = hi - lo || 1, raw = Math.max(span / n, integer ? 1 : 0), p = 10 ** Math.floor(Math.log10(raw));
  const step = [5, 2, 1].map((m) => m * p).find((x) => x <= raw);  // at least n ticks, at most 2.5n
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push({ v, text: fixed(v, digits) });
  return out;
}

// A line chart (an SVG template) of named series of [x, y] points, width
// pixels wide, with reference lines, ticks on both axes and axis titles.
export function lineChart({ width, series, refs = [], xLabel = "step", yLabel = "loss", height = 240 }) {
  const W = Math.max(200, width), H = height, L = 52, B = 40, T = 12, R = 14;
  const pts = series.flatMap((s) => s.points);
  const ys = pts.map((p) => p[1]).concat(refs.map((r) => r.y));
  const xMax = Math.max(1, ...pts.map((p) => p[0]));
  const lo = Math.min(...ys), hi = Math.max(...ys), pad = Math.max(0.05, (hi - lo) * 0.08);
  const yMin = Math.max(0, lo - pad), yMax = hi + pad;
  const X = (x) => L + ((W - L - R) * x) / xMax, Y = (y) => T + ((H - T - B) * (yMax - y)) / (yMax - yMin);
  const xt = ticks(0, xMax, Math.max(2, Math.floor((W - L) / 200)), true), yt = ticks(yMin, yMax, 3);
  return svg`<svg viewBox="0 0 ${W} ${H}" width=${W} height=${H} class="chart" role="img"
    aria-label=${series.map((x) => `${x.name}: ${x.points.length ? x.points.at(-1)[1].toFixed(3) : "none"}`).join(", ")}>
    ${yt.map((t) => svg`<line x1=${L} x2=${W - R} y1=${Y(t.v)} y2=${Y(t.v)} class="grid-line"/>
      <text x=${L - 6} y=${Y(t.v) + 4} text-anchor="end" class="axis ytick">${t.text}</text>`)}
    ${xt.map((t) => svg`<text x=${X(t.v)} y=${H - B + 16} text-anchor="middle" class="axis xtick">${t.text}</text>`)}
    <text x=${(L + W - R) / 2} y=${H - 6} text-anchor="middle" class="axis title">${xLabel}</text>
    <text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle" class="axis title">${yLabel}</text>
    ${refs.map((r) => svg`<line x1=${L} x2=${W - R} y1=${Y(r.y)} y2=${Y(r.y)} class="ref-line"/>
      <text x=${W - R} y=${Y(r.y) - 4} text-anchor="end" class="axis">${r.label}</text>`)}
    ${series.filter((s) => s.points.length).map((s) => svg`<polyline class="series ${s.cls}"
      points=${s.points.map(([x, y]) => `${X(x)},${Y(y)}`).join(" ")}/>`)}
  </svg>`;
}

// A horizontal bar chart (an SVG template), width pixels wide: rows of
// {label, value, highlight}, and with pair, a second value per row drawn
// under the first (before and after a change).
export function barChart({ width, rows, format = String, pair, labelWidth = 96 }) {
  const W = Math.max(200, width), valueW = 64, rowH = pair ? 34 : 24;
  // a value that is not a number (a model whose training diverged) draws
  // as the shortest bar, and says what it is
  const finite = (v) => (Number.isFinite(v) ? v : 0);
  const max = Math.max(1e-12, ...rows.flatMap((r) => (pair ? [r.value, r.value2] : [r.value])).map(finite));
  const len = (v) => Math.max(1, ((W - labelWidth - valueW) * finite(v)) / max);
  return svg`<svg viewBox="0 0 ${W} ${rows.length * rowH}" width=${W} height=${rows.length * rowH} class="bars"
    data-values=${JSON.stringify(rows.map((r) => [r.key ?? r.label, r.value, ...(pair ? [r.value2] : [])]))}
    role="img" aria-label=${rows.map((r) => `${r.label}: ${format(r.value)}${pair ? `, ${pair[1]} ${format(r.value2)}` : ""}`).join("; ")}>
    ${rows.map((r, i) => {
      const y = i * rowH, h = pair ? 12 : rowH - 6;
      return svg`<text x=${labelWidth - 8} y=${y + 16} text-anchor="end" class="bar-label">${r.label}</text>
        <rect x=${labelWidth} y=${y + 3} width=${len(r.value)} height=${h} rx="2" class=${pair ? "bar raw" : r.highlight ? "bar bar-hi" : "bar"}/>
        <text x=${labelWidth + len(r.value) + 6} y=${y + 3 + h - 1} class="bar-value">${format(r.value)}</text>
        ${pair ? svg`<rect x=${labelWidth} y=${y + 3 + h + 2} width=${len(r.value2)} height=${h} rx="2"
            class=${r.highlight ? "bar bar-hi" : "bar after"}/>
          <text x=${labelWidth + len(r.value2) + 6} y=${y + 3 + 2 * h + 1} class="bar-value">${format(r.value2)}</text>` : ""}`;
    })}
  </svg>`;
}

// A map of the token embeddings: each token a dot at its coordinates along
// the first two principal axes ({coords (V, 2), variance}), drawn to fit
// the container. The sentence's tokens are labelled; the pointer and the
// arrow keys visit the tokens, and the page's link rings its token.
export function embeddingMap(container, { pca, label, marked = [], name = "the token embeddings" }, scope) {
  const old = container.ggView;
  if (old?.kind === "map" && old.scope === scope) {  // drawn again (training): moved in place
    old.update(pca);
    return old;
  }
  const V = pca.coords.length / 2;
  const root = el("div", { class: "map-figure mat", tabindex: "0", role: "group",
    "aria-roledescription": "map", "aria-label": `A map of ${name}: arrow keys visit the tokens` });
  const canvas = el("canvas");
  const readout = el("div", { class: "readout", "aria-live": "polite" });
  const share = (k) => (100 * pca.variance[k] / (pca.variance[2] || 1)).toFixed(1);
  const caption = el("div", { class: "mat-caption" }, `${V} tokens: across, the first principal component ` +
    `(${share(0)}% of the variance); down, the second (${share(1)}%). Computed by the engine.`);
  root.append(caption, canvas, readout);
  container.replaceChildren(root);
  joinFigure(root, container);
  let xs, ys, W = 0, H = 0, ring = null, at = marked[0] ?? 0;
  const extents = () => {
    xs = [Infinity, -Infinity];
    ys = [Infinity, -Infinity];
    for (let i = 0; i < V; i++) {
      const x = pca.coords[2 * i], y = pca.coords[2 * i + 1];
      xs = [Math.min(xs[0], x), Math.max(xs[1], x)];
      ys = [Math.min(ys[0], y), Math.max(ys[1], y)];
    }
  };
  extents();
  const pad = 14;
  const X = (x) => pad + ((W - 2 * pad) * (x - xs[0])) / (xs[1] - xs[0] || 1);
  const Y = (y) => pad + ((H - 2 * pad) * (y - ys[0])) / (ys[1] - ys[0] || 1);
  function draw() {
    const c = sizeCanvas(canvas, W, H);
    c.fillStyle = "#fbfaf7";
    c.fillRect(0, 0, W, H);
    for (let i = 0; i < V; i++) {
      c.fillStyle = tokenColor(i, 55);
      c.fillRect(X(pca.coords[2 * i]) - 1.5, Y(pca.coords[2 * i + 1]) - 1.5, 3, 3);
    }
    c.font = "12px system-ui, sans-serif";
    c.fillStyle = "#1d1f24";
    for (const id of new Set(marked)) {
      const x = X(pca.coords[2 * id]), y = Y(pca.coords[2 * id + 1]);
      c.beginPath();
      c.arc(x, y, 3.5, 0, 2 * Math.PI);
      c.fill();
      c.fillText(label(id), x + 5, y - 4);
    }
    for (const id of [ring].filter((v) => v != null && v < V)) {
      c.strokeStyle = "#c2410c";
      c.lineWidth = 2;
      c.beginPath();
      c.arc(X(pca.coords[2 * id]), Y(pca.coords[2 * id + 1]), 7, 0, 2 * Math.PI);
      c.stroke();
    }
  }
  const say = (id) => {
    readout.textContent = `token ${id} \u201c${label(id)}\u201d at (${fixed(pca.coords[2 * id], 3)}, ` +
      `${fixed(pca.coords[2 * id + 1], 3)})`;
  };
  const visit = (id) => { at = (id + V) % V; ring = at; say(at); draw(); scope?.page.link({ pos: null, id: at }); };
  canvas.addEventListener("mousemove", (e) => {
    const b = canvas.getBoundingClientRect(), mx = e.clientX - b.left, my = e.clientY - b.top;
    let best = -1, bd = 64;
    for (let i = 0; i < V; i++) {
      const d = (X(pca.coords[2 * i]) - mx) ** 2 + (Y(pca.coords[2 * i + 1]) - my) ** 2;
      if (d < bd) { bd = d; best = i; }
    }
    if (best >= 0 && best !== ring) visit(best);
  });
  root.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, PageDown: 32, PageUp: -32 }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    visit(at + step);
  });
  root.addEventListener("focus", () => visit(at));
  const view = { kind: "map", scope, root, update(p) { pca = p; root.values = p.coords; extents(); if (W) draw(); } };
  const offs = [sized(container, (w) => { W = w; H = Math.round(Math.min(420, Math.max(220, w * 0.6))); draw(); })];
  if (scope) {
    offs.push(scope.page.on("link", (l) => { ring = l?.id ?? null; if (W) draw(); }));
    scope.add(() => view.dispose());
  }
  adopt(container, view, offs);
  root.values = pca.coords;
  return view;
}
