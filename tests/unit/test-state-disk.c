/* SPDX-License-Identifier: Apache-2.0 */
/* The state disk's rules: whose the marker says a disk is, and which disk is formatted, used or refused
 * (what blkid says a disk holds: test-disk-probe.c). The mounts themselves run in tests/cmd/test-state-disk.sh (loop devices) and
 * in tests/image (a netbooted machine under QEMU, booted twice). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "state-disk.h"
#include "tap.h"

TEST(test_marker) {
        StateDiskProbe p = {};
        char *text = state_disk_format_marker("homelab", "master-01", "2026-12-07T03:00:00Z");
        ASSERT_NOT_NULL(text);
        ASSERT_INT_EQ(state_disk_parse_marker(text, &p), 0);
        free(text);
        ASSERT_TRUE(p.marked);
        ASSERT_STREQ(p.cluster, "homelab");
        ASSERT_STREQ(p.node, "master-01");
        ASSERT_STREQ(p.created, "2026-12-07T03:00:00Z");
        state_disk_probe_done(&p);
        ASSERT_INT_EQ(state_disk_parse_marker("{\"cluster\": \"homelab\", \"created\": \"x\"}", &p), -EINVAL);
        ASSERT_INT_EQ(state_disk_parse_marker("{\"cluster\": \"\", \"node\": \"a\", \"created\": \"x\"}", &p), -EINVAL);
        ASSERT_INT_EQ(state_disk_parse_marker("not json", &p), -EINVAL);
        ASSERT_TRUE(!p.marked);
}

static StateDiskAction decide(const char *type, const char *cluster, const char *node, char **why) {
        StateDiskProbe p = { .content = { .blank = !type, .type = (char *) type }, .marked = cluster != NULL,
                             .cluster = (char *) cluster, .node = (char *) node, .created = "2026-12-01T10:00:00Z" };
        return state_disk_decide(&p, "homelab", "master-01", why);
}

TEST(test_decide) {
        char *why = NULL;
        ASSERT_INT_EQ(decide(NULL, NULL, NULL, &why), STATE_DISK_FORMAT);
        ASSERT_NULL(why);
        ASSERT_INT_EQ(decide("ext4", "homelab", "master-01", &why), STATE_DISK_USE);
        ASSERT_NULL(why);
        /* Never wiped: anything clusterboot did not make for this node of this cluster. */
        ASSERT_INT_EQ(decide("ext4", NULL, NULL, &why), STATE_DISK_REFUSE);
        ASSERT_STREQ(why, "it holds an ext4 file system without clusterboot's marker (clusterboot-state.json)");
        free(why);
        ASSERT_INT_EQ(decide("ext4", "lab", "master-01", &why), STATE_DISK_REFUSE);
        ASSERT_STREQ(why, "it holds the state of node master-01 of another cluster, lab (made 2026-12-01T10:00:00Z)");
        free(why);
        ASSERT_INT_EQ(decide("ext4", "homelab", "master-02", &why), STATE_DISK_REFUSE);
        ASSERT_STREQ(why, "it holds the state of another node of this cluster, master-02 (made 2026-12-01T10:00:00Z)");
        free(why);
        ASSERT_INT_EQ(decide("xfs", NULL, NULL, &why), STATE_DISK_REFUSE);
        ASSERT_STREQ(why, "it holds xfs, which clusterboot did not make");
        free(why);
        ASSERT_INT_EQ(decide("gpt", NULL, NULL, &why), STATE_DISK_REFUSE);
        ASSERT_STREQ(why, "it holds gpt, which clusterboot did not make");
        free(why);
}

static bool kept(const char *path) {
        for (size_t i = 0; i < state_disk_n_paths; i++) {
                size_t n = strlen(state_disk_paths[i]);
                if (strncmp(path, state_disk_paths[i], n) == 0 && (path[n] == '/' || path[n] == 0))
                        return true;
        }
        return false;
}

TEST(test_what_outlives_a_reboot) {
        /* The certificates and keys, the bootstrap's progress, and each service's data. */
        static const char *const state[] = { PKI_DIR "/ca.key", ETCD_PKI_DIR "/peer.key", KUBELET_CLIENT_PEM,
                                             STATE_DIR "/steps", ETCD_DATA_DIR "/member", CEPH_DATA_DIR "/mon/ceph-m1",
                                             CEPH_CONFIG_DIR "/ceph.client.admin.keyring", KAFKA_DATA_DIR "/data",
                                             MOSQUITTO_CONFIG_DIR "/certs/server.key", "/var/lib/containerd/io.containerd.content.v1.content" };
        for (size_t i = 0; i < sizeof(state) / sizeof(state[0]); i++)
                if (!kept(state[i]))
                        TAP_FAIL("%s is not kept on the state disk", state[i]);
        /* The image's own and the configuration each boot renders: the new image's win. */
        static const char *const image[] = { NODE_IDENTITY_PATH, CLUSTER_CONFIG_DIR "/cluster.yaml", JOIN_SECRET_PATH,
                                             NETWORKD_DIR "/10-clusterboot.network", "/etc/hosts", SYSTEMD_ADMIN_DIR "/etcd.service" };
        for (size_t i = 0; i < sizeof(image) / sizeof(image[0]); i++)
                if (kept(image[i]))
                        TAP_FAIL("%s is kept on the state disk", image[i]);
        /* One bind mount each: none inside another. */
        for (size_t i = 0; i < state_disk_n_paths; i++)
                for (size_t j = 0; j < state_disk_n_paths; j++) {
                        size_t n = strlen(state_disk_paths[j]);
                        if (i != j && strncmp(state_disk_paths[i], state_disk_paths[j], n) == 0 &&
                            state_disk_paths[i][n] == '/')
                                TAP_FAIL("%s is inside %s", state_disk_paths[i], state_disk_paths[j]);
                }
}

int main(void) {
        RUN(test_marker);
        RUN(test_decide);
        RUN(test_what_outlives_a_reboot);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
