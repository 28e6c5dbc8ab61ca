#!/usr/bin/env bash
# no-secret-in.sh BUNDLE PATH...: fails when a secret of the bundle is in a file under PATH (logs, console
# output, reports a test collected). The secrets: the join secret, the bootstrap token, every cephx key of
# the keyrings, every MQTT password, and of every private key its first line of base64. A hit is named by
# file, line and which secret, never shown. Prints one line either way; exit 0 none, 1 a hit, 2 usage (BUNDLE
# holds none of those secrets).
set -u
[ $# -ge 2 ] && [ -d "$1" ] || { echo "usage: no-secret-in.sh BUNDLE PATH..." >&2; exit 2; }
bundle=$1
shift
labels=() values=()
add() { [ ${#2} -ge 8 ] && labels+=("$1") && values+=("$2"); } # LABEL VALUE (short values would match by chance)

# An item the bundle lacks (a cluster without MQTT users) is simply not looked for.
add "the join secret" "$(head -n 1 "$bundle/join-secret" 2>/dev/null)"
add "the bootstrap token" "$(head -n 1 "$bundle/bootstrap-token" 2>/dev/null)"
for f in "$bundle"/ceph/*.keyring; do
    [ -f "$f" ] || continue
    while read -r k; do add "the cephx key of $(basename "$f")" "$k"; done < <(sed -n 's/^[[:space:]]*key = //p' "$f")
done
if [ -f "$bundle/mqtt/credentials" ]; then
    while IFS=: read -r user pw; do add "the MQTT password of $user" "$pw"; done <"$bundle/mqtt/credentials"
fi
while read -r f; do
    add "the private key $(realpath --relative-to="$bundle" "$f")" "$(grep -v '^-----' "$f" | head -n 1)"
done < <(find "$bundle" -name '*.key' -type f)

# A folder with none of them (a wrong path) would pass any test: it is a usage error.
[ ${#values[@]} -gt 0 ] || { echo "no-secret-in.sh: $bundle holds no secret to look for" >&2; exit 2; }
files=$(find "$@" -type f 2>/dev/null | wc -l)
hits=0
for i in "${!values[@]}"; do
    while IFS=: read -r file line _; do
        [ -n "$file" ] || continue
        echo "$file:$line: ${labels[$i]}"
        hits=$((hits + 1))
    done < <(grep -rnHF -e "${values[$i]}" "$@" 2>/dev/null | cut -d: -f1,2 | head -n 5)
done
if [ "$hits" = 0 ]; then
    echo "none of ${#values[@]} secrets in $files files"
else
    echo "$hits lines hold secrets (above), in $files files"
    exit 1
fi
