/* SPDX-License-Identifier: Apache-2.0 */
/* What the masters' join services keep in etcd (src/cluster/join-record.c), without etcd: the registry's
 * records and the decision on them. The writes against real etcd are in test-join-shared.sh. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "join-record.h"
#include "string-util.h"
#include "tap.h"

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

int main(void) {
        RUN(test_record_round_trip);
        RUN(test_decide);
        RUN(test_arguments);
        return tap_done();
}
