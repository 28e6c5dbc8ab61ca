/* SPDX-License-Identifier: Apache-2.0 */
/* What the masters' join services keep in etcd (src/cluster/join-record.c), without etcd: the registry's
 * records and the decision on them, the registry as every node takes it in. The writes against real etcd are
 * in test-join-shared.sh, the registry reaching every node's /etc/hosts in test-bootstrap-join.sh. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "join-record.h"
#include "string-util.h"
#include "tap.h"
#include "test-inventory-util.h"

static const Registration want = { "node-aabbcc", "52:54:00:aa:bb:cc", "10.20.0.50" };

static char *record(const char *name, const char *mac, const char *ip) {
        Registration r = {};
        snprintf(r.name, sizeof(r.name), "%s", name);
        snprintf(r.mac, sizeof(r.mac), "%s", mac);
        snprintf(r.ip, sizeof(r.ip), "%s", ip);
        return registry_record_format(&r, "master-02", 1765000000);
}

TEST(test_record_round_trip) {
        _cleanup_free_ char *text = registry_record_format(&want, "master-01", 1765000000);
        ASSERT_STREQ(text, "{\"by\":\"master-01\",\"ip\":\"10.20.0.50\",\"mac\":\"52:54:00:aa:bb:cc\","
                           "\"name\":\"node-aabbcc\",\"time\":1765000000}");
        Registration back = {};
        ASSERT_INT_EQ(registry_record_parse(text, strlen(text), &back), 0);
        ASSERT_STREQ(back.name, want.name);
        ASSERT_STREQ(back.mac, want.mac);
        ASSERT_STREQ(back.ip, want.ip);
        static const char *const bad[] = {
                "", "[]", "{\"name\":\"n\",\"mac\":\"m\"}", "{\"name\":\"n\",\"mac\":\"m\",\"ip\":7}",
                "{\"name\":\"\",\"mac\":\"m\",\"ip\":\"i\"}",
                "{\"name\":\"n\",\"mac\":\"52:54:00:aa:bb:cc:dd\",\"ip\":\"i\"}", /* longer than a MAC */
                "{\"name\":\"n\",\"name\":\"n\",\"mac\":\"m\",\"ip\":\"i\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (registry_record_parse(bad[i], strlen(bad[i]), &back) != -EBADMSG)
                        TAP_FAIL("record %s was not refused", bad[i]);
}

static RegistryVerdict decide(const char *by_name, const char *by_address, Registration *holder, char *old_ip,
                              char *old_name) {
        return registry_decide(&want, by_name, by_address, holder, old_ip, old_name);
}

TEST(test_decide) {
        Registration holder = {};
        char old_ip[IP_ADDR_STRLEN], old_name[64];

        /* Nobody holds either: write both. */
        ASSERT_INT_EQ(decide(NULL, NULL, &holder, old_ip, old_name), REGISTRY_WRITE);
        ASSERT_STREQ(old_ip, "");
        ASSERT_STREQ(old_name, "");

        /* This machine, registered so before (asked again after a crash, or by another master). */
        _cleanup_free_ char *mine = record(want.name, want.mac, want.ip);
        ASSERT_INT_EQ(decide(mine, mine, &holder, old_ip, old_name), REGISTRY_SAME);

        /* Two machines whose MACs end alike want one name: the second is refused, told by whom. */
        _cleanup_free_ char *twin = record(want.name, "02:00:00:aa:bb:cc", "10.20.0.51");
        ASSERT_INT_EQ(decide(twin, NULL, &holder, old_ip, old_name), REGISTRY_NAME_TAKEN);
        ASSERT_STREQ(holder.mac, "02:00:00:aa:bb:cc");
        ASSERT_STREQ(holder.ip, "10.20.0.51");

        /* The address is another machine's. */
        _cleanup_free_ char *other = record("node-ddeeff", "52:54:00:dd:ee:ff", want.ip);
        ASSERT_INT_EQ(decide(NULL, other, &holder, old_ip, old_name), REGISTRY_ADDRESS_TAKEN);
        ASSERT_STREQ(holder.name, "node-ddeeff");

        /* This machine at a new address (reinstalled, DHCP gave another): its old address is let go. */
        _cleanup_free_ char *moved = record(want.name, want.mac, "10.20.0.60");
        ASSERT_INT_EQ(decide(moved, NULL, &holder, old_ip, old_name), REGISTRY_WRITE);
        ASSERT_STREQ(old_ip, "10.20.0.60");
        ASSERT_STREQ(old_name, "");

        /* This machine under another name (hostname_prefix changed): its old name is let go. */
        _cleanup_free_ char *renamed = record("host-aabbcc", want.mac, want.ip);
        ASSERT_INT_EQ(decide(NULL, renamed, &holder, old_ip, old_name), REGISTRY_WRITE);
        ASSERT_STREQ(old_ip, "");
        ASSERT_STREQ(old_name, "host-aabbcc");

        /* Half of a registration (the other key written by hand, or deleted): written whole again. */
        ASSERT_INT_EQ(decide(mine, NULL, &holder, old_ip, old_name), REGISTRY_WRITE);
        ASSERT_STREQ(old_ip, "");

        /* Not a record of ours, or one filed under a key it does not name. */
        ASSERT_INT_EQ(decide("hello", NULL, &holder, old_ip, old_name), REGISTRY_BAD_RECORD);
        ASSERT_INT_EQ(decide(NULL, moved, &holder, old_ip, old_name), REGISTRY_BAD_RECORD);
        ASSERT_INT_EQ(decide(other, NULL, &holder, old_ip, old_name), REGISTRY_BAD_RECORD);
}

/* Refused before etcd is asked: nothing here contacts a network. */
TEST(test_arguments) {
        const char *ep[] = { "https://10.20.0.11:2379" };
        const EtcdTls tls = { "/nonexistent/ca.crt", "/nonexistent/c.crt", "/nonexistent/c.key" };
        const JoinEtcd e = { ep, 1, &tls, 1000 };
        JoinLease lease = {};
        ASSERT_INT_EQ(join_record_nonce(&e, &lease, "0123", "master-01", 1), -EINVAL);
        ASSERT_INT_EQ(join_record_nonce(&e, &lease, "0123456789abcdef0123456789abcdef", NULL, 1), -EINVAL);
        ASSERT_INT_EQ(lease.id, 0);
}


TEST(test_join_secret_record) {
        static const char secret[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        _cleanup_free_ char *text = join_secret_record_format(3, secret), *back = NULL;
        ASSERT_STREQ(text, "{\"version\":3,\"secret\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}");
        json_t *j = json_loads(text, 0, NULL);
        int64_t version = 0;
        ASSERT_INT_EQ(join_secret_record_parse(j, &version, &back), 0);
        json_decref(j);
        ASSERT_INT_EQ(version, 3);
        ASSERT_STREQ(back, secret);
        ASSERT_NULL(join_secret_record_format(0, secret));
        ASSERT_NULL(join_secret_record_format(1, "not-hex"));
        static const char *const bad[] = {
                "{\"version\":0,\"secret\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
                "{\"version\":1,\"secret\":\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"}",
                "{\"version\":1,\"secret\":\"0011\"}",
                "{\"version\":\"1\",\"secret\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
                "{\"version\":1,\"secret\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"x\":1}",
                "[]",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = NULL;
                j = json_loads(bad[i], 0, NULL);
                int r = join_secret_record_parse(j, &version, &s);
                json_decref(j);
                free(s);
                if (r != -EBADMSG)
                        TAP_FAIL("join secret record %s was not refused", bad[i]);
        }
}

static EtcdKeyValue kv(const char *key, const char *value) {
        EtcdKeyValue k = { strdup(key), { strdup(value), strlen(value), 1, 1 } };
        return k;
}

TEST(test_list_from_etcd) {
        _cleanup_free_ char *a = record("node-aabbcc", "52:54:00:aa:bb:cc", "10.20.0.50"),
                            *b = record("node-ddeeff", "52:54:00:dd:ee:ff", "10.20.0.51"),
                            *c = record("node-000001", "52:54:00:00:00:01", "10.20.0.52");
        EtcdKeyValue kvs[] = {
                kv(REGISTRY_NAME_PREFIX "node-aabbcc", a),
                kv(REGISTRY_NAME_PREFIX "node-other", c), /* the key names another machine: not ours */
                kv(REGISTRY_NAME_PREFIX "node-broken", "{\"name\":"),
                kv(REGISTRY_NAME_PREFIX "node-ddeeff", b),
        };
        RegistrationList l = {};
        ASSERT_INT_EQ(registration_list_from_kvs(kvs, ELEMENTSOF(kvs), &l), 0);
        for (size_t i = 0; i < ELEMENTSOF(kvs); i++) {
                free(kvs[i].key);
                etcd_value_done(&kvs[i].value);
        }
        ASSERT_INT_EQ(l.n, 2);
        ASSERT_INT_EQ(l.n_bad, 2);
        ASSERT_STREQ(l.items[0].name, "node-aabbcc");
        ASSERT_STREQ(l.items[1].ip, "10.20.0.51");

        /* As the join service's /v1/inventory carries it, and back. */
        json_t *j = registration_list_to_json(&l);
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
        ASSERT_STREQ(text, "[{\"name\":\"node-aabbcc\",\"mac\":\"52:54:00:aa:bb:cc\",\"ip\":\"10.20.0.50\"},"
                           "{\"name\":\"node-ddeeff\",\"mac\":\"52:54:00:dd:ee:ff\",\"ip\":\"10.20.0.51\"}]");
        RegistrationList back = {};
        ASSERT_INT_EQ(registration_list_from_json(j, &back), 0);
        json_decref(j);
        ASSERT_INT_EQ(back.n, 2);
        ASSERT_STREQ(back.items[1].mac, "52:54:00:dd:ee:ff");
        registration_list_done(&back);
        registration_list_done(&l);

        static const char *const bad[] = { "{}", "[7]", "[{\"name\":\"n\",\"mac\":\"m\"}]", "[{}, 1]" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_t *b2 = json_loads(bad[i], 0, NULL);
                int r = registration_list_from_json(b2, &back);
                json_decref(b2);
                if (r != -EBADMSG)
                        TAP_FAIL("registered %s was not refused", bad[i]);
        }
}

static const char *const fleet[] = {
        "cluster.yaml",
        "cluster:\n"
        "  name: fleet\n"
        "  networking:\n"
        "    node_cidr: 192.168.50.0/24\n"
        "    pod_cidr: 10.244.0.0/16\n"
        "    service_cidr: 10.96.0.0/12\n"
        "  services: [kubernetes]\n"
        "  auto_register:\n"
        "    enabled: true\n"
        "    role: worker\n"
        "    hostname_prefix: edge-\n"
        "nodes:\n"
        "  - name: master-01\n"
        "    ip: 192.168.50.10\n"
        "    roles: [master]\n"
        "  - name: worker-01\n"
        "    ip: 192.168.50.21\n"
        "    roles: [worker]\n"
        "    mac_addresses: [\"52:54:00:00:00:21\"]\n",
        NULL,
};

static void on_skipped(const Registration *r, const char *reason, void *userdata) {
        char *said = userdata;
        size_t len = strlen(said);
        snprintf(said + len, 1024 - len, "%s: %s\n", r->name, reason);
}

TEST(test_merge) {
        Inventory *inv = test_load_mem(fleet);
        ASSERT_NOT_NULL(inv);
        Registration items[] = {
                { "edge-aabbcc", "52:54:00:aa:bb:cc", "192.168.50.50" },
                { "worker-01", "52:54:00:00:00:21", "192.168.50.60" },  /* a node file came later: it wins */
                { "edge-000010", "52:54:00:00:00:10", "192.168.50.10" }, /* master-01's address */
                { "edge-000011", "52:54:00:00:00:11", "10.0.0.7" },      /* outside node_cidr */
                { "edge-000012", "52:54:00:00:00:12", "not-an-ip" },
                { "edge-000021", "52:54:00:00:00:21", "192.168.50.61" }, /* worker-01's MAC: its node file came later */
                { "edge-ddeeff", "52:54:00:dd:ee:ff", "192.168.50.51" },
        };
        RegistrationList l = { items, ELEMENTSOF(items), 0 };
        char said[1024] = "";
        ASSERT_INT_EQ(registration_list_merge(inv, &l, on_skipped, said), 2);
        ASSERT_STREQ(said, "worker-01: auto_register: the name is a node of the inventory\n"
                           "edge-000010: auto_register: the address is an inventory node's\n"
                           "edge-000011: auto_register: the address is outside the node network\n"
                           "edge-000012: not a name, an address and a MAC\n"
                           "edge-000021: auto_register: the MAC is an inventory node's\n");
        const Node *n = inventory_find_node(inv, "edge-aabbcc");
        ASSERT_NOT_NULL(n);
        ASSERT_TRUE(n->auto_name && n->ip_valid && n->roles[ROLE_WORKER] && !n->roles[ROLE_MASTER]);
        char ip[IP_ADDR_STRLEN];
        ip_addr_format(&n->ip, ip);
        ASSERT_STREQ(ip, "192.168.50.50");
        ASSERT_NOT_NULL(inventory_find_node(inv, "edge-ddeeff"));
        ASSERT_INT_EQ(inv->n_nodes, 4);
        /* The same again: each is a node now, nothing added twice. */
        said[0] = 0;
        ASSERT_INT_EQ(registration_list_merge(inv, &l, NULL, NULL), 0);
        ASSERT_INT_EQ(inv->n_nodes, 4);
        inventory_free(inv);

        /* auto_register turned off (by an apply): the registry adds nobody. */
        char off[1024];
        snprintf(off, sizeof(off), "%s", fleet[1]);
        memcpy(strstr(off, "enabled: true"), "enabled: no  ", strlen("enabled: true"));
        const char *const files[] = { "cluster.yaml", off, NULL };
        inv = test_load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(registration_list_merge(inv, &l, on_skipped, said), 0);
        ASSERT_TRUE(strstr(said, "edge-aabbcc: auto_register is off\n") != NULL);
        inventory_free(inv);
}

int main(void) {
        RUN(test_record_round_trip);
        RUN(test_decide);
        RUN(test_arguments);
        RUN(test_join_secret_record);
        RUN(test_list_from_etcd);
        RUN(test_merge);
        return tap_done();
}
