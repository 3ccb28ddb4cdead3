// Where the model runs, as the training and inference chapters show it and
// let the reader choose: the CPU (the engine in WebAssembly) or the GPU
// (its kernels on WebGPU, gpu.js).
import { html } from "../vendor/lit-html.js";

const NAMES = { cpu: "the CPU (WebAssembly)", gpu: "the GPU (WebGPU)" };
export const backendName = (b) => NAMES[b];

// The choice, shared by the chapters (page.setBackend): the GPU's option
// names its adapter, or says that there is none.
export function backendPicker(page, id, backend) {
  const gpu = page.gpu;
  const label = gpu?.name ? `GPU: ${gpu.name}` : gpu?.why ? "GPU: not available" : "GPU: looking\u2026";
  return html`<label>Runs on <select id=${id} aria-label="Where the model runs"
      @change=${(e) => page.setBackend(e.target.value)}>
    <option value="cpu" ?selected=${backend === "cpu"}>CPU (WebAssembly)</option>
    <option value="gpu" ?selected=${backend === "gpu"} ?disabled=${!gpu?.name}>${label}</option></select></label>`;
}

// What the page knows of the GPU, in a line: why it was lost, or why there
// is none (so that everything runs on the CPU), or its adapter.
export function gpuLine(page, lost) {
  const gpu = page.gpu;
  if (lost) return html`<span class="note gpu-lost">${lost}</span>`;
  if (!gpu) return "";
  if (gpu.why) return html`<span class="gpu-none">No WebGPU here (${gpu.why}): everything runs on the CPU.</span>`;
  return html`<span class="gpu-adapter">WebGPU adapter: ${gpu.name}${gpu.software ?
    " (a GPU emulated on the CPU: the same numbers, slowly)" : ""}.</span>`;
}
