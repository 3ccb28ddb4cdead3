// The exported tokenizer.json, loaded by Hugging Face's own JavaScript
// tokenizers (@huggingface/tokenizers, from the lock file), must encode
// every sample exactly as `glassgpt bpe encode` does, and decode back:
// prose, CJK, emoji, random bytes, random code points and long runs of one
// byte. Also checks that vocab.json and merges.txt agree with it.
//
// usage: node tests/hf_tokenizer.mjs GLASSGPT CORPUS MODEL
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

const [glassgpt, corpusPath, model] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) passed++; else { failed++; console.error("FAIL:", what); } };

// a seeded generator, so that a failure can be reproduced
let state = 0x9e3779b97f4a7c15n;
const rand = (n) => {
  state ^= state << 13n; state &= (1n << 64n) - 1n; state ^= state >> 7n; state ^= state << 17n;
  state &= (1n << 64n) - 1n;
  return Number(state % BigInt(n));
};

const dir = mkdtempSync(join(tmpdir(), "glassgpt-hf-"));
try {
  execFileSync(glassgpt, ["export", model, "-o", dir]);
  const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  const tokenizer = new Tokenizer(json, config);

  // vocab.json and merges.txt say what tokenizer.json says
  const vocab = JSON.parse(readFileSync(join(dir, "vocab.json"), "utf8"));
  check(JSON.stringify(vocab) === JSON.stringify(json.model.vocab), "vocab.json equals tokenizer.json's vocab");
  const merges = readFileSync(join(dir, "merges.txt"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
  check(JSON.stringify(merges) === JSON.stringify(json.model.merges), "merges.txt equals tokenizer.json's merges");

  const corpus = readFileSync(corpusPath);
  const decoder = new TextDecoder();
  const samples = [];
  for (let i = 0; i < 6; i++) {  // prose: windows of the corpus, cut at arbitrary bytes
    const at = rand(corpus.length - 3000);
    samples.push(["prose " + i, decoder.decode(corpus.subarray(at, at + 500 + rand(2500)))]);
  }
  samples.push(["CJK", "吾輩は猫である。名前はまだ無い。天下大势，分久必合，合久必分。한국어 문장도 있다."]);
  samples.push(["emoji", "To be 🐱‍👤, or not 🇫🇷🏳️‍🌈 to be: 👩🏽‍💻 that is the 🤔 question 🙂🙂🙂"]);
  for (let i = 0; i < 4; i++) {  // random bytes, as much of them as a string can carry
    const bytes = Uint8Array.from({ length: 300 + rand(700) }, () => rand(256));
    samples.push(["random bytes " + i, decoder.decode(bytes)]);
  }
  for (let i = 0; i < 3; i++) {  // random code points, the astral planes included
    const cps = Array.from({ length: 200 + rand(300) }, () => {
      const c = rand(4) === 0 ? 0x10000 + rand(0xfffff) : rand(0xd7ff);
      return c;
    });
    samples.push(["random code points " + i, String.fromCodePoint(...cps)]);
  }
  samples.push(["a run of 'e'", "e".repeat(5000)]);
  samples.push(["a run of spaces", " ".repeat(3000)]);
  samples.push(["a run of newlines", "\n".repeat(1000)]);
  samples.push(["a run of one emoji", "🙂".repeat(700)]);
  samples.push(["controls and NUL", "a\u0000b\u0001\u007f\u0085\u00a0\u00ad c\t\r\n"]);

  const encoder = new TextEncoder();
  for (const [name, text] of samples) {
    const bytes = encoder.encode(text);
    const ours = execFileSync(glassgpt, ["bpe", "encode", "-t", model], { input: bytes })
      .toString().trim().split(/\s+/).filter(Boolean).map(Number);
    const theirs = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const same = ours.length === theirs.length && ours.every((v, i) => v === theirs[i]);
    let at = 0;
    while (at < ours.length && ours[at] === theirs[at]) at++;
    check(same, `${name}: ${ours.length} ids against Hugging Face's ${theirs.length}, first difference at ${at}: ` +
          `${ours.slice(at, at + 5)} / ${theirs.slice(at, at + 5)}`);
    check(tokenizer.decode(theirs) === text, `${name}: Hugging Face decodes back to the text`);
  }
  console.log(`${samples.length} samples encoded alike by glassgpt and @huggingface/tokenizers`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
