/* SPDX-License-Identifier: Apache-2.0 */
/* The login banner: what the operator at a machine's screen or serial console reads above the prompt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "issue.h"
#include "state.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples;
static char root[64];

static char *read_banner(void) {
        char path[128];
        snprintf(path, sizeof(path), "%s%s", root, ISSUE_PATH);
        char *text = NULL;
        size_t size;
        if (read_full_file(path, 4096, &text, &size) < 0)
                return NULL;
        struct stat st;
        if (stat(path, &st) < 0 || (st.st_mode & 07777) != 0644) {
                free(text);
                return NULL;
        }
        return text;
}

TEST(test_fresh_node) {
        Inventory *inv = test_load_example(examples, "homelab");
        ASSERT_NOT_NULL(inv);
        const Node *n = inventory_find_node(inv, "storage-01");
        ASSERT_NOT_NULL(n);
        ASSERT_INT_EQ(issue_update(root, n, NULL, NULL, NULL), 0);
        char *text = read_banner();
        ASSERT_STREQ(text, "clusterboot: node storage-01, roles worker, ceph-mon, ceph-osd, address 192.168.1.14\n"
                           "clusterboot: bootstrap uninitialized; not run yet\n\n");
        free(text);
        inventory_free(inv);
}

TEST(test_after_bootstrap) {
        Inventory *inv = test_load_example(examples, "homelab");
        const Node *n = inventory_find_node(inv, "master-01");
        ASSERT_NOT_NULL(n);
        ASSERT_INT_EQ(cluster_state_mark_step(root, "secrets", 1000), 0);
        ASSERT_INT_EQ(cluster_state_mark_step(root, "etcd-member", 2000), 0);
        ASSERT_INT_EQ(cluster_state_set(root, BOOTSTRAP_BOOTSTRAPPED), 0);

        /* Every stage ran: when the state was reached, how many stages, and which came last. */
        ASSERT_INT_EQ(issue_update(root, n, NULL, NULL, "every stage done"), 0);
        char *text = read_banner();
        ASSERT_NOT_NULL(text);
        ASSERT_TRUE(strncmp(text, "clusterboot: node master-01, roles master, dns-server, address 192.168.1.10\n"
                                  "clusterboot: bootstrap bootstrapped at 20",
                            strlen("clusterboot: node master-01, roles master, dns-server, address 192.168.1.10\n"
                                   "clusterboot: bootstrap bootstrapped at 20")) == 0);
        ASSERT_NOT_NULL(strstr(text, " UTC, 2 stages done; every stage done\n\n"));
        ASSERT_NULL(strstr(text, "journalctl"));
        free(text);

        /* A failed run names the stage and where to look; the banner is replaced, not appended to. */
        ASSERT_INT_EQ(issue_update(root, n, NULL, NULL, "stage kafka failed"), 0);
        text = read_banner();
        ASSERT_NOT_NULL(text);
        ASSERT_NOT_NULL(strstr(text, "; stage kafka failed (journalctl -u cluster-bootstrap)\n\n"));
        ASSERT_NULL(strstr(text, "every stage done"));
        free(text);
        inventory_free(inv);
}

TEST(test_auto_registered) {
        /* A machine not in the inventory that auto_register named: its name and role, an address from DHCP. */
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/auto", root);
        ASSERT_INT_EQ(issue_update(sub, NULL, "node-a1b2c3", "worker", NULL), 0);
        char path[192], *text = NULL;
        size_t size;
        snprintf(path, sizeof(path), "%s%s", sub, ISSUE_PATH);
        ASSERT_INT_EQ(read_full_file(path, 4096, &text, &size), 0);
        ASSERT_STREQ(text, "clusterboot: node node-a1b2c3, roles worker, address from DHCP\n"
                           "clusterboot: bootstrap uninitialized; not run yet\n\n");
        free(text);
}

TEST(test_text_escapes) {
        /* agetty would print "\n" as the host name and "\4" as an address: a value's backslash is doubled. */
        IssueInfo i = { .node = "a\\nb", .roles = "worker", .address = NULL, .progress = "odd \\4" };
        char *text = issue_text(&i);
        ASSERT_STREQ(text, "clusterboot: node a\\\\nb, roles worker, address from DHCP\n"
                           "clusterboot: bootstrap state unknown; odd \\\\4 (journalctl -u cluster-bootstrap)\n\n");
        free(text);
}

TEST(test_no_node) {
        IssueInfo i = { .console_line = "clusterboot: this machine is not in the inventory (MACs: eth0=52:54:00:00:00:01)" };
        char *text = issue_text(&i);
        ASSERT_STREQ(text, "clusterboot: this machine is not in the inventory (MACs: eth0=52:54:00:00:00:01)\n\n");
        free(text);
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        snprintf(root, sizeof(root), "/tmp/test-issue-XXXXXX");
        if (!mkdtemp(root))
                return 1;
        RUN(test_fresh_node);
        RUN(test_after_bootstrap);
        RUN(test_auto_registered);
        RUN(test_text_escapes);
        RUN(test_no_node);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        if (system(cmd) != 0)
                return 1;
        return tap_done();
}
