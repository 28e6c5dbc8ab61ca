/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "join-client.h"
#include "join-protocol.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

/* The largest answer taken: /v1/inventory's carries the inventory and up to REGISTRY_MAX registrations of
 * about 80 bytes each. */
#define ANSWER_MAX (4 * 1024 * 1024)

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata) {
        StrBuf *b = userdata;
        size_t n = size * nmemb;
        if (b->len + n > ANSWER_MAX || strbuf_appendn(b, p, n) < 0)
                return 0; /* makes curl fail the transfer */
        return n;
}

/* The server's certificate is judged at the join service's time, not at this machine's. */
static CURLcode at_service_time(CURL *c, void *ssl_ctx, void *userdata) {
        const JoinClientOptions *o = userdata;
        X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(ssl_ctx), time(NULL) + o->clock_offset);
        return CURLE_OK;
}

/* One HTTPS request; verifies the server against ca_pem, or not at all when it is NULL (then the caller
 * must check a proof). -ETIME when the server's certificate is not valid yet, or any more, by the clock. */
static int http_request(const JoinClientOptions *o, const char *url, const char *post, long *ret_status,
                        char **ret_body) {
        CURL *c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        StrBuf answer = {};
        struct curl_blob ca = { .data = (void *) o->ca_pem, .len = o->ca_pem ? strlen(o->ca_pem) : 0,
                                .flags = CURL_BLOB_COPY };
        struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
        CURLcode e = curl_easy_setopt(c, CURLOPT_URL, url);
        e = e ?: curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
        e = e ?: curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_sec > 0 ? o->timeout_sec : 30L);
        e = e ?: curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
        if (o->ca_pem) {
                /* Only the cluster's CA: not also the system's (curl's default CA path). */
                e = e ?: curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
                e = e ?: curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
                if (o->clock_offset != 0) {
                        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, at_service_time);
                        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, (void *) o);
                }
        }
        else {
                e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
                e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (o->client_cert) {
                e = e ?: curl_easy_setopt(c, CURLOPT_SSLCERT, o->client_cert);
                e = e ?: curl_easy_setopt(c, CURLOPT_SSLKEY, o->client_cert);
        }
        if (post) {
                e = e ?: curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
                e = e ?: curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        }
        e = e ?: curl_easy_perform(c);
        long status = 0, verified = X509_V_OK;
        if (e == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        else if (e == CURLE_PEER_FAILED_VERIFICATION)
                curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &verified);
        curl_slist_free_all(headers);
        curl_easy_cleanup(c);
        if (e != CURLE_OK) {
                strbuf_done(&answer);
                if (verified == X509_V_ERR_CERT_NOT_YET_VALID || verified == X509_V_ERR_CERT_HAS_EXPIRED)
                        return -ETIME;
                /* A server whose certificate the CA we trust did not sign is not the cluster's. */
                return e == CURLE_PEER_FAILED_VERIFICATION ? -EBADMSG : -EIO;
        }
        *ret_status = status;
        *ret_body = strbuf_steal(&answer);
        return 0;
}

static char *error_reason(const char *body) {
        _cleanup_(json_decrefp) json_t *j = json_loads(body, 0, NULL);
        const char *s = json_string_value(json_object_get(j, "error"));
        return str_escape_display(s ?: "(no reason given)");
}

int join_client_cluster_info(const JoinClientOptions *o, char **ret_ca, time_t *ret_time) {
        char nonce[JOIN_NONCE_HEX + 1];
        int r = join_nonce_generate(nonce);
        if (r < 0)
                return r;
        _cleanup_free_ char *url = strprintf("%s/v1/cluster-info?nonce=%s", o->url, nonce);
        _cleanup_free_ char *body = NULL;
        _cleanup_(json_decrefp) json_t *info = NULL;
        long status;
        if (!url)
                return -ENOMEM;
        r = http_request(o, url, NULL, &status, &body);
        if (r < 0)
                return r;
        if (status == 429 || status >= 500)
                return -EIO; /* busy: like no answer */
        if (status != 200)
                return -EBADMSG;
        r = join_response_verify(body, strlen(body), o->secret, nonce, &info);
        if (r < 0)
                return -EBADMSG;
        const char *ca = json_string_value(json_object_get(info, "ca"));
        json_t *t = json_object_get(info, "time");
        if (!ca || (ret_time && !json_is_integer(t)))
                return -EBADMSG;
        char *s = strdup(ca);
        if (!s)
                return -ENOMEM;
        *ret_ca = s;
        if (ret_time)
                *ret_time = (time_t) json_integer_value(t);
        return 0;
}

int join_client_clock_offset(const JoinClientOptions *o, long *ret) {
        /* Not by TLS: its dates are what does not fit. By the proof, and the CA it names. */
        JoinClientOptions opts = { .url = o->url, .secret = o->secret, .timeout_sec = o->timeout_sec };
        _cleanup_free_ char *ca = NULL;
        time_t t;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        int r = join_client_cluster_info(&opts, &ca, &t);
        if (r >= 0 && o->ca_pem) {
                _cleanup_(X509_freep) X509 *want = NULL;
                char hash[72];
                r = pki_cert_from_pem(o->ca_pem, strlen(o->ca_pem), &want);
                r = r ?: pki_spki_hash(want, hash);
                r = r < 0 ? -EBADMSG : join_check_ca_hash(ca, hash) < 0 ? -EBADMSG : 0;
        }
        if (r >= 0)
                *ret = (long) (t - time(NULL));
        curl_global_cleanup();
        return r;
}

int join_client_join(const JoinClientOptions *o, const char *node, json_t *csrs, bool ca_bundle, json_t **ret,
                     long *ret_status, char **ret_error) {
        _cleanup_free_ char *learned = NULL, *url = NULL, *body = NULL;
        _cleanup_secret_free_ char *answer = NULL;
        char nonce[JOIN_NONCE_HEX + 1];
        long status = 0;
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        JoinClientOptions opts = *o;
        if (!opts.ca_pem) {
                r = join_client_cluster_info(o, &learned, NULL);
                if (r < 0)
                        goto finish;
                opts.ca_pem = learned;
        }
        if (opts.ca_hash && join_check_ca_hash(opts.ca_pem, opts.ca_hash) < 0) {
                r = -EBADMSG;
                goto finish;
        }
        url = strprintf("%s/v1/join", o->url);
        r = url ? join_nonce_generate(nonce) : -ENOMEM;
        r = r ?: join_request_build(o->secret, node, o->hwaddr, time(NULL) + o->clock_offset, nonce, csrs, ca_bundle,
                                    &body);
        r = r ?: http_request(&opts, url, body, &status, &answer);
        if (r < 0)
                goto finish;
        if (ret_status)
                *ret_status = status;
        if (status != 200) {
                _cleanup_free_ char *reason = error_reason(answer);
                /* The server's clock and ours are more than JOIN_MAX_SKEW apart. */
                r = status == 401 && streq_ptr(reason, "stale") ? -ETIME : -EACCES;
                if (ret_error)
                        *ret_error = TAKE_PTR(reason);
                goto finish;
        }
        r = join_response_verify(answer, strlen(answer), o->secret, nonce, ret) < 0 ? -EBADMSG : 0;
finish:
        curl_global_cleanup();
        return r;
}

int join_client_cluster_state(const JoinClientOptions *o, const char *node, json_t **ret) {
        _cleanup_free_ char *url = strprintf("%s/v1/cluster-state", o->url), *body = NULL, *answer = NULL;
        char nonce[JOIN_NONCE_HEX + 1];
        long status = 0;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        /* Not by TLS: a master without a bundle serves a certificate of its own making. By the proof. */
        JoinClientOptions opts = { .url = o->url, .secret = o->secret, .timeout_sec = o->timeout_sec };
        int r = url ? join_nonce_generate(nonce) : -ENOMEM;
        r = r ?: join_request_build(o->secret, node, NULL, time(NULL) + o->clock_offset, nonce, NULL, false, &body);
        r = r ?: http_request(&opts, url, body, &status, &answer);
        if (r >= 0 && (status == 429 || status >= 500 || status == 404))
                r = -EIO; /* busy, or a join service older than this endpoint: like no answer */
        else if (r >= 0 && status != 200)
                r = -EACCES;
        else if (r >= 0 && join_response_verify(answer, strlen(answer), o->secret, nonce, ret) < 0)
                r = -EBADMSG;
        curl_global_cleanup();
        return r;
}

/* POST body to path with the client certificate, the server trusted by o->ca_pem only: the answer's JSON
 * object. */
static int mtls_post(const JoinClientOptions *o, const char *path, const char *body, json_t **ret, long *ret_status,
                     char **ret_error) {
        _cleanup_free_ char *url = NULL;
        _cleanup_secret_free_ char *answer = NULL;
        long status = 0;
        if (!o->ca_pem || !o->client_cert)
                return -EINVAL;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        url = strprintf("%s%s", o->url, path);
        int r = url ? http_request(o, url, body, &status, &answer) : -ENOMEM;
        if (r >= 0 && ret_status)
                *ret_status = status;
        if (r >= 0 && status != 200) {
                if (ret_error)
                        *ret_error = error_reason(answer);
                r = -EACCES;
        }
        if (r >= 0) {
                json_t *j = json_loads(answer, 0, NULL);
                if (!json_is_object(j)) {
                        json_decref(j);
                        r = -EBADMSG;
                } else
                        *ret = j;
        }
        curl_global_cleanup();
        return r;
}

int join_client_renew(const JoinClientOptions *o, const char *node, json_t *csrs, json_t **ret, long *ret_status,
                      char **ret_error) {
        _cleanup_free_ char *body = NULL;
        int r = join_renew_build(node, csrs, &body);
        return r < 0 ? r : mtls_post(o, "/v1/renew", body, ret, ret_status, ret_error);
}

int join_client_inventory(const JoinClientOptions *o, const char *node, json_t **ret, long *ret_status,
                          char **ret_error) {
        _cleanup_(json_decrefp) json_t *req = json_pack("{s:s}", "node", node);
        _cleanup_free_ char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
        return body ? mtls_post(o, "/v1/inventory", body, ret, ret_status, ret_error) : -ENOMEM;
}
