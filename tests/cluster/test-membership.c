/* SPDX-License-Identifier: Apache-2.0 */
/* Which etcd member sync removes: a started member that no master of the inventory names. */
#include <stdio.h>
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

int main(int argc, char **argv) {
        ha = test_load_example(argc > 1 ? argv[1] : "examples", "ha");
        if (!ha) {
                printf("Bail out! examples/ha does not load\n");
                return 1;
        }
        RUN(test_every_member_a_master);
        RUN(test_removed_master);
        RUN(test_joining_member_left_alone);
        inventory_free(ha);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
