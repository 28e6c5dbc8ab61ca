/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "string-util.h"
#include "banned.h"

bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix) {
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

size_t levenshtein(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ size_t *row = calloc(lb + 1, sizeof(size_t));
        if (!row)
                return SIZE_MAX;

        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
                        diag = up;
                }
        }
        return row[lb];
}

const char *nearest_word(const char *s, const char *const *words) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;

        /* Comparing against a very long string would be slow and pointless: nothing known is that long. */
        if (strlen(s) > 64)
                return NULL;

        for (const char *const *w = words; *w; w++) {
                size_t d = levenshtein(s, *w);
                if (d < best_d) {
                        best_d = d;
                        best = *w;
                }
        }
        /* A suggestion must be closer than a random word: allow about one edit per three characters. */
        if (best && best_d <= MAX((size_t) 2, strlen(best) / 3) && best_d < strlen(best))
                return best;
        return NULL;
}

static int strbuf_reserve(StrBuf *b, size_t extra) {
        if (b->len + extra + 1 <= b->allocated)
                return 0;
        size_t n = MAX(b->allocated * 2, b->len + extra + 1);
        n = MAX(n, (size_t) 64);
        char *p = realloc(b->s, n);
        if (!p)
                return -ENOMEM;
        b->s = p;
        b->allocated = n;
        return 0;
}

int strbuf_appendn(StrBuf *b, const char *s, size_t n) {
        if (strbuf_reserve(b, n) < 0)
                return -ENOMEM;
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = 0;
        return 0;
}

int strbuf_append(StrBuf *b, const char *s) {
        return strbuf_appendn(b, s, strlen(s));
}

int strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap) {
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        if (strbuf_reserve(b, (size_t) n) < 0)
                return -ENOMEM;
        vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
        b->len += (size_t) n;
        return 0;
}

int strbuf_printf(StrBuf *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int r = strbuf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

void strbuf_done(StrBuf *b) {
        free(b->s);
        *b = (StrBuf) {};
}

char *strbuf_steal(StrBuf *b) {
        char *s = b->s ? b->s : strdup("");
        *b = (StrBuf) {};
        return s;
}

size_t utf8_char_len(const unsigned char *p) {
        size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
        if (n < 2)
                return n;
        uint32_t cp = p[0] & (0x7F >> n);
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                return 0;
        return n;
}

/* The length of s's first character when it may be shown as it is, 0 when it is a control character or a byte
 * that is not UTF-8. */
static size_t displayable_len(const unsigned char *p) {
        size_t n = utf8_char_len(p);
        return n == 1 && (*p < 0x20 || *p == 0x7F) ? 0 : n;
}

char *str_escape_display(const char *s) {
        const unsigned char *p = (const unsigned char *) s, *run;
        size_t n;
        /* Most strings need nothing: one copy. Else each run of displayable characters is copied whole. */
        while (*p && (n = displayable_len(p)) > 0)
                p += n;
        if (!*p)
                return strdup(s);
        StrBuf b = {};
        int r = strbuf_appendn(&b, s, (size_t) (p - (const unsigned char *) s));
        for (run = p; r >= 0 && *p;) {
                if ((n = displayable_len(p)) > 0) {
                        p += n;
                        continue;
                }
                static const char hex[] = "0123456789ABCDEF";
                const char esc[4] = { '\\', 'x', hex[*p >> 4], hex[*p & 0xF] };
                r = strbuf_appendn(&b, (const char *) run, (size_t) (p - run));
                r = r ?: strbuf_appendn(&b, esc, sizeof(esc));
                run = ++p;
        }
        r = r ?: strbuf_appendn(&b, (const char *) run, (size_t) (p - run));
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

char *strprintf(const char *fmt, ...) {
        StrBuf b = {};
        va_list ap;
        va_start(ap, fmt);
        int r = strbuf_vprintf(&b, fmt, ap);
        va_end(ap);
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

void str_set_vprintf(char **s, const char *fmt, va_list ap) {
        StrBuf b = {};
        if (strbuf_vprintf(&b, fmt, ap) < 0) {
                strbuf_done(&b);
                return;
        }
        free(*s);
        *s = strbuf_steal(&b);
}

char *strreplace(const char *s, const char *old, const char *new) {
        StrBuf b = {};
        size_t n = strlen(old);
        int r = 0;
        for (const char *p; r >= 0 && (p = strstr(s, old)); s = p + n) {
                r = strbuf_appendn(&b, s, (size_t) (p - s));
                r = r ?: strbuf_append(&b, new);
        }
        r = r ?: strbuf_append(&b, s);
        if (r < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return b.s ? strbuf_steal(&b) : strdup("");
}

void hex_encode(const unsigned char *p, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[p[i] >> 4];
                out[2 * i + 1] = digits[p[i] & 15];
        }
        out[2 * n] = 0;
}

void uuid_v8_format(const unsigned char *hash, char ret[static 37]) {
        unsigned char u[16];
        memcpy(u, hash, sizeof(u));
        u[6] = (u[6] & 0x0F) | 0x80;
        u[8] = (u[8] & 0x3F) | 0x80;
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
                 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

const char *output_last_line(char *output) {
        if (!output)
                return "";
        size_t n = strlen(output);
        while (n > 0 && (output[n - 1] == '\n' || output[n - 1] == '\r'))
                output[--n] = 0;
        char *nl = strrchr(output, '\n');
        return nl ? nl + 1 : output;
}
