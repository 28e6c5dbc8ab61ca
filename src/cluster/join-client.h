/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

/* The client of the join service (join-protocol.h), through libcurl. The server is trusted by the
 * Kubernetes CA when the image carries it; otherwise the client first fetches cluster-info and accepts its
 * CA only when the answer proves that the server knows the join secret (and, with ca_hash, when the CA is
 * the pinned one). Nothing but the cluster-info nonce is sent before that, and every answer's proof is
 * checked too. */

typedef struct JoinClientOptions {
        const char *url;     /* https://ADDRESS:PORT */
        const char *secret;  /* the join secret */
        const char *ca_pem;  /* the Kubernetes CA certificate, or NULL */
        const char *ca_hash; /* "sha256:HEX" (pki_spki_hash()), or NULL */
        const char *hwaddr;  /* a machine to auto-register: its NIC's MAC (join-protocol.h), or NULL */
        const char *client_cert; /* a PEM file with the TLS client certificate and its key, or NULL */
        long timeout_sec;    /* per request; 0: 30 */
        /* Added to this machine's clock for the requests' timestamps and for the dates of the server's
         * certificate: the join service's time less this machine's (join_client_clock_offset()), or 0. */
        long clock_offset;
} JoinClientOptions;

/* Asks for the certificates csrs names (NAME -> PEM CSR) and, with ca_bundle, the CA bundle. Returns the
 * verified answer in *ret (without its proof). -EACCES when the server refused: *ret_status is its HTTP
 * status and *ret_error its reason; -EBADMSG when the server failed its proof or the CA pin (it is not the
 * cluster's: nothing is taken from it); -EIO when it could not be reached; -ETIME when this machine's clock
 * does not fit the server's (its certificate is not valid yet or any more by it, or the server found the
 * request's timestamp stale): join_client_clock_offset(), then again with o->clock_offset. */
int join_client_join(const JoinClientOptions *o, const char *node, json_t *csrs, bool ca_bundle, json_t **ret,
                     long *ret_status, char **ret_error);

/* POST /v1/renew: the certificates csrs names, asked with the client certificate o->client_cert, the server
 * trusted by o->ca_pem only (both required: -EINVAL). Returns and fails as join_client_join(); the answer
 * carries no proof (TLS with the cluster's CA stands for it). */
int join_client_renew(const JoinClientOptions *o, const char *node, json_t *csrs, json_t **ret, long *ret_status,
                      char **ret_error);

/* POST /v1/inventory: the inventory the cluster runs as the service read it from etcd ({"version": N,
 * "files": {...}}, or {"version": 0} before the first apply), asked as join_client_renew() asks. */
int join_client_inventory(const JoinClientOptions *o, const char *node, json_t **ret, long *ret_status,
                          char **ret_error);

/* GET /v1/cluster-info: the server's CA and its time, accepted only with a valid proof (-EBADMSG otherwise;
 * -EIO unreachable or busy). ret_time may be NULL. Needs curl_global_init() done, as join_client_join()
 * does it itself. */
int join_client_cluster_info(const JoinClientOptions *o, char **ret_ca, time_t *ret_time);
/* The join service's time less this machine's, in seconds, from its cluster-info: vouched for by the
 * proof, whatever the dates of its certificate; with o->ca_pem, only from a server of that CA (-EBADMSG). */
int join_client_clock_offset(const JoinClientOptions *o, long *ret);

/* POST /v1/cluster-state as master node: what the master at o->url holds (join-protocol.h), accepted only with
 * a valid proof, whatever certificate it serves. *ret: {"node", "etcd", "ca", "time"}. -EIO no answer (or
 * busy), -EACCES refused, -EBADMSG a bad proof. */
int join_client_cluster_state(const JoinClientOptions *o, const char *node, json_t **ret);
