#!/usr/bin/env bash
# Writes the fuzzers' seed corpora into build/fuzz/seeds/HARNESS/, made from
# real files at build time (nothing large is committed): a tokenizer and a
# checkpoint written by glassgpt itself, texts from the corpus, and HTTP
# requests like the page's.
#
# usage: scripts/fuzz_seeds.sh GLASSGPT CORPUS
set -euo pipefail
G=$1
CORPUS=$2
S=build/fuzz/seeds
rm -rf "$S"
mkdir -p "$S"/{tokenizer_file,checkpoint,encode,bpe_train,server}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

head -c 3000 "$CORPUS" > "$W/text.txt"
"$G" bpe train "$W/text.txt" -o "$S/tokenizer_file/small.bpe" --vocab 300 > /dev/null
cp models/tokenizer.bpe "$S/tokenizer_file/shakespeare.bpe" 2> /dev/null || true
printf 'glassgpt-bpe 1\nvocab 258\n97 98 5 # ab\n\n256 99\n' > "$S/tokenizer_file/comments.bpe"

# a checkpoint small enough for the fuzzer to mutate: d 2, 1 layer, ctx 2
"$G" bpe train "$W/text.txt" -o "$W/micro.bpe" --vocab 260 > /dev/null
"$G" train --data "$W/text.txt" -t "$W/micro.bpe" --d 2 --layers 1 --heads 1 --ctx 2 --ff 2 \
    --steps 2 --threads 1 -o "$S/checkpoint/micro.ckpt" 2> /dev/null
"$G" train --data "$W/text.txt" -t "$W/micro.bpe" --d 2 --layers 1 --heads 1 --ctx 2 --ff 2 \
    --pos sinusoidal --steps 1 --threads 1 -o "$S/checkpoint/sinusoidal.ckpt" 2> /dev/null

# encode: the first byte picks one of the harness's tokenizers
for k in 0 1 2 3; do
    { printf "\\x0$k"; head -c 600 "$CORPUS"; } > "$S/encode/shakespeare$k"
    { printf "\\x0$k"; printf 'thee kingdom 日本 🙂 é \xff\xfe aaaaaaaaaaaaaaaa\n'; } > "$S/encode/mixed$k"
done
# bpe_train: the first byte sets the number of merges
{ printf '\x3f'; head -c 1500 "$CORPUS"; } > "$S/bpe_train/shakespeare"
{ printf '\x20'; printf 'aaabdaaabac'; } > "$S/bpe_train/golden"
{ printf '\x30'; head -c 500 /dev/zero | tr '\0' a; } > "$S/bpe_train/one-byte"

r=$S/server
printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' > "$r/index"
printf 'GET /api/models HTTP/1.1\r\nHost: localhost\r\n\r\n' > "$r/models"
printf 'HEAD /glassgpt.wasm HTTP/1.1\r\nHost: localhost\r\n\r\n' > "$r/wasm"
printf 'GET /models/tiny.ckpt HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\nGET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n' > "$r/pipelined"
printf 'GET /%%2e%%2e/Makefile HTTP/1.1\r\nHost: localhost\r\n\r\n' > "$r/traversal"
printf 'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello' > "$r/post"
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: 3\r\n\r\nabc' > "$r/two-lengths"
printf 'GET /data/tinyshakespeare.txt HTTP/1.0\r\n\r\n' > "$r/http10"
