#!/usr/bin/env bash
# The end of `make run`: shows what the tokenizer and the models learned
# from the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
tok=${1:-models/tokenizer.bpe}
G=build/glassgpt

echo
echo "glassgpt: a tokenizer and two small GPTs trained on tinyshakespeare"
echo "  corpus     data/tinyshakespeare.txt ($(wc -c < data/tinyshakespeare.txt) bytes)"
echo "  tokenizer  $tok ($(sed -n 2p "$tok"))"
[ -f models/tokenizer-trace.tsv ] && echo "  trace      models/tokenizer-trace.tsv (10 candidates per merge)"
echo
echo "The first ten merges ($G bpe show -t $tok):"
{ "$G" bpe show -t "$tok" || true; } | head -n 11 | awk -F'\t' '{printf "  %-6s %-6s %-6s %-7s %s\n", $1, $2, $3, $4, $5}'
echo
line="To be, or not to be"
echo "\"$line\" encodes as: $(printf '%s' "$line" | "$G" bpe encode -t "$tok")"
echo "and decodes back as:  \"$(printf '%s' "$line" | "$G" bpe encode -t "$tok" | "$G" bpe decode -t "$tok")\""
n_ids=$("$G" bpe encode -t "$tok" data/tinyshakespeare.txt | wc -w)
echo "The whole corpus is $n_ids tokens."
echo
for preset in tiny small; do
    ckpt=models/$preset.ckpt
    echo "== $ckpt: $("$G" inspect "$ckpt" | sed -n 2p | sed 's/^config *//')"
    echo "   $("$G" inspect "$ckpt" | grep '^losses' | sed 's/^losses *//')"
    echo "   a sample (build/glassgpt generate -m $ckpt --prompt 'ROMEO:' -n 60 --seed 1):"
    "$G" generate -m "$ckpt" --prompt "ROMEO:" -n 60 --seed 1 2> /dev/null | sed 's/^/   | /'
    echo
done
