/* SPDX-License-Identifier: Apache-2.0 */
/* The join service's connection limits, from its file descriptor limit (src/cluster/join-guard.c); the
 * guard itself runs against real floods in test-join-flood.sh. */
#include "join-guard.h"
#include "tap.h"

TEST(test_limits_follow_the_fd_limit) {
        /* systemd's default soft limit: 1024 less the reserve. */
        JoinGuardLimits l = join_guard_limits(1024);
        ASSERT_INT_EQ(l.max_open, 1024 - JOIN_CONN_FD_RESERVE);
        ASSERT_INT_EQ(l.per_source, JOIN_CONN_PER_SOURCE);
        ASSERT_INT_EQ(l.handshake_sec, JOIN_CONN_HANDSHAKE_SEC);
        ASSERT_INT_EQ(l.request_sec, JOIN_CONN_REQUEST_SEC);
        /* The unit's LimitNOFILE=16384 and more: capped, as every TLS connection costs memory too. */
        ASSERT_INT_EQ(join_guard_limits(16384).max_open, JOIN_CONN_MAX);
        ASSERT_INT_EQ(join_guard_limits(RLIM_INFINITY).max_open, JOIN_CONN_MAX);
        /* A tiny limit still serves a few. */
        ASSERT_INT_EQ(join_guard_limits(20).max_open, 16);
        ASSERT_INT_EQ(join_guard_limits(0).max_open, 16);
}

int main(void) {
        RUN(test_limits_follow_the_fd_limit);
        return tap_done();
}
