/* SPDX-License-Identifier: Apache-2.0 */
/* The stage kube-bootstrap: what kubeadm's "bootstrap-token" phase puts into a new cluster, so that kubelets
 * can join with the bootstrap token (TLS bootstrapping) and renew their client certificates:
 *   Secret kube-system/bootstrap-token-ID      the inventory's (or bundle's) token, for authentication and
 *                                              signing, in the group system:bootstrappers:kubeadm:default-node-token
 *   ClusterRoleBinding kubeadm:kubelet-bootstrap                  that group may create CSRs
 *   ClusterRoleBinding kubeadm:node-autoapprove-bootstrap         ... which are approved automatically
 *   ClusterRoleBinding kubeadm:node-autoapprove-certificate-rotation  nodes' renewals too
 * Created through the API server with a system:masters client certificate made in memory from the bundle's
 * CA and valid for one day (the shortest the issuer makes; Kubernetes cannot revoke it), never written; an
 * object that exists is left as it is. */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "bootstrap.h"
#include "bundle.h"
#include "fs-util.h"
#include "kubeconfig.h"
#include "node-pki.h"
#include "paths.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

#define BOOTSTRAP_GROUP "system:bootstrappers:kubeadm:default-node-token"

typedef struct Client {
        CURL *curl;
        struct curl_slist *headers;
        Kubeconfig kc; /* this master's API server, the in-memory certificate */
} Client;

static void client_done(Client *k) {
        if (k->curl)
                curl_easy_cleanup(k->curl);
        curl_slist_free_all(k->headers);
        kubeconfig_done(&k->kc);
        *k = (Client) {};
}

static size_t discard(char *p, size_t size, size_t nmemb, void *userdata) {
        (void) p, (void) userdata;
        return size * nmemb;
}

/* The client certificate: kubeadm's super-admin, for one day and only in memory. */
static int client_init(BootstrapContext *c, const Bundle *b, Client *ret) {
        Client k = {};
        size_t size;
        k.kc.server = ip_url("https", &c->node->ip, c->inv->kubernetes.api_server_port.v, NULL);
        static const char *const orgs[] = { "system:masters", NULL };
        CertSpec spec = { .common_name = "clusterboot:kube-bootstrap", .organizations = orgs,
                          .usage = CERT_USAGE_CLIENT, .validity_days = 1 };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        int r = k.kc.server ? pki_key_generate(KEY_ECDSA_P256, &key) : -ENOMEM;
        r = r ?: pki_cert_issue(key, &spec, b->ca, b->ca_key, &cert);
        r = r ?: pki_cert_to_pem(cert, &k.kc.cert_pem, &size);
        r = r ?: pki_key_to_pem(key, &k.kc.key_pem, &size);
        r = r ?: pki_cert_to_pem(b->ca, &k.kc.ca_pem, &size);
        if (r >= 0 && !(k.curl = curl_easy_init()))
                r = -ENOMEM;
        if (r >= 0 && !(k.headers = curl_slist_append(NULL, "Content-Type: application/json")))
                r = -ENOMEM;
        if (r < 0) {
                client_done(&k);
                return r;
        }
        *ret = k;
        return 0;
}

/* POST one object; 0 created or there already, -EAGAIN the API server does not answer (yet). */
static int create(BootstrapContext *c, Client *k, const char *path, json_t *obj, bool *ret_created) {
        _cleanup_free_ char *url = strprintf("%s%s", k->kc.server, path);
        _cleanup_free_ char *body = json_dumps(obj, JSON_COMPACT);
        char errbuf[CURL_ERROR_SIZE] = "";
        long status = 0;
        if (!url || !body)
                return -ENOMEM;
        CURL *h = k->curl;
        curl_easy_reset(h);
        CURLcode e = kubeconfig_curl_setup(&k->kc, h, url, c->timeout_ms, errbuf);
        e = e ?: curl_easy_setopt(h, CURLOPT_HTTPHEADER, k->headers);
        e = e ?: curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        e = e ?: curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        e = e ?: curl_easy_perform(h);
        if (e == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (e != CURLE_OK || status >= 500 || status == 429) {
                bootstrap_message(c, "kube-apiserver does not take POST %s yet (%s)", path,
                                  e != CURLE_OK ? (errbuf[0] ? errbuf : curl_easy_strerror(e)) : "HTTP 5xx/429");
                return -EAGAIN;
        }
        if (status == 201 || status == 200 || status == 409) {
                *ret_created = status != 409;
                return 0;
        }
        bootstrap_message(c, "kube-apiserver refused POST %s: HTTP %ld", path, status);
        return -EACCES;
}

static json_t *binding(const char *name, const char *role, const char *group) {
        return json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s,s:s},s:[{s:s,s:s,s:s}]}", "apiVersion",
                         "rbac.authorization.k8s.io/v1", "kind", "ClusterRoleBinding", "metadata", "name", name,
                         "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", role,
                         "subjects", "apiGroup", "rbac.authorization.k8s.io", "kind", "Group", "name", group);
}

int bootstrap_kube_bootstrap(BootstrapContext *c) {
        _cleanup_free_ char *dir = path_join_root(c->root, SECRETS_BUNDLE_DIR);
        Bundle b = {};
        Client k = {};
        int r = dir ? bundle_load(dir, &b, NULL) : -ENOMEM;
        if (r < 0) {
                bootstrap_message(c, "the secrets bundle is not on this master (%s): the stage secrets comes first",
                                  SECRETS_BUNDLE_DIR);
                return r;
        }
        const char *token = b.bootstrap_token, *dot = token ? strchr(token, '.') : NULL;
        if (!dot) {
                bootstrap_message(c, "no bootstrap token in the bundle or the inventory (cluster.bootstrap.token): "
                                     "kubelets join with the certificates of the join service only");
                bundle_done(&b);
                return 0;
        }
        _cleanup_free_ char *id = strndup(token, (size_t) (dot - token));
        _cleanup_free_ char *secret_name = id ? strprintf("bootstrap-token-%s", id) : NULL;
        json_t *objs[4] = {
                json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "apiVersion", "v1", "kind",
                          "Secret", "metadata", "name", secret_name ?: "", "namespace", "kube-system", "type",
                          "bootstrap.kubernetes.io/token", "stringData", "description",
                          "clusterboot: kubelet TLS bootstrapping", "token-id", id ?: "", "token-secret", dot + 1,
                          "usage-bootstrap-authentication", "true", "usage-bootstrap-signing", "true",
                          "auth-extra-groups", BOOTSTRAP_GROUP),
                binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", BOOTSTRAP_GROUP),
                binding("kubeadm:node-autoapprove-bootstrap",
                        "system:certificates.k8s.io:certificatesigningrequests:nodeclient", BOOTSTRAP_GROUP),
                binding("kubeadm:node-autoapprove-certificate-rotation",
                        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"),
        };
        static const char *const paths[4] = {
                "/api/v1/namespaces/kube-system/secrets",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        };
        unsigned created = 0;
        r = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
        r = r ?: client_init(c, &b, &k);
        for (size_t i = 0; i < ELEMENTSOF(objs) && r >= 0; i++) {
                bool made = false;
                r = objs[i] ? create(c, &k, paths[i], objs[i], &made) : -ENOMEM;
                created += made;
        }
        if (r >= 0)
                bootstrap_message(c, "the bootstrap token %s and the RBAC for kubelet TLS bootstrapping and CSR "
                                     "auto-approval are in place (%u of 4 objects created now)", id, created);
        else if (!c->message)
                bootstrap_message(c, "cannot set up kubelet TLS bootstrapping");
        for (size_t i = 0; i < ELEMENTSOF(objs); i++)
                json_decref(objs[i]);
        client_done(&k);
        curl_global_cleanup();
        bundle_done(&b);
        return r;
}
