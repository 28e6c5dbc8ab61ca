#!/usr/bin/env bash
# Builds the flannel of the components lock (FLANNEL_VERSION) from the Go module proxy into the test
# dependency cache, ${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}/flannel-VERSION/:
# bin/flanneld, with its GOPATH, GOCACHE and GOMODCACHE beside it, so that nothing lands in the repository
# or in the user's Go folders. A binary that is there and says the pinned version is kept ("current").
# flanneld runs as a host service on every kubelet node (--kube-subnet-mgr, vxlan), not as a DaemonSet.
#
# Built the way flannel's Makefile (dist/flanneld) does: -ldflags '-s -w -X
# github.com/flannel-io/flannel/pkg/version.Version=TAG -extldflags "-static"', and CGO_ENABLED=1 on amd64
# only: there the UDP backend's proxy is C (pkg/backend/udp/cproxy_amd64.go), and without cgo the package
# does not compile (undefined: runCProxy), although we use vxlan. So amd64 needs gcc and a static libc
# (build-essential); other architectures build with CGO_ENABLED=0 as upstream does. Upstream links against
# musl (images/Dockerfile); against glibc, -tags netgo,osusergo keeps name and user lookups in Go, since a
# static glibc cannot load the NSS modules it would ask for. No replace directives in flannel's go.mod, so
# `go install module@version` builds exactly its go.sum.
#
# Says what it did on stderr; prints the binary's path on stdout (the last line), for the tests.
# Exit status: 0 the binary is there, 1 it could not be built (the go error is shown), 2 no Go (or no gcc
# on amd64).
#
#   image/components/flannel.sh            the pinned version
#   FLANNEL_VERSION=v0.26.0 image/components/flannel.sh   another one, to try a version before pinning it
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
want=${FLANNEL_VERSION:-}
# The components lock: CLUSTERBOOT_LOCK (what `clusterboot binaries fetch` sets), or the one of the source tree.
lock=${CLUSTERBOOT_LOCK:-$here/../components.lock}
# shellcheck source=/dev/null
. "$lock"
version=${want:-$FLANNEL_VERSION}
# The pinned Go of the lock (go.sh), unless GO= names another.
go=${GO:-}
cache=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}
dir=$cache/flannel-$version
bin=$dir/bin/flanneld

say() { echo "flannel: $*" >&2; }

# `flanneld --version` prints the stamped version ("v0.25.7") on stderr, and nothing else.
is_current() {
        [ -x "$bin" ] && [ "$("$bin" --version 2>&1 | head -n 1)" = "$version" ]
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
goarch=$("$go" env GOARCH) || exit 2
cgo=0
if [ "$goarch" = amd64 ]; then
        cgo=1
        command -v gcc >/dev/null 2>&1 || { say "no gcc: flannel's amd64 build needs cgo (build-essential)"; exit 2; }
fi

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
ldflags="-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$version"
[ "$cgo" = 1 ] && ldflags+=" -extldflags -static"
say "building github.com/flannel-io/flannel@$version with $("$go" env GOVERSION) (CGO_ENABLED=$cgo) into $dir (nice -n 10)"
t0=$(date +%s)
# GOTOOLCHAIN=local: a go.mod that asks for a newer toolchain fails here instead of fetching one.
# -modcacherw: the module cache can be removed with rm -rf (go makes it read-only otherwise).
if ! env GOBIN="$tmpbin" GOPATH="$dir/gopath" GOCACHE="$dir/gocache" GOMODCACHE="$dir/gomodcache" \
        GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -modcacherw" CGO_ENABLED=$cgo \
        nice -n 10 "$go" install -trimpath -tags netgo,osusergo -ldflags "$ldflags" \
        "github.com/flannel-io/flannel@$version" >"$dir/build.log" 2>&1; then
        say "go install github.com/flannel-io/flannel@$version failed after $(($(date +%s) - t0)) s:"
        sed 's/^/  /' "$dir/build.log" | tail -n 40 >&2
        exit 1
fi
t1=$(date +%s)
# go install names the binary after the module's last element; the service runs flanneld.
# A host service needs no libc of the host's: check that the cgo link really was static.
if ldd "$tmpbin/flannel" >/dev/null 2>&1 && ! ldd "$tmpbin/flannel" 2>&1 | grep -q "not a dynamic"; then
        say "the built flanneld is not static: $(ldd "$tmpbin/flannel" 2>&1 | head -n 1)"
        exit 1
fi
mkdir -p "$dir/bin" && mv -f "$tmpbin/flannel" "$bin" || exit 1
if ! is_current; then
        say "the built binary does not say $version: $("$bin" --version 2>&1 | head -n 1)"
        exit 1
fi
say "built $version in $((t1 - t0)) s: $bin ($(stat -c %s "$bin") bytes)"
echo "$bin"
