/* SPDX-License-Identifier: Apache-2.0 */
/* The stage kube-bootstrap: the objects clusterboot keeps in Kubernetes (kube_objects(): what kubeadm's
 * "bootstrap-token" phase puts into a new cluster so that kubelets can join with the bootstrap token and renew
 * their client certificates, and the cluster DNS Service kube-dns with its EndpointSlice and CoreDNS's RBAC),
 * applied server-side (fieldManager clusterboot): made when missing, brought back to what the inventory says
 * when changed, untouched when right. Through the API server with a system:masters client certificate made in
 * memory from the bundle's CA and valid for one day (the shortest the issuer makes; Kubernetes cannot revoke
 * it), never written. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "bootstrap.h"
#include "bundle.h"
#include "fs-util.h"
#include "kube-objects.h"
#include "kubeconfig.h"
#include "inventory.h"
#include "node-pki.h"
#include "paths.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

int kube_admin_credentials(BootstrapContext *c, const Bundle *b, const char *user, Kubeconfig *ret) {
        Kubeconfig k = {};
        size_t size;
        k.server = node_api_url(c->inv, c->node); /* a master: its own API server */
        static const char *const orgs[] = { "system:masters", NULL };
        CertSpec spec = { .common_name = user, .organizations = orgs, .usage = CERT_USAGE_CLIENT, .validity_days = 1 };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        int r = k.server ? pki_key_generate(KEY_ECDSA_P256, &key) : -ENOMEM;
        r = r ?: pki_cert_issue(key, &spec, b->ca, b->ca_key, &cert);
        r = r ?: pki_cert_to_pem(cert, &k.cert_pem, &size);
        r = r ?: pki_key_to_pem(key, &k.key_pem, &size);
        r = r ?: pki_cert_to_pem(b->ca, &k.ca_pem, &size);
        if (r < 0) {
                kubeconfig_done(&k);
                return r;
        }
        *ret = k;
        return 0;
}

/* The bundle a master holds once its stage secrets has run. */
static int master_bundle(BootstrapContext *c, Bundle *ret) {
        _cleanup_free_ char *dir = path_join_root(c->root, SECRETS_BUNDLE_DIR);
        int r = dir ? bundle_load(dir, ret, NULL) : -ENOMEM;
        if (r < 0 && r != -ENOMEM)
                bootstrap_message(c, "the secrets bundle is not on this master (%s): the stage secrets comes first",
                                  SECRETS_BUNDLE_DIR);
        return r;
}

int kube_admin_load(BootstrapContext *c, const char *user, Kubeconfig *ret) {
        Bundle b = {};
        int r = master_bundle(c, &b);
        if (r < 0)
                return r;
        r = kube_admin_credentials(c, &b, user, ret);
        bundle_done(&b);
        return r;
}

/* Server-side apply of one object (kubectl apply --server-side): made when missing, brought to what
 * clusterboot renders when not, left when it is. 0 done (*ret_created when it was made now), -EAGAIN the API
 * server does not answer (yet), or has not made the object's namespace yet. */
static int apply(BootstrapContext *c, const Kubeconfig *k, const char *path, json_t *obj, bool *ret_created) {
        _cleanup_free_ char *body = json_dumps(obj, JSON_COMPACT), *answer = NULL, *why = NULL;
        _cleanup_free_ char *url = strprintf("%s?fieldManager=clusterboot&force=true", path);
        if (!body || !url)
                return -ENOMEM;
        /* JSON is YAML: the apply patch type takes either. */
        int status = kubeconfig_request(k, "PATCH", url, "application/apply-patch+yaml", body, c->timeout_ms, &answer,
                                        &why);
        if (status == -ENOMEM)
                return status;
        if (status < 0 || status >= 500 || status == 429) {
                bootstrap_message(c, "kube-apiserver does not take the apply of %s yet (%s)", path,
                                  status < 0 ? strempty(why) : "HTTP 5xx/429");
                return -EAGAIN;
        }
        if (status == 201 || status == 200) {
                *ret_created = status == 201;
                return 0;
        }
        if (kube_namespace_missing(status, answer)) {
                bootstrap_message(c, "kube-apiserver has not made the namespace of %s yet", path);
                return -EAGAIN;
        }
        bootstrap_message(c, "kube-apiserver refused the apply of %s: HTTP %d: %.300s", path, status, strempty(answer));
        return -EACCES;
}

int bootstrap_kube_bootstrap(BootstrapContext *c) {
        Bundle b = {};
        Kubeconfig k = {};
        int r = master_bundle(c, &b);
        if (r < 0)
                return r;
        /* Without a token, kubelets join with the join service's certificates only: no Secret, still the
         * bindings and the cluster DNS. */
        const char *token = b.bootstrap_token, *dot = token ? strchr(token, '.') : NULL;
        _cleanup_free_ char *id = dot ? strndup(token, (size_t) (dot - token)) : NULL;
        json_t *objs = kube_objects(c->inv, id, id ? dot + 1 : NULL), *item;
        size_t i, created = 0;
        bool dns = false;
        r = objs ? 0 : -ENOMEM;
        r = r ?: curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
        r = r ?: kube_admin_credentials(c, &b, "clusterboot:kube-bootstrap", &k);
        json_array_foreach(objs, i, item) {
                bool made = false;
                if (r < 0)
                        break;
                r = apply(c, &k, strempty(json_string_value(json_object_get(item, "path"))), json_object_get(item, "object"),
                          &made);
                created += made;
                dns = dns || strstr(strempty(json_string_value(json_object_get(item, "path"))), "/services/kube-dns");
        }
        if (r >= 0)
                bootstrap_message(c, "%s, the RBAC for kubelet TLS bootstrapping and CSR auto-approval%s are in place "
                                     "(%zu of %zu objects created now)",
                                  id ? "the bootstrap token" : "no bootstrap token (cluster.bootstrap.token)",
                                  dns ? ", and the cluster DNS Service kube-dns" : "", created,
                                  json_array_size(objs));
        else if (!c->message)
                bootstrap_message(c, "cannot set up kubelet TLS bootstrapping and the cluster DNS Service");
        json_decref(objs);
        kubeconfig_done(&k);
        curl_global_cleanup();
        bundle_done(&b);
        return r;
}
