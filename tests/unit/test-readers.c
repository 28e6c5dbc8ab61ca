/* SPDX-License-Identifier: Apache-2.0 */
/* Which units a changed file of a node restarts: the rendered configuration (sync), with templates expanded
 * to the node's own units. The certificates' part is in test-node-pki.c. */
#include <stdio.h>
#include <string.h>

#include "readers.h"
#include "tap.h"

static const char *const worker_units[] = { "containerd.service", "kubelet.service", "kube-proxy.service",
                                            "flanneld.service", "ceph-osd@0.service", "ceph-osd@3.service",
                                            "kafka.service", "mosquitto.service" };

static const char *joined(const char *const *units, size_t n) {
        static char list[1024];
        list[0] = 0;
        for (size_t i = 0; i < n; i++)
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "", units[i]);
        return list;
}

TEST(test_rendered_files) {
        const char *units[NODE_MAX_READERS];
        /* A Kafka setting and a kubelet argument: those two. */
        static const char *const kafka_kubelet[] = { "/etc/kafka/server.properties", "/etc/cluster-config/environment/kubelet.env" };
        size_t n = node_units_to_restart(kafka_kubelet, 2, worker_units, 8, units, NODE_MAX_READERS);
        ASSERT_STREQ(joined(units, n), "kubelet.service kafka.service");
        /* A Ceph setting changes ceph.env's digest of them: every Ceph daemon of this node, and only those. */
        static const char *const ceph[] = { "/etc/ceph/ceph.conf", "/etc/cluster-config/environment/ceph.env" };
        n = node_units_to_restart(ceph, 2, worker_units, 8, units, NODE_MAX_READERS);
        ASSERT_STREQ(joined(units, n), "ceph-osd@0.service ceph-osd@3.service");
        /* Without the node's units a template has nobody to stand for. */
        ASSERT_INT_EQ(node_units_to_restart(ceph, 2, NULL, 0, units, NODE_MAX_READERS), 0);
        /* Only the monitors' addresses (ceph.conf alone): nothing, a running daemon follows the monmap. */
        ASSERT_INT_EQ(node_units_to_restart(ceph, 1, worker_units, 8, units, NODE_MAX_READERS), 0);
}

TEST(test_read_again_by_their_programs) {
        /* A node added: /etc/hosts and CoreDNS's hosts file and Corefile change, and nothing restarts (the
         * hosts and reload plugins read them again). */
        static const char *const added[] = { "/etc/hosts", "/etc/coredns/hosts.ha.example.lan", "/etc/coredns/Corefile",
                                             "/etc/resolv.conf", "/etc/hostname" };
        const char *units[NODE_MAX_READERS];
        ASSERT_INT_EQ(node_units_to_restart(added, 5, worker_units, 8, units, NODE_MAX_READERS), 0);
        ASSERT_NULL(node_file_readers("/etc/hosts")[0]);
        /* The zone file's serial never changes: CoreDNS would keep the old one. */
        ASSERT_STREQ(node_file_readers("/etc/coredns/db.ha.example.lan")[0], "coredns.service");
        /* The network's file: at the next boot (documented), not by restarting networkd under the node. */
        ASSERT_NULL(node_file_readers("/etc/systemd/network/10-clusterboot.network")[0]);
}

TEST(test_inventory_files) {
        /* The join service judges joins by the inventory it read at its start. */
        static const char *const inv[] = { "/etc/cluster-config/nodes/worker-04.yaml", "/etc/cluster-config/cluster.yaml" };
        static const char *const master_units[] = { "etcd.service", "clusterboot-join.service", "kubelet.service" };
        const char *units[NODE_MAX_READERS];
        size_t n = node_units_to_restart(inv, 2, master_units, 3, units, NODE_MAX_READERS);
        ASSERT_STREQ(joined(units, n), "clusterboot-join.service");
        /* What the node's own programs write there is nobody's to restart for. */
        ASSERT_NULL(node_file_readers("/etc/cluster-config/node-identity")[0]);
        /* etcd reads its initial cluster only to make its member: a master removed from the inventory
         * changes it on the others, and restarting them then could cost the quorum. */
        ASSERT_NULL(node_file_readers("/etc/cluster-config/environment/etcd-initial.env")[0]);
}

TEST(test_order_and_once) {
        /* etcd before the API server before the kubelet, each once however many of its files changed. */
        static const char *const files[] = { "/etc/cluster-config/environment/kubelet.env",
                                             "/etc/cluster-config/environment/kube-apiserver.env",
                                             "/etc/cluster-config/environment/etcd.env", "/var/lib/kubelet/config.yaml",
                                             "/etc/kubernetes/pki/etcd/server.key" };
        const char *units[NODE_MAX_READERS];
        size_t n = node_units_to_restart(files, 5, NULL, 0, units, NODE_MAX_READERS);
        ASSERT_STREQ(joined(units, n), "etcd.service kube-apiserver.service kubelet.service");
        /* Room for one: the first. */
        ASSERT_INT_EQ(node_units_to_restart(files, 5, NULL, 0, units, 1), 1);
        ASSERT_STREQ(units[0], "etcd.service");
}

int main(void) {
        RUN(test_rendered_files);
        RUN(test_read_again_by_their_programs);
        RUN(test_inventory_files);
        RUN(test_order_and_once);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
