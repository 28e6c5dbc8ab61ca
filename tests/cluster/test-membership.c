/* SPDX-License-Identifier: Apache-2.0 */
/* Which etcd member sync removes: a started member that no master of the inventory names; which Ceph monitor,
 * and while which other monitor it waits. And the first
 * master's rule against a second cluster: whom it must hear before it makes one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membership.h"
#include "tap.h"
#include "test-inventory-util.h"

static Inventory *ha;

static char *p1[] = { (char *) "https://10.20.0.11:2380" }, *p2[] = { (char *) "https://10.20.0.12:2380" },
            *p3[] = { (char *) "https://10.20.0.13:2380" }, *p4[] = { (char *) "https://10.20.0.14:2380" };

TEST(test_every_member_a_master) {
        EtcdMember m[] = {
                { .id = 1, .name = (char *) "master-01", .peer_urls = p1, .n_peer_urls = 1 },
                { .id = 2, .name = (char *) "master-02", .peer_urls = p2, .n_peer_urls = 1 },
                { .id = 3, .name = (char *) "master-03", .peer_urls = p3, .n_peer_urls = 1 },
        };
        EtcdMemberList l = { .cluster_id = 9, .members = m, .n = 3 };
        const EtcdMember *gone = NULL;
        ASSERT_INT_EQ(etcd_member_not_in(&l, ha, &gone), 0);
        ASSERT_NULL(gone);
}

TEST(test_removed_master) {
        /* master-04 was a master once; worker-01 is a node, but no master. */
        EtcdMember m[] = {
                { .id = 1, .name = (char *) "master-01", .peer_urls = p1, .n_peer_urls = 1 },
                { .id = 4, .name = (char *) "master-04", .peer_urls = p4, .n_peer_urls = 1 },
                { .id = 5, .name = (char *) "worker-01", .peer_urls = p3, .n_peer_urls = 1 },
        };
        EtcdMemberList l = { .cluster_id = 9, .members = m, .n = 3 };
        const EtcdMember *gone = NULL;
        ASSERT_INT_EQ(etcd_member_not_in(&l, ha, &gone), 1);
        ASSERT_TRUE(gone && gone->id == 4); /* one at a time: the first */
        l.members[1].name = (char *) "master-02";
        ASSERT_INT_EQ(etcd_member_not_in(&l, ha, &gone), 1);
        ASSERT_TRUE(gone->id == 5);
}

TEST(test_joining_member_left_alone) {
        /* Added, not started: no name yet. A master is joining; it is not removed. */
        EtcdMember m[] = {
                { .id = 1, .name = (char *) "master-01", .peer_urls = p1, .n_peer_urls = 1 },
                { .id = 7, .name = (char *) "", .peer_urls = p4, .n_peer_urls = 1, .is_learner = true },
        };
        EtcdMemberList l = { .cluster_id = 9, .members = m, .n = 2 };
        const EtcdMember *gone = NULL;
        ASSERT_INT_EQ(etcd_member_not_in(&l, ha, &gone), 0);
}

#define CA_A "sha256:aaaa"
#define CA_B "sha256:bbbb"

static ClusterVerdict verdict(const ClusterWitness *w, size_t n, size_t n_masters, const char *own_ca, char **why) {
        free(*why);
        *why = NULL;
        return cluster_absence(w, n, n_masters, own_ca, why);
}

TEST(test_no_second_cluster) {
        char *why = NULL;
        /* A fresh cluster of three: one other master saying "none" makes a majority with this one. */
        ClusterWitness fresh[] = { { "master-02", true, false, "" }, { "master-03", false, false, NULL } };
        ASSERT_INT_EQ(verdict(fresh, 2, 3, NULL, &why), CLUSTER_NONE_PROVEN);
        ASSERT_STREQ(why, "no cluster: 1 of the other 2 masters say so (master-02: no cluster, master-03: no answer)");
        /* A reinstalled first master whose peers are down: nobody to say so, it waits. */
        ClusterWitness down[] = { { "master-02", false, false, NULL }, { "master-03", false, false, NULL } };
        ASSERT_INT_EQ(verdict(down, 2, 3, NULL, &why), CLUSTER_UNPROVEN);
        ASSERT_STREQ(why, "a new cluster is made only when a majority of the 3 masters says none exists: 1 more must "
                          "answer (master-02: no answer, master-03: no answer)");
        /* ... and when one is up with the cluster's etcd data: a cluster exists, whatever the others say. */
        ClusterWitness holder[] = { { "master-02", true, true, CA_A }, { "master-03", true, false, "" } };
        ASSERT_INT_EQ(verdict(holder, 2, 3, NULL, &why), CLUSTER_EXISTS);
        ASSERT_STREQ(why, "a cluster exists (master-02: holds a cluster's etcd data, master-03: no cluster): this master "
                          "joins it, it never makes another");
        /* The bundle stage (no CA of its own yet): a master holding any CA holds a cluster. */
        ClusterWitness bundle[] = { { "master-02", true, false, CA_B }, { "master-03", true, false, "" } };
        ASSERT_INT_EQ(verdict(bundle, 2, 3, NULL, &why), CLUSTER_EXISTS);
        /* The etcd stage: the same CA as this master's is this cluster forming (the bundle it gave out). */
        ASSERT_INT_EQ(verdict(bundle, 2, 3, CA_B, &why), CLUSTER_NONE_PROVEN);
        ASSERT_INT_EQ(verdict(bundle, 2, 3, CA_A, &why), CLUSTER_EXISTS);
        /* Five masters: two others must say none. */
        ClusterWitness five[] = { { "m2", true, false, "" }, { "m3", false, false, NULL }, { "m4", false, false, NULL },
                                  { "m5", false, false, NULL } };
        ASSERT_INT_EQ(verdict(five, 4, 5, NULL, &why), CLUSTER_UNPROVEN);
        five[3].answered = true, five[3].ca = "";
        ASSERT_INT_EQ(verdict(five, 4, 5, NULL, &why), CLUSTER_NONE_PROVEN);
        /* Two masters: the other must say none. One master: nobody to ask. */
        ASSERT_INT_EQ(verdict(down, 1, 2, NULL, &why), CLUSTER_UNPROVEN);
        ASSERT_INT_EQ(verdict(fresh, 1, 2, NULL, &why), CLUSTER_NONE_PROVEN);
        ASSERT_INT_EQ(verdict(NULL, 0, 1, NULL, &why), CLUSTER_NONE_PROVEN);
        ASSERT_STREQ(why, "the only master: no other to ask");
        free(why);
}

static CephMonitor mons[] = {
        { (char *) "master-01", true },
        { (char *) "master-02", true },
        { (char *) "master-03", true },
        { (char *) "master-04", true }, /* a ceph-mon once, taken out of the inventory */
};

TEST(test_ceph_mon_not_in) {
        const CephMonitor *waiting = (const CephMonitor *) 1;
        CephQuorum q = { mons, 3 };
        ASSERT_NULL(ceph_mon_not_in(&q, ha, &waiting)); /* every monitor a ceph-mon node */
        ASSERT_NULL(waiting);
        q.n = 4;
        ASSERT_TRUE(ceph_mon_not_in(&q, ha, &waiting) == mons + 3);
        ASSERT_NULL(waiting);
        /* Another monitor out of the quorum: master-04 stays until it is back. */
        mons[1].in_quorum = false;
        ASSERT_TRUE(ceph_mon_not_in(&q, ha, &waiting) == mons + 3);
        ASSERT_TRUE(waiting == mons + 1);
        mons[1].in_quorum = true;
        /* The one to remove may itself be out: it is the one that is gone. */
        mons[3].in_quorum = false;
        ASSERT_TRUE(ceph_mon_not_in(&q, ha, &waiting) == mons + 3);
        ASSERT_NULL(waiting);
        /* Never the last monitor. */
        CephQuorum last = { mons + 3, 1 };
        ASSERT_NULL(ceph_mon_not_in(&last, ha, &waiting));
}

int main(int argc, char **argv) {
        ha = test_load_example(argc > 1 ? argv[1] : "examples", "ha");
        if (!ha) {
                printf("Bail out! examples/ha does not load\n");
                return 1;
        }
        RUN(test_every_member_a_master);
        RUN(test_removed_master);
        RUN(test_joining_member_left_alone);
        RUN(test_no_second_cluster);
        RUN(test_ceph_mon_not_in);
        inventory_free(ha);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
