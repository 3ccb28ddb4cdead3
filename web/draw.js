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
