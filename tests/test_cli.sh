#!/usr/bin/env bash
# End-to-end tests of the command line: every subcommand, its help, its exit
# codes, and every kind of bad input.
#
# usage: GLASSGPT=build/glassgpt GLASSGPT_CORPUS=data/tinyshakespeare.txt tests/test_cli.sh
set -u
cd "$(dirname "$0")/.."
source tests/lib.sh
CORPUS=${GLASSGPT_CORPUS:-data/tinyshakespeare.txt}

# ---- help and usage ----
expect 0 "glassgpt --help" "$G" --help
contains "$T/out" "bpe train" "top-level help lists bpe train"
expect 2 "glassgpt alone" "$G"
expect 2 "unknown command" "$G" frobnicate
contains "$T/err" "unknown command 'frobnicate'" "unknown command message"
expect 0 "bpe --help" "$G" bpe --help
expect 2 "bpe alone" "$G" bpe
expect 2 "bpe unknown subcommand" "$G" bpe nope
for sub in train encode decode show; do
    expect 0 "bpe $sub --help" "$G" bpe "$sub" --help
    contains "$T/out" "usage: glassgpt bpe $sub" "bpe $sub help"
done
expect 2 "train without corpus" "$G" bpe train -o "$T/x.bpe"
expect 2 "train without -o" "$G" bpe train "$CORPUS"
expect 2 "train -o without value" "$G" bpe train "$CORPUS" -o
expect 2 "train unknown option" "$G" bpe train "$CORPUS" -o "$T/x.bpe" --frob
expect 2 "vocab 255" "$G" bpe train "$CORPUS" -o "$T/x.bpe" --vocab 255
contains "$T/err" "256" "vocab 255 message gives the range"
expect 2 "vocab 65537" "$G" bpe train "$CORPUS" -o "$T/x.bpe" --vocab 65537
expect 2 "vocab not a number" "$G" bpe train "$CORPUS" -o "$T/x.bpe" --vocab 12ab
expect 2 "threads 0" "$G" bpe train "$CORPUS" -o "$T/x.bpe" --threads 0
contains "$T/err" "--threads needs a number from 1 to 4096" "threads 0 message gives the range"
expect 2 "encode without -t" "$G" bpe encode
expect 2 "show with an extra argument" "$G" bpe show -t x y

# ---- training on Shakespeare ----
expect 0 "train tinyshakespeare" "$G" bpe train "$CORPUS" -o "$T/s.bpe" --trace "$T/trace.tsv"
contains "$T/out" "learned 512 merges" "summary names the merges"
contains "$T/out" "bytes/token" "summary gives the compression"
ls "$T" | grep -q '\.tmp-' && fail "a temporary file was left behind" || ok
head -n 2 "$T/s.bpe" > "$T/head"
if [ "$(cat "$T/head")" = "$(printf 'glassgpt-bpe 1\nvocab 768')" ]; then ok; else fail "file header: $(cat "$T/head")"; fi
[ "$(grep -cv '^#' "$T/s.bpe")" -eq 514 ] && ok || fail "expected 2 header lines and 512 merges"
# the byte pairs counted in one piece or in four: the same tokenizer and trace
expect 0 "train on one thread" \
    "$G" bpe train "$CORPUS" -o "$T/s1.bpe" --trace "$T/trace1.tsv" --threads 1
expect 0 "train on four threads" \
    "$G" bpe train "$CORPUS" -o "$T/s4.bpe" --trace "$T/trace4.tsv" --threads 4
same "$T/s1.bpe" "$T/s.bpe" "one thread's tokenizer"
same "$T/s4.bpe" "$T/s.bpe" "four threads' tokenizer"
same "$T/trace1.tsv" "$T/trace.tsv" "one thread's trace"
same "$T/trace4.tsv" "$T/trace.tsv" "four threads' trace"

expect 0 "show" "$G" bpe show -t "$T/s.bpe"
[ "$(head -n 1 "$T/out")" = "$(printf 'id\tleft\tright\tcount\ttoken')" ] && ok || fail "show header"
[ "$(wc -l < "$T/out")" -eq 513 ] && ok || fail "show has $(wc -l < "$T/out") lines, expected 513"
first5=$(sed -n '2,6p' "$T/out" | cut -f5 | tr '\n' '|')
[ "$first5" = "e␣|th|t␣|s␣|d␣|" ] && ok || fail "first five merges: $first5"
contains "$T/out" "$(printf '418\t')" "show lists token 418"

[ "$(head -n 1 "$T/trace.tsv")" = "$(printf 'step\tid\trank\tleft\tright\tcount\ttoken')" ] && ok || fail "trace header"
[ "$(wc -l < "$T/trace.tsv")" -eq 5121 ] && ok || fail "trace has $(wc -l < "$T/trace.tsv") lines, expected 1 + 512 x 10"
[ "$(sed -n 2p "$T/trace.tsv" | cut -f1-6 | tr '\t' ' ')" = "1 256 1 101 32 27643" ] && ok || fail "first trace row: $(sed -n 2p "$T/trace.tsv")"

# ---- encode and decode ----
expect 0 "encode from stdin" sh -c "printf 'To be, or not to be' | '$G' bpe encode -t '$T/s.bpe'"
[ "$(cut -d' ' -f1 "$T/out")" = "418" ] && ok || fail "'To ' should encode as 418: $(cat "$T/out")"
cp "$T/out" "$T/ids_stdin"
printf 'To be, or not to be' > "$T/tobe.txt"
expect 0 "encode a file" "$G" bpe encode -t "$T/s.bpe" "$T/tobe.txt"
cmp -s "$T/out" "$T/ids_stdin" && ok || fail "file and stdin encodings differ"
expect 0 "encode from -" sh -c "'$G' bpe encode -t '$T/s.bpe' - < '$T/tobe.txt'"
cmp -s "$T/out" "$T/ids_stdin" && ok || fail "'-' and stdin encodings differ"
expect 0 "decode" "$G" bpe decode -t "$T/s.bpe" "$T/ids_stdin"
[ "$(cat "$T/out")" = "To be, or not to be" ] && ok || fail "decode gave: $(cat "$T/out")"

expect 0 "encode the corpus" "$G" bpe encode -t "$T/s.bpe" "$CORPUS"
mv "$T/out" "$T/corpus.ids"
expect 0 "decode the corpus" "$G" bpe decode -t "$T/s.bpe" "$T/corpus.ids"
cmp -s "$T/out" "$CORPUS" && ok || fail "the corpus does not round-trip"

# Any bytes at all round-trip: random binary, invalid UTF-8, emoji, CJK.
head -c 20000 /dev/urandom > "$T/random.bin"
printf '\xff\xfe\xc0\x80 \xe7\x8c\xab\xe3\x81\x8c \xf0\x9f\x90\x88\xf0\x9f\x98\x80 \x00\x01 end' > "$T/mixed.bin"
for f in random.bin mixed.bin; do
    "$G" bpe encode -t "$T/s.bpe" "$T/$f" > "$T/$f.ids" && "$G" bpe decode -t "$T/s.bpe" "$T/$f.ids" > "$T/$f.back"
    cmp -s "$T/$f" "$T/$f.back" && ok || fail "$f does not round-trip"
done
expect 0 "encode empty input" sh -c "'$G' bpe encode -t '$T/s.bpe' < /dev/null"
[ "$(cat "$T/out")" = "" ] && ok || fail "empty input should give an empty line"

# ---- bad input ----
: > "$T/empty.txt"
expect 1 "empty corpus" "$G" bpe train "$T/empty.txt" -o "$T/e.bpe"
contains "$T/err" "empty" "empty corpus message"
[ ! -e "$T/e.bpe" ] && ok || fail "an empty corpus must not write a tokenizer"
printf 'hello' > "$T/small.txt"
expect 1 "corpus too small" "$G" bpe train "$T/small.txt" -o "$T/small.bpe"
contains "$T/err" "too small" "small corpus warning"
[ "$(sed -n 2p "$T/small.bpe")" = "vocab 260" ] && ok || fail "small corpus should save vocab 260"
expect 1 "missing corpus" "$G" bpe train "$T/nope.txt" -o "$T/n.bpe"
contains "$T/err" "nope.txt" "missing corpus message names the file"
expect 1 "corpus is a directory" "$G" bpe train "$T" -o "$T/n.bpe"
expect 1 "missing tokenizer" "$G" bpe encode -t "$T/nope.bpe" "$T/tobe.txt"
expect 1 "unwritable output" "$G" bpe train "$T/small.txt" -o "$T/no/such/dir/x.bpe"

# A failed save keeps the old file intact.
cp "$T/s.bpe" "$T/keep.bpe"
chmod 500 "$T" 2> /dev/null
if [ "$(id -u)" -ne 0 ]; then
    expect 1 "save into a read-only directory" "$G" bpe train "$T/small.txt" -o "$T/keep.bpe"
    cmp -s "$T/keep.bpe" "$T/s.bpe" && ok || fail "the old tokenizer was damaged"
fi
chmod 700 "$T"

bad() {  # bad NAME CONTENT EXPECTED-MESSAGE
    printf "$2" > "$T/bad.bpe"
    expect 1 "malformed: $1" "$G" bpe encode -t "$T/bad.bpe" "$T/tobe.txt"
    contains "$T/err" "$3" "malformed: $1 message"
}
bad "bad magic" 'hello 1\nvocab 256\n' "bad.bpe:1: not a glassgpt tokenizer"
bad "unknown version" 'glassgpt-bpe 9\nvocab 256\n' "bad.bpe:1: unknown format version 9"
bad "undefined id" 'glassgpt-bpe 1\nvocab 257\n300 32\n' "bad.bpe:3: merge 1 (300, 32) uses id 300, which is not defined yet"
bad "duplicate pair" 'glassgpt-bpe 1\nvocab 258\n101 32\n101 32\n' "bad.bpe:4: merge 2 (101, 32) repeats merge 1"
bad "truncated" 'glassgpt-bpe 1\nvocab 768\n101 32\n' "truncated"
bad "cut mid-line" 'glassgpt-bpe 1\nvocab 258\n101 32\n11' "bad.bpe:4: truncated"
bad "vocab too large" 'glassgpt-bpe 1\nvocab 70000\n' "bad.bpe:2: vocabulary size 70000 is over the maximum of 65536"

printf '418 99999' > "$T/range.ids"
expect 1 "decode id out of range" "$G" bpe decode -t "$T/s.bpe" "$T/range.ids"
contains "$T/err" "id 99999 (token 2) is out of range" "out-of-range message"
printf '418 abc 32' > "$T/nan.ids"
expect 1 "decode non-numeric" "$G" bpe decode -t "$T/s.bpe" "$T/nan.ids"
contains "$T/err" "token 2, 'abc', is not a token id" "non-numeric message"
printf '418 -5' > "$T/neg.ids"
expect 1 "decode negative" "$G" bpe decode -t "$T/s.bpe" "$T/neg.ids"
printf '99999999999999999999' > "$T/huge.ids"
expect 1 "decode huge number" "$G" bpe decode -t "$T/s.bpe" "$T/huge.ids"
contains "$T/err" "out of range" "huge number message"

# ---- hostile sizes: a tokenizer whose merges double a token's length, and inputs without end ----
python3 -c "
print('glassgpt-bpe 1'); print('vocab 300'); print('97 97')
for i in range(43): print(f'{256 + i} {256 + i}')" > "$T/bomb.bpe"
for cmd in "encode -t $T/bomb.bpe $T/tobe.txt" "show -t $T/bomb.bpe"; do
    peak_rss "bpe $cmd with a tokenizer bomb" 300 $G bpe $cmd
    [ $rc -eq 1 ] && ok || fail "bpe $cmd with a tokenizer bomb: exit $rc, expected 1 ($(head -c 300 "$T/err"))"
    contains "$T/err" "bomb.bpe:24: merge 22 (276, 276) makes a token of 4194304 bytes" "bomb message"
done
expect 1 "encode a device" "$G" bpe encode -t "$T/s.bpe" /dev/zero
contains "$T/err" "/dev/zero: is not a regular file" "device message"
expect 1 "encode a device on standard input" "$G" bpe encode -t "$T/s.bpe" < /dev/zero
expect 1 "a directory as a tokenizer" "$G" bpe encode -t "$T" "$T/tobe.txt"
contains "$T/err" "is a directory" "directory message"
peak_rss "an endless pipe" 1500 sh -c "head -c 1100000000 /dev/zero | '$G' bpe encode -t '$T/s.bpe'"
[ $rc -eq 1 ] && ok || fail "an endless pipe: exit $rc, expected 1"
contains "$T/err" "standard input: holds more than the 1024 MiB" "endless pipe message"
expect 0 "encode from a pipe" "$G" bpe encode -t "$T/s.bpe" <(cat "$T/tobe.txt")
contains "$T/out" "418 98 302 601 327 283 369" "a pipe is read whole"
# A corpus that repeats itself stops at the bound, with what it learned saved.
head -c 8388608 /dev/zero | tr '\0' a > "$T/aaa.txt"
expect 1 "train on 8 MiB of one byte" "$G" bpe train "$T/aaa.txt" -o "$T/aaa.bpe" --vocab 300
contains "$T/err" "past the limit of 8 MiB" "token bytes bound message"
expect 0 "the tokenizer learned up to the bound loads" "$G" bpe show -t "$T/aaa.bpe"

# ---- a corpus larger than --sample: learned from a uniform, seeded sample ----
python3 -c "
import sys
sys.stdout.write('the cat sat on the mat. ' * 1100000)
sys.stdout.write('xq zj ' * 500000)" > "$T/big.txt"  # 26.4 MB + 3 MB of pairs found only at the end
expect 0 "bpe train on a sample" "$G" bpe train "$T/big.txt" -o "$T/sampled.bpe" --vocab 300 --sample 2000000
contains "$T/err" "learning from a uniform sample of 2.0 MB (seed 1" "the sample is announced"
"$G" bpe show -t "$T/sampled.bpe" | cut -f5 | grep -q "zj" && ok ||
    fail "the sample missed the end of the corpus (no token holds zj)"
expect 0 "the same sample again" "$G" bpe train "$T/big.txt" -o "$T/sampled2.bpe" --vocab 300 --sample 2000000
same "$T/sampled.bpe" "$T/sampled2.bpe" "the same seed samples the same bytes"
expect 0 "another seed" "$G" bpe train "$T/big.txt" -o "$T/sampled3.bpe" --vocab 300 --sample 2000000 --seed 9
cmp -s "$T/sampled.bpe" "$T/sampled3.bpe" && fail "another seed learned the same counts" || ok
expect 0 "a corpus under --sample is read whole" "$G" bpe train "$T/tobe.txt" -o "$T/whole.bpe" --vocab 257 --sample 65536
grep -q "sample" "$T/err" && fail "a small corpus was sampled" || ok

# ---- where files are written: only regular files are replaced, links are written through ----
expect 1 "-o /dev/full" "$G" bpe train "$T/tobe.txt" -o /dev/full --vocab 257
contains "$T/err" "/dev/full: is a device" "device output message"
[ -c /dev/full ] && ok || fail "/dev/full is no longer a device"
mkdir "$T/dir.bpe"
expect 1 "-o a directory" "$G" bpe train "$T/tobe.txt" -o "$T/dir.bpe" --vocab 257
mkfifo "$T/fifo.bpe"
expect 1 "-o a FIFO" timeout 10 "$G" bpe train "$T/tobe.txt" -o "$T/fifo.bpe" --vocab 257
[ -p "$T/fifo.bpe" ] && ok || fail "the FIFO was replaced"
"$G" bpe train "$T/tobe.txt" -o "$T/real.bpe" --vocab 257 > /dev/null
ln -s real.bpe "$T/link.bpe"
expect 0 "-o a link" "$G" bpe train "$T/tobe.txt" -o "$T/link.bpe" --vocab 259
[ -L "$T/link.bpe" ] && ok || fail "the link was replaced by a file"
grep -q "^vocab 259" "$T/real.bpe" && ok || fail "the link's target was not written"
ln -s nowhere "$T/dangling.bpe"
expect 1 "-o a dangling link" "$G" bpe train "$T/tobe.txt" -o "$T/dangling.bpe" --vocab 257
# a file size limit: the write fails and says so; nothing is left behind
cp "$T/real.bpe" "$T/keep2.bpe"
(ulimit -f 1; "$G" bpe train "$CORPUS" -o "$T/real.bpe" --vocab 700 > /dev/null 2> "$T/err"); rc=$?
[ $rc -eq 1 ] && ok || fail "over the file size limit: exit $rc, expected 1"
contains "$T/err" "File too large (the previous file, if any, is untouched)" "file size message"
same "$T/keep2.bpe" "$T/real.bpe" "the old file survives a write over the size limit"
ls "$T" | grep -q '\.tmp' && fail "a temporary file was left behind: $(ls "$T")" || ok

# ---- standard output that cannot be written ----
for cmd in "bpe encode -t $T/s.bpe $T/tobe.txt" "bpe show -t $T/s.bpe" \
           "bpe train $T/tobe.txt -o $T/o.bpe --vocab 257" "--help"; do
    $G $cmd > /dev/full 2> "$T/err"; rc=$?
    [ $rc -eq 1 ] && ok || fail "$cmd > /dev/full: exit $rc, expected 1"
done

finish
