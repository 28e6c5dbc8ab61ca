/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "ceph-answer.h"
#include "etcd-client.h"
#include "model.h"

/* Membership follows the inventory (`apply`, then `sync` on a master): an etcd member whose name is no
 * master of the inventory was removed from it. The decision alone, for the tests; sync makes the call. */

/* The member to remove: a started member (it has a name) whose name no master of inv has. A member not
 * started yet (no name) is a master joining, and is left alone. One at a time: the first in the list. 1
 * with *ret set, or 0 when there is none. */
int etcd_member_not_in(const EtcdMemberList *l, const Inventory *inv, const EtcdMember **ret);

/* The same for the Ceph monitors: the first monitor of the monmap whose name no ceph-mon node of inv has,
 * or NULL. With it, in *ret_waiting, the first other monitor out of the quorum, or NULL when every other one
 * is in it: only then is it removed (`ceph mon remove`), so that the rest keep their quorum. */
const CephMonitor *ceph_mon_not_in(const CephQuorum *q, const Inventory *inv, const CephMonitor **ret_waiting);

/* No second cluster (the first master's rule). Before the first master makes a cluster (the secrets bundle
 * under the join policy, the one-member etcd cluster under both), it asks every other master's join
 * service what it holds (POST /v1/cluster-state). A new cluster is made only when no master holds one and
 * a majority of the masters, this one counted, say so: a reinstalled first master whose peers are down
 * waits for them instead of making a cluster of its own. */
typedef struct ClusterWitness {
        const char *node;
        bool answered; /* its join service answered with a valid proof */
        bool etcd;     /* it has a cluster's etcd data, or has bootstrapped or joined */
        const char *ca; /* "sha256:HEX" of its bundle's CA, or "" without a bundle */
} ClusterWitness;

typedef enum ClusterVerdict {
        CLUSTER_NONE_PROVEN, /* a majority says none, nobody holds one */
        CLUSTER_EXISTS,      /* a master holds one: join it, never make another */
        CLUSTER_UNPROVEN,    /* too few answers: wait */
} ClusterVerdict;

/* The verdict on the answers of the n other masters of a cluster of n_masters; own_ca: this master's CA
 * ("sha256:HEX"), or NULL before it has a bundle (then any CA elsewhere is a cluster). *ret_why says, in
 * words for the log, what was seen and what it waits for. */
ClusterVerdict cluster_absence(const ClusterWitness *w, size_t n, size_t n_masters, const char *own_ca, char **ret_why);
