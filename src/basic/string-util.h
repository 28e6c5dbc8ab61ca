/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "macro.h"

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* Edit distance, used to suggest the nearest known word for a typo. */
size_t levenshtein(const char *a, const char *b);

/* Returns the element of words[] (NULL-terminated) closest to s, or NULL when none is close enough to be a
 * plausible typo. */
const char *nearest_word(const char *s, const char *const *words);

/* A growable string. All functions return 0 or -ENOMEM; on failure the buffer keeps its old content. */
typedef struct StrBuf {
        char *s;
        size_t len;
        size_t allocated;
} StrBuf;

int strbuf_append(StrBuf *b, const char *s);
int strbuf_appendn(StrBuf *b, const char *s, size_t n);
int strbuf_printf(StrBuf *b, const char *fmt, ...) _printf_(2, 3);
int strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap) _printf_(2, 0);
void strbuf_done(StrBuf *b);
/* Hands out the string (never NULL, "" for an empty buffer) and resets the buffer. */
char *strbuf_steal(StrBuf *b);

/* The length in bytes of the UTF-8 character at p (1-4), or 0 when p does not start a valid one. */
size_t utf8_char_len(const unsigned char *p);

/* A copy of s fit to print on a terminal or put in JSON: control characters and bytes that are not UTF-8
 * become \xNN. NULL on allocation failure. */
char *str_escape_display(const char *s);

/* asprintf() that returns NULL on failure. */
char *strprintf(const char *fmt, ...) _printf_(1, 2);
/* *s (malloc()ed or NULL) replaced by the formatted text; kept when that cannot be made (no memory). */
void str_set_vprintf(char **s, const char *fmt, va_list ap) _printf_(2, 0);

/* The last non-empty line of a program's output, for an error message: its trailing newlines are cut off
 * in place. "" for NULL. */
const char *output_last_line(char *output);

/* Frees the n strings of v, then v. NULL v with n 0 is fine. */
void strv_free_n(char **v, size_t n);
/* s with every occurrence of old (not empty) replaced by new; NULL when out of memory. */
char *strreplace(const char *s, const char *old, const char *new);


/* The n bytes at p as 2n lowercase hex digits and a NUL at out (2n + 1 bytes). */
void hex_encode(const unsigned char *p, size_t n, char *out);

/* A version 8 (custom) UUID, RFC 9562, from the first 16 bytes of a hash: variant and version bits set,
 * the rest as given; "8c2f...-...", NUL-terminated. */
void uuid_v8_format(const unsigned char *hash, char ret[static 37]);
