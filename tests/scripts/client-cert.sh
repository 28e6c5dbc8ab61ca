#!/usr/bin/env bash
# client-cert.sh BUNDLE SUBJECT EKU OUT: a certificate of the bundle's Kubernetes CA (BUNDLE/kubernetes/ca.*)
# for SUBJECT with extendedKeyUsage EKU, one day long, made with the openssl CLI: OUT.key, OUT.crt, and
# OUT.pem holding both, as a kubelet's client certificate file does
# (/var/lib/kubelet/pki/kubelet-client-current.pem: CN=system:node:NAME, O=system:nodes, clientAuth).
# On a failure, openssl's own words go to stderr.
set -u
[ $# -eq 4 ] && [ -f "$1/kubernetes/ca.key" ] || { echo "usage: client-cert.sh BUNDLE SUBJECT EKU OUT" >&2; exit 2; }
err=$(mktemp)
trap 'rm -f "$err" "$4.csr"' EXIT
if ! openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" -keyout "$4.key" \
        -out "$4.csr" 2>"$err" ||
        ! openssl x509 -req -in "$4.csr" -CA "$1/kubernetes/ca.crt" -CAkey "$1/kubernetes/ca.key" \
                -set_serial "0x$(openssl rand -hex 8)" -days 1 -out "$4.crt" \
                -extfile <(printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$3") 2>>"$err"; then
    cat "$err" >&2
    exit 1
fi
cat "$4.crt" "$4.key" >"$4.pem"
