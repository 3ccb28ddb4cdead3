#!/usr/bin/env bash
# The server's budgets: requests per second for the page, the engine and the
# models listing at 32 connections (wrk, 2 threads, 5 s each, on loopback),
# and the share of normal requests served while 64 slow clients (from one
# address) and 256 (each from its own) hold connections open. The goal for
# the share is all of them.
#
# usage: bench/server_bench.sh GLASSGPT
set -u
cd "$(dirname "$0")/.."
G=${1:-build/glassgpt}
log=$(mktemp)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$G" serve --port "$port" > /dev/null 2> "$log" &
pid=$!
trap 'kill $pid 2> /dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

if command -v wrk > /dev/null; then
    for path in / /glassgpt.wasm /api/models; do
        rps=$(wrk -t2 -c32 -d5s "http://127.0.0.1:$port$path" 2>&1 | awk '/Requests\/sec/ {print $2}')
        printf 'requests/s, %-16s %10s (32 connections, wrk -t2, 5 s)\n' "$path" "${rps:-failed}"
    done
else
    echo "wrk is not installed (apt-get install wrk); requests/s skipped"
fi
python3 tests/server_probe.py "$port" slow 64 6 | sed 's/^/slow clients: /'
python3 tests/server_probe.py "$port" slow 256 6 spread | sed 's/^/slow clients: /'
