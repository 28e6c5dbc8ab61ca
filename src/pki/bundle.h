/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>

#include "model.h"
#include "render.h"

/* The cluster-wide secrets bundle (`clusterboot secrets init`): what CERTIFICATES.md's scripts made with
 * openssl, ceph-authtool and mosquitto_passwd, made in-process. A folder:
 *
 *   kubernetes/ca.{crt,key} front-proxy-ca.{crt,key} front-proxy-client.{crt,key} sa.{key,pub}
 *   etcd/ca.{crt,key}
 *   bootstrap-token   join-secret
 *   ceph/fsid ceph.mon.keyring ceph.client.admin.keyring ceph.bootstrap-osd.keyring ceph.bootstrap-mds.keyring
 *   mqtt/credentials (user:password, for operators)  mqtt/passwd (mosquitto's hashed format)
 *   kafka/cluster-id
 *
 * Keys and secrets are 0600, certificates and public values 0644. An item that exists is loaded, never
 * regenerated, unless it is named for rotation. */

typedef enum BundleItem {
        BUNDLE_CA,
        BUNDLE_FRONT_PROXY_CA,
        BUNDLE_FRONT_PROXY_CLIENT,
        BUNDLE_SA,
        BUNDLE_ETCD_CA,
        BUNDLE_BOOTSTRAP_TOKEN,
        BUNDLE_JOIN_SECRET,
        BUNDLE_CEPH,
        BUNDLE_MQTT,
        BUNDLE_KAFKA_CLUSTER_ID,
        _BUNDLE_ITEM_MAX,
        _BUNDLE_ITEM_INVALID = -1,
} BundleItem;

BundleItem bundle_item_from_string(const char *s);

typedef enum CephEntity {
        CEPH_MON,
        CEPH_CLIENT_ADMIN,
        CEPH_BOOTSTRAP_OSD,
        CEPH_BOOTSTRAP_MDS,
        _CEPH_ENTITY_MAX,
} CephEntity;

typedef struct MqttCredential {
        char *user;
        char *password;
} MqttCredential;

typedef struct Bundle {
        EVP_PKEY *ca_key, *front_proxy_ca_key, *front_proxy_client_key, *sa_key, *etcd_ca_key;
        X509 *ca, *front_proxy_ca, *front_proxy_client, *etcd_ca;
        char *bootstrap_token;
        char *join_secret;
        char *ceph_fsid;
        char *ceph_keys[_CEPH_ENTITY_MAX]; /* base64 cephx secrets */
        MqttCredential *mqtt;
        size_t n_mqtt;
        char *mqtt_passwd; /* the file's text: hashed with random salts, so made once, then loaded */
        char *kafka_cluster_id;
} Bundle;

const char *ceph_entity_name(CephEntity e);      /* "mon.", "client.admin", ... */
const char *const *ceph_entity_caps(CephEntity e); /* {"mon", "allow *", ..., NULL} as the seed's */

/* Loads what exists in dir and generates what is missing (or named in rotate[]), for the inventory (its
 * key algorithm, bootstrap token, mqtt users). The files to write go to out (only new or rotated ones);
 * *ret_created counts the items made. */
int bundle_init(const Inventory *inv, const char *dir, const bool rotate[_BUNDLE_ITEM_MAX], Bundle *ret,
                RenderSet *out, unsigned *ret_created, const char **ret_missing);

/* Loads an existing bundle; -ENOENT names nothing in particular: *ret_missing says which file. */
int bundle_load(const char *dir, Bundle *ret, const char **ret_missing);
/* A join secret file, the bundle's join-secret or the image's (JOIN_SECRET_PATH): one line, its newline
 * dropped. -ENOENT when there is none, -EBADMSG when it is empty or more than one line. *ret is freed with
 * secret_free(). */
int join_secret_read(const char *path, char **ret);

void bundle_done(Bundle *b);

/* Every file of the bundle in dir, as dest/REL (REL when dest is NULL) (0600, certificates too: on a node the bundle is root's
 * alone): the embedded policy's copy into an image, and what a joining master receives. -ENOENT when a
 * file is missing (bundle_load() first says which). */
int bundle_collect(const char *dir, const char *dest, RenderSet *out);

/* The keyring file text of one entity (or the mon keyring, which also holds client.admin, as
 * ceph-mon --mkfs wants). */
int bundle_ceph_keyring(const Bundle *b, CephEntity e, char **ret);
