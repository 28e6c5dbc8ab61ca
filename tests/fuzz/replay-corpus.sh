#!/usr/bin/env bash
# Replays every input of the given corpus directories through the fuzz target (built with the sanitizers).
set -u
bin=$1
shift
files=()
for d in "$@"; do
    [ -d "$d" ] && for f in "$d"/*; do [ -f "$f" ] && [ "$(basename "$f")" != README.md ] && files+=("$f"); done
done
exec "$bin" "${files[@]}"
