#!/usr/bin/env python3
"""Writes a copy of a checkpoint with fields changed and its CRC-32
repaired, so that a test reaches the checks behind the CRC.

usage: ckpt_edit.py IN OUT FIELD VALUE [FIELD VALUE...]

FIELD is a field of the training state (step, rng, seed, batch, seq,
eval_every, lr, min_lr_frac, warmup, total, beta1, beta2, eps, weight_decay,
grad_clip, dropout), n_merges or vocab (header), or weight0 (the first weight).
VALUE is an integer or a float ("nan", "inf" work).
The layout is src/checkpoint.h's.
"""
import struct
import sys
import zlib

HEADER = 48
TRAIN_STATE = 84
# (offset in the training state, struct format)
TRAIN_FIELDS = {
    "step": (0, "<Q"), "rng": (8, "<Q"), "seed": (16, "<Q"), "batch": (24, "<I"),
    "seq": (28, "<I"), "eval_every": (32, "<I"), "lr": (36, "<f"), "min_lr_frac": (40, "<f"),
    "warmup": (44, "<I"), "total": (48, "<I"), "beta1": (52, "<f"), "beta2": (56, "<f"),
    "eps": (60, "<f"), "weight_decay": (64, "<f"), "grad_clip": (68, "<f"), "dropout": (72, "<f"),
}

src, dst = sys.argv[1:3]
data = bytearray(open(src, "rb").read())
flags, n_merges = struct.unpack_from("<II", data, 40)
for field, value in zip(sys.argv[3::2], sys.argv[4::2]):
    if field in TRAIN_FIELDS:
        assert flags & 2, "the checkpoint has no training state"
        off, fmt = TRAIN_FIELDS[field]
        off += len(data) - 4 - TRAIN_STATE
    elif field == "n_merges":
        off, fmt = 44, "<I"
    elif field == "vocab":
        off, fmt = 12, "<I"
    elif field == "weight0":
        off, fmt = HEADER + 12 * n_merges, "<f"
    else:
        sys.exit(f"unknown field {field}")
    struct.pack_into(fmt, data, off, float(value) if fmt == "<f" else int(value))
struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
open(dst, "wb").write(data)
