/* SPDX-License-Identifier: Apache-2.0 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "etcd-client.h"
#include "macro.h"
#include "string-util.h"
#include "banned.h"

/* etcd's answers are a few kB; anything this big is not etcd. */
#define RESPONSE_MAX (1024 * 1024)

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);

static void member_done(EtcdMember *m) {
        free(m->name);
        strv_free_n(m->peer_urls, m->n_peer_urls);
        strv_free_n(m->client_urls, m->n_client_urls);
        *m = (EtcdMember) {};
}

void etcd_member_list_done(EtcdMemberList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                member_done(l->members + i);
        free(l->members);
        *l = (EtcdMemberList) {};
}

/* ---- parsing ------------------------------------------------------------------------------------ */

/* protobuf's JSON mapping writes uint64 as a decimal string. */
static int parse_uint64(const json_t *v, uint64_t *ret) {
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) > 20)
                return -EBADMSG;
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '9')
                        return -EBADMSG;
        errno = 0;
        char *end;
        unsigned long long u = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return -EBADMSG;
        *ret = (uint64_t) u;
        return 0;
}

/* An absent array is an empty one: protobuf's JSON mapping leaves out empty fields. */
static int parse_strv(const json_t *a, char ***ret, size_t *ret_n) {
        if (!a) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (!json_is_array(a))
                return -EBADMSG;
        size_t n = json_array_size(a);
        char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *s = json_string_value(json_array_get(a, i));
                v[i] = s ? strdup(s) : NULL;
                if (!v[i]) {
                        strv_free_n(v, i);
                        return s ? -ENOMEM : -EBADMSG;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static int parse_member(const json_t *o, EtcdMember *ret) {
        if (!json_is_object(o))
                return -EBADMSG;
        EtcdMember m = {};
        const json_t *name = json_object_get(o, "name"), *learner = json_object_get(o, "isLearner");
        int r = parse_uint64(json_object_get(o, "ID"), &m.id);
        if (r >= 0 && ((name && !json_is_string(name)) || (learner && !json_is_boolean(learner))))
                r = -EBADMSG;
        if (r >= 0) {
                /* A member added but not started has no name: "" rather than NULL for the callers. */
                m.name = strdup(name ? json_string_value(name) : "");
                r = m.name ? 0 : -ENOMEM;
        }
        r = r ?: parse_strv(json_object_get(o, "peerURLs"), &m.peer_urls, &m.n_peer_urls);
        r = r ?: parse_strv(json_object_get(o, "clientURLs"), &m.client_urls, &m.n_client_urls);
        if (r < 0) {
                member_done(&m);
                return r;
        }
        m.is_learner = json_is_true(learner);
        *ret = m;
        return 0;
}

static json_t *parse_json(const char *body, size_t size) {
        if (!body)
                return NULL;
        json_error_t e;
        return json_loadb(body, size, JSON_REJECT_DUPLICATES, &e);
}

int etcd_parse_member_list(const char *body, size_t size, uint64_t *ret_added_id, EtcdMemberList *ret) {
        _cleanup_(json_decrefp) json_t *j = parse_json(body, size);
        if (!json_is_object(j))
                return -EBADMSG;

        _cleanup_(etcd_member_list_done) EtcdMemberList l = {};
        uint64_t added = 0;
        int r = parse_uint64(json_object_get(json_object_get(j, "header"), "cluster_id"), &l.cluster_id);
        if (r < 0)
                return r;
        if (ret_added_id) {
                EtcdMember m;
                r = parse_member(json_object_get(j, "member"), &m);
                if (r < 0)
                        return r;
                added = m.id;
                member_done(&m);
        }

        const json_t *members = json_object_get(j, "members");
        if (members && !json_is_array(members))
                return -EBADMSG;
        size_t n = json_array_size(members);
        l.members = calloc(n ?: 1, sizeof(EtcdMember));
        if (!l.members)
                return -ENOMEM;
        for (; l.n < n; l.n++) {
                r = parse_member(json_array_get(members, l.n), l.members + l.n);
                if (r < 0)
                        return r;
        }

        if (ret_added_id)
                *ret_added_id = added;
        *ret = l;
        l = (EtcdMemberList) {};
        return 0;
}

void etcd_value_done(EtcdValue *v) {
        if (!v)
                return;
        free(v->value);
        *v = (EtcdValue) {};
}

static int parse_int64(const json_t *v, int64_t *ret) {
        uint64_t u;
        int r = parse_uint64(v, &u);
        if (r < 0 || u > INT64_MAX)
                return r < 0 ? r : -EBADMSG;
        *ret = (int64_t) u;
        return 0;
}

/* One kv of a RangeResponse: its value (an empty one is left out), revisions and, if ret_key, its key. */
static int parse_kv(const json_t *kv, EtcdValue *ret, char **ret_key) {
        if (!json_is_object(kv))
                return -EBADMSG;
        const json_t *value = json_object_get(kv, "value");
        const char *v = value ? json_string_value(value) : "", *k = json_string_value(json_object_get(kv, "key"));
        EtcdValue e = {};
        _cleanup_free_ char *key = NULL;
        size_t key_size = 0;
        int r = v ? 0 : -EBADMSG;
        r = r ?: parse_int64(json_object_get(kv, "mod_revision"), &e.mod_revision);
        r = r ?: parse_int64(json_object_get(kv, "version"), &e.version);
        if (r >= 0 && ret_key)
                r = k ? base64_decode_alloc(k, strlen(k), &key, &key_size) : -EBADMSG;
        /* A key is a string here: one with a NUL is no key of ours. */
        if (r >= 0 && ret_key && (key_size == 0 || strlen(key) != key_size))
                r = -EBADMSG;
        r = r ?: base64_decode_alloc(v, strlen(v), &e.value, &e.size);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        *ret = e;
        if (ret_key)
                *ret_key = TAKE_PTR(key);
        return 0;
}

/* The first kv of a RangeResponse's "kvs" (left out when there is none): -ENOENT when none. */
static int parse_first_kv(const json_t *range, EtcdValue *ret) {
        const json_t *kvs = json_object_get(range, "kvs");
        if (!kvs)
                return -ENOENT;
        if (!json_is_array(kvs))
                return -EBADMSG;
        if (json_array_size(kvs) == 0)
                return -ENOENT;
        return parse_kv(json_array_get(kvs, 0), ret, NULL);
}

void etcd_key_values_free(EtcdKeyValue *kvs, size_t n) {
        for (size_t i = 0; kvs && i < n; i++) {
                free(kvs[i].key);
                etcd_value_done(&kvs[i].value);
        }
        free(kvs);
}

int etcd_parse_range_all(const char *body, size_t size, EtcdKeyValue **ret, size_t *ret_n, bool *ret_more) {
        _cleanup_(json_decrefp) json_t *j = parse_json(body, size);
        if (!json_is_object(j) || !json_is_object(json_object_get(j, "header")))
                return -EBADMSG;
        const json_t *kvs = json_object_get(j, "kvs"), *more = json_object_get(j, "more");
        if ((kvs && !json_is_array(kvs)) || (more && !json_is_boolean(more)))
                return -EBADMSG;
        size_t n = json_array_size(kvs);
        /* A cut answer that holds nothing would never end a paged read. */
        if (json_is_true(more) && n == 0)
                return -EBADMSG;
        EtcdKeyValue *all = calloc(n + 1, sizeof(EtcdKeyValue));
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = parse_kv(json_array_get(kvs, i), &all[i].value, &all[i].key);
                if (r < 0) {
                        etcd_key_values_free(all, i);
                        return r;
                }
        }
        *ret = all;
        *ret_n = n;
        *ret_more = json_is_true(more);
        return 0;
}

int etcd_parse_range(const char *body, size_t size, EtcdValue *ret) {
        _cleanup_(json_decrefp) json_t *j = parse_json(body, size);
        if (!json_is_object(j) || !json_is_object(json_object_get(j, "header")))
                return -EBADMSG;
        return parse_first_kv(j, ret);
}

int etcd_parse_txn(const char *body, size_t size, EtcdValue *ret_reads, size_t n_reads) {
        _cleanup_(json_decrefp) json_t *j = parse_json(body, size);
        if (!json_is_object(j) || !json_is_object(json_object_get(j, "header")))
                return -EBADMSG;
        const json_t *ok = json_object_get(j, "succeeded");
        if (ok && !json_is_boolean(ok))
                return -EBADMSG;
        if (json_is_true(ok) || n_reads == 0)
                return json_is_true(ok);

        const json_t *responses = json_object_get(j, "responses");
        if (!json_is_array(responses) || json_array_size(responses) != n_reads)
                return -EBADMSG;
        EtcdValue *reads = calloc(n_reads, sizeof(EtcdValue));
        if (!reads)
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < n_reads && r >= 0; i++) {
                const json_t *range = json_object_get(json_array_get(responses, i), "response_range");
                r = json_is_object(range) ? parse_first_kv(range, reads + i) : -EBADMSG;
                if (r == -ENOENT)
                        r = 0;
        }
        if (r < 0) {
                for (size_t i = 0; i < n_reads; i++)
                        etcd_value_done(reads + i);
        } else
                memcpy(ret_reads, reads, n_reads * sizeof(EtcdValue));
        free(reads);
        return r;
}

int etcd_parse_lease_grant(const char *body, size_t size, int64_t *ret_id) {
        _cleanup_(json_decrefp) json_t *j = parse_json(body, size);
        int64_t id;
        if (!json_is_object(j) || !json_is_object(json_object_get(j, "header")) ||
            parse_int64(json_object_get(j, "ID"), &id) < 0 || id == 0)
                return -EBADMSG;
        *ret_id = id;
        return 0;
}

/* The answers whose gRPC code alone would say too little. Exact messages, from etcd 3.4's
 * api/v3rpc/rpctypes/error.go. */
static const struct {
        const char *message;
        int error;
} known_errors[] = {
        { "etcdserver: can only promote a learner member which is in sync with leader", -EAGAIN },
        { "etcdserver: can only promote a learner member", -EALREADY },
        { "etcdserver: unhealthy cluster", -EAGAIN },
        { "etcdserver: re-configuration failed due to not enough started members", -EAGAIN },
        /* 3.4 admits one learner at a time: another master is joining. */
        { "etcdserver: too many learner members in cluster", -EAGAIN },
        { "etcdserver: member not found", -ENOENT },
        { "etcdserver: Peer URLs already exists", -EEXIST },
        /* A member's id hashes its peer URLs and the second it was added in: the same URL again. */
        { "etcdserver: member ID already exist", -EEXIST },
};

/* gRPC status codes (google.golang.org/grpc/codes). */
enum {
        GRPC_INVALID_ARGUMENT = 3,
        GRPC_DEADLINE_EXCEEDED = 4,
        GRPC_NOT_FOUND = 5,
        GRPC_PERMISSION_DENIED = 7,
        GRPC_RESOURCE_EXHAUSTED = 8,
        GRPC_UNAVAILABLE = 14,
        GRPC_UNAUTHENTICATED = 16,
};

int etcd_parse_error(long http_status, const char *body, size_t size, bool *ret_skip) {
        _cleanup_(json_decrefp) json_t *j = parse_json(body, size);
        const char *message = json_string_value(json_object_get(j, "message"))
                                      ?: json_string_value(json_object_get(j, "error"));
        const json_t *code = json_object_get(j, "code");
        bool skip = false;
        int r;

        if (!message || !json_is_integer(code)) {
                /* Not etcd's error body: judge by the HTTP status alone. */
                skip = http_status == 502 || http_status == 503 || http_status == 504;
                r = skip ? -EAGAIN : http_status == 401 || http_status == 403 ? -EACCES : -EIO;
                goto finish;
        }

        /* What one member cannot do now (no leader, leader changed, timed out, a learner, stopped, not
         * connected to every voter: "unhealthy cluster"), another may. */
        json_int_t c = json_integer_value(code);
        skip = c == GRPC_UNAVAILABLE || c == GRPC_DEADLINE_EXCEEDED;

        for (size_t i = 0; i < ELEMENTSOF(known_errors); i++)
                if (streq(message, known_errors[i].message)) {
                        r = known_errors[i].error;
                        goto finish;
                }

        switch (c) {
        case GRPC_UNAVAILABLE:
        case GRPC_DEADLINE_EXCEEDED:
        case GRPC_RESOURCE_EXHAUSTED: /* too many requests */
                r = -EAGAIN;
                break;
        case GRPC_PERMISSION_DENIED:
        case GRPC_UNAUTHENTICATED:
                r = -EACCES;
                break;
        case GRPC_INVALID_ARGUMENT:
                r = -EINVAL;
                break;
        case GRPC_NOT_FOUND:
                r = -ENOENT;
                break;
        default:
                r = -EIO;
        }
finish:
        if (ret_skip)
                *ret_skip = skip;
        return r;
}

/* ---- transport ---------------------------------------------------------------------------------- */

typedef struct Answer {
        StrBuf body;
        bool too_large;
        bool oom;
} Answer;

static size_t answer_write(char *p, size_t size, size_t nmemb, void *userdata) {
        Answer *a = userdata;
        if (size != 1 || nmemb > RESPONSE_MAX - a->body.len) {
                a->too_large = true;
                return 0; /* libcurl stops with CURLE_WRITE_ERROR */
        }
        if (strbuf_appendn(&a->body, p, nmemb) < 0) {
                a->oom = true;
                return 0;
        }
        return nmemb;
}

/* Connections (and TLS sessions) kept between calls: a process that asks etcd often, the join service above
 * all (one write per join), would otherwise pay a TCP and a TLS handshake with its client certificate at
 * every call, more CPU than the join itself. Single-threaded callers: no lock functions. */
static CURLSH *share;

static int curl_init_once(void) {
        /* Single-threaded callers; libcurl >= 7.84 makes this thread-safe anyway. */
        static bool done;
        if (!done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return -EIO;
                share = curl_share_init();
                if (share && (curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
                              curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)) {
                        curl_share_cleanup(share);
                        share = NULL; /* each call connects anew, as it would without */
                }
                done = true;
        }
        return 0;
}

static bool tls_valid(const EtcdTls *tls) {
        return tls && tls->ca_file && tls->cert_file && tls->key_file;
}

int etcd_tls_readable(const EtcdTls *tls) {
        if (!tls_valid(tls))
                return -EINVAL;
        const char *const files[] = { tls->ca_file, tls->cert_file, tls->key_file };
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (access(files[i], R_OK) < 0)
                        return -errno;
        return 0;
}

/* A failed transfer as an errno; *ret_skip when another endpoint is worth a try. */
static int transfer_error(CURL *c, CURLcode e, const char *errbuf, const Answer *a, bool *ret_skip) {
        curl_off_t handshake_us = 0;
        long header_size = 0;
        (void) curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &handshake_us);
        (void) curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &header_size);

        *ret_skip = true;
        if (a->oom || e == CURLE_OUT_OF_MEMORY) {
                *ret_skip = false;
                return -ENOMEM;
        }
        if (a->too_large)
                return -EMSGSIZE;

        switch (e) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_SSL_CONNECT_ERROR:
                /* A TLS alert from the server is a refusal (our certificate, most likely), not an
                 * endpoint that is down: OpenSSL's message names it ("... alert bad certificate"). */
                if (strstr(errbuf, "alert"))
                        return -EACCES;
                /* With TLS 1.3 the server checks our certificate after the client has finished its
                 * handshake; Go's TLS then sends its alert and closes, and what we see is often only a
                 * reset on the request. A server that completed the handshake and then hung up without a
                 * word is taken for a refusal too (an etcd stopping at that very moment also looks so:
                 * another endpoint, or the next try, answers). */
                if (handshake_us > 0 && header_size == 0 && e != CURLE_OPERATION_TIMEDOUT)
                        return -EACCES;
                return -EAGAIN;
        case CURLE_PEER_FAILED_VERIFICATION:
                return -EACCES;
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_FILE_COULDNT_READ_FILE:
                /* The same files for every endpoint. */
                *ret_skip = false;
                return -ENOKEY;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EINVAL;
        default:
                return -EIO;
        }
}

/* One request to one endpoint: 0 with the HTTP status and the body (request NULL: a GET), or a negative
 * errno with *ret_skip telling whether another endpoint may do better. */
static int exchange(const char *endpoint, const char *path, const char *request, const EtcdTls *tls,
                    unsigned timeout_ms, long *ret_status, StrBuf *ret_body, bool *ret_skip) {
        *ret_skip = false;
        size_t l = strlen(endpoint);
        while (l > 0 && endpoint[l - 1] == '/')
                l--;
        if (l == 0 || l > 4096) {
                *ret_skip = true;
                return -EINVAL;
        }
        /* Declared before the handle that points at it, so freed after it. */
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *url = strprintf("%.*s%s", (int) l, endpoint, path);
        _cleanup_(curl_easy_cleanupp) CURL *c = curl_easy_init();
        if (!url || !c)
                return -ENOMEM;
        if (request) {
                headers = curl_slist_append(NULL, "Content-Type: application/json");
                if (!headers)
                        return -ENOMEM;
        }

        char errbuf[CURL_ERROR_SIZE] = "";
        Answer a = {};
        CURLcode e = curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85 */
        e = e ?: curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
        e = e ?: curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long) CURLPROTO_HTTPS);
#endif
        /* Never through a proxy from the environment (https_proxy=...). */
        e = e ?: curl_easy_setopt(c, CURLOPT_PROXY, "");
        e = e ?: curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) timeout_ms);
        e = e ?: curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        /* Only the etcd CA: not the system's directory of public CAs as well. */
        e = e ?: curl_easy_setopt(c, CURLOPT_CAINFO, tls->ca_file);
        e = e ?: curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSLCERT, tls->cert_file);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSLKEY, tls->key_file);
        e = e ?: curl_easy_setopt(c, CURLOPT_USERAGENT, "clusterboot");
        if (share)
                e = e ?: curl_easy_setopt(c, CURLOPT_SHARE, share);
        e = e ?: curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer_write);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
        if (request) {
                e = e ?: curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
                e = e ?: curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(request));
                e = e ?: curl_easy_setopt(c, CURLOPT_POSTFIELDS, request);
        }
        if (e != CURLE_OK)
                return e == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;

        e = curl_easy_perform(c);
        if (e != CURLE_OK) {
                strbuf_done(&a.body);
                return transfer_error(c, e, errbuf, &a, ret_skip);
        }
        long status = 0;
        if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
                strbuf_done(&a.body);
                return -EIO;
        }
        *ret_status = status;
        *ret_body = a.body;
        return 0;
}

/* POSTs request to path on the endpoints in turn: 0 with the body of the first 200 answer, or the error
 * of the first endpoint that answers for the cluster; when none does, the first error that is not
 * "unreachable", or -EAGAIN. */
static int call(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                const char *path, const json_t *request, StrBuf *ret_body) {
        if (!endpoints || n_endpoints == 0 || !tls_valid(tls) || timeout_ms == 0)
                return -EINVAL;
        int r = curl_init_once();
        if (r < 0)
                return r;
        _cleanup_free_ char *body = json_dumps(request, JSON_COMPACT);
        if (!body)
                return -ENOMEM;

        int first_error = 0;
        for (size_t i = 0; i < n_endpoints; i++) {
                _cleanup_(strbuf_done) StrBuf answer = {};
                long status = 0;
                bool skip;
                if (!endpoints[i])
                        return -EINVAL;
                r = exchange(endpoints[i], path, body, tls, timeout_ms, &status, &answer, &skip);
                if (r >= 0 && status == 200) {
                        *ret_body = answer;
                        answer = (StrBuf) {};
                        return 0;
                }
                if (r >= 0)
                        r = etcd_parse_error(status, answer.s, answer.len, &skip);
                if (!skip)
                        return r;
                if (r != -EAGAIN && first_error == 0)
                        first_error = r;
        }
        return first_error ?: -EAGAIN;
}

/* An answer that carries nothing we need is still etcd's: a JSON object with a header. */
static int check_answer(const StrBuf *b) {
        _cleanup_(json_decrefp) json_t *j = parse_json(b->s, b->len);
        return json_is_object(json_object_get(j, "header")) ? 0 : -EBADMSG;
}

int etcd_member_list(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                     EtcdMemberList *ret) {
        _cleanup_(json_decrefp) json_t *req = json_object();
        _cleanup_(strbuf_done) StrBuf answer = {};
        if (!req)
                return -ENOMEM;
        int r = call(endpoints, n_endpoints, tls, timeout_ms, "/v3/cluster/member/list", req, &answer);
        return r < 0 ? r : etcd_parse_member_list(answer.s, answer.len, NULL, ret);
}

int etcd_member_add(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                    const char *peer_url, bool learner, uint64_t *ret_id, EtcdMemberList *ret_after) {
        if (!peer_url || !*peer_url)
                return -EINVAL;
        _cleanup_(json_decrefp) json_t *req = json_pack("{s:[s],s:b}", "peerURLs", peer_url, "isLearner", learner);
        _cleanup_(strbuf_done) StrBuf answer = {};
        if (!req)
                return -ENOMEM;
        int r = call(endpoints, n_endpoints, tls, timeout_ms, "/v3/cluster/member/add", req, &answer);
        if (r == -ENOENT)
                /* The new id is one removed before (the same URL in the same second as an earlier add,
                 * which etcd answers with "member not found"): a new second gives a new id. */
                return -EAGAIN;
        if (r < 0)
                return r;

        EtcdMemberList after;
        uint64_t id;
        r = etcd_parse_member_list(answer.s, answer.len, &id, &after);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = id;
        if (ret_after)
                *ret_after = after;
        else
                etcd_member_list_done(&after);
        return 0;
}

static int member_change(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls,
                         unsigned timeout_ms, const char *path, uint64_t id) {
        char id_str[24];
        snprintf(id_str, sizeof(id_str), "%" PRIu64, id);
        _cleanup_(json_decrefp) json_t *req = json_pack("{s:s}", "ID", id_str);
        _cleanup_(strbuf_done) StrBuf answer = {};
        if (!req)
                return -ENOMEM;
        int r = call(endpoints, n_endpoints, tls, timeout_ms, path, req, &answer);
        return r < 0 ? r : check_answer(&answer);
}

int etcd_member_promote(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                        uint64_t id) {
        return member_change(endpoints, n_endpoints, tls, timeout_ms, "/v3/cluster/member/promote", id);
}

int etcd_member_remove(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                       uint64_t id) {
        return member_change(endpoints, n_endpoints, tls, timeout_ms, "/v3/cluster/member/remove", id);
}

static json_t *b64_string(const char *s, size_t n) {
        _cleanup_free_ char *b = NULL;
        return base64_encode(s, n, &b) < 0 ? NULL : json_string(b);
}

int etcd_get(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
             const char *key, EtcdValue *ret) {
        if (!key || !*key)
                return -EINVAL;
        _cleanup_(json_decrefp) json_t *req = json_pack("{s:o}", "key", b64_string(key, strlen(key)));
        _cleanup_(strbuf_done) StrBuf answer = {};
        if (!req)
                return -ENOMEM;
        int r = call(endpoints, n_endpoints, tls, timeout_ms, "/v3/kv/range", req, &answer);
        return r < 0 ? r : etcd_parse_range(answer.s, answer.len, ret);
}

int etcd_get_prefix(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                    const char *prefix, size_t page_size, size_t limit, EtcdKeyValue **ret, size_t *ret_n) {
        size_t len = prefix ? strlen(prefix) : 0;
        if (len == 0)
                return -EINVAL;
        /* The range [prefix, prefix with its last byte one higher): every key that starts with it, as
         * etcdctl --prefix asks. A last byte of 0xff would carry; no prefix of ours ends so. */
        _cleanup_free_ char *end = strdup(prefix), *from = strdup(prefix);
        size_t from_len = len;
        if (!end || !from)
                return -ENOMEM;
        if ((unsigned char) end[len - 1] == 0xff)
                return -EINVAL;
        end[len - 1]++;
        EtcdKeyValue *all = NULL;
        size_t n = 0;
        bool more = true;
        int r = 0;
        while (more && r >= 0) {
                _cleanup_(json_decrefp) json_t *req = json_pack("{s:o,s:o,s:I}", "key", b64_string(from, from_len),
                                                                "range_end", b64_string(end, len), "limit",
                                                                (json_int_t) (page_size ?: ETCD_RANGE_PAGE));
                _cleanup_(strbuf_done) StrBuf answer = {};
                EtcdKeyValue *page = NULL;
                size_t n_page = 0;
                r = req ? call(endpoints, n_endpoints, tls, timeout_ms, "/v3/kv/range", req, &answer) : -ENOMEM;
                r = r ?: etcd_parse_range_all(answer.s, answer.len, &page, &n_page, &more);
                if (r >= 0 && limit > 0 && n + n_page > limit)
                        r = -E2BIG;
                EtcdKeyValue *grown = r >= 0 ? realloc(all, (n + n_page + 1) * sizeof(EtcdKeyValue)) : NULL;
                if (r >= 0 && !grown)
                        r = -ENOMEM;
                if (r < 0) {
                        etcd_key_values_free(page, n_page);
                        break;
                }
                all = grown;
                memcpy(all + n, page, n_page * sizeof(EtcdKeyValue));
                n += n_page;
                free(page);
                /* The next page starts right after the last key: that key with a NUL byte appended. */
                if (more) {
                        char *next = realloc(from, strlen(all[n - 1].key) + 2);
                        if (!next) {
                                r = -ENOMEM;
                                break;
                        }
                        from = next;
                        from_len = strlen(all[n - 1].key) + 1;
                        memcpy(from, all[n - 1].key, from_len); /* with its NUL: the byte after the key */
                }
        }
        if (r < 0) {
                etcd_key_values_free(all, n);
                return r;
        }
        *ret = all ?: calloc(1, sizeof(EtcdKeyValue));
        *ret_n = n;
        return *ret ? 0 : -ENOMEM;
}

static json_t *b64_key(const char *key) {
        return key && *key ? b64_string(key, strlen(key)) : NULL;
}

static json_t *int64_string(int64_t v) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return json_string(buf);
}

static int txn_request(const EtcdGuard *guards, size_t n_guards, const EtcdOp *ops, size_t n_ops,
                       const char *const *reads, size_t n_reads, json_t **ret) {
        _cleanup_(json_decrefp) json_t *req = json_pack("{s:[],s:[],s:[]}", "compare", "success", "failure");
        if (!req)
                return -ENOMEM;
        json_t *compare = json_object_get(req, "compare"), *success = json_object_get(req, "success"),
               *failure = json_object_get(req, "failure");
        /* etcd compares a key that does not exist as one with revisions 0. */
        for (size_t i = 0; i < n_guards; i++) {
                json_t *key = b64_key(guards[i].key);
                if (!key || guards[i].mod_revision < 0)
                        return json_decref(key), -EINVAL;
                if (json_array_append_new(compare, json_pack("{s:o,s:s,s:s,s:o}", "key", key, "result", "EQUAL",
                                                             "target", "MOD", "mod_revision",
                                                             int64_string(guards[i].mod_revision))) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n_ops; i++) {
                json_t *key = b64_key(ops[i].key), *op;
                if (!key || ops[i].lease < 0)
                        return json_decref(key), -EINVAL;
                if (!ops[i].value)
                        op = json_pack("{s:{s:o}}", "request_delete_range", "key", key);
                else if (ops[i].lease)
                        op = json_pack("{s:{s:o,s:o,s:o}}", "request_put", "key", key, "value",
                                       b64_string(ops[i].value, strlen(ops[i].value)), "lease", int64_string(ops[i].lease));
                else
                        op = json_pack("{s:{s:o,s:o}}", "request_put", "key", key, "value",
                                       b64_string(ops[i].value, strlen(ops[i].value)));
                if (json_array_append_new(success, op) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n_reads; i++) {
                json_t *key = b64_key(reads[i]);
                if (!key)
                        return -EINVAL;
                if (json_array_append_new(failure, json_pack("{s:{s:o}}", "request_range", "key", key)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(req);
        return 0;
}

int etcd_txn(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
             const EtcdGuard *guards, size_t n_guards, const EtcdOp *ops, size_t n_ops, const char *const *reads,
             size_t n_reads, EtcdValue *ret_reads) {
        if (n_ops == 0 || (n_reads > 0 && !ret_reads))
                return -EINVAL;
        _cleanup_(json_decrefp) json_t *req = NULL;
        _cleanup_(strbuf_done) StrBuf answer = {};
        int r = txn_request(guards, n_guards, ops, n_ops, reads, n_reads, &req);
        r = r ?: call(endpoints, n_endpoints, tls, timeout_ms, "/v3/kv/txn", req, &answer);
        return r < 0 ? r : etcd_parse_txn(answer.s, answer.len, ret_reads, n_reads);
}

int etcd_lease_grant(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                     int64_t ttl_sec, int64_t *ret_id) {
        if (ttl_sec <= 0)
                return -EINVAL;
        _cleanup_(json_decrefp) json_t *req = json_pack("{s:o}", "TTL", int64_string(ttl_sec));
        _cleanup_(strbuf_done) StrBuf answer = {};
        if (!req)
                return -ENOMEM;
        int r = call(endpoints, n_endpoints, tls, timeout_ms, "/v3/lease/grant", req, &answer);
        return r < 0 ? r : etcd_parse_lease_grant(answer.s, answer.len, ret_id);
}

int etcd_put_if(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                const char *guard_key, int64_t guard_revision, const char *const *keys, const char *const *values,
                size_t n) {
        if (!guard_key || !*guard_key || guard_revision < 0 || n == 0 || n > 16)
                return -EINVAL;
        EtcdOp ops[16];
        for (size_t i = 0; i < n; i++) {
                if (!keys[i] || !*keys[i] || !values[i])
                        return -EINVAL;
                ops[i] = (EtcdOp) { .key = keys[i], .value = values[i] };
        }
        const EtcdGuard guard = { guard_key, guard_revision };
        int r = etcd_txn(endpoints, n_endpoints, tls, timeout_ms, &guard, 1, ops, n, NULL, 0, NULL);
        return r < 0 ? r : r ? 0 : -ESTALE;
}

int etcd_endpoint_health(const char *endpoint, const EtcdTls *tls, unsigned timeout_ms) {
        if (!endpoint || !tls_valid(tls) || timeout_ms == 0)
                return -EINVAL;
        int r = curl_init_once();
        if (r < 0)
                return r;

        _cleanup_(strbuf_done) StrBuf answer = {};
        long status = 0;
        bool skip;
        r = exchange(endpoint, "/health", NULL, tls, timeout_ms, &status, &answer, &skip);
        if (r < 0)
                return r;

        /* etcd 3.4: 200 {"health":"true"}, 503 {"health":"false"} (no leader, alarms, a learner). */
        _cleanup_(json_decrefp) json_t *j = parse_json(answer.s, answer.len);
        const json_t *h = json_object_get(j, "health");
        if (!h)
                return status == 200 ? -EBADMSG : etcd_parse_error(status, answer.s, answer.len, NULL);
        bool healthy = json_is_true(h) || streq_ptr(json_string_value(h), "true");
        if (status == 200 && healthy)
                return 0;
        return status == 200 || status == 503 ? -EAGAIN : -EIO;
}

/* ---- ETCD_INITIAL_CLUSTER ----------------------------------------------------------------------- */

typedef struct Peer {
        const char *name;
        const char *url;
} Peer;

static int peer_cmp(const void *a, const void *b) {
        const Peer *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ?: strcmp(x->url, y->url);
}

/* What can stand between the separators of "name=url,name=url". */
static bool initial_cluster_word(const char *s) {
        if (!s || !*s)
                return false;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p <= ' ' || *p == 0x7f || *p == ',' || *p == '=')
                        return false;
        return true;
}

static bool has_peer_url(const EtcdMember *m, const char *url) {
        for (size_t i = 0; i < m->n_peer_urls; i++)
                if (streq_ptr(m->peer_urls[i], url))
                        return true;
        return false;
}

static int initial_cluster(const EtcdMemberList *l, const char *self_name, const char *self_peer_url,
                           char **ret) {
        if (!l || !initial_cluster_word(self_name) || !initial_cluster_word(self_peer_url))
                return -EINVAL;

        _cleanup_free_ Peer *peers = NULL;
        size_t n = 0, allocated = 0;
        bool self_seen = false;
        for (size_t i = 0; i < l->n; i++) {
                const EtcdMember *m = l->members + i;
                bool self = has_peer_url(m, self_peer_url);
                if (!self && (!m->name || !*m->name))
                        return -EAGAIN;
                if (!self && streq(m->name, self_name))
                        return -EEXIST;
                if (m->n_peer_urls == 0)
                        return -EINVAL;
                self_seen = self_seen || self;
                for (size_t k = 0; k < m->n_peer_urls; k++) {
                        const char *name = self ? self_name : m->name;
                        if (!initial_cluster_word(name) || !initial_cluster_word(m->peer_urls[k]))
                                return -EINVAL;
                        if (!GREEDY_REALLOC(peers, allocated, n + 1))
                                return -ENOMEM;
                        peers[n++] = (Peer) { name, m->peer_urls[k] };
                }
        }
        if (!self_seen) {
                if (!GREEDY_REALLOC(peers, allocated, n + 1))
                        return -ENOMEM;
                peers[n++] = (Peer) { self_name, self_peer_url };
        }
        qsort(peers, n, sizeof(Peer), peer_cmp);

        _cleanup_(strbuf_done) StrBuf b = {};
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = strbuf_printf(&b, "%s%s=%s", i > 0 ? "," : "", peers[i].name, peers[i].url);
        if (r < 0)
                return r;
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

char *etcd_initial_cluster(const EtcdMemberList *l, const char *self_name, const char *self_peer_url) {
        char *s = NULL;
        int r = initial_cluster(l, self_name, self_peer_url, &s);
        if (r < 0) {
                errno = -r;
                return NULL;
        }
        return s;
}
