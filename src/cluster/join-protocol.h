/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bundle.h"
#include "model.h"
#include "node-pki.h"

/* The join protocol (`clusterboot serve` and its client), without I/O so that it can be unit-tested and
 * fuzzed. Every function returns 0 or a negative errno and does not log; where a request is refused,
 * *ret_reason is a short static text fit to send back and to log (it never holds a secret).
 *
 *   GET  /v1/cluster-info?nonce=N  -> {"ca": PEM, "proof": P}
 *   POST /v1/join  {"node", "timestamp", "nonce", "csrs": {NAME: PEM CSR}, ["ca_bundle": true],
 *                   ["hwaddr": MAC], "mac"}
 *        -> {"node", "certificates": {NAME: PEM}, "ca": PEM, "role_material": {PATH: text},
 *            ["ca_bundle": {BUNDLE-RELATIVE PATH: text}], ["registered": {"ip", "role"}], "proof": P}
 *
 *   POST /v1/cluster-state  a join request without CSRs, from a master
 *        -> {"node", "etcd": BOOL, "ca": "sha256:HEX" or "", "time": SECONDS, "proof": P}
 *   what the answering master holds (membership.h, no second cluster): "etcd" when it holds a cluster's
 *   etcd data or bootstrapped/joined, "ca" its bundle's CA ("" without a bundle). A master's join service
 *   answers it from its boot on, before it has a bundle: then with a certificate of its own making, and
 *   503 to every other request.
 *
 * hwaddr: a machine not in the inventory (cluster.auto_register) gives its NIC's MAC; the service names
 * it (hostname_prefix + the MAC's last six hex digits), gives it auto_register's role and the address the
 * request came from, and says so in "registered".
 *
 * mac   = hex HMAC-SHA256(join_secret, the request without "mac", as JSON with sorted keys, compact)
 * proof = hex HMAC-SHA256(join_secret, nonce || SHA-256(the response without "proof", the same way))
 * so that only a holder of the join secret can ask, and only a holder of it can answer. A client that does
 * not carry the CA first fetches cluster-info, checks its proof, and from then on trusts that CA in TLS
 * (kubeadm's discovery, with an HMAC where kubeadm uses a JWS). */

#define JOIN_PORT 9443
#define JOIN_BODY_MAX (64 * 1024)
#define JOIN_MAX_SKEW 300   /* seconds a request's timestamp may be off */
#define JOIN_NONCE_TTL 600  /* seconds a nonce is remembered */
#define JOIN_NONCE_HEX 32   /* 16 random bytes */
#define JOIN_MAC_HEX 64
#define JOIN_MAX_CSRS 32
#define JOIN_CA_BUNDLE "ca-bundle"

typedef struct JoinRequest {
        json_t *root; /* owns everything below */
        const char *node;
        int64_t timestamp;
        const char *nonce;
        json_t *csrs; /* object NAME -> PEM */
        bool ca_bundle;
        const char *hwaddr; /* a machine to auto-register: its MAC, or NULL */
        const char *mac;
} JoinRequest;

void join_request_done(JoinRequest *r);

/* 16 random bytes as 32 lowercase hex digits. */
int join_nonce_generate(char ret[static JOIN_NONCE_HEX + 1]);

/* The request body for node, with csrs (NAME -> PEM, not taken over; may be NULL) and, for a machine to
 * auto-register, hwaddr (else NULL). */
int join_request_build(const char *secret, const char *node, const char *hwaddr, time_t now, const char *nonce,
                       json_t *csrs, bool ca_bundle, char **ret_body);

/* Shape only: -EINVAL (HTTP 400) with the reason for anything malformed. */
int join_request_parse(const char *body, size_t size, JoinRequest *ret, const char **ret_reason);
/* A renewal (POST /v1/renew {"node", "csrs"}): a node that has joined asks for certificates anew over TLS
 * with its current client certificate instead of the join secret, so nothing it sends could be replayed by
 * another. The answer is join_issue()'s, unsealed: the client trusts the server by the cluster's CA. */
int join_renew_build(const char *node, json_t *csrs, char **ret_body);
int join_renew_parse(const char *body, size_t size, JoinRequest *ret, const char **ret_reason);
/* Whether the TLS client certificate client (NULL: none) may renew node's certificates: issued by the
 * cluster's CA, valid now, for client authentication, and the node's own: CN=system:node:NAME in
 * O=system:nodes, as the kubelet's client certificate is (which the kubelet keeps renewed itself).
 * -EACCES (HTTP 401) or -EPERM (403) with the reason. */
int join_renew_authorize(X509 *ca, X509 *client, const char *node, time_t now, const char **ret_reason);

/* -ETIME "stale" for a timestamp more than JOIN_MAX_SKEW from now, -EBADMSG "bad mac" (HTTP 401). The MAC
 * is compared in constant time. */
int join_request_verify(const JoinRequest *r, const char *secret, time_t now, const char **ret_reason);

/* Nonces seen in the last JOIN_NONCE_TTL seconds. */
typedef struct NonceCache {
        struct NonceEntry {
                char nonce[JOIN_NONCE_HEX + 1];
                time_t seen;
        } *entries;
        size_t n, allocated;
} NonceCache;

#define NONCE_CACHE_MAX 100000
/* -EALREADY when seen (HTTP 401 "replayed"), -EBUSY when too many are remembered; else remembers it. */
int nonce_cache_add(NonceCache *c, const char *nonce, time_t now);
void nonce_cache_done(NonceCache *c);

/* The name a client asks for a plan entry's certificate by: "kubelet" (/var/lib/kubelet/pki/kubelet.crt),
 * "kubelet.conf", "apiserver", "etcd/peer", "mosquitto/server", ...; -EINVAL for a PKI_COPY entry. */
int join_cert_name(const PkiEntry *e, char **ret);

/* A PEM certificate request for key, signed with it, subject CN=cn (the server ignores the subject). */
int join_csr_make(EVP_PKEY *key, const char *cn, char **ret_pem);

/* Decides a verified request: -ENOENT "unknown node", -EPERM "not entitled to ..." (HTTP 403), -EINVAL for
 * a bad CSR (HTTP 400). For each CSR whose self-signature verifies, a certificate for its public key with
 * the subject, usages and names that pki_plan_node() gives that entry for the node (the CSR's own subject
 * and extensions are ignored); the CA; the role-scoped copies of the plan (keyrings, the mosquitto password
 * file); and, only for a master that asks, the whole secrets bundle (bundle_files: bundle_collect() with
 * relative paths; NULL refuses) as "ca_bundle": {REL: text}, so that the master can sign for others and
 * serve joins itself (kubeadm's --upload-certs hands out the same keys). The result has no proof yet
 * (join_response_seal()). *ret_names lists the certificates issued (for the log). */
/* peer: the address the request came from. Only the node's own address (or loopback) is served: -EPERM
 * "not from the node's address" otherwise. An auto-registered machine gets it as its address; -EEXIST
 * (HTTP 409) when its name is a node of the inventory. NULL: not checked, for a renewal, which the node's
 * current key proves. */
int join_issue(const Inventory *inv, const Bundle *b, const RenderSet *bundle_files, const JoinRequest *req,
               const IpAddr *peer, time_t now, json_t **ret, char **ret_names, const char **ret_reason);

/* The /v1/cluster-state answer of master node, without its proof (ca_hash "" without a bundle). */
int join_cluster_state(const char *node, bool etcd, const char *ca_hash, time_t now, json_t **ret);

/* The cluster-info answer, without its proof: the CA certificate, and the server's time (now), which the
 * proof vouches for as it does for the CA: a node whose clock is wrong (no battery-backed clock: it boots
 * at 1970, or at its image's date) learns the time from it. */
int join_cluster_info(const Bundle *b, time_t now, json_t **ret);

/* Adds "proof" to resp and serializes it. */
int join_response_seal(json_t *resp, const char *secret, const char *nonce, char **ret_body);
/* Parses a response and checks its proof for the nonce the client sent: -EBADMSG when it does not hold
 * (the server does not know the join secret), -EINVAL when it is not a response. */
int join_response_verify(const char *body, size_t size, const char *secret, const char *nonce, json_t **ret);

/* Checks the CA hash ("sha256:HEX", as pki_spki_hash()) of a PEM certificate: 0 match, -EBADMSG not. */
int join_check_ca_hash(const char *ca_pem, const char *hash);
