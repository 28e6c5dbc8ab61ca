#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through wait_for and check look unreachable
# The real CoreDNS (image/components/coredns.sh builds the pinned version) serving exactly what clusterboot
# renders for examples/homelab's dns-server master-01: /etc/coredns/Corefile and /etc/coredns/hosts.ZONE,
# run UNCHANGED. The Corefile names absolute paths, so CoreDNS runs in its own mount namespace where the
# rendered /etc/coredns is bind-mounted at /etc/coredns (over an overlay of /etc when the machine has no
# /etc/coredns, so that nothing is created outside the test's work folder).
#
# Network: a namespace holding only a bridge; the DNS server's namespace with the node's address
# (192.168.1.10/24); the forwarder's namespace with the inventory's forwarder (192.168.1.1/24), where a
# second CoreDNS with a hand-written Corefile serves the zone example.test; and a client namespace
# (192.168.1.200/24, an address no node uses) that asks with dig. Nothing is added to the root namespace
# and no address outside these namespaces is contacted.
#
# What is asserted: every node of the inventory resolves, by its FQDN under the zone and by its short name
# through the search domain the renderer gives the nodes (Domains= of 10-clusterboot.network); a name
# outside the zone is forwarded and answered by the upstream; a name in the zone that is no node is
# NXDOMAIN without asking the upstream; the health/ready endpoints when the Corefile enables them (their
# ports free when not). Kubernetes' cluster domain has a block of its own (the kubernetes plugin, with the
# kubeconfig that `pki node` makes, given as the credential the unit's rendered drop-in loads) and is never
# forwarded; no API server runs here, so its answers are tests/kubernetes' affair.
#
# Usage: test-coredns.sh CLUSTERBOOT EXAMPLES_DIR
cb=$(realpath "${1:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")
inv=$(realpath "${2:?usage: $0 CLUSTERBOOT EXAMPLES_DIR}")/homelab
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/pki-e2e/lib.sh
. "$here/../pki-e2e/lib.sh"

# Before any test point, a test that cannot run here says so in its plan: "1..0 # SKIP REASON".
skip_all() {
        if [ "$n" = 0 ]; then echo "1..0 # SKIP $1"; else skip "$1" && echo "1..$n"; fi
        exit 0
}

need ip unshare mount python3 timeout

# --- the real CoreDNS ---------------------------------------------------------------------------------
# A first build takes minutes (the module cache stays for the next run); bounded below meson's timeout.
build_timeout=${COREDNS_BUILD_TIMEOUT:-780}
timeout -k 10 "$build_timeout" "$here/../../image/components/coredns.sh" >"$work/deps.out" 2>"$work/deps.log"
rc=$?
coredns=$(tail -n 1 "$work/deps.out")
sed 's/^/# /' "$work/deps.log" | tail -n 20
[ "$rc" = 124 ] && skip_all "building CoreDNS took more than ${build_timeout} s (run image/components/coredns.sh alone once)"
if [ "$rc" != 0 ] || [ ! -x "$coredns" ]; then
        skip_all "CoreDNS cannot be had here: image/components/coredns.sh failed ($rc)"
fi

# dig, from Debian's dnsutils: installed here when missing, as root with a working apt.
dig_missing=
if ! have dig; then
        if have apt-get && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
                -o DPkg::Lock::Timeout=120 --no-install-recommends dnsutils >"$work/apt.log" 2>&1; then
                note "installed dnsutils (dig)"
        else
                dig_missing="dig is not installed and apt-get install dnsutils failed: $(tail -n 1 "$work/apt.log" 2>/dev/null)"
        fi
        have dig || dig_missing=${dig_missing:-dig is not installed}
fi

# --- what clusterboot makes -----------------------------------------------------------------------
if ! "$cb" plan --inventory "$inv" --output json >"$work/plan.json" 2>"$work/plan.log"; then
        not_ok "plan --output json for examples/homelab" "$work/plan.log"
        finish
fi
# plan's JSON as shell words: the zone, port, forwarders, servers and every node's name, hostname and IP.
if ! python3 - "$work/plan.json" >"$work/plan.sh" 2>"$work/plan.log" <<'EOF'; then
import json, shlex, sys
p = json.load(open(sys.argv[1]))
d = p["dns"]
q = shlex.quote
print(f"zone={q(d['zone'])} port={int(d['port'])} node_cidr={q(p['networking']['node_cidr'])}")
print("forwarders=(" + " ".join(q(f) for f in d["forwarders"]) + ")")
print("servers=(" + " ".join(q(s["node"]) for s in d["servers"]) + ")")
for n in p["nodes"]:
    print(f"node_ip[{q(n['name'])}]={q(n['ip'])} node_host[{q(n['name'])}]={q(n['hostname'])}")
EOF
        not_ok "plan --output json has dns.zone, dns.port, dns.forwarders, dns.servers and the nodes" "$work/plan.log"
        finish
fi
zone='' port='' node_cidr='' forwarders=() servers=()
declare -A node_ip=() node_host=()
# shellcheck source=/dev/null
. "$work/plan.sh"
node=master-01
addr=${node_ip[$node]:-}
prefix=${node_cidr#*/}
client=192.168.1.200
upstream=${forwarders[0]:-}
if [[ " ${servers[*]} " == *" $node "* ]] && [ -n "$addr" ] && [ -n "$upstream" ] &&
        [[ " ${node_ip[*]} ${forwarders[*]} " != *" $client "* ]]; then
        ok "plan: $node ($addr) is the dns server of zone $zone (port $port), forwarding to ${forwarders[*]}"
else
        not_ok "plan: expected $node among the dns servers (${servers[*]}), a forwarder (${forwarders[*]}), and $client unused"
        finish
fi

root=$work/root
check "$node: render" "$work/render.log" "$cb" render --inventory "$inv" --node "$node" --root "$root"
corefile=$root/etc/coredns/Corefile
hostsfile=$root/etc/coredns/hosts.$zone
if [ -f "$corefile" ] && [ -f "$hostsfile" ]; then
        ok "render wrote /etc/coredns/Corefile and /etc/coredns/hosts.$zone (docs/first-boot.md)"
else
        not_ok "render did not write /etc/coredns/Corefile and /etc/coredns/hosts.$zone" "$work/render.log"
        finish
fi
note "--- rendered Corefile"
sed 's/^/#   /' "$corefile"
note "--- rendered hosts.$zone"
sed 's/^/#   /' "$hostsfile"
sum_before=$(sha256sum "$corefile" "$hostsfile")

# Every absolute path the Corefile names must be a rendered file below /etc/coredns, the one folder that
# the server's mount namespace replaces, or a credential that the unit loads (LoadCredential= of the drop-in
# render writes).
dropin=$root/etc/systemd/system/coredns.service.d/10-kubernetes.conf
bad=()
while read -r p; do
        if [[ $p == /run/credentials/coredns.service/* ]]; then
                grep -q "^LoadCredential=${p##*/}:" "$dropin" 2>/dev/null || bad+=("$p")
        else
                [[ $p == /etc/coredns/* ]] && [ -f "$root$p" ] || bad+=("$p")
        fi
done < <(sed 's/#.*//' "$corefile" | grep -oE '(^|[[:space:]])/[^[:space:]{}]+' | tr -d ' \t' | sort -u)
if [ ${#bad[@]} = 0 ]; then ok "every path the Corefile names is a rendered file in /etc/coredns or a credential coredns.service loads"; else
        not_ok "the Corefile names paths that render did not write below /etc/coredns, nor coredns.service loads: ${bad[*]}"; fi
# The credential: the kubeconfig `pki node` makes for the dns server (user system:coredns), from a bundle of
# this test's own.
check "$node: secrets init and pki node (its CoreDNS's kubeconfig, /etc/kubernetes/coredns.conf)" "$work/pki.log" \
        bash -c "'$cb' secrets init --inventory '$inv' --out '$work/bundle' &&
                 '$cb' pki node --inventory '$inv' --node '$node' --secrets '$work/bundle' --root '$root' &&
                 [ -s '$root/etc/kubernetes/coredns.conf' ]"

# The search domain that the node's resolver gets, for short names.
search=$(sed -n 's/^Domains=//p' "$root/etc/systemd/network/10-clusterboot.network" 2>/dev/null | awk '{print $1}')
[ -n "$search" ] || search=$(sed -n 's/^dns-search=\([^;]*\);.*/\1/p' "$root"/etc/NetworkManager/system-connections/* 2>/dev/null | head -n 1)

# --- the network ----------------------------------------------------------------------------------
brns=${tag}br dns_ns=${tag}dns up_ns=${tag}up cl_ns=${tag}cl
if { ns_bridge "$brns" && ns_add "$dns_ns" && ns_add "$up_ns" && ns_add "$cl_ns" &&
        ns_lan "$brns" "$dns_ns" "$addr/$prefix" p-dns &&
        ns_lan "$brns" "$up_ns" "$upstream/$prefix" p-up &&
        ns_lan "$brns" "$cl_ns" "$client/$prefix" p-cl; } 2>"$work/net.log"; then
        ok "namespaces on one bridge: $node $addr/$prefix, forwarder $upstream/$prefix, client $client/$prefix"
else
        not_ok "network namespaces" "$work/net.log"
        finish
fi

# --- the upstream: a second CoreDNS at the forwarder's address --------------------------------------
# It answers example.test from a zone file, refuses every other name, and logs every query it gets.
up=$work/upstream
mkdir -p "$up"
cat >"$up/db.example.test" <<EOF
\$ORIGIN example.test.
@       3600 IN SOA ns.example.test. hostmaster.example.test. 1 7200 3600 1209600 3600
        3600 IN NS  ns.example.test.
ns      3600 IN A   $upstream
www     3600 IN A   192.0.2.53
EOF
cat >"$up/Corefile" <<EOF
example.test:$port {
    bind $upstream
    file $up/db.example.test
    log
}
.:$port {
    bind $upstream
    log
    acl {
        block
    }
}
EOF
ip netns exec "$up_ns" "$coredns" -conf "$up/Corefile" >"$work/upstream.log" 2>&1 &
up_pid=$!
pids+=("$up_pid")
if wait_tcp "$up_ns" "$upstream" "$port" 15 "$up_pid"; then
        ok "upstream CoreDNS answers on $upstream:$port (zone example.test)"
else
        not_ok "upstream CoreDNS does not start" "$work/upstream.log"
        finish
fi

# --- the rendered server --------------------------------------------------------------------------
# start_server ROOT LOG: CoreDNS on the rendered ROOT/etc/coredns; sets dns_pid. In its mount namespace:
# /etc/coredns is the rendered folder. When the machine has no /etc/coredns to mount over, /etc becomes
# an overlay whose writable layer is a tmpfs of that namespace. /run is a tmpfs of that namespace holding
# what systemd would give the unit: ROOT/etc/kubernetes/coredns.conf as the credential "kubeconfig".
start_server() {
        local ovl
        ovl=$(mktemp -d "$work/ovl.XXXXXX")
        # shellcheck disable=SC2016 # expanded by the inner bash
        ip netns exec "$dns_ns" unshare -m --propagation private bash -c '
                set -e
                if [ ! -d /etc/coredns ]; then
                        mount -t tmpfs cbt-ovl "$1"
                        mkdir "$1/upper" "$1/work"
                        mount -t overlay cbt-etc -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc
                        mkdir /etc/coredns
                fi
                mount --bind "$2" /etc/coredns
                mount -t tmpfs cbt-run /run
                mkdir -p /run/credentials/coredns.service
                if [ -f "$4" ]; then cp "$4" /run/credentials/coredns.service/kubeconfig; fi
                exec "$3" -conf /etc/coredns/Corefile' _ "$ovl" "$1/etc/coredns" "$coredns" \
                "$1/etc/kubernetes/coredns.conf" >"$2" 2>&1 &
        dns_pid=$!
        pids+=("$dns_pid")
}
start_server "$root" "$work/coredns.log"
if wait_tcp "$dns_ns" "$addr" "$port" 15 "$dns_pid" && sleep 0.5 && kill -0 "$dns_pid" 2>/dev/null; then
        ok "CoreDNS $("$coredns" -version | head -n 1) runs the rendered Corefile unchanged on $addr:$port"
else
        not_ok "CoreDNS does not start with the rendered Corefile (-conf /etc/coredns/Corefile)" "$work/coredns.log"
        finish
fi
note "$(head -n 20 "$work/coredns.log" | tr '\n' '|')"

# --- questions ------------------------------------------------------------------------------------
# ask NS SERVER NAME TYPE [DIG_OPTION...]: prints "STATUS ANSWER..." (answers sorted); the whole dig
# output goes to $work/last-dig.log.
ask() {
        local ns=$1 server=$2 name=$3 type=$4 out status ans
        shift 4
        out=$(ip netns exec "$ns" dig @"$server" -p "$port" +time=2 +tries=2 +noall +comments +answer "$@" \
                "$name" "$type" 2>&1)
        printf '%s\n' "\$ dig @$server -p $port $* $name $type" "$out" >"$work/last-dig.log"
        status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out" | head -n 1)
        ans=$(awk -v t="$type" '$1 !~ /^;/ && NF >= 5 && $4 == t {print $5}' <<<"$out" | sort | xargs)
        echo "${status:-NOANSWER}${ans:+ $ans}"
}
# expect NAME WANT NS SERVER QNAME TYPE [DIG_OPTION...]: one test point, WANT is ask's output.
expect() {
        local name=$1 want=$2 got
        shift 2
        if [ -n "$dig_missing" ]; then skip "$name ($dig_missing)"; return; fi
        got=$(ask "$@")
        if [ "$got" = "$want" ]; then ok "$name"; else
                cp "$work/last-dig.log" "$work/dig-$((n + 1)).log"
                not_ok "$name: got '$got', want '$want'" "$work/dig-$((n + 1)).log"
        fi
}
# upstream_saw QNAME: the upstream's log has a query for QNAME.
upstream_saw() { grep -qiF " $1. " "$work/upstream.log"; }

for name in $(printf '%s\n' "${!node_ip[@]}" | sort); do
        ip=${node_ip[$name]}
        for h in $(printf '%s\n' "${node_host[$name]}" "$name" | sort -u); do
                expect "$h.$zone A is $ip" "NOERROR $ip" "$cl_ns" "$addr" "$h.$zone" A
                if [ -z "$search" ]; then
                        skip "$h (short name) A is $ip (the renderer gives the nodes no search domain)"
                else
                        expect "$h (short name, search domain $search as in 10-clusterboot.network) A is $ip" \
                                "NOERROR $ip" "$cl_ns" "$addr" "$h" A "+domain=$search"
                fi
        done
done
expect "on the node itself, via 127.0.0.1: $node.$zone A is $addr" "NOERROR $addr" "$dns_ns" 127.0.0.1 "$node.$zone" A
expect "$node.$zone AAAA: no address, but the name exists (NOERROR)" "NOERROR" "$cl_ns" "$addr" "$node.$zone" AAAA

missing_name=no-such-node-$$.$zone
expect "$missing_name (in the zone, no node) is NXDOMAIN" "NXDOMAIN" "$cl_ns" "$addr" "$missing_name" A
if [ -n "$dig_missing" ]; then skip "... not asked upstream ($dig_missing)"; elif upstream_saw "$missing_name"; then
        not_ok "... but it was asked upstream" "$work/upstream.log"; else ok "... answered by the zone, not asked upstream"; fi

# Kubernetes' cluster domain is the kubernetes plugin's, from the API server (none here: it cannot answer
# yet), and is never forwarded: a forwarder that sends it back would loop.
cluster_domain=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["networking"]["cluster_domain"])' \
        "$work/plan.json" 2>/dev/null)
kq=kubernetes.default.svc.$cluster_domain
if grep -q "^$cluster_domain:$port {" "$corefile"; then
        ok "the Corefile has a server block for the cluster domain $cluster_domain (the kubernetes plugin)"
else
        not_ok "the Corefile has no server block for the cluster domain $cluster_domain" "$corefile"
fi
ask "$cl_ns" "$addr" "$kq" A >/dev/null
if [ -n "$dig_missing" ]; then skip "$kq: not asked upstream ($dig_missing)"; elif upstream_saw "$kq"; then
        not_ok "$kq was forwarded upstream" "$work/upstream.log"; else ok "$kq (no API server here) is not forwarded upstream"; fi

expect "www.example.test (outside the zone) is forwarded to $upstream: 192.0.2.53" \
        "NOERROR 192.0.2.53" "$cl_ns" "$addr" www.example.test A
if [ -n "$dig_missing" ]; then skip "... the upstream got it ($dig_missing)"; elif upstream_saw www.example.test; then
        ok "... the upstream's log has the query"; else not_ok "... the upstream never saw it" "$work/upstream.log"; fi
expect "nothing.example.test: the upstream's NXDOMAIN comes back" "NXDOMAIN" "$cl_ns" "$addr" nothing.example.test A

# health (:8080/health) and ready (:8181/ready) answer when the Corefile has them; else their ports stay free.
endpoint() { # PLUGIN DEFAULT_PORT PATH
        local plugin=$1 def=$2 path=$3 hp
        hp=$(sed 's/#.*//' "$corefile" | awk -v p="$plugin" '$1 == p {print ($2 == "" || $2 == "{") ? "" : $2; exit}')
        if ! sed 's/#.*//' "$corefile" | awk -v p="$plugin" '$1 == p {f = 1} END {exit !f}'; then
                # Not enabled: then nothing of CoreDNS may hold its default port on the node (a kubelet's or
                # another service's port 8080 stays free).
                if ip netns exec "$dns_ns" timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$def" 2>/dev/null; then
                        not_ok "the Corefile does not enable $plugin, yet something listens on :$def"
                else
                        ok "the Corefile does not enable $plugin, and nothing listens on its default port :$def"
                fi
                return
        fi
        [ -n "$hp" ] || hp=:$def
        [[ $hp == :* ]] && hp=$addr$hp
        if ip netns exec "$cl_ns" timeout 5 bash -c "exec 3<>/dev/tcp/${hp%:*}/${hp##*:} && \
                printf 'GET $path HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3" >"$work/$plugin.log" 2>&1 &&
                grep -q ' 200 ' "$work/$plugin.log"; then
                ok "$plugin endpoint http://$hp$path answers 200"
        else
                not_ok "$plugin endpoint http://$hp$path does not answer 200" "$work/$plugin.log"
        fi
}
endpoint health 8080 /health
endpoint ready 8181 /ready

if [ "$(sha256sum "$corefile" "$hostsfile")" = "$sum_before" ]; then
        ok "the rendered Corefile and hosts.$zone are unchanged after the run"
else
        not_ok "the rendered files changed during the run"
fi
if kill -0 "$dns_pid" 2>/dev/null; then ok "CoreDNS still runs"; else not_ok "CoreDNS died" "$work/coredns.log"; fi
# No API server runs in this tier (tests/kubernetes runs one): the kubernetes plugin's complaints about it
# are expected; any other error is not.
if grep '\[ERROR\]' "$work/coredns.log" | grep -qv 'plugin/kubernetes'; then
        not_ok "CoreDNS logged errors (other than the kubernetes plugin's: no API server here)" "$work/coredns.log"
else
        ok "CoreDNS logged no error (other than the kubernetes plugin's: no API server here)"
fi

# --- fully qualified hostnames --------------------------------------------------------------------
# The same inventory with dotted hostnames: worker-01's in a domain that the upstream serves
# (wk-1.dc2.example.test), storage-01's below the zone (st-1.rack2.ZONE). The rendered server answers for
# each FQDN and for its first label in the zone, besides the node's name; the rest of example.test stays
# the upstream's, and a node's address is not answered backwards from the hosts file.
fqinv=$work/inventory-fqdn fqroot=$work/root-fqdn
fq_wk=wk-1.dc2.example.test fq_st=st-1.rack2.$zone
cp -r "$inv" "$fqinv"
sed -i -e "/^  - name: worker-01\$/a\\    hostname: $fq_wk" -e "/^  - name: storage-01\$/a\\    hostname: $fq_st" \
        "$fqinv/cluster.yaml"
check "FQDNs: validate --strict with worker-01 $fq_wk and storage-01 $fq_st" "$work/fq-validate.log" \
        "$cb" validate --strict --inventory "$fqinv"
check "FQDNs: render $node" "$work/fq-render.log" "$cb" render --inventory "$fqinv" --node "$node" --root "$fqroot"
note "--- rendered Corefile (FQDNs)"
sed 's/^/#   /' "$fqroot/etc/coredns/Corefile"
note "--- rendered hosts.$zone (FQDNs)"
sed 's/^/#   /' "$fqroot/etc/coredns/hosts.$zone"
kill -TERM "$dns_pid" 2>/dev/null
wait "$dns_pid" 2>/dev/null
# The same node, the same credential.
mkdir -p "$fqroot/etc/kubernetes" && cp "$root/etc/kubernetes/coredns.conf" "$fqroot/etc/kubernetes/"
start_server "$fqroot" "$work/coredns-fqdn.log"
if wait_tcp "$dns_ns" "$addr" "$port" 15 "$dns_pid" && sleep 0.5 && kill -0 "$dns_pid" 2>/dev/null; then
        ok "CoreDNS runs the Corefile rendered for the FQDNs"
else
        not_ok "CoreDNS does not start with the Corefile rendered for the FQDNs" "$work/coredns-fqdn.log"
        finish
fi
wk=${node_ip[worker-01]} st=${node_ip[storage-01]}
for q in "$fq_wk $wk" "wk-1.$zone $wk" "worker-01.$zone $wk" "$fq_st $st" "st-1.$zone $st" "storage-01.$zone $st"; do
        read -r qname qip <<<"$q"
        expect "FQDNs: $qname A is $qip" "NOERROR $qip" "$cl_ns" "$addr" "$qname" A
done
if [ -n "$dig_missing" ]; then skip "... $fq_wk not asked upstream ($dig_missing)"; elif upstream_saw "$fq_wk"; then
        not_ok "... but $fq_wk was asked upstream" "$work/upstream.log"; else ok "... $fq_wk answered here, not upstream"; fi
expect "FQDNs: $fq_wk AAAA: no address, but the name exists (NOERROR)" "NOERROR" "$cl_ns" "$addr" "$fq_wk" AAAA
expect "FQDNs: www.example.test is still the upstream's: 192.0.2.53" "NOERROR 192.0.2.53" "$cl_ns" "$addr" \
        www.example.test A
expect "FQDNs: other.dc2.example.test (beside $fq_wk) is the upstream's NXDOMAIN" "NXDOMAIN" "$cl_ns" "$addr" \
        other.dc2.example.test A
rev=$(awk -F. '{print $4"."$3"."$2"."$1".in-addr.arpa"}' <<<"$wk")
ask "$cl_ns" "$addr" "$rev" PTR >/dev/null
if [ -n "$dig_missing" ]; then skip "FQDNs: PTR $rev goes upstream ($dig_missing)"; elif upstream_saw "$rev"; then
        ok "FQDNs: PTR $rev is not answered from the hosts file (no_reverse): asked upstream"
else
        not_ok "FQDNs: PTR $rev was not asked upstream" "$work/last-dig.log" "$work/upstream.log"
fi
# The loop plugin ends CoreDNS with "[FATAL] plugin/loop: Loop ... detected" when a query comes back.
# (The kubernetes plugin's errors about the API server are expected here, as above.)
if kill -0 "$dns_pid" 2>/dev/null && ! grep '\[ERROR\]\|\[FATAL\]' "$work/coredns-fqdn.log" | grep -qv '\[ERROR\] plugin/kubernetes'; then
        ok "FQDNs: CoreDNS still runs and logged no error (no forwarding loop; the kubernetes plugin's aside)"
else
        not_ok "FQDNs: CoreDNS died or logged an error" "$work/coredns-fqdn.log"
fi
finish
