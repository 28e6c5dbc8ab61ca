#!/usr/bin/env bash
# bench/pki/openssl-stub.sh -- installed as "openssl" first on the seed scripts' PATH for
# the control row of bench/pki/run: does no cryptography, only creates the file named by
# -out so the scripts run to their end. What that row measures is therefore everything
# in a seed run except openssl's work (bash, mkdir/cp/chmod, yq, mosquitto_passwd, and
# in ns mode unshare + overlay mounts), plus one bash start per openssl call.
out=""
while [ $# -gt 0 ]; do
    [ "$1" = -out ] && [ $# -ge 2 ] && out=$2
    shift
done
[ -n "$out" ] && : >"$out"
exit 0
