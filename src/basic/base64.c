/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base64.h"

int base64_encode(const void *in, size_t n, char **ret) {
        if (n > INT_MAX / 4 * 3 - 3)
                return -EINVAL;
        char *s = malloc(BASE64_LEN(n) + 1);
        if (!s)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) s, in, (int) n);
        *ret = s;
        return 0;
}

static bool base64_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* EVP_DecodeBlock() skips blanks and counts padding as zero bytes: the input is checked first and the
 * padding subtracted here. */
int base64_decode(const char *s, size_t len, uint8_t *buf, size_t bufsize, size_t *ret_len) {
        if (len == 0 || len % 4 != 0 || len / 4 * 3 > bufsize || len > INT_MAX)
                return -EINVAL;
        size_t pad = s[len - 1] == '=' ? (s[len - 2] == '=' ? 2 : 1) : 0;
        for (size_t i = 0; i < len - pad; i++)
                if (!base64_char(s[i]))
                        return -EINVAL;
        int n = EVP_DecodeBlock(buf, (const unsigned char *) s, (int) len);
        if (n < 0 || (size_t) n != len / 4 * 3) {
                OPENSSL_cleanse(buf, bufsize);
                return -EINVAL;
        }
        *ret_len = (size_t) n - pad;
        return 0;
}

int base64_decode_alloc(const char *s, size_t len, char **ret, size_t *ret_len) {
        uint8_t *buf = malloc(len / 4 * 3 + 1);
        size_t n = 0;
        if (!buf)
                return -ENOMEM;
        int r = len == 0 ? 0 : base64_decode(s, len, buf, len / 4 * 3, &n);
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[n] = 0;
        *ret = (char *) buf;
        *ret_len = n;
        return 0;
}
