/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "plan.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples;
static Report report;

/* Loads an inventory from (name, content) pairs, NULL-terminated, and validates it. */
static Inventory *load_mem(const char *const *files) {
        SourceSet set = {};
        Inventory *inv = NULL;

        report_done(&report);
        report_init(&report, NULL);
        for (size_t i = 0; files[i]; i += 2)
                source_set_add(&set, NULL, files[i], strdup(files[i + 1]), strlen(files[i + 1]));
        if (inventory_load_sources(NULL, &set, &report, &inv) < 0)
                return NULL;
        inventory_validate(inv, &report);
        report_sort(&report);
        return inv;
}

static bool has_message(const char *needle) {
        for (size_t i = 0; i < report.n_diags; i++)
                if (strstr(report.diags[i].message, needle))
                        return true;
        return false;
}

#define CLUSTER_HEAD                                                                                         \
        "cluster:\n"                                                                                         \
        "  name: t\n"                                                                                        \
        "  networking:\n"                                                                                    \
        "    node_cidr: 10.0.0.0/24\n"                                                                       \
        "    pod_cidr: 10.244.0.0/16\n"                                                                      \
        "    service_cidr: 10.96.0.0/12\n"

TEST(test_homelab) {
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/homelab", examples);
        Inventory *inv = NULL;
        report_done(&report);
        report_init(&report, NULL);
        ASSERT_INT_EQ(inventory_load_and_validate(dir, &report, &inv), 0);
        ASSERT_INT_EQ(report.n_diags, 0);
        ASSERT_INT_EQ(inv->n_nodes, 5);
        /* Nodes are sorted by name whatever the order in cluster.yaml. */
        ASSERT_STREQ(inv->nodes[0].name, "kafka-01");
        ASSERT_STREQ(inv->nodes[4].name, "worker-02");
        const Node *m = inventory_find_node(inv, "master-01");
        ASSERT_NOT_NULL(m);
        ASSERT_NOT_NULL(m->file);
        ASSERT_TRUE(m->roles[ROLE_MASTER] && m->roles[ROLE_DNS_SERVER] && !m->roles[ROLE_WORKER]);
        ASSERT_STREQ(m->macs[0], "52:54:00:12:34:10");
        ASSERT_INT_EQ(inventory_find_node(inv, "kafka-01")->kafka_node_id, 1);
        ASSERT_INT_EQ(inv->ceph.osd_pool_default_size.v, 2);
        ASSERT_INT_EQ(inv->mqtt.users.n, 2);
        ASSERT_NULL(inventory_find_node(inv, "nope"));
        inventory_free(inv);
}

TEST(test_defaults) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [kubernetes, kafka]\n"
                             "nodes:\n"
                             "  - { name: m, ip: 10.0.0.10, roles: [master] }\n"
                             "  - { name: b, ip: 10.0.0.11, roles: [worker, kafka-broker] }\n"
                             "  - { name: c, ip: 10.0.0.12, roles: [worker, kafka-broker] }\n"
                             "  - { name: d, ip: 10.0.0.13, roles: [worker, kafka-broker] }\n",
                "nodes/c.yaml",
                "node: { name: c, hostname: cee, kafka: { node_id: 1 } }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(report.n_diags, 0);
        ASSERT_TRUE(inv->services[SERVICE_KUBERNETES] && inv->services[SERVICE_KAFKA] && !inv->services[SERVICE_CEPH]);
        ASSERT_STREQ(inv->cluster.networking.cluster_domain.v, "cluster.local");
        ASSERT_INT_EQ(inv->kubernetes.api_server_port.v, 6443);
        ASSERT_STREQ(inv->kubernetes.pki.key_algorithm.v, "ecdsa-p256");
        ASSERT_STREQ(inv->dns.zone.v, "t.local");
        ASSERT_STREQ(inv->mqtt.users.items[0].name.v, "admin");
        /* The ceph network defaults to node_cidr and points at where node_cidr was written. */
        ASSERT_STREQ(inv->ceph.public_network.v, "10.0.0.0/24");
        ASSERT_INT_EQ(inv->ceph.public_network.loc.line, 4);
        /* Written ids are kept; the others get the smallest free ids in name order. */
        ASSERT_INT_EQ(inventory_find_node(inv, "b")->kafka_node_id, 2);
        ASSERT_INT_EQ(inventory_find_node(inv, "c")->kafka_node_id, 1);
        ASSERT_INT_EQ(inventory_find_node(inv, "d")->kafka_node_id, 3);
        ASSERT_INT_EQ(inventory_find_node(inv, "m")->kafka_node_id, -1);
        ASSERT_STREQ(inventory_find_node(inv, "c")->hostname, "cee");
        ASSERT_STREQ(inventory_find_node(inv, "b")->hostname, "b");
        inventory_free(inv);
}

TEST(test_all_problems_in_one_run) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [kubernetes]\n"
                             "nodes:\n"
                             "  - { name: m1, ip: 10.0.0.10, roles: [master] }\n"
                             "  - { name: m2, ip: 10.0.0.10, roles: [master] }\n"
                             "  - { name: w, ip: 10.0.1.5, roles: [worker, kafka-broker] }\n",
                "nodes/x.yaml",
                "node: { name: x }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_TRUE(has_message("duplicate ip '10.0.0.10'"));
        ASSERT_TRUE(has_message("is outside node_cidr"));
        ASSERT_TRUE(has_message("role 'kafka-broker' needs the kafka service"));
        ASSERT_TRUE(has_message("node file for unknown node 'x'"));
        ASSERT_TRUE(has_message("2 masters"));
        ASSERT_INT_EQ(report.n_errors, 4);
        ASSERT_INT_EQ(report.n_warnings, 1);
        /* Sorted by file, then line: cluster.yaml's problems first. */
        ASSERT_INT_EQ(report.diags[0].loc.file, 0);
        ASSERT_INT_EQ(report.diags[report.n_diags - 1].loc.file, 1);
        inventory_free(inv);
}

static size_t count_messages(const char *needle) {
        size_t n = 0;
        for (size_t i = 0; i < report.n_diags; i++)
                if (strstr(report.diags[i].message, needle))
                        n++;
        return n;
}

TEST(test_fqdn_hostnames) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  domain: lab.internal\n"
                             "  services: [kubernetes]\n"
                             "nodes:\n"
                             "  - { name: m, ip: 10.0.0.10, roles: [master], hostname: cp-a.lab.internal }\n"
                             "  - { name: a, ip: 10.0.0.11, roles: [worker], hostname: wk-1.dc2.example.com }\n"
                             "  - { name: b, ip: 10.0.0.12, roles: [worker], hostname: b.lab.internal }\n"
                             "  - { name: c, ip: 10.0.0.13, roles: [worker], hostname: cee }\n"
                             "  - { name: d, ip: 10.0.0.14, roles: [worker] }\n",
                "nodes/a.yaml",
                "node: { name: a, hostname: wk-1.dc2.example.com }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(report.n_diags, 0);
        /* Kept as written. */
        ASSERT_STREQ(inventory_find_node(inv, "m")->hostname, "cp-a.lab.internal");
        ASSERT_STREQ(inventory_find_node(inv, "a")->hostname, "wk-1.dc2.example.com");

        /* A dotted hostname is the FQDN, never with the domain added; an undotted one gets the domain. */
        NodeHostNames h;
        node_host_names(inv, inventory_find_node(inv, "m"), &h);
        ASSERT_STREQ(h.fqdn, "cp-a.lab.internal");
        ASSERT_STREQ(h.short_name, "cp-a");
        node_host_names(inv, inventory_find_node(inv, "a"), &h);
        ASSERT_STREQ(h.fqdn, "wk-1.dc2.example.com");
        ASSERT_STREQ(h.short_name, "wk-1");
        node_host_names(inv, inventory_find_node(inv, "c"), &h);
        ASSERT_STREQ(h.fqdn, "cee.lab.internal");
        ASSERT_STREQ(h.short_name, "cee");
        node_host_names(inv, inventory_find_node(inv, "d"), &h);
        ASSERT_STREQ(h.fqdn, "d.lab.internal");
        ASSERT_STREQ(h.short_name, "d");
        /* Without a domain, an undotted hostname is its own FQDN. */
        char *domain = inv->cluster.domain.v;
        inv->cluster.domain.v = NULL;
        node_host_names(inv, inventory_find_node(inv, "c"), &h);
        NodeHostNames m;
        node_host_names(inv, inventory_find_node(inv, "m"), &m);
        inv->cluster.domain.v = domain;
        ASSERT_STREQ(h.fqdn, "cee");
        ASSERT_STREQ(h.short_name, "cee");
        ASSERT_STREQ(m.fqdn, "cp-a.lab.internal");
        inventory_free(inv);
}

TEST(test_hostname_refused) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [kubernetes]\n"
                             "nodes:\n"
                             "  - { name: m, ip: 10.0.0.10, roles: [master], hostname: cp-a..lab }\n"
                             "  - { name: a, ip: 10.0.0.11, roles: [worker] }\n",
                "nodes/a.yaml",
                "node: { name: a, hostname: wk-1.Lab }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(report.n_errors, 2);
        ASSERT_TRUE(has_message("'hostname' must be a valid hostname, got 'cp-a..lab': label 2 is empty ('..')"));
        ASSERT_TRUE(has_message("'hostname' must be a valid hostname, got 'wk-1.Lab': label 2 'Lab' has 'L'"));
        /* With the rules below it. */
        ASSERT_TRUE(report.diags[0].hint && strstr(report.diags[0].hint, "at most 253 characters"));
        /* A name stays one label. */
        static const char *const dotted_name[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [kubernetes]\n"
                             "nodes:\n"
                             "  - { name: m.lab, ip: 10.0.0.10, roles: [master] }\n",
                NULL,
        };
        inventory_free(inv);
        inv = load_mem(dotted_name);
        ASSERT_NOT_NULL(inv);
        ASSERT_TRUE(has_message("'name' must be a DNS label"));
        inventory_free(inv);
}

TEST(test_hostname_first_label_clashes) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [kubernetes]\n"
                             "nodes:\n"
                             "  - { name: m, ip: 10.0.0.10, roles: [master], hostname: cp-a.lab.internal }\n"
                             /* the same first label in another domain */
                             "  - { name: a, ip: 10.0.0.11, roles: [worker], hostname: cp-a.dc2.internal }\n"
                             /* the same hostname: a duplicate, reported once */
                             "  - { name: b, ip: 10.0.0.12, roles: [worker], hostname: cp-a.lab.internal }\n"
                             /* a first label that is another node's name */
                             "  - { name: c, ip: 10.0.0.13, roles: [worker], hostname: m.dc2.internal }\n"
                             /* an undotted hostname that is another node's name (d's hostname is e) */
                             "  - { name: d, ip: 10.0.0.14, roles: [worker], hostname: e }\n"
                             "  - { name: e, ip: 10.0.0.15, roles: [worker], hostname: d }\n"
                             /* fine: the first label is its own name */
                             "  - { name: f, ip: 10.0.0.16, roles: [worker], hostname: f.lab.internal }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(count_messages("duplicate hostname 'cp-a.lab.internal': node 'm' has it too"), 1);
        ASSERT_INT_EQ(count_messages("hostname 'cp-a.dc2.internal' has the same first label 'cp-a' as the hostname "
                                     "'cp-a.lab.internal' of node 'm' (cluster.yaml:9)"),
                      1);
        ASSERT_INT_EQ(count_messages("hostname 'm.dc2.internal' has the first label 'm', the name of node 'm' "
                                     "(cluster.yaml:9)"),
                      1);
        ASSERT_INT_EQ(count_messages("hostname 'e' is the name of node 'e' (cluster.yaml:14)"), 1);
        ASSERT_INT_EQ(count_messages("hostname 'd' is the name of node 'd' (cluster.yaml:13)"), 1);
        ASSERT_INT_EQ(count_messages("'f"), 0);
        ASSERT_INT_EQ(report.n_errors, 5);
        for (size_t i = 0; i < report.n_diags; i++)
                if (strstr(report.diags[i].message, "first label") || strstr(report.diags[i].message, "the name of"))
                        ASSERT_TRUE(report.diags[i].hint && strstr(report.diags[i].hint, "/etc/hosts"));
        inventory_free(inv);
}

TEST(test_plan) {
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/ha", examples);
        Inventory *inv = NULL;
        report_done(&report);
        report_init(&report, NULL);
        ASSERT_INT_EQ(inventory_load_and_validate(dir, &report, &inv), 0);
        ASSERT_INT_EQ(report.n_diags, 0);

        json_t *plan = plan_build(inv);
        ASSERT_NOT_NULL(plan);
        json_t *k8s = json_object_get(plan, "kubernetes");
        ASSERT_STREQ(json_string_value(json_object_get(k8s, "first_master")), "master-01");
        ASSERT_STREQ(json_string_value(json_object_get(k8s, "api_service_ip")), "10.96.0.1");
        ASSERT_STREQ(json_string_value(json_object_get(k8s, "cluster_dns_ip")), "10.96.0.10");
        json_t *etcd = json_object_get(k8s, "etcd_bootstrap_order");
        ASSERT_INT_EQ(json_array_size(etcd), 3);
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(etcd, 0), "initial_cluster_state")), "new");
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(etcd, 1), "initial_cluster_state")), "existing");
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(etcd, 2), "node")), "master-03");
        json_t *kafka = json_object_get(plan, "kafka");
        ASSERT_STREQ(json_string_value(json_object_get(kafka, "controller_quorum_voters")),
                     "1@10.20.0.21:9093,2@10.20.0.22:9093,3@10.20.0.23:9093");
        json_t *ceph = json_object_get(plan, "ceph");
        ASSERT_STREQ(json_string_value(json_object_get(ceph, "mon_host")), "10.20.0.11,10.20.0.12,10.20.0.13");
        ASSERT_INT_EQ(json_array_size(json_object_get(ceph, "osds")), 3);
        json_decref(plan);
        inventory_free(inv);
}

/* The checks of a running cluster pick MQTT users by their ACLs from the plan: names and rules, no secret. */
TEST(test_plan_mqtt_users) {
        Inventory *inv = test_load_example(examples, "homelab");
        ASSERT_NOT_NULL(inv);

        json_t *plan = plan_build(inv);
        ASSERT_NOT_NULL(plan);
        json_t *users = json_object_get(json_object_get(plan, "mqtt"), "users");
        ASSERT_INT_EQ(json_array_size(users), 2);
        json_t *sensors = json_array_get(users, 1);
        ASSERT_STREQ(json_string_value(json_object_get(sensors, "name")), "sensors");
        json_t *acl = json_object_get(sensors, "acl");
        ASSERT_INT_EQ(json_array_size(acl), 2);
        ASSERT_STREQ(json_string_value(json_array_get(acl, 0)), "write sensors/#");
        ASSERT_STREQ(json_string_value(json_array_get(acl, 1)), "read commands/#");
        ASSERT_INT_EQ(json_object_size(sensors), 2); /* a name and its rules: never a password */
        json_decref(plan);
        inventory_free(inv);
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        RUN(test_homelab);
        RUN(test_defaults);
        RUN(test_all_problems_in_one_run);
        RUN(test_fqdn_hostnames);
        RUN(test_hostname_refused);
        RUN(test_hostname_first_label_clashes);
        RUN(test_plan);
        RUN(test_plan_mqtt_users);
        report_done(&report);
        return tap_done();
}
