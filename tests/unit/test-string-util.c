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

TEST(test_escape_display) {
        static const char *const cases[][2] = {
                { "", "" },
                { "plain text", "plain text" },
                { "caf\xC3\xA9 \xE2\x9C\x94", "caf\xC3\xA9 \xE2\x9C\x94" },  /* UTF-8 stays */
                { "a\tb\n", "a\\x09b\\x0A" },                            /* control characters */
                { "\x1B[31mred", "\\x1B[31mred" },                          /* a terminal's escape, first */
                { "del\x7F", "del\\x7F" },
                { "\xFF\xC3", "\\xFF\\xC3" },                             /* not UTF-8; a character cut short */
                { "x\xC3\xA9\x01\xC3\xA9y", "x\xC3\xA9\\x01\xC3\xA9y" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = str_escape_display(cases[i][0]);
                if (!got || strcmp(got, cases[i][1]) != 0)
                        TAP_FAIL("case %zu: got \"%s\", expected \"%s\"", i, got ? got : "(null)", cases[i][1]);
        }
}

int main(void) {
        RUN(test_levenshtein);
        RUN(test_strreplace);
        RUN(test_nearest_word);
        RUN(test_strbuf);
        RUN(test_escape_display);
        return tap_done();
}
