#!/usr/bin/env bash
# Tests of glassgpt serve against a real server on a free loopback port:
# static files and their types, 404s, traversal in every spelling,
# oversized requests, methods, and the models listing.
#
# usage: GLASSGPT=build/glassgpt tests/test_server.sh
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh

mkdir -p "$T/models" "$T/data"
cp models/tiny.ckpt "$T/models/" 2> /dev/null || "$G" train --data data/tinyshakespeare.txt \
    -t models/tokenizer.bpe --preset tiny --steps 2 -o "$T/models/tiny.ckpt" 2> /dev/null
echo "not a checkpoint" > "$T/models/junk.ckpt"
echo "secret" > "$T/secret.txt"
ln -s "$T/secret.txt" "$T/models/link.ckpt"
head -c 1000 data/tinyshakespeare.txt > "$T/data/tinyshakespeare.txt"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$G" serve --port "$port" --models "$T/models" --data "$T/data" > "$T/out" 2> "$T/log" &
pid=$!
trap 'kill $pid 2> /dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do grep -q serving "$T/out" 2> /dev/null && break; sleep 0.1; done
B="http://127.0.0.1:$port"

# get PATH EXPECTED-STATUS [EXPECTED-TYPE] [CURL-OPTIONS...]
get() {
    local path=$1 want=$2 type=${3:-}
    shift 3 2> /dev/null || shift $#
    local got
    got=$(curl -s --path-as-is -o "$T/body" -w '%{http_code} %{content_type}' "$@" "$B$path")
    if [ "${got%% *}" = "$want" ] && { [ -z "$type" ] || [ "${got#* }" = "$type" ]; }; then ok
    else fail "$path: got '$got', expected '$want $type'"; fi
}

grep -q "serving the walkthrough at http://127.0.0.1:$port/" "$T/out" && ok || fail "the URL is printed"
get / 200 "text/html; charset=utf-8"
get /index.html 200 "text/html; charset=utf-8"
get /style.css 200 "text/css; charset=utf-8"
get /engine.js 200 "text/javascript; charset=utf-8"
get /glassgpt.wasm 200 "application/wasm"
cmp -s "$T/body" build/web/glassgpt.wasm && ok || fail "the wasm arrives whole"
get /kernels.wgsl 200 "text/wgsl; charset=utf-8"
get /data/tinyshakespeare.txt 200 "text/plain; charset=utf-8"
get /models/tiny.ckpt 200 "application/octet-stream"
cmp -s "$T/body" "$T/models/tiny.ckpt" && ok || fail "the checkpoint arrives whole"
get /nope.html 404
get /models/nope.ckpt 404
get /data/ 404
get /models 404

# traversal, in every spelling: nothing outside the roots
for path in "/../Makefile" "/%2e%2e/Makefile" "/%2E%2E/Makefile" "/..%2fMakefile" "/.%2e/Makefile" \
            "/models/../../Makefile" "/models/%2e%2e/%2e%2e/Makefile" "/data/..%2f..%2fMakefile" \
            "//etc/passwd" "/%2fetc%2fpasswd" "/models//etc/passwd" "/models/link.ckpt" \
            "/..\\Makefile" "/models/.%2e/secret.txt" "/./index.html"; do
    get "$path" 404
    grep -q "secret\|^CC\|root:" "$T/body" && fail "$path leaked a file" || ok
done

# methods and sizes
get / 405 "" -X POST
get / 405 "" -X DELETE
get / 405 "" -X PUT --data "x"
get / 413 "" -X GET --data "x"
get "/$(head -c 3000 /dev/zero | tr '\0' a)" 414
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$B/")
[ "$code" -ge 400 ] && [ "$code" -lt 500 ] && ok || fail "an oversized header got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$B/index.html")
[ "$code" = 200 ] && ok || fail "HEAD got $code"

# the models listing: real checkpoints only, with their configuration
get /api/models 200 application/json
python3 - "$T/body" << 'PY' && ok || fail "models listing: $(cat "$T/body")"
import json, sys
models = json.load(open(sys.argv[1]))
names = [m["name"] for m in models]
assert names == ["tiny.ckpt"], names
m = models[0]
assert m["url"] == "/models/tiny.ckpt" and m["d_model"] == 8 and m["ctx"] == 8 and m["vocab"] == 768, m
PY

# one log line per request, with method, path and status
grep -q "GET /index.html 200" "$T/log" && ok || fail "log: $(head -3 "$T/log")"
grep -q "POST / 405" "$T/log" && ok || fail "the log records refusals"

# connections: kept alive, pipelined, and refused when ambiguous
for probe in keepalive pipeline duplicate-length; do
    timeout 20 python3 tests/server_probe.py "$port" $probe > "$T/probe" 2>&1 && ok ||
        fail "$probe: $(cat "$T/probe")"
done
# Slow clients (from 127.0.0.2) starve no one else (from 127.0.0.1), and a
# header sent a byte a second is cut off at the deadline (10 s).
timeout 40 python3 tests/server_probe.py "$port" slow 64 5 > "$T/probe" 2>&1 && ok ||
    fail "slow clients: $(cat "$T/probe")"
timeout 40 python3 tests/server_probe.py "$port" deadline 13 > "$T/probe" 2>&1 && ok ||
    fail "header deadline: $(cat "$T/probe")"

# usage errors
"$G" serve --port 99999 > /dev/null 2>&1; [ $? -eq 2 ] && ok || fail "a bad port is a usage error"
"$G" serve --port "$port" > /dev/null 2> "$T/err"; [ $? -eq 1 ] && ok || fail "a port in use is a runtime error"
grep -q "cannot listen" "$T/err" && ok || fail "port in use message: $(cat "$T/err")"

# Ctrl-C stops it cleanly
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && ok || fail "serve exited $rc on Ctrl-C"

# A models directory that fights back: many long names, names that are not
# JSON or URL safe, dotfiles, a FIFO, links out of it.
H="$T/hostile"
mkdir -p "$H"
head -c 64 models/tiny.ckpt > "$T/head.ckpt"  # a valid header is all a listing reads
long=$(head -c 190 /dev/zero | tr '\0' m)
for i in $(seq 10 40); do cp "$T/head.ckpt" "$H/$long$i.ckpt"; done
cp "$T/head.ckpt" "$H/$(printf 'ctl\001\033[31m\nx.ckpt')"
cp "$T/head.ckpt" "$H/a#b?c %25 \"q\".ckpt"
cp "$T/head.ckpt" "$H/$(printf 'bad\377utf8.ckpt')"
cp "$T/head.ckpt" "$H/.hidden.ckpt"
echo "KEY=secret" > "$H/.env"
mkfifo "$H/fifo.ckpt"
cp "$T/head.ckpt" "$T/outside.ckpt"
ln -s "$T/outside.ckpt" "$H/out.ckpt"
ln -s "$H/a#b?c %25 \"q\".ckpt" "$H/inside.ckpt"
"$G" serve --port 0 --host 127.0.0.1 --models "$H" --data "$T/data" > "$T/out2" 2> "$T/log2" &
pid=$!
for _ in $(seq 50); do grep -q serving "$T/out2" 2> /dev/null && break; sleep 0.1; done
port2=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/out2")
B="http://127.0.0.1:$port2"
get /api/models 200 application/json --max-time 10
python3 - "$T/body" "$B" << 'PY' > "$T/probe" 2>&1 && ok || fail "hostile listing: $(cat "$T/probe")"
import json, sys, urllib.request
models = json.load(open(sys.argv[1]))
names = [m["name"] for m in models]
assert len(names) == 31 + 4, (len(names), names)
assert "ctl\x01\x1b[31m\nx.ckpt" in names and 'a#b?c %25 "q".ckpt' in names, names
assert "bad\ufffdutf8.ckpt" in names and "inside.ckpt" in names, names
assert not any(n.startswith(".") or n in ("out.ckpt", "fifo.ckpt") for n in names), names
for m in models:  # every URL the listing gives downloads the file it names
    with urllib.request.urlopen(sys.argv[2] + m["url"], timeout=10) as r:
        assert r.status == 200 and len(r.read()) == m["bytes"] == 64, m
PY
for path in /models/fifo.ckpt /models/out.ckpt /models/.env /models/.hidden.ckpt /.env \
            /models/%2eenv; do
    get "$path" 404 "" --max-time 10
done
grep -q "KEY=secret" "$T/body" && fail "a dotfile was served" || ok
# percent-encoded control characters are logged escaped, never raw
curl -s -g -o /dev/null --max-time 5 "$B/x%0a12:00:00%20GET%20/forged%20200%200%1b[2J"
for _ in $(seq 50); do grep -qF '/forged' "$T/log2" && break; sleep 0.1; done  # logged by now
grep -q "^12:00:00 GET /forged" "$T/log2" && fail "a forged log line" || ok
grep -qF 'x\x0a12:00:00 GET /forged 200 0\x1b[2J 404' "$T/log2" && ok ||
    fail "the log escapes control characters: $(tail -2 "$T/log2")"
[ "$(tr -d '\n[:print:]' < "$T/log2" | wc -c)" -eq 0 ] && ok || fail "raw control bytes in the log"
# SIGTERM stops it, FIFO or not
kill -TERM $pid
timeout 10 tail --pid=$pid -f /dev/null && ok || { fail "SIGTERM did not stop the server"; kill -9 $pid; }
wait $pid 2> /dev/null

# No models yet: the page is served anyway (it can train one), the listing
# is empty, and a checkpoint that appears later is listed.
E="$T/empty/models"
"$G" serve --port 0 --models "$E" --data "$T/data" > "$T/out4" 2> "$T/log4" &
pid=$!
for _ in $(seq 50); do grep -q serving "$T/out4" 2> /dev/null && break; sleep 0.1; done
grep -q "no checkpoints in $E yet: the page can train a model itself" "$T/log4" && ok ||
    fail "serve without models: $(cat "$T/out4" "$T/log4")"
B="http://127.0.0.1:$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/out4")"
get / 200 "text/html; charset=utf-8" --max-time 10
get /api/models 200 application/json --max-time 10
[ "$(cat "$T/body")" = "[]" ] && ok || fail "the listing without models: $(cat "$T/body")"
mkdir -p "$E" && cp models/tiny.ckpt "$E/"
get /api/models 200 application/json --max-time 10
grep -q '"name":"tiny.ckpt"' "$T/body" && ok || fail "a checkpoint made later is listed: $(cat "$T/body")"
get /models/tiny.ckpt 200 "application/octet-stream" --max-time 10
kill -TERM $pid
wait $pid 2> /dev/null

# every interface: the banner names the address it listens on
"$G" serve --port 0 --host :: > "$T/out3" 2> /dev/null &
pid=$!
for _ in $(seq 50); do grep -q serving "$T/out3" 2> /dev/null && break; sleep 0.1; done
grep -q "serving the walkthrough at http://\[::\]:[0-9]*/" "$T/out3" && ok ||
    fail "the banner for --host ::: $(cat "$T/out3")"
kill -TERM $pid
wait $pid 2> /dev/null

finish
