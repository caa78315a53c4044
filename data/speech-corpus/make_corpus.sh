#!/usr/bin/env bash
# Rebuilds the bundled speech corpus from sentences.txt. Needs the
# synthesisers of its 26 voices: espeak-ng (its own voices, and MBROLA's
# US, British and German voices: Debian main, contrib and non-free),
# Festival with its diphone and HTS voices, and Flite (Debian main). They are installed here
# through an alternate apt sources list, so the system's own sources are
# left untouched. Nothing else in the project needs these tools: the corpus
# they make is committed. Arguments go to `first-mlp speech-corpus` (for
# example --voices-per-sentence 2 --out /tmp/corpus for a smaller corpus).
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(espeak-ng mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1
    mbrola-de1 mbrola-de2 mbrola-de3 mbrola-de4 mbrola-de5 mbrola-de6 festival festvox-kallpc16k festvox-kdlpc16k festvox-rablpc16k festvox-don
    festvox-us-slt-hts flite)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    # The lists live apart from the sources file: apt reads every file in
    # its lists folder as a package list.
    state=$(mktemp -d)
    mkdir -p "$state/lists/partial"
    echo "deb http://deb.debian.org/debian bookworm main contrib non-free" > "$state/sources.list"
    apt_alt=(-o "Dir::Etc::sourcelist=$state/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$state/lists")
    apt-get "${apt_alt[@]}" update
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_alt[@]}" install -y --no-install-recommends "${missing[@]}"
fi

if [ $# -eq 0 ]; then
    set -- --out data/speech-corpus
fi
cargo run --release -p first-mlp -- speech-corpus --sentences data/speech-corpus/sentences.txt "$@"
