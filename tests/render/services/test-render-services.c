/* SPDX-License-Identifier: Apache-2.0 */
/* The Kafka, Ceph, Mosquitto and CoreDNS renderers on the examples and on small inventories made here:
 * what an operator would check in the files, and that they agree with `clusterboot plan`. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "plan.h"
#include "render.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples;
static Inventory *homelab, *ha;
static Report report;

static Inventory *load_example(const char *name) {
        return test_load_example(examples, name);
}

/* An inventory from (name, content) pairs, NULL-terminated; NULL unless it is valid. */
static Inventory *load_mem(const char *const *files) {
        return test_load_mem_report(files, &report);
}

/* Renders one renderer (or all, only == NULL) for a node; 0 or the renderer's error. */
static int render(const Inventory *inv, const char *node, const char *only, RenderSet *ret) {
        const Node *n = inventory_find_node(inv, node);
        if (!n)
                return -ENOENT;
        *ret = (RenderSet) {};
        return render_node(inv, n, NULL, only, ret, NULL);
}

static const char *content(const RenderSet *s, const char *path) {
        const RenderedFile *f = render_set_find(s, path);
        return f ? f->content : NULL;
}

/* How many lines of text are exactly line. */
static unsigned count_line(const char *text, const char *line) {
        unsigned n = 0;
        size_t len = strlen(line);
        for (const char *p = text; p && *p;) {
                const char *e = strchrnul(p, '\n');
                if ((size_t) (e - p) == len && strncmp(p, line, len) == 0)
                        n++;
                p = *e ? e + 1 : e;
        }
        return n;
}

/* How many lines of text start with prefix. */
static unsigned count_prefix(const char *text, const char *prefix) {
        unsigned n = 0;
        for (const char *p = text; p && *p;) {
                if (strncmp(p, prefix, strlen(prefix)) == 0)
                        n++;
                const char *e = strchrnul(p, '\n');
                p = *e ? e + 1 : e;
        }
        return n;
}

/* The rest of the first line that starts with prefix, copied into buf. */
static const char *value_of(const char *text, const char *prefix, char *buf, size_t size) {
        for (const char *p = text; p && *p;) {
                const char *e = strchrnul(p, '\n');
                size_t len = strlen(prefix);
                if (strncmp(p, prefix, len) == 0) {
                        snprintf(buf, size, "%.*s", (int) (e - p - (ptrdiff_t) len), p + len);
                        return buf;
                }
                p = *e ? e + 1 : e;
        }
        return NULL;
}

static bool is_uuid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
                        return false;
        }
        return true;
}

static json_t *plan_node(json_t *plan, const char *name) {
        json_t *nodes = json_object_get(plan, "nodes");
        for (size_t i = 0; i < json_array_size(nodes); i++)
                if (streq(json_string_value(json_object_get(json_array_get(nodes, i), "name")), name))
                        return json_array_get(nodes, i);
        return NULL;
}

/* "/dev/sdb /dev/sdc" for the node: the OSD devices plan_build() lists for it, in its order. */
static void plan_osd_devices(json_t *plan, const char *node, char *buf, size_t size) {
        json_t *osds = json_object_get(json_object_get(plan, "ceph"), "osds");
        size_t len = 0;
        buf[0] = 0;
        for (size_t i = 0; i < json_array_size(osds); i++) {
                json_t *o = json_array_get(osds, i);
                if (!streq(json_string_value(json_object_get(o, "node")), node))
                        continue;
                len += (size_t) snprintf(buf + len, size - len, "%s%s", len ? " " : "",
                                         json_string_value(json_object_get(o, "device")));
        }
}

#define CLUSTER_HEAD                                                                                         \
        "cluster:\n"                                                                                         \
        "  name: t\n"                                                                                        \
        "  networking:\n"                                                                                    \
        "    node_cidr: 10.0.0.0/24\n"                                                                       \
        "    pod_cidr: 10.244.0.0/16\n"                                                                      \
        "    service_cidr: 10.96.0.0/12\n"

/* --- Kafka --- */

TEST(test_kafka_homelab) {
        RenderSet s;
        char buf[256];
        ASSERT_NOT_NULL(homelab);
        json_t *plan = plan_build(homelab);
        ASSERT_NOT_NULL(plan);
        ASSERT_INT_EQ(render(homelab, "kafka-01", "kafka", &s), 0);
        const char *p = content(&s, "/etc/kafka/server.properties");
        ASSERT_NOT_NULL(p);

        snprintf(buf, sizeof(buf), "node.id=%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(plan_node(plan, "kafka-01"), "kafka_node_id")));
        ASSERT_INT_EQ(count_line(p, buf), 1);
        ASSERT_INT_EQ(count_line(p, "node.id=1"), 1);
        snprintf(buf, sizeof(buf), "controller.quorum.voters=%s",
                 json_string_value(json_object_get(json_object_get(plan, "kafka"), "controller_quorum_voters")));
        ASSERT_INT_EQ(count_line(p, buf), 1);
        ASSERT_INT_EQ(count_line(p, "controller.quorum.voters=1@192.168.1.13:9093"), 1);
        ASSERT_INT_EQ(count_line(p, "process.roles=broker,controller"), 1);
        ASSERT_INT_EQ(count_line(p, "listeners=PLAINTEXT://192.168.1.13:9092,CONTROLLER://192.168.1.13:9093"), 1);
        ASSERT_INT_EQ(count_line(p, "advertised.listeners=PLAINTEXT://192.168.1.13:9092"), 1);
        ASSERT_INT_EQ(count_line(p, "controller.listener.names=CONTROLLER"), 1);
        ASSERT_INT_EQ(count_line(p, "log.dirs=/var/lib/kafka/data"), 1);
        ASSERT_INT_EQ(count_line(p, "default.replication.factor=1"), 1);
        /* One broker: the internal topics cannot have three replicas. */
        ASSERT_INT_EQ(count_line(p, "offsets.topic.replication.factor=1"), 1);
        ASSERT_INT_EQ(count_line(p, "transaction.state.log.replication.factor=1"), 1);
        ASSERT_INT_EQ(count_line(p, "transaction.state.log.min.isr=1"), 1);
        /* services/kafka.yaml's extra_properties */
        ASSERT_INT_EQ(count_line(p, "log.retention.hours=168"), 1);
        ASSERT_TRUE(strncmp(p, "# Generated by clusterboot", 26) == 0);

        ClusterIds ids;
        ASSERT_INT_EQ(cluster_ids_derive(homelab, &ids), 0);
        const char *env = content(&s, "/etc/cluster-config/environment/kafka.env");
        ASSERT_NOT_NULL(env);
        snprintf(buf, sizeof(buf), "KAFKA_CLUSTER_ID=\"%s\"", ids.kafka_cluster_id);
        ASSERT_INT_EQ(count_line(env, buf), 1);
        ASSERT_INT_EQ(count_line(env, "KAFKA_NODE_ID=\"1\""), 1);
        ASSERT_INT_EQ(s.n, 2);
        render_set_done(&s);

        /* Not a broker: nothing. */
        ASSERT_INT_EQ(render(homelab, "worker-01", "kafka", &s), 0);
        ASSERT_INT_EQ(s.n, 0);
        render_set_done(&s);
        json_decref(plan);
}

TEST(test_kafka_ha_voters) {
        static const char *const brokers[] = { "worker-01", "worker-02", "worker-03" };
        char buf[256], voters[256];
        ASSERT_NOT_NULL(ha);
        json_t *plan = plan_build(ha);
        ASSERT_NOT_NULL(plan);
        snprintf(voters, sizeof(voters), "controller.quorum.voters=%s",
                 json_string_value(json_object_get(json_object_get(plan, "kafka"), "controller_quorum_voters")));
        ASSERT_STREQ(voters, "controller.quorum.voters=1@10.20.0.21:9093,2@10.20.0.22:9093,3@10.20.0.23:9093");

        for (size_t i = 0; i < ELEMENTSOF(brokers); i++) {
                RenderSet s;
                ASSERT_INT_EQ(render(ha, brokers[i], "kafka", &s), 0);
                const char *p = content(&s, "/etc/kafka/server.properties");
                ASSERT_NOT_NULL(p);
                /* Every broker lists all three voters, the same way. */
                ASSERT_INT_EQ(count_line(p, voters), 1);
                snprintf(buf, sizeof(buf), "node.id=%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(plan_node(plan, brokers[i]), "kafka_node_id")));
                ASSERT_INT_EQ(count_line(p, buf), 1);
                ASSERT_INT_EQ(count_line(p, "offsets.topic.replication.factor=3"), 1);
                ASSERT_INT_EQ(count_line(p, "transaction.state.log.replication.factor=3"), 1);
                ASSERT_INT_EQ(count_line(p, "transaction.state.log.min.isr=2"), 1);
                ASSERT_INT_EQ(count_line(p, "default.replication.factor=3"), 1);
                snprintf(buf, sizeof(buf), "advertised.listeners=PLAINTEXT://10.20.0.2%zu:9092", i + 1);
                ASSERT_INT_EQ(count_line(p, buf), 1);
                render_set_done(&s);
        }
        json_decref(plan);
}

TEST(test_kafka_extra_properties_override) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [kafka]\n"
                             "nodes:\n"
                             "  - { name: b1, ip: 10.0.0.11, roles: [kafka-broker] }\n"
                             "  - { name: b2, ip: 10.0.0.12, roles: [kafka-broker] }\n",
                "services/kafka.yaml",
                "kafka:\n"
                "  default_replication_factor: 2\n"
                "  extra_properties:\n"
                "    num.partitions: \"12\"\n"
                "    log.dirs: /srv/kafka\n"
                "    auto.create.topics.enable: \"false\"\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "b2", "kafka", &s), 0);
        const char *p = content(&s, "/etc/kafka/server.properties");
        ASSERT_NOT_NULL(p);
        /* The given value replaces the generated line: one line per key, never two. */
        ASSERT_INT_EQ(count_prefix(p, "num.partitions="), 1);
        ASSERT_INT_EQ(count_line(p, "num.partitions=12"), 1);
        ASSERT_INT_EQ(count_prefix(p, "log.dirs="), 1);
        ASSERT_INT_EQ(count_line(p, "log.dirs=/srv/kafka"), 1);
        ASSERT_INT_EQ(count_line(p, "auto.create.topics.enable=false"), 1);
        ASSERT_INT_EQ(count_line(p, "node.id=2"), 1);
        ASSERT_INT_EQ(count_line(p, "controller.quorum.voters=1@10.0.0.11:9093,2@10.0.0.12:9093"), 1);
        ASSERT_INT_EQ(count_line(p, "offsets.topic.replication.factor=2"), 1);
        ASSERT_INT_EQ(count_line(p, "transaction.state.log.min.isr=1"), 1);
        render_set_done(&s);
        inventory_free(inv);
}

/* --- Ceph --- */

TEST(test_ceph_homelab) {
        RenderSet mon, osd;
        char buf[256], ids_buf[64];
        ASSERT_NOT_NULL(homelab);
        json_t *plan = plan_build(homelab);
        ASSERT_NOT_NULL(plan);
        ClusterIds ids;
        ASSERT_INT_EQ(cluster_ids_derive(homelab, &ids), 0);

        ASSERT_INT_EQ(render(homelab, "storage-01", "ceph", &mon), 0);
        ASSERT_INT_EQ(render(homelab, "worker-02", "ceph", &osd), 0);
        const char *conf = content(&mon, "/etc/ceph/ceph.conf");
        ASSERT_NOT_NULL(conf);
        /* Every Ceph node has the same ceph.conf. */
        ASSERT_STREQ(content(&osd, "/etc/ceph/ceph.conf"), conf);

        ASSERT_INT_EQ(count_line(conf, "[global]"), 1);
        ASSERT_NOT_NULL(value_of(conf, "fsid = ", buf, sizeof(buf)));
        ASSERT_TRUE(is_uuid(buf));
        ASSERT_STREQ(buf, ids.ceph_fsid);
        ASSERT_INT_EQ(count_line(conf, "mon_initial_members = storage-01"), 1);
        ASSERT_INT_EQ(count_line(conf, "mon_host = [v2:192.168.1.14:3300,v1:192.168.1.14:6789]"), 1);
        ASSERT_INT_EQ(count_line(conf, "public_network = 192.168.1.0/24"), 1);
        ASSERT_INT_EQ(count_line(conf, "cluster_network = 192.168.1.0/24"), 1);
        ASSERT_INT_EQ(count_line(conf, "auth_cluster_required = cephx"), 1);
        ASSERT_INT_EQ(count_line(conf, "auth_service_required = cephx"), 1);
        ASSERT_INT_EQ(count_line(conf, "auth_client_required = cephx"), 1);
        ASSERT_INT_EQ(count_line(conf, "osd_pool_default_size = 2"), 1);
        ASSERT_INT_EQ(count_line(conf, "osd_pool_default_min_size = 1"), 1);
        /* services/ceph.yaml's extra_config, in its section */
        ASSERT_INT_EQ(count_line(conf, "mon allow pool delete = false"), 1);
        ASSERT_INT_EQ(count_prefix(conf, "["), 1);

        /* The node's OSD devices as plan lists them; no ids: Ceph gives them when it makes each OSD. ceph.env
         * names neither (it is what the daemons restart for: a disk added restarts no monitor). */
        const char *env = content(&mon, "/etc/cluster-config/environment/ceph.env");
        ASSERT_NOT_NULL(env);
        plan_osd_devices(plan, "storage-01", ids_buf, sizeof(ids_buf));
        ASSERT_STREQ(ids_buf, "/dev/sdb /dev/sdc");
        ASSERT_INT_EQ(count_prefix(env, "CEPH_OSD_"), 0);
        ASSERT_INT_EQ(count_line(env, "CEPH_MON=\"1\""), 1);
        ASSERT_INT_EQ(count_line(env, "CEPH_NODE_NAME=\"storage-01\""), 1);

        env = content(&osd, "/etc/cluster-config/environment/ceph.env");
        ASSERT_NOT_NULL(env);
        plan_osd_devices(plan, "worker-02", ids_buf, sizeof(ids_buf));
        ASSERT_STREQ(ids_buf, "/dev/sdb");
        ASSERT_INT_EQ(count_prefix(env, "CEPH_OSD_"), 0);
        ASSERT_INT_EQ(count_line(env, "CEPH_MON=\"0\""), 1);

        render_set_done(&mon);
        render_set_done(&osd);
        json_decref(plan);
}

/* A Ceph cluster of the monitors MONS and one OSD node, with services/ceph.yaml's extra_config EXTRA. */
#define CEPH_INVENTORY(mons, extra)                                                                              \
        "cluster.yaml",                                                                                      \
                CLUSTER_HEAD "  services: [ceph]\n"                                                          \
                             "nodes:\n" mons "  - { name: o1, ip: 10.0.0.21, roles: [ceph-osd] }\n",         \
                "nodes/o1.yaml", "node:\n  name: o1\n  ceph:\n    osd_devices: [/dev/vdb]\n",                \
                "services/ceph.yaml",                                                                        \
                "ceph:\n  osd_pool_default_size: 1\n  osd_pool_default_min_size: 1\n  extra_config:\n    global:\n" \
                "      " extra "\n"

/* The env line "KEY=..." of the node's ceph.env, or "" (into buf). */
static void ceph_env_line(const Inventory *inv, const char *node, const char *key, char *buf, size_t size) {
        RenderSet s;
        buf[0] = 0;
        if (render(inv, node, "ceph", &s) < 0)
                return;
        const char *env = content(&s, "/etc/cluster-config/environment/ceph.env");
        const char *line = env ? strstr(env, key) : NULL;
        if (line)
                snprintf(buf, size, "%.*s", (int) strcspn(line, "\n"), line);
        render_set_done(&s);
}

TEST(test_ceph_settings_digest) {
        /* A monitor removed: ceph.conf's mon_host changes, ceph.env's digest of the settings does not, so no
         * Ceph daemon restarts (readers.c): a running daemon follows the monmap, and restarting a monitor
         * while the removed one is still in it could cost the quorum. Any other setting changes the digest. */
        static const char *const three[] = {
                CEPH_INVENTORY("  - { name: m1, ip: 10.0.0.11, roles: [ceph-mon] }\n"
                           "  - { name: m2, ip: 10.0.0.12, roles: [ceph-mon] }\n"
                           "  - { name: m3, ip: 10.0.0.13, roles: [ceph-mon] }\n", "mon allow pool delete: \"false\""),
                NULL,
        };
        static const char *const two[] = {
                CEPH_INVENTORY("  - { name: m2, ip: 10.0.0.12, roles: [ceph-mon] }\n"
                           "  - { name: m3, ip: 10.0.0.13, roles: [ceph-mon] }\n", "mon allow pool delete: \"false\""),
                NULL,
        };
        static const char *const resized[] = {
                CEPH_INVENTORY("  - { name: m1, ip: 10.0.0.11, roles: [ceph-mon] }\n"
                           "  - { name: m2, ip: 10.0.0.12, roles: [ceph-mon] }\n"
                           "  - { name: m3, ip: 10.0.0.13, roles: [ceph-mon] }\n", "mon allow pool delete: \"true\""),
                NULL,
        };
        Inventory *a = load_mem(three), *b = load_mem(two), *c = load_mem(resized);
        ASSERT_NOT_NULL(a);
        ASSERT_NOT_NULL(b);
        ASSERT_NOT_NULL(c);
        char da[128], db[128], dc[128];
        ceph_env_line(a, "m2", "CEPH_SETTINGS_SHA256=", da, sizeof(da));
        ceph_env_line(b, "m2", "CEPH_SETTINGS_SHA256=", db, sizeof(db));
        ceph_env_line(c, "m2", "CEPH_SETTINGS_SHA256=", dc, sizeof(dc));
        ASSERT_INT_EQ(strlen(da), strlen("CEPH_SETTINGS_SHA256=\"\"") + 64);
        ASSERT_STREQ(da, db);
        ASSERT_TRUE(strcmp(da, dc) != 0);
        RenderSet sa, sb;
        ASSERT_INT_EQ(render(a, "o1", "ceph", &sa), 0);
        ASSERT_INT_EQ(render(b, "o1", "ceph", &sb), 0);
        ASSERT_TRUE(strcmp(content(&sa, "/etc/ceph/ceph.conf"), content(&sb, "/etc/ceph/ceph.conf")) != 0);
        ASSERT_STREQ(content(&sa, "/etc/cluster-config/environment/ceph.env"),
                     content(&sb, "/etc/cluster-config/environment/ceph.env"));
        render_set_done(&sa);
        render_set_done(&sb);
        inventory_free(a);
        inventory_free(b);
        inventory_free(c);
}

TEST(test_ceph_ha) {
        static const char *const osds[] = { "worker-01", "worker-02", "worker-03" };
        char ids_buf[64];
        RenderSet s;
        ASSERT_NOT_NULL(ha);
        json_t *plan = plan_build(ha);
        ASSERT_NOT_NULL(plan);

        ASSERT_INT_EQ(render(ha, "master-02", "ceph", &s), 0);
        const char *conf = content(&s, "/etc/ceph/ceph.conf");
        ASSERT_NOT_NULL(conf);
        ASSERT_INT_EQ(count_line(conf, "mon_initial_members = master-01,master-02,master-03"), 1);
        ASSERT_INT_EQ(count_line(conf, "mon_host = [v2:10.20.0.11:3300,v1:10.20.0.11:6789],"
                                       "[v2:10.20.0.12:3300,v1:10.20.0.12:6789],"
                                       "[v2:10.20.0.13:3300,v1:10.20.0.13:6789]"),
                      1);
        /* Defaults: three copies, two needed. */
        ASSERT_INT_EQ(count_line(conf, "osd_pool_default_size = 3"), 1);
        ASSERT_INT_EQ(count_line(conf, "osd_pool_default_min_size = 2"), 1);
        ASSERT_INT_EQ(count_line(conf, "public_network = 10.20.0.0/24"), 1);
        ASSERT_INT_EQ(count_line(content(&s, "/etc/cluster-config/environment/ceph.env"), "CEPH_MON=\"1\""), 1);
        render_set_done(&s);

        for (size_t i = 0; i < ELEMENTSOF(osds); i++) {
                ASSERT_INT_EQ(render(ha, osds[i], "ceph", &s), 0);
                plan_osd_devices(plan, osds[i], ids_buf, sizeof(ids_buf));
                ASSERT_STREQ(ids_buf, "/dev/vdb");
                ASSERT_INT_EQ(count_prefix(content(&s, "/etc/cluster-config/environment/ceph.env"), "CEPH_OSD_"), 0);
                render_set_done(&s);
        }
        json_decref(plan);
}

TEST(test_ceph_extra_config_merge) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [ceph]\n"
                             "nodes:\n"
                             "  - { name: a, ip: 10.0.0.11, roles: [ceph-mon, ceph-osd] }\n",
                "nodes/a.yaml",
                "node: { name: a, ceph: { osd_devices: [/dev/vdb] } }\n",
                "services/ceph.yaml",
                "ceph:\n"
                "  osd_pool_default_size: 1\n"
                "  osd_pool_default_min_size: 1\n"
                "  extra_config:\n"
                "    global:\n"
                "      osd pool default size: \"1\"\n"
                "      auth client required: \"cephx, none\"\n"
                "      log file: \"/var/log/ceph/a#b;c.log\"\n"
                "    mon:\n"
                "      mon allow pool delete: \"true\"\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "a", "ceph", &s), 0);
        const char *conf = content(&s, "/etc/ceph/ceph.conf");
        ASSERT_NOT_NULL(conf);
        /* The same option in Ceph's eyes replaces the generated line... */
        ASSERT_INT_EQ(count_prefix(conf, "osd_pool_default_size"), 1);
        ASSERT_INT_EQ(count_prefix(conf, "osd pool default size"), 0);
        ASSERT_INT_EQ(count_line(conf, "auth_client_required = cephx, none"), 1);
        ASSERT_INT_EQ(count_prefix(conf, "auth client required"), 0);
        /* ...a value Ceph would cut at '#' or ';' is escaped... */
        ASSERT_INT_EQ(count_line(conf, "log file = /var/log/ceph/a\\#b\\;c.log"), 1);
        /* ...and a new section comes after [global]. */
        ASSERT_INT_EQ(count_line(conf, "[mon]"), 1);
        ASSERT_INT_EQ(count_line(conf, "mon allow pool delete = true"), 1);
        ASSERT_TRUE(strstr(conf, "[global]") < strstr(conf, "[mon]"));
        ASSERT_TRUE(strstr(conf, "[mon]") < strstr(conf, "mon allow pool delete"));
        ASSERT_INT_EQ(count_line(conf, "mon_host = [v2:10.0.0.11:3300,v1:10.0.0.11:6789]"), 1);
        render_set_done(&s);
        inventory_free(inv);
}

/* --- Mosquitto --- */

TEST(test_mosquitto_homelab) {
        RenderSet s;
        ASSERT_NOT_NULL(homelab);
        ASSERT_INT_EQ(render(homelab, "worker-01", "mosquitto", &s), 0);
        const char *conf = content(&s, "/etc/mosquitto/mosquitto.conf");
        ASSERT_NOT_NULL(conf);
        ASSERT_INT_EQ(count_line(conf, "per_listener_settings false"), 1);
        ASSERT_INT_EQ(count_line(conf, "allow_anonymous false"), 1);
        ASSERT_INT_EQ(count_line(conf, "password_file /etc/mosquitto/passwd"), 1);
        ASSERT_INT_EQ(count_line(conf, "acl_file /etc/mosquitto/acl"), 1);
        ASSERT_INT_EQ(count_line(conf, "persistence true"), 1);
        ASSERT_INT_EQ(count_line(conf, "persistence_location /var/lib/mosquitto/"), 1);
        ASSERT_INT_EQ(count_line(conf, "log_dest stderr"), 1);
        ASSERT_INT_EQ(count_line(conf, "listener 1883"), 1);
        ASSERT_INT_EQ(count_line(conf, "listener 8883"), 1);
        ASSERT_INT_EQ(count_line(conf, "cafile /etc/mosquitto/certs/ca.crt"), 1);
        ASSERT_INT_EQ(count_line(conf, "certfile /etc/mosquitto/certs/server.crt"), 1);
        ASSERT_INT_EQ(count_line(conf, "keyfile /etc/mosquitto/certs/server.key"), 1);
        /* The TLS options belong to the TLS listener: they come after it. */
        ASSERT_TRUE(strstr(conf, "listener 8883") < strstr(conf, "certfile"));
        /* per_listener_settings changes how the options after it are read: it comes first. */
        ASSERT_TRUE(strstr(conf, "per_listener_settings") < strstr(conf, "allow_anonymous"));

        const char *acl = content(&s, "/etc/mosquitto/acl");
        ASSERT_NOT_NULL(acl);
        ASSERT_TRUE(strstr(acl, "\nuser admin\ntopic readwrite #\n") != NULL);
        ASSERT_TRUE(strstr(acl, "\nuser sensors\ntopic write sensors/#\ntopic read commands/#\n") != NULL);
        ASSERT_INT_EQ(count_prefix(acl, "user "), 2);
        /* No rule before the first user: those would be for anonymous clients. */
        ASSERT_TRUE(strstr(acl, "topic") > strstr(acl, "user admin"));
        /* The password file holds secrets: made by the secrets stage, never rendered. */
        ASSERT_NULL(render_set_find(&s, "/etc/mosquitto/passwd"));
        ASSERT_INT_EQ(s.n, 2);
        render_set_done(&s);
}

TEST(test_mosquitto_no_tls_no_persistence) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [mqtt]\n"
                             "nodes:\n"
                             "  - { name: m, ip: 10.0.0.11, roles: [mqtt-broker] }\n",
                "services/mqtt.yaml",
                "mqtt: { port: 11883, tls_port: 0, persistence: false }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "m", "mosquitto", &s), 0);
        const char *conf = content(&s, "/etc/mosquitto/mosquitto.conf");
        ASSERT_NOT_NULL(conf);
        ASSERT_INT_EQ(count_prefix(conf, "listener "), 1);
        ASSERT_INT_EQ(count_line(conf, "listener 11883"), 1);
        ASSERT_INT_EQ(count_prefix(conf, "certfile"), 0);
        ASSERT_INT_EQ(count_line(conf, "persistence false"), 1);
        ASSERT_INT_EQ(count_prefix(conf, "persistence_location"), 0);
        /* The default user when none is written. */
        ASSERT_TRUE(strstr(content(&s, "/etc/mosquitto/acl"), "\nuser admin\ntopic readwrite #\n") != NULL);
        render_set_done(&s);
        inventory_free(inv);
}

/* --- CoreDNS --- */

TEST(test_coredns_homelab) {
        RenderSet s;
        char buf[256];
        ASSERT_NOT_NULL(homelab);
        ASSERT_INT_EQ(render(homelab, "master-01", "coredns", &s), 0);
        const char *cf = content(&s, "/etc/coredns/Corefile");
        ASSERT_NOT_NULL(cf);
        ASSERT_INT_EQ(count_line(cf, "homelab.lan:53 {"), 1);
        ASSERT_INT_EQ(count_line(cf, ".:53 {"), 1);
        /* The zone, Kubernetes' cluster domain (homelab runs Kubernetes), and the rest. */
        ASSERT_INT_EQ(count_line(cf, "    bind 192.168.1.10 127.0.0.1"), 3);
        ASSERT_INT_EQ(count_line(cf, "cluster.local:53 {"), 1);
        ASSERT_INT_EQ(count_line(cf, "    kubernetes cluster.local {"), 1);
        ASSERT_INT_EQ(count_line(cf, "        kubeconfig /run/credentials/coredns.service/kubeconfig"), 1);
        /* Answered from the API server, never forwarded: the forward line comes after its block. */
        ASSERT_TRUE(strstr(cf, "forward") > strstr(cf, "cluster.local:53 {"));
        /* The unit gets the kubeconfig as that credential, and waits for it. */
        const char *dropin = content(&s, "/etc/systemd/system/coredns.service.d/10-kubernetes.conf");
        ASSERT_NOT_NULL(dropin);
        ASSERT_INT_EQ(count_line(dropin, "LoadCredential=kubeconfig:/etc/kubernetes/coredns.conf"), 1);
        ASSERT_INT_EQ(count_line(dropin, "ConditionPathExists=/etc/kubernetes/coredns.conf"), 1);
        ASSERT_INT_EQ(count_line(cf, "    hosts /etc/coredns/hosts.homelab.lan {"), 1);
        /* No FQDN hostname outside the zone: the "." block has no hosts plugin. */
        ASSERT_INT_EQ(count_prefix(cf, "    hosts "), 1);
        ASSERT_INT_EQ(count_line(cf, "        fallthrough"), 1);
        ASSERT_INT_EQ(count_line(cf, "    file /etc/coredns/db.homelab.lan"), 1);
        ASSERT_INT_EQ(count_line(cf, "    forward . 192.168.1.1"), 1);
        ASSERT_INT_EQ(count_line(cf, "    errors"), 3);
        ASSERT_INT_EQ(count_line(cf, "    cache 30"), 3);
        ASSERT_INT_EQ(count_line(cf, "    reload"), 3);
        ASSERT_INT_EQ(count_line(cf, "    loop"), 1);
        ASSERT_INT_EQ(count_line(cf, "}"), 3);
        /* Names of the zone that are no node end in the zone file (SOA, NS): NXDOMAIN, not forwarded. */
        const char *db = content(&s, "/etc/coredns/db.homelab.lan");
        ASSERT_NOT_NULL(db);
        ASSERT_INT_EQ(count_line(db, "@\tIN SOA master-01.homelab.lan. hostmaster.homelab.lan. 1 7200 3600 1209600 30"), 1);
        ASSERT_INT_EQ(count_line(db, "@\tIN NS master-01.homelab.lan."), 1);
        /* The zone's hosts are not forwarded: the forward line is in the "." block only. */
        ASSERT_TRUE(strstr(cf, "forward") > strstr(cf, ".:53 {"));

        const char *hosts = content(&s, "/etc/coredns/hosts.homelab.lan");
        ASSERT_NOT_NULL(hosts);
        for (size_t i = 0; i < homelab->n_nodes; i++) {
                const Node *n = homelab->nodes + i;
                char ip[IP_ADDR_STRLEN];
                render_ip(&n->ip, ip);
                snprintf(buf, sizeof(buf), "%s\t%s.homelab.lan", ip, n->hostname);
                ASSERT_INT_EQ(count_line(hosts, buf), 1);
        }
        ASSERT_INT_EQ(count_line(hosts, "192.168.1.14\tstorage-01.homelab.lan"), 1);
        render_set_done(&s);

        ASSERT_INT_EQ(render(homelab, "worker-01", "coredns", &s), 0);
        ASSERT_INT_EQ(s.n, 0);
        render_set_done(&s);
}

TEST(test_coredns_ha) {
        RenderSet s;
        ASSERT_NOT_NULL(ha);
        ASSERT_INT_EQ(render(ha, "master-02", "coredns", &s), 0);
        const char *cf = content(&s, "/etc/coredns/Corefile");
        ASSERT_NOT_NULL(cf);
        /* The zone defaults to the cluster's domain, the forwarders to its DNS servers. */
        ASSERT_INT_EQ(count_line(cf, "ha.example.lan:53 {"), 1);
        ASSERT_INT_EQ(count_line(cf, "    bind 10.20.0.12 127.0.0.1"), 3);
        ASSERT_INT_EQ(count_line(cf, "    forward . 10.20.0.1"), 1);
        const char *hosts = content(&s, "/etc/coredns/hosts.ha.example.lan");
        ASSERT_NOT_NULL(hosts);
        ASSERT_INT_EQ(count_prefix(hosts, "10.20.0."), 6);
        render_set_done(&s);
}

TEST(test_coredns_no_forwarders_other_port) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  services: [dns]\n"
                             "nodes:\n"
                             "  - { name: d, ip: 10.0.0.11, roles: [dns-server], hostname: ns1 }\n"
                             "  - { name: e, ip: 10.0.0.12, roles: [dns-server] }\n",
                "services/dns.yaml",
                "dns: { port: 5353 }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "d", "coredns", &s), 0);
        const char *cf = content(&s, "/etc/coredns/Corefile");
        ASSERT_NOT_NULL(cf);
        /* No domain: the zone is NAME.local. */
        ASSERT_INT_EQ(count_line(cf, "t.local:5353 {"), 1);
        ASSERT_INT_EQ(count_line(cf, ".:5353 {"), 1);
        ASSERT_INT_EQ(count_prefix(cf, "    forward"), 0);
        /* No Kubernetes in this cluster: no cluster-domain block, no kubeconfig named, no drop-in. */
        ASSERT_INT_EQ(count_prefix(cf, "    kubernetes"), 0);
        ASSERT_NULL(strstr(cf, "kubeconfig"));
        ASSERT_INT_EQ(s.n, 3);
        const char *hosts = content(&s, "/etc/coredns/hosts.t.local");
        ASSERT_NOT_NULL(hosts);
        /* A hostname other than the name: both are served. */
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.11\tns1.t.local d.t.local"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.12\te.t.local"), 1);
        render_set_done(&s);
        inventory_free(inv);
}

/* Dotted hostnames: the first label under the zone, as an undotted hostname, and the FQDN itself, in the
 * zone or (through the "." block, and only that name) outside it. */
TEST(test_coredns_fqdn_hostnames) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  domain: lab.internal\n"
                             "  services: [dns]\n"
                             "nodes:\n"
                             "  - { name: d, ip: 10.0.0.11, roles: [dns-server], hostname: ns1.lab.internal }\n"
                             "  - { name: e, ip: 10.0.0.12, roles: [dns-server], hostname: wk-1.dc2.example.com }\n"
                             "  - { name: f, ip: 10.0.0.13, roles: [dns-server], hostname: st-1.rack2.lab.internal }\n"
                             "  - { name: g, ip: 10.0.0.14, roles: [dns-server], hostname: g.lab.internal }\n"
                             "  - { name: h, ip: 10.0.0.15, roles: [dns-server], hostname: hh }\n"
                             "  - { name: i, ip: 10.0.0.16, roles: [dns-server], hostname: db.corp.example.org }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "d", "coredns", &s), 0);
        const char *hosts = content(&s, "/etc/coredns/hosts.lab.internal");
        ASSERT_NOT_NULL(hosts);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.11\tns1.lab.internal d.lab.internal"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.12\twk-1.lab.internal e.lab.internal wk-1.dc2.example.com"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.13\tst-1.lab.internal f.lab.internal st-1.rack2.lab.internal"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.14\tg.lab.internal"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.15\thh.lab.internal h.lab.internal"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.16\tdb.lab.internal i.lab.internal db.corp.example.org"), 1);
        /* No name is the cluster domain appended to a FQDN. */
        ASSERT_NULL(strstr(hosts, ".com.lab.internal"));

        const char *cf = content(&s, "/etc/coredns/Corefile");
        ASSERT_NOT_NULL(cf);
        /* The zone's block is as before ... */
        ASSERT_INT_EQ(count_line(cf, "    hosts /etc/coredns/hosts.lab.internal {"), 1);
        /* ... and the "." block answers for exactly the FQDNs outside the zone, forwarding everything else,
         * PTR queries too. */
        ASSERT_INT_EQ(count_line(cf, "    hosts /etc/coredns/hosts.lab.internal wk-1.dc2.example.com "
                                     "db.corp.example.org {"),
                      1);
        ASSERT_INT_EQ(count_line(cf, "        no_reverse"), 1);
        ASSERT_INT_EQ(count_line(cf, "        fallthrough"), 2);
        const char *root = strstr(cf, ".:53 {");
        ASSERT_NOT_NULL(root);
        ASSERT_TRUE(strstr(cf, "no_reverse") > root);
        ASSERT_TRUE(strstr(root, "wk-1.dc2.example.com") < strstr(root, "\n}"));

        /* SOA and NS name the servers by their first label in the zone. */
        const char *db = content(&s, "/etc/coredns/db.lab.internal");
        ASSERT_NOT_NULL(db);
        ASSERT_INT_EQ(count_line(db, "@\tIN SOA ns1.lab.internal. hostmaster.lab.internal. 1 7200 3600 1209600 30"), 1);
        ASSERT_INT_EQ(count_line(db, "@\tIN NS wk-1.lab.internal."), 1);
        ASSERT_INT_EQ(count_line(db, "@\tIN NS st-1.lab.internal."), 1);
        ASSERT_INT_EQ(count_line(db, "@\tIN NS hh.lab.internal."), 1);
        render_set_done(&s);
        inventory_free(inv);
}

/* --- all four together --- */

static bool same_set(const RenderSet *a, const RenderSet *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq(a->files[i].path, b->files[i].path) || a->files[i].mode != b->files[i].mode ||
                    a->files[i].size != b->files[i].size ||
                    memcmp(a->files[i].content, b->files[i].content, a->files[i].size) != 0)
                        return false;
        return true;
}

TEST(test_deterministic_and_headed) {
        static const char *const mine[] = { "kafka", "ceph", "mosquitto", "coredns" };
        const Inventory *invs[] = { homelab, ha };
        size_t files = 0;
        for (size_t k = 0; k < ELEMENTSOF(invs); k++) {
                ASSERT_NOT_NULL(invs[k]);
                for (size_t i = 0; i < invs[k]->n_nodes; i++)
                        for (size_t j = 0; j < ELEMENTSOF(mine); j++) {
                                RenderSet a, b;
                                const char *name = invs[k]->nodes[i].name;
                                ASSERT_INT_EQ(render(invs[k], name, mine[j], &a), 0);
                                ASSERT_INT_EQ(render(invs[k], name, mine[j], &b), 0);
                                bool same = same_set(&a, &b);
                                for (size_t f = 0; f < a.n; f++) {
                                        /* "#" or, in a DNS zone file, ";" */
                                        if (strncmp(a.files[f].content + 1, " Generated by clusterboot", 25) != 0) {
                                                printf("# %s: no header\n", a.files[f].path);
                                                same = false;
                                        }
                                        /* None of these files is secret. */
                                        if (a.files[f].mode != 0644)
                                                same = false;
                                }
                                files += a.n;
                                render_set_done(&a);
                                render_set_done(&b);
                                ASSERT_TRUE(same);
                        }
        }
        /* homelab: kafka 2 + ceph 2*2 + mosquitto 2 + coredns 4; ha: kafka 3*2 + ceph 6*2 + mosquitto 2 +
         * coredns 2*4 (Corefile, hosts, zone file, the unit's drop-in: both run Kubernetes) */
        ASSERT_INT_EQ(files, 12 + 28);
}

TEST(test_whole_node_render) {
        /* With every other renderer: no path is written twice (render_set_add() would say -EEXIST). */
        const Inventory *invs[] = { homelab, ha };
        for (size_t k = 0; k < ELEMENTSOF(invs); k++) {
                ASSERT_NOT_NULL(invs[k]);
                for (size_t i = 0; i < invs[k]->n_nodes; i++) {
                        RenderSet s = {};
                        const char *failed = NULL;
                        int r = render_node(invs[k], invs[k]->nodes + i, NULL, NULL, &s, &failed);
                        if (r < 0)
                                printf("# %s: renderer %s: %s\n", invs[k]->nodes[i].name, failed ?: "?",
                                       strerror(-r));
                        render_set_done(&s);
                        ASSERT_INT_EQ(r, 0);
                }
        }
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        homelab = load_example("homelab");
        ha = load_example("ha");

        RUN(test_kafka_homelab);
        RUN(test_kafka_ha_voters);
        RUN(test_kafka_extra_properties_override);
        RUN(test_ceph_homelab);
        RUN(test_ceph_ha);
        RUN(test_ceph_settings_digest);
        RUN(test_ceph_extra_config_merge);
        RUN(test_mosquitto_homelab);
        RUN(test_mosquitto_no_tls_no_persistence);
        RUN(test_coredns_homelab);
        RUN(test_coredns_ha);
        RUN(test_coredns_no_forwarders_other_port);
        RUN(test_coredns_fqdn_hostnames);
        RUN(test_deterministic_and_headed);
        RUN(test_whole_node_render);

        inventory_free(homelab);
        inventory_free(ha);
        report_done(&report);
        return tap_done();
}
