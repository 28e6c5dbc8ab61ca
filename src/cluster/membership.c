/* SPDX-License-Identifier: Apache-2.0 */
#include "inventory.h"
#include "membership.h"
#include "string-util.h"
#include "banned.h"

int etcd_member_not_in(const EtcdMemberList *l, const Inventory *inv, const EtcdMember **ret) {
        for (size_t i = 0; i < l->n; i++) {
                const EtcdMember *m = l->members + i;
                if (!m->name[0])
                        continue;
                const Node *n = inventory_find_node(inv, m->name);
                if (n && n->roles[ROLE_MASTER])
                        continue;
                *ret = m;
                return 1;
        }
        return 0;
}

const CephMonitor *ceph_mon_not_in(const CephQuorum *q, const Inventory *inv, const CephMonitor **ret_waiting) {
        const CephMonitor *gone = NULL;
        *ret_waiting = NULL;
        /* Never the last monitor: a cluster without one is lost (apply refuses it too). */
        for (size_t i = 0; q->n > 1 && i < q->n && !gone; i++) {
                const Node *n = inventory_find_node(inv, q->mons[i].name);
                if (!n || !n->roles[ROLE_CEPH_MON])
                        gone = q->mons + i;
        }
        for (size_t i = 0; gone && i < q->n && !*ret_waiting; i++)
                if (q->mons + i != gone && !q->mons[i].in_quorum)
                        *ret_waiting = q->mons + i;
        return gone;
}

ClusterVerdict cluster_absence(const ClusterWitness *w, size_t n, size_t n_masters, const char *own_ca, char **ret_why) {
        StrBuf seen = {};
        size_t none = 0;
        const ClusterWitness *holder = NULL;
        for (size_t i = 0; i < n; i++) {
                bool other_ca = w[i].answered && w[i].ca && *w[i].ca && !streq_ptr(w[i].ca, own_ca);
                if (w[i].answered && (w[i].etcd || other_ca)) {
                        holder = holder ?: w + i;
                        (void) strbuf_printf(&seen, "%s%s: %s", i ? ", " : "", w[i].node,
                                             w[i].etcd ? "holds a cluster's etcd data" : "holds another cluster's CA");
                } else {
                        none += w[i].answered;
                        (void) strbuf_printf(&seen, "%s%s: %s", i ? ", " : "", w[i].node,
                                             w[i].answered ? "no cluster" : "no answer");
                }
        }
        /* With this master's own "none", more than half of all masters. */
        size_t needed = n_masters / 2;
        ClusterVerdict v = holder ? CLUSTER_EXISTS : none >= needed ? CLUSTER_NONE_PROVEN : CLUSTER_UNPROVEN;
        if (v == CLUSTER_EXISTS)
                *ret_why = strprintf("a cluster exists (%s): this master joins it, it never makes another", strempty(seen.s));
        else if (v == CLUSTER_NONE_PROVEN)
                *ret_why = n == 0 ? strprintf("the only master: no other to ask")
                                  : strprintf("no cluster: %zu of the other %zu masters say so (%s)", none, n, strempty(seen.s));
        else
                *ret_why = strprintf("a new cluster is made only when a majority of the %zu masters says none exists: "
                                     "%zu more must answer (%s)",
                                     n_masters, needed - none, strempty(seen.s));
        strbuf_done(&seen);
        return v;
}
