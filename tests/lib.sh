# Shared helpers of the shell test suites: source it from the repository
# root. It sets $G, the glassgpt binary, and $T, a scratch directory removed
# on exit. Each check counts one case; finish() prints the closing line and
# sets the exit status.
G=${GLASSGPT:-build/glassgpt}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect CODE NAME COMMAND...: runs COMMAND and checks its exit status;
# stdout and stderr are kept in $T/out and $T/err for further checks.
expect() {
    local want=$1 name=$2
    shift 2
    "$@" > "$T/out" 2> "$T/err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else fail "$name: exit $rc, expected $want; stderr: $(head -c 600 "$T/err")"; fi
}
# contains FILE TEXT NAME
contains() { if grep -qF -- "$2" "$1"; then ok; else fail "$3: '$2' not in $(head -c 600 "$1")"; fi; }
# same FILE FILE NAME
same() { if cmp -s "$1" "$2"; then ok; else fail "$3: $1 and $2 differ"; fi; }

# peak_rss NAME LIMIT-MIB COMMAND...: runs COMMAND (its output in $T/out and
# $T/err, its exit status in $rc) and checks that its resident set peaked
# under LIMIT MiB. Measured, not limited: a limit on address space breaks
# AddressSanitizer's shadow memory. The peak is left in $peak_mib.
peak_rss() {
    local name=$1 limit=$2
    shift 2
    local peak
    peak=$(python3 -c '
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    rc = subprocess.call(sys.argv[3:], stdout=out, stderr=err)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' "$T/out" "$T/err" "$@")
    rc=${peak%% *}
    peak=${peak#* }
    peak_mib=$peak
    if [ "$peak" -lt "$limit" ]; then ok; else fail "$name: peaked at $peak MiB, over $limit MiB"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
