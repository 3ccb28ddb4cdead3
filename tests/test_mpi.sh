#!/usr/bin/env bash
# Data-parallel training over MPI (build/glassgpt-mpi): two processes on
# this machine (--oversubscribe) against one, with the same global batch and
# seed, with dropout too; resume under MPI; shards; a batch that does not split; a process
# killed mid-run.
#
# usage: tests/test_mpi.sh
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
M=build/glassgpt-mpi
CORPUS=${GLASSGPT_CORPUS:-data/tinyshakespeare.txt}
TOK=models/tokenizer.bpe
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI runs as root
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl=self,vader  # one machine
if [ ! -x "$M" ] || ! command -v mpirun > /dev/null; then
    echo "build/glassgpt-mpi or mpirun is missing (make setup installs Open MPI)"
    echo "0 passed, 1 failed"
    exit 1
fi
RUN=(train --data "$CORPUS" -t "$TOK" --preset tiny --steps 30 --eval-every 1 --threads 1)

# one process and two, the same global batch of 16: the same losses
expect 0 "one process" "$M" "${RUN[@]}" -o "$T/one.ckpt"
grep '^step' "$T/err" | cut -d'|' -f2 > "$T/one.loss"
expect 0 "two processes" mpirun -np 2 "$M" "${RUN[@]}" -o "$T/two.ckpt"
contains "$T/err" "2 processes (MPI), 8 sequences each per step" "two processes share each batch"
grep '^step' "$T/err" | cut -d'|' -f2 > "$T/two.loss"
[ "$(wc -l < "$T/two.loss")" -eq 30 ] && ok || fail "the first process alone prints: $(wc -l < "$T/two.loss") lines"
same "$T/one.loss" "$T/two.loss" "every step's loss, as printed, is the same on one process and two"
python3 tests/ckpt_compare.py "$T/one.ckpt" "$T/two.ckpt" > "$T/cmp" && ok || fail "weights: $(cat "$T/cmp")"
cat "$T/cmp"
# the exact loss of every fifth step, as saved: within 1e-6 relative
for k in 5 10 15 20 25; do
    "$M" "${RUN[@]}" --stop-after $k -o "$T/one-$k.ckpt" 2> /dev/null
    mpirun -np 2 "$M" "${RUN[@]}" --stop-after $k -o "$T/two-$k.ckpt" 2> /dev/null
    python3 tests/ckpt_compare.py "$T/one-$k.ckpt" "$T/two-$k.ckpt" > "$T/cmp" && ok ||
        fail "step $k: $(cat "$T/cmp")"
done
expect 0 "two processes again" mpirun -np 2 "$M" "${RUN[@]}" -o "$T/two-again.ckpt"
same "$T/two.ckpt" "$T/two-again.ckpt" "two processes give the same bits every time"
# dropout: each process drops the elements of its own rows that one process would
expect 0 "one process, dropout" "$M" "${RUN[@]}" --dropout 0.2 -o "$T/one-d.ckpt"
expect 0 "two processes, dropout" mpirun -np 2 "$M" "${RUN[@]}" --dropout 0.2 -o "$T/two-d.ckpt"
python3 tests/ckpt_compare.py "$T/one-d.ckpt" "$T/two-d.ckpt" > "$T/cmp" && ok || fail "dropout: $(cat "$T/cmp")"

# resume under MPI, bit for bit, on shards
"build/glassgpt" prepare "$CORPUS" -t "$TOK" -o "$T/shards" > /dev/null 2>&1 || fail "prepare"
SHARDS=(train --data "$T/shards" -t "$TOK" --preset tiny --steps 24 --eval-every 6 --threads 1)
expect 0 "two processes on shards, stopped at 12" mpirun -np 2 "$M" "${SHARDS[@]}" --stop-after 12 -o "$T/r.ckpt"
expect 0 "resumed on two processes" mpirun -np 2 "$M" train --resume "$T/r.ckpt" --data "$T/shards" --threads 1
expect 0 "uninterrupted on two processes" mpirun -np 2 "$M" "${SHARDS[@]}" -o "$T/u.ckpt"
same "$T/r.ckpt" "$T/u.ckpt" "a run resumed under MPI ends where an uninterrupted one does"

expect 2 "a batch that does not split" mpirun -np 2 "$M" "${RUN[@]}" --batch 15 -o "$T/x.ckpt"
contains "$T/err" "a batch of 15 does not split evenly over 2 processes" "batch split message"

# a process killed mid-run: the run ends within seconds, and the last
# checkpoint loads
mpirun -np 2 "$M" train --data "$CORPUS" -t "$TOK" --preset small --steps 100000 --eval-every 5 \
    --threads 1 -o "$T/k.ckpt" > /dev/null 2> "$T/err" &
pid=$!
for _ in $(seq 100); do [ -s "$T/k.ckpt" ] && break; sleep 0.1; done
victim=$(pgrep -n -f "glassgpt-mpi train --data $CORPUS")
kill -9 "$victim"
start=$(date +%s)
timeout 30 tail --pid=$pid -f /dev/null
wait $pid
rc=$?
took=$(($(date +%s) - start))
[ $rc -ne 0 ] && [ $took -le 10 ] && ok || fail "a killed process: mpirun exited $rc after $took s"
grep -q "exited on signal 9\|killed\|Killed" "$T/err" && ok || fail "no message names the killed process: $(tail -5 "$T/err")"
expect 0 "the checkpoint of a run whose process was killed loads" build/glassgpt inspect "$T/k.ckpt"

finish
