/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Ownership helpers in the style of systemd: a variable declared with _cleanup_free_ is freed when it goes
 * out of scope, and TAKE_PTR() hands the pointer on so that the cleanup becomes a no-op. */

#include <stddef.h>
#include <stdlib.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define TAKE_PTR(p)                                                                                          \
        ({                                                                                                   \
                __typeof__(p) _taken = (p);                                                                  \
                (p) = NULL;                                                                                  \
                _taken;                                                                                      \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Defines NAME##p(), a cleanup function that calls FUNC on a pointer variable when it is not NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                              \
        _unused_ static inline void func##p(type *p) {                                                       \
                if (*p)                                                                                      \
                        func(*p);                                                                            \
        }

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Grows *array (of *allocated elements of size elsz) so that it holds at least need elements. Returns false on
 * overflow or allocation failure, leaving the array as it was. */
#include <stdbool.h>
bool greedy_realloc(void **array, size_t *allocated, size_t need, size_t elsz);
#define GREEDY_REALLOC(array, allocated, need)                                                               \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))
