#!/usr/bin/env bash
# Runs every test suite, shows their output, and adds up their closing lines
# ("N passed, N failed") into one. Exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

suite() {  # suite NAME COMMAND...
    echo "== $1"
    shift
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "suite exited with status $rc and no closing line: counted as one failure"
        failed=$((failed + 1))
        return
    fi
    local p f
    p=$(echo "$line" | cut -d' ' -f1)
    f=$(echo "$line" | cut -d' ' -f3)
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "suite exited with status $rc despite no failed case: counted as one failure"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

suite "tokenizer (optimised build)" build/test_tokenizer
suite "tokenizer (AddressSanitizer + UBSan)" build/asan/test_tokenizer
suite "tokenizer (AddressSanitizer + UBSan, this machine's vectors and threads)" build/asan-native/test_tokenizer
suite "engine (optimised build)" build/test_model
suite "engine (AddressSanitizer + UBSan)" build/asan/test_model
suite "engine (AddressSanitizer + UBSan, this machine's vectors and threads)" build/asan-native/test_model
suite "engine against PyTorch's fixture (optimised build)" build/test_reference
suite "engine against PyTorch's fixture (AddressSanitizer + UBSan)" build/asan/test_reference
# The export, loaded into PyTorch by GPT-2's names, where Debian's
# python3-torch is installed (the fixture above needs no PyTorch).
if /usr/bin/python3 -c 'import torch' 2> /dev/null; then
    suite "export loaded into PyTorch" /usr/bin/python3 scripts/reference.py check-export build/export-check
else
    echo "== export loaded into PyTorch: skipped (python3-torch is not installed)"
fi
suite "command line (optimised build)" env GLASSGPT=build/glassgpt tests/test_cli.sh
suite "command line (AddressSanitizer + UBSan)" env GLASSGPT=build/asan/glassgpt tests/test_cli.sh
suite "model commands (optimised build)" env GLASSGPT=build/glassgpt tests/test_cli_model.sh
suite "model commands (AddressSanitizer + UBSan)" env GLASSGPT=build/asan/glassgpt tests/test_cli_model.sh

suite "token shards (optimised build; a 200 MB corpus too)" env GLASSGPT=build/glassgpt BIG=1 \
    tests/test_shards.sh
suite "token shards (AddressSanitizer + UBSan)" env GLASSGPT=build/asan/glassgpt tests/test_shards.sh

suite "data-parallel training, 2 processes against 1 (Open MPI)" tests/test_mpi.sh

suite "server (optimised build)" env GLASSGPT=build/glassgpt tests/test_server.sh
suite "server (AddressSanitizer + UBSan)" env GLASSGPT=build/asan/glassgpt tests/test_server.sh
suite "native against WebAssembly" node tests/wasm_parity.mjs build/glassgpt "$GLASSGPT_CORPUS" \
    models/tiny.ckpt models/small.ckpt
suite "the exported tokenizer.json in Hugging Face's tokenizers" node tests/hf_tokenizer.mjs build/glassgpt \
    "$GLASSGPT_CORPUS" models/small.ckpt
suite "the walkthrough in Chromium" node tests/browser/walkthrough.mjs build/glassgpt
suite "every WebGPU kernel against the C reference (Chromium, SwiftShader)" \
    node tests/browser/gpu_kernels.mjs build/glassgpt
suite "training on WebGPU against WebAssembly, tiny and small (Chromium, SwiftShader)" \
    node tests/browser/gpu_model.mjs build/glassgpt
suite "the walkthrough on either backend: the switch, a lost GPU, no WebGPU (Chromium)" \
    node tests/browser/gpu_page.mjs build/glassgpt

# each fuzzer for a few seconds, on its seeds and what it has found before
suite "fuzzers, a few seconds each (make fuzz runs them longer)" scripts/fuzz.sh 4

echo "== all suites"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
