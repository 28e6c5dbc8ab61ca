#!/usr/bin/env bash
# bench/pki/yq-shim.sh -- the least of mikefarah's yq v4 the seed scripts need, installed
# by bench/pki/run as "yq" first on their PATH when no yq v4 is installed (Debian's yq is
# the Python jq wrapper, which reads `yq eval EXPR FILE` as the jq filter "eval").
#
# Answers `yq eval EXPR FILE` (also `yq e`) for the simple paths the scripts ask
# (.node.ip, .node.roles[], .cluster.name, .cluster.networking.service_cidr) from a
# cache in $YQ_SHIM_CACHE. On a miss it asks the Python yq (`/usr/bin/yq -r EXPR FILE`,
# jq syntax, same answers for such paths) and stores the answer. bench/pki/run's untimed
# check run fills the cache, so in timed runs a query costs one bash start and a file
# read, less than a real yq v4 (a Go binary) would -- this flatters the seeds, not us.
# Every call is appended to $YQ_SHIM_CACHE/calls.log ("hit"/"miss", expr, file).
set -euo pipefail
case ${1-} in eval|e) shift ;; esac
[ $# -eq 2 ] || { echo "yq-shim: only 'yq eval EXPR FILE' is supported (got: $*)" >&2; exit 2; }
expr=$1 file=$2
cache=${YQ_SHIM_CACHE:?YQ_SHIM_CACHE not set}
[[ $file = /* ]] || file=$PWD/$file
key=${file//\//%}@${expr//\//%}
if [ -f "$cache/$key" ]; then
    echo "hit	$expr	$file" >>"$cache/calls.log"
    printf '%s\n' "$(<"$cache/$key")"
else
    echo "miss	$expr	$file" >>"$cache/calls.log"
    ans=$(/usr/bin/yq -r "$expr" "$file")
    printf '%s' "$ans" >"$cache/$key"
    printf '%s\n' "$ans"
fi
