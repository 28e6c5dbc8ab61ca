/* SPDX-License-Identifier: Apache-2.0 */
/* `apply`'s rules: examples/ha as the running cluster, edited copies of it as the new inventory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "fileio.h"
#include "inventory.h"
#include "string-util.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples;
static Report report;
static InventoryDiff diff;

static const char *const ha_files[] = {
        "cluster.yaml", "nodes/worker-01.yaml", "nodes/worker-02.yaml", "nodes/worker-03.yaml",
        "services/kubernetes.yaml", "services/mqtt.yaml", NULL,
};

/* examples/ha with edits: { FILE, OLD, NEW } triples (OLD "" appends NEW; FILE new: NEW is the file),
 * NULL-terminated. NULL when the result is no valid inventory (its problems printed). */
static Inventory *ha(const char *const *edits) {
        const char *files[2 * 16 + 1] = {};
        char *owned[16] = {};
        size_t n = 0;
        for (size_t i = 0; ha_files[i]; i++) {
                _cleanup_free_ char *path = strprintf("%s/ha/%s", examples, ha_files[i]);
                size_t size;
                files[2 * n] = ha_files[i];
                if (!path || read_full_file(path, 1 << 20, &owned[n], &size) < 0)
                        return NULL;
                n++;
        }
        for (size_t e = 0; edits && edits[e]; e += 3) {
                size_t k = 0;
                while (k < n && !streq(files[2 * k], edits[e]))
                        k++;
                if (k == n) {
                        files[2 * n] = edits[e];
                        owned[n++] = strdup(edits[e + 2]);
                        continue;
                }
                char *changed = edits[e + 1][0] ? strreplace(owned[k], edits[e + 1], edits[e + 2])
                                                : strprintf("%s%s", owned[k], edits[e + 2]);
                if (!changed || streq(changed, owned[k])) {
                        fprintf(stderr, "edit of %s did not apply: %s\n", edits[e], edits[e + 1]);
                        free(changed);
                        changed = NULL;
                }
                free(owned[k]);
                owned[k] = changed;
        }
        for (size_t k = 0; k < n; k++)
                files[2 * k + 1] = owned[k];
        Inventory *inv = NULL;
        bool complete = true;
        for (size_t k = 0; k < n; k++)
                complete = complete && owned[k];
        if (complete)
                inv = test_load_mem_report(files, &report);
        for (size_t k = 0; k < n; k++)
                free(owned[k]);
        return inv;
}

/* Compares examples/ha with running_edits (running) with examples/ha with edits; the refusals stay in
 * report. */
static int compare_edited(const char *const *running_edits, const char *const *edits) {
        Inventory *running = ha(running_edits), *proposed = ha(edits);
        int r = -EINVAL;
        inventory_diff_done(&diff);
        if (running && proposed) {
                report_done(&report);
                report_init(&report, &proposed->sources);
                r = inventory_compare(running, proposed, &report, &diff);
                report_sort(&report);
                report_print_text(&report, stderr);
        }
        inventory_free(running);
        inventory_free(proposed);
        return r;
}

static int compare(const char *const *edits) {
        return compare_edited(NULL, edits);
}

static const Diagnostic *refusal(const char *needle) {
        for (size_t i = 0; i < report.n_diags; i++)
                if (report.diags[i].severity == SEVERITY_ERROR && strstr(report.diags[i].message, needle))
                        return report.diags + i;
        return NULL;
}

static bool has(char **v, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i], s))
                        return true;
        return false;
}

TEST(test_same_inventory_changes_nothing) {
        ASSERT_INT_EQ(compare(NULL), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_TRUE(inventory_diff_empty(&diff));
}

TEST(test_worker_added) {
        static const char *const e[] = {
                "cluster.yaml", "", "  - name: worker-04\n    ip: 10.20.0.24\n    roles: [worker]\n", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_INT_EQ(diff.n_added, 1);
        ASSERT_STREQ(diff.added[0], "worker-04");
        ASSERT_INT_EQ(diff.n_removed + diff.n_changed + diff.n_settings, 0);
}

TEST(test_label_and_taint_changed) {
        static const char *const e[] = {
                "nodes/worker-01.yaml", "zone: zone-1", "zone: zone-2",
                "nodes/worker-02.yaml", "", "  taints: [\"dedicated=kafka:NoSchedule\"]\n", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_INT_EQ(diff.n_changed, 2);
        ASSERT_STREQ(diff.changed[0].name, "worker-01");
        ASSERT_INT_EQ(diff.changed[0].n_what, 1);
        ASSERT_STREQ(diff.changed[0].what[0], "labels");
        ASSERT_STREQ(diff.changed[1].name, "worker-02");
        ASSERT_STREQ(diff.changed[1].what[0], "taints");
}

TEST(test_settings_changed) {
        static const char *const e[] = {
                "services/kubernetes.yaml", "", "  extra_args:\n    kubelet: { max-pods: \"200\" }\n",
                "cluster.yaml", "dns_servers: [10.20.0.1]", "dns_servers: [10.20.0.1, 10.20.0.2]", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_INT_EQ(diff.n_settings, 3);
        ASSERT_TRUE(has(diff.settings, diff.n_settings, "kubernetes.extra_args"));
        ASSERT_TRUE(has(diff.settings, diff.n_settings, "cluster.networking.dns_servers"));
        /* CoreDNS forwards to the cluster's DNS servers when dns.forwarders is not written: it changes too. */
        ASSERT_TRUE(has(diff.settings, diff.n_settings, "dns.forwarders"));
}

TEST(test_networks_cannot_change) {
        static const char *const e[] = {
                "cluster.yaml", "node_cidr: 10.20.0.0/24", "node_cidr: 10.20.0.0/23",
                "cluster.yaml", "pod_cidr: 10.244.0.0/16", "pod_cidr: 10.245.0.0/16", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_INT_EQ(report.n_errors, 2);
        const Diagnostic *d = refusal("cluster.networking.node_cidr cannot change in place (10.20.0.0/24 to 10.20.0.0/23)");
        ASSERT_NOT_NULL(d);
        ASSERT_TRUE(strstr(d->message, "etcd peer URLs"));
        ASSERT_INT_EQ(d->loc.line, 8); /* the new value in cluster.yaml */
        ASSERT_NOT_NULL(d->hint);
        ASSERT_NOT_NULL(refusal("cluster.networking.pod_cidr cannot change in place"));
}

TEST(test_rename_refused) {
        /* master-03's machine (its MAC) under a new name. */
        static const char *const e[] = { "cluster.yaml", "name: master-03", "name: master-04", NULL };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_NOT_NULL(refusal("node master-04 has the MAC address of node master-03, which this inventory removes"));
}

TEST(test_address_change_refused) {
        static const char *const e[] = { "cluster.yaml", "ip: 10.20.0.22", "ip: 10.20.0.32", NULL };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_NOT_NULL(refusal("node worker-02: its address cannot change in place (10.20.0.22 to 10.20.0.32)"));
}

TEST(test_one_master_removed) {
        /* 3 -> 2 etcd members and monitors: a majority stays. */
        static const char *const e[] = {
                "cluster.yaml",
                "  - name: master-03\n    ip: 10.20.0.13\n    roles: [master, ceph-mon]\n"
                "    mac_addresses: [\"52:54:00:20:00:13\"]\n",
                "", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_INT_EQ(diff.n_removed, 1);
        ASSERT_STREQ(diff.removed[0], "master-03");
}

TEST(test_two_masters_removed_refused) {
        static const char *const e[] = {
                "cluster.yaml",
                "  - name: master-02\n    ip: 10.20.0.12\n    roles: [master, ceph-mon, dns-server]\n"
                "    mac_addresses: [\"52:54:00:20:00:12\"]\n"
                "  - name: master-03\n    ip: 10.20.0.13\n    roles: [master, ceph-mon]\n"
                "    mac_addresses: [\"52:54:00:20:00:13\"]\n",
                "", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_NOT_NULL(refusal("2 nodes with role master removed at once: etcd members are removed one at a time"));
        ASSERT_NOT_NULL(refusal("2 nodes with role ceph-mon removed at once"));
}

TEST(test_kafka_voters_fixed) {
        /* The running cluster has a fourth broker, the new inventory not. */
        static const char *const four[] = {
                "cluster.yaml", "", "  - name: worker-04\n    ip: 10.20.0.24\n    roles: [worker, kafka-broker]\n", NULL,
        };
        ASSERT_INT_EQ(compare_edited(four, NULL), 0);
        const Diagnostic *d = refusal("node worker-04: a Kafka broker cannot be removed from a running cluster");
        ASSERT_NOT_NULL(d);
        ASSERT_TRUE(strstr(d->message, "quorum is static"));
        ASSERT_INT_EQ(compare(four), 0);
        ASSERT_NOT_NULL(refusal("node worker-04: a Kafka broker cannot be added to a running cluster"));
        static const char *const taken[] = {
                "cluster.yaml", "roles: [worker, ceph-osd, kafka-broker]\n    mac_addresses: [\"52:54:00:20:00:23\"]",
                "roles: [worker, ceph-osd]\n    mac_addresses: [\"52:54:00:20:00:23\"]",
                "services/kafka.yaml", "", "kafka:\n  default_replication_factor: 2\n", NULL,
        };
        ASSERT_INT_EQ(compare(taken), 0);
        ASSERT_NOT_NULL(refusal("node worker-03: role kafka-broker cannot be taken away in place"));
        ASSERT_TRUE(has(diff.settings, diff.n_settings, "kafka.default_replication_factor"));
}

TEST(test_master_role_given_refused) {
        static const char *const e[] = {
                "cluster.yaml", "roles: [worker, ceph-osd, kafka-broker, mqtt-broker]",
                "roles: [worker, ceph-osd, kafka-broker, mqtt-broker, ceph-mon]", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_NOT_NULL(refusal("node worker-01: role ceph-mon cannot be given in place"));
        ASSERT_INT_EQ(report.n_errors, 1);
}

TEST(test_osds_added_and_removed_anywhere) {
        /* OSD ids are Ceph's, recorded on each node when it makes an OSD (osd-record.h): an OSD node that
         * sorts first, a disk taken from the front of a list, the list reordered -- no OSD gets another id,
         * so none is refused. */
        static const char *const first[] = {
                "cluster.yaml", "", "  - name: worker-00\n    ip: 10.20.0.20\n    roles: [worker, ceph-osd]\n",
                "nodes/worker-00.yaml", "", "node:\n  name: worker-00\n  ceph:\n    osd_devices: [/dev/vdb]\n", NULL,
        };
        ASSERT_INT_EQ(compare(first), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_INT_EQ(diff.n_added, 1);
        ASSERT_STREQ(diff.added[0], "worker-00");

        static const char *const two[] = { "nodes/worker-01.yaml", "[/dev/vdb]", "[/dev/vdb, /dev/vdc]", NULL };
        static const char *const front_removed[] = { "nodes/worker-01.yaml", "[/dev/vdb]", "[/dev/vdc]", NULL };
        ASSERT_INT_EQ(compare_edited(two, front_removed), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_INT_EQ(diff.n_changed, 1);
        ASSERT_STREQ(diff.changed[0].name, "worker-01");
        ASSERT_STREQ(diff.changed[0].what[0], "ceph.osd_devices");

        /* The same disks in another order: the same OSDs, nothing to change. */
        static const char *const reordered[] = { "nodes/worker-01.yaml", "[/dev/vdb]", "[/dev/vdc, /dev/vdb]", NULL };
        ASSERT_INT_EQ(compare_edited(two, reordered), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
        ASSERT_INT_EQ(diff.n_changed, 0);
}

TEST(test_state_disk_fixed) {
        /* Given to a running node: its state is on its root, and would be hidden by an empty disk. */
        static const char *const given[] = { "nodes/worker-01.yaml", "", "  state:\n    disk: /dev/vdc\n", NULL };
        ASSERT_INT_EQ(compare(given), 0);
        ASSERT_NOT_NULL(refusal("node worker-01: its state disk cannot change in place (none to /dev/vdc)"));
        ASSERT_INT_EQ(report.n_errors, 1);
        /* Taken away: the node's certificates and data stay on the disk. */
        ASSERT_INT_EQ(compare_edited(given, NULL), 0);
        ASSERT_NOT_NULL(refusal("node worker-01: its state disk cannot change in place (/dev/vdc to none)"));
        /* Kept as it was: nothing to say. */
        ASSERT_INT_EQ(compare_edited(given, given), 0);
        ASSERT_INT_EQ(report.n_errors, 0);
}

TEST(test_version_refused) {
        static const char *const e[] = {
                "services/kubernetes.yaml", "", "  version: \"1.29.0\"\n", NULL,
        };
        Inventory *running = ha(NULL);
        ASSERT_NOT_NULL(running);
        bool differs = !streq_ptr(running->kubernetes.version.v, "1.29.0");
        inventory_free(running);
        ASSERT_TRUE(differs);
        ASSERT_INT_EQ(compare(e), 0);
        ASSERT_NOT_NULL(refusal("kubernetes.version cannot change in place"));
}

TEST(test_unset_and_kafka_id) {
        /* A value written where there was none says "unset"; a broker's id written anew is refused. */
        static const char *const e[] = {
                "cluster.yaml", "  domain: ha.example.lan\n", "",
                "nodes/worker-02.yaml", "", "  kafka:\n    node_id: 7\n", NULL,
        };
        ASSERT_INT_EQ(compare_edited(NULL, e), 0);
        ASSERT_NOT_NULL(refusal("cluster.domain cannot change in place (ha.example.lan to unset)"));
        const Diagnostic *d = refusal("node worker-02: its Kafka node id would change (2 to 7)");
        ASSERT_NOT_NULL(d);
        ASSERT_STREQ(d->hint, "write the broker's id as it was in its node file (kafka.node_id)");
}

TEST(test_diff_json) {
        static const char *const e[] = {
                "cluster.yaml", "", "  - name: worker-04\n    ip: 10.20.0.24\n    roles: [worker]\n",
                "nodes/worker-01.yaml", "zone: zone-1", "zone: zone-2", NULL,
        };
        ASSERT_INT_EQ(compare(e), 0);
        json_t *j = inventory_diff_json(&diff);
        ASSERT_NOT_NULL(j);
        char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(j);
        ASSERT_STREQ(s, "{\"added\":[\"worker-04\"],\"changed\":[{\"node\":\"worker-01\",\"what\":[\"labels\"]}],"
                        "\"removed\":[],\"settings\":[]}");
        free(s);
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        RUN(test_same_inventory_changes_nothing);
        RUN(test_worker_added);
        RUN(test_label_and_taint_changed);
        RUN(test_settings_changed);
        RUN(test_networks_cannot_change);
        RUN(test_rename_refused);
        RUN(test_address_change_refused);
        RUN(test_one_master_removed);
        RUN(test_two_masters_removed_refused);
        RUN(test_kafka_voters_fixed);
        RUN(test_master_role_given_refused);
        RUN(test_osds_added_and_removed_anywhere);
        RUN(test_state_disk_fixed);
        RUN(test_version_refused);
        RUN(test_unset_and_kafka_id);
        RUN(test_diff_json);
        inventory_diff_done(&diff);
        report_done(&report);
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
