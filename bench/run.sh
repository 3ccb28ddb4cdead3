#!/usr/bin/env bash
# `make bench`: the speed of the tokenizer and of the engine, with the
# machine they ran on, side by side with the tools a user might pick instead:
# sentencepiece's BPE trainer and encoder, and PyTorch on the CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-data/tinyshakespeare.txt}

echo "== machine"
echo "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "cores:    $(nproc)"
echo "compiler: $(${CC:-cc} --version | head -n 1)"
echo "date:     $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "== glassgpt tokenizer"
build/bench_bpe "$corpus"
echo

echo "== glassgpt engine ($(nproc) threads; OMP_NUM_THREADS=1 for one)"
build/bench_model 2
echo

# PyTorch as fast as Debian's torch goes here: with OpenBLAS's threaded
# build first on the library path (Debian's default BLAS for torch is the
# netlib reference), OpenBLAS on one thread and torch's own on every core.
openblas=$(ls -d /usr/lib/*/openblas-pthread 2> /dev/null | head -n 1)
TORCH=(env OPENBLAS_NUM_THREADS=1 LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
       /usr/bin/python3 bench/torch_bench.py)
have_torch=$(/usr/bin/python3 -c 'import torch' 2> /dev/null && echo 1 || true)
echo "== where a step of base goes (glassgpt train --profile, 40 steps)"
ckpt=$(mktemp)
build/glassgpt train --data "$corpus" -t models/tokenizer.bpe --preset base --steps 40 \
    --eval-every 1000 --profile -o "$ckpt" 2>&1 | sed -n '/^profile:/,$p'
rm -f "$ckpt"
echo

echo "== PyTorch on the CPU, the same models and batches"
if [ -n "$have_torch" ]; then
    "${TORCH[@]}" 2
else
    echo "python3-torch is not installed (apt-get install python3-torch); skipped"
fi
echo

# Training tokens/s of one anchor shape (V d layers heads ctx ff), batch 16.
glassgpt() { build/bench_model --train 2 "$@" | sed -n 's/.*train_tok_s=//p'; }
fused() { build/fma/bench_model --train 2 "$@" | sed -n 's/.*train_tok_s=//p'; }
torch() { "${TORCH[@]}" --train 2 "$@" | sed -n 's/.*torch_train_tok_s=//p'; }
ANCHORS=("a 768 8 2 2 64 32" "b 768 64 2 4 64 256" "c 768 128 4 8 128 512")

# FIRST against SECOND on each anchor shape, in pairs that alternate, so that
# a slow phase of this shared machine hits both: the median of three pairs'
# ratios. KEY names the GG_BENCH lines.
pairs() {
    local first=$1 second=$2 key=$3 anchor name rows mid ratio a b
    printf '%-34s %14s %14s %8s\n' "shape (V d layers heads ctx ff)" "$first tok/s" "$second tok/s" "ratio"
    for anchor in "${ANCHORS[@]}"; do
        set -- $anchor
        name=$1
        shift
        rows=$(for pair in 1 2 3; do
            a=$($first "$@")
            b=$($second "$@")
            awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f %s %s\n", a / b, a, b }'
        done | sort -n)
        mid=$(echo "$rows" | sed -n 2p)
        read -r ratio a b <<< "$mid"
        printf '%-34s %14s %14s %7sx\n' "($name) $*" "$a" "$b" "$ratio"
        echo "GG_BENCH ${key}_$name $first=$a $second=$b ratio=$ratio (ratios: $(echo "$rows" | cut -d' ' -f1 | tr '\n' ' '))"
    done
}

echo "== training, glassgpt against PyTorch in alternating pairs (batch 16, both cores)"
if [ -n "$have_torch" ]; then
    pairs glassgpt torch pair
else
    echo "python3-torch is not installed; skipped"
fi
echo

# What the same bits everywhere cost: the engine built with fused
# multiply-adds (build/fma, for this measurement alone) against the one
# that ships, whose multiplies and adds round apart.
echo "== training with fused multiply-adds against without, in alternating pairs (batch 16, both cores)"
pairs fused glassgpt fma
echo

echo "== token shards and data-parallel training (Open MPI)"
bench/data_bench.sh "$corpus"
echo

echo "== the server (glassgpt serve)"
bench/server_bench.sh build/glassgpt
echo

echo "== the walkthrough page in Chromium"
node bench/page_bench.mjs build/glassgpt
echo

echo "== the engine on WebGPU against WebAssembly, in Chromium"
node bench/gpu_bench.mjs build/glassgpt
echo

echo "== sentencepiece (BPE, vocab 768, no splitting), the tool a user might pick instead"
if ! command -v spm_train > /dev/null; then
    echo "not installed (apt-get install sentencepiece); skipped"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'; }
train=$(for i in 1 2 3; do
    seconds spm_train --input="$corpus" --model_prefix="$tmp/spm" --vocab_size=768 \
        --model_type=bpe --character_coverage=1.0 --split_by_whitespace=false \
        --split_by_unicode_script=false --split_by_number=false --split_digits=false \
        --max_sentence_length=100000 --num_threads=1 --minloglevel=2
done | median)
enc=$(for i in 1 2 3; do
    seconds spm_encode --model="$tmp/spm.model" --output_format=id --input="$corpus"
done | median)
bytes=$(wc -c < "$corpus")
printf 'spm_train, vocab 768:   %.3f s (median of 3)\n' "$train"
printf 'spm_encode:             %.1f MB/s (median of 3)\n' "$(awk -v b="$bytes" -v s="$enc" 'BEGIN {print b / s / 1e6}')"
