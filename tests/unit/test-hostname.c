/* SPDX-License-Identifier: Apache-2.0 */
/* hostname_apply(), in a UTS namespace of the test's own (the host's name is not touched). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "hostname.h"
#include "tap.h"

TEST(test_apply) {
        bool changed = true;
        char cur[256] = {};
        ASSERT_INT_EQ(hostname_apply("master-01", &changed), 0);
        ASSERT_TRUE(changed);
        ASSERT_INT_EQ(gethostname(cur, sizeof(cur) - 1), 0);
        ASSERT_STREQ(cur, "master-01");
        /* Already so: nothing done (first boot runs on every boot). */
        ASSERT_INT_EQ(hostname_apply("master-01", &changed), 0);
        ASSERT_TRUE(!changed);
        ASSERT_INT_EQ(hostname_apply("", &changed), -EINVAL);
        ASSERT_INT_EQ(hostname_apply("a-name-longer-than-the-sixty-four-characters-the-kernel-takes-xxxxx", &changed), -EINVAL);
}

int main(void) {
        printf("1..1\n");
        if (unshare(CLONE_NEWUTS) < 0) {
                printf("ok 1 # SKIP no UTS namespace of its own (needs root): %s\n", strerror(errno));
                return 0;
        }
        RUN(test_apply);
        return tap_failed ? 1 : 0;
}
