/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "fileio.h"
#include "fs-util.h"
#include "kubeconfig.h"
#include "report.h"
#include "secret-formats.h"
#include "source.h"
#include "string-util.h"
#include "yaml-tree.h"
#include "banned.h"

#define KUBECONFIG_MAX (1024 * 1024)
#define BODY_MAX (1024 * 1024)

void kubeconfig_done(Kubeconfig *k) {
        free(k->server);
        free(k->ca_pem);
        free(k->cert_pem);
        secret_free(k->key_pem);
        *k = (Kubeconfig) {};
}

/* The value of key in mapping m, or NULL. */
static const YNode *map_get(const YNode *m, const char *key) {
        if (!m || m->kind != YNODE_MAPPING)
                return NULL;
        for (size_t i = 0; i + 1 < m->n_items; i += 2)
                if (m->items[i]->kind == YNODE_SCALAR && streq(m->items[i]->value, key))
                        return m->items[i + 1];
        return NULL;
}

static const char *map_str(const YNode *m, const char *key) {
        const YNode *v = map_get(m, key);
        return v && v->kind == YNODE_SCALAR && !ynode_is_null(v) ? v->value : NULL;
}

/* Of a kubeconfig's list (clusters, contexts, users), the entry named name: its inner mapping under what. */
static const YNode *named(const YNode *root, const char *list, const char *name, const char *what) {
        const YNode *l = map_get(root, list);
        if (!name || !l || l->kind != YNODE_SEQUENCE)
                return NULL;
        for (size_t i = 0; i < l->n_items; i++)
                if (streq_ptr(map_str(l->items[i], "name"), name))
                        return map_get(l->items[i], what);
        return NULL;
}

/* field-data (embedded) or field (a file on the node, under root). */
static int pem_of(const char *root, const YNode *m, const char *field, char **ret, char **ret_why) {
        _cleanup_free_ char *data_key = strprintf("%s-data", field);
        if (!data_key)
                return -ENOMEM;
        const char *data = map_str(m, data_key), *file = map_str(m, field);
        if (data) {
                size_t size;
                int r = base64_decode_alloc(data, strlen(data), ret, &size);
                r = r == -EINVAL ? -EBADMSG : r;
                if (r == -EBADMSG)
                        *ret_why = strprintf("%s is not base64", data_key);
                return r;
        }
        if (!file) {
                *ret_why = strprintf("neither %s nor %s", data_key, field);
                return -EBADMSG;
        }
        _cleanup_free_ char *full = path_resolve_under_root(root, file);
        size_t size;
        int r = full ? read_full_file(full, KUBECONFIG_MAX, ret, &size) : -errno;
        if (r < 0 && r != -ENOMEM)
                *ret_why = strprintf("%s %s: %s", field, file, strerror(-r));
        /* A file not there is not there yet (the kubelet writes kubelet.conf a moment before the certificate
         * it names): -ENOENT, as for the kubeconfig itself. */
        return r == -ENOMEM || r == -ENOENT ? r : r < 0 ? -EBADMSG : 0;
}

int kubeconfig_load(const char *root, const char *path, Kubeconfig *ret, char **ret_why) {
        _cleanup_free_ char *full = path_join_root(root, path);
        char *data = NULL;
        size_t size;
        *ret_why = NULL;
        int r = full ? read_full_file(full, KUBECONFIG_MAX, &data, &size) : -ENOMEM;
        if (r < 0) {
                *ret_why = strprintf("cannot read %s: %s", path, strerror(-r));
                return r;
        }
        return kubeconfig_parse(root, path, data, size, ret, ret_why);
}

int kubeconfig_parse(const char *root, const char *path, char *data, size_t size, Kubeconfig *ret, char **ret_why) {
        SourceSet sources = {};
        Report report;
        int r;
        *ret_why = NULL;
        report_init(&report, &sources);
        int file = source_set_add(&sources, NULL, path, data, size);
        _cleanup_(ynode_freep) YNode *doc = file >= 0 ? yaml_tree_parse(&sources, (uint32_t) file, &report) : NULL;
        Kubeconfig k = {};
        const char *current = map_str(doc, "current-context");
        const YNode *context = named(doc, "contexts", current, "context");
        const YNode *cluster = named(doc, "clusters", map_str(context, "cluster"), "cluster");
        const YNode *user = named(doc, "users", map_str(context, "user"), "user");
        if (file < 0) {
                r = -ENOMEM;
        } else if (!doc) {
                r = -EBADMSG;
                *ret_why = strprintf("%s is not YAML", path);
        } else if (!cluster || !user || !map_str(cluster, "server")) {
                r = -EBADMSG;
                *ret_why = strprintf("%s: current-context '%s' names no cluster with a server, or no user", path,
                                     strempty(current));
        } else {
                k.server = strdup(map_str(cluster, "server"));
                r = k.server ? 0 : -ENOMEM;
        }
        r = r ?: pem_of(root, cluster, "certificate-authority", &k.ca_pem, ret_why);
        r = r ?: pem_of(root, user, "client-certificate", &k.cert_pem, ret_why);
        r = r ?: pem_of(root, user, "client-key", &k.key_pem, ret_why);
        /* The key may have been in the document itself. */
        for (size_t i = 0; i < sources.n_files; i++)
                OPENSSL_cleanse(sources.files[i].data, sources.files[i].size);
        report_done(&report);
        source_set_done(&sources);
        if (r < 0) {
                kubeconfig_done(&k);
                return r;
        }
        *ret = k;
        return 0;
}

typedef struct Body {
        char *data;
        size_t size;
} Body;

static size_t collect(char *p, size_t size, size_t nmemb, void *userdata) {
        Body *b = userdata;
        size_t n = size * nmemb;
        if (b->size + n > BODY_MAX)
                return 0;
        char *m = realloc(b->data, b->size + n + 1);
        if (!m)
                return 0;
        memcpy(m + b->size, p, n);
        b->size += n;
        m[b->size] = 0;
        b->data = m;
        return n;
}

CURLcode kubeconfig_curl_setup(const Kubeconfig *k, CURL *h, const char *url, unsigned timeout_ms, char *errbuf) {
        /* curl keeps the blobs' pointers (NOCOPY): the key is not copied into more memory than it must. */
        struct curl_blob cert = { k->cert_pem, strlen(k->cert_pem), CURL_BLOB_NOCOPY },
                         key = { k->key_pem, strlen(k->key_pem), CURL_BLOB_NOCOPY },
                         ca = { k->ca_pem, strlen(k->ca_pem), CURL_BLOB_NOCOPY };
        CURLcode e = curl_easy_setopt(h, CURLOPT_URL, url);
        e = e ?: curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
        e = e ?: curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
        e = e ?: curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
        e = e ?: curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        e = e ?: curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        e = e ?: curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
        e = e ?: curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        e = e ?: curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
        e = e ?: curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        e = e ?: curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
        return e ?: curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
}

int kubeconfig_request(const Kubeconfig *k, const char *method, const char *path, const char *content_type,
                       const char *body_in, unsigned timeout_ms, char **ret_body, char **ret_why) {
        _cleanup_free_ char *url = strprintf("%s%s", k->server, path);
        _cleanup_free_ char *type = content_type ? strprintf("Content-Type: %s", content_type) : NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *headers = NULL;
        Body body = {};
        long status = 0;
        *ret_why = NULL;
        if (!url || (content_type && !type) || (type && !(headers = curl_slist_append(NULL, type))))
                return -ENOMEM;
        CURL *h = curl_easy_init();
        if (!h) {
                curl_slist_free_all(headers);
                return -ENOMEM;
        }
        CURLcode e = kubeconfig_curl_setup(k, h, url, timeout_ms, errbuf);
        e = e ?: curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (body_in)
                e = e ?: curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_in);
        if (headers)
                e = e ?: curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        e = e ?: curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        e = e ?: curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        e = e ?: curl_easy_perform(h);
        if (e == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        curl_slist_free_all(headers);
        if (e != CURLE_OK) {
                *ret_why = strprintf("%s %s: %s", method, url, errbuf[0] ? errbuf : curl_easy_strerror(e));
                free(body.data);
                return -EAGAIN;
        }
        *ret_body = body.data ? body.data : strdup("");
        return *ret_body ? (int) status : -ENOMEM;
}

bool kube_namespace_missing(int status, const char *answer) {
        if (status != 404 || !answer)
                return false;
        json_t *a = json_loads(answer, 0, NULL);
        const char *kind = json_string_value(json_object_get(json_object_get(a, "details"), "kind"));
        bool missing = kind && streq(kind, "namespaces");
        json_decref(a);
        return missing;
}

int kubeconfig_get(const Kubeconfig *k, const char *path, unsigned timeout_ms, char **ret_body, char **ret_why) {
        return kubeconfig_request(k, "GET", path, NULL, NULL, timeout_ms, ret_body, ret_why);
}
