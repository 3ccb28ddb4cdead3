#!/usr/bin/env python3
"""Compares two checkpoints of the same configuration: prints the largest
absolute and relative differences of their weights, and of their saved
training losses, and exits 1 when either passes the tolerance.

usage: ckpt_compare.py A B [RTOL [ATOL]]   (defaults 1e-6 and 1e-6)
"""
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    dims = struct.unpack_from("<7I", data, 12)
    flags, n_merges = struct.unpack_from("<II", data, 40)
    start = 48 + 12 * n_merges
    n = (len(data) - start - 4 - (84 if flags & 2 else 0)) // (12 if flags & 1 else 4)
    weights = struct.unpack_from(f"<{n}f", data, start)
    loss = struct.unpack_from("<f", data, len(data) - 4 - 8)[0] if flags & 2 else None
    return dims, weights, loss


a_dims, a, a_loss = read(sys.argv[1])
b_dims, b, b_loss = read(sys.argv[2])
rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-6
atol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-6
assert a_dims == b_dims and len(a) == len(b), "different configurations"
worst_abs = max(abs(x - y) for x, y in zip(a, b))
worst_rel = max(abs(x - y) / max(abs(y), 1e-30) for x, y in zip(a, b) if abs(x - y) > atol) \
    if worst_abs > atol else 0.0
loss_rel = abs(a_loss - b_loss) / abs(b_loss) if a_loss is not None else 0.0
print(f"weights: largest difference {worst_abs:.3g} (relative, past {atol:g}: {worst_rel:.3g}); "
      f"training loss: relative difference {loss_rel:.3g}")
sys.exit(0 if all(abs(x - y) <= atol + rtol * abs(y) for x, y in zip(a, b)) and loss_rel <= rtol else 1)
