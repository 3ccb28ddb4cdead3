// A minimal WASI for the engine: it needs only a way to write a line (which
// goes to the console) and stubs for the rest of stdio. No files, no clock.
const ERRNO_BADF = 8;

export function wasiImports(memory) {
  const decoder = new TextDecoder();
  return {
    wasi_snapshot_preview1: {
      fd_write(fd, iovs, iovsLen, nwritten) {
        const view = new DataView(memory().buffer);
        let text = "", total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = view.getUint32(iovs + 8 * i, true), len = view.getUint32(iovs + 8 * i + 4, true);
          text += decoder.decode(new Uint8Array(memory().buffer, ptr, len));
          total += len;
        }
        (fd === 2 ? console.error : console.log)(text.replace(/\n$/, ""));
        view.setUint32(nwritten, total, true);
        return 0;
      },
      fd_close: () => ERRNO_BADF,
      fd_seek: () => ERRNO_BADF,
    },
  };
}
