#!/usr/bin/env bash
# End-to-end tests of train, generate, eval, inspect and export, and their
# bad inputs.
#
# usage: GLASSGPT=build/glassgpt GLASSGPT_CORPUS=data/tinyshakespeare.txt tests/test_cli_model.sh
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
CORPUS=${GLASSGPT_CORPUS:-data/tinyshakespeare.txt}

head -c 200000 "$CORPUS" > "$T/text.txt"
"$G" bpe train "$T/text.txt" -o "$T/tok.bpe" --vocab 300 > /dev/null || fail "training the tokenizer"
TRAIN=("$G" train --data "$T/text.txt" -t "$T/tok.bpe" --preset tiny --batch 4 --threads 2)

# ---- help and usage errors ----
for cmd in train generate eval inspect export; do
    expect 0 "$cmd --help" "$G" "$cmd" --help
    contains "$T/out" "usage: glassgpt $cmd" "$cmd help"
done
expect 2 "train without --data" "$G" train -o "$T/m.ckpt"
expect 2 "train without -o" "$G" train --data "$T/text.txt"
expect 2 "unknown preset" "${TRAIN[@]}" --preset huge -o "$T/m.ckpt"
contains "$T/err" "unknown preset 'huge'" "unknown preset message"
expect 2 "heads that do not divide d" "${TRAIN[@]}" --heads 3 -o "$T/m.ckpt"
contains "$T/err" "3 heads do not divide the model width 8" "heads message"
expect 2 "a zero size" "${TRAIN[@]}" --d 0 -o "$T/m.ckpt"
expect 2 "a negative size" "${TRAIN[@]}" --layers -2 -o "$T/m.ckpt"
expect 2 "bad --pos" "${TRAIN[@]}" --pos cubic -o "$T/m.ckpt"
expect 2 "bad --lr" "${TRAIN[@]}" --lr fast -o "$T/m.ckpt"
expect 1 "missing corpus" "$G" train --data "$T/nope.txt" -t "$T/tok.bpe" -o "$T/m.ckpt"
expect 2 "generate without -m" "$G" generate
expect 1 "generate with a missing model" "$G" generate -m "$T/nope.ckpt"
contains "$T/err" "nope.ckpt: cannot open" "missing model message"

# ---- training, resuming, threads ----
expect 0 "train tiny" "${TRAIN[@]}" --steps 30 --eval-every 10 -o "$T/a.ckpt"
contains "$T/err" "step 30/30 | loss" "progress line"
contains "$T/err" "bpb" "progress shows bits per byte"
grep "step 10/30" "$T/err" | grep -q "| 0 tok/s" && fail "the first progress line shows 0 tok/s" || ok
ls "$T" | grep -q '\.tmp-' && fail "a temporary file was left behind" || ok
expect 0 "train, stopped after 12 steps" "${TRAIN[@]}" --steps 30 --eval-every 10 --stop-after 12 -o "$T/b.ckpt"
contains "$T/err" "stopped at step 12" "stop message"
expect 0 "resume" "$G" train --resume "$T/b.ckpt" --data "$T/text.txt" --steps 30 --threads 2
same "$T/a.ckpt" "$T/b.ckpt" "a resumed run ends bit for bit where an uninterrupted one does"
# dropout: its masks follow the step, so a resumed run still ends where an uninterrupted one does
expect 0 "train with dropout" "${TRAIN[@]}" --steps 30 --eval-every 10 --dropout 0.2 -o "$T/d1.ckpt"
contains "$T/err" "lr 0.003; dropout 0.2; steps 0..30" "the run names its dropout"
cmp -s "$T/a.ckpt" "$T/d1.ckpt" && fail "dropout 0.2 trained the weights of no dropout" || ok
expect 0 "train with dropout, stopped" "${TRAIN[@]}" --steps 30 --eval-every 10 --dropout 0.2 --stop-after 7 -o "$T/d2.ckpt"
expect 0 "resume with dropout" "$G" train --resume "$T/d2.ckpt" --data "$T/text.txt" --threads 1
same "$T/d1.ckpt" "$T/d2.ckpt" "with dropout, a resumed run (on one thread) ends bit for bit where an uninterrupted one does"
expect 0 "inspect shows the dropout" "$G" inspect "$T/d2.ckpt"
contains "$T/out" "dropout 0.2" "inspect names the dropout"
expect 2 "a dropout of 1" "${TRAIN[@]}" --dropout 1 -o "$T/m.ckpt"
contains "$T/err" "--dropout 1: expected a fraction from 0 to 0.95" "dropout message"
expect 2 "resume with another learning rate" "$G" train --resume "$T/d2.ckpt" --data "$T/text.txt" --lr 1e-2
contains "$T/err" "a resumed run keeps the ones it was started with" "resume settings message"
# --time: the steps fitted to the measured speed, the cosine ending on the last one
t0=$(date +%s.%N)
expect 0 "train for 2 seconds" "${TRAIN[@]}" --time 2s --eval-every 20 -o "$T/t.ckpt"
t1=$(date +%s.%N)
contains "$T/err" " steps fit in 2s" "the run says how many steps fit"
last=$(grep '^step' "$T/err" | tail -n 1 | cut -d' ' -f2)
[ "${last%/*}" = "${last#*/}" ] && ok || fail "a timed run ended at step $last, not on its last step"
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a > 1.5 && b - a < 10) }' && ok ||
    fail "a 2 s run took $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
grep -q "left 0s" "$T/err" && ok || fail "the progress line counts the time down to 0s"
expect 2 "--time and --steps" "${TRAIN[@]}" --time 5m --steps 10 -o "$T/m.ckpt"
contains "$T/err" "--time and --steps both set the length of the run" "time and steps message"
for bad in 0 5x -1m 2w nan 1e9; do
    expect 2 "--time $bad" "${TRAIN[@]}" --time "$bad" -o "$T/m.ckpt"
done
contains "$T/err" "expected a duration from 1s to a week" "bad duration message"
expect 2 "--time on resume" "$G" train --resume "$T/t.ckpt" --data "$T/text.txt" --time 1m
expect 0 "train with one thread" "${TRAIN[@]}" --steps 30 --eval-every 10 --threads 1 -o "$T/c.ckpt"
same "$T/a.ckpt" "$T/c.ckpt" "one thread and two train the same weights"
# the same at sizes where the kernels do start threads (test_model counts them)
SMALL=("$G" train --data "$T/text.txt" -t "$T/tok.bpe" --preset small --batch 4 --steps 6 --eval-every 3)
expect 0 "small on one thread" "${SMALL[@]}" --threads 1 -o "$T/s1.ckpt"
expect 0 "small on two threads" "${SMALL[@]}" --threads 2 -o "$T/s2.ckpt"
same "$T/s1.ckpt" "$T/s2.ckpt" "one thread and two train the same weights of small"
expect 0 "train with --profile" "${TRAIN[@]}" --steps 30 --eval-every 10 --profile -o "$T/p.ckpt"
same "$T/a.ckpt" "$T/p.ckpt" "the profile leaves the weights as they were"
contains "$T/err" "; the peak of " "the profile names the peak"
grep -E '^matmul_forward +8x24 +60 ' "$T/err" > /dev/null && ok || fail "the profile lists the QKV matmul's 60 calls"
grep -q '^outside the kernels' "$T/err" && grep -q '^the whole step' "$T/err" && ok || fail "the profile's closing rows"
expect 0 "train sinusoidal" "${TRAIN[@]}" --steps 5 --pos sinusoidal -o "$T/s.ckpt"
expect 0 "train without a tokenizer" "$G" train --data "$T/text.txt" --vocab 280 --preset tiny --steps 3 -o "$T/n.ckpt"
contains "$T/err" "learning one of 280 tokens" "trains its own tokenizer"

# Ctrl-C saves and exits 130, SIGTERM the same and exits 143, and the run
# can be resumed.
for stop in INT:130 TERM:143; do
    sig=${stop%:*} want=${stop#*:}
    "${TRAIN[@]}" --steps 1000000 --eval-every 1000000 -o "$T/i.ckpt" > /dev/null 2> "$T/err" &
    pid=$!
    for _ in $(seq 50); do grep -q "train:" "$T/err" && break; sleep 0.1; done
    sleep 0.5
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    [ "$rc" -eq "$want" ] && ok || fail "SIG$sig: exit $rc, expected $want"
    contains "$T/err" "interrupted at step" "SIG$sig message"
    expect 0 "inspect the run stopped by SIG$sig" "$G" inspect "$T/i.ckpt"
    contains "$T/out" "training   step" "a run stopped by SIG$sig keeps its training state"
done

# ---- inspect, eval, export ----
expect 0 "inspect" "$G" inspect "$T/a.ckpt"
contains "$T/out" "vocab 300, d_model 8, layers 2, heads 2 (head size 4), ctx 8, ff 32" "inspect config"
contains "$T/out" "wqkv   2 x 8 x 24" "inspect tensor table"
contains "$T/out" "training   step 30 of 30" "inspect training state"
expect 0 "inspect sinusoidal" "$G" inspect "$T/s.ckpt"
contains "$T/out" "no (fixed)" "a sinusoidal table is not trained"
head -c 3000 "$CORPUS" > "$T/small.txt"
expect 0 "eval" "$G" eval -m "$T/a.ckpt" "$T/small.txt"
grep -Eq '^loss [0-9]+\.[0-9]{6} bpb [0-9]+\.[0-9]{6} tokens [0-9]+$' "$T/out" && ok || fail "eval line: $(cat "$T/out")"
expect 0 "export" "$G" export "$T/a.ckpt" -o "$T/hf"
[ -s "$T/hf/model.safetensors" ] && [ -s "$T/hf/config.json" ] && ok || fail "export wrote no files"
contains "$T/hf/config.json" '"n_embd": 8' "config.json"
expect 0 "a checkpoint serves as a tokenizer" "$G" bpe encode -t "$T/a.ckpt" "$T/small.txt"
"$G" bpe encode -t "$T/tok.bpe" "$T/small.txt" > "$T/ids"
same "$T/out" "$T/ids" "the checkpoint's tokenizer is the one it was trained with"

# ---- generate ----
expect 0 "generate greedy" "$G" generate -m "$T/a.ckpt" --prompt "ROMEO:" -n 40 --temperature 0
cp "$T/out" "$T/greedy"
contains "$T/err" "tokens/s" "generate reports its speed"
expect 0 "generate greedy without the cache" "$G" generate -m "$T/a.ckpt" --prompt "ROMEO:" -n 40 --temperature 0 --no-kv-cache
same "$T/out" "$T/greedy" "the KV cache does not change the tokens"
expect 0 "generate sampled" "$G" generate -m "$T/a.ckpt" -n 50 --seed 5 --top-k 20 --top-p 0.9
cp "$T/out" "$T/sampled"
expect 0 "generate sampled again" "$G" generate -m "$T/a.ckpt" -n 50 --seed 5 --top-k 20 --top-p 0.9
same "$T/out" "$T/sampled" "the same seed gives the same text"
expect 2 "a prompt longer than the context" "$G" generate -m "$T/a.ckpt" --prompt "$(head -c 400 "$CORPUS")"
contains "$T/err" "longer than the model's context" "long prompt message"
expect 2 "a negative temperature" "$G" generate -m "$T/a.ckpt" --temperature -1

# ---- malformed checkpoints ----
head -c 1000 "$T/a.ckpt" > "$T/cut.ckpt"
expect 1 "a truncated checkpoint" "$G" inspect "$T/cut.ckpt"
contains "$T/err" "truncated at byte 1000" "truncated message"
cp "$T/a.ckpt" "$T/bad.ckpt"
printf '\x55' | dd of="$T/bad.ckpt" bs=1 seek=5000 conv=notrunc 2> /dev/null
expect 1 "a corrupted checkpoint" "$G" generate -m "$T/bad.ckpt"
contains "$T/err" "corrupted" "corrupted message"
cp "$T/a.ckpt" "$T/new.ckpt"
printf '\x07' | dd of="$T/new.ckpt" bs=1 seek=8 conv=notrunc 2> /dev/null
expect 1 "a checkpoint from a newer version" "$G" eval -m "$T/new.ckpt" "$T/small.txt"
contains "$T/err" "newer glassgpt" "newer version message"
expect 1 "a foreign file as a model" "$G" inspect "$T/tok.bpe"
contains "$T/err" "not a glassgpt checkpoint" "foreign file message"

# ---- a training state that lies (its CRC repaired, so that the checks behind it are reached) ----
edit() { python3 tests/ckpt_edit.py "$T/a.ckpt" "$T/e.ckpt" "$@"; }
for bad in "eval_every 0" "step 2147483648" "step 9223372036854775808" "step 31" \
           "warmup 2147483648" "total 0" "total 4294967295" "lr nan" "lr -1" "beta1 nan" \
           "beta2 1" "eps 0" "grad_clip inf" "weight_decay nan" "batch 0" "seq 9" \
           "weight0 nan" "weight0 inf" "n_merges 4294967041" "vocab 1" "dropout 1" "dropout -0.5" \
           "dropout nan"; do
    edit $bad
    expect 1 "resume from a checkpoint with $bad" "$G" train --resume "$T/e.ckpt" --data "$T/text.txt" --steps 40
    contains "$T/err" "e.ckpt: " "the message for $bad names the file"
    grep -q "ETA\|saved" "$T/err" && fail "$bad: it trained: $(head -c 300 "$T/err")" || ok
done
edit eval_every 0
expect 1 "inspect a checkpoint with eval_every 0" "$G" inspect "$T/e.ckpt"
contains "$T/err" "eval_every" "the message names eval_every"
edit lr nan
expect 1 "a NaN learning rate" "$G" train --resume "$T/e.ckpt" --data "$T/text.txt" --steps 40
contains "$T/err" "the learning rate" "the message names the learning rate"
edit weight0 nan
expect 1 "a NaN weight" "$G" generate -m "$T/e.ckpt" -n 5
contains "$T/err" "the weight wte[0] is nan" "the message names the weight"
edit n_merges 4294967041 vocab 1  # 2^32 - 255 merges: 256 more wraps to 1 in 32 bits
expect 1 "a merge count that wraps" "$G" inspect "$T/e.ckpt"
contains "$T/err" "the model's vocabulary is 1 but its tokenizer has 4294967041 merges" "wrap message"
# --steps at or below the saved step trains nothing, and says so rather than "saved"
cp "$T/a.ckpt" "$T/r.ckpt"
expect 2 "resume to an earlier step" "$G" train --resume "$T/r.ckpt" --data "$T/text.txt" --steps 20
contains "$T/err" "already at step 30 of 20" "resume to an earlier step message"
expect 2 "resume a finished run" "$G" train --resume "$T/r.ckpt" --data "$T/text.txt"
same "$T/a.ckpt" "$T/r.ckpt" "a refused resume leaves the checkpoint as it was"
# ---- memory, outputs, kills ----
expect 1 "a model larger than the machine" "$G" train --data "$T/text.txt" -t "$T/tok.bpe" --d 6400 --ff 25600 -o "$T/huge.ckpt"
contains "$T/err" "choose a smaller" "memory estimate message"
[ -e "$T/huge.ckpt" ] && fail "the refused model was written" || ok
expect 1 "train -o /dev/full is refused before training" "${TRAIN[@]}" --steps 100000 -o /dev/full
contains "$T/err" "/dev/full: is a device" "train output message"
for cmd in "generate -m $T/a.ckpt -n 20" "inspect $T/a.ckpt" "eval -m $T/a.ckpt $T/small.txt"; do
    $G $cmd > /dev/full 2> "$T/err"; rc=$?
    [ $rc -eq 1 ] && ok || fail "$cmd > /dev/full: exit $rc, expected 1"
    contains "$T/err" "No space left on device" "$cmd > /dev/full message"
done
# kill -9 at random moments of a run that saves every step. The checkpoint
# always loads. A kill in the microseconds between naming the finished
# temporary file and renaming it may leave that complete copy behind; the
# next save of the same checkpoint removes it.
mkdir "$T/kill"
"${TRAIN[@]}" --steps 2 -o "$T/kill/k.ckpt" 2> /dev/null || fail "the first run to kill"
for i in $(seq 20); do
    "$G" train --data "$T/text.txt" -t "$T/tok.bpe" --preset small --batch 2 --threads 1 \
        --eval-every 1 --steps 100000 -o "$T/kill/k.ckpt" > /dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 9 + 2))"
    kill -9 $pid
    wait $pid 2> /dev/null
    for t in "$T/kill/"*tmp*; do
        [ -e "$t" ] || continue
        expect 0 "a temporary file a kill left is a whole checkpoint" "$G" inspect "$t"
    done
done
expect 0 "the checkpoint of a killed run loads" "$G" inspect "$T/kill/k.ckpt"
# A save removes the temporary files of its checkpoint whose process is gone,
# and leaves those of a running process and every other name.
true & dead=$!
wait $dead
for f in "k.ckpt.tmp-$dead-0" "k.ckpt.tmp-$dead-AbC123" "k.ckpt.tmp-$$-0" k.ckpt.tmp-notes \
         "other.ckpt.tmp-$dead-0"; do
    echo kept > "$T/kill/$f"
done
"${TRAIN[@]}" --steps 2 -o "$T/kill/k.ckpt" 2> /dev/null || fail "the save after the kills"
for f in "k.ckpt.tmp-$dead-0" "k.ckpt.tmp-$dead-AbC123"; do
    [ -e "$T/kill/$f" ] && fail "the save left $f, whose process is gone" || ok
done
for f in "k.ckpt.tmp-$$-0" k.ckpt.tmp-notes "other.ckpt.tmp-$dead-0"; do
    [ "$(cat "$T/kill/$f" 2> /dev/null)" = kept ] && ok || fail "the save removed $f"
    rm -f "$T/kill/$f"
done
left=$(ls "$T/kill" | grep -c tmp)
[ "$left" -eq 0 ] && ok || fail "$left temporary files outlived the save after the kills"

finish
