/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "state.h"
#include "tap.h"

static char root[64];

TEST(test_fresh_node) {
        ClusterState s;
        ASSERT_INT_EQ(cluster_state_load(root, &s), 0);
        ASSERT_INT_EQ(s.state, BOOTSTRAP_UNINITIALIZED);
        ASSERT_TRUE(!s.joined);
        ASSERT_NULL(s.node_role);
        ASSERT_INT_EQ(s.n_steps, 0);
        cluster_state_done(&s);
}

TEST(test_set_and_load) {
        ClusterState s;
        ASSERT_INT_EQ(cluster_state_mark_step(root, "etcd", 1000), 0);
        ASSERT_INT_EQ(cluster_state_mark_step(root, "kubelet", 2000), 0);
        ASSERT_INT_EQ(cluster_state_set_role(root, "first-master"), 0);
        ASSERT_INT_EQ(cluster_state_set_etcd_member_id(root, "8e9e05c52164694d"), 0);
        ASSERT_INT_EQ(cluster_state_set(root, BOOTSTRAP_BOOTSTRAPPED), 0);
        ASSERT_INT_EQ(cluster_state_load(root, &s), 0);
        ASSERT_INT_EQ(s.state, BOOTSTRAP_BOOTSTRAPPED);
        ASSERT_TRUE(s.joined);
        ASSERT_STREQ(s.node_role, "first-master");
        ASSERT_STREQ(s.etcd_member_id, "8e9e05c52164694d");
        ASSERT_INT_EQ(s.n_steps, 2);
        ASSERT_TRUE(cluster_state_step_done(&s, "etcd"));
        ASSERT_TRUE(!cluster_state_step_done(&s, "ceph-mon"));
        ASSERT_TRUE(s.state_since > 0);
        cluster_state_done(&s);
        /* Step names are file names: no way out of the steps folder. */
        ASSERT_INT_EQ(cluster_state_mark_step(root, "../escape", 1), -EINVAL);
}

TEST(test_garbage_state) {
        char path[128];
        snprintf(path, sizeof(path), "%s/var/lib/cluster-state/bootstrap-state", root);
        ASSERT_INT_EQ(write_file_atomic(path, "half-done\n", 10, 0644), 0);
        ClusterState s;
        ASSERT_INT_EQ(cluster_state_load(root, &s), -EBADMSG);
        /* reset is how to get out of that, step markers included. */
        ASSERT_INT_EQ(cluster_state_reset(root, false, NULL, NULL), 0);
        ASSERT_INT_EQ(cluster_state_load(root, &s), 0);
        ASSERT_INT_EQ(s.state, BOOTSTRAP_UNINITIALIZED);
        ASSERT_INT_EQ(s.n_steps, 0);
        cluster_state_done(&s);
}

static unsigned removed;
static void count(const char *path, void *userdata) {
        (void) path, (void) userdata;
        removed++;
}

TEST(test_reset) {
        ASSERT_INT_EQ(cluster_state_mark_step(root, "etcd", 1000), 0);
        ASSERT_INT_EQ(cluster_state_mark_step(root, "kubelet", 2000), 0);
        ASSERT_INT_EQ(cluster_state_set_role(root, "master"), 0);
        ASSERT_INT_EQ(cluster_state_set_etcd_member_id(root, "1"), 0);
        ASSERT_INT_EQ(cluster_state_set(root, BOOTSTRAP_JOINED), 0);
        removed = 0;
        ASSERT_INT_EQ(cluster_state_reset(root, true, count, NULL), 0); /* dry run */
        ASSERT_INT_EQ(removed, 6);
        ClusterState s;
        ASSERT_INT_EQ(cluster_state_load(root, &s), 0);
        ASSERT_INT_EQ(s.state, BOOTSTRAP_JOINED);
        cluster_state_done(&s);

        ASSERT_INT_EQ(cluster_state_reset(root, false, NULL, NULL), 0);
        ASSERT_INT_EQ(cluster_state_load(root, &s), 0);
        ASSERT_INT_EQ(s.state, BOOTSTRAP_UNINITIALIZED);
        ASSERT_TRUE(!s.joined);
        ASSERT_INT_EQ(s.n_steps, 0);
        cluster_state_done(&s);
}

int main(void) {
        snprintf(root, sizeof(root), "/tmp/test-state-XXXXXX");
        if (!mkdtemp(root))
                return 1;
        RUN(test_fresh_node);
        RUN(test_set_and_load);
        RUN(test_garbage_state);
        RUN(test_reset);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        if (system(cmd) != 0)
                return 1;
        return tap_done();
}
