#!/usr/bin/python3
"""The same models in PyTorch on the CPU, the tool a user would reach for:
training tokens/s with AdamW, and generation tokens/s with a KV cache.
Run with OpenBLAS (libopenblas0-pthread first on LD_LIBRARY_PATH),
OPENBLAS_NUM_THREADS=1 and torch on all cores, as make bench does: the
fastest set-up of Debian's torch on this machine.

usage: torch_bench.py [SECONDS]
       torch_bench.py --train SECONDS V C L NH CTX F   (one shape's training tokens/s)"""
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
from reference import GPT  # noqa: E402

torch.set_num_threads(os.cpu_count())
PRESETS = {"tiny": (768, 8, 2, 2, 8, 32), "small": (768, 64, 2, 8, 64, 256),
           "base": (768, 128, 4, 8, 128, 512)}


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def blas():
    """The BLAS library this process has loaded, from its memory map."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    return ", ".join(sorted(libs)) or "none loaded"


def train_rate(shape, seconds):
    V, C, L, NH, P, Fw = shape
    model = GPT(V, C, L, NH, P, Fw)
    with torch.no_grad():
        for t in model.tensors():
            t.normal_(0, 0.02)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    B, T = 16, P
    x = torch.randint(0, V, (B, T))
    y = torch.randint(0, V, (B, T))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    step()
    rates = []
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 5:
            step()
            n += 1
        rates.append(n * B * T / (time.perf_counter() - t0))
    return median(rates), model


@torch.no_grad()
def generate_rate(model, seconds):
    """Greedy decoding with a KV cache, one token at a time."""
    C, NH, L, P = model.C, model.NH, model.L, model.P
    hs = C // NH
    kc = torch.zeros(L, P, C)
    vc = torch.zeros(L, P, C)
    rates = []
    for _ in range(3):
        tok, pos, n, t0 = 10, 0, 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 10 or n < 8:
            if pos == P:
                pos = 0  # restart the window: the cost per token is what is measured
            x = model.wte[tok] + model.wpe[pos]
            for l in range(L):
                h = F.layer_norm(x, (C,), model.ln1w[l], model.ln1b[l], eps=1e-5)
                q, k, v = (h @ model.wqkv[l] + model.bqkv[l]).split(C)
                kc[l, pos], vc[l, pos] = k, v
                att = (kc[l, :pos + 1].view(-1, NH, hs) * q.view(NH, hs)).sum(-1) / math.sqrt(hs)
                att = att.softmax(dim=0)
                y = (att.unsqueeze(-1) * vc[l, :pos + 1].view(-1, NH, hs)).sum(0).reshape(C)
                x = x + y @ model.wout[l] + model.bout[l]
                h = F.layer_norm(x, (C,), model.ln2w[l], model.ln2b[l], eps=1e-5)
                x = x + F.gelu(h @ model.w1[l] + model.b1[l], approximate="tanh") @ model.w2[l] + model.b2[l]
            x = F.layer_norm(x, (C,), model.lnfw, model.lnfb, eps=1e-5)
            tok = int((x @ model.wte.T).argmax())
            pos += 1
            n += 1
        rates.append(n / (time.perf_counter() - t0))
    return median(rates)


if __name__ == "__main__":
    if len(sys.argv) == 9 and sys.argv[1] == "--train":
        rate, _ = train_rate(tuple(int(a) for a in sys.argv[3:]), float(sys.argv[2]))
        print(f"GG_BENCH torch_train_tok_s={rate:.0f}")
        sys.exit(0)
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    train_rate(PRESETS["tiny"], 0.01)  # a matmul first, so that the BLAS is loaded
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, BLAS: {blas()}")
    print(f"{'preset':<6} {'train tok/s':>12} {'gen tok/s (KV)':>15}")
    for name in PRESETS:
        rate, model = train_rate(PRESETS[name], seconds)
        gen = generate_rate(model, seconds)
        print(f"{name:<6} {rate:12.0f} {gen:15.0f}")
        print(f"GG_BENCH torch_{name} train_tok_s={rate:.0f} gen_kv_tok_s={gen:.0f}")
