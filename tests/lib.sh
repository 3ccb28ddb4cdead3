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

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
