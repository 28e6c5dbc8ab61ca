/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Standard base64 (RFC 4648 section 4, padded), with OpenSSL's block coder. */

#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* n bytes into a new NUL-terminated string. 0, -EINVAL (too long for OpenSSL) or -ENOMEM. */
int base64_encode(const void *in, size_t n, char **ret);
/* Strict: padded, no whitespace, nothing but the alphabet. s[0..len) into buf (bufsize bytes, at least
 * len / 4 * 3); -EINVAL for anything else, buf wiped. */
int base64_decode(const char *s, size_t len, uint8_t *buf, size_t bufsize, size_t *ret_len);
/* The same into a new buffer with a NUL after the bytes; "" decodes to "". */
int base64_decode_alloc(const char *s, size_t len, char **ret, size_t *ret_len);
