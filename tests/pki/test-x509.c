/* SPDX-License-Identifier: Apache-2.0 */
/* Keys and certificates from src/pki/x509.c, checked by our own functions and, independently, by the
 * openssl CLI: `openssl verify` must accept the chain and `openssl x509 -text` must show what kubeadm's
 * certificates show. */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "net-util.h"
#include "secret-formats.h"
#include "string-util.h"
#include "tap.h"
#include "x509.h"
#include "banned.h"

#define DAY (24 * 60 * 60)

static char tmpdir[] = "/tmp/test-x509-XXXXXX";

/* The fixtures of the algorithm under test, made by test_generate(). */
static KeyAlgorithm alg;
static EVP_PKEY *ca_key, *other_ca_key, *apiserver_key, *peer_key, *admin_key;
static X509 *ca, *other_ca, *apiserver, *peer, *admin;

static const char *const apiserver_dns[] = { "node-1",
                                             "kubernetes",
                                             "kubernetes.default",
                                             "kubernetes.default.svc",
                                             "kubernetes.default.svc.cluster.local",
                                             "node-1",
                                             NULL };
static const char *const apiserver_ip_strings[] = { "10.96.0.1", "192.168.1.10", "fd00::10", "::1",
                                                    "10.96.0.1" };
static IpAddr apiserver_ips[ELEMENTSOF(apiserver_ip_strings)];
static const char *const peer_dns[] = { "node-1", "localhost", NULL };
static const char *const peer_ip_strings[] = { "192.168.1.10", "127.0.0.1", "::1" };
static IpAddr peer_ips[ELEMENTSOF(peer_ip_strings)];
static const char *const admin_orgs[] = { "system:masters", "kubeadm:cluster-admins", NULL };

/* What `openssl x509 -text` prints for the SANs above: DNS names sorted and unique, then the IPs in order,
 * unique, IPv6 as OpenSSL 3 spells it. */
#define APISERVER_SANS                                                                                      \
        "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, "                              \
        "DNS:kubernetes.default.svc.cluster.local, DNS:node-1, "                                            \
        "IP Address:10.96.0.1, IP Address:192.168.1.10, "                                                   \
        "IP Address:FD00:0:0:0:0:0:0:10, IP Address:0:0:0:0:0:0:0:1"
#define PEER_SANS                                                                                           \
        "DNS:localhost, DNS:node-1, "                                                                       \
        "IP Address:192.168.1.10, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int generate_timed(KeyAlgorithm a, EVP_PKEY **ret, const char *what) {
        double start = now_ms();
        int r = pki_key_generate(a, ret);
        printf("# key generation %s (%s): %.1f ms\n", key_algorithm_to_string(a), what, now_ms() - start);
        return r;
}

static void parse_ips(const char *const *strings, size_t n, IpAddr *ret) {
        for (size_t i = 0; i < n; i++)
                if (ip_addr_parse(strings[i], &ret[i]) < 0)
                        abort();
}

/* Runs a shell command, returns its exit status and (if ret) its stdout. */
static int run(const char *cmd, char **ret) {
        StrBuf b = {};
        char buf[4096];
        size_t n;

        fflush(stdout);
        FILE *f = popen(cmd, "r");
        if (!f)
                return -errno;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                if (strbuf_appendn(&b, buf, n) < 0)
                        abort();
        int status = pclose(f);
        if (ret)
                *ret = strbuf_steal(&b);
        else
                strbuf_done(&b);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *tmp_path(const char *name) {
        char *p = strprintf("%s/%s-%s", tmpdir, key_algorithm_to_string(alg), name);
        if (!p)
                abort();
        return p;
}

static int write_text(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        size_t len = strlen(text);
        bool ok = fwrite(text, 1, len, f) == len;
        return fclose(f) == 0 && ok ? 0 : -EIO;
}

/* Writes cert as PEM to the temp dir; returns the path. */
static char *write_cert(X509 *cert, const char *name) {
        _cleanup_free_ char *pem = NULL;
        char *path = tmp_path(name);
        if (pki_cert_to_pem(cert, &pem, NULL) < 0 || write_text(path, pem) < 0)
                abort();
        return path;
}

/* The line after the one containing header, without its indentation. */
static char *line_after(const char *text, const char *header) {
        const char *p = strstr(text, header);
        if (!p || !(p = strchr(p, '\n')))
                return NULL;
        p++;
        while (*p == ' ')
                p++;
        const char *end = strchrnul(p, '\n');
        char *line = strndup(p, (size_t) (end - p));
        if (!line)
                abort();
        return line;
}

/* The line containing needle, without its indentation. */
static char *line_with(const char *text, const char *needle) {
        const char *p = strstr(text, needle);
        if (!p)
                return NULL;
        while (p > text && p[-1] != '\n')
                p--;
        while (*p == ' ')
                p++;
        const char *end = strchrnul(p, '\n');
        char *line = strndup(p, (size_t) (end - p));
        if (!line)
                abort();
        return line;
}

static char *x509_text(X509 *cert, const char *name) {
        _cleanup_free_ char *path = write_cert(cert, name);
        _cleanup_free_ char *cmd = strprintf("openssl x509 -noout -text -in '%s'", path);
        char *out = NULL;
        if (!cmd || run(cmd, &out) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

TEST(test_algorithm_names) {
        ASSERT_INT_EQ(key_algorithm_from_string("ecdsa-p256"), KEY_ECDSA_P256);
        ASSERT_INT_EQ(key_algorithm_from_string("rsa-2048"), KEY_RSA_2048);
        ASSERT_INT_EQ(key_algorithm_from_string("rsa-3072"), KEY_RSA_3072);
        ASSERT_INT_EQ(key_algorithm_from_string("rsa-4096"), KEY_RSA_4096);
        ASSERT_INT_EQ(key_algorithm_from_string("rsa-1024"), _KEY_ALGORITHM_INVALID);
        ASSERT_INT_EQ(key_algorithm_from_string("ECDSA-P256"), _KEY_ALGORITHM_INVALID);
        ASSERT_INT_EQ(key_algorithm_from_string(""), _KEY_ALGORITHM_INVALID);
        ASSERT_INT_EQ(key_algorithm_from_string(NULL), _KEY_ALGORITHM_INVALID);
        for (KeyAlgorithm a = 0; a < _KEY_ALGORITHM_MAX; a++)
                ASSERT_INT_EQ(key_algorithm_from_string(key_algorithm_to_string(a)), a);
        ASSERT_NULL(key_algorithm_to_string(_KEY_ALGORITHM_MAX));
        ASSERT_NULL(key_algorithm_to_string(_KEY_ALGORITHM_INVALID));

        EVP_PKEY *key = (EVP_PKEY *) 0x1;
        ASSERT_INT_EQ(pki_key_generate(_KEY_ALGORITHM_INVALID, &key), -EINVAL);
        ASSERT_INT_EQ(pki_key_generate(_KEY_ALGORITHM_MAX, &key), -EINVAL);
        ASSERT_TRUE(key == (EVP_PKEY *) 0x1);
}

TEST(test_generate) {
        CertSpec ca_spec = { .common_name = "kubernetes", .usage = CERT_USAGE_CA,
                             .validity_days = PKI_CA_VALIDITY_DAYS };
        CertSpec apiserver_spec = { .common_name = "kube-apiserver", .dns_names = apiserver_dns,
                                    .ips = apiserver_ips, .n_ips = ELEMENTSOF(apiserver_ips),
                                    .usage = CERT_USAGE_SERVER, .validity_days = PKI_LEAF_VALIDITY_DAYS };
        CertSpec peer_spec = { .common_name = "node-1", .dns_names = peer_dns, .ips = peer_ips,
                               .n_ips = ELEMENTSOF(peer_ips), .usage = CERT_USAGE_SERVER | CERT_USAGE_CLIENT,
                               .validity_days = PKI_LEAF_VALIDITY_DAYS };
        CertSpec admin_spec = { .common_name = "kubernetes-admin", .organizations = admin_orgs,
                                .usage = CERT_USAGE_CLIENT }; /* validity_days 0: the leaf default */

        ASSERT_INT_EQ(generate_timed(alg, &ca_key, "ca"), 0);
        ASSERT_INT_EQ(pki_ca_create(ca_key, &ca_spec, &ca), 0);
        /* Another CA with the same name: only its key tells them apart. */
        ASSERT_INT_EQ(generate_timed(alg, &other_ca_key, "other ca"), 0);
        ASSERT_INT_EQ(pki_ca_create(other_ca_key, &ca_spec, &other_ca), 0);

        ASSERT_INT_EQ(generate_timed(alg, &apiserver_key, "apiserver"), 0);
        ASSERT_INT_EQ(pki_cert_issue(apiserver_key, &apiserver_spec, ca, ca_key, &apiserver), 0);
        ASSERT_INT_EQ(generate_timed(alg, &peer_key, "etcd peer"), 0);
        ASSERT_INT_EQ(pki_cert_issue(peer_key, &peer_spec, ca, ca_key, &peer), 0);
        ASSERT_INT_EQ(generate_timed(alg, &admin_key, "admin"), 0);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &admin_spec, ca, ca_key, &admin), 0);

        ASSERT_INT_EQ(EVP_PKEY_is_a(ca_key, alg == KEY_ECDSA_P256 ? "EC" : "RSA"), 1);
        if (alg != KEY_ECDSA_P256)
                ASSERT_INT_EQ(EVP_PKEY_get_bits(ca_key), 2048);
}

TEST(test_verify) {
        time_t now = time(NULL);

        ASSERT_INT_EQ(pki_cert_verify(apiserver, ca, now), 0);
        ASSERT_INT_EQ(pki_cert_verify(peer, ca, now), 0);
        ASSERT_INT_EQ(pki_cert_verify(admin, ca, now), 0);
        ASSERT_INT_EQ(pki_cert_verify(ca, ca, now), 0);

        /* Signed by another CA of the same name. */
        ASSERT_INT_EQ(pki_cert_verify(apiserver, other_ca, now), -EKEYREJECTED);
        ASSERT_INT_EQ(pki_cert_verify(other_ca, ca, now), -EKEYREJECTED);
        /* A leaf is no CA. */
        ASSERT_INT_EQ(pki_cert_verify(peer, apiserver, now), -EKEYREJECTED);

        /* At the end of the leaf's year, and before the CA began. */
        ASSERT_INT_EQ(pki_cert_verify(apiserver, ca, now + 366 * DAY), -EKEYEXPIRED);
        ASSERT_INT_EQ(pki_cert_verify(apiserver, ca, now - DAY), -EKEYEXPIRED);
        ASSERT_INT_EQ(pki_cert_verify(apiserver, ca, now + 300 * DAY), 0);
        ASSERT_INT_EQ(pki_cert_verify(NULL, ca, now), -EINVAL);
}

TEST(test_verify_validity) {
        time_t now = time(NULL);
        CertSpec old_ca_spec = { .common_name = "kubernetes", .usage = CERT_USAGE_CA,
                                 .not_before = now - 1000 * DAY };
        CertSpec expired_spec = { .common_name = "expired", .usage = CERT_USAGE_CLIENT,
                                  .validity_days = 365, .not_before = now - 400 * DAY };
        CertSpec future_spec = { .common_name = "future", .usage = CERT_USAGE_CLIENT,
                                 .validity_days = 365, .not_before = now + DAY };
        _cleanup_(X509_freep) X509 *old_ca = NULL, *expired = NULL, *future = NULL;

        ASSERT_INT_EQ(pki_ca_create(ca_key, &old_ca_spec, &old_ca), 0);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &expired_spec, old_ca, ca_key, &expired), 0);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &future_spec, old_ca, ca_key, &future), 0);

        ASSERT_INT_EQ(pki_cert_verify(expired, old_ca, now), -EKEYEXPIRED);
        ASSERT_INT_EQ(pki_cert_verify(expired, old_ca, now - 200 * DAY), 0); /* while it was valid */
        ASSERT_INT_EQ(pki_cert_verify(future, old_ca, now), -EKEYEXPIRED);
        ASSERT_INT_EQ(pki_cert_verify(future, old_ca, now + 2 * DAY), 0);
        /* Same key, same name: the CA made earlier verifies certificates of the later one. */
        ASSERT_INT_EQ(pki_cert_verify(apiserver, old_ca, now), 0);

        int64_t left = 0;
        ASSERT_INT_EQ(pki_cert_expires_in(expired, now, &left), 0);
        ASSERT_INT_EQ(left, -35 * DAY);
        ASSERT_INT_EQ(pki_cert_expires_in(old_ca, now, &left), 0);
        ASSERT_INT_EQ(left, (PKI_CA_VALIDITY_DAYS - 1000) * (int64_t) DAY);

        /* The real openssl agrees that it is expired. */
        _cleanup_free_ char *ca_path = write_cert(old_ca, "old-ca.pem");
        _cleanup_free_ char *expired_path = write_cert(expired, "expired.pem");
        _cleanup_free_ char *cmd = strprintf("openssl verify -CAfile '%s' '%s' 2>&1", ca_path, expired_path);
        _cleanup_free_ char *out = NULL;
        ASSERT_NOT_NULL(cmd);
        ASSERT_TRUE(run(cmd, &out) != 0);
        ASSERT_NOT_NULL(strstr(out, "certificate has expired"));
}

TEST(test_subject_queries) {
        ASSERT_TRUE(pki_cert_has_organization(admin, "system:masters"));
        ASSERT_TRUE(pki_cert_has_organization(admin, "kubeadm:cluster-admins"));
        ASSERT_TRUE(!pki_cert_has_organization(admin, "system:master"));
        ASSERT_TRUE(!pki_cert_has_organization(apiserver, "system:masters"));
        ASSERT_TRUE(pki_cert_has_cn(ca, "kubernetes"));
        ASSERT_TRUE(!pki_cert_has_cn(ca, "kubernete"));
}

TEST(test_renewal_due) {
        time_t now = time(NULL);
        /* A year's certificate: due with less than a third of 365 days (121.67) left, not before. */
        CertSpec young = { .common_name = "young", .usage = CERT_USAGE_CLIENT, .validity_days = 365,
                           .not_before = now - 243 * DAY };
        CertSpec old = { .common_name = "old", .usage = CERT_USAGE_CLIENT, .validity_days = 365,
                         .not_before = now - 244 * DAY };
        /* A day's: due in its last 8 hours. */
        CertSpec day = { .common_name = "day", .usage = CERT_USAGE_CLIENT, .validity_days = 1, .not_before = now };
        _cleanup_(X509_freep) X509 *y = NULL, *o = NULL, *d = NULL;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &young, ca, ca_key, &y), 0);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &old, ca, ca_key, &o), 0);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &day, ca, ca_key, &d), 0);
        ASSERT_TRUE(!pki_cert_renewal_due(y, now));
        ASSERT_TRUE(pki_cert_renewal_due(o, now));
        ASSERT_TRUE(!pki_cert_renewal_due(d, now + 16 * 3600 - 60));
        ASSERT_TRUE(pki_cert_renewal_due(d, now + 16 * 3600 + 60));
        ASSERT_TRUE(pki_cert_renewal_due(d, now + 2 * DAY)); /* expired */
        ASSERT_TRUE(!pki_cert_renewal_due(apiserver, now)); /* just issued */
        ASSERT_TRUE(pki_cert_renewal_due(NULL, now));
}

TEST(test_validity_and_serial) {
        time_t now = time(NULL);
        int days, secs;
        int64_t left;

        /* notBefore is 5 minutes back (kubeadm's CertificateBackdate); notAfter validity days later. */
        const ASN1_TIME *nb = X509_get0_notBefore(apiserver), *na = X509_get0_notAfter(apiserver);
        ASSERT_INT_EQ(ASN1_TIME_diff(&days, &secs, nb, na), 1);
        ASSERT_INT_EQ(days, 365);
        ASSERT_INT_EQ(secs, 0);
        ASSERT_INT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca), X509_get0_notAfter(ca)), 1);
        ASSERT_INT_EQ(days, 3650);
        ASSERT_INT_EQ(secs, 0);
        ASSERT_INT_EQ(pki_cert_expires_in(apiserver, now, &left), 0);
        ASSERT_TRUE(left <= 365 * DAY - 300 && left > 365 * DAY - 300 - 120);
        ASSERT_INT_EQ(pki_cert_expires_in(admin, now, &left), 0); /* validity_days 0 */
        ASSERT_TRUE(left <= 365 * DAY - 300 && left > 365 * DAY - 300 - 120);
        ASSERT_INT_EQ(pki_cert_expires_in(ca, now, &left), 0);
        ASSERT_TRUE(left <= 3650 * DAY - 300 && left > 3650 * DAY - 300 - 120);

        /* Serial numbers: positive, at most 128 bits, different. */
        X509 *certs[] = { ca, other_ca, apiserver, peer, admin };
        BIGNUM *serials[ELEMENTSOF(certs)] = {};
        bool ok = true;
        for (size_t i = 0; i < ELEMENTSOF(certs); i++) {
                serials[i] = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certs[i]), NULL);
                ok = ok && serials[i] && !BN_is_negative(serials[i]) && !BN_is_zero(serials[i]) &&
                     BN_num_bits(serials[i]) <= 128;
                for (size_t j = 0; j < i && ok; j++)
                        ok = BN_cmp(serials[i], serials[j]) != 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(certs); i++)
                BN_free(serials[i]);
        ASSERT_TRUE(ok);
}

TEST(test_key_matches) {
        ASSERT_TRUE(pki_key_matches(ca, ca_key));
        ASSERT_TRUE(pki_key_matches(apiserver, apiserver_key));
        ASSERT_TRUE(pki_key_matches(peer, peer_key));
        ASSERT_TRUE(!pki_key_matches(apiserver, peer_key));
        ASSERT_TRUE(!pki_key_matches(apiserver, ca_key));
        ASSERT_TRUE(!pki_key_matches(other_ca, ca_key));
        ASSERT_TRUE(!pki_key_matches(NULL, ca_key));
        ASSERT_TRUE(!pki_key_matches(ca, NULL));

        /* A key of the other family. */
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *other = NULL;
        ASSERT_INT_EQ(pki_key_generate(alg == KEY_ECDSA_P256 ? KEY_RSA_2048 : KEY_ECDSA_P256, &other), 0);
        ASSERT_TRUE(!pki_key_matches(apiserver, other));

        /* The public half alone matches as well. */
        _cleanup_free_ char *pub = NULL;
        ASSERT_INT_EQ(pki_public_key_to_pem(apiserver_key, &pub, NULL), 0);
        _cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(pub, -1);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *pubkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        ASSERT_NOT_NULL(pubkey);
        ASSERT_TRUE(pki_key_matches(apiserver, pubkey));
}

TEST(test_sans) {
        for (size_t i = 0; apiserver_dns[i]; i++)
                ASSERT_TRUE(pki_cert_has_dns(apiserver, apiserver_dns[i]));
        ASSERT_TRUE(pki_cert_has_dns(apiserver, "KUBERNETES.default")); /* DNS is case-insensitive */
        ASSERT_TRUE(!pki_cert_has_dns(apiserver, "node-2"));
        ASSERT_TRUE(!pki_cert_has_dns(apiserver, "kubernetes.default.svc.cluster"));
        ASSERT_TRUE(!pki_cert_has_dns(apiserver, "x.kubernetes"));
        ASSERT_TRUE(!pki_cert_has_dns(apiserver, "kube-apiserver")); /* the CN is not a SAN */
        ASSERT_TRUE(!pki_cert_has_dns(apiserver, "10.96.0.1"));
        ASSERT_TRUE(!pki_cert_has_dns(apiserver, ""));
        ASSERT_TRUE(!pki_cert_has_dns(apiserver, NULL));
        ASSERT_TRUE(pki_cert_has_dns(peer, "localhost"));
        ASSERT_TRUE(!pki_cert_has_dns(peer, "kubernetes"));
        ASSERT_TRUE(!pki_cert_has_dns(admin, "kubernetes-admin"));
        ASSERT_TRUE(pki_cert_has_dns(ca, "kubernetes")); /* as kubeadm's CA */

        for (size_t i = 0; i < ELEMENTSOF(apiserver_ips); i++)
                ASSERT_TRUE(pki_cert_has_ip(apiserver, &apiserver_ips[i]));
        for (size_t i = 0; i < ELEMENTSOF(peer_ips); i++)
                ASSERT_TRUE(pki_cert_has_ip(peer, &peer_ips[i]));

        IpAddr a;
        ASSERT_INT_EQ(ip_addr_parse("10.96.0.2", &a), 0);
        ASSERT_TRUE(!pki_cert_has_ip(apiserver, &a));
        ASSERT_INT_EQ(ip_addr_parse("127.0.0.1", &a), 0);
        ASSERT_TRUE(!pki_cert_has_ip(apiserver, &a));
        ASSERT_TRUE(pki_cert_has_ip(peer, &a));
        ASSERT_INT_EQ(ip_addr_parse("fd00::11", &a), 0);
        ASSERT_TRUE(!pki_cert_has_ip(apiserver, &a));
        ASSERT_INT_EQ(ip_addr_parse("::ffff:192.168.1.10", &a), 0); /* v4-mapped is another address */
        ASSERT_TRUE(!pki_cert_has_ip(apiserver, &a));
        ASSERT_TRUE(!pki_cert_has_ip(admin, &peer_ips[0]));
        ASSERT_TRUE(!pki_cert_has_ip(apiserver, NULL));
}

TEST(test_pem_round_trip) {
        _cleanup_free_ char *pem = NULL, *pem2 = NULL, *pub = NULL, *pub2 = NULL;
        _cleanup_secret_free_ char *key_pem = NULL, *key_pem2 = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        size_t size = 0, key_size = 0;

        ASSERT_INT_EQ(pki_cert_to_pem(apiserver, &pem, &size), 0);
        ASSERT_INT_EQ(size, strlen(pem));
        ASSERT_TRUE(startswith(pem, "-----BEGIN CERTIFICATE-----\n"));
        ASSERT_TRUE(endswith(pem, "-----END CERTIFICATE-----\n"));
        ASSERT_INT_EQ(pki_cert_from_pem(pem, size, &cert), 0);
        ASSERT_INT_EQ(X509_cmp(cert, apiserver), 0);
        ASSERT_INT_EQ(pki_cert_to_pem(cert, &pem2, NULL), 0);
        ASSERT_STREQ(pem2, pem);

        ASSERT_INT_EQ(pki_key_to_pem(apiserver_key, &key_pem, &key_size), 0);
        ASSERT_INT_EQ(key_size, strlen(key_pem));
        ASSERT_TRUE(startswith(key_pem, "-----BEGIN PRIVATE KEY-----\n"));
        ASSERT_TRUE(endswith(key_pem, "-----END PRIVATE KEY-----\n"));
        ASSERT_INT_EQ(pki_key_from_pem(key_pem, key_size, &key), 0);
        ASSERT_INT_EQ(EVP_PKEY_eq(key, apiserver_key), 1);
        ASSERT_TRUE(pki_key_matches(apiserver, key));
        ASSERT_INT_EQ(pki_key_to_pem(key, &key_pem2, NULL), 0);
        ASSERT_STREQ(key_pem2, key_pem);

        ASSERT_INT_EQ(pki_public_key_to_pem(apiserver_key, &pub, &size), 0);
        ASSERT_TRUE(startswith(pub, "-----BEGIN PUBLIC KEY-----\n"));
        ASSERT_INT_EQ(pki_public_key_to_pem(key, &pub2, NULL), 0);
        ASSERT_STREQ(pub2, pub);

        /* The openssl CLI reads the key and derives the same public key. */
        _cleanup_free_ char *key_path = tmp_path("key.pem");
        _cleanup_free_ char *cmd = strprintf("openssl pkey -in '%s' -pubout", key_path);
        _cleanup_free_ char *out = NULL;
        ASSERT_NOT_NULL(cmd);
        ASSERT_INT_EQ(write_text(key_path, key_pem), 0);
        ASSERT_INT_EQ(run(cmd, &out), 0);
        ASSERT_STREQ(out, pub);
        ASSERT_INT_EQ(unlink(key_path), 0);
}

TEST(test_pem_bad_input) {
        X509 *cert = (X509 *) 0x1;
        EVP_PKEY *key = (EVP_PKEY *) 0x1;
        _cleanup_free_ char *pem = NULL, *pub = NULL;
        _cleanup_secret_free_ char *key_pem = NULL;

        ASSERT_INT_EQ(pki_cert_to_pem(apiserver, &pem, NULL), 0);
        ASSERT_INT_EQ(pki_public_key_to_pem(apiserver_key, &pub, NULL), 0);
        ASSERT_INT_EQ(pki_key_to_pem(apiserver_key, &key_pem, NULL), 0);

        ASSERT_INT_EQ(pki_cert_from_pem("hello", 5, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_cert_from_pem(pem, strlen(pem) / 2, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_cert_from_pem(pem, 0, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_cert_from_pem(key_pem, strlen(key_pem), &cert), -EINVAL);
        ASSERT_INT_EQ(pki_key_from_pem(pem, strlen(pem), &key), -EINVAL);
        ASSERT_INT_EQ(pki_key_from_pem(pub, strlen(pub), &key), -EINVAL);
        ASSERT_INT_EQ(pki_key_from_pem(key_pem, strlen(key_pem) / 2, &key), -EINVAL);
        ASSERT_INT_EQ(pki_key_from_pem("", 0, &key), -EINVAL);
        ASSERT_TRUE(cert == (X509 *) 0x1);
        ASSERT_TRUE(key == (EVP_PKEY *) 0x1);

        /* An encrypted key is refused, without asking for a passphrase. */
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        ASSERT_NOT_NULL(bio);
        const EVP_CIPHER *cipher = EVP_aes_256_cbc();
        ASSERT_INT_EQ(PEM_write_bio_PrivateKey(bio, apiserver_key, cipher, NULL, 0, NULL, (void *) "pw"), 1);
        long n = BIO_get_mem_data(bio, &data);
        ASSERT_TRUE(n > 0);
        ASSERT_INT_EQ(pki_key_from_pem(data, (size_t) n, &key), -EINVAL);
        ASSERT_TRUE(key == (EVP_PKEY *) 0x1);
}

TEST(test_pem_traditional_key) {
        /* kubeadm writes "EC PRIVATE KEY" / "RSA PRIVATE KEY": existing ones are read as well. */
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        char *data;
        ASSERT_NOT_NULL(bio);
        ASSERT_INT_EQ(PEM_write_bio_PrivateKey_traditional(bio, peer_key, NULL, NULL, 0, NULL, NULL), 1);
        long n = BIO_get_mem_data(bio, &data);
        ASSERT_TRUE(n > 0);
        ASSERT_TRUE(startswith(data, alg == KEY_ECDSA_P256 ? "-----BEGIN EC PRIVATE KEY-----"
                                                           : "-----BEGIN RSA PRIVATE KEY-----"));
        ASSERT_INT_EQ(pki_key_from_pem(data, (size_t) n, &key), 0);
        ASSERT_TRUE(pki_key_matches(peer, key));
}

static void check_spki_hash(X509 *cert, const char *name) {
        char hash[72];
        ASSERT_INT_EQ(pki_spki_hash(cert, hash), 0);
        ASSERT_INT_EQ(strlen(hash), 7 + 64);
        ASSERT_TRUE(startswith(hash, "sha256:"));
        ASSERT_INT_EQ(strspn(hash + 7, "0123456789abcdef"), 64);

        /* The oracle: what kubeadm's docs tell users to run for --discovery-token-ca-cert-hash. */
        _cleanup_free_ char *path = write_cert(cert, name);
        _cleanup_free_ char *cmd = strprintf(
                "openssl x509 -in '%s' -pubkey -noout | openssl pkey -pubin -outform der | sha256sum", path);
        _cleanup_free_ char *out = NULL;
        ASSERT_NOT_NULL(cmd);
        ASSERT_INT_EQ(run(cmd, &out), 0);
        ASSERT_INT_EQ(strcspn(out, " "), 64);
        out[64] = 0;
        ASSERT_STREQ(hash + 7, out);
}

TEST(test_spki_hash) {
        check_spki_hash(ca, "ca.pem");
        if (tap_current_failed)
                return;
        check_spki_hash(apiserver, "apiserver.pem");
        if (tap_current_failed)
                return;

        char a[72], b[72];
        ASSERT_INT_EQ(pki_spki_hash(ca, a), 0);
        ASSERT_INT_EQ(pki_spki_hash(other_ca, b), 0);
        ASSERT_TRUE(!streq(a, b));
        ASSERT_INT_EQ(pki_spki_hash(NULL, a), -EINVAL);
}

static void check_openssl_verify(X509 *cert, const char *name) {
        _cleanup_free_ char *ca_path = write_cert(ca, "ca.pem");
        _cleanup_free_ char *path = write_cert(cert, name);
        _cleanup_free_ char *out = NULL, *out_strict = NULL, *expect = strprintf("%s: OK\n", path);
        _cleanup_free_ char *cmd = strprintf("openssl verify -CAfile '%s' '%s' 2>&1", ca_path, path);
        _cleanup_free_ char *cmd_strict =
                strprintf("openssl verify -x509_strict -CAfile '%s' '%s' 2>&1", ca_path, path);
        ASSERT_TRUE(expect && cmd && cmd_strict);
        ASSERT_INT_EQ(run(cmd, &out), 0);
        ASSERT_STREQ(out, expect);
        /* RFC 5280's rules too (key identifiers, critical basicConstraints, positive serials). */
        ASSERT_INT_EQ(run(cmd_strict, &out_strict), 0);
        ASSERT_STREQ(out_strict, expect);
}

TEST(test_openssl_verify) {
        check_openssl_verify(apiserver, "apiserver.pem");
        if (tap_current_failed)
                return;
        check_openssl_verify(peer, "peer.pem");
        if (tap_current_failed)
                return;
        check_openssl_verify(admin, "admin.pem");
        if (tap_current_failed)
                return;
        check_openssl_verify(ca, "ca-self.pem");
        if (tap_current_failed)
                return;

        /* And it refuses a leaf of the other CA. */
        _cleanup_(X509_freep) X509 *stranger = NULL;
        CertSpec spec = { .common_name = "stranger", .usage = CERT_USAGE_CLIENT };
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, other_ca, other_ca_key, &stranger), 0);
        ASSERT_INT_EQ(pki_cert_verify(stranger, ca, time(NULL)), -EKEYREJECTED);
        ASSERT_INT_EQ(pki_cert_verify(stranger, other_ca, time(NULL)), 0);
        _cleanup_free_ char *ca_path = write_cert(ca, "ca.pem");
        _cleanup_free_ char *path = write_cert(stranger, "stranger.pem");
        _cleanup_free_ char *cmd = strprintf("openssl verify -CAfile '%s' '%s' 2>&1", ca_path, path);
        _cleanup_free_ char *out = NULL;
        ASSERT_NOT_NULL(cmd);
        ASSERT_TRUE(run(cmd, &out) != 0);
        ASSERT_TRUE(!strstr(out, ": OK"));
}

/* The identifiers as `openssl x509 -text` prints them: "AB:CD:..." */
static char *key_id_line(const char *text, const char *header) {
        char *line = line_after(text, header);
        /* OpenSSL 3.0 prints the authority key id as "keyid:AB:..."; later versions without the prefix. */
        if (line && startswith(line, "keyid:"))
                memmove(line, line + 6, strlen(line + 6) + 1);
        return line;
}

TEST(test_openssl_text_ca) {
        _cleanup_free_ char *text = x509_text(ca, "ca.pem");
        ASSERT_NOT_NULL(text);

        _cleanup_free_ char *subject = line_with(text, "Subject: "), *issuer = line_with(text, "Issuer: ");
        ASSERT_STREQ(subject, "Subject: CN = kubernetes");
        ASSERT_STREQ(issuer, "Issuer: CN = kubernetes");
        ASSERT_NOT_NULL(strstr(text, "Version: 3 (0x2)"));
        const char *sig = alg == KEY_ECDSA_P256 ? "ecdsa-with-SHA256" : "sha256WithRSAEncryption";
        _cleanup_free_ char *sig_line = line_with(text, "Signature Algorithm: ");
        ASSERT_TRUE(sig_line && endswith(sig_line, sig));
        if (alg == KEY_ECDSA_P256)
                ASSERT_NOT_NULL(strstr(text, "NIST CURVE: P-256"));
        else
                ASSERT_NOT_NULL(strstr(text, "Public-Key: (2048 bit)"));

        _cleanup_free_ char *ku = line_after(text, "X509v3 Key Usage: critical");
        ASSERT_STREQ(ku, "Digital Signature, Key Encipherment, Certificate Sign");
        _cleanup_free_ char *bc = line_after(text, "X509v3 Basic Constraints: critical");
        ASSERT_STREQ(bc, "CA:TRUE");
        _cleanup_free_ char *ski = key_id_line(text, "X509v3 Subject Key Identifier:");
        ASSERT_TRUE(ski && strlen(ski) == 20 * 3 - 1);
        _cleanup_free_ char *san = line_after(text, "X509v3 Subject Alternative Name:");
        ASSERT_STREQ(san, "DNS:kubernetes");
        ASSERT_NULL(strstr(text, "Extended Key Usage"));
        ASSERT_NULL(strstr(text, "Authority Key Identifier")); /* as Go: none in a self-signed certificate */
        ASSERT_NULL(strstr(text, "pathlen"));
}

static void check_leaf_text(X509 *cert, const char *name, const char *subject_expect, const char *eku_expect,
                            const char *san_expect) {
        _cleanup_free_ char *text = x509_text(cert, name), *ca_text = x509_text(ca, "ca.pem");
        ASSERT_TRUE(text && ca_text);

        _cleanup_free_ char *subject = line_with(text, "Subject: "), *issuer = line_with(text, "Issuer: ");
        ASSERT_STREQ(subject, subject_expect);
        ASSERT_STREQ(issuer, "Issuer: CN = kubernetes");

        _cleanup_free_ char *ku = line_after(text, "X509v3 Key Usage: critical");
        /* keyEncipherment only where the key can do it (kubeadm sets it for every key type). */
        ASSERT_STREQ(ku, alg == KEY_ECDSA_P256 ? "Digital Signature"
                                               : "Digital Signature, Key Encipherment");
        _cleanup_free_ char *eku = line_after(text, "X509v3 Extended Key Usage:");
        ASSERT_STREQ(eku, eku_expect);
        _cleanup_free_ char *bc = line_after(text, "X509v3 Basic Constraints: critical");
        ASSERT_STREQ(bc, "CA:FALSE");

        _cleanup_free_ char *aki = key_id_line(text, "X509v3 Authority Key Identifier:");
        _cleanup_free_ char *ca_ski = key_id_line(ca_text, "X509v3 Subject Key Identifier:");
        _cleanup_free_ char *ski = key_id_line(text, "X509v3 Subject Key Identifier:");
        ASSERT_TRUE(aki && ca_ski && ski);
        ASSERT_STREQ(aki, ca_ski);
        ASSERT_TRUE(!streq(ski, ca_ski));

        _cleanup_free_ char *san = line_after(text, "X509v3 Subject Alternative Name:");
        if (san_expect)
                ASSERT_STREQ(san, san_expect);
        else
                ASSERT_NULL(strstr(text, "Subject Alternative Name"));
}

TEST(test_openssl_text_leaves) {
        check_leaf_text(apiserver, "apiserver.pem", "Subject: CN = kube-apiserver",
                        "TLS Web Server Authentication", APISERVER_SANS);
        if (tap_current_failed)
                return;
        check_leaf_text(peer, "peer.pem", "Subject: CN = node-1",
                        "TLS Web Server Authentication, TLS Web Client Authentication", PEER_SANS);
        if (tap_current_failed)
                return;
        /* Go writes several organizations as one multi-valued RDN, before the CN. */
        check_leaf_text(admin, "admin.pem",
                        "Subject: O = system:masters + O = kubeadm:cluster-admins, CN = kubernetes-admin",
                        "TLS Web Client Authentication", NULL);
}

TEST(test_subject_strings) {
        /* PrintableString where Go would use it, UTF8String otherwise. */
        static const char *const orgs[] = { "Zürich ops", NULL };
        CertSpec spec = { .common_name = "node_1", .organizations = orgs, .usage = CERT_USAGE_CLIENT };
        _cleanup_(X509_freep) X509 *cert = NULL;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, ca_key, &cert), 0);

        X509_NAME *name = X509_get_subject_name(cert);
        ASSERT_INT_EQ(X509_NAME_entry_count(name), 2);
        const ASN1_STRING *o = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, 0));
        const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, 1));
        ASSERT_INT_EQ(ASN1_STRING_type(o), V_ASN1_UTF8STRING);
        ASSERT_INT_EQ(ASN1_STRING_type(cn), V_ASN1_UTF8STRING); /* '_' is not in PrintableString */
        ASN1_STRING *ca_cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(X509_get_subject_name(ca), 0));
        ASSERT_INT_EQ(ASN1_STRING_type(ca_cn), V_ASN1_PRINTABLESTRING);

        _cleanup_free_ char *text = x509_text(cert, "utf8.pem");
        _cleanup_free_ char *subject = line_with(text ?: "", "Subject: ");
        ASSERT_STREQ(subject, "Subject: O = Z\\C3\\BCrich ops, CN = node_1");
}

TEST(test_bad_specs) {
        X509 *cert = (X509 *) 0x1;
        IpAddr bad_ip = { .family = AF_UNIX };
        static const char *const bad_dns[] = { "node 1", NULL };
        static const char *const empty_dns[] = { "", NULL };
        static const char *const bad_orgs[] = { "a\nb", NULL };
        static const char *const bad_utf8[] = { "\xC3\x28", NULL };
        CertSpec spec = { .common_name = "x", .usage = CERT_USAGE_SERVER };
        CertSpec ca_spec = { .common_name = "x", .usage = CERT_USAGE_CA };

        ASSERT_INT_EQ(pki_ca_create(ca_key, NULL, &cert), -EINVAL);
        CertSpec no_cn = { .common_name = "", .usage = CERT_USAGE_CA };
        CertSpec null_cn = { .usage = CERT_USAGE_CA };
        CertSpec server_ca = { .common_name = "x", .usage = CERT_USAGE_SERVER };
        CertSpec no_usage = { .common_name = "x" };
        ASSERT_INT_EQ(pki_ca_create(ca_key, &no_cn, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_ca_create(ca_key, &null_cn, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_ca_create(ca_key, &server_ca, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_ca_create(NULL, &ca_spec, &cert), -EINVAL);

        ASSERT_INT_EQ(pki_cert_issue(admin_key, &no_usage, ca, ca_key, &cert), -EINVAL);
        no_usage.usage = CERT_USAGE_SERVER | 1u << 7;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &no_usage, ca, ca_key, &cert), -EINVAL);
        /* No intermediate CAs; the CA's own key; a CA. */
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &ca_spec, ca, ca_key, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, other_ca_key, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, apiserver, apiserver_key, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, NULL, ca_key, &cert), -EINVAL);
        ASSERT_INT_EQ(pki_cert_issue(NULL, &spec, ca, ca_key, &cert), -EINVAL);

        spec.dns_names = bad_dns;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, ca_key, &cert), -EINVAL);
        spec.dns_names = empty_dns;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, ca_key, &cert), -EINVAL);
        spec.dns_names = NULL;
        spec.ips = &bad_ip;
        spec.n_ips = 1;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, ca_key, &cert), -EINVAL);
        spec.ips = NULL;
        spec.n_ips = 0;
        spec.organizations = bad_orgs;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, ca_key, &cert), -EINVAL);
        spec.organizations = bad_utf8;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, ca_key, &cert), -EINVAL);
        spec.organizations = NULL;
        spec.validity_days = 10000000;
        ASSERT_INT_EQ(pki_cert_issue(admin_key, &spec, ca, ca_key, &cert), -EINVAL);
        ASSERT_TRUE(cert == (X509 *) 0x1);

        /* A CA whose common name is no DNS name just has no SAN. */
        _cleanup_(X509_freep) X509 *odd = NULL;
        ASSERT_INT_EQ(pki_ca_create(ca_key, &(CertSpec) { .common_name = "My CA" }, &odd), 0);
        ASSERT_INT_EQ(X509_get_ext_by_NID(odd, NID_subject_alt_name, -1), -1);
        ASSERT_INT_EQ(X509_check_ca(odd), 1);
}

/* RSA 3072 and 4096: slow to generate, so once each: a CA, a leaf, and the openssl CLI's verdict. */
TEST(test_large_rsa) {
        CertSpec ca_spec = { .common_name = "etcd-ca", .usage = CERT_USAGE_CA };
        static const char *const dns[] = { "node-1", "localhost", NULL };
        CertSpec spec = { .common_name = "node-1", .dns_names = dns, .ips = peer_ips,
                          .n_ips = ELEMENTSOF(peer_ips), .usage = CERT_USAGE_SERVER | CERT_USAGE_CLIENT };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL, *leaf_key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL, *leaf = NULL;
        _cleanup_secret_free_ char *key_pem = NULL;

        ASSERT_INT_EQ(generate_timed(alg, &key, "ca"), 0);
        ASSERT_INT_EQ(EVP_PKEY_get_bits(key), alg == KEY_RSA_3072 ? 3072 : 4096);
        ASSERT_INT_EQ(pki_ca_create(key, &ca_spec, &cert), 0);
        ASSERT_INT_EQ(generate_timed(KEY_ECDSA_P256, &leaf_key, "leaf under an RSA CA"), 0);
        ASSERT_INT_EQ(pki_cert_issue(leaf_key, &spec, cert, key, &leaf), 0);
        ASSERT_INT_EQ(pki_cert_verify(leaf, cert, time(NULL)), 0);
        ASSERT_INT_EQ(pki_cert_verify(leaf, ca, time(NULL)), -EKEYREJECTED);
        ASSERT_TRUE(pki_key_matches(cert, key));
        ASSERT_TRUE(pki_cert_has_dns(leaf, "localhost"));
        ASSERT_TRUE(pki_cert_has_ip(leaf, &peer_ips[2]));
        ASSERT_INT_EQ(pki_key_to_pem(key, &key_pem, NULL), 0);
        ASSERT_TRUE(startswith(key_pem, "-----BEGIN PRIVATE KEY-----\n"));

        _cleanup_free_ char *ca_path = write_cert(cert, "ca.pem");
        _cleanup_free_ char *path = write_cert(leaf, "leaf.pem");
        _cleanup_free_ char *expect = strprintf("%s: OK\n", path);
        _cleanup_free_ char *cmd =
                strprintf("openssl verify -x509_strict -CAfile '%s' '%s' 2>&1", ca_path, path);
        _cleanup_free_ char *out = NULL;
        ASSERT_TRUE(expect && cmd);
        ASSERT_INT_EQ(run(cmd, &out), 0);
        ASSERT_STREQ(out, expect);
        check_spki_hash(cert, "ca.pem");
}

static void free_fixtures(void) {
        X509 **certs[] = { &ca, &other_ca, &apiserver, &peer, &admin };
        EVP_PKEY **keys[] = { &ca_key, &other_ca_key, &apiserver_key, &peer_key, &admin_key };
        for (size_t i = 0; i < ELEMENTSOF(certs); i++) {
                X509_free(*certs[i]);
                *certs[i] = NULL;
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                EVP_PKEY_free(*keys[i]);
                *keys[i] = NULL;
        }
}

static void run_named(const char *test, void (*fn)(void)) {
        char name[128];
        snprintf(name, sizeof(name), "%s %s", key_algorithm_to_string(alg), test);
        tap_run(name, fn);
}
#define RUN_ALG(fn) run_named(#fn, fn)

int main(void) {
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        parse_ips(apiserver_ip_strings, ELEMENTSOF(apiserver_ip_strings), apiserver_ips);
        parse_ips(peer_ip_strings, ELEMENTSOF(peer_ip_strings), peer_ips);

        RUN(test_algorithm_names);

        static const KeyAlgorithm full[] = { KEY_ECDSA_P256, KEY_RSA_2048 };
        for (size_t i = 0; i < ELEMENTSOF(full); i++) {
                alg = full[i];
                RUN_ALG(test_generate);
                if (!ca || !other_ca || !apiserver || !peer || !admin) {
                        printf("Bail out! no fixtures for %s\n", key_algorithm_to_string(alg));
                        free_fixtures();
                        return 1;
                }
                RUN_ALG(test_verify);
                RUN_ALG(test_verify_validity);
                RUN_ALG(test_validity_and_serial);
                RUN_ALG(test_renewal_due);
                RUN_ALG(test_subject_queries);
                RUN_ALG(test_key_matches);
                RUN_ALG(test_sans);
                RUN_ALG(test_pem_round_trip);
                RUN_ALG(test_pem_bad_input);
                RUN_ALG(test_pem_traditional_key);
                RUN_ALG(test_spki_hash);
                RUN_ALG(test_openssl_verify);
                RUN_ALG(test_openssl_text_ca);
                RUN_ALG(test_openssl_text_leaves);
                RUN_ALG(test_subject_strings);
                RUN_ALG(test_bad_specs);
                free_fixtures();
        }

        /* test_large_rsa compares against the last fixtures' CA: keep one. */
        alg = KEY_RSA_2048;
        CertSpec ca_spec = { .common_name = "kubernetes", .usage = CERT_USAGE_CA };
        if (pki_key_generate(KEY_ECDSA_P256, &ca_key) < 0 || pki_ca_create(ca_key, &ca_spec, &ca) < 0)
                abort();
        static const KeyAlgorithm large[] = { KEY_RSA_3072, KEY_RSA_4096 };
        for (size_t i = 0; i < ELEMENTSOF(large); i++) {
                alg = large[i];
                RUN_ALG(test_large_rsa);
        }
        free_fixtures();

        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", tmpdir);
        if (cmd)
                run(cmd, NULL);
        return tap_done();
}
