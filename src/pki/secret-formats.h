/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Secret formats that other programs read, made with OpenSSL's random generator and KDFs in-process (the
 * seeds forked ceph-authtool, mosquitto_passwd and openssl for them). Each returns 0 or a negative errno;
 * returned strings are malloc()ed and should be freed with secret_free(), which wipes them first. */

/* Wipes and frees a NUL-terminated secret string. NULL is fine. */
void secret_free(char *s);

/* A cephx secret as ceph-authtool --gen-key prints it: base64 of
 * le16 type (1 = AES) | le32 created.sec | le32 created.nsec | le16 length (16) | 16 random bytes. */
int cephx_key_generate(char **ret);

/* One entity of a Ceph keyring, in ceph-authtool's format:
 *   [client.admin]
 *   \tkey = AQ...==
 *   \tcaps mon = "allow *"
 * caps are pairs {"mon", "allow *", "osd", "allow *", NULL}. */
int cephx_keyring_entry(const char *entity, const char *key, const char *const *caps, char **ret);

/* A mosquitto password file line "user:$7$ITERATIONS$SALT$HASH" as mosquitto_passwd 2.x writes it:
 * PBKDF2-HMAC-SHA512, 101 iterations, a 12-byte random salt, a 64-byte hash, both base64. */
int mosquitto_password_line(const char *user, const char *password, char **ret);
/* Checks password against such a line (for tests and `pki check`). Returns 1 match, 0 no match, < 0 error. */
int mosquitto_password_verify(const char *line, const char *password);

/* Random strings from OpenSSL's RAND_bytes(), uniformly over the alphabet (no modulo bias). */
int random_string(const char *alphabet, size_t length, char **ret);
/* A kubeadm bootstrap token "[a-z0-9]{6}.[a-z0-9]{16}". */
int bootstrap_token_generate(char **ret);
/* A Kafka cluster id: a random UUID in URL-safe base64 without padding (22 characters), as
 * `kafka-storage random-uuid` prints. */
int kafka_cluster_id_generate(char **ret);
/* A random RFC 4122 version 4 UUID, lowercase. */
int uuid_generate_v4(char ret[static 37]);
