/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "net-util.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

/* kubeadm's CertificateBackdate: certificates start a little in the past so that a peer whose clock lags
 * behind ours still accepts them. */
#define PKI_BACKDATE_SECONDS (5 * 60)
/* Far enough for any sane validity, small enough that notAfter never overflows. */
#define PKI_MAX_VALIDITY_DAYS (1000U * 366U)
#define DNS_NAME_MAX 253

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_TIME *, ASN1_TIME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_NAME *, X509_NAME_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_EXTENSION *, X509_EXTENSION_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(GENERAL_NAMES *, GENERAL_NAMES_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE *, X509_STORE_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_STORE_CTX *, X509_STORE_CTX_free);

static const char *const key_algorithm_table[_KEY_ALGORITHM_MAX] = {
        [KEY_ECDSA_P256] = "ecdsa-p256",
        [KEY_RSA_2048] = "rsa-2048",
        [KEY_RSA_3072] = "rsa-3072",
        [KEY_RSA_4096] = "rsa-4096",
};

KeyAlgorithm key_algorithm_from_string(const char *s) {
        if (!s)
                return _KEY_ALGORITHM_INVALID;
        for (KeyAlgorithm a = 0; a < _KEY_ALGORITHM_MAX; a++)
                if (streq(s, key_algorithm_table[a]))
                        return a;
        return _KEY_ALGORITHM_INVALID;
}

const char *key_algorithm_to_string(KeyAlgorithm a) {
        if (a < 0 || a >= _KEY_ALGORITHM_MAX)
                return NULL;
        return key_algorithm_table[a];
}

/* Only allocation failures are told apart from other OpenSSL failures. The queue is emptied so that a later,
 * unrelated failure is not blamed on this one, and nothing from it (it may name key material) travels on. */
static int openssl_error(int fallback) {
        bool oom = false;
        unsigned long e;

        while ((e = ERR_get_error()) != 0)
                if (ERR_GET_REASON(e) == ERR_GET_REASON(ERR_R_MALLOC_FAILURE))
                        oom = true;
        return oom ? -ENOMEM : fallback;
}

int pki_key_generate(KeyAlgorithm alg, EVP_PKEY **ret) {
        EVP_PKEY *key;

        switch (alg) {
        case KEY_ECDSA_P256:
                key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
                break;
        case KEY_RSA_2048:
                key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
                break;
        case KEY_RSA_3072:
                key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 3072);
                break;
        case KEY_RSA_4096:
                key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 4096);
                break;
        default:
                return -EINVAL;
        }
        if (!key)
                return openssl_error(-EIO);
        *ret = key;
        return 0;
}

/* The key types we sign with, each with SHA-256 (what Go picks for kubeadm: sha256WithRSAEncryption,
 * ecdsa-with-SHA256). */
static bool key_can_sign(EVP_PKEY *key) {
        return EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "EC");
}

/* The characters of an ASN.1 PrintableString. Go writes a name in one when it can, UTF8String otherwise. */
static bool is_printable_string(const char *s) {
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr(" '()+,-./:=?", c)))
                        return false;
        }
        return true;
}

/* Non-empty UTF-8 without control characters. */
static bool name_value_valid(const char *s) {
        if (!s || !*s || strlen(s) > INT_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                size_t n = utf8_char_len(p);
                if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)))
                        return false;
                p += n;
        }
        return true;
}

/* set: 0 starts a new RDN, -1 adds to the last one. */
static int name_add(X509_NAME *name, int nid, const char *value, int set) {
        if (!name_value_valid(value))
                return -EINVAL;
        int type = is_printable_string(value) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
        const unsigned char *bytes = (const unsigned char *) value;
        if (!X509_NAME_add_entry_by_NID(name, nid, type, bytes, (int) strlen(value), -1, set))
                return openssl_error(-EIO);
        return 0;
}

/* Go's pkix.Name order: the organizations (all in one RDN) before the common name. */
static int make_subject(const CertSpec *spec, X509_NAME **ret) {
        _cleanup_(X509_NAME_freep) X509_NAME *name = X509_NAME_new();
        int r;

        if (!name)
                return -ENOMEM;
        for (size_t i = 0; spec->organizations && spec->organizations[i]; i++) {
                r = name_add(name, NID_organizationName, spec->organizations[i], i == 0 ? 0 : -1);
                if (r < 0)
                        return r;
        }
        r = name_add(name, NID_commonName, spec->common_name, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(name);
        return 0;
}

static bool dns_name_valid(const char *s) {
        size_t len = strlen(s);
        if (len == 0 || len > DNS_NAME_MAX)
                return false;
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      strchr("-._*", c)))
                        return false;
        }
        return true;
}

static bool ip_family_valid(int family) {
        return family == AF_INET || family == AF_INET6;
}

static int cmp_strp(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int gens_push(GENERAL_NAMES *gens, int type, const void *data, size_t size) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_STRING *s = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();

        if (!g || !s || !ASN1_STRING_set(s, data, (int) size)) {
                GENERAL_NAME_free(g);
                ASN1_STRING_free(s);
                return -ENOMEM;
        }
        GENERAL_NAME_set0_value(g, type, s);
        if (!sk_GENERAL_NAME_push(gens, g)) {
                GENERAL_NAME_free(g);
                return -ENOMEM;
        }
        return 0;
}

/* kubeadm's RemoveDuplicateAltNames() sorts the DNS names and keeps the IPs' order; Go writes the DNS names
 * before the IPs, and IPv4 addresses as 4 bytes. extra_dns (may be NULL) is the CA's common name. */
static int make_sans(const CertSpec *spec, const char *extra_dns, GENERAL_NAMES **ret) {
        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *gens = NULL;
        _cleanup_free_ const char **names = NULL;
        size_t n = 0, n_names = 0;
        int r;

        while (spec->dns_names && spec->dns_names[n])
                n++;
        if (n + 1 > SIZE_MAX / sizeof(char *))
                return -ENOMEM;
        names = malloc((n + 1) * sizeof(char *));
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!dns_name_valid(spec->dns_names[i]))
                        return -EINVAL;
                names[n_names++] = spec->dns_names[i];
        }
        if (extra_dns && dns_name_valid(extra_dns))
                names[n_names++] = extra_dns;
        qsort(names, n_names, sizeof(char *), cmp_strp);

        if (spec->n_ips > 0 && !spec->ips)
                return -EINVAL;
        for (size_t i = 0; i < spec->n_ips; i++)
                if (!ip_family_valid(spec->ips[i].family))
                        return -EINVAL;

        gens = sk_GENERAL_NAME_new_null();
        if (!gens)
                return -ENOMEM;
        for (size_t i = 0; i < n_names; i++) {
                if (i > 0 && streq(names[i], names[i - 1]))
                        continue;
                r = gens_push(gens, GEN_DNS, names[i], strlen(names[i]));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < spec->n_ips; i++) {
                const IpAddr *a = &spec->ips[i];
                bool dup = false;
                for (size_t j = 0; j < i && !dup; j++)
                        dup = ip_addr_cmp(a, &spec->ips[j]) == 0;
                if (dup)
                        continue;
                r = gens_push(gens, GEN_IPADD, a->bytes, ip_addr_bits(a) / 8);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(gens);
        return 0;
}

static int set_random_serial(X509 *x) {
        unsigned char buf[16];
        _cleanup_(BN_freep) BIGNUM *bn = NULL;

        if (RAND_bytes(buf, sizeof(buf)) != 1)
                return openssl_error(-EIO);
        bn = BN_bin2bn(buf, sizeof(buf), NULL);
        if (!bn)
                return -ENOMEM;
        if (BN_is_zero(bn) && !BN_one(bn)) /* a serial number is positive */
                return -ENOMEM;
        if (!BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
                return openssl_error(-EIO);
        return 0;
}

static int set_validity(X509 *x, const CertSpec *spec, bool is_ca) {
        unsigned days = spec->validity_days;
        time_t not_before = spec->not_before;

        if (days == 0)
                days = is_ca ? PKI_CA_VALIDITY_DAYS : PKI_LEAF_VALIDITY_DAYS;
        uint64_t seconds = spec->validity_seconds ?: (uint64_t) days * 24 * 60 * 60;
        if (days > PKI_MAX_VALIDITY_DAYS || seconds > (uint64_t) PKI_MAX_VALIDITY_DAYS * 24 * 60 * 60 || not_before < 0)
                return -EINVAL;
        if (not_before == 0)
                not_before = time(NULL) - PKI_BACKDATE_SECONDS;

        if (!ASN1_TIME_set(X509_getm_notBefore(x), not_before) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), not_before + (time_t) seconds))
                return openssl_error(-EIO);
        return 0;
}

/* Extensions with fixed values go through OpenSSL's config syntax; names from the caller never do. */
static int add_ext_conf(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
        _cleanup_(X509_EXTENSION_freep) X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
        if (!ext || !X509_add_ext(x, ext, -1))
                return openssl_error(-EIO);
        return 0;
}

static const char *eku_value(unsigned usage) {
        switch (usage & (CERT_USAGE_SERVER | CERT_USAGE_CLIENT)) {
        case CERT_USAGE_SERVER:
                return "serverAuth";
        case CERT_USAGE_CLIENT:
                return "clientAuth";
        case CERT_USAGE_SERVER | CERT_USAGE_CLIENT:
                return "serverAuth,clientAuth";
        default:
                return NULL;
        }
}

/* Extensions in the order Go writes them. */
static int add_extensions(X509 *x, X509 *issuer, EVP_PKEY *subject_key, const CertSpec *spec, bool is_ca) {
        X509V3_CTX ctx;
        int r;

        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);

        const char *ku = is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                         : EVP_PKEY_is_a(subject_key, "RSA") ? "critical,digitalSignature,keyEncipherment"
                                                             : "critical,digitalSignature";
        r = add_ext_conf(x, &ctx, NID_key_usage, ku);
        if (r < 0)
                return r;
        if (!is_ca) {
                r = add_ext_conf(x, &ctx, NID_ext_key_usage, eku_value(spec->usage));
                if (r < 0)
                        return r;
        }
        r = add_ext_conf(x, &ctx, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        if (r < 0)
                return r;
        r = add_ext_conf(x, &ctx, NID_subject_key_identifier, "hash");
        if (r < 0)
                return r;
        /* Go leaves it out of self-signed certificates. */
        if (!is_ca) {
                r = add_ext_conf(x, &ctx, NID_authority_key_identifier, "keyid:always");
                if (r < 0)
                        return r;
        }

        _cleanup_(GENERAL_NAMES_freep) GENERAL_NAMES *sans = NULL;
        r = make_sans(spec, is_ca ? spec->common_name : NULL, &sans);
        if (r < 0)
                return r;
        if (sk_GENERAL_NAME_num(sans) > 0 &&
            !X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT))
                return openssl_error(-EIO);
        return 0;
}

/* What we hand out is what a reader of the DER gets: no state of the building left in the object. */
static int x509_reparse(X509 *x, X509 **ret) {
        unsigned char *der = NULL;
        int n = i2d_X509(x, &der);
        if (n <= 0)
                return openssl_error(-EIO);
        const unsigned char *p = der;
        X509 *y = d2i_X509(NULL, &p, n);
        OPENSSL_free(der);
        if (!y)
                return openssl_error(-EIO);
        *ret = y;
        return 0;
}

/* ca NULL: self-signed by subject_key. */
static int cert_build(EVP_PKEY *subject_key, const CertSpec *spec, X509 *ca, EVP_PKEY *signing_key,
                      X509 **ret) {
        bool is_ca = !ca;
        int r;

        _cleanup_(X509_freep) X509 *x = X509_new();
        if (!x)
                return -ENOMEM;
        if (!X509_set_version(x, X509_VERSION_3))
                return openssl_error(-EIO);
        r = set_random_serial(x);
        if (r < 0)
                return r;
        r = set_validity(x, spec, is_ca);
        if (r < 0)
                return r;

        _cleanup_(X509_NAME_freep) X509_NAME *subject = NULL;
        r = make_subject(spec, &subject);
        if (r < 0)
                return r;
        if (!X509_set_subject_name(x, subject) ||
            !X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : subject) ||
            !X509_set_pubkey(x, subject_key))
                return openssl_error(-EIO);

        r = add_extensions(x, ca ?: x, subject_key, spec, is_ca);
        if (r < 0)
                return r;

        if (X509_sign(x, signing_key, EVP_sha256()) <= 0)
                return openssl_error(-EIO);
        return x509_reparse(x, ret);
}

static bool spec_valid(const CertSpec *spec) {
        return spec && spec->common_name && *spec->common_name;
}

int pki_ca_create(EVP_PKEY *key, const CertSpec *spec, X509 **ret) {
        if (!key || !spec_valid(spec) || !key_can_sign(key))
                return -EINVAL;
        if ((spec->usage & ~(unsigned) CERT_USAGE_CA) != 0)
                return -EINVAL;
        return cert_build(key, spec, NULL, key, ret);
}

int pki_cert_issue(EVP_PKEY *subject_key, const CertSpec *spec, X509 *ca, EVP_PKEY *ca_key, X509 **ret) {
        if (!subject_key || !spec_valid(spec) || !ca || !ca_key)
                return -EINVAL;
        unsigned leaf_usages = CERT_USAGE_SERVER | CERT_USAGE_CLIENT;
        if (!eku_value(spec->usage) || (spec->usage & ~leaf_usages) != 0)
                return -EINVAL;
        if (!key_can_sign(ca_key) || !pki_key_matches(ca, ca_key))
                return -EINVAL;
        /* AKI "keyid:always" needs the CA's key identifier; a CA without one is not RFC 5280's. */
        if (X509_check_ca(ca) < 1 || !X509_get0_subject_key_id(ca)) {
                ERR_clear_error();
                return -EINVAL;
        }
        return cert_build(subject_key, spec, ca, ca_key, ret);
}

/* Copies the BIO's content out as a NUL-terminated string. */
static int bio_to_string(BIO *bio, char **ret, size_t *ret_size) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        if (n <= 0)
                return -EIO;
        char *s = malloc((size_t) n + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, data, (size_t) n);
        s[n] = 0;
        *ret = s;
        if (ret_size)
                *ret_size = (size_t) n;
        return 0;
}

int pki_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_size) {
        if (!key || !ret)
                return -EINVAL;
        /* secmem: the BIO's buffer is wiped when freed. */
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_secmem());
        if (!bio)
                return -ENOMEM;
        /* PKCS#8 ("BEGIN PRIVATE KEY"), unencrypted. */
        if (!PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
                return openssl_error(-EIO);
        return bio_to_string(bio, ret, ret_size);
}

int pki_public_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_size) {
        if (!key || !ret)
                return -EINVAL;
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_PUBKEY(bio, key))
                return openssl_error(-EIO);
        return bio_to_string(bio, ret, ret_size);
}

int pki_cert_to_pem(X509 *cert, char **ret, size_t *ret_size) {
        if (!cert || !ret)
                return -EINVAL;
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        if (!PEM_write_bio_X509(bio, cert))
                return openssl_error(-EIO);
        return bio_to_string(bio, ret, ret_size);
}

/* An encrypted key is bad input here: never ask for a passphrase (OpenSSL's default prompts on the tty). */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata) {
        return -1;
}

int pki_key_from_pem(const char *pem, size_t size, EVP_PKEY **ret) {
        if (!pem || size == 0 || size > INT_MAX || !ret)
                return -EINVAL;
        _cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(pem, (int) size);
        if (!bio)
                return -ENOMEM;
        EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        if (!key)
                return openssl_error(-EINVAL);
        *ret = key;
        return 0;
}

int pki_cert_from_pem(const char *pem, size_t size, X509 **ret) {
        if (!pem || size == 0 || size > INT_MAX || !ret)
                return -EINVAL;
        _cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(pem, (int) size);
        if (!bio)
                return -ENOMEM;
        X509 *cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
        if (!cert)
                return openssl_error(-EINVAL);
        *ret = cert;
        return 0;
}

int pki_spki_hash(X509 *ca, char ret[static 72]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        unsigned char *der = NULL;

        if (!ca)
                return -EINVAL;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(ca), &der);
        if (n <= 0)
                return openssl_error(-EIO);
        int ok = EVP_Digest(der, (size_t) n, md, &md_len, EVP_sha256(), NULL);
        OPENSSL_free(der);
        if (!ok || md_len != 32)
                return openssl_error(-EIO);

        memcpy(ret, "sha256:", 7);
        hex_encode(md, md_len, ret + 7);
        return 0;
}

bool pki_key_matches(X509 *cert, EVP_PKEY *key) {
        if (!cert || !key)
                return false;
        EVP_PKEY *pub = X509_get0_pubkey(cert);
        bool match = pub && EVP_PKEY_eq(pub, key) == 1;
        ERR_clear_error();
        return match;
}

int pki_cert_verify(X509 *cert, X509 *ca, time_t now) {
        if (!cert || !ca)
                return -EINVAL;

        _cleanup_(X509_STORE_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(X509_STORE_CTX_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        if (!store || !ctx)
                return -ENOMEM;
        if (!X509_STORE_add_cert(store, ca) || !X509_STORE_CTX_init(ctx, store, cert, NULL))
                return openssl_error(-EIO);
        X509_STORE_CTX_set_time(ctx, 0, now);

        int r = X509_verify_cert(ctx);
        int err = X509_STORE_CTX_get_error(ctx);
        int fallback = r < 0 ? -EIO : -EKEYREJECTED;
        ERR_clear_error();
        if (r > 0)
                return 0;
        switch (err) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
        case X509_V_ERR_CERT_NOT_YET_VALID:
                return -EKEYEXPIRED;
        case X509_V_ERR_OUT_OF_MEM:
                return -ENOMEM;
        default:
                return fallback;
        }
}

bool pki_cert_has_cn(X509 *cert, const char *cn) {
        char got[256];
        return X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, got, sizeof(got)) >= 0 &&
               streq(got, cn);
}

bool pki_cert_has_organization(X509 *cert, const char *o) {
        X509_NAME *subject = X509_get_subject_name(cert);
        for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_organizationName, i)) >= 0;) {
                const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
                if (ASN1_STRING_length(v) == (int) strlen(o) && memcmp(ASN1_STRING_get0_data(v), o, strlen(o)) == 0)
                        return true;
        }
        return false;
}

bool pki_cert_has_dns(X509 *cert, const char *name) {
        if (!cert || !name || !*name)
                return false;
        unsigned flags = X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
        int r = X509_check_host(cert, name, strlen(name), flags, NULL);
        ERR_clear_error();
        return r == 1;
}

bool pki_cert_has_ip(X509 *cert, const IpAddr *ip) {
        if (!cert || !ip || !ip_family_valid(ip->family))
                return false;
        int r = X509_check_ip(cert, ip->bytes, ip_addr_bits(ip) / 8, 0);
        ERR_clear_error();
        return r == 1;
}

int pki_cert_expires_in(X509 *cert, time_t now, int64_t *ret_seconds) {
        int days, seconds;

        if (!cert || !ret_seconds)
                return -EINVAL;
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *t = ASN1_TIME_set(NULL, now);
        if (!t)
                return openssl_error(-EINVAL);
        if (!ASN1_TIME_diff(&days, &seconds, t, X509_get0_notAfter(cert)))
                return openssl_error(-EINVAL);
        *ret_seconds = (int64_t) days * 24 * 60 * 60 + seconds;
        return 0;
}

bool pki_cert_renewal_due(X509 *cert, time_t now) {
        int days, seconds;
        int64_t left;
        if (!cert || pki_cert_expires_in(cert, now, &left) < 0 ||
            !ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)))
                return true;
        int64_t lifetime = (int64_t) days * 24 * 60 * 60 + seconds;
        return left * 3 < lifetime;
}
