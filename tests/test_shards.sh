#!/usr/bin/env bash
# Token shards end to end: glassgpt prepare writes the ids of bpe encode,
# whatever the threads and shard size; training reads a shard as it reads
# the text, and a directory of shards; bad shards are refused by name; and
# preparing a large corpus takes memory that does not grow with it.
#
# usage: GLASSGPT=build/glassgpt [BIG=1] tests/test_shards.sh
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
CORPUS=${GLASSGPT_CORPUS:-data/tinyshakespeare.txt}
TOK=models/tokenizer.bpe

# ids SHARD...: the ids of shards, one per line, checking each header
ids() {
    python3 - "$@" << 'PY'
import struct, sys, zlib
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    magic, version, width, count, vocab, _, crc, split = struct.unpack_from("<8sIIQIIII", data)
    assert magic == b"GGTOKENS" and version == 1 and width == 2, path
    assert len(data) == 64 + 2 * count and zlib.crc32(data[64:]) == crc, path
    print("\n".join(str(i) for i in struct.unpack_from(f"<{count}H", data, 64)))
PY
}

"$G" bpe encode -t "$TOK" "$CORPUS" | tr ' ' '\n' > "$T/expect"
expect 0 "prepare" "$G" prepare "$CORPUS" -t "$TOK" -o "$T/a" --shard-tokens 100000
contains "$T/out" "in 5 shards and" "shards of 100,000 ids"
contains "$T/err" "MB/s | ETA" "progress with bytes per second and an ETA"
ids "$T"/a/train_*.bin "$T"/a/val_*.bin > "$T/got"
same "$T/got" "$T/expect" "the shards hold the ids of bpe encode, the held-out part last"
n_val=$(ids "$T"/a/val_*.bin | wc -l)
[ "$n_val" -gt 40000 ] && [ "$n_val" -lt 60000 ] && ok || fail "the held-out part has $n_val ids"
expect 1 "prepare into a directory that holds shards" "$G" prepare "$CORPUS" -t "$TOK" -o "$T/a"
contains "$T/err" "already holds shards" "old shards are never mixed with new ones"
expect 0 "prepare on one thread, in one shard" "$G" prepare "$CORPUS" -t "$TOK" -o "$T/b" --threads 1
ids "$T"/b/train_*.bin "$T"/b/val_*.bin > "$T/got1"
same "$T/got1" "$T/expect" "one thread writes the same ids"
expect 0 "prepare, nothing held out" "$G" prepare "$CORPUS" -t "$TOK" -o "$T/c" --val 0
ls "$T"/c | grep -q val && fail "--val 0 wrote a validation shard" || ok

# training from a shard is training from the text, bit for bit
TRAIN=("$G" train -t "$TOK" --preset tiny --steps 20 --eval-every 10 --threads 2)
expect 0 "train on the text" "${TRAIN[@]}" --data "$CORPUS" -o "$T/text.ckpt"
expect 0 "train on its shard" "${TRAIN[@]}" --data "$T/c/train_000000.bin" -o "$T/shard.ckpt"
same "$T/text.ckpt" "$T/shard.ckpt" "a shard trains the same weights as its text"
expect 0 "train on a directory of shards" "${TRAIN[@]}" --data "$T/a" --stop-after 12 -o "$T/dir.ckpt"
contains "$T/err" "438441 for training" "the training shards, and only they, are trained on"
expect 0 "resume on a directory of shards" "$G" train --resume "$T/dir.ckpt" --data "$T/a" --steps 20
expect 0 "the same run, uninterrupted" "${TRAIN[@]}" --data "$T/a" -o "$T/dir2.ckpt"
same "$T/dir.ckpt" "$T/dir2.ckpt" "a resumed run on shards ends where an uninterrupted one does"
expect 2 "shards without their tokenizer" "$G" train --data "$T/a" --preset tiny -o "$T/x.ckpt"

# bad shards, refused with a message that names them
bad() {  # bad NAME MESSAGE: $T/bad holds the damaged shard
    expect 1 "$1" "${TRAIN[@]}" --data "$T/bad" -o "$T/x.ckpt"
    contains "$T/err" "$2" "$1: message"
}
mkdir "$T/bad"
cp "$T"/a/val_000000.bin "$T/bad/"
head -c 5000 "$T/a/train_000000.bin" > "$T/bad/train_000000.bin"
bad "a truncated shard" "train_000000.bin: 5000 bytes where a header and 100000 ids take 200064"
cp "$CORPUS" "$T/bad/train_000000.bin"
bad "a foreign file" "train_000000.bin: not a glassgpt token shard"
cp "$T/a/train_000000.bin" "$T/bad/train_000000.bin"
printf '\xff' | dd of="$T/bad/train_000000.bin" bs=1 seek=1000 conv=notrunc 2> /dev/null
bad "a corrupted shard" "train_000000.bin: corrupted: the CRC-32 does not match"
head -c 100000 "$CORPUS" > "$T/small.txt"
"$G" bpe train "$T/small.txt" -o "$T/tok300.bpe" --vocab 300 > /dev/null
"$G" prepare "$T/small.txt" -t "$T/tok300.bpe" -o "$T/other" > /dev/null 2>&1
expect 1 "shards of another tokenizer" "${TRAIN[@]}" --data "$T/other" -o "$T/x.ckpt"
contains "$T/err" "was made with another tokenizer" "another tokenizer: message"
mkdir "$T/empty"
expect 1 "a directory without shards" "${TRAIN[@]}" --data "$T/empty" -o "$T/x.ckpt"
expect 1 "prepare from a pipe" "$G" prepare /dev/stdin -t "$TOK" -o "$T/p" < /dev/null

# Memory does not grow with the corpus: 50 MB and 200 MB peak alike.
if [ "${BIG:-0}" = 1 ]; then
    for mb in 50 200; do
        while [ "$(stat -c %s "$T/big.txt" 2> /dev/null || echo 0)" -lt $((mb * 1000000)) ]; do
            cat "$CORPUS" >> "$T/big.txt"
        done
        peak_rss "prepare $mb MB" 400 "$G" prepare "$T/big.txt" -t "$TOK" -o "$T/big$mb"
        [ "$rc" -eq 0 ] && ok || fail "prepare $mb MB: exit $rc: $(cat "$T/err")"
        eval "peak_$mb=\$peak_mib"
        rm -rf "$T/big$mb"
    done
    echo "peak resident set: ${peak_50} MiB for 50 MB, ${peak_200} MiB for 200 MB"
    [ $((peak_200 - peak_50)) -lt 40 ] && ok || fail "memory grew with the corpus: $peak_50 -> $peak_200 MiB"
fi

finish
