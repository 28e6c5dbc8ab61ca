/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activate.h"
#include "fs-util.h"
#include "tap.h"

static char root[64];
static unsigned changes;

static void count(const char *target, ActivateChange change, void *userdata) {
        (void) target, (void) userdata;
        changes += change == ACTIVATE_ENABLED || change == ACTIVATE_DISABLED;
}

static bool linked(const char *target) {
        char path[256], buf[PATH_MAX], want[128];
        snprintf(path, sizeof(path), "%s/etc/systemd/system/multi-user.target.wants/%s", root, target);
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        /* What `systemctl --root=DIR enable` makes for a unit in /usr/lib/systemd/system. */
        snprintf(want, sizeof(want), "/usr/lib/systemd/system/%s", target);
        return strcmp(buf, want) == 0;
}

static bool exists(const char *target) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof(path), "%s/etc/systemd/system/multi-user.target.wants/%s", root, target);
        return lstat(path, &st) == 0;
}

TEST(test_enable_and_idempotent) {
        bool roles[_ROLE_MAX] = { [ROLE_MASTER] = true, [ROLE_DNS_SERVER] = true };
        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, roles, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 2);
        ASSERT_TRUE(linked("kubernetes-master.target"));
        ASSERT_TRUE(linked("dns.target"));
        ASSERT_TRUE(!exists("kafka.target"));

        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, roles, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 0);
}

TEST(test_roles_change) {
        /* The node lost dns-server and gained kafka-broker. */
        bool roles[_ROLE_MAX] = { [ROLE_MASTER] = true, [ROLE_KAFKA_BROKER] = true };
        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, roles, false, count, NULL), 0);
        ASSERT_INT_EQ(changes, 2);
        ASSERT_TRUE(!exists("dns.target"));
        ASSERT_TRUE(linked("kafka.target"));
        ASSERT_TRUE(linked("kubernetes-master.target"));
}

TEST(test_stale_link_and_dry_run) {
        char path[256];
        snprintf(path, sizeof(path), "%s/etc/systemd/system/multi-user.target.wants/kafka.target", root);
        unlink(path);
        ASSERT_INT_EQ(symlink("/nonexistent/kafka.target", path), 0);

        bool roles[_ROLE_MAX] = { [ROLE_MASTER] = true, [ROLE_KAFKA_BROKER] = true };
        changes = 0;
        ASSERT_INT_EQ(activate_offline(root, roles, true, count, NULL), 0);
        ASSERT_INT_EQ(changes, 1);            /* it would fix the link ... */
        ASSERT_TRUE(!linked("kafka.target")); /* ... but a dry run does not */

        ASSERT_INT_EQ(activate_offline(root, roles, false, count, NULL), 0);
        ASSERT_TRUE(linked("kafka.target"));
}

int main(void) {
        snprintf(root, sizeof(root), "/tmp/test-activate-XXXXXX");
        if (!mkdtemp(root))
                return 1;
        RUN(test_enable_and_idempotent);
        RUN(test_roles_change);
        RUN(test_stale_link_and_dry_run);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        if (system(cmd) != 0)
                return 1;
        return tap_done();
}
