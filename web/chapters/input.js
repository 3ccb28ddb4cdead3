// What the model chapters share: slices and rearrangements of the
// engine's tensors (copies, never new numbers), and axis labels.

// Layer l's slice of a per-layer tensor {shape, data}.
export const layerSlice = (tensor, l) => {
  const per = tensor.data.length / tensor.shape[0];
  return tensor.data.subarray(l * per, (l + 1) * per);
};

// The rows ids of a table (V, d), copied one after another: (ids.length, d).
export function rowsOf(table, ids, d) {
  const out = new Float32Array(ids.length * d);
  ids.forEach((id, i) => out.set(table.subarray(id * d, (id + 1) * d), i * d));
  return out;
}

// A (rows, cols) matrix on its side: (cols, rows), for a tall table to fit.
export function onItsSide(data, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

export const dims = (n, prefix = "d") => Array.from({ length: n }, (_, j) => `${prefix}${j}`);
