#!/usr/bin/env python3
"""bench/pki/count.py -- what a run made: distinct keys and certificates, file by file.

Usage: count.py seeds OUT | count.py clusterboot OUT | count.py compare SEEDS.json CB.json
  seeds:       OUT/build/certs (the bundle) and OUT/nodes/NODE/ (each node's tree)
  clusterboot: OUT/B (the bundle) and OUT/R_NODE/ (each node's tree)

Reads every regular file; finds PEM blocks, also base64 ones inside kubeconfigs
(client-certificate-data, client-key-data, certificate-authority-data). A key is counted
once per distinct public key (copies of ca.key on every node are one key), a certificate
once per distinct DER. Prints JSON: keys, certs (distinct), per-algorithm key counts, and
per place ("bundle" or the node) the files that hold a key or a certificate with the
certificate's subject and SANs, plus the other files (CSRs, serial files, ...).
compare: from two such JSON files, per place, the key/certificate files only the seeds
make, only clusterboot makes, and those both make with a different subject or SANs (the
subjects compared as sets of attributes, an order-only difference listed apart; the
seeds' bundle paths kubernetes/pki/X and kubernetes/pki/etcd/X are compared as
clusterboot's kubernetes/X and etcd/X). Prints JSON.
Needs only the openssl CLI.
"""
import base64, hashlib, json, os, re, subprocess, sys

PEM = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)
B64 = re.compile(rb"(client-certificate-data|client-key-data|certificate-authority-data):\s*([A-Za-z0-9+/=]+)")
SKIP_DIRS = {".work"}          # overlayfs work dirs of seeds-once.sh ns mode


def openssl(args, data):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True, check=True).stdout


def pem_blocks(data):
    for m in PEM.finditer(data):
        yield m.group(1).decode(), m.group(0)
    for m in B64.finditer(data):
        try:
            inner = base64.b64decode(m.group(2), validate=True)
        except Exception:
            continue
        for kind, blk in pem_blocks(inner):
            yield kind, blk


def key_info(blk):
    pub = openssl(["pkey", "-pubout", "-outform", "DER"], blk)
    text = openssl(["pkey", "-noout", "-text"], blk).decode(errors="replace")
    first = text.splitlines()[0] if text else ""
    bits = re.search(r"\((\d+) bit", first)
    if "ASN1 OID" in text or "NIST CURVE" in text:
        curve = re.search(r"ASN1 OID: (\S+)", text)
        alg = "ec-" + (curve.group(1) if curve else "?")
    elif "ED25519" in text.upper():
        alg = "ed25519"
    else:
        alg = "rsa-" + (bits.group(1) if bits else "?")
    return hashlib.sha256(pub).hexdigest(), alg


def cert_info(blk):
    der = openssl(["x509", "-outform", "DER"], blk)
    subj = openssl(["x509", "-noout", "-subject", "-nameopt", "RFC2253"], blk).decode().strip()
    subj = subj.removeprefix("subject=")
    san = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=blk,
                         capture_output=True).stdout.decode()
    sans = sorted(s.strip() for s in " ".join(san.splitlines()[1:]).split(",") if s.strip())
    return hashlib.sha256(der).hexdigest(), subj, sans


def places(kind, out):
    if kind == "seeds":
        yield "bundle", os.path.join(out, "build", "certs")
        nd = os.path.join(out, "nodes")
        for n in sorted(os.listdir(nd)) if os.path.isdir(nd) else []:
            yield n, os.path.join(nd, n)
    else:
        yield "bundle", os.path.join(out, "B")
        for n in sorted(os.listdir(out)):
            if n.startswith("R_"):
                yield n[2:], os.path.join(out, n)


def seed_bundle_path(rel):
    if rel.startswith("kubernetes/pki/etcd/"):
        return "etcd/" + rel[len("kubernetes/pki/etcd/"):]
    if rel.startswith("kubernetes/pki/"):
        return "kubernetes/" + rel[len("kubernetes/pki/"):]
    return rel


def rdns(subject):
    return sorted(re.split(r"(?<!\\),", subject))


def compare(seeds_json, cb_json):
    with open(seeds_json) as f:
        s = json.load(f)
    with open(cb_json) as f:
        c = json.load(f)
    out = {}
    for place in sorted(set(s["places"]) | set(c["places"]), key=lambda p: (p != "bundle", p)):
        sf = s["places"].get(place, {"files": {}, "other": []})
        cf = c["places"].get(place, {"files": {}, "other": []})
        sfiles = sf["files"]
        if place == "bundle":
            sfiles = {seed_bundle_path(k): v for k, v in sfiles.items()}
        cfiles = cf["files"]
        differ, order_only = [], []
        for rel in sorted(set(sfiles) & set(cfiles)):
            a = [h for h in sfiles[rel] if "cert" in h]
            b = [h for h in cfiles[rel] if "cert" in h]
            if not (a and b) or (a[0]["cert"] == b[0]["cert"] and a[0]["sans"] == b[0]["sans"]):
                continue
            if rdns(a[0]["cert"]) == rdns(b[0]["cert"]) and a[0]["sans"] == b[0]["sans"]:
                order_only.append(rel)   # same attributes, other order in the DN
            else:
                differ.append({"file": rel, "seeds": a[0], "clusterboot": b[0]})
        out[place] = {
            "only_seeds": sorted(set(sfiles) - set(cfiles)),
            "only_clusterboot": sorted(set(cfiles) - set(sfiles)),
            "both": len(set(sfiles) & set(cfiles)),
            "differ": differ,
            "subject_order_only": order_only,
            "seeds_other": sf["other"],
            "clusterboot_other": cf["other"],
        }
    json.dump(out, sys.stdout, indent=1)
    print()


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 3 or sys.argv[1] not in ("seeds", "clusterboot"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    kind, out = sys.argv[1:]
    keys, certs, algs = {}, {}, {}
    result = {"places": {}}
    for place, root in places(kind, out):
        files, other = {}, []
        for d, dirs, names in os.walk(root):
            dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
            for name in sorted(names):
                p = os.path.join(d, name)
                rel = os.path.relpath(p, root)
                if not os.path.isfile(p) or os.path.islink(p):
                    continue
                with open(p, "rb") as f:
                    data = f.read()
                held = []
                for k, blk in pem_blocks(data):
                    if k.endswith("PRIVATE KEY"):
                        fp, alg = key_info(blk)
                        if fp not in keys:
                            keys[fp] = rel
                            algs[alg] = algs.get(alg, 0) + 1
                        held.append({"key": alg})
                    elif k == "CERTIFICATE":
                        fp, subj, sans = cert_info(blk)
                        certs.setdefault(fp, rel)
                        held.append({"cert": subj, "sans": sans})
                if held:
                    files[rel] = held
                else:
                    other.append(rel)
        result["places"][place] = {"files": files, "other": other}
    result["keys"] = len(keys)
    result["certs"] = len(certs)
    result["key_algorithms"] = algs
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
