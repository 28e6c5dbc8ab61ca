#!/usr/bin/env bash
# Installs what clusterboot needs to build (and, with --tests, to run its tests) on Debian 12 or later.
# Run as root; safe to re-run.
set -euo pipefail

# What building needs.
packages=(
    build-essential meson ninja-build pkg-config python3
    libyaml-dev libjansson-dev libssl-dev libsystemd-dev libcurl4-openssl-dev libevent-dev
)
# What the tests need besides: the real programs that read what clusterboot renders.
if [ "${1:-}" = --tests ]; then
    packages+=(
        clang libclang-rt-14-dev        # libFuzzer; its and the sanitizers' runtimes are in libclang-rt-14-dev
        curl unzip ca-certificates      # the Go toolchain from the Go module proxy (image/components/go.sh)
        time hyperfine                  # bench/
        openssl iproute2 util-linux     # test certificates, network namespaces, unshare
        faketime                        # a node whose clock is wrong (tests/bootstrap)
        systemd                         # systemd-analyze verify, systemctl --root
        mosquitto mosquitto-clients     # the rendered mosquitto.conf and ACL
        ceph-mon ceph-mgr ceph-osd ceph-common # ceph-mon --mkfs, the manager and OSDs from the rendered ceph.conf
        etcd-server etcd-client         # etcd from the rendered environment file
        containerd runc                 # the rendered config.toml, and the kubelet's runtime (tests/kubernetes)
        containernetworking-plugins iptables # the bridge CNI that containerd's rendered template configures
        jq procps                       # tests/kubernetes: the API's JSON, the kubelet's sysctls saved and restored
        dnsutils                        # dig, against CoreDNS (tests/coredns)
        default-jre-headless maven      # Kafka from Maven Central (image/components/kafka.sh, tests/kafka)
        debootstrap systemd-container   # a Debian image booted by systemd-nspawn (tests/e2e)
        fdisk dosfstools mtools e2fsprogs squashfs-tools cpio # `clusterboot image build`'s tools (tests/image)
        grub-common grub-pc-bin grub-efi-amd64-bin xorriso # and its cluster.iso's
        qemu-system-x86 ovmf            # its outputs booted under QEMU, UEFI by OVMF (tests/image)
    )
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The Go toolchain that builds CoreDNS, Kubernetes and the pause image (image/components/): the pinned one from
# the Go module proxy, not whatever Go this machine has (Debian 12's golang is 1.19, too old).
fetch_go() {
    [ "${1:-}" = --tests ] || return 0
    "$(dirname "$0")/../image/components/go.sh" >/dev/null ||
        echo "setup-deps: no Go toolchain (above): the tiers that build CoreDNS and Kubernetes will fail" >&2
}

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-deps: all ${#packages[@]} packages present"
    fetch_go "${1:-}"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "setup-deps: missing packages: ${missing[*]}; run this as root (or install them)" >&2
    exit 1
fi
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-deps: installed ${#missing[@]} packages in ${SECONDS} s"
fetch_go "${1:-}"
