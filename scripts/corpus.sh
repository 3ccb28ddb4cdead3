#!/usr/bin/env bash
# Puts the tinyshakespeare corpus at data/tinyshakespeare.txt.
#
# usage: scripts/corpus.sh [PATH]
#
# Looks, in order, at PATH (when given), data/tinyshakespeare.txt,
# ../shared/data/tinyshakespeare.txt, and finally downloads it from its
# well-known public address. Every candidate is checked against the corpus's
# sha256 before it is copied into data/ (which git ignores).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly NAME=tinyshakespeare.txt
readonly SHA256=86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed
readonly URL=https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt
readonly DEST=data/$NAME

verified() { [ -f "$1" ] && [ "$(sha256sum < "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

install_copy() {  # copies a verified file into data/, atomically
    mkdir -p data
    cp "$1" "$DEST.tmp.$$" && mv -f "$DEST.tmp.$$" "$DEST"
    echo "corpus: $DEST (from $1)" >&2
}

if [ $# -gt 0 ] && [ -n "$1" ]; then
    if [ ! -f "$1" ]; then
        echo "corpus: $1: no such file" >&2
        exit 1
    fi
    if ! verified "$1"; then
        echo "corpus: $1 is not tinyshakespeare (its sha256 differs from $SHA256)." >&2
        echo "corpus: to learn from a text of your own, give it to glassgpt directly," >&2
        echo "        for example: build/glassgpt bpe train $1 -o my.bpe" >&2
        exit 1
    fi
    [ "$(realpath "$1")" = "$(realpath -m "$DEST")" ] || install_copy "$1"
    exit 0
fi

verified "$DEST" && exit 0
if [ -e "$DEST" ]; then
    echo "corpus: $DEST does not match the expected sha256; looking for a good copy" >&2
fi
if verified "../shared/data/$NAME"; then
    install_copy "../shared/data/$NAME"
    exit 0
fi

echo "corpus: downloading $URL" >&2
mkdir -p data
tmp=$(mktemp "data/.$NAME.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if { command -v curl > /dev/null && curl -fsSL --max-time 60 -o "$tmp" "$URL"; } ||
   { command -v wget > /dev/null && wget -q --timeout=60 -O "$tmp" "$URL"; }; then
    if verified "$tmp"; then
        mv -f "$tmp" "$DEST"
        echo "corpus: $DEST (downloaded)" >&2
        exit 0
    fi
    echo "corpus: the download does not match sha256 $SHA256; refusing to use it" >&2
else
    echo "corpus: the download failed (are you offline?)" >&2
fi
cat >&2 <<MSG
corpus: no copy of tinyshakespeare is available. Get the file (1,115,394 bytes) from
  $URL
on a connected machine and then either put it at $DEST or run
  make CORPUS=/path/to/input.txt corpus
MSG
exit 1
