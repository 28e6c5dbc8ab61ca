/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"
#include "net-util.h"

/* Keys and certificates with OpenSSL 3's library (the seeds forked the openssl CLI dozens of times), shaped
 * like kubeadm's (pkiutil.NewSelfSignedCACert / NewSignedCert). Every function returns 0 or a negative errno
 * (-EINVAL for bad input, -ENOMEM, -EIO when OpenSSL fails) and does not log; on failure outputs are
 * untouched. */

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);

typedef enum KeyAlgorithm {
        KEY_ECDSA_P256, /* the default, as services/kubernetes.yaml pki.key_algorithm */
        KEY_RSA_2048,
        KEY_RSA_3072,
        KEY_RSA_4096,
        _KEY_ALGORITHM_MAX,
        _KEY_ALGORITHM_INVALID = -1,
} KeyAlgorithm;

KeyAlgorithm key_algorithm_from_string(const char *s); /* "ecdsa-p256", "rsa-2048", ... */
const char *key_algorithm_to_string(KeyAlgorithm a);

int pki_key_generate(KeyAlgorithm alg, EVP_PKEY **ret);

/* kubeadm's validity defaults. */
#define PKI_CA_VALIDITY_DAYS (10 * 365)
#define PKI_LEAF_VALIDITY_DAYS 365

typedef enum CertUsage {
        CERT_USAGE_CA = 1 << 0,     /* basicConstraints CA:TRUE; keyUsage digitalSignature, keyEncipherment,
                                     * keyCertSign (kubeadm's set) */
        CERT_USAGE_SERVER = 1 << 1, /* extendedKeyUsage serverAuth */
        CERT_USAGE_CLIENT = 1 << 2, /* extendedKeyUsage clientAuth */
} CertUsage;

typedef struct CertSpec {
        const char *common_name;
        const char *const *organizations; /* NULL-terminated, may be NULL */
        const char *const *dns_names;     /* NULL-terminated, may be NULL; duplicates are dropped */
        const IpAddr *ips;                /* duplicates are dropped */
        size_t n_ips;
        unsigned usage; /* CertUsage */
        unsigned validity_days; /* 0: PKI_CA_VALIDITY_DAYS or PKI_LEAF_VALIDITY_DAYS */
        uint64_t validity_seconds; /* when not 0, instead of validity_days */
        time_t not_before; /* 0: now minus 5 minutes for clock skew (kubeadm's CertificateBackdate) */
} CertSpec;

/* As kubeadm: the subject is the organizations (one multi-valued RDN, as Go writes them) then the common
 * name; SANs are the DNS names (sorted, unique) then the IPs (in order, unique); notAfter is notBefore plus
 * validity_seconds, or validity_days; serial numbers are random and positive (128 bits); signatures are SHA-256. */

/* A self-signed CA certificate for key (RSA or EC). usage is CERT_USAGE_CA (or 0). Like kubeadm's, it also
 * names its common name as a DNS SAN (when that is a valid DNS name), and has a subject key identifier. */
int pki_ca_create(EVP_PKEY *key, const CertSpec *spec, X509 **ret);
/* A certificate for subject_key's public key, signed by the CA: CA:FALSE; keyUsage digitalSignature, and
 * keyEncipherment for an RSA key; extendedKeyUsage from usage, which must be CERT_USAGE_SERVER and/or
 * CERT_USAGE_CLIENT (no intermediate CAs). The subject and authority key identifiers are set; ca must be a
 * CA with a subject key identifier, and ca_key its key (-EINVAL otherwise). */
int pki_cert_issue(EVP_PKEY *subject_key, const CertSpec *spec, X509 *ca, EVP_PKEY *ca_key, X509 **ret);

/* PEM in memory (keys as PKCS#8, unencrypted). The returned buffers are NUL-terminated; a key's is
 * wiped when freed with secret_free() from secret-formats.h. */
int pki_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_size);
int pki_public_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_size);
int pki_cert_to_pem(X509 *cert, char **ret, size_t *ret_size);
int pki_key_from_pem(const char *pem, size_t size, EVP_PKEY **ret);
int pki_cert_from_pem(const char *pem, size_t size, X509 **ret);

/* kubeadm's --discovery-token-ca-cert-hash: "sha256:" + hex SHA-256 of the CA's SubjectPublicKeyInfo. */
int pki_spki_hash(X509 *ca, char ret[static 72]);

/* Checks used by `pki check`: the key matches the certificate; the certificate verifies against the CA
 * (chain, validity at `now`, purpose not checked): -EKEYEXPIRED when it (or the CA) is outside its validity
 * period at `now`, -EKEYREJECTED when it is not signed by the CA or otherwise fails; the certificate lists
 * the DNS name / IP as a SAN (names as a TLS client matches them: case-insensitive, a wildcard SAN covers
 * one label; the subject's CN is not looked at). */
bool pki_key_matches(X509 *cert, EVP_PKEY *key);
int pki_cert_verify(X509 *cert, X509 *ca, time_t now);
bool pki_cert_has_dns(X509 *cert, const char *name);
/* The subject's common name is exactly cn; one of its organizations is exactly o. */
bool pki_cert_has_cn(X509 *cert, const char *cn);
bool pki_cert_has_organization(X509 *cert, const char *o);
bool pki_cert_has_ip(X509 *cert, const IpAddr *ip);
/* Seconds until notAfter (negative when expired). */
int pki_cert_expires_in(X509 *cert, time_t now, int64_t *ret_seconds);
/* Whether a certificate is due to be issued anew: when less than a third of its lifetime (notBefore to
 * notAfter) is left, as cert-manager's default renewBefore; a year's certificate is renewed with about 122
 * days left, a day's with 8 hours. A certificate whose times cannot be read is due. */
bool pki_cert_renewal_due(X509 *cert, time_t now);
