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

int kube_admin_credentials(BootstrapContext *c, const Bundle *b, const char *user, Kubeconfig *ret) {
        Kubeconfig k = {};
        size_t size;
        k.server = ip_url("https", &c->node->ip, c->inv->kubernetes.api_server_port.v, NULL);
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

int kube_admin_load(BootstrapContext *c, const char *user, Kubeconfig *ret) {
        _cleanup_free_ char *dir = path_join_root(c->root, SECRETS_BUNDLE_DIR);
        Bundle b = {};
        int r = dir ? bundle_load(dir, &b, NULL) : -ENOMEM;
        if (r < 0) {
                bootstrap_message(c, "the secrets bundle is not on this master (%s): the stage secrets comes first",
                                  SECRETS_BUNDLE_DIR);
                return r;
        }
        r = kube_admin_credentials(c, &b, user, ret);
        bundle_done(&b);
        return r;
}

/* POST one object; 0 created or there already, -EAGAIN the API server does not answer (yet). */
static int create(BootstrapContext *c, const Kubeconfig *k, const char *path, json_t *obj, bool *ret_created) {
        _cleanup_free_ char *body = json_dumps(obj, JSON_COMPACT), *answer = NULL, *why = NULL;
        if (!body)
                return -ENOMEM;
        int status = kubeconfig_request(k, "POST", path, "application/json", body, c->timeout_ms, &answer, &why);
        if (status == -ENOMEM)
                return status;
        if (status < 0 || status >= 500 || status == 429) {
                bootstrap_message(c, "kube-apiserver does not take POST %s yet (%s)", path,
                                  status < 0 ? strempty(why) : "HTTP 5xx/429");
                return -EAGAIN;
        }
        if (status == 201 || status == 200 || status == 409) {
                *ret_created = status != 409;
                return 0;
        }
        bootstrap_message(c, "kube-apiserver refused POST %s: HTTP %d", path, status);
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
        Kubeconfig k = {};
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
        r = r ?: kube_admin_credentials(c, &b, "clusterboot:kube-bootstrap", &k);
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
        kubeconfig_done(&k);
        curl_global_cleanup();
        bundle_done(&b);
        return r;
}
