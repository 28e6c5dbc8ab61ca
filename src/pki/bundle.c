/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle.h"
#include "fileio.h"
#include "fs-util.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

#define MAX_FILE (1024 * 1024)

static const struct {
        const char *name;
        const char *files[5];
} items[_BUNDLE_ITEM_MAX] = {
        [BUNDLE_CA] = { "ca", { "kubernetes/ca.crt", "kubernetes/ca.key" } },
        [BUNDLE_FRONT_PROXY_CA] = { "front-proxy-ca", { "kubernetes/front-proxy-ca.crt", "kubernetes/front-proxy-ca.key" } },
        [BUNDLE_FRONT_PROXY_CLIENT] = { "front-proxy-client",
                                        { "kubernetes/front-proxy-client.crt", "kubernetes/front-proxy-client.key" } },
        [BUNDLE_SA] = { "sa", { "kubernetes/sa.key", "kubernetes/sa.pub" } },
        [BUNDLE_ETCD_CA] = { "etcd-ca", { "etcd/ca.crt", "etcd/ca.key" } },
        [BUNDLE_BOOTSTRAP_TOKEN] = { "bootstrap-token", { "bootstrap-token" } },
        [BUNDLE_JOIN_SECRET] = { "join-secret", { "join-secret" } },
        [BUNDLE_CEPH] = { "ceph",
                          { "ceph/fsid", "ceph/ceph.mon.keyring", "ceph/ceph.client.admin.keyring",
                            "ceph/ceph.bootstrap-osd.keyring", "ceph/ceph.bootstrap-mds.keyring" } },
        [BUNDLE_MQTT] = { "mqtt", { "mqtt/credentials", "mqtt/passwd" } },
        [BUNDLE_KAFKA_CLUSTER_ID] = { "kafka-cluster-id", { "kafka/cluster-id" } },
};

BundleItem bundle_item_from_string(const char *s) {
        for (BundleItem i = 0; i < _BUNDLE_ITEM_MAX; i++)
                if (streq(s, items[i].name))
                        return i;
        return _BUNDLE_ITEM_INVALID;
}

/* The seed's caps (CERTIFICATES.md), as `ceph-authtool --gen-key --cap ...` wrote them. */
static const char *const caps_mon[] = { "mon", "allow *", NULL };
static const char *const caps_admin[] = { "mds", "allow *", "mgr", "allow *", "mon", "allow *", "osd", "allow *", NULL };
static const char *const caps_osd[] = { "mgr", "allow r", "mon", "profile bootstrap-osd", NULL };
static const char *const caps_mds[] = { "mgr", "allow r", "mon", "profile bootstrap-mds", NULL };

static const struct {
        const char *name;
        const char *const *caps;
        const char *file; /* index into items[BUNDLE_CEPH].files */
} ceph_entities[_CEPH_ENTITY_MAX] = {
        [CEPH_MON] = { "mon.", caps_mon, "ceph/ceph.mon.keyring" },
        [CEPH_CLIENT_ADMIN] = { "client.admin", caps_admin, "ceph/ceph.client.admin.keyring" },
        [CEPH_BOOTSTRAP_OSD] = { "client.bootstrap-osd", caps_osd, "ceph/ceph.bootstrap-osd.keyring" },
        [CEPH_BOOTSTRAP_MDS] = { "client.bootstrap-mds", caps_mds, "ceph/ceph.bootstrap-mds.keyring" },
};

const char *ceph_entity_name(CephEntity e) {
        return ceph_entities[e].name;
}

const char *const *ceph_entity_caps(CephEntity e) {
        return ceph_entities[e].caps;
}

void bundle_done(Bundle *b) {
        EVP_PKEY_free(b->ca_key);
        EVP_PKEY_free(b->front_proxy_ca_key);
        EVP_PKEY_free(b->front_proxy_client_key);
        EVP_PKEY_free(b->sa_key);
        EVP_PKEY_free(b->etcd_ca_key);
        X509_free(b->ca);
        X509_free(b->front_proxy_ca);
        X509_free(b->front_proxy_client);
        X509_free(b->etcd_ca);
        secret_free(b->bootstrap_token);
        secret_free(b->join_secret);
        free(b->ceph_fsid);
        for (CephEntity e = 0; e < _CEPH_ENTITY_MAX; e++)
                secret_free(b->ceph_keys[e]);
        for (size_t i = 0; i < b->n_mqtt; i++) {
                free(b->mqtt[i].user);
                secret_free(b->mqtt[i].password);
        }
        free(b->mqtt);
        secret_free(b->mqtt_passwd);
        free(b->kafka_cluster_id);
        *b = (Bundle) {};
}

/* --- loading --- */

static int read_item_file(const char *dir, const char *rel, char **ret, size_t *ret_size) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, rel);
        if (!path)
                return -ENOMEM;
        return read_full_file(path, MAX_FILE, ret, ret_size);
}

/* One line of path, without its newline (a token, an id, a join secret). */
static int read_one_line(const char *path, char **ret) {
        char *data;
        size_t size;
        int r = read_full_file(path, MAX_FILE, &data, &size);
        if (r < 0)
                return r;
        while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
                data[--size] = 0;
        if (size == 0 || strchr(data, '\n')) {
                secret_free(data);
                return -EBADMSG;
        }
        *ret = data;
        return 0;
}

static int read_line(const char *dir, const char *rel, char **ret) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, rel);
        return path ? read_one_line(path, ret) : -ENOMEM;
}

int join_secret_read(const char *path, char **ret) {
        return read_one_line(path, ret);
}

static int read_cert(const char *dir, const char *rel, X509 **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_item_file(dir, rel, &data, &size);
        return r < 0 ? r : pki_cert_from_pem(data, size, ret);
}

static int read_key(const char *dir, const char *rel, EVP_PKEY **ret) {
        char *data;
        size_t size;
        int r = read_item_file(dir, rel, &data, &size);
        if (r < 0)
                return r;
        r = pki_key_from_pem(data, size, ret);
        secret_free(data);
        return r;
}

/* "\tkey = AQ...==" from a keyring file. */
static int read_keyring_key(const char *dir, const char *rel, char **ret) {
        char *data;
        size_t size;
        int r = read_item_file(dir, rel, &data, &size);
        if (r < 0)
                return r;
        r = -EBADMSG;
        for (char *line = data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *p = line + strspn(line, " \t");
                if (!startswith(p, "key = "))
                        continue;
                p += strlen("key = ");
                *ret = strndup(p, strcspn(p, "\n"));
                r = *ret ? 0 : -ENOMEM;
                break;
        }
        secret_free(data);
        return r;
}

static int read_credentials(const char *dir, Bundle *b) {
        char *data;
        size_t size, allocated = 0;
        int r = read_item_file(dir, "mqtt/credentials", &data, &size);
        if (r < 0)
                return r;
        for (char *line = data; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                char *colon = strchr(line, ':');
                if (colon && colon != line) {
                        *colon = 0;
                        if (!GREEDY_REALLOC(b->mqtt, allocated, b->n_mqtt + 1)) {
                                r = -ENOMEM;
                                break;
                        }
                        MqttCredential *c = b->mqtt + b->n_mqtt;
                        c->user = strdup(line);
                        c->password = strdup(colon + 1);
                        if (!c->user || !c->password) {
                                free(c->user);
                                secret_free(c->password);
                                r = -ENOMEM;
                                break;
                        }
                        b->n_mqtt++;
                }
                line = nl ? nl + 1 : NULL;
        }
        secret_free(data);
        return r;
}

static int load_item(const char *dir, BundleItem item, Bundle *b) {
        int r = 0;
        switch (item) {
        case BUNDLE_CA:
                r = read_cert(dir, "kubernetes/ca.crt", &b->ca);
                return r ?: read_key(dir, "kubernetes/ca.key", &b->ca_key);
        case BUNDLE_FRONT_PROXY_CA:
                r = read_cert(dir, "kubernetes/front-proxy-ca.crt", &b->front_proxy_ca);
                return r ?: read_key(dir, "kubernetes/front-proxy-ca.key", &b->front_proxy_ca_key);
        case BUNDLE_FRONT_PROXY_CLIENT:
                r = read_cert(dir, "kubernetes/front-proxy-client.crt", &b->front_proxy_client);
                return r ?: read_key(dir, "kubernetes/front-proxy-client.key", &b->front_proxy_client_key);
        case BUNDLE_SA:
                return read_key(dir, "kubernetes/sa.key", &b->sa_key);
        case BUNDLE_ETCD_CA:
                r = read_cert(dir, "etcd/ca.crt", &b->etcd_ca);
                return r ?: read_key(dir, "etcd/ca.key", &b->etcd_ca_key);
        case BUNDLE_BOOTSTRAP_TOKEN:
                return read_line(dir, "bootstrap-token", &b->bootstrap_token);
        case BUNDLE_JOIN_SECRET:
                return read_line(dir, "join-secret", &b->join_secret);
        case BUNDLE_CEPH:
                r = read_line(dir, "ceph/fsid", &b->ceph_fsid);
                for (CephEntity e = 0; r >= 0 && e < _CEPH_ENTITY_MAX; e++)
                        r = read_keyring_key(dir, ceph_entities[e].file, &b->ceph_keys[e]);
                return r;
        case BUNDLE_MQTT: {
                size_t size;
                r = read_credentials(dir, b);
                return r ?: read_item_file(dir, "mqtt/passwd", &b->mqtt_passwd, &size);
        }
        case BUNDLE_KAFKA_CLUSTER_ID:
                return read_line(dir, "kafka/cluster-id", &b->kafka_cluster_id);
        default:
                return -EINVAL;
        }
}

/* How many of an item's files exist: all (load it), none (make it), or some (refuse to guess). */
static int item_presence(const char *dir, BundleItem item, bool *ret_all, const char **ret_missing) {
        size_t present = 0, total = 0;
        const char *missing = NULL;
        for (size_t i = 0; i < ELEMENTSOF(items[item].files) && items[item].files[i]; i++) {
                _cleanup_free_ char *path = strprintf("%s/%s", dir, items[item].files[i]);
                if (!path)
                        return -ENOMEM;
                struct stat st;
                total++;
                if (stat(path, &st) >= 0)
                        present++;
                else if (!missing)
                        missing = items[item].files[i];
        }
        if (present != 0 && present != total) {
                *ret_missing = missing;
                return -ENOENT;
        }
        *ret_all = present == total;
        return 0;
}

int bundle_load(const char *dir, Bundle *ret, const char **ret_missing) {
        Bundle b = {};
        for (BundleItem i = 0; i < _BUNDLE_ITEM_MAX; i++) {
                bool all;
                const char *missing = NULL;
                int r = item_presence(dir, i, &all, &missing);
                if (r >= 0 && !all) {
                        missing = items[i].files[0];
                        r = -ENOENT;
                }
                r = r ?: load_item(dir, i, &b);
                if (r < 0) {
                        if (ret_missing)
                                *ret_missing = missing ?: items[i].files[0];
                        bundle_done(&b);
                        return r;
                }
        }
        *ret = b;
        return 0;
}

int bundle_collect(const char *dir, const char *dest, RenderSet *out) {
        for (BundleItem i = 0; i < _BUNDLE_ITEM_MAX; i++)
                for (size_t k = 0; k < ELEMENTSOF(items[i].files) && items[i].files[k]; k++) {
                        const char *rel = items[i].files[k];
                        _cleanup_free_ char *src = strprintf("%s/%s", dir, rel);
                        _cleanup_free_ char *to = dest ? strprintf("%s/%s", dest, rel) : strdup(rel);
                        char *data = NULL;
                        size_t size;
                        if (!src || !to)
                                return -ENOMEM;
                        int r = read_full_file(src, MAX_FILE, &data, &size);
                        if (r < 0)
                                return r;
                        StrBuf b = {};
                        r = strbuf_appendn(&b, data, size);
                        OPENSSL_cleanse(data, size);
                        free(data);
                        /* Everything of the bundle is root's alone, certificates included. */
                        r = r ?: render_set_add(out, to, 0600, &b);
                        if (b.s) /* left when the add failed */
                                OPENSSL_cleanse(b.s, b.len);
                        strbuf_done(&b);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* --- making --- */

static int add_text(RenderSet *out, const char *dir, const char *rel, mode_t mode, const char *text, bool newline) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, rel);
        StrBuf b = {};
        if (!path)
                return -ENOMEM;
        int r = strbuf_append(&b, text);
        if (r >= 0 && newline)
                r = strbuf_append(&b, "\n");
        r = r ?: render_set_add(out, path, mode, &b);
        if (b.s)
                OPENSSL_cleanse(b.s, b.len);
        strbuf_done(&b);
        return r;
}

static int add_cert(RenderSet *out, const char *dir, const char *rel, X509 *cert) {
        _cleanup_free_ char *pem = NULL;
        size_t size;
        int r = pki_cert_to_pem(cert, &pem, &size);
        return r < 0 ? r : add_text(out, dir, rel, 0644, pem, false);
}

static int add_key(RenderSet *out, const char *dir, const char *rel, EVP_PKEY *key) {
        char *pem;
        size_t size;
        int r = pki_key_to_pem(key, &pem, &size);
        if (r < 0)
                return r;
        r = add_text(out, dir, rel, 0600, pem, false);
        secret_free(pem);
        return r;
}

static int make_ca(KeyAlgorithm alg, const char *cn, EVP_PKEY **ret_key, X509 **ret_cert) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        CertSpec spec = { .common_name = cn, .usage = CERT_USAGE_CA, .validity_days = PKI_CA_VALIDITY_DAYS };
        int r = pki_key_generate(alg, &key);
        r = r ?: pki_ca_create(key, &spec, ret_cert);
        if (r < 0)
                return r;
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int make_item(const Inventory *inv, KeyAlgorithm alg, BundleItem item, bool rotating, const char *dir, Bundle *b,
                     RenderSet *out) {
        int r = 0;
        switch (item) {
        case BUNDLE_CA:
                r = make_ca(alg, "kubernetes", &b->ca_key, &b->ca);
                r = r ?: add_cert(out, dir, "kubernetes/ca.crt", b->ca);
                return r ?: add_key(out, dir, "kubernetes/ca.key", b->ca_key);
        case BUNDLE_FRONT_PROXY_CA:
                r = make_ca(alg, "front-proxy-ca", &b->front_proxy_ca_key, &b->front_proxy_ca);
                r = r ?: add_cert(out, dir, "kubernetes/front-proxy-ca.crt", b->front_proxy_ca);
                return r ?: add_key(out, dir, "kubernetes/front-proxy-ca.key", b->front_proxy_ca_key);
        case BUNDLE_FRONT_PROXY_CLIENT: {
                CertSpec spec = { .common_name = "front-proxy-client", .usage = CERT_USAGE_CLIENT,
                                  .validity_days = PKI_LEAF_VALIDITY_DAYS };
                r = pki_key_generate(alg, &b->front_proxy_client_key);
                r = r ?: pki_cert_issue(b->front_proxy_client_key, &spec, b->front_proxy_ca, b->front_proxy_ca_key,
                                        &b->front_proxy_client);
                r = r ?: add_cert(out, dir, "kubernetes/front-proxy-client.crt", b->front_proxy_client);
                return r ?: add_key(out, dir, "kubernetes/front-proxy-client.key", b->front_proxy_client_key);
        }
        case BUNDLE_SA: {
                _cleanup_free_ char *pub = NULL;
                size_t size;
                r = pki_key_generate(alg, &b->sa_key);
                r = r ?: add_key(out, dir, "kubernetes/sa.key", b->sa_key);
                r = r ?: pki_public_key_to_pem(b->sa_key, &pub, &size);
                return r ?: add_text(out, dir, "kubernetes/sa.pub", 0644, pub, false);
        }
        case BUNDLE_ETCD_CA:
                r = make_ca(alg, "etcd-ca", &b->etcd_ca_key, &b->etcd_ca);
                r = r ?: add_cert(out, dir, "etcd/ca.crt", b->etcd_ca);
                return r ?: add_key(out, dir, "etcd/ca.key", b->etcd_ca_key);
        case BUNDLE_BOOTSTRAP_TOKEN:
                /* The inventory may fix the token (cluster.bootstrap.token); else it is random. */
                b->bootstrap_token = inv->cluster.bootstrap.token.v ? strdup(inv->cluster.bootstrap.token.v) : NULL;
                if (!b->bootstrap_token)
                        r = inv->cluster.bootstrap.token.v ? -ENOMEM : bootstrap_token_generate(&b->bootstrap_token);
                return r ?: add_text(out, dir, "bootstrap-token", 0600, b->bootstrap_token, true);
        case BUNDLE_JOIN_SECRET:
                /* 256 bits, as hex: it goes into HTTP headers and HMACs. */
                r = join_secret_generate(&b->join_secret);
                return r ?: add_text(out, dir, "join-secret", 0600, b->join_secret, true);
        case BUNDLE_CEPH: {
                /* The same fsid render derives without the bundle, so a node renders one ceph.conf whether
                 * it has the bundle or not; --rotate ceph makes a random one. */
                ClusterIds ids;
                char fsid[37];
                r = rotating ? uuid_generate_v4(fsid) : cluster_ids_derive(inv, &ids);
                b->ceph_fsid = r >= 0 ? strdup(rotating ? fsid : ids.ceph_fsid) : NULL;
                if (r >= 0 && !b->ceph_fsid)
                        r = -ENOMEM;
                r = r ?: add_text(out, dir, "ceph/fsid", 0644, b->ceph_fsid, true);
                for (CephEntity e = 0; r >= 0 && e < _CEPH_ENTITY_MAX; e++)
                        r = cephx_key_generate(&b->ceph_keys[e]);
                for (CephEntity e = 0; r >= 0 && e < _CEPH_ENTITY_MAX; e++) {
                        char *text;
                        r = bundle_ceph_keyring(b, e, &text);
                        r = r ?: add_text(out, dir, ceph_entities[e].file, 0600, text, false);
                        if (r >= 0)
                                secret_free(text);
                }
                return r;
        }
        case BUNDLE_KAFKA_CLUSTER_ID: {
                /* As the fsid: render's derived id unless rotated. */
                ClusterIds ids;
                if (rotating)
                        r = kafka_cluster_id_generate(&b->kafka_cluster_id);
                else {
                        r = cluster_ids_derive(inv, &ids);
                        b->kafka_cluster_id = r >= 0 ? strdup(ids.kafka_cluster_id) : NULL;
                        if (r >= 0 && !b->kafka_cluster_id)
                                r = -ENOMEM;
                }
                return r ?: add_text(out, dir, "kafka/cluster-id", 0644, b->kafka_cluster_id, true);
        }
        default:
                return -EINVAL;
        }
}

int bundle_ceph_keyring(const Bundle *b, CephEntity e, char **ret) {
        StrBuf text = {};
        /* ceph-mon --mkfs imports the mon keyring into the monitor's auth database: it must hold every
         * entity the cluster's nodes authenticate as from the start, or the monitor makes its own
         * bootstrap keys and refuses the bundle's (found by tests/pki-e2e/test-ceph-mon.sh). */
        CephEntity list[_CEPH_ENTITY_MAX] = { e };
        size_t n = 1;
        if (e == CEPH_MON)
                for (CephEntity other = 0; other < _CEPH_ENTITY_MAX; other++)
                        if (other != CEPH_MON)
                                list[n++] = other;
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                char *entry;
                r = cephx_keyring_entry(ceph_entities[list[i]].name, b->ceph_keys[list[i]], ceph_entities[list[i]].caps,
                                        &entry);
                if (r >= 0) {
                        r = strbuf_append(&text, entry);
                        secret_free(entry);
                }
        }
        if (r < 0) {
                if (text.s)
                        OPENSSL_cleanse(text.s, text.len);
                strbuf_done(&text);
                return r;
        }
        *ret = strbuf_steal(&text);
        return *ret ? 0 : -ENOMEM;
}

/* The inventory's users get credentials; existing passwords are kept, users no longer listed are dropped.
 * The hashed file is remade only when that changed anything (its salts are random). */
static int sync_mqtt(const Inventory *inv, const char *dir, bool loaded, Bundle *b, RenderSet *out, bool *ret_changed) {
        const MqttConfig *m = &inv->mqtt;
        MqttCredential *next = calloc(m->users.n + 1, sizeof(MqttCredential));
        bool changed = !loaded || m->users.n != b->n_mqtt;
        int r = 0;
        if (!next)
                return -ENOMEM;

        for (size_t i = 0; i < m->users.n && r >= 0; i++) {
                const char *user = m->users.items[i].name.v;
                next[i].user = strdup(user);
                for (size_t j = 0; j < b->n_mqtt && !next[i].password; j++)
                        if (streq(b->mqtt[j].user, user))
                                next[i].password = strdup(b->mqtt[j].password);
                if (!next[i].password) {
                        changed = true;
                        r = random_string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24,
                                          &next[i].password);
                }
                if (r >= 0 && (!next[i].user || !next[i].password))
                        r = -ENOMEM;
        }
        size_t n_old = b->n_mqtt;
        MqttCredential *old = b->mqtt;
        b->mqtt = next;
        b->n_mqtt = m->users.n;
        for (size_t i = 0; i < n_old; i++) {
                free(old[i].user);
                secret_free(old[i].password);
        }
        free(old);
        if (r < 0 || !changed) {
                *ret_changed = false;
                return r;
        }

        StrBuf creds = {}, passwd = {};
        for (size_t i = 0; i < b->n_mqtt && r >= 0; i++) {
                char *line;
                r = strbuf_printf(&creds, "%s:%s\n", b->mqtt[i].user, b->mqtt[i].password);
                r = r ?: mosquitto_password_line(b->mqtt[i].user, b->mqtt[i].password, &line);
                if (r >= 0) {
                        r = strbuf_printf(&passwd, "%s\n", line);
                        secret_free(line);
                }
        }
        r = r ?: add_text(out, dir, "mqtt/credentials", 0600, strempty(creds.s), false);
        r = r ?: add_text(out, dir, "mqtt/passwd", 0600, strempty(passwd.s), false);
        if (r >= 0) {
                secret_free(b->mqtt_passwd);
                b->mqtt_passwd = strbuf_steal(&passwd);
        }
        if (creds.s)
                OPENSSL_cleanse(creds.s, creds.len);
        if (passwd.s)
                OPENSSL_cleanse(passwd.s, passwd.len);
        strbuf_done(&creds);
        strbuf_done(&passwd);
        *ret_changed = true;
        return r;
}

int bundle_init(const Inventory *inv, const char *dir, const bool rotate[_BUNDLE_ITEM_MAX], Bundle *ret,
                RenderSet *out, unsigned *ret_created, const char **ret_missing) {
        KeyAlgorithm alg = key_algorithm_from_string(strempty(inv->kubernetes.pki.key_algorithm.v));
        Bundle b = {};
        unsigned created = 0;
        bool made[_BUNDLE_ITEM_MAX] = {};
        int r = 0;

        if (alg < 0)
                return -EINVAL;

        for (BundleItem i = 0; i < _BUNDLE_ITEM_MAX && r >= 0; i++) {
                bool all;
                const char *missing = NULL;
                r = item_presence(dir, i, &all, &missing);
                if (r == -ENOENT && rotate && rotate[i]) {
                        r = 0; /* half an item, to be replaced anyway */
                        all = false;
                }
                if (r < 0) {
                        /* Some files of an item but not all: regenerating would orphan the others. */
                        if (ret_missing)
                                *ret_missing = missing;
                        break;
                }

                bool make = !all || (rotate && rotate[i]);
                /* A new front-proxy CA makes the old client certificate useless. */
                if (i == BUNDLE_FRONT_PROXY_CLIENT && made[BUNDLE_FRONT_PROXY_CA])
                        make = true;

                if (i == BUNDLE_MQTT) {
                        bool changed = false;
                        if (!make)
                                r = load_item(dir, i, &b);
                        r = r ?: sync_mqtt(inv, dir, !make, &b, out, &changed);
                        created += changed;
                        continue;
                }
                if (make) {
                        r = make_item(inv, alg, i, rotate && rotate[i], dir, &b, out);
                        made[i] = true;
                        created++;
                } else {
                        r = load_item(dir, i, &b);
                        /* A token fixed in the inventory wins over the one on disk. */
                        if (r >= 0 && i == BUNDLE_BOOTSTRAP_TOKEN && inv->cluster.bootstrap.token.v &&
                            !streq(inv->cluster.bootstrap.token.v, b.bootstrap_token)) {
                                secret_free(TAKE_PTR(b.bootstrap_token));
                                r = make_item(inv, alg, i, false, dir, &b, out);
                                created++;
                        }
                }
        }
        if (r < 0) {
                bundle_done(&b);
                return r;
        }
        *ret = b;
        *ret_created = created;
        return 0;
}
