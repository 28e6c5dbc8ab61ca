#!/usr/bin/env bash
# Builds the CoreDNS of the components lock (COREDNS_VERSION) from the Go module proxy into the test
# dependency cache, ${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}/coredns-VERSION/:
# bin/coredns, with its GOPATH, GOCACHE and GOMODCACHE beside it, so that nothing lands in the repository
# or in the user's Go folders. A binary that is there and says the pinned version is kept ("current").
#
# Says what it did on stderr; prints the binary's path on stdout (the last line), for the tests.
# Exit status: 0 the binary is there, 1 it could not be built (the go error is shown), 2 no Go.
#
#   image/components/coredns.sh            the pinned version
#   COREDNS_VERSION=v1.11.3 image/components/coredns.sh   another one, to try a version before pinning it
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=${COREDNS_VERSION:-}
# The components lock: CLUSTERBOOT_LOCK (what `clusterboot binaries fetch` sets), or the one of the source tree.
lock=${CLUSTERBOOT_LOCK:-$here/../components.lock}
# shellcheck source=/dev/null
. "$lock"
version=${want:-$COREDNS_VERSION}
# The pinned Go of the lock (go.sh), unless GO= names another.
go=${GO:-}
cache=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}
dir=$cache/coredns-$version
bin=$dir/bin/coredns

say() { echo "coredns: $*" >&2; }

# `coredns -version` prints "CoreDNS-1.11.1" first.
is_current() {
        [ -x "$bin" ] && [ "$("$bin" -version 2>/dev/null | head -n 1)" = "CoreDNS-${version#v}" ]
}

if is_current; then
        say "current: $version at $bin ($(stat -c %s "$bin") bytes)"
        echo "$bin"
        exit 0
fi
if [ -z "$go" ]; then
        go=$("$here/go.sh") || { say "no Go: go.sh could not fetch it (or set GO=)"; exit 2; }
fi
[ -x "$go" ] || { say "no Go at $go (set GO=)"; exit 2; }

mkdir -p "$dir" || exit 1
# Two tests that start at once build once: the second waits here, then finds the binary current.
exec 9>"$dir/.lock"
flock -w 1800 9 || { say "timed out waiting for another build ($dir/.lock)"; exit 1; }
if is_current; then
        say "current: $version at $bin (built meanwhile by another run)"
        echo "$bin"
        exit 0
fi

# Into a scratch GOBIN first: a failed or interrupted build leaves no binary that looks finished.
rm -rf "$dir"/.bin.* # left by a run that was killed
tmpbin=$(mktemp -d "$dir/.bin.XXXXXX") || exit 1
trap 'rm -rf "$tmpbin"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
say "building github.com/coredns/coredns@$version with $("$go" env GOVERSION) into $dir (nice -n 10)"
t0=$(date +%s)
# GOTOOLCHAIN=local: a go.mod that asks for a newer toolchain fails here instead of fetching one.
# -modcacherw: the module cache can be removed with rm -rf (go makes it read-only otherwise).
if ! env GOBIN="$tmpbin" GOPATH="$dir/gopath" GOCACHE="$dir/gocache" GOMODCACHE="$dir/gomodcache" \
        GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -modcacherw" CGO_ENABLED=0 \
        nice -n 10 "$go" install -trimpath "github.com/coredns/coredns@$version" >"$dir/build.log" 2>&1; then
        say "go install github.com/coredns/coredns@$version failed after $(($(date +%s) - t0)) s:"
        sed 's/^/  /' "$dir/build.log" | tail -n 40 >&2
        exit 1
fi
t1=$(date +%s)
mkdir -p "$dir/bin" && mv -f "$tmpbin/coredns" "$bin" || exit 1
if ! is_current; then
        say "the built binary does not say CoreDNS-${version#v}: $("$bin" -version 2>&1 | head -n 1)"
        exit 1
fi
say "built $version in $((t1 - t0)) s: $bin ($(stat -c %s "$bin") bytes)"
echo "$bin"
