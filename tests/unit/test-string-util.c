/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "string-util.h"
#include "tap.h"

TEST(test_levenshtein) {
        ASSERT_INT_EQ(levenshtein("", ""), 0);
        ASSERT_INT_EQ(levenshtein("name", "name"), 0);
        ASSERT_INT_EQ(levenshtein("nmae", "name"), 2);
        ASSERT_INT_EQ(levenshtein("kitten", "sitting"), 3);
        ASSERT_INT_EQ(levenshtein("", "abc"), 3);
}

TEST(test_nearest_word) {
        static const char *const keys[] = { "name", "ip", "roles", "hostname", "mac_addresses", NULL };
        ASSERT_STREQ(nearest_word("nmae", keys), "name");
        ASSERT_STREQ(nearest_word("role", keys), "roles");
        ASSERT_STREQ(nearest_word("mac_address", keys), "mac_addresses");
        ASSERT_STREQ(nearest_word("hostnmae", keys), "hostname");
        /* Nothing close: no suggestion rather than a random one. */
        ASSERT_NULL(nearest_word("zzzzzz", keys));
        ASSERT_NULL(nearest_word("x", keys));
}

TEST(test_strbuf) {
        StrBuf b = {};
        ASSERT_INT_EQ(strbuf_append(&b, "a"), 0);
        ASSERT_INT_EQ(strbuf_printf(&b, "%d-%s", 42, "x"), 0);
        for (int i = 0; i < 100; i++)
                ASSERT_INT_EQ(strbuf_append(&b, "0123456789"), 0);
        ASSERT_INT_EQ(b.len, 5 + 1000);
        ASSERT_TRUE(strncmp(b.s, "a42-x0123", 9) == 0);
        char *s = strbuf_steal(&b);
        ASSERT_NULL(b.s);
        free(s);
        s = strbuf_steal(&b);
        ASSERT_STREQ(s, "");
        free(s);
}

TEST(test_strreplace) {
        char *s = strreplace("ceph-mon@%n.service", "%n", "master-01");
        ASSERT_STREQ(s, "ceph-mon@master-01.service");
        free(s);
        s = strreplace("%n%n-%n", "%n", "ab");
        ASSERT_STREQ(s, "abab-ab");
        free(s);
        s = strreplace("kafka.service", "%n", "x");
        ASSERT_STREQ(s, "kafka.service");
        free(s);
        s = strreplace("", "%n", "x");
        ASSERT_STREQ(s, "");
        free(s);
}

int main(void) {
        RUN(test_levenshtein);
        RUN(test_strreplace);
        RUN(test_nearest_word);
        RUN(test_strbuf);
        return tap_done();
}
