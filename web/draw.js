// Shared drawing primitives: how bytes and tokens are shown, colours, and
// SVG helpers. Sections never compute model numbers; they draw what the
// engine returns.
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

// A calm, distinct colour per token id (golden-angle hues).
export const tokenHue = (id) => (id * 137.508) % 360;
export const tokenColor = (id, light = 88) => `hsl(${tokenHue(id)} 70% ${light}%)`;

const SVG = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}, parent) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

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

// A horizontal bar chart in SVG: rows of {label, value, highlight}. Crisp at
// any pixel ratio; the values are written beside the bars.
export function barChart(container, rows, { width = 360, rowHeight = 22, format = String } = {}) {
  container.replaceChildren();
  const labelWidth = 84, valueWidth = 64, max = Math.max(1e-12, ...rows.map((r) => r.value));
  const s = svg("svg", { viewBox: `0 0 ${width} ${rows.length * rowHeight}`, role: "img",
    class: "bars", "aria-label": rows.map((r) => `${r.label}: ${format(r.value)}`).join(", ") }, container);
  rows.forEach((r, i) => {
    const y = i * rowHeight, w = ((width - labelWidth - valueWidth) * r.value) / max;
    const label = svg("text", { x: labelWidth - 8, y: y + rowHeight * 0.68, "text-anchor": "end",
      class: "bar-label" }, s);
    label.textContent = r.label;
    svg("rect", { x: labelWidth, y: y + 3, width: Math.max(1, w), height: rowHeight - 6, rx: 3,
      class: r.highlight ? "bar bar-hi" : "bar" }, s);
    const value = svg("text", { x: labelWidth + w + 6, y: y + rowHeight * 0.68, class: "bar-value" }, s);
    value.textContent = format(r.value);
  });
  return s;
}

// The diverging scale of every heatmap: blue for negative, dark near zero,
// orange for positive, by |value| / scale.
const DARK = [32, 34, 40], HOT = [234, 108, 32], COLD = [56, 120, 240];
export function diverging(v, scale) {
  const rgb = [0, 0, 0];
  paint(rgb, 0, v, scale);
  return rgb;
}

// Writes the colour of v to px[i], px[i + 1] and px[i + 2], with nothing
// allocated: a heatmap paints tens of thousands of cells at a time.
function paint(px, i, v, scale) {
  const t = Math.max(-1, Math.min(1, v / (scale || 1)));
  const end = t >= 0 ? HOT : COLD, a = Math.abs(t);
  px[i] = Math.round(DARK[0] + (end[0] - DARK[0]) * a);
  px[i + 1] = Math.round(DARK[1] + (end[1] - DARK[1]) * a);
  px[i + 2] = Math.round(DARK[2] + (end[2] - DARK[2]) * a);
}

// A heatmap of a matrix (rows x cols, row-major) on a canvas, crisp at any
// pixel ratio, with a numeric legend and the value under the pointer.
// Tall matrices are drawn transposed (one column per row) to fit.
// width, when given, saves measuring the container (which forces a layout).
export function heatmap(container, { name, data, rows, cols, highlightRows = [], width: given }) {
  const transposed = rows > cols * 4;
  const R = transposed ? cols : rows, C = transposed ? rows : cols;
  const at = (r, c) => (transposed ? data[c * cols + r] : data[r * cols + c]);
  let scale = 0;
  for (const v of data) scale = Math.max(scale, Math.abs(v));
  const width = given || Math.max(120, container.clientWidth || 300);
  const cw = width / C, ch = Math.max(2, Math.min(14, 160 / R));
  const canvas = el("canvas", { class: "heatmap", role: "img",
    "aria-label": `${name}: ${rows} by ${cols}, values from ${(-scale).toFixed(3)} to ${scale.toFixed(3)}` });
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(R * ch * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${R * ch}px`;
  // one pixel per cell, then scaled up without smoothing: cheap and crisp
  const cells = new OffscreenCanvas(C, R), cg = cells.getContext("2d");
  const img = cg.createImageData(C, R);
  for (let r = 0; r < R; r++)
    for (let c = 0; c < C; c++) {
      const i = 4 * (r * C + c);
      paint(img.data, i, at(r, c), scale);
      img.data[i + 3] = 255;
    }
  cg.putImageData(img, 0, 0);
  const g = canvas.getContext("2d");
  g.imageSmoothingEnabled = false;
  g.drawImage(cells, 0, 0, canvas.width, canvas.height);
  g.strokeStyle = "#ffffff";
  g.lineWidth = Math.max(1, dpr);
  for (const hr of highlightRows) {  // a row of the matrix: a column when transposed
    if (transposed) g.strokeRect(hr * cw * dpr, 0, Math.max(cw, 2) * dpr, canvas.height);
    else g.strokeRect(0, hr * ch * dpr, canvas.width, ch * dpr);
  }
  const readout = el("div", { class: "readout" }, `${name} [${rows}\u00d7${cols}]` +
    (transposed ? ", drawn on its side" : ""));
  canvas.addEventListener("mousemove", (e) => {
    const b = canvas.getBoundingClientRect();
    const c = Math.min(C - 1, Math.floor(((e.clientX - b.left) / b.width) * C));
    const r = Math.min(R - 1, Math.floor(((e.clientY - b.top) / b.height) * R));
    const [row, col] = transposed ? [c, r] : [r, c];
    readout.textContent = `${name}[${row}][${col}] = ${at(r, c).toFixed(5)}`;
  });
  const legend = el("div", { class: "legend" },
    el("span", {}, (-scale).toFixed(3)), el("span", { class: "ramp" }), el("span", {}, scale.toFixed(3)));
  container.replaceChildren(canvas, el("div", { class: "heat-foot" }, readout, legend));
}

// A line chart in SVG of named series of [x, y] points, with optional
// horizontal reference lines.
export function lineChart(container, { series, refs = [], xLabel = "step", yLabel = "loss" }) {
  const W = 640, H = 240, L = 44, B = 26, T = 10, Rm = 12;
  const pts = series.flatMap((s) => s.points);
  const ys = pts.map((p) => p[1]).concat(refs.map((r) => r.y));
  const xMax = Math.max(1, ...pts.map((p) => p[0]));
  const lo = Math.min(...ys), hi = Math.max(...ys), pad = Math.max(0.1, (hi - lo) * 0.08);
  const yMin = Math.max(0, lo - pad), yMax = hi + pad;
  const X = (x) => L + ((W - L - Rm) * x) / xMax, Y = (y) => T + ((H - T - B) * (yMax - y)) / (yMax - yMin);
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": series.map((x) => `${x.name}: ${x.points.length ? x.points.at(-1)[1].toFixed(3) : "none"}`).join(", ") });
  for (let k = 0; k <= 4; k++) {
    const y = yMin + ((yMax - yMin) * k) / 4;
    svg("line", { x1: L, x2: W - Rm, y1: Y(y), y2: Y(y), class: "grid-line" }, s);
    svg("text", { x: L - 6, y: Y(y) + 4, "text-anchor": "end", class: "axis" }, s).textContent = y.toFixed(1);
  }
  svg("text", { x: W - Rm, y: H - 6, "text-anchor": "end", class: "axis" }, s).textContent = `${xLabel} ${xMax}`;
  svg("text", { x: L, y: H - 6, class: "axis" }, s).textContent = yLabel;
  for (const r of refs) {
    svg("line", { x1: L, x2: W - Rm, y1: Y(r.y), y2: Y(r.y), class: "ref-line" }, s);
    svg("text", { x: W - Rm, y: Y(r.y) - 4, "text-anchor": "end", class: "axis" }, s).textContent = r.label;
  }
  for (const ser of series)
    if (ser.points.length) {
      svg("polyline", { class: `series ${ser.cls}`, points: ser.points.map(([x, y]) => `${X(x)},${Y(y)}`).join(" ") }, s);
      if (ser.cls === "past") {
        const [x, y] = ser.points.at(-1);
        svg("text", { x: X(x) - 4, y: Y(y) - 5, "text-anchor": "end", class: "axis" }, s).textContent = ser.name;
      }
    }
  container.replaceChildren(s);
}

// A small matrix as a grid of cells, coloured on the diverging scale, with
// its numbers when they fit. Each cell carries its value in data-v, and
// hover (or focus) calls explain(r, c) for the readout.
// Without an explain of its own, a matrix with a name and a readout element
// says which cell the pointer is on and its value.
export function matrix(container, { data, rows, cols, rowLabels = [], colLabels = [], scale,
  numbers = cols <= 16, masked = () => false, explain, marks = [], name, readout }) {
  if (!explain && name && readout)
    explain = (r, c) => { readout.textContent = `${name}[${r}][${c}] = ${data[r * cols + c].toFixed(6)} (${rows}\u00d7${cols})`; };
  if (scale === undefined) { scale = 0; for (const v of data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v)); }
  const grid = el("div", { class: `matrix${numbers ? " numbers" : ""}`, role: "grid",
    style: `grid-template-columns: ${rowLabels.length ? "auto " : ""}repeat(${cols}, minmax(${numbers ? "3.2em" : "0.7em"}, 1fr))` });
  if (colLabels.length) {
    if (rowLabels.length) grid.append(el("div", { class: "lab" }));
    for (let c = 0; c < cols; c++) grid.append(el("div", { class: `lab col${marks.includes(c) ? " mark" : ""}` }, colLabels[c] ?? ""));
  }
  for (let r = 0; r < rows; r++) {
    if (rowLabels.length) grid.append(el("div", { class: "lab row" }, rowLabels[r] ?? ""));
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c], m = masked(r, c);
      const [cr, cg, cb] = diverging(m ? 0 : v, scale);
      const cell = el("div", { class: `cell${m ? " masked" : ""}${marks.includes(c) ? " mark" : ""}`,
        "data-r": r, "data-c": c, "data-v": String(v), tabindex: explain ? "0" : "-1",
        style: m ? "" : `background: rgb(${cr} ${cg} ${cb}); color: ${Math.abs(v) > 0.45 * scale ? "#fff" : "#e8e6e1"}` },
        numbers && !m ? v.toFixed(2) : "");
      grid.append(cell);
    }
  }
  if (explain) {
    const show = (e) => {
      const t = e.target.closest(".cell");
      if (t) explain(Number(t.dataset.r), Number(t.dataset.c));
    };
    grid.addEventListener("mouseover", show);
    grid.addEventListener("focusin", show);
  }
  container.replaceChildren(grid);
  return grid;
}
