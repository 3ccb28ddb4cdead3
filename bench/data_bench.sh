#!/usr/bin/env bash
# Issue 12's budgets: encoding a 100 MB corpus into shards on 1 and 2 cores,
# and training `base` on 1 and 2 MPI processes of one thread each. The pairs
# alternate, so that a slow phase of the machine falls on both sides.
#
# usage: bench/data_bench.sh CORPUS
set -u
cd "$(dirname "$0")/.."
corpus=${1:-data/tinyshakespeare.txt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader
while [ "$(stat -c %s "$tmp/big.txt" 2> /dev/null || echo 0)" -lt 100000000 ]; do
    cat "$corpus" >> "$tmp/big.txt"
done
head -c 100000000 "$tmp/big.txt" > "$tmp/100mb.txt"
rm "$tmp/big.txt"
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for i in 1 2 3; do
    for t in 1 2; do
        echo "$t $(seconds build/glassgpt prepare "$tmp/100mb.txt" -t models/tokenizer.bpe -o "$tmp/s$t" --threads $t)"
        rm -rf "$tmp/s$t"
    done
done > "$tmp/prep"
one=$(awk '$1 == 1 {print $2}' "$tmp/prep" | median)
two=$(awk '$1 == 2 {print $2}' "$tmp/prep" | median)
awk -v a="$one" -v b="$two" 'BEGIN {printf "prepare, 100 MB into shards: %.1f MB/s on 1 core, %.1f MB/s on 2 (%.2fx; medians of 3)\n", 100 / a, 100 / b, a / b}'

if [ ! -x build/glassgpt-mpi ] || ! command -v mpirun > /dev/null; then
    echo "build/glassgpt-mpi or mpirun is missing; MPI training skipped"
    exit 0
fi
build/glassgpt prepare "$corpus" -t models/tokenizer.bpe -o "$tmp/shards" > /dev/null 2>&1
RUN=(train --data "$tmp/shards" -t models/tokenizer.bpe --preset base --steps 40 --eval-every 1000 --threads 1)
tokps() { awk -v s="$1" 'BEGIN {printf "%.0f", 40 * 16 * 128 / s}'; }
for i in 1 2 3; do
    echo "1 $(seconds build/glassgpt-mpi "${RUN[@]}" -o "$tmp/m1.ckpt")"
    echo "2 $(seconds mpirun -np 2 build/glassgpt-mpi "${RUN[@]}" -o "$tmp/m2.ckpt")"
done > "$tmp/mpi"
one=$(awk '$1 == 1 {print $2}' "$tmp/mpi" | median)
two=$(awk '$1 == 2 {print $2}' "$tmp/mpi" | median)
echo "training base, 40 steps of 16 x 128 (one thread per process, including start-up and the last save):"
echo "  1 process:  $(tokps "$one") tokens/s"
echo "  2 processes (MPI): $(tokps "$two") tokens/s ($(awk -v a="$one" -v b="$two" 'BEGIN {printf "%.2fx", a / b}'))"
