/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "bundle.h"
#include "etcd-client.h"
#include "model.h"

/* The join service (`clusterboot serve`): HTTPS through libevent's evhttp and bufferevent_openssl. Its
 * certificate is issued at start from the bundle's Kubernetes CA (CN clusterboot-join; the master's name
 * and IP, localhost and 127.0.0.1) and kept in memory. Requests are rate-limited per client IP, bodies
 * limited to JOIN_BODY_MAX; every decision is logged (client, node, decision, reason), never a secret. */

typedef struct JoinServer JoinServer;

/* inv, self, b and bundle_files (the bundle's files for masters that ask for it, bundle_collect() with
 * relative paths; NULL: refused) must outlive the server. */
int join_server_new(const Inventory *inv, const Node *self, const Bundle *b, const RenderSet *bundle_files,
                    JoinServer **ret);
int join_server_listen(JoinServer *s, const char *address, uint16_t port);
/* The cluster's etcds (the master's own first) and the master's etcd client certificate, which may appear
 * after the start (it is looked for at each request); all must outlive the server. There /v1/inventory
 * reads the stored inventory, and every join is recorded (join-record.h). Without etcd or without the
 * certificate, /v1/inventory answers 503 and this master alone remembers what it answered. */
void join_server_set_etcd(JoinServer *s, const char *const *endpoints, size_t n, const EtcdTls *tls);
/* Where /v1/cluster-state looks for what this master holds (node_holds_cluster()); must outlive the server.
 * NULL (the default): /. */
void join_server_set_root(JoinServer *s, const char *root);
/* A master without the cluster's bundle yet (b holds the join secret and a CA of the server's own making):
 * it answers /v1/cluster-state only, 503 to the rest. With stop_when, it stops (join_server_run() returns
 * -EAGAIN) once that file exists: the bundle arrived, and systemd starts the service again with it. */
int join_server_set_candidate(JoinServer *s, const char *stop_when);
/* Serves until SIGTERM or SIGINT (0), or a candidate's bundle arrives (-EAGAIN); ready is called once (may
 * be NULL) when the loop starts. */
int join_server_run(JoinServer *s, void (*ready)(void));
void join_server_free(JoinServer *s);

/* The rate limit: a token bucket per client IP. */
#define JOIN_RATE_PER_SEC 5
#define JOIN_RATE_BURST 20
