// Debian's chromium driven by playwright-core, and a real `glassgpt serve`
// for it to load the page from: what the browser tests and the page's
// bench share. The flags give WebGPU on SwiftShader where there is no GPU.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

export const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu-sandbox", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader",
  "--use-webgpu-adapter=swiftshader"];

export const launch = (args = FLAGS) => chromium.launch({ executablePath: "/usr/bin/chromium", args });

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

// `glassgpt serve` on a free port, once it says it is serving:
// {server, base}; kill the server with SIGINT when done.
export async function serve(glassgpt, extra = []) {
  const port = await freePort();
  const server = spawn(glassgpt, ["serve", "--port", String(port), ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => String(d).includes("serving") && resolve());
    server.on("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { server, base: `http://127.0.0.1:${port}/` };
}

// A page at an empty document of the server's origin (a secure context,
// where navigator.gpu is), for tests that import the page's modules
// themselves.
export async function blankPage(browser, base) {
  const page = await browser.newPage();
  await page.route(`${base}blank.html`, (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><title>test</title>" }));
  await page.goto(`${base}blank.html`);
  return page;
}

// A suite's checks: check(ok, what) counts ok and reports what failed
// (and returns ok); end() prints the closing line and exits, non-zero on a
// failure.
export function tally() {
  let passed = 0, failed = 0;
  return {
    check(ok, what) {
      if (ok) passed++;
      else { failed++; console.error("FAIL:", what); }
      return ok;
    },
    end() {
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
  };
}
