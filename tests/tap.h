/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A minimal TAP producer: each TEST is one test point; an ASSERT that fails ends its test, prints where
 * and why as a TAP comment, and marks it "not ok". */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned tap_count, tap_failed;
static bool tap_current_failed;

#define TEST(name) static void name(void)

#define TAP_FAIL(...)                                                                                        \
        do {                                                                                                 \
                printf("# %s:%d: ", __FILE__, __LINE__);                                                     \
                printf(__VA_ARGS__);                                                                         \
                printf("\n");                                                                                \
                tap_current_failed = true;                                                                   \
                return;                                                                                      \
        } while (0)

#define ASSERT_TRUE(c)                                                                                       \
        do {                                                                                                 \
                if (!(c))                                                                                    \
                        TAP_FAIL("assertion failed: %s", #c);                                                \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                                   \
        do {                                                                                                 \
                const char *_a = (a), *_b = (b);                                                             \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                                       \
                        TAP_FAIL("%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
        } while (0)

#define ASSERT_INT_EQ(a, b)                                                                                  \
        do {                                                                                                 \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);                                           \
                if (_a != _b)                                                                                \
                        TAP_FAIL("%s == %jd, expected %jd", #a, _a, _b);                                     \
        } while (0)

#define ASSERT_NULL(a) ASSERT_TRUE((a) == NULL)
#define ASSERT_NOT_NULL(a) ASSERT_TRUE((a) != NULL)

static inline void tap_run(const char *name, void (*fn)(void)) {
        tap_current_failed = false;
        fflush(stdout);
        fn();
        tap_count++;
        if (tap_current_failed)
                tap_failed++;
        printf("%s %u - %s\n", tap_current_failed ? "not ok" : "ok", tap_count, name);
        fflush(stdout);
}

#define RUN(name) tap_run(#name, name)

static inline int tap_done(void) {
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}
