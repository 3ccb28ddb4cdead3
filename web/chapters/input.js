// What the per-layer chapters share: the slices of one layer's weights.
export const layerSlice = (tensor, l) => {
  const per = tensor.data.length / tensor.shape[0];
  return tensor.data.subarray(l * per, (l + 1) * per);
};

export const dims = (n, prefix = "d") => Array.from({ length: n }, (_, j) => `${prefix}${j}`);
