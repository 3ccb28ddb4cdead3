#!/usr/bin/python3
"""An independent PyTorch implementation of glassgpt's GPT, for two checks.

  scripts/reference.py fixture [OUT]
      Builds a small model with random weights and writes OUT (default
      tests/fixtures/reference.bin): the config, the parameters, a batch, the
      logits, the loss, every gradient, and the losses and final weights of
      10 AdamW steps. tests/test_reference.c holds the C engine against it,
      so that CI needs no PyTorch.

  scripts/reference.py check-export DIR
      Loads DIR/model.safetensors and DIR/config.json, written by
      `glassgpt export`, into this implementation by their GPT-2 names, runs
      it on the tokens in DIR/expected.bin and compares the logits with the
      ones glassgpt computed. Exit status 0 when they agree.

Uses Debian's python3-torch: run it with /usr/bin/python3.
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)


class GPT(torch.nn.Module):
    """GPT-2 with pre-LayerNorm blocks, a fused QKV projection, GELU (tanh)
    and the language-model head tied to the token embedding. Linear weights
    are stored [in, out], as in GPT-2's Conv1D and in glassgpt."""

    def __init__(self, V, C, L, NH, P, Fw):
        super().__init__()
        self.V, self.C, self.L, self.NH, self.P, self.Fw = V, C, L, NH, P, Fw
        p = lambda *shape: torch.nn.Parameter(torch.zeros(*shape))
        self.wte, self.wpe = p(V, C), p(P, C)
        self.ln1w, self.ln1b = p(L, C), p(L, C)
        self.wqkv, self.bqkv = p(L, C, 3 * C), p(L, 3 * C)
        self.wout, self.bout = p(L, C, C), p(L, C)
        self.ln2w, self.ln2b = p(L, C), p(L, C)
        self.w1, self.b1 = p(L, C, Fw), p(L, Fw)
        self.w2, self.b2 = p(L, Fw, C), p(L, C)
        self.lnfw, self.lnfb = p(C), p(C)

    # glassgpt's arena order
    def tensors(self):
        return [self.wte, self.wpe, self.ln1w, self.ln1b, self.wqkv, self.bqkv, self.wout,
                self.bout, self.ln2w, self.ln2b, self.w1, self.b1, self.w2, self.b2,
                self.lnfw, self.lnfb]

    def forward(self, idx):
        B, T = idx.shape
        C, NH = self.C, self.NH
        hs = C // NH
        x = self.wte[idx] + self.wpe[:T]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for l in range(self.L):
            h = F.layer_norm(x, (C,), self.ln1w[l], self.ln1b[l], eps=1e-5)
            qkv = h @ self.wqkv[l] + self.bqkv[l]
            q, k, v = qkv.split(C, dim=2)
            q = q.view(B, T, NH, hs).transpose(1, 2)
            k = k.view(B, T, NH, hs).transpose(1, 2)
            v = v.view(B, T, NH, hs).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + y @ self.wout[l] + self.bout[l]
            h = F.layer_norm(x, (C,), self.ln2w[l], self.ln2b[l], eps=1e-5)
            h = F.gelu(h @ self.w1[l] + self.b1[l], approximate="tanh")
            x = x + h @ self.w2[l] + self.b2[l]
        x = F.layer_norm(x, (C,), self.lnfw, self.lnfb, eps=1e-5)
        return x @ self.wte.T


def lr_at(step, lr, min_frac, warmup, total):
    """glassgpt's schedule (src/optim.c)."""
    if step < warmup:
        return lr * (step + 1) / warmup
    if step >= total:
        return lr * min_frac
    progress = (step - warmup) / (total - warmup)
    return lr * min_frac + 0.5 * (1 + math.cos(math.pi * progress)) * (lr - lr * min_frac)


def f32(a):
    return np.asarray(a, dtype="<f4").tobytes()


def fixture(out):
    V, C, L, NH, P, Fw, B, T = 50, 16, 2, 4, 8, 40, 3, 7
    rng = np.random.default_rng(20261129)
    model = GPT(V, C, L, NH, P, Fw)
    with torch.no_grad():
        for t in model.tensors():
            t.copy_(torch.from_numpy(rng.normal(0, 0.3, t.shape).astype(np.float32)))
        for w in (model.ln1w, model.ln2w, model.lnfw):
            w.add_(1.0)
    tokens = rng.integers(0, V, size=(B, T))
    targets = rng.integers(0, V, size=(B, T))
    idx, tgt = torch.from_numpy(tokens), torch.from_numpy(targets)
    params0 = np.concatenate([t.detach().numpy().ravel() for t in model.tensors()])

    logits = model(idx)
    loss = F.cross_entropy(logits.view(-1, V), tgt.view(-1))
    loss.backward()
    grads = np.concatenate([t.grad.numpy().ravel() for t in model.tensors()])

    # 10 AdamW steps on the same batch, with glassgpt's settings
    lr, min_frac, warmup, total = 1e-2, 0.1, 3, 10
    b1, b2, eps, wd, clip = 0.9, 0.95, 1e-8, 0.1, 1.0
    decay = [model.wte, model.wpe, model.wqkv, model.wout, model.w1, model.w2]
    rest = [t for t in model.tensors() if all(t is not d for d in decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                             {"params": rest, "weight_decay": 0.0}],
                            lr=lr, betas=(b1, b2), eps=eps)
    losses = []
    for step in range(total):
        opt.zero_grad()
        l = F.cross_entropy(model(idx).view(-1, V), tgt.view(-1))
        losses.append(l.item())
        l.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, lr, min_frac, warmup, total)
        opt.step()
    final = np.concatenate([t.detach().numpy().ravel() for t in model.tensors()])

    with open(out, "wb") as f:
        f.write(b"GGREF001")
        f.write(struct.pack("<8I", V, C, L, NH, P, Fw, B, T))
        f.write(np.asarray(tokens, dtype="<i4").tobytes())
        f.write(np.asarray(targets, dtype="<i4").tobytes())
        f.write(f32(params0))
        f.write(f32(logits.detach().numpy().ravel()))
        f.write(f32([loss.item()]))
        f.write(f32(grads))
        f.write(struct.pack("<2f2I5f", lr, min_frac, warmup, total, b1, b2, eps, wd, clip))
        f.write(struct.pack("<I", total))
        f.write(f32(losses))
        f.write(f32(final))
    print(f"wrote {out}: {len(params0)} parameters, loss {loss.item():.6f}, "
          f"after {total} AdamW steps {losses[-1]:.6f}")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", name
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).view(info["shape"])
    return out


def check_export(d):
    cfg = json.load(open(f"{d}/config.json"))
    assert cfg["activation_function"] == "gelu_new", cfg
    V, C, L, NH, P = (cfg[k] for k in ("vocab_size", "n_embd", "n_layer", "n_head", "n_positions"))
    Fw = cfg.get("n_inner") or 4 * C
    st = read_safetensors(f"{d}/model.safetensors")
    model = GPT(V, C, L, NH, P, Fw)
    with torch.no_grad():
        model.wte.copy_(st["wte.weight"])
        model.wpe.copy_(st["wpe.weight"])
        names = [("ln1w", "ln_1.weight"), ("ln1b", "ln_1.bias"), ("wqkv", "attn.c_attn.weight"),
                 ("bqkv", "attn.c_attn.bias"), ("wout", "attn.c_proj.weight"),
                 ("bout", "attn.c_proj.bias"), ("ln2w", "ln_2.weight"), ("ln2b", "ln_2.bias"),
                 ("w1", "mlp.c_fc.weight"), ("b1", "mlp.c_fc.bias"), ("w2", "mlp.c_proj.weight"),
                 ("b2", "mlp.c_proj.bias")]
        for ours, theirs in names:
            for l in range(L):
                getattr(model, ours)[l].copy_(st[f"h.{l}.{theirs}"])
        model.lnfw.copy_(st["ln_f.weight"])
        model.lnfb.copy_(st["ln_f.bias"])
        expected = open(f"{d}/expected.bin", "rb").read()
        T = struct.unpack("<I", expected[:4])[0]
        tokens = np.frombuffer(expected[4:4 + 4 * T], dtype="<i4")
        want = np.frombuffer(expected[4 + 4 * T:], dtype="<f4").reshape(T, V)
        got = model(torch.from_numpy(tokens.astype(np.int64))[None])[0].numpy()
    err = np.abs(got - want) / (1e-5 + 1e-4 * np.abs(want))
    print(f"export check: {len(st)} tensors, logits of {T} tokens, worst error {err.max():.3f} "
          f"(<= 1 passes)")
    print(f"{int(err.max() <= 1)} passed, {int(err.max() > 1)} failed")
    return 0 if err.max() <= 1 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "fixture":
        fixture(sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/reference.bin")
    elif len(sys.argv) == 3 and sys.argv[1] == "check-export":
        sys.exit(check_export(sys.argv[2]))
    else:
        print(__doc__)
        sys.exit(2)
