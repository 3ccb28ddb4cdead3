#!/usr/bin/env bash
# Runs every libFuzzer harness in fuzz/ for SECONDS each, on its seeds and on
# the corpus it has grown so far (build/fuzz/corpus/HARNESS), and reports
# per harness the runs, their speed, the coverage and the corpus size. A
# crash, a leak, a sanitizer report or a hang fails the harness; its input is
# kept in build/fuzz/crashes/. Ends with "N passed, N failed".
#
# usage: scripts/fuzz.sh SECONDS
set -u
cd "$(dirname "$0")/.."
seconds=${1:-60}
passed=0
failed=0
mkdir -p build/fuzz/crashes
shopt -s nullglob
bins=(build/fuzz/fuzz_*)
if [ ${#bins[@]} -eq 0 ]; then
    echo "no fuzzers are built in build/fuzz/ (make fuzz builds them)"
    echo "0 passed, 1 failed"
    exit 1
fi
printf '%-16s %10s %10s %8s %8s  %s\n' harness runs runs/s cov corpus result
for bin in "${bins[@]}"; do
    [ -x "$bin" ] && [ -f "$bin" ] || continue  # the logs and folders beside them
    name=${bin#build/fuzz/fuzz_}
    mkdir -p "build/fuzz/corpus/$name"
    log=build/fuzz/$name.log
    # -timeout: one input taking that long is a hang; the server's header
    # deadline is 10 s, so no request may come near it
    "$bin" -max_total_time="$seconds" -max_len=16384 -timeout=8 -rss_limit_mb=3072 \
        -print_final_stats=1 -artifact_prefix="build/fuzz/crashes/$name-" \
        "build/fuzz/corpus/$name" "build/fuzz/seeds/$name" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    corpus=$(find "build/fuzz/corpus/$name" -type f | wc -l)
    if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
        result=ok
        passed=$((passed + 1))
    else
        result="FAILED (exit $rc; see $log)"
        failed=$((failed + 1))
        grep -m 5 -E 'ERROR|SUMMARY|Test unit written' "$log" >&2
    fi
    printf '%-16s %10s %10s %8s %8s  %s\n' "$name" "${runs:-?}" "${speed:-?}" "${cov:-?}" \
        "$corpus" "$result"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
