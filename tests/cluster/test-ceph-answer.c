/* SPDX-License-Identifier: Apache-2.0 */
/* What the bootstrap stages read of the Ceph tools' answers (src/cluster/ceph-answer.c), from the recorded
 * answers in tests/cluster/ceph-answers/ (the fuzz target's seeds). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

#include "ceph-answer.h"
#include "fileio.h"
#include "string-util.h"
#include "tap.h"

static const char *answers = "tests/cluster/ceph-answers";

static char *answer(const char *name) {
        _cleanup_free_ char *path = strprintf("%s/%s", answers, name);
        char *text = NULL;
        size_t size;
        return path && read_full_file(path, 1 << 20, &text, &size) >= 0 ? text : NULL;
}

TEST(test_mgr_stat) {
        _cleanup_free_ char *s = answer("mgr-stat.json"), *active = NULL;
        bool available = false;
        ASSERT_NOT_NULL(s);
        ASSERT_INT_EQ(ceph_mgr_stat_parse(s, &active, &available), 0);
        ASSERT_STREQ(active, "master-01");
        ASSERT_TRUE(available);
}

TEST(test_mgr_stat_none_after_a_log_line) {
        _cleanup_free_ char *s = answer("mgr-stat-none-after-log.txt"), *active = NULL;
        bool available = true;
        ASSERT_NOT_NULL(s);
        ASSERT_INT_EQ(ceph_mgr_stat_parse(s, &active, &available), 0);
        ASSERT_STREQ(active, "");
        ASSERT_TRUE(!available);
}

TEST(test_mgr_stat_no_json) {
        char *active = NULL;
        bool available;
        ASSERT_INT_EQ(ceph_mgr_stat_parse("Error EACCES: access denied\n", &active, &available), -EBADMSG);
        ASSERT_NULL(active);
}

TEST(test_label_uuid) {
        _cleanup_free_ char *s = answer("show-label.json"), *uuid = NULL, *none = NULL;
        ASSERT_NOT_NULL(s);
        uuid = ceph_label_osd_uuid(s);
        ASSERT_STREQ(uuid, "5b0b5f0e-2f0c-4c1e-9a51-0d3f6c1a2b7e");
        none = ceph_label_osd_uuid("{\"/dev/vdb\": {\"size\": 1}}\n");
        ASSERT_NULL(none);
}

TEST(test_osd_new) {
        _cleanup_free_ char *s = answer("osd-new.json");
        int64_t id = -1;
        ASSERT_NOT_NULL(s);
        ASSERT_INT_EQ(ceph_osd_new_parse(s, &id), 0);
        ASSERT_INT_EQ(id, 3);
        /* Refusals and what is no id: nothing is taken. */
        id = -1;
        ASSERT_INT_EQ(ceph_osd_new_parse("Error EEXIST: uuid 11111111-2222-4333-8444-555555555555 already in use\n", &id),
                      -EBADMSG);
        ASSERT_INT_EQ(ceph_osd_new_parse("{\"osdid\": -1}\n", &id), -EBADMSG);
        ASSERT_INT_EQ(ceph_osd_new_parse("{\"osdid\": \"3\"}\n", &id), -EBADMSG);
        ASSERT_INT_EQ(ceph_osd_new_parse("{\"osdid\": 4294967296}\n", &id), -EBADMSG);
        ASSERT_INT_EQ(id, -1);
        ASSERT_INT_EQ(ceph_osd_new_parse("a log line\n{\"osdid\": 12}\n", &id), 0);
        ASSERT_INT_EQ(id, 12);
}

TEST(test_osd_state) {
        _cleanup_free_ char *s = answer("osd-status.json"), *state = NULL;
        ASSERT_NOT_NULL(s);
        state = ceph_daemon_state(s);
        ASSERT_STREQ(state, "active");
}

TEST(test_broken_answers) {
        _cleanup_free_ char *s = answer("broken.txt"), *state = NULL, *uuid = NULL;
        ASSERT_NOT_NULL(s);
        state = ceph_daemon_state(s); /* {"state": 7}: not a string */
        uuid = ceph_label_osd_uuid(s);
        ASSERT_NULL(state);
        ASSERT_NULL(uuid);
}

TEST(test_first_object_starting_a_line) {
        json_t *j = ceph_output_json("[1, 2]\n  {\"indented\": 1}\n{\"x\": 1} trailing words\n");
        json_int_t x = json_integer_value(json_object_get(j, "x"));
        json_decref(j);
        ASSERT_INT_EQ(x, 1);
}

TEST(test_quorum_status) {
        _cleanup_free_ char *all = answer("quorum-status.txt"), *one_out = answer("quorum-status-one-out.txt");
        CephQuorum q = {};
        ASSERT_NOT_NULL(all);
        ASSERT_NOT_NULL(one_out);
        ASSERT_INT_EQ(ceph_quorum_parse(all, &q), 0);
        ASSERT_INT_EQ(q.n, 3);
        ASSERT_TRUE(q.mons[0].in_quorum && q.mons[1].in_quorum && q.mons[2].in_quorum);
        ceph_quorum_done(&q);
        /* master-02's monitor stopped: the client's log lines first, then the answer. */
        ASSERT_INT_EQ(ceph_quorum_parse(one_out, &q), 0);
        ASSERT_INT_EQ(q.n, 3);
        ASSERT_STREQ(q.mons[1].name, "master-02");
        ASSERT_TRUE(q.mons[0].in_quorum && !q.mons[1].in_quorum && q.mons[2].in_quorum);
        ceph_quorum_done(&q);
        static const char *const bad[] = {
                "Error ETIMEDOUT: timed out\n", "{\"quorum_names\": []}\n", "{\"monmap\": {\"mons\": []}}\n",
                "{\"quorum_names\": [], \"monmap\": {\"mons\": [{\"rank\": 0}]}}\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (ceph_quorum_parse(bad[i], &q) != -EBADMSG)
                        TAP_FAIL("quorum status %s was not refused", bad[i]);
}

TEST(test_mon_status) {
        _cleanup_free_ char *s = answer("mon-status-peon.txt"), *state = NULL;
        ASSERT_NOT_NULL(s);
        state = ceph_daemon_state(s);
        ASSERT_STREQ(state, "peon");
}

int main(int argc, char **argv) {
        if (argc > 1)
                answers = argv[1];
        RUN(test_mgr_stat);
        RUN(test_mgr_stat_none_after_a_log_line);
        RUN(test_mgr_stat_no_json);
        RUN(test_label_uuid);
        RUN(test_osd_new);
        RUN(test_osd_state);
        RUN(test_broken_answers);
        RUN(test_first_object_starting_a_line);
        RUN(test_quorum_status);
        RUN(test_mon_status);
        return tap_done();
}
