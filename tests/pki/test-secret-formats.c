/* SPDX-License-Identifier: Apache-2.0 */
/* Without arguments: the TAP unit tests of secret-formats.c. With a verb: a helper for
 * test-secret-formats-real.sh that prints generated material for the real ceph-authtool and mosquitto:
 *   cephx-key
 *   keyring ENTITY KEY [SERVICE CAPS]...
 *   mosquitto-line USER PASSWORD
 *   mosquitto-verify LINE PASSWORD      exit 0 match, 1 no match, 2 error */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "secret-formats.h"
#include "string-util.h"
#include "tap.h"
#include "banned.h"

/* A line that mosquitto_passwd 2.0.11 wrote for "user" with the password "secret". */
#define REAL_MOSQ_LINE                                                                                       \
        "user:$7$101$mAyHvUpdaFcE4QfF$ZoqTDqcGBRR0MNQ4JClOhn0JyVn8la3h5rI0136trfuX7id3ZpkavvjwiVfW1i/f5a83Px7O" \
        "drnG+evypsBu5Q=="

static bool all_in(const char *s, size_t n, const char *alphabet) {
        for (size_t i = 0; i < n; i++)
                if (!s[i] || !strchr(alphabet, s[i]))
                        return false;
        return true;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Standard base64 of s, padding removed from the count. */
static size_t b64_decode(const char *s, uint8_t *buf) {
        size_t len = strlen(s);
        int n = EVP_DecodeBlock(buf, (const unsigned char *) s, (int) len);
        if (n < 0)
                return 0;
        while (len > 0 && s[len - 1] == '=') {
                len--;
                n--;
        }
        return (size_t) n;
}

TEST(test_bootstrap_token) {
        enum { N = 1000 };
        char *tokens[N] = {};
        bool good = true;

        for (size_t i = 0; i < N && good; i++) {
                good = bootstrap_token_generate(&tokens[i]) == 0 && strlen(tokens[i]) == 23 &&
                       all_in(tokens[i], 6, "abcdefghijklmnopqrstuvwxyz0123456789") && tokens[i][6] == '.' &&
                       all_in(tokens[i] + 7, 16, "abcdefghijklmnopqrstuvwxyz0123456789");
                if (!good)
                        printf("# bad token: %s\n", tokens[i] ? tokens[i] : "(null)");
        }
        if (good) {
                qsort(tokens, N, sizeof(tokens[0]), cmp_str);
                for (size_t i = 1; i < N; i++)
                        if (streq(tokens[i - 1], tokens[i]))
                                good = false;
        }
        for (size_t i = 0; i < N; i++)
                secret_free(tokens[i]);
        ASSERT_TRUE(good);
}

/* Every character of the alphabet appears, each about as often as the others: with n draws per character
 * the count's standard deviation is about sqrt(n), so 25% off at n = 2000 is a 10-sigma event. */
static bool distribution_ok(const char *alphabet, size_t per_char) {
        size_t k = strlen(alphabet), counts[128] = {};
        char *s = NULL;
        if (random_string(alphabet, k * per_char, &s) < 0)
                return false;
        bool ok = strlen(s) == k * per_char;
        for (const char *p = s; *p; p++)
                counts[(unsigned char) *p]++;
        for (size_t i = 0; i < k; i++) {
                size_t c = counts[(unsigned char) alphabet[i]];
                if (c < per_char * 3 / 4 || c > per_char * 5 / 4) {
                        printf("# '%c' drawn %zu times, expected about %zu\n", alphabet[i], c, per_char);
                        ok = false;
                }
        }
        secret_free(s);
        return ok;
}

TEST(test_random_string) {
        char *s = NULL;
        ASSERT_TRUE(distribution_ok("abcdefghijklmnopqrstuvwxyz0123456789", 2000));
        /* 256 % 3 == 1 and 256 % 100 == 56: the alphabets where modulo bias would show. */
        ASSERT_TRUE(distribution_ok("xyz", 2000));
        ASSERT_TRUE(distribution_ok("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"#$%&'()*+,-./:;<=>"
                                    "?@[]^_`{|}~ \t\\",
                                    2000));
        ASSERT_TRUE(distribution_ok("a", 10));

        ASSERT_INT_EQ(random_string("ab", 0, &s), 0);
        ASSERT_STREQ(s, "");
        secret_free(s);
        s = NULL;
        ASSERT_INT_EQ(random_string("", 8, &s), -EINVAL);
        ASSERT_INT_EQ(random_string("aba", 8, &s), -EINVAL);
        ASSERT_INT_EQ(random_string("ab\xc3\xa9", 8, &s), -EINVAL);
        ASSERT_INT_EQ(random_string(NULL, 8, &s), -EINVAL);
        ASSERT_NULL(s);
        secret_free(NULL);
}

TEST(test_kafka_cluster_id) {
        for (size_t i = 0; i < 500; i++) {
                char *id = NULL, b64[25];
                uint8_t u[18];
                ASSERT_INT_EQ(kafka_cluster_id_generate(&id), 0);
                size_t len = strlen(id);
                bool good = len == 22 && id[0] != '-' &&
                            all_in(id, len, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
                /* Back to standard base64 to check the UUID inside. */
                for (size_t j = 0; good && j < 22; j++)
                        b64[j] = id[j] == '-' ? '+' : id[j] == '_' ? '/' : id[j];
                free(id);
                ASSERT_TRUE(good);
                memcpy(b64 + 22, "==", 3);
                ASSERT_INT_EQ(b64_decode(b64, u), 16);
                ASSERT_INT_EQ(u[6] >> 4, 4);
                ASSERT_INT_EQ(u[8] >> 6, 2);
        }
}

TEST(test_uuid_v4) {
        char a[37], b[37];
        for (size_t i = 0; i < 200; i++) {
                ASSERT_INT_EQ(uuid_generate_v4(a), 0);
                ASSERT_INT_EQ(strlen(a), 36);
                for (size_t j = 0; j < 36; j++) {
                        if (j == 8 || j == 13 || j == 18 || j == 23)
                                ASSERT_TRUE(a[j] == '-');
                        else
                                ASSERT_TRUE(strchr("0123456789abcdef", a[j]) && a[j]);
                }
                ASSERT_TRUE(a[14] == '4');
                ASSERT_TRUE(strchr("89ab", a[19]) && a[19]);
        }
        ASSERT_INT_EQ(uuid_generate_v4(b), 0);
        ASSERT_TRUE(!streq(a, b));
}

TEST(test_cephx_key) {
        char *key = NULL, *other = NULL;
        uint8_t buf[32];
        time_t now = time(NULL);

        ASSERT_INT_EQ(cephx_key_generate(&key), 0);
        ASSERT_INT_EQ(cephx_key_generate(&other), 0);
        bool differ = !streq(key, other);
        secret_free(other);
        size_t len = strlen(key), n = b64_decode(key, buf);
        bool prefix = startswith(key, "AQ"), padded = endswith(key, "==");
        secret_free(key);
        ASSERT_TRUE(differ);
        ASSERT_INT_EQ(len, 40);
        ASSERT_TRUE(prefix);
        ASSERT_TRUE(padded);

        /* CryptoKey::encode(): le16 type, utime_t (le32 sec, le32 nsec), le16 length, the secret. */
        ASSERT_INT_EQ(n, 28);
        ASSERT_INT_EQ(buf[0] | buf[1] << 8, 1);
        uint32_t sec = (uint32_t) buf[2] | (uint32_t) buf[3] << 8 | (uint32_t) buf[4] << 16 | (uint32_t) buf[5] << 24;
        uint32_t nsec = (uint32_t) buf[6] | (uint32_t) buf[7] << 8 | (uint32_t) buf[8] << 16 | (uint32_t) buf[9] << 24;
        ASSERT_TRUE(sec + 60 >= (uint32_t) now && sec <= (uint32_t) now + 60);
        ASSERT_TRUE(nsec < 1000000000);
        ASSERT_INT_EQ(buf[10] | buf[11] << 8, 16);
}

TEST(test_cephx_keyring_entry) {
        /* A key that ceph-authtool --gen-print-key printed. */
        const char *key = "AQAXBAJrXdvkJBAAHHTgjSjcsIVCJ8OlH4M8EA==";
        const char *const admin[] = { "mon", "allow *", "osd", "allow *", "mds", "allow *", "mgr", "allow *", NULL };
        const char *const quoted[] = { "osd", "allow rw pool=\"my pool\"", NULL };
        char *s = NULL;

        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", key, admin, &s), 0);
        /* As ceph-authtool writes it: its caps are a map, so sorted. */
        ASSERT_STREQ(s, "[client.admin]\n"
                        "\tkey = AQAXBAJrXdvkJBAAHHTgjSjcsIVCJ8OlH4M8EA==\n"
                        "\tcaps mds = \"allow *\"\n"
                        "\tcaps mgr = \"allow *\"\n"
                        "\tcaps mon = \"allow *\"\n"
                        "\tcaps osd = \"allow *\"\n");
        secret_free(s);
        s = NULL;

        ASSERT_INT_EQ(cephx_keyring_entry("mon.", key, NULL, &s), 0);
        ASSERT_STREQ(s, "[mon.]\n\tkey = AQAXBAJrXdvkJBAAHHTgjSjcsIVCJ8OlH4M8EA==\n");
        secret_free(s);
        s = NULL;

        ASSERT_INT_EQ(cephx_keyring_entry("client.bootstrap-osd", key, quoted, &s), 0);
        ASSERT_STREQ(s, "[client.bootstrap-osd]\n"
                        "\tkey = AQAXBAJrXdvkJBAAHHTgjSjcsIVCJ8OlH4M8EA==\n"
                        "\tcaps osd = \"allow rw pool=\\\"my pool\\\"\"\n");
        secret_free(s);
        s = NULL;

        const char *const odd[] = { "mon", NULL };
        const char *const twice[] = { "mon", "allow r", "mon", "allow *", NULL };
        const char *const backslash[] = { "mon", "allow \\", NULL };
        const char *const newline[] = { "mon", "allow *\n[client.evil]", NULL };
        const char *const bad_service[] = { "mon x", "allow *", NULL };
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", key, odd, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", key, twice, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", key, backslash, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", key, newline, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", key, bad_service, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("admin", key, NULL, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("user.admin", key, NULL, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.a]b", key, NULL, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", "AQAXBAJrXdvkJBAAHHTgjSjcsIVCJ8OlH4M8", NULL, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", "AQAXBAJrXdvkJBAAHHTgjSjcsIVCJ8OlH4M8EA", NULL, &s), -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", "AQAXBAJrXdvkJBAA HTgjSjcsIVCJ8OlH4M8EA==", NULL, &s),
                      -EINVAL);
        ASSERT_INT_EQ(cephx_keyring_entry("client.admin", "", NULL, &s), -EINVAL);
        ASSERT_NULL(s);
}

/* "user:$7$101$SALT$HASH" with a 12-byte salt and a 64-byte hash. */
static bool mosq_line_ok(const char *line, const char *user) {
        size_t ul = strlen(user);
        if (strncmp(line, user, ul) != 0 || !startswith(line + ul, ":$7$101$"))
                return false;
        const char *salt = line + ul + strlen(":$7$101$");
        const char *hash = strchr(salt, '$');
        if (!hash || hash - salt != 16 || strlen(hash + 1) != 88)
                return false;
        char salt64[17];
        uint8_t buf[80];
        memcpy(salt64, salt, 16);
        salt64[16] = 0;
        return b64_decode(salt64, buf) == 12 && b64_decode(hash + 1, buf) == 64;
}

TEST(test_mosquitto_password) {
        char *a = NULL, *b = NULL;

        ASSERT_INT_EQ(mosquitto_password_line("sensors", "correct horse", &a), 0);
        ASSERT_INT_EQ(mosquitto_password_line("sensors", "correct horse", &b), 0);
        bool parsed = mosq_line_ok(a, "sensors") && mosq_line_ok(b, "sensors");
        bool differ = !streq(a, b); /* random salts */
        int right = mosquitto_password_verify(a, "correct horse");
        int right_b = mosquitto_password_verify(b, "correct horse");
        int wrong = mosquitto_password_verify(a, "correct horsf");
        int prefix = mosquitto_password_verify(a, "correct hors");
        int empty = mosquitto_password_verify(a, "");
        secret_free(a);
        secret_free(b);
        ASSERT_TRUE(parsed);
        ASSERT_TRUE(differ);
        ASSERT_INT_EQ(right, 1);
        ASSERT_INT_EQ(right_b, 1);
        ASSERT_INT_EQ(wrong, 0);
        ASSERT_INT_EQ(prefix, 0);
        ASSERT_INT_EQ(empty, 0);

        /* The real tool's line, as read from a file or not. */
        ASSERT_INT_EQ(mosquitto_password_verify(REAL_MOSQ_LINE, "secret"), 1);
        ASSERT_INT_EQ(mosquitto_password_verify(REAL_MOSQ_LINE "\n", "secret"), 1);
        ASSERT_INT_EQ(mosquitto_password_verify(REAL_MOSQ_LINE "\r\n", "secret"), 1);
        ASSERT_INT_EQ(mosquitto_password_verify(REAL_MOSQ_LINE, "Secret"), 0);

        ASSERT_INT_EQ(mosquitto_password_verify("user:$6$c2FsdA==$aGFzaA==", "x"), -EOPNOTSUPP);
        ASSERT_INT_EQ(mosquitto_password_verify("user:$argon2id$v=19$m=47104,t=1,p=1$c2FsdA$aGFzaA", "x"), -EOPNOTSUPP);
        ASSERT_INT_EQ(mosquitto_password_verify("user:$7$0$mAyHvUpdaFcE4QfF$aGFzaA==", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify("user:$7$99999999999$mAyHvUpdaFcE4QfF$aGFzaA==", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify("user:$7$101$mAyHvUpdaFcE4QfF$aGFzaA==", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify("user:$7$101$c2FsdA==$aGFzaA==", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify("user:$7$101$mAyHvUpdaFcE4QfF", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify("user:$7$", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify("user:plain", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify(":$7$101$mAyHvUpdaFcE4QfF$aGFzaA==", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify("no colon", "x"), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_verify(NULL, "x"), -EINVAL);

        char *s = NULL;
        ASSERT_INT_EQ(mosquitto_password_line("a:b", "pw", &s), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_line("a\nb", "pw", &s), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_line("", "pw", &s), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_line("\xff", "pw", &s), -EINVAL);
        ASSERT_INT_EQ(mosquitto_password_line("user", "", &s), -EINVAL);
        ASSERT_NULL(s);
        ASSERT_INT_EQ(mosquitto_password_line("m\xc3\xbcller", "pw", &s), 0);
        ASSERT_INT_EQ(mosquitto_password_verify(s, "pw"), 1);
        secret_free(s);
}

static int helper(int argc, char **argv) {
        char *s = NULL;
        int r;

        if (streq(argv[1], "cephx-key") && argc == 2)
                r = cephx_key_generate(&s);
        else if (streq(argv[1], "keyring") && argc >= 4 && argc % 2 == 0)
                r = cephx_keyring_entry(argv[2], argv[3], (const char *const *) argv + 4, &s);
        else if (streq(argv[1], "mosquitto-line") && argc == 4)
                r = mosquitto_password_line(argv[2], argv[3], &s);
        else if (streq(argv[1], "mosquitto-verify") && argc == 4) {
                r = mosquitto_password_verify(argv[2], argv[3]);
                if (r < 0) {
                        fprintf(stderr, "mosquitto_password_verify: %s\n", strerror(-r));
                        return 2;
                }
                printf("%s\n", r ? "match" : "no match");
                return r ? 0 : 1;
        } else {
                fprintf(stderr, "usage: %s [cephx-key | keyring ENTITY KEY [SERVICE CAPS]... | "
                                "mosquitto-line USER PASSWORD | mosquitto-verify LINE PASSWORD]\n",
                        argv[0]);
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", argv[1], strerror(-r));
                return 2;
        }
        /* A keyring entry ends in a newline already. */
        fputs(s, stdout);
        if (!endswith(s, "\n"))
                fputc('\n', stdout);
        secret_free(s);
        return 0;
}

int main(int argc, char **argv) {
        if (argc > 1)
                return helper(argc, argv);

        RUN(test_bootstrap_token);
        RUN(test_random_string);
        RUN(test_kafka_cluster_id);
        RUN(test_uuid_v4);
        RUN(test_cephx_key);
        RUN(test_cephx_keyring_entry);
        RUN(test_mosquitto_password);
        return tap_done();
}
