// The chapters, in order: the one list the page's numbers, its map of
// chapters and its figures are made from. Each chapter's prose is its
// <section> in index.html.
//
// A chapter is {id, title, short, group, kind, mount}:
//   short   its name on the map
//   group   where it sits on the map: "start", "input", "block" (repeated
//           for each layer), "output" or "use"
//   kind    "model": drawn from a snapshot of the current model, and drawn
//           again for every new one; "once": mounted at start, for good
//   mount(figure, snapshot, scope) draws into figure; every listener and
//   late answer goes through scope, so that scope.dispose() ends it all.
import { overview } from "./overview.js";
import { bpe } from "./bpe.js";
import { tokenize } from "./tokenize.js";
import { embedding } from "./embedding.js";
import { position } from "./position.js";
import { embedded } from "./embedded.js";
import { qkv } from "./qkv.js";
import { attention } from "./attention.js";
import { projection } from "./projection.js";
import { ffn } from "./ffn.js";
import { layernorm } from "./layernorm.js";
import { lens } from "./lens.js";
import { training } from "./training.js";
import { inference } from "./inference.js";
import { takehome } from "./takehome.js";

export const CHAPTERS = [
  { id: "overview", title: "The whole model", short: "Overview", group: "start", kind: "model", mount: overview },
  { id: "bpe", title: "Byte pair encoding", short: "BPE", group: "start", kind: "once", mount: bpe },
  { id: "tokenize", title: "Tokenize", short: "Tokens", group: "input", kind: "model", mount: tokenize },
  { id: "embedding", title: "Token embedding", short: "Token embedding", group: "input", kind: "model", mount: embedding },
  { id: "position", title: "Position embedding", short: "Position embedding", group: "input", kind: "model", mount: position },
  { id: "embedded", title: "Embedded input", short: "Sum: the input", group: "input", kind: "model", mount: embedded },
  { id: "qkv", title: "QKV projection", short: "QKV", group: "block", kind: "model", mount: qkv },
  { id: "attention", title: "Multi-head attention", short: "Attention", group: "block", kind: "model", mount: attention },
  { id: "projection", title: "Concat and output projection", short: "Output projection", group: "block", kind: "model", mount: projection },
  { id: "ffn", title: "Feed-forward", short: "Feed-forward", group: "block", kind: "model", mount: ffn },
  { id: "layernorm", title: "LayerNorm", short: "LayerNorm", group: "block", kind: "model", mount: layernorm },
  { id: "lens", title: "The logit lens", short: "Head and logit lens", group: "output", kind: "model", mount: lens },
  { id: "training", title: "Training", short: "Training", group: "use", kind: "once", mount: training },
  { id: "inference", title: "Inference", short: "Inference", group: "use", kind: "model", mount: inference },
  { id: "takehome", title: "Take it home", short: "Take it home", group: "use", kind: "once", mount: takehome },
];
