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

# usage errors
"$G" serve --port 99999 > /dev/null 2>&1; [ $? -eq 2 ] && ok || fail "a bad port is a usage error"
"$G" serve --port "$port" > /dev/null 2> "$T/err"; [ $? -eq 1 ] && ok || fail "a port in use is a runtime error"
grep -q "cannot listen" "$T/err" && ok || fail "port in use message: $(cat "$T/err")"

# Ctrl-C stops it cleanly
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && ok || fail "serve exited $rc on Ctrl-C"

finish
