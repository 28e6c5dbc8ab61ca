/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "join-client.h"
#include "model.h"
#include "render.h"

/* A node's side of the join service (`clusterboot bootstrap` under the "join" secret policy): the image
 * carries only the join secret (and perhaps the CA certificate); the node asks the masters' join services
 * in name order. Each function returns 0 or a negative errno, does not log, and says in *ret_why (malloc()ed;
 * never a secret) what happened:
 *   -EAGAIN   no master's join service answers yet (or all are busy: 429, 5xx), or those that answer are
 *             not this cluster's: none proved that it knows the join secret, or the CA pin failed, or its
 *             time could not be had when this machine's clock did not fit it (*ret_why says which): retry
 *             later, as a foreign server at a master's address does not make the right one come back
 *   -EACCES   a master refused the request (401 bad mac: the image's join secret is not the cluster's;
 *             403 unknown node or not entitled): retrying the same request cannot help
 * *ret_from (malloc()ed, may be NULL) names the master that answered. */

typedef struct JoinNodeOptions {
        const char *secret;  /* the join secret */
        const char *ca_pem;  /* the Kubernetes CA the image carries, or NULL (trust by proof) */
        const char *ca_hash; /* "sha256:HEX" pin, or NULL */
        const char *hwaddr;  /* an auto-registered machine: its NIC's MAC (the service names it), or NULL */
        const char *client_cert; /* join_node_renew(): the PEM file with the node's client certificate and key */
        long timeout_sec;
        /* If not NULL: set to the join service's time less this machine's when this machine's clock did not
         * fit it (the service's certificate not valid yet or any more, a stale request) and the node asked
         * again at the service's time; left alone otherwise. */
        long *clock_offset;
} JoinNodeOptions;

/* https://IP:JOIN_PORT of every master but self, in name order from a random one on (wrapping around): the
 * nodes of a cluster ask the masters in turn, so joins and renewals spread over them, and each still
 * reaches every master when others are down or busy. */
int join_node_urls(const Inventory *inv, const Node *self, char ***ret, size_t *ret_n);
/* The same from master index start (mod their number): what join_node_urls() does with a random start. */
int join_node_urls_from(const Inventory *inv, const Node *self, size_t start, char ***ret, size_t *ret_n);
void join_node_urls_free(char **urls, size_t n);

/* This node's certificates: a key is made here for every leaf and kubeconfig of its PKI plan (keys never
 * leave the node), CSRs go to a master, and out gets the certificate, key, kubeconfig and role-scoped
 * files (keyrings, the MQTT password file) with their modes, plus the CA certificate the plan names. */
int join_node_certificates(const Inventory *inv, const Node *node, const JoinNodeOptions *o, char *const *urls,
                           size_t n_urls, RenderSet *out, char **ret_from, char **ret_why);
/* The same for a machine auto_register names (o->hwaddr set): the service must give it node's name; *ret_ip
 * is the address it recorded for the machine. */
int join_node_register(const Inventory *inv, const Node *node, const JoinNodeOptions *o, char *const *urls,
                       size_t n_urls, RenderSet *out, char **ret_ip, char **ret_from, char **ret_why);

/* A node that has joined renews its certificates under root that are due (pki_entry_current(); all with force)
 * through a master's join service, authenticated by its client certificate o->client_cert (the kubelet's,
 * which the kubelet keeps renewed) over TLS that trusts o->ca_pem only; the join secret is not used. out gets
 * what join_node_certificates() gives for those entries, and the role-scoped copies; nothing is asked when
 * nothing is due (out stays empty, *ret_why says so). */
int join_node_renew(const Inventory *inv, const Node *node, const JoinNodeOptions *o, const char *root, bool force,
                    char *const *urls, size_t n_urls, RenderSet *out, char **ret_from, char **ret_why);

/* The whole secrets bundle, for a master (the first master's, on a master that joins or was reinstalled):
 * out gets its files as dest/REL, 0600. */
int join_node_bundle(const Node *node, const JoinNodeOptions *o, char *const *urls, size_t n_urls,
                     const char *dest, RenderSet *out, char **ret_from, char **ret_why);

/* 0 when url's join service answers cluster-info with a valid proof for secret: the health gate of the
 * service this master runs. -EAGAIN when it does not answer (yet), -EBADMSG when its proof is wrong. */
int join_node_ping(const char *url, const char *secret, long timeout_sec);
