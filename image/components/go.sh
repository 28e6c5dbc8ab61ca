#!/usr/bin/env bash
# Fetches the Go toolchain of the components lock (GO_VERSION) from the Go module proxy into the test
# dependency cache, ${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}/go-VERSION/ (a GOROOT):
# the module golang.org/toolchain@v0.0.1-goVERSION.linux-ARCH, which is what `go` itself downloads for
# GOTOOLCHAIN=goVERSION, checked against the sha256 in the lock (GO_SHA256_ARCH). The scripts that build
# components from the Go module proxy (coredns.sh, kubernetes.sh, pause.sh) use it, so a build does not
# depend on whatever Go a machine happens to have (Debian 12's golang is 1.19, too old).
#
# Says what it did on stderr; prints the go binary's path on stdout (the last line).
# Exit status: 0 it is there, 1 it could not be fetched, or its sha256 is not the lock's.
#
#   image/components/go.sh                                   the pinned version
#   GOPROXY=https://proxy.example image/components/go.sh     from another proxy (the first of a GOPROXY list)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The components lock: CLUSTERBOOT_LOCK (what `clusterboot binaries fetch` sets), or the one of the source tree.
lock=${CLUSTERBOOT_LOCK:-$here/../components.lock}
# shellcheck source=/dev/null
. "$lock"
version=$GO_VERSION
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
sha_var=GO_SHA256_$arch
want_sha=${!sha_var:-}
cache=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}
dir=$cache/go-$version
go=$dir/bin/go
proxy=${GOPROXY:-https://proxy.golang.org}
proxy=${proxy%%,*}
proxy=${proxy%%|*}
[ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
module=golang.org/toolchain/@v/v0.0.1-go$version.linux-$arch.zip

say() { echo "go: $*" >&2; }

is_current() {
        [ -x "$go" ] && [ "$("$go" env GOVERSION 2>/dev/null)" = "go$version" ]
}

if is_current; then
        say "current: go$version at $go"
        echo "$go"
        exit 0
fi
[ -n "$want_sha" ] || { say "no sha256 for linux-$arch in $lock ($sha_var)"; exit 1; }
mkdir -p "$cache" || exit 1
exec 9>"$cache/.go-$version.lock"
flock -w 600 9 || { say "timed out waiting for another fetch ($cache/.go-$version.lock)"; exit 1; }
if is_current; then
        say "current: go$version at $go (fetched meanwhile by another run)"
        echo "$go"
        exit 0
fi

# Into a scratch folder first: a failed or interrupted fetch leaves no GOROOT that looks finished.
tmp=$(mktemp -d "$cache/.go-$version.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
t0=$(date +%s)
say "fetching $proxy/$module"
if ! curl -sSfL --retry 3 --connect-timeout 20 -o "$tmp/go.zip" "$proxy/$module" 2>"$tmp/curl.log"; then
        say "cannot fetch $proxy/$module: $(tail -n 1 "$tmp/curl.log")"
        exit 1
fi
got_sha=$(sha256sum "$tmp/go.zip" | cut -d' ' -f1)
if [ "$got_sha" != "$want_sha" ]; then
        say "$module has sha256 $got_sha, but the components lock pins $want_sha: refused"
        exit 1
fi
# The zip holds one folder, golang.org/toolchain@v0.0.1-goVERSION.linux-ARCH/, which is the GOROOT.
if ! unzip -q "$tmp/go.zip" -d "$tmp/x" 2>"$tmp/unzip.log"; then
        say "cannot unpack $module: $(tail -n 1 "$tmp/unzip.log")"
        exit 1
fi
root=$tmp/x/golang.org/toolchain@v0.0.1-go$version.linux-$arch
[ -x "$root/bin/go" ] || { say "$module has no bin/go"; exit 1; }
rm -rf "$dir" && mv "$root" "$dir" || exit 1
if ! is_current; then
        say "$go does not say go$version: $("$go" version 2>&1)"
        exit 1
fi
say "fetched go$version (linux-$arch, sha256 checked) in $(($(date +%s) - t0)) s: $dir"
echo "$go"
