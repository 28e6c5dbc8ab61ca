/* SPDX-License-Identifier: Apache-2.0 */
/* Which masters a node asks, in which order (src/cluster/join-node.c): every master but itself, from one on
 * and around, so a cluster's joins and renewals spread over its masters. The asking itself, against real
 * join services, is in tests/bootstrap/test-bootstrap-join.sh and tests/e2e. */
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "join-node.h"
#include "tap.h"
#include "test-inventory-util.h"

static Inventory *inv;

/* The URLs from start, joined by spaces. */
static char *order(const char *node, size_t start) {
        char **urls = NULL, *s = NULL;
        size_t n = 0;
        if (join_node_urls_from(inv, inventory_find_node(inv, node), start, &urls, &n) < 0)
                return NULL;
        size_t len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(urls[i]) + 1;
        if ((s = calloc(1, len)))
                for (size_t i = 0; i < n; i++)
                        strcat(strcat(s, i ? " " : ""), urls[i]);
        join_node_urls_free(urls, n);
        return s;
}

TEST(test_a_worker_asks_every_master_from_the_start_around) {
        static const char *const want[] = {
                "https://10.20.0.11:9443 https://10.20.0.12:9443 https://10.20.0.13:9443",
                "https://10.20.0.12:9443 https://10.20.0.13:9443 https://10.20.0.11:9443",
                "https://10.20.0.13:9443 https://10.20.0.11:9443 https://10.20.0.12:9443",
        };
        for (size_t start = 0; start < 7; start++) {
                char *got = order("worker-01", start);
                if (!got || strcmp(got, want[start % 3]) != 0) {
                        printf("# start %zu: %s\n", start, got ? got : "(error)");
                        free(got);
                        TAP_FAIL("a worker's order from start %zu is not the masters' from the %zuth on", start,
                                 start % 3);
                }
                free(got);
        }
}

TEST(test_a_master_asks_the_others_never_itself) {
        char *a = order("master-02", 0), *b = order("master-02", 1);
        ASSERT_STREQ(a, "https://10.20.0.11:9443 https://10.20.0.13:9443");
        ASSERT_STREQ(b, "https://10.20.0.13:9443 https://10.20.0.11:9443");
        free(a);
        free(b);
}

/* join_node_urls() starts at a random master: over 60 calls each master comes first at least once (the
 * chance that one never does is 3 * (2/3)^60, about 10^-10). */
TEST(test_the_first_master_asked_varies) {
        unsigned first[3] = {};
        for (int i = 0; i < 60; i++) {
                char **urls = NULL;
                size_t n = 0;
                ASSERT_INT_EQ(join_node_urls(inv, inventory_find_node(inv, "worker-01"), &urls, &n), 0);
                ASSERT_INT_EQ(n, 3);
                for (unsigned m = 0; m < 3; m++)
                        if (strstr(urls[0], m == 0 ? "10.20.0.11:" : m == 1 ? "10.20.0.12:" : "10.20.0.13:"))
                                first[m]++;
                join_node_urls_free(urls, n);
        }
        printf("# first asked of 60: master-01 %u, master-02 %u, master-03 %u\n", first[0], first[1], first[2]);
        ASSERT_TRUE(first[0] > 0 && first[1] > 0 && first[2] > 0);
}

int main(int argc, char **argv) {
        if (!(inv = test_load_example(argc > 1 ? argv[1] : "examples", "ha")))
                return 1;
        RUN(test_a_worker_asks_every_master_from_the_start_around);
        RUN(test_a_master_asks_the_others_never_itself);
        RUN(test_the_first_master_asked_varies);
        inventory_free(inv);
        return tap_done();
}
