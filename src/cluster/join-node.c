/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "join-node.h"
#include "log.h"
#include "join-protocol.h"
#include "macro.h"
#include "net-util.h"
#include "node-pki.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

static bool asked(const Inventory *inv, size_t i, const Node *self) {
        return inv->nodes[i].roles[ROLE_MASTER] && inv->nodes + i != self;
}

int join_node_urls_from(const Inventory *inv, const Node *self, size_t start, char ***ret, size_t *ret_n) {
        size_t n = 0, k = 0;
        for (size_t i = 0; i < inv->n_nodes; i++)
                n += asked(inv, i, self);
        char **urls = calloc(n + 1, sizeof(char *));
        if (!urls)
                return -ENOMEM;
        /* The k-th master in name order goes to place k - start, around. */
        for (size_t i = 0; i < inv->n_nodes; i++)
                if (asked(inv, i, self)) {
                        size_t at = (k++ + n - start % n) % n;
                        if (!(urls[at] = ip_url("https", &inv->nodes[i].ip, JOIN_PORT, NULL))) {
                                join_node_urls_free(urls, n); /* the places not filled are NULL */
                                return -ENOMEM;
                        }
                }
        *ret = urls;
        *ret_n = n;
        return 0;
}

int join_node_urls(const Inventory *inv, const Node *self, char ***ret, size_t *ret_n) {
        uint32_t start;
        if (RAND_bytes((unsigned char *) &start, sizeof(start)) != 1)
                start = (uint32_t) getpid(); /* a spread is all this is for */
        return join_node_urls_from(inv, self, start, ret, ret_n);
}

void join_node_urls_free(char **urls, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(urls[i]);
        free(urls);
}

static void set_why(char **ret_why, const char *fmt, ...) _printf_(2, 3);
static void set_why(char **ret_why, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        str_set_vprintf(ret_why, fmt, ap);
        va_end(ap);
}

/* One request to the masters in turn, until one answers it (or refuses it for good). */
static int ask(const char *node, const JoinNodeOptions *o, char *const *urls, size_t n_urls, json_t *csrs,
               bool ca_bundle, json_t **ret, char **ret_from, char **ret_why) {
        bool said = false; /* *ret_why says which server was not this cluster's */
        for (size_t i = 0; i < n_urls; i++) {
                JoinClientOptions co = { .url = urls[i], .secret = o->secret, .ca_pem = o->ca_pem,
                                         .ca_hash = o->ca_hash, .hwaddr = o->hwaddr, .client_cert = o->client_cert,
                                         .timeout_sec = o->timeout_sec };
                long status = 0;
                _cleanup_free_ char *error = NULL;
                int r = o->client_cert ? join_client_renew(&co, node, csrs, ret, &status, &error)
                                       : join_client_join(&co, node, csrs, ca_bundle, ret, &status, &error);
                if (r == -ETIME && !o->client_cert && join_client_clock_offset(&co, &co.clock_offset) >= 0) {
                        /* This machine's clock does not fit the service's: asked again at the service's time,
                         * which its proof vouches for. */
                        log_debug("join: %s: this machine's clock is %+ld s off the service's: asking at its time",
                                  urls[i], co.clock_offset);
                        if (o->clock_offset)
                                *o->clock_offset = co.clock_offset;
                        free(error);
                        error = NULL;
                        r = join_client_join(&co, node, csrs, ca_bundle, ret, &status, &error);
                }
                log_debug("join: %s, %s: %s (HTTP %ld%s%s)", urls[i],
                          o->client_cert ? "by the client certificate" : "by the join secret",
                          r >= 0 ? "answered" : r == -EACCES ? "refused or busy" : r == -EBADMSG ? "did not prove the join secret"
                                                                                             : "does not answer",
                          status, error ? ": " : "", strempty(error));
                if (r >= 0) {
                        free(*ret_why);
                        *ret_why = NULL;
                        if (ret_from && !(*ret_from = strdup(urls[i])))
                                return -ENOMEM;
                        return 0;
                }
                if (r == -EACCES && (status == 429 || status >= 500))
                        continue; /* busy: another master, or later */
                if (r == -EACCES) {
                        set_why(ret_why, "%s refused this node (HTTP %ld: %s)%s", urls[i], status, error ?: "no reason given",
                                status != 401 ? ""
                                : o->client_cert ? "; the node's client certificate is not accepted: the next boot "
                                                   "joins again with the join secret"
                                                 : "; is this image's join secret the cluster's?");
                        return -EACCES;
                }
                if (r == -EBADMSG) {
                        /* Not the cluster's server (or not yet the right one): remember, try the others. */
                        set_why(ret_why, "%s did not prove that it knows this node's join secret%s: either this "
                                "image's join secret is not the cluster's, or the server is not the cluster's",
                                urls[i], o->ca_hash || o->ca_pem ? " or serves another CA" : "");
                        said = true;
                        continue;
                }
                if (r == -ETIME) {
                        set_why(ret_why, "%s and this node disagree on the time by more than its certificate and "
                                "requests allow, and it did not tell its time; set this node's clock", urls[i]);
                        said = true;
                        continue;
                }
                if (r != -EIO)
                        return set_why(ret_why, "cannot ask %s", urls[i]), r;
        }
        if (!said)
                set_why(ret_why, n_urls == 0 ? "no other master to join through" : "no master's join service answers yet");
        /* A server that does not prove the join secret, or serves another CA, or whose time cannot be had, is
         * not this cluster's, or not yet: the node waits for one that is (systemd retries), saying why. Only
         * an authentic service's refusal is final. */
        return -EAGAIN;
}

/* A renewal: the node's certificates under root that are due (all with force) are asked for anew, by
 * o->client_cert; the others are kept. */
typedef struct Renewal {
        const char *root;
        bool force;
        X509 *ca; /* the cluster's CA certificate on the node */
} Renewal;

/* The answer's "ca" as the plan's CA certificate copy, and each plan entry's text or certificate. */
static int certificates(const Inventory *inv, const Node *node, const JoinNodeOptions *o, const Renewal *renewal,
                        char *const *urls, size_t n_urls, RenderSet *out, char **ret_ip, char **ret_from,
                        char **ret_why) {
        PkiPlan plan = {};
        EVP_PKEY **keys = NULL;
        X509 **certs = NULL, *ca = NULL;
        char **copies = NULL;
        json_t *csrs = json_object(), *answer = NULL;
        int r = csrs ? pki_plan_node(inv, node, &plan) : -ENOMEM;
        if (r < 0)
                goto finish;
        keys = calloc(plan.n + 1, sizeof(*keys));
        certs = calloc(plan.n + 1, sizeof(*certs));
        copies = calloc(plan.n + 1, sizeof(*copies));
        r = keys && certs && copies ? 0 : -ENOMEM;
        for (size_t i = 0; i < plan.n && r >= 0; i++) {
                const PkiEntry *e = plan.entries + i;
                _cleanup_free_ char *name = NULL, *pem = NULL;
                if (e->kind == PKI_COPY)
                        continue;
                if (renewal && !renewal->force &&
                    pki_entry_current(e, &(const Bundle) { .ca = renewal->ca }, renewal->root, time(NULL)))
                        continue;
                r = join_cert_name(e, &name);
                r = r ?: pki_key_generate(pki_key_algorithm(inv), &keys[i]);
                r = r ?: join_csr_make(keys[i], node->name, &pem);
                if (r >= 0 && json_object_set_new(csrs, name, json_string(pem)) < 0)
                        r = -ENOMEM;
        }
        if (r < 0)
                goto finish;
        if (renewal && json_object_size(csrs) == 0) {
                set_why(ret_why, "no certificate is due");
                goto finish; /* nothing to ask for: out stays empty */
        }

        r = ask(node->name, o, urls, n_urls, csrs, false, &answer, ret_from, ret_why);
        if (r < 0)
                goto finish;

        if (ret_ip) {
                const char *name = json_string_value(json_object_get(answer, "node"));
                const char *ip = json_string_value(json_object_get(json_object_get(answer, "registered"), "ip"));
                if (!name || !ip || !streq(name, node->name)) {
                        set_why(ret_why, "the join service did not register this machine as %s (it answered %s)",
                                node->name, name ?: "no name");
                        r = -EBADMSG;
                        goto finish;
                }
                if (!(*ret_ip = strdup(ip))) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        json_t *issued = json_object_get(answer, "certificates"), *material = json_object_get(answer, "role_material");
        const char *ca_pem = json_string_value(json_object_get(answer, "ca"));
        r = ca_pem ? pki_cert_from_pem(ca_pem, strlen(ca_pem), &ca) : -EBADMSG;
        for (size_t i = 0; i < plan.n && r >= 0; i++) {
                const PkiEntry *e = plan.entries + i;
                if (e->kind == PKI_COPY) {
                        /* The CA certificate is the answer's; everything else the role-scoped material. */
                        const char *text = e->source == SRC_CA_CRT ? ca_pem
                                                                    : json_string_value(json_object_get(material, e->path));
                        if (text && !(copies[i] = strdup(text)))
                                r = -ENOMEM;
                        continue;
                }
                if (!keys[i])
                        continue; /* kept: not asked for */
                _cleanup_free_ char *name = NULL;
                r = join_cert_name(e, &name);
                const char *pem = r >= 0 ? json_string_value(json_object_get(issued, name)) : NULL;
                if (r >= 0 && !pem) {
                        set_why(ret_why, "the join service did not issue %s", name);
                        r = -EBADMSG;
                }
                r = r ?: pki_cert_from_pem(pem, strlen(pem), &certs[i]);
                /* At the service's time when this machine's clock did not fit it. */
                time_t now = time(NULL) + (o->clock_offset ? *o->clock_offset : 0);
                if (r >= 0 && e->ca == 0 && pki_cert_verify(certs[i], ca, now) < 0) {
                        set_why(ret_why, "the certificate issued for %s does not verify against the cluster's CA", name);
                        r = -EBADMSG;
                }
        }
        r = r ?: pki_node_files_issued(inv, &plan, ca, keys, certs, copies, out);
        if (r == -EBADMSG && !*ret_why)
                set_why(ret_why, "a certificate in the join service's answer is not for the key it was asked for");
finish:
        for (size_t i = 0; i < plan.n; i++) {
                if (keys)
                        EVP_PKEY_free(keys[i]);
                if (certs)
                        X509_free(certs[i]);
                if (copies)
                        secret_free(copies[i]);
        }
        free(keys);
        free(certs);
        free(copies);
        X509_free(ca);
        json_decref(csrs);
        json_decref(answer);
        pki_plan_done(&plan);
        return r;
}

int join_node_certificates(const Inventory *inv, const Node *node, const JoinNodeOptions *o, char *const *urls,
                           size_t n_urls, RenderSet *out, char **ret_from, char **ret_why) {
        JoinNodeOptions plain = *o;
        plain.hwaddr = NULL;
        plain.client_cert = NULL;
        return certificates(inv, node, &plain, NULL, urls, n_urls, out, NULL, ret_from, ret_why);
}

int join_node_register(const Inventory *inv, const Node *node, const JoinNodeOptions *o, char *const *urls,
                       size_t n_urls, RenderSet *out, char **ret_ip, char **ret_from, char **ret_why) {
        if (!o->hwaddr || o->client_cert)
                return -EINVAL;
        return certificates(inv, node, o, NULL, urls, n_urls, out, ret_ip, ret_from, ret_why);
}

int join_node_renew(const Inventory *inv, const Node *node, const JoinNodeOptions *o, const char *root, bool force,
                    char *const *urls, size_t n_urls, RenderSet *out, char **ret_from, char **ret_why) {
        if (!o->client_cert || !o->ca_pem || o->hwaddr)
                return -EINVAL;
        X509 *ca = NULL;
        int r = pki_cert_from_pem(o->ca_pem, strlen(o->ca_pem), &ca);
        if (r < 0)
                return r;
        Renewal renewal = { .root = root, .force = force, .ca = ca };
        r = certificates(inv, node, o, &renewal, urls, n_urls, out, NULL, ret_from, ret_why);
        X509_free(ca);
        return r;
}

int join_node_bundle(const Node *node, const JoinNodeOptions *o, char *const *urls, size_t n_urls,
                     const char *dest, RenderSet *out, char **ret_from, char **ret_why) {
        json_t *csrs = json_object(), *answer = NULL;
        int r = csrs ? ask(node->name, o, urls, n_urls, csrs, true, &answer, ret_from, ret_why) : -ENOMEM;
        json_t *bundle = json_object_get(answer, "ca_bundle");
        if (r >= 0 && !json_is_object(bundle)) {
                set_why(ret_why, "the join service's answer holds no secrets bundle");
                r = -EBADMSG;
        }
        const char *rel;
        json_t *v;
        if (r >= 0)
                json_object_foreach(bundle, rel, v) {
                        /* Only plain relative names inside the bundle: an answer must not write elsewhere. */
                        if (!json_is_string(v) || rel[0] == '/' || strstr(rel, "..") || !*rel) {
                                set_why(ret_why, "the join service's bundle names a bad path");
                                r = -EBADMSG;
                                break;
                        }
                        _cleanup_free_ char *path = strprintf("%s/%s", dest, rel);
                        StrBuf b = {};
                        r = path ? strbuf_appendn(&b, json_string_value(v), json_string_length(v)) : -ENOMEM;
                        r = r ?: render_set_add(out, path, 0600, &b);
                        if (b.s)
                                explicit_bzero(b.s, b.len);
                        strbuf_done(&b);
                        if (r < 0)
                                break;
                }
        if (r >= 0)
                render_set_sort(out);
        json_decref(csrs);
        json_decref(answer);
        return r;
}

int join_node_ping(const char *url, const char *secret, long timeout_sec) {
        JoinClientOptions co = { .url = url, .secret = secret, .timeout_sec = timeout_sec };
        _cleanup_free_ char *ca = NULL;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        int r = join_client_cluster_info(&co, &ca, NULL);
        curl_global_cleanup();
        return r == -EIO ? -EAGAIN : r;
}
