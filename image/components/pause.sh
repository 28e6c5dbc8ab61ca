#!/usr/bin/env bash
# Builds the pod sandbox ("pause") image that the rendered containerd config names (sandbox_image =
# registry.k8s.io/pause:3.9 for Kubernetes 1.29) from source, since no registry is reachable: Kubernetes'
# own build/pause/linux/pause.c, taken from the k8s.io/kubernetes module of the components lock
# (KUBERNETES_VERSION) through the Go module proxy, compiled statically with this machine's gcc the way
# build/pause/Makefile does, and packed by hand into an OCI image layout tarball (sha256 digests, a gzip
# layer with /pause, entrypoint /pause as user 65535 like the published image). Into the test dependency
# cache, ${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}/pause-TAG/: pause (the binary) and
# pause-TAG.oci.tar. Everything is reproducible (fixed times, sorted, numeric owners), so a second build
# gives the same digests; a tarball that is there is kept ("current").
#
# When a containerd answers (CONTAINERD_ADDRESS, or /run/containerd/containerd.sock), the image is imported
# into its k8s.io namespace (the CRI plugin's) under registry.k8s.io/pause:TAG, unless it already has that
# image with the same manifest digest.
#
# Says what it did on stderr; prints the tarball's path on stdout (the last line).
# Exit status: 0 done, 1 failed, 2 a tool is missing (gcc with a static libc, Go).
#
#   image/components/pause.sh                   pause:3.9
#   PAUSE_VERSION=3.10 image/components/pause.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The components lock: CLUSTERBOOT_LOCK (what `clusterboot binaries fetch` sets), or the one of the source tree.
lock=${CLUSTERBOOT_LOCK:-$here/../components.lock}
# shellcheck source=/dev/null
. "$lock"
tag=${PAUSE_VERSION:-3.9}
# build/pause/Makefile: REV ?= $(shell git describe --contains --always --match='v*'); a module has no git.
rev=${PAUSE_REV:-clusterboot}
image=registry.k8s.io/pause:$tag
# The pinned Go of the lock (go.sh), unless GO= names another.
go=${GO:-}
cache=${CLUSTERBOOT_DEPS_CACHE:-/var/cache/clusterboot-test/deps}
dir=$cache/pause-$tag
tarball=$dir/pause-$tag.oci.tar
address=${CONTAINERD_ADDRESS:-/run/containerd/containerd.sock}

say() { echo "pause: $*" >&2; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# The tarball is there and whole: its index names a manifest whose blob is inside it.
is_current() {
        [ -f "$tarball" ] && [ -f "$dir/manifest.digest" ] &&
                tar -xOf "$tarball" index.json 2>/dev/null | grep -q "\"$(cat "$dir/manifest.digest")\""
}

# import: into containerd's k8s.io namespace when a containerd answers; a no-op when it has this manifest.
import() {
        local digest have
        command -v ctr >/dev/null 2>&1 || { say "no ctr: not imported"; return 0; }
        if ! ctr --address "$address" version >/dev/null 2>&1; then
                say "no containerd at $address: not imported"
                return 0
        fi
        digest=$(cat "$dir/manifest.digest")
        have=$(ctr --address "$address" -n k8s.io images ls "name==$image" 2>/dev/null | awk 'NR > 1 { print $3 }')
        if [ "$have" = "$digest" ]; then
                say "containerd at $address already has $image ($digest)"
                return 0
        fi
        if ! ctr --address "$address" -n k8s.io images import --all-platforms "$tarball" >"$dir/import.log" 2>&1; then
                say "ctr images import failed:"
                sed 's/^/  /' "$dir/import.log" >&2
                return 1
        fi
        have=$(ctr --address "$address" -n k8s.io images ls "name==$image" 2>/dev/null | awk 'NR > 1 { print $3 }')
        [ "$have" = "$digest" ] || { say "after the import containerd has '$have' for $image, want $digest"; return 1; }
        say "imported $image ($digest) into containerd at $address (namespace k8s.io)"
}

if is_current; then
        say "current: $image at $tarball (manifest $(cat "$dir/manifest.digest"))"
        import || exit 1
        echo "$tarball"
        exit 0
fi
command -v gcc >/dev/null 2>&1 || { say "no gcc"; exit 2; }
if [ -z "$go" ]; then
        go=$("$here/go.sh") || { say "no Go: go.sh could not fetch it (or set GO=)"; exit 2; }
fi
[ -x "$go" ] || { say "no Go at $go (set GO=), needed to fetch k8s.io/kubernetes for pause.c"; exit 2; }

mkdir -p "$dir" || exit 1
exec 9>"$dir/.lock"
flock -w 600 9 || { say "timed out waiting for another build ($dir/.lock)"; exit 1; }
if is_current; then
        say "current: $image at $tarball (built meanwhile by another run)"
        import || exit 1
        echo "$tarball"
        exit 0
fi
t0=$(date +%s)

# --- pause.c, from the k8s.io/kubernetes module (already in the cache when image/components/kubernetes.sh ran) --
kdir=$cache/kubernetes-$KUBERNETES_VERSION
src=$(cd / && env GOPATH="$kdir/gopath" GOCACHE="$kdir/gocache" GOMODCACHE="$kdir/gomodcache" GOTOOLCHAIN=local \
        GOFLAGS=-modcacherw "$go" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" 2>"$dir/download.log" |
        sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')/build/pause/linux/pause.c
if [ ! -f "$src" ]; then
        say "cannot get build/pause/linux/pause.c of k8s.io/kubernetes@$KUBERNETES_VERSION:"
        sed 's/^/  /' "$dir/download.log" >&2
        exit 1
fi

# --- the binary (build/pause/Makefile: $(CC) -Os -Wall -Werror -static -DVERSION=v$(TAG)-$(REV)) -------
work=$(mktemp -d "$dir/.build.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
if ! gcc -Os -Wall -Werror -static -DVERSION="v$tag-$rev" -o "$work/pause" "$src" >"$dir/gcc.log" 2>&1; then
        say "gcc failed on $src:"
        sed 's/^/  /' "$dir/gcc.log" >&2
        exit 1
fi
strip "$work/pause" 2>/dev/null
# A static binary: the image has nothing else (no libc, no loader).
if ldd "$work/pause" >/dev/null 2>&1 && ! ldd "$work/pause" 2>&1 | grep -q "not a dynamic"; then
        say "$work/pause is not static"
        exit 1
fi
"$work/pause" -v >"$work/version" 2>&1 || true

# --- the OCI image layout ------------------------------------------------------------------------------
oci=$work/oci
mkdir -p "$oci/blobs/sha256" "$work/rootfs" || exit 1
install -m 0755 "$work/pause" "$work/rootfs/pause" || exit 1
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -C "$work/rootfs" -cf "$work/layer.tar" pause || exit 1
diff_id=$(sha "$work/layer.tar")
gzip -9 -n -c "$work/layer.tar" >"$work/layer.tar.gz" || exit 1
layer=$(sha "$work/layer.tar.gz")
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$oci/blobs/sha256/$layer"

# What the published image's config says (entrypoint /pause, user 65535:65535), for linux/amd64 here.
arch=$("$go" env GOARCH 2>/dev/null || echo amd64)
printf '%s' '{"architecture":"'"$arch"'","os":"linux","created":"1970-01-01T00:00:00Z",'\
'"config":{"User":"65535:65535","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],'\
'"Entrypoint":["/pause"],"WorkingDir":"/"},'\
'"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff_id"'"]},'\
'"history":[{"created":"1970-01-01T00:00:00Z","created_by":"image/components/pause.sh: gcc -Os -static build/pause/linux/pause.c of k8s.io/kubernetes@'"$KUBERNETES_VERSION"'"}]}' \
        >"$work/config.json"
config=$(sha "$work/config.json")
config_size=$(stat -c %s "$work/config.json")
mv "$work/config.json" "$oci/blobs/sha256/$config"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'\
'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config"'","size":'"$config_size"'},'\
'"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer"'","size":'"$layer_size"'}]}' \
        >"$work/manifest.json"
manifest=$(sha "$work/manifest.json")
manifest_size=$(stat -c %s "$work/manifest.json")
mv "$work/manifest.json" "$oci/blobs/sha256/$manifest"

printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
# io.containerd.image.name is the name `ctr images import` gives the image; ref.name is the OCI tag.
printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{'\
'"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest"'","size":'"$manifest_size"','\
'"platform":{"architecture":"'"$arch"'","os":"linux"},'\
'"annotations":{"io.containerd.image.name":"'"$image"'","org.opencontainers.image.ref.name":"'"$tag"'"}}]}' \
        >"$oci/index.json"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$oci" -cf "$work/image.tar" \
        oci-layout index.json blobs || exit 1
mv -f "$work/pause" "$dir/pause" && mv -f "$work/image.tar" "$tarball" || exit 1
echo "sha256:$manifest" >"$dir/manifest.digest"
say "built $image in $(($(date +%s) - t0)) s from $src ($(cat "$work/version")):"
say "  pause $(stat -c %s "$dir/pause") bytes (static); $tarball $(stat -c %s "$tarball") bytes; manifest sha256:$manifest"
import || exit 1
echo "$tarball"
