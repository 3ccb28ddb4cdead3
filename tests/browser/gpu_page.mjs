// The walkthrough with its two backends, in Debian's chromium: the
// training and inference chapters say where the model runs and let the
// reader move it, mid-training, between the CPU (WebAssembly) and the GPU
// (WebGPU on SwiftShader here), with its step and optimizer state; each
// backend's tokens/s is shown. Generation on the GPU gives the CPU's text.
// Training that diverges stops and says so, on either backend.
// A GPU lost mid-training sends training on, on the CPU, from its last
// state brought home; a browser with no WebGPU says so in one line and
// trains on the CPU.
//
// usage: node tests/browser/gpu_page.mjs GLASSGPT
import { FLAGS, launch, serve, tally } from "./chromium.mjs";

const glassgpt = process.argv[2] || "build/glassgpt";
const { check, end } = tally();

// The page at the training chapter, ready, with the GPU looked for.
async function open(browser, base) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${base}?chapter=training`);
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 120000 });
  await page.evaluate(() => window.glassgpt.page.gpuReady);
  await page.waitForSelector("#train-backend");
  return { page, errors };
}
// page.waitForFunction, and on a timeout the page's two lines on where the
// model runs, in the error
async function waitFor(page, fn, arg, timeout = 60000) {
  try {
    await page.waitForFunction(fn, arg, { timeout });
  } catch (e) {
    const line = (id) => page.$eval(id, (el) => el.textContent.replace(/\s+/g, " ").trim()).catch(() => "none");
    throw new Error(`${e.message.split("\n")[0]} (${String(fn).slice(0, 90)}, ${arg}); training: ${await line("#train-backend-line")}; ` +
      `inference: ${await line("#infer-backend-line")}`);
  }
}
// A new learning rate, as the reader types it: the chapter makes a fresh model.
async function setLearningRate(page, lr) {
  await page.fill("#train-lr", lr);
  await page.dispatchEvent("#train-lr", "change");
}
// A learning rate of 1e30 makes training diverge: it must stop, and say so.
async function diverges(page, what) {
  await setLearningRate(page, "1e30");
  await waitFor(page, () => document.querySelector("#train-step-count").textContent === "0");
  await page.click("#train-start");
  await waitFor(page, () => document.querySelector("#train-problem"));
  const problem = await page.$eval("#train-problem", (e) => e.textContent);
  check(/training has diverged/.test(problem) && (await page.textContent("#train-start")) === "Start",
    `${what}: training that diverges stops, and says so: ${problem}`);
}
const stepCount = (page) => page.$eval("#train-step-count", (e) => Number(e.textContent));
const waitSteps = (page, n, timeout = 120000) =>
  waitFor(page, (n) => Number(document.querySelector("#train-step-count").textContent) >= n, n, timeout);

const { server, base } = await serve(glassgpt);
try {
  // ---- with WebGPU ----
  const browser = await launch();
  try {
    const { page, errors } = await open(browser, base);
    const gpuOption = await page.$eval("#train-backend option[value=gpu]", (o) => ({ text: o.textContent, disabled: o.disabled }));
    check(!gpuOption.disabled && /swiftshader/i.test(gpuOption.text), `the GPU is offered by its adapter's name: ${gpuOption.text}`);
    check(await page.$eval("#train-backend", (s) => s.value) === "cpu",
      "a GPU emulated on the CPU is not chosen by itself: training starts on the CPU");
    check(/WebGPU adapter: .*swiftshader/i.test(await page.$eval("#train-backend-line", (e) => e.textContent)),
      "the training chapter names the adapter");

    // train on the GPU, move to the CPU mid-run, and back
    await page.selectOption("#train-backend", "gpu");
    await waitFor(page, () => /GPU/.test(document.querySelector("#train-runs-on").textContent));
    await page.click("#train-start");
    await waitSteps(page, 40);
    const onGpu = await page.$eval("#train-backend-line", (e) => e.textContent);
    check(/runs on the GPU/.test(onGpu) && /tokens\/s on the GPU/.test(onGpu), `training runs on the GPU, with its tokens/s: ${onGpu.trim()}`);
    const before = await stepCount(page), lossBefore = await page.$eval("#train-loss", (e) => Number(e.textContent));
    await page.selectOption("#train-backend", "cpu");
    await waitFor(page, () => /CPU/.test(document.querySelector("#train-runs-on").textContent));
    await waitSteps(page, before + 40);
    const onCpu = await page.$eval("#train-backend-line", (e) => e.textContent);
    check(/runs on the CPU/.test(onCpu) && /tokens\/s on the CPU/.test(onCpu) && /tokens\/s on the GPU/.test(onCpu),
      `moved to the CPU mid-training, each backend's tokens/s shown: ${onCpu.trim()}`);
    const lossAfter = await page.$eval("#train-loss", (e) => Number(e.textContent));
    check(lossAfter < lossBefore + 0.1 && lossAfter < Math.log(768) - 0.3,
      `the model moved with its weights and optimizer state: the loss goes on from ${lossBefore} (now ${lossAfter})`);
    // pause: the chapters above open the model; wait for them
    const shown = await page.evaluate(() => document.body.dataset.shown);
    await page.click("#train-start");
    await waitFor(page, (s) => document.body.dataset.shown !== s, shown);

    // the same greedy text on both backends, in the inference chapter
    const text = async (backend) => {
      await page.evaluate((b) => window.glassgpt.page.setBackend(b), backend);
      await waitFor(page, (b) => document.querySelector("#infer-runs-on")?.textContent.includes(b === "gpu" ? "GPU" : "CPU"),
        backend);
      await page.$eval("#infer-temperature", (e) => { e.value = "0"; e.dispatchEvent(new Event("input")); });
      const begun = await page.$eval("#inference-figure", (e) => Number(e.dataset.begun));
      await page.click("#infer-restart");
      await waitFor(page, (n) => Number(document.querySelector("#inference-figure").dataset.begun) > n, begun);
      const start = await page.$$eval("#infer-text .chip", (c) => c.length);
      for (let i = 0; i < 12; i++) {
        await page.click("#infer-step");
        await waitFor(page, (n) => document.querySelectorAll("#infer-text .chip").length >= n, start + i + 1);
      }
      return page.$$eval("#infer-text .chip", (c) => c.map((e) => e.textContent).join("|"));
    };
    const gpuText = await text("gpu"), cpuText = await text("cpu");
    check(gpuText === cpuText && gpuText.length > 0, `greedy text on the GPU is the CPU's: ${gpuText} / ${cpuText}`);

    // training that diverges on the GPU stops and says so, though a GPU's
    // loss may hide the NaNs (WGSL lets it drop them)
    await page.evaluate(() => window.glassgpt.page.setBackend("gpu"));
    const lr = await page.$eval("#train-lr", (e) => e.value);
    await diverges(page, "on the GPU");
    await setLearningRate(page, lr);
    await waitFor(page, () => document.querySelector("#train-step-count").textContent === "0");

    // a GPU lost mid-training: the CPU goes on
    await page.evaluate(() => window.glassgpt.page.setBackend("gpu"));
    await waitFor(page, () => /GPU/.test(document.querySelector("#train-runs-on").textContent));
    await page.click("#train-start");
    const at = await stepCount(page);
    await waitSteps(page, at + 20);
    const lostAt = await stepCount(page);
    await page.evaluate(() => window.glassgpt.page.engine.loseGpu());
    await page.waitForSelector("#train-backend-line .gpu-lost", { timeout: 60000 });
    await waitSteps(page, lostAt + 40);
    const line = await page.$eval("#train-backend-line", (e) => e.textContent);
    check(/runs on the CPU/.test(line) && /GPU was lost/.test(line), `after a lost GPU, training goes on on the CPU: ${line.trim()}`);
    check(await stepCount(page) >= lostAt + 40, "and its steps go on past where the GPU was lost");
    await page.click("#train-start");
    check(errors.length === 0, `no errors on the page: ${errors.join("; ")}`);
    await page.close();
  } finally {
    await browser.close();
  }

  // ---- without WebGPU ----
  const plain = await launch(FLAGS.filter((f) => !/webgpu|vulkan|Vulkan/.test(f)).concat(["--disable-features=WebGPU"]));
  try {
    const { page, errors } = await open(plain, base);
    const line = await page.$eval("#train-backend-line", (e) => e.textContent);
    check(/No WebGPU here/.test(line) && /everything runs on the CPU/.test(line), `without WebGPU the page says so: ${line.trim()}`);
    check(await page.$eval("#train-backend option[value=gpu]", (o) => o.disabled), "and offers no GPU");
    await page.click("#train-start");
    await waitSteps(page, 20);
    await page.click("#train-start");
    check(/runs on the CPU/.test(await page.$eval("#train-backend-line", (e) => e.textContent)), "training runs on the CPU");
    const lr = await page.$eval("#train-lr", (e) => e.value);
    await diverges(page, "on the CPU");
    // a sound learning rate again: the fresh model takes the problem away,
    // and Start, pressed at once, while it may still be being made, trains it
    await setLearningRate(page, lr);
    await page.click("#train-start");
    await waitSteps(page, 20, 60000);
    check(Number(await page.$eval("#train-loss", (e) => e.textContent)) < Math.log(768),
      "Start, pressed while a new learning rate's model is made, trains that model");
    await page.click("#train-start");
    await diverges(page, "on the CPU, again");
    await setLearningRate(page, lr);
    const cleared = await page.waitForFunction(() => !document.querySelector("#train-problem"), null, { timeout: 30000 })
      .then(() => true, () => false);
    check(cleared && await stepCount(page) === 0,
      "a fresh model takes away the problem of the one that diverged");
    check(errors.length === 0, `no errors on the page: ${errors.join("; ")}`);
  } finally {
    await plain.close();
  }
} finally {
  server.kill("SIGINT");
}
end();
