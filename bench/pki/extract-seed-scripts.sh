#!/usr/bin/env bash
# bench/pki/extract-seed-scripts.sh -- extract the seeds' certificate scripts, verbatim.
#
# The seeds (design documents) hold CERTIFICATES.md as a diff whose lines start with '+'.
# Its "**Script**: `tools/NAME`" paragraphs are followed by a ```bash fence holding the
# script. This copies each fence's body into OUTDIR/NAME with exactly the diff's leading
# '+' removed from every line -- nothing else is changed -- and makes it executable.
# Nothing is kept in the repository: bench/pki/run calls this into a temporary directory.
#
# Usage: extract-seed-scripts.sh OUTDIR [NAME...]
#   NAME defaults to generate-build-certs.sh generate-node-certs.sh.
# Environment: SEEDS_DIR (default /work/shared/seeds) -- searched for the first *.txt
#   that holds the script's "**Script**:" line.
# Prints one line per script: NAME  SEED-FILE:LINE  LINES  SHA256.
# Exit: 0 done, 1 a script not found or not valid bash (bash -n), 2 usage.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: extract-seed-scripts.sh OUTDIR [NAME...]" >&2; exit 2; }
out=$1; shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(generate-build-certs.sh generate-node-certs.sh)
seeds=${SEEDS_DIR:-/work/shared/seeds}
mkdir -p "$out"

for name in "${names[@]}"; do
    marker="+**Script**: \`tools/$name\`"
    src=$(grep -lF -- "$marker" "$seeds"/*.txt 2>/dev/null | head -n 1) ||
        true
    [ -n "$src" ] || { echo "extract-seed-scripts: '$marker' not found in $seeds/*.txt" >&2; exit 1; }
    # From the marker: skip to the first "+```bash", copy up to the next "+```".
    awk -v marker="$marker" '
        !found && $0 == marker { found = NR; next }
        found && !open && $0 == "+```bash" { open = 1; start = NR + 1; next }
        open && $0 == "+```" { printf "%d\n", start > "/dev/stderr"; exit }
        open { if (substr($0, 1, 1) != "+") { print "not an added line: " NR > "/dev/stderr"; exit 3 }
               print substr($0, 2) }
    ' "$src" >"$out/$name" 2>"$out/.$name.start" || {
        cat "$out/.$name.start" >&2; exit 1; }
    start=$(cat "$out/.$name.start"); rm -f "$out/.$name.start"
    [ -s "$out/$name" ] || { echo "extract-seed-scripts: empty script $name in $src" >&2; exit 1; }
    bash -n "$out/$name" || { echo "extract-seed-scripts: $name is not valid bash" >&2; exit 1; }
    chmod 755 "$out/$name"
    printf '%s\t%s:%s\t%s lines\t%s\n' "$name" "$src" "$start" "$(wc -l <"$out/$name")" \
        "$(sha256sum "$out/$name" | cut -d' ' -f1)"
done
