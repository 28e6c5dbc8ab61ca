/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include <curl/curl.h>

#include "macro.h"

/* A kubeconfig as a client uses it: the current context's server, CA and client certificate and key, each
 * either embedded (*-data, base64) or in a file the kubeconfig names -- which is how the kubelet writes its
 * kubelet.conf after TLS bootstrapping (client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem).
 * Token users are not read: nothing here needs one. */
typedef struct Kubeconfig {
        char *server;   /* https://IP:PORT */
        char *ca_pem;   /* the CA that verifies the server */
        char *cert_pem; /* the client certificate */
        char *key_pem;  /* its key (a secret: wiped when freed) */
} Kubeconfig;

/* Reads path (a path on the node, under root; NULL root is /). Files the kubeconfig names are read under
 * root too. -ENOENT: no such kubeconfig, or a file it names does not exist (yet); -EBADMSG: it is not one
 * this can use. *ret_why says which, and why. */
int kubeconfig_load(const char *root, const char *path, Kubeconfig *ret, char **ret_why);
/* The same for a kubeconfig read already: data (size bytes, NUL-terminated, taken and wiped) is path's. */
int kubeconfig_parse(const char *root, const char *path, char *data, size_t size, Kubeconfig *ret, char **ret_why);
void kubeconfig_done(Kubeconfig *k);

/* Sets up h for a request to url as the kubeconfig's user: HTTPS only, no proxy, the server verified against
 * the kubeconfig's CA and nothing else, timeout_ms in all, curl's words for an error into errbuf
 * (CURL_ERROR_SIZE). k must outlive the request. */
CURLcode kubeconfig_curl_setup(const Kubeconfig *k, CURL *h, const char *url, unsigned timeout_ms, char *errbuf);

/* GET path ("/api/v1/nodes/NAME") from the kubeconfig's server as its user, the server verified against its
 * CA. Returns the HTTP status (and the body, NUL-terminated, at most 1 MiB), or -EAGAIN when the server
 * does not answer, with *ret_why saying what curl saw. */
int kubeconfig_get(const Kubeconfig *k, const char *path, unsigned timeout_ms, char **ret_body, char **ret_why);

/* Whether the API server answered status with answer (its Status object) because the object's namespace
 * does not exist yet: 404 with details.kind "namespaces". kube-system and kube-public are made by the API
 * server itself shortly after it starts serving, so a write into them right then is worth trying again. */
bool kube_namespace_missing(int status, const char *answer);

/* method ("POST", "PATCH", ...) path with body_in (NULL: none) of content_type, as kubeconfig_get(). */
int kubeconfig_request(const Kubeconfig *k, const char *method, const char *path, const char *content_type,
                       const char *body_in, unsigned timeout_ms, char **ret_body, char **ret_why);
