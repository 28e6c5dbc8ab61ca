/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Secret formats that other programs read, made with OpenSSL's random generator and KDFs in-process (the
 * seeds forked ceph-authtool, mosquitto_passwd and openssl for them). Each returns 0 or a negative errno
 * (-EINVAL for bad input, -ENOMEM, -EIO when OpenSSL's generator or KDF fails), does not log, and leaves
 * its output untouched on failure. Returned strings are malloc()ed and should be freed with secret_free(),
 * which wipes them first; temporary copies of secrets are wiped before they are freed. */

/* Wipes and frees a NUL-terminated secret string. NULL is fine. */
void secret_free(char *s);
static inline void secret_freep(char **p) {
        secret_free(*p);
}
#define _cleanup_secret_free_ _cleanup_(secret_freep)

/* A cephx secret as ceph-authtool --gen-key prints it (CryptoKey::encode() in Ceph's src/auth/Crypto.cc),
 * 40 characters starting "AQ": base64 of
 * le16 type (1 = AES) | le32 created.sec | le32 created.nsec | le16 length (16) | 16 random bytes. */
int cephx_key_generate(char **ret);

/* One entity of a Ceph keyring, as ceph-authtool writes it (KeyRing::print()), every line ending in "\n":
 *   [client.admin]
 *   \tkey = AQ...==
 *   \tcaps mon = "allow *"
 * caps are pairs {"mon", "allow *", "osd", "allow *", NULL}, or NULL for none. As Ceph keeps them in a
 * map, they are written sorted by service name, and '"' in a cap is written as \". The entity must be
 * TYPE.ID with a Ceph entity type (auth, client, mds, mgr, mon, osd) and an ID of [A-Za-z0-9._-] (may
 * be empty: "mon."); key must be a well-formed base64 CryptoKey; service names are [a-z0-9_-]+ and
 * appear once; a cap is UTF-8 without control characters or '\' (Ceph's parser drops a backslash). */
int cephx_keyring_entry(const char *entity, const char *key, const char *const *caps, char **ret);

/* A mosquitto password file line "user:$7$ITERATIONS$SALT$HASH" (no trailing newline) as mosquitto_passwd
 * 2.x writes it: PBKDF2-HMAC-SHA512, 101 iterations, a 12-byte random salt, a 64-byte hash, both base64.
 * user must be non-empty UTF-8 without ':' or control characters; password must be non-empty. */
int mosquitto_password_line(const char *user, const char *password, char **ret);
/* Checks password against such a line (for tests and `pki check`), comparing in constant time. A trailing
 * "\n" or "\r\n" is ignored. Returns 1 match, 0 no match, -EOPNOTSUPP for another hash ("$6$",
 * "$argon2id$"), -EINVAL for a malformed line (mosquitto's limits: salt 12 or 64 bytes, hash 64 bytes). */
int mosquitto_password_verify(const char *line, const char *password);

/* Random strings from OpenSSL's RAND_bytes(), uniformly over the alphabet (no modulo bias). The alphabet
 * is 1 to 127 distinct ASCII characters; anything else is -EINVAL. */
int random_string(const char *alphabet, size_t length, char **ret);
/* A join secret: 256 bits as 64 lowercase hex digits (it goes into HMACs and JSON). */
#define JOIN_SECRET_HEX 64
int join_secret_generate(char **ret);
/* s is one (JOIN_SECRET_HEX lowercase hex digits). */
bool join_secret_valid(const char *s);
/* A kubeadm bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}". */
int bootstrap_token_generate(char **ret);
/* A Kafka cluster id: a random UUID in URL-safe base64 without padding (22 characters), as
 * `kafka-storage random-uuid` prints. As Kafka's Uuid.randomUuid(), never one that starts with '-'. */
int kafka_cluster_id_generate(char **ret);
/* A random RFC 4122 version 4 UUID, lowercase. */
int uuid_generate_v4(char ret[static 37]);
