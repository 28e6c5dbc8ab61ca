/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "join-protocol.h"
#include "paths.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

#define JSON_CANONICAL (JSON_SORT_KEYS | JSON_COMPACT)
#define CSR_PEM_MAX (16 * 1024)
#define CERT_NAME_MAX 64

DEFINE_TRIVIAL_CLEANUP_FUNC(X509_REQ *, X509_REQ_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);

static bool is_lower_hex(const char *s, size_t len) {
        if (strlen(s) != len)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static bool is_node_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
        return true;
}

static bool is_cert_name(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > CERT_NAME_MAX)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '/'))
                        return false;
        return true;
}

int join_nonce_generate(char ret[static JOIN_NONCE_HEX + 1]) {
        unsigned char b[JOIN_NONCE_HEX / 2];
        if (RAND_bytes(b, sizeof(b)) != 1)
                return -EIO;
        hex_encode(b, sizeof(b), ret);
        return 0;
}

/* HMAC-SHA256(secret, prefix || data) as hex. */
static int hmac_hex(const char *secret, const char *prefix, const unsigned char *data, size_t size,
                    char out[static JOIN_MAC_HEX + 1]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        size_t md_len = 0;
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
        OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0), OSSL_PARAM_END };
        int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *) secret, strlen(secret), params) == 1 &&
                 (!prefix || EVP_MAC_update(ctx, (const unsigned char *) prefix, strlen(prefix)) == 1) &&
                 EVP_MAC_update(ctx, data, size) == 1 && EVP_MAC_final(ctx, md, &md_len, sizeof(md)) == 1 &&
                 md_len == 32;
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        if (!ok)
                return -EIO;
        hex_encode(md, md_len, out);
        OPENSSL_cleanse(md, sizeof(md));
        return 0;
}

/* The object without `field`, serialized canonically. */
static int canonical_without(json_t *obj, const char *field, char **ret) {
        _cleanup_(json_decrefp) json_t *copy = json_copy(obj); /* shallow: only the top level changes */
        if (!copy)
                return -ENOMEM;
        json_object_del(copy, field);
        char *s = json_dumps(copy, JSON_CANONICAL);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int request_mac(json_t *root, const char *secret, char out[static JOIN_MAC_HEX + 1]) {
        _cleanup_free_ char *canon = NULL;
        int r = canonical_without(root, "mac", &canon);
        return r ?: hmac_hex(secret, NULL, (const unsigned char *) canon, strlen(canon), out);
}

int join_request_build(const char *secret, const char *node, const char *hwaddr, time_t now, const char *nonce,
                       json_t *csrs, bool ca_bundle, char **ret_body) {
        if (!secret || !node || !nonce)
                return -EINVAL;
        _cleanup_(json_decrefp) json_t *root = json_pack("{s:s,s:I,s:s,s:o}", "node", node, "timestamp",
                                                         (json_int_t) now, "nonce", nonce, "csrs",
                                                         csrs ? json_incref(csrs) : json_object());
        if (!root)
                return -ENOMEM;
        if (hwaddr && json_object_set_new(root, "hwaddr", json_string(hwaddr)) < 0)
                return -ENOMEM; /* root is freed by its cleanup */
        if (ca_bundle && json_object_set_new(root, "ca_bundle", json_true()) < 0)
                return -ENOMEM;
        char mac[JOIN_MAC_HEX + 1];
        int r = request_mac(root, secret, mac);
        if (r < 0)
                return r;
        if (json_object_set_new(root, "mac", json_string(mac)) < 0)
                return -ENOMEM;
        char *s = json_dumps(root, JSON_CANONICAL);
        if (!s)
                return -ENOMEM;
        *ret_body = s;
        return 0;
}

void join_request_done(JoinRequest *r) {
        json_decref(r->root);
        *r = (JoinRequest) {};
}

static int refuse(const char **ret_reason, const char *reason, int err) {
        if (ret_reason)
                *ret_reason = reason;
        return err;
}

/* A join request, or with renew a renewal's: only "node" and "csrs", its client certificate being the proof. */
static int request_parse(const char *body, size_t size, bool renew, JoinRequest *ret, const char **ret_reason) {
        static const char *const known[] = { "node", "timestamp", "nonce", "csrs", "ca_bundle", "hwaddr", "mac", NULL };
        static const char *const known_renew[] = { "node", "csrs", NULL };
        if (size > JOIN_BODY_MAX)
                return refuse(ret_reason, "request too large", -E2BIG);
        _cleanup_(json_decrefp) json_t *root = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(root))
                return refuse(ret_reason, "not a JSON object", -EINVAL);

        const char *key;
        json_t *v;
        json_object_foreach(root, key, v) {
                bool found = false;
                for (const char *const *k = renew ? known_renew : known; *k && !found; k++)
                        found = streq(*k, key);
                if (!found)
                        return refuse(ret_reason, "unknown field", -EINVAL);
        }

        JoinRequest r = { .root = root };
        json_t *node = json_object_get(root, "node"), *ts = json_object_get(root, "timestamp"),
               *nonce = json_object_get(root, "nonce"), *mac = json_object_get(root, "mac"),
               *cab = json_object_get(root, "ca_bundle"), *hw = json_object_get(root, "hwaddr");
        r.csrs = json_object_get(root, "csrs");
        if (!json_is_string(node) || !is_node_name(json_string_value(node)))
                return refuse(ret_reason, "bad or missing node", -EINVAL);
        if (renew)
                ; /* no timestamp, nonce or mac: TLS with the node's certificate stands for them */
        else if (!json_is_integer(ts))
                return refuse(ret_reason, "bad or missing timestamp", -EINVAL);
        else if (!json_is_string(nonce) || !is_lower_hex(json_string_value(nonce), JOIN_NONCE_HEX))
                return refuse(ret_reason, "bad or missing nonce", -EINVAL);
        else if (!json_is_string(mac) || !is_lower_hex(json_string_value(mac), JOIN_MAC_HEX))
                return refuse(ret_reason, "bad or missing mac", -EINVAL);
        if (cab && !json_is_boolean(cab))
                return refuse(ret_reason, "bad ca_bundle", -EINVAL);
        char norm[18];
        if (hw && (!json_is_string(hw) || mac_addr_normalize(json_string_value(hw), norm) < 0))
                return refuse(ret_reason, "bad hwaddr", -EINVAL);
        if (!json_is_object(r.csrs) || json_object_size(r.csrs) > JOIN_MAX_CSRS)
                return refuse(ret_reason, "bad or missing csrs", -EINVAL);
        json_object_foreach(r.csrs, key, v) {
                if (!is_cert_name(key))
                        return refuse(ret_reason, "bad certificate name", -EINVAL);
                if (!json_is_string(v) || json_string_length(v) > CSR_PEM_MAX)
                        return refuse(ret_reason, "bad csr", -EINVAL);
        }
        r.node = json_string_value(node);
        r.timestamp = renew ? 0 : json_integer_value(ts);
        r.nonce = renew ? NULL : json_string_value(nonce);
        r.mac = renew ? NULL : json_string_value(mac);
        r.ca_bundle = json_is_true(cab);
        r.hwaddr = hw ? json_string_value(hw) : NULL;
        root = NULL;
        *ret = r;
        return 0;
}

int join_request_parse(const char *body, size_t size, JoinRequest *ret, const char **ret_reason) {
        return request_parse(body, size, false, ret, ret_reason);
}

int join_renew_parse(const char *body, size_t size, JoinRequest *ret, const char **ret_reason) {
        return request_parse(body, size, true, ret, ret_reason);
}

int join_renew_build(const char *node, json_t *csrs, char **ret_body) {
        _cleanup_(json_decrefp) json_t *j = json_pack("{s:s,s:O}", "node", node, "csrs", csrs ?: json_object());
        if (!j)
                return -ENOMEM;
        char *body = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!body)
                return -ENOMEM;
        *ret_body = body;
        return 0;
}

int join_renew_authorize(X509 *ca, X509 *client, const char *node, time_t now, const char **ret_reason) {
        if (!client)
                return refuse(ret_reason, "no client certificate", -EACCES);
        if (pki_cert_verify(client, ca, now) < 0)
                return refuse(ret_reason, "client certificate not from this cluster's CA, or not valid now", -EACCES);
        if (X509_check_purpose(client, X509_PURPOSE_SSL_CLIENT, 0) != 1)
                return refuse(ret_reason, "client certificate not for client authentication", -EACCES);
        /* The kubelet's client certificate: CN=system:node:NAME, O=system:nodes (the Node authorizer's form). */
        char want[256];
        snprintf(want, sizeof(want), "system:node:%s", node);
        if (!pki_cert_has_cn(client, want) || !pki_cert_has_organization(client, "system:nodes"))
                return refuse(ret_reason, "the client certificate is not this node's", -EPERM);
        return 0;
}

int join_request_verify(const JoinRequest *r, const char *secret, time_t now, const char **ret_reason) {
        if (!secret || !*secret)
                return -EINVAL;
        /* Checked apart from the subtraction, which could overflow for a hostile timestamp. */
        if (r->timestamp < (int64_t) now - JOIN_MAX_SKEW || r->timestamp > (int64_t) now + JOIN_MAX_SKEW)
                return refuse(ret_reason, "stale", -ETIME);
        char mac[JOIN_MAC_HEX + 1];
        int k = request_mac(r->root, secret, mac);
        if (k < 0)
                return k;
        if (CRYPTO_memcmp(mac, r->mac, JOIN_MAC_HEX) != 0)
                return refuse(ret_reason, "bad mac", -EBADMSG);
        return 0;
}

int nonce_cache_add(NonceCache *c, const char *nonce, time_t now) {
        size_t kept = 0;
        bool seen = false;
        for (size_t i = 0; i < c->n; i++) {
                if (now - c->entries[i].seen > JOIN_NONCE_TTL)
                        continue;
                seen = seen || streq(c->entries[i].nonce, nonce);
                c->entries[kept++] = c->entries[i];
        }
        c->n = kept;
        if (seen)
                return -EALREADY;
        if (c->n >= NONCE_CACHE_MAX)
                return -EBUSY;
        if (strlen(nonce) != JOIN_NONCE_HEX)
                return -EINVAL;
        if (!GREEDY_REALLOC(c->entries, c->allocated, c->n + 1))
                return -ENOMEM;
        memcpy(c->entries[c->n].nonce, nonce, JOIN_NONCE_HEX + 1);
        c->entries[c->n++].seen = now;
        return 0;
}

void nonce_cache_done(NonceCache *c) {
        free(c->entries);
        *c = (NonceCache) {};
}

int join_cert_name(const PkiEntry *e, char **ret) {
        if (e->kind == PKI_COPY)
                return -EINVAL;
        const char *p = e->path, *prefix = "";
        if (startswith(p, ETCD_PKI_DIR "/")) {
                p += strlen(ETCD_PKI_DIR "/");
                prefix = "etcd/";
        } else if (startswith(p, MOSQUITTO_CONFIG_DIR "/certs/")) {
                p += strlen(MOSQUITTO_CONFIG_DIR "/certs/");
                prefix = "mosquitto/";
        } else {
                const char *slash = strrchr(p, '/');
                p = slash ? slash + 1 : p;
        }
        size_t n = strlen(p);
        if (endswith(p, ".crt"))
                n -= 4;
        char *s = strprintf("%s%.*s", prefix, (int) n, p);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int join_csr_make(EVP_PKEY *key, const char *cn, char **ret_pem) {
        _cleanup_(X509_REQ_freep) X509_REQ *req = X509_REQ_new();
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        if (!req || !bio)
                return -ENOMEM;
        X509_NAME *name = X509_REQ_get_subject_name(req);
        if (X509_REQ_set_version(req, 0) != 1 ||
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) != 1 ||
            X509_REQ_set_pubkey(req, key) != 1 || X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
            PEM_write_bio_X509_REQ(bio, req) != 1)
                return -EIO;
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        char *s = strndup(data, (size_t) len);
        if (!s)
                return -ENOMEM;
        *ret_pem = s;
        return 0;
}

/* The public key of a PEM CSR whose self-signature verifies; nothing else of it is used. */
static int csr_public_key(const char *pem, EVP_PKEY **ret) {
        _cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(pem, (int) strlen(pem));
        if (!bio)
                return -ENOMEM;
        _cleanup_(X509_REQ_freep) X509_REQ *req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
        if (!req)
                return -EINVAL;
        EVP_PKEY *key = X509_REQ_get_pubkey(req);
        if (!key)
                return -EINVAL;
        int id = EVP_PKEY_get_base_id(key), bits = EVP_PKEY_get_bits(key);
        bool acceptable = (id == EVP_PKEY_EC && bits >= 256) || (id == EVP_PKEY_RSA && bits >= 2048 && bits <= 8192);
        if (!acceptable || X509_REQ_verify(req, key) != 1) {
                EVP_PKEY_free(key);
                return -EINVAL;
        }
        *ret = key;
        return 0;
}

static int issue_for(const PkiEntry *e, const Bundle *b, EVP_PKEY *key, time_t now, char **ret_pem) {
        _cleanup_(X509_freep) X509 *cert = NULL;
        size_t size;
        int r = pki_entry_issue(e, b, key, now, &cert);
        return r ?: pki_cert_to_pem(cert, ret_pem, &size);
}

/* The CA bundle's part of a plan: what a master makes from the bundle it receives, never a role copy. */
static bool source_is_ca_bundle(PkiSource s) {
        switch (s) {
        case SRC_CA_KEY:
        case SRC_FRONT_PROXY_CA_CRT:
        case SRC_FRONT_PROXY_CA_KEY:
        case SRC_FRONT_PROXY_CLIENT_CRT:
        case SRC_FRONT_PROXY_CLIENT_KEY:
        case SRC_SA_KEY:
        case SRC_SA_PUB:
        case SRC_ETCD_CA_CRT:
        case SRC_ETCD_CA_KEY:
                return true;
        default:
                return false;
        }
}

static int set_text(json_t *obj, const char *key, char *text) {
        int r = json_object_set_new(obj, key, json_string(text)) < 0 ? -ENOMEM : 0;
        secret_free(text);
        return r;
}

static const PkiEntry *plan_find(const PkiPlan *p, const char *name) {
        for (size_t i = 0; i < p->n; i++) {
                _cleanup_free_ char *n = NULL;
                if (join_cert_name(p->entries + i, &n) >= 0 && streq(n, name))
                        return p->entries + i;
        }
        return NULL;
}

static int issue_all(const Bundle *b, const PkiPlan *plan, const JoinRequest *req, time_t now, json_t *certs,
                     StrBuf *names, const char **ret_reason) {
        const char *name;
        json_t *v;
        json_object_foreach(req->csrs, name, v) {
                const PkiEntry *e = plan_find(plan, name);
                if (!e)
                        return refuse(ret_reason, "not entitled to a requested certificate", -EPERM);
                _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
                if (csr_public_key(json_string_value(v), &key) < 0)
                        return refuse(ret_reason, "bad csr", -EINVAL);
                char *pem = NULL;
                int r = issue_for(e, b, key, now, &pem);
                r = r ?: set_text(certs, name, pem);
                r = r ?: strbuf_printf(names, "%s%s", names->len ? "," : "", name);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int copies(const Inventory *inv, const Bundle *b, const PkiPlan *plan, json_t *out) {
        for (size_t i = 0; i < plan->n; i++) {
                const PkiEntry *e = plan->entries + i;
                if (e->kind != PKI_COPY || source_is_ca_bundle(e->source))
                        continue;
                char *text = NULL;
                int r = pki_copy_text(inv, b, e, &text);
                r = r ?: set_text(out, e->path, text);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int bundle_object(const RenderSet *files, json_t *out) {
        for (size_t i = 0; i < files->n; i++)
                if (json_object_set_new(out, files->files[i].path, json_stringn(files->files[i].content,
                                                                              files->files[i].size)) < 0)
                        return -ENOMEM;
        return 0;
}

/* cluster.auto_register: a machine not in the inventory gets the name its MAC gives and the address it
 * asks from (it must be in the node network). */
static int auto_node(const Inventory *inv, const JoinRequest *req, const IpAddr *peer, Node *n, char **ret_name,
                     const char **ret_reason) {
        if (!req->hwaddr || !inv->cluster.auto_register.enabled.v)
                return refuse(ret_reason, "unknown node", -ENOENT);
        if (req->ca_bundle)
                return refuse(ret_reason, "not entitled to the CA bundle: not a master", -EPERM);
        _cleanup_free_ char *name = inventory_auto_name(inv, req->hwaddr);
        if (!name)
                return refuse(ret_reason, "bad hwaddr", -EINVAL);
        if (!peer)
                return refuse(ret_reason, "auto_register: the address is outside the node network", -EPERM);
        int r = inventory_auto_node_fits(inv, name, req->hwaddr, peer, ret_reason);
        if (r < 0)
                return r;
        Role role = role_from_string(inventory_auto_role(inv));
        if (role < 0)
                return refuse(ret_reason, "auto_register: the service has no role to give", -EIO);
        *n = (Node) { .name = name, .hostname = name, .ip = *peer, .ip_valid = true, .kafka_node_id = -1 };
        n->roles[role] = true;
        *ret_name = TAKE_PTR(name);
        return 0;
}

int join_issue(const Inventory *inv, const Bundle *b, const RenderSet *bundle_files, const JoinRequest *req,
               const IpAddr *peer, time_t now, json_t **ret, char **ret_names, const char **ret_reason) {
        const Node *node = inventory_find_node(inv, req->node);
        Node registered;
        _cleanup_free_ char *registered_name = NULL;
        if (!node) {
                int k = auto_node(inv, req, peer, &registered, &registered_name, ret_reason);
                if (k < 0)
                        return k;
                node = &registered;
        }
        if (req->ca_bundle && !node->roles[ROLE_MASTER])
                return refuse(ret_reason, "not entitled to the CA bundle: not a master", -EPERM);
        if (req->ca_bundle && !bundle_files)
                return refuse(ret_reason, "this server does not hand out the CA bundle", -EPERM);
        /* A node's certificates, its roles' material (MQTT passwords, the bootstrap-osd keyring, the kubelet's
         * bootstrap token) and, for a master, the bundle with every key of the cluster: only to the node's own
         * address (or this machine). The join secret, which every image carries, is not enough. */
        if (peer && ip_addr_cmp(peer, &node->ip) != 0 && !ip_addr_is_loopback(peer))
                return refuse(ret_reason, req->ca_bundle ? "not entitled to the CA bundle: not from the master's address"
                                                         : "not from the node's address", -EPERM);

        PkiPlan plan = {};
        StrBuf names = {};
        char *ca = NULL;
        size_t size;
        _cleanup_(json_decrefp) json_t *certs = json_object(), *material = json_object(),
                                       *bundle = req->ca_bundle ? json_object() : NULL;
        int r = pki_plan_node(inv, node, &plan);
        if (r < 0)
                goto finish;
        r = issue_all(b, &plan, req, now, certs, &names, ret_reason);
        r = r ?: copies(inv, b, &plan, material);
        r = r ?: (bundle ? bundle_object(bundle_files, bundle) : 0);
        r = r ?: pki_cert_to_pem(b->ca, &ca, &size);
        if (r < 0)
                goto finish;
        json_t *resp = json_pack("{s:s,s:O,s:s,s:O}", "node", node->name, "certificates", certs, "ca", ca,
                                 "role_material", material);
        if (resp && registered_name) {
                /* What auto_register gave the machine: its name, its address, its role. */
                char ip[IP_ADDR_STRLEN];
                ip_addr_format(&node->ip, ip);
                if (json_object_set_new(resp, "registered", json_pack("{s:s,s:s}", "ip", ip, "role",
                                                                     inventory_auto_role(inv))) < 0) {
                        json_decref(resp);
                        resp = NULL;
                }
        }
        if (resp && bundle && json_object_set(resp, "ca_bundle", bundle) < 0) {
                json_decref(resp);
                resp = NULL;
        }
        if (!resp) {
                r = -ENOMEM;
                goto finish;
        }
        *ret = resp;
        *ret_names = strbuf_steal(&names);
finish:
        free(ca);
        strbuf_done(&names);
        pki_plan_done(&plan);
        return r;
}

int join_cluster_state(const char *node, bool etcd, const char *ca_hash, time_t now, json_t **ret) {
        json_t *j = json_pack("{s:s,s:b,s:s,s:I}", "node", node, "etcd", etcd, "ca", ca_hash ? ca_hash : "", "time",
                              (json_int_t) now);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

int join_cluster_info(const Bundle *b, time_t now, json_t **ret) {
        _cleanup_free_ char *ca = NULL;
        size_t size;
        int r = pki_cert_to_pem(b->ca, &ca, &size);
        if (r < 0)
                return r;
        json_t *j = json_pack("{s:s,s:I}", "ca", ca, "time", (json_int_t) now);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

static int response_proof(json_t *resp, const char *secret, const char *nonce, char out[static JOIN_MAC_HEX + 1]) {
        _cleanup_free_ char *canon = NULL;
        unsigned char digest[32];
        unsigned len = 0;
        int r = canonical_without(resp, "proof", &canon);
        if (r < 0)
                return r;
        if (EVP_Digest(canon, strlen(canon), digest, &len, EVP_sha256(), NULL) != 1 || len != sizeof(digest))
                return -EIO;
        return hmac_hex(secret, nonce, digest, sizeof(digest), out);
}

int join_response_seal(json_t *resp, const char *secret, const char *nonce, char **ret_body) {
        char proof[JOIN_MAC_HEX + 1];
        int r = response_proof(resp, secret, nonce, proof);
        if (r < 0)
                return r;
        if (json_object_set_new(resp, "proof", json_string(proof)) < 0)
                return -ENOMEM;
        char *s = json_dumps(resp, JSON_CANONICAL);
        if (!s)
                return -ENOMEM;
        *ret_body = s;
        return 0;
}

int join_response_verify(const char *body, size_t size, const char *secret, const char *nonce, json_t **ret) {
        _cleanup_(json_decrefp) json_t *root = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
        json_t *proof = json_object_get(root, "proof");
        if (!json_is_object(root) || !json_is_string(proof) || !is_lower_hex(json_string_value(proof), JOIN_MAC_HEX))
                return -EINVAL;
        char want[JOIN_MAC_HEX + 1];
        int r = response_proof(root, secret, nonce, want);
        if (r < 0)
                return r;
        if (CRYPTO_memcmp(want, json_string_value(proof), JOIN_MAC_HEX) != 0)
                return -EBADMSG;
        json_object_del(root, "proof");
        *ret = TAKE_PTR(root);
        return 0;
}

int join_check_ca_hash(const char *ca_pem, const char *hash) {
        _cleanup_(X509_freep) X509 *ca = NULL;
        char have[72];
        int r = pki_cert_from_pem(ca_pem, strlen(ca_pem), &ca);
        r = r ?: pki_spki_hash(ca, have);
        if (r < 0)
                return r;
        return strcasecmp(have, hash) == 0 ? 0 : -EBADMSG;
}
