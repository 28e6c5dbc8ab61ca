/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "etcd-client.h"
#include "model.h"

/* The bootstrap state machine's etcd stages (SPEC "State machine"), each idempotent and runnable alone, so
 * that systemd orders them around etcd.service and a crash anywhere converges on the next run:
 *
 *   etcd-member  before etcd starts. The first master (first by name) makes a one-member cluster with the
 *                rendered environment (state "new") -- unless a cluster already answers on another master,
 *                which means it was reinstalled and must join like the others. Every other master waits
 *                for a cluster (-EAGAIN), is added as a learner, and gets etcd-join.env with the members
 *                at that moment and state "existing". A stale member with its peer URL (a reinstalled
 *                node) is removed first; one added but never started (a crash after the add) is reused.
 *   etcd-ready   after etcd starts: healthy, promoted if a learner (-EAGAIN until caught up), and the
 *                node's state becomes bootstrapped (first master) or joined.
 *
 * A node whose etcd has data already (it ran before) does nothing in etcd-member: a node never makes a
 * second "new" cluster. Return: 0 done, -EAGAIN not possible yet (exit 75), other negative errno. */

typedef struct BootstrapContext {
        const Inventory *inv;
        const Node *node;
        const char *root; /* NULL: / */
        EtcdTls tls;      /* paths as seen from here (under root) */
        unsigned timeout_ms;
        char *message;    /* what the stage did or waits for, for the log; owned by the context */
} BootstrapContext;

int bootstrap_context_init(BootstrapContext *c, const Inventory *inv, const Node *node, const char *root);
void bootstrap_context_done(BootstrapContext *c);

int bootstrap_etcd_member(BootstrapContext *c);
int bootstrap_etcd_ready(BootstrapContext *c);
