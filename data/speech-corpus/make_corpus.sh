#!/usr/bin/env bash
# Rebuilds the bundled speech corpus from sentences.txt. Needs espeak-ng
# (Debian main) and MBROLA with its US voices (Debian contrib and non-free).
# They are installed here through an alternate apt sources list, so the
# system's own sources are left untouched. Nothing else in the project needs
# these tools: the corpus they make is committed.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v mbrola >/dev/null || [ ! -e /usr/share/mbrola/us3/us3 ]; then
    lists=$(mktemp -d)
    mkdir -p "$lists/partial"
    sources="$lists/sources.list"
    echo "deb http://deb.debian.org/debian bookworm main contrib non-free" > "$sources"
    apt_alt=(-o "Dir::Etc::sourcelist=$sources" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$lists")
    apt-get "${apt_alt[@]}" update
    apt-get "${apt_alt[@]}" install -y espeak-ng mbrola mbrola-us1 mbrola-us2 mbrola-us3
fi

rm -rf data/speech-corpus/train-clean-100 data/speech-corpus/dev-clean data/speech-corpus/test-clean
cargo run --release -p first-mlp -- speech-corpus --sentences data/speech-corpus/sentences.txt --out data/speech-corpus
