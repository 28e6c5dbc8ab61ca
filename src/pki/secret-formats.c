/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"
#include "secret-formats.h"
#include "string-util.h"
#include "banned.h"

#define CEPHX_TYPE_AES 1
#define CEPHX_SECRET_LEN 16
#define CEPHX_HEADER_LEN 12 /* type, created, length */
#define CEPHX_BLOB_LEN (CEPHX_HEADER_LEN + CEPHX_SECRET_LEN)

/* mosquitto 2.x: PW_DEFAULT_ITERATIONS, SALT_LEN and HASH_LEN in src/password_mosq.[ch]. */
#define MOSQ_ITERATIONS 101
#define MOSQ_SALT_LEN 12
#define MOSQ_SALT_LEN_LONG 64
#define MOSQ_HASH_LEN 64


void secret_free(char *s) {
        if (!s)
                return;
        OPENSSL_cleanse(s, strlen(s));
        free(s);
}

static int random_bytes(void *buf, size_t n) {
        if (n > INT_MAX)
                return -EINVAL;
        return RAND_bytes(buf, (int) n) == 1 ? 0 : -EIO;
}

static void put_le16(uint8_t *p, uint16_t v) {
        p[0] = v & 0xff;
        p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v) {
        for (size_t i = 0; i < 4; i++)
                p[i] = (v >> (8 * i)) & 0xff;
}

static uint16_t get_le16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}

int random_string(const char *alphabet, size_t length, char **ret) {
        if (!alphabet || !ret || length == SIZE_MAX)
                return -EINVAL;

        bool seen[128] = {};
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *) alphabet; *p; p++, n++) {
                /* A repeated character would be drawn more often than the others. */
                if (*p >= 128 || seen[*p])
                        return -EINVAL;
                seen[*p] = true;
        }
        if (n == 0)
                return -EINVAL;

        char *s = malloc(length + 1);
        if (!s)
                return -ENOMEM;

        /* Bytes at or above the largest multiple of n below 256 are dropped, so every character keeps the
         * same share of the bytes that remain. */
        unsigned limit = 256 - 256 % n;
        uint8_t pool[64];
        size_t avail = 0;
        for (size_t i = 0; i < length;) {
                if (avail == 0) {
                        int r = random_bytes(pool, sizeof(pool));
                        if (r < 0) {
                                OPENSSL_cleanse(pool, sizeof(pool));
                                OPENSSL_cleanse(s, i);
                                free(s);
                                return r;
                        }
                        avail = sizeof(pool);
                }
                uint8_t b = pool[--avail];
                if (b < limit)
                        s[i++] = alphabet[b % n];
        }
        s[length] = 0;
        OPENSSL_cleanse(pool, sizeof(pool));
        *ret = s;
        return 0;
}

int join_secret_generate(char **ret) {
        return random_string("0123456789abcdef", JOIN_SECRET_HEX, ret);
}

bool join_secret_valid(const char *s) {
        return s && strlen(s) == JOIN_SECRET_HEX && strspn(s, "0123456789abcdef") == JOIN_SECRET_HEX;
}

int bootstrap_token_generate(char **ret) {
        if (!ret)
                return -EINVAL;

        _cleanup_secret_free_ char *raw = NULL;
        int r = random_string("abcdefghijklmnopqrstuvwxyz0123456789", 6 + 16, &raw);
        if (r < 0)
                return r;

        char *s = malloc(6 + 1 + 16 + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, raw, 6);
        s[6] = '.';
        memcpy(s + 7, raw + 6, 16);
        s[23] = 0;
        *ret = s;
        return 0;
}

static int uuid_v4_bytes(uint8_t u[static 16]) {
        int r = random_bytes(u, 16);
        if (r < 0)
                return r;
        u[6] = (u[6] & 0x0f) | 0x40; /* version 4 */
        u[8] = (u[8] & 0x3f) | 0x80; /* variant RFC 4122 */
        return 0;
}

int kafka_cluster_id_generate(char **ret) {
        if (!ret)
                return -EINVAL;

        for (;;) {
                uint8_t u[16];
                char b64[BASE64_LEN(16) + 1];
                int r = uuid_v4_bytes(u);
                if (r < 0)
                        return r;
                EVP_EncodeBlock((unsigned char *) b64, u, sizeof(u));
                for (char *p = b64; *p; p++)
                        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
                b64[22] = 0; /* drop the "==" */

                /* Kafka draws again rather than print an id that reads as a command line option. */
                if (b64[0] == '-')
                        continue;
                char *s = strdup(b64);
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
}

int uuid_generate_v4(char ret[static 37]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t u[16];
        char s[37];
        size_t j = 0;

        if (!ret)
                return -EINVAL;
        int r = uuid_v4_bytes(u);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        s[j++] = '-';
                s[j++] = hex[u[i] >> 4];
                s[j++] = hex[u[i] & 0xf];
        }
        s[j] = 0;
        memcpy(ret, s, sizeof(s));
        return 0;
}

int cephx_key_generate(char **ret) {
        uint8_t blob[CEPHX_BLOB_LEN];
        struct timespec now;

        if (!ret)
                return -EINVAL;
        if (clock_gettime(CLOCK_REALTIME, &now) < 0)
                return -errno;

        /* Ceph's utime_t is two u32: seconds wrap in 2106, as they do in Ceph. */
        put_le16(blob, CEPHX_TYPE_AES);
        put_le32(blob + 2, (uint32_t) now.tv_sec);
        put_le32(blob + 6, (uint32_t) now.tv_nsec);
        put_le16(blob + 10, CEPHX_SECRET_LEN);
        int r = random_bytes(blob + CEPHX_HEADER_LEN, CEPHX_SECRET_LEN);
        r = r ?: base64_encode(blob, sizeof(blob), ret);
        OPENSSL_cleanse(blob, sizeof(blob));
        return r;
}

static bool cephx_key_valid(const char *key) {
        /* CryptoKey::decode(): header, then as many secret bytes as the header's length says. */
        uint8_t buf[96];
        size_t len, n = strlen(key);
        bool ok = base64_decode(key, n, buf, sizeof(buf), &len) >= 0 && len > CEPHX_HEADER_LEN &&
                  get_le16(buf + 10) == len - CEPHX_HEADER_LEN;
        OPENSSL_cleanse(buf, sizeof(buf));
        return ok;
}

static bool ceph_entity_valid(const char *entity) {
        static const char *const types[] = { "auth", "client", "mds", "mgr", "mon", "osd" };
        const char *dot = strchr(entity, '.');
        bool known = false;

        if (!dot)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (strlen(types[i]) == (size_t) (dot - entity) && strncmp(entity, types[i], (size_t) (dot - entity)) == 0)
                        known = true;
        if (!known)
                return false;
        for (const char *p = dot + 1; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '.' || *p == '_' || *p == '-'))
                        return false;
        return true;
}

static bool ceph_service_valid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
                        return false;
        return true;
}

static bool ceph_cap_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                size_t n = utf8_char_len(p);
                if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f || *p == '\\')))
                        return false;
                p += n;
        }
        return true;
}

static int cmp_cap_pair(const void *a, const void *b) {
        const char *const *x = *(const char *const *const *) a;
        const char *const *y = *(const char *const *const *) b;
        return strcmp(x[0], y[0]);
}

int cephx_keyring_entry(const char *entity, const char *key, const char *const *caps, char **ret) {
        _cleanup_free_ const char *const **pairs = NULL;
        size_t n = 0;
        StrBuf text = {};
        int r = 0;

        if (!entity || !key || !ret || !ceph_entity_valid(entity) || !cephx_key_valid(key))
                return -EINVAL;

        if (caps)
                for (; caps[2 * n]; n++)
                        if (!caps[2 * n + 1])
                                return -EINVAL;
        if (n > 0) {
                pairs = calloc(n, sizeof(*pairs));
                if (!pairs)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (!ceph_service_valid(caps[2 * i]) || !ceph_cap_valid(caps[2 * i + 1]))
                        return -EINVAL;
                pairs[i] = caps + 2 * i;
        }
        if (n > 1)
                qsort(pairs, n, sizeof(*pairs), cmp_cap_pair);
        for (size_t i = 1; i < n; i++)
                if (streq(pairs[i - 1][0], pairs[i][0]))
                        return -EINVAL;

        /* The key goes in last and in one piece, so that no reallocation leaves a copy of it behind. */
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = strbuf_printf(&text, "\tcaps %s = \"", pairs[i][0]);
                for (const char *p = pairs[i][1]; *p && r >= 0; p++)
                        r = *p == '"' ? strbuf_append(&text, "\\\"") : strbuf_appendn(&text, p, 1);
                r = r ?: strbuf_append(&text, "\"\n");
        }
        if (r < 0) {
                strbuf_done(&text);
                return r;
        }

        char *s = strprintf("[%s]\n\tkey = %s\n%s", entity, key, strempty(text.s));
        strbuf_done(&text);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool mosquitto_user_valid(const char *user) {
        const unsigned char *p = (const unsigned char *) user;
        if (!*p)
                return false;
        while (*p) {
                size_t n = utf8_char_len(p);
                if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f || *p == ':')))
                        return false;
                p += n;
        }
        return true;
}

static int mosquitto_hash(const char *password, const uint8_t *salt, size_t salt_len, int iterations,
                          uint8_t hash[static MOSQ_HASH_LEN]) {
        size_t n = strlen(password);
        if (n > INT_MAX)
                return -EINVAL;
        if (PKCS5_PBKDF2_HMAC(password, (int) n, salt, (int) salt_len, iterations, EVP_sha512(), MOSQ_HASH_LEN,
                              hash) != 1)
                return -EIO;
        return 0;
}

int mosquitto_password_line(const char *user, const char *password, char **ret) {
        uint8_t salt[MOSQ_SALT_LEN], hash[MOSQ_HASH_LEN];
        _cleanup_free_ char *salt64 = NULL;
        _cleanup_secret_free_ char *hash64 = NULL;

        if (!user || !password || !ret || !mosquitto_user_valid(user) || !*password)
                return -EINVAL;

        int r = random_bytes(salt, sizeof(salt));
        r = r ?: mosquitto_hash(password, salt, sizeof(salt), MOSQ_ITERATIONS, hash);
        r = r ?: base64_encode(salt, sizeof(salt), &salt64);
        r = r ?: base64_encode(hash, sizeof(hash), &hash64);
        OPENSSL_cleanse(hash, sizeof(hash));
        if (r < 0)
                return r;

        char *s = strprintf("%s:$7$%d$%s$%s", user, MOSQ_ITERATIONS, salt64, hash64);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The decimal iteration count of "$7$": what mosquitto's atoi() accepts, without its silent overflow. */
static int parse_iterations(const char *s, size_t len, int *ret) {
        long v = 0;
        if (len == 0 || len > 10)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        if (v < 1 || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int mosquitto_password_verify(const char *line, const char *password) {
        uint8_t salt[MOSQ_SALT_LEN_LONG + 3], want[MOSQ_HASH_LEN + 3], got[MOSQ_HASH_LEN];
        size_t salt_len, want_len;
        int iterations, r;

        if (!line || !password)
                return -EINVAL;

        const char *colon = strchr(line, ':');
        if (!colon || colon == line)
                return -EINVAL;
        const char *p = colon + 1;
        size_t len = strlen(p);
        if (len > 0 && p[len - 1] == '\n')
                len--;
        if (len > 0 && p[len - 1] == '\r')
                len--;

        if (startswith(p, "$6$") || startswith(p, "$argon2id$"))
                return -EOPNOTSUPP;
        if (!startswith(p, "$7$"))
                return -EINVAL;
        p += 3;
        len -= 3;

        const char *d1 = memchr(p, '$', len);
        const char *d2 = d1 ? memchr(d1 + 1, '$', len - (size_t) (d1 + 1 - p)) : NULL;
        if (!d2)
                return -EINVAL;
        r = parse_iterations(p, (size_t) (d1 - p), &iterations);
        if (r < 0)
                return r;
        r = base64_decode(d1 + 1, (size_t) (d2 - d1 - 1), salt, sizeof(salt), &salt_len);
        if (r < 0)
                return r;
        if (salt_len != MOSQ_SALT_LEN && salt_len != MOSQ_SALT_LEN_LONG)
                return -EINVAL;
        r = base64_decode(d2 + 1, len - (size_t) (d2 + 1 - p), want, sizeof(want), &want_len);
        if (r < 0 || want_len != MOSQ_HASH_LEN) {
                OPENSSL_cleanse(want, sizeof(want));
                return -EINVAL;
        }

        r = mosquitto_hash(password, salt, salt_len, iterations, got);
        if (r >= 0)
                r = CRYPTO_memcmp(got, want, MOSQ_HASH_LEN) == 0;
        OPENSSL_cleanse(got, sizeof(got));
        OPENSSL_cleanse(want, sizeof(want));
        return r;
}
