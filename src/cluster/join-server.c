/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "inventory-store.h"
#include "join-guard.h"
#include "join-protocol.h"
#include "join-record.h"
#include "join-server.h"
#include "log.h"
#include "net-util.h"
#include "secret-formats.h"
#include "state.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

#define RATE_BUCKETS_MAX 4096
#define LISTEN_BACKLOG 4096 /* the kernel caps it at net.core.somaxconn */
#define REQUEST_TIMEOUT_SEC 10
/* An etcd read blocks the loop: short, and the local etcd is asked first. */
#define JOIN_ETCD_TIMEOUT_MS 2000


typedef struct RateBucket {
        char ip[IP_ADDR_STRLEN];
        double tokens;
        double last; /* monotonic seconds */
} RateBucket;

struct JoinServer {
        const Inventory *inv;
        const Node *self;
        const Bundle *bundle;
        const RenderSet *bundle_files;
        struct event_base *base;
        struct evhttp *http;
        JoinGuard *guard;
        struct event *sigterm, *sigint;
        SSL_CTX *ssl_ctx;
        NonceCache nonces;
        RateBucket *buckets;
        size_t n_buckets, allocated_buckets;
        /* The cluster's etcd (join_server_set_etcd()): where /v1/inventory reads the stored inventory, and
         * where the masters' join services keep what they decide together (join-record.h). */
        const char *const *etcd_endpoints;
        size_t n_etcd_endpoints;
        const EtcdTls *etcd_tls;
        JoinLease lease;
        char writer[DNS_LABEL_MAX + JOIN_NONCE_HEX + 2]; /* "NODE TOKEN": this process, in what it writes there */
        double etcd_rest_until; /* monotonic: etcd did not answer; until then it is not asked */
        bool said_alone; /* logged that this master decides alone (no etcd client certificate yet) */
        /* What /v1/cluster-state looks at: the node's root (NULL: /), and whether this master has no bundle
         * yet (a candidate: its certificate is its own, every other request gets 503). */
        const char *root;
        bool candidate;
        char *stop_when; /* a candidate stops once this file exists (its bundle): systemd starts it again */
        struct event *watch;
        int exit_status;
};

static double monotonic_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The cluster's etcd, when this master can reach it: its client certificate is there (from its stage
 * certificates on; the service may start before). */
static bool cluster_etcd(const JoinServer *s, JoinEtcd *ret) {
        if (!s->etcd_endpoints || etcd_tls_readable(s->etcd_tls) < 0)
                return false;
        *ret = (JoinEtcd) { s->etcd_endpoints, s->n_etcd_endpoints, s->etcd_tls, JOIN_ETCD_TIMEOUT_MS };
        return true;
}

static void bucket_refill(RateBucket *b, double now) {
        b->tokens = MIN((double) JOIN_RATE_BURST, b->tokens + (now - b->last) * JOIN_RATE_PER_SEC);
        b->last = now;
}

/* Takes a token from the client's bucket; false when it has none left (or when too many clients are
 * tracked and none of them is idle). */
static bool rate_allow(JoinServer *s, const char *ip) {
        double now = monotonic_now();
        for (size_t i = 0; i < s->n_buckets; i++) {
                RateBucket *b = s->buckets + i;
                if (!streq(b->ip, ip))
                        continue;
                bucket_refill(b, now);
                if (b->tokens < 1)
                        return false;
                b->tokens -= 1;
                return true;
        }
        if (s->n_buckets >= RATE_BUCKETS_MAX) {
                /* Forget clients whose bucket has filled up again: they are as new. */
                size_t kept = 0;
                for (size_t i = 0; i < s->n_buckets; i++) {
                        bucket_refill(s->buckets + i, now);
                        if (s->buckets[i].tokens < JOIN_RATE_BURST)
                                s->buckets[kept++] = s->buckets[i];
                }
                s->n_buckets = kept;
                if (kept >= RATE_BUCKETS_MAX)
                        return false;
        }
        if (!GREEDY_REALLOC(s->buckets, s->allocated_buckets, s->n_buckets + 1))
                return false;
        RateBucket *b = s->buckets + s->n_buckets++;
        *b = (RateBucket) { .tokens = JOIN_RATE_BURST - 1, .last = now };
        snprintf(b->ip, sizeof(b->ip), "%s", ip);
        return true;
}

static void send_json(struct evhttp_request *req, int code, const char *reason_phrase, const char *body) {
        struct evbuffer *buf = evbuffer_new();
        if (buf)
                evbuffer_add(buf, body, strlen(body));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        evhttp_send_reply(req, code, reason_phrase, buf);
        if (buf)
                evbuffer_free(buf);
}

static void refuse(struct evhttp_request *req, const char *ip, const char *node, int code, const char *reason) {
        log_warning("join: client %s%s%s: refused (%d): %s", ip, node ? " node " : "", strempty(node), code, reason);
        _cleanup_(json_decrefp) json_t *j = json_pack("{s:s}", "error", reason);
        _cleanup_free_ char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        const char *phrase = code == 400 ? "Bad Request" : code == 401 ? "Unauthorized" : code == 403 ? "Forbidden" :
                             code == 404 ? "Not Found" : code == 405 ? "Method Not Allowed" : code == 409 ? "Conflict" :
                             code == 413 ? "Payload Too Large" : code == 429 ? "Too Many Requests" :
                             code == 503 ? "Service Unavailable" : "Internal Server Error";
        send_json(req, code, phrase, body ?: "{\"error\":\"out of memory\"}");
}

static int errno_to_status(int r) {
        switch (r) {
        case -EINVAL:
                return 400;
        case -E2BIG:
                return 413;
        case -ETIME:
        case -EBADMSG:
        case -EALREADY:
        case -EACCES:
                return 401;
        case -ENOENT:
        case -EPERM:
                return 403;
        case -EEXIST:
                return 409;
        case -EBUSY:
                return 429;
        case -EAGAIN:
                return 503;
        default:
                return 500;
        }
}

static void reply_sealed(struct evhttp_request *req, const char *ip, const char *node, json_t *resp,
                         const char *secret, const char *nonce) {
        char *body = NULL;
        if (join_response_seal(resp, secret, nonce, &body) < 0) {
                refuse(req, ip, node, 500, "cannot make the answer");
                return;
        }
        send_json(req, 200, "OK", body);
        secret_free(body); /* may hold keyrings and CA keys */
}

static void handle_cluster_info(JoinServer *s, struct evhttp_request *req, const char *ip, const char *query) {
        struct evkeyvalq params = {};
        if (!query || evhttp_parse_query_str(query, &params) < 0) {
                refuse(req, ip, NULL, 400, "bad or missing nonce");
                return;
        }
        const char *nonce = evhttp_find_header(&params, "nonce");
        bool good = nonce && strlen(nonce) == JOIN_NONCE_HEX && strspn(nonce, "0123456789abcdef") == JOIN_NONCE_HEX;
        _cleanup_(json_decrefp) json_t *resp = NULL;
        if (!good)
                refuse(req, ip, NULL, 400, "bad or missing nonce");
        else if (join_cluster_info(s->bundle, time(NULL), &resp) < 0)
                refuse(req, ip, NULL, 500, "cannot make the answer");
        else {
                log_info("join: client %s: cluster-info served", ip);
                reply_sealed(req, ip, NULL, resp, s->bundle->join_secret, nonce);
        }
        evhttp_clear_headers(&params);
}

/* The request's body ("" when empty), or NULL once refused as too large. */
static const char *request_body(struct evhttp_request *req, const char *ip, size_t *ret_size) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t size = evbuffer_get_length(in);
        if (size > JOIN_BODY_MAX) {
                refuse(req, ip, NULL, 413, "request too large");
                return NULL;
        }
        const char *body = (const char *) evbuffer_pullup(in, -1);
        *ret_size = size;
        return body ?: "";
}

/* A join request that is well formed, proven by the join secret, fresh and not seen before. The nonce is
 * remembered only once the request is authentic, so that nobody can fill the cache without the secret. */
static int authentic_request(JoinServer *s, const char *body, size_t size, time_t now, JoinRequest *jr,
                             const char **reason) {
        int r = join_request_parse(body, size, jr, reason);
        if (r < 0) {
                join_request_done(jr);
                return r;
        }
        r = join_request_verify(jr, s->bundle->join_secret, now, reason);
        if (r >= 0 && (r = nonce_cache_add(&s->nonces, jr->nonce, now)) < 0)
                *reason = r == -EALREADY ? "replayed" : r == -EBUSY ? "too many requests" : "internal error";
        return r;
}

/* What the other masters must know of this answer before it is sent (join-record.h): its nonce, and the
 * machine auto_register named.
 * Without etcd (no client certificate yet, or no quorum) this master alone refuses replays: a master that
 * lost its peers must still hand the bundle to a reinstalled one, or quorum never comes back. After a
 * failure it does not ask etcd again for JOIN_ETCD_REST_SEC, so that the loop does not wait on it at every
 * request. A name and an address are only given with etcd: two masters alone could give one twice. */
#define JOIN_ETCD_REST_SEC 10

static bool etcd_resting(const JoinServer *s) {
        return monotonic_now() < s->etcd_rest_until;
}

static void etcd_failed(JoinServer *s, int r, const char *what) {
        log_warning_errno(r, "join: %s: %s (%m): for %d s this master alone refuses replayed requests, and "
                          "registers no machine", what,
                          r == -EAGAIN   ? "no member of the cluster's etcd answers"
                          : r == -EACCES ? "the cluster's etcd refuses this master's client certificate"
                                         : "the cluster's etcd does not take the write",
                          JOIN_ETCD_REST_SEC);
        s->etcd_rest_until = monotonic_now() + JOIN_ETCD_REST_SEC;
}

static int record_nonce(JoinServer *s, const JoinEtcd *e, const JoinRequest *jr, bool have_etcd, const char **reason) {
        if (!have_etcd || etcd_resting(s))
                return 0;
        int r = join_record_nonce(e, &s->lease, jr->nonce, s->writer, (uint64_t) monotonic_now());
        if (r == -EALREADY) {
                *reason = "replayed (answered by a master before)";
                return r;
        }
        if (r < 0)
                etcd_failed(s, r, "the request's nonce");
        return 0;
}

static int record_registration(JoinServer *s, const JoinEtcd *e, const JoinRequest *jr, const json_t *resp,
                               bool have_etcd, char **why, const char **reason) {
        Registration want = {}, holder = {};
        RegistryVerdict taken = REGISTRY_WRITE;
        snprintf(want.name, sizeof(want.name), "%s", strempty(json_string_value(json_object_get(resp, "node"))));
        snprintf(want.ip, sizeof(want.ip), "%s",
                 strempty(json_string_value(json_object_get(json_object_get(resp, "registered"), "ip"))));
        if (mac_addr_normalize(jr->hwaddr, want.mac) < 0) {
                *reason = "bad hwaddr";
                return -EINVAL;
        }
        if (!have_etcd) {
                *reason = "auto_register: this master has no etcd client certificate yet: ask another master, or later";
                return -EAGAIN;
        }
        int r = etcd_resting(s) ? -EAGAIN : join_record_register(e, &want, s->self->name, time(NULL), &taken, &holder);
        if (r >= 0)
                return r;
        if (r == -EEXIST) {
                *why = strprintf("auto_register: %s %s is registered to MAC %s (%s at %s); give one of the two "
                                 "machines a node file", taken == REGISTRY_NAME_TAKEN ? "the name" : "the address",
                                 taken == REGISTRY_NAME_TAKEN ? want.name : want.ip, holder.mac, holder.name, holder.ip);
                *reason = *why ?: "auto_register: the name or the address is another machine's";
                return r;
        }
        if (r == -EBADMSG) {
                *reason = "auto_register: a record in etcd is not clusterboot's";
                return -EIO;
        }
        if (!etcd_resting(s))
                etcd_failed(s, r, "the registration");
        *reason = "auto_register: the masters' shared records (etcd) do not answer: ask again later";
        return -EAGAIN;
}

static int record_shared(JoinServer *s, const JoinRequest *jr, const json_t *resp, char **why, const char **reason) {
        JoinEtcd e = {};
        bool have_etcd = cluster_etcd(s, &e);
        if (!have_etcd && !s->said_alone) {
                log_warning("join: no etcd client certificate on this master yet (%s): it alone refuses replayed "
                            "requests, and registers no machine, until it has one",
                            s->etcd_tls ? s->etcd_tls->cert_file : "none set");
                s->said_alone = true;
        }
        int r = record_nonce(s, &e, jr, have_etcd, reason);
        if (r >= 0 && json_object_get(resp, "registered"))
                r = record_registration(s, &e, jr, resp, have_etcd, why, reason);
        return r;
}

static void handle_join(JoinServer *s, struct evhttp_request *req, const char *ip) {
        size_t size;
        const char *body = request_body(req, ip, &size);
        if (!body)
                return;
        JoinRequest jr = {};
        const char *reason = "internal error";
        _cleanup_(json_decrefp) json_t *resp = NULL;
        _cleanup_free_ char *names = NULL, *why = NULL;
        time_t now = time(NULL);

        int r = authentic_request(s, body, size, now, &jr, &reason);
        IpAddr peer;
        if (r >= 0 && ip_addr_parse(ip, &peer) < 0) {
                reason = "the client's address is unknown";
                r = -EPERM;
        }
        if (r >= 0)
                r = join_issue(s->inv, s->bundle, s->bundle_files, &jr, &peer, now, &resp, &names, &reason);
        if (r >= 0)
                r = record_shared(s, &jr, resp, &why, &reason);
        if (r < 0)
                refuse(req, ip, jr.node, errno_to_status(r), reason);
        else {
                const char *assigned = json_string_value(json_object_get(resp, "node"));
                log_info("join: client %s node %s: issued certificates [%s]%s%s%s", ip, jr.node, names,
                         jr.ca_bundle ? " and the CA bundle" : "", json_object_get(resp, "registered") ? "; auto-registered as " : "",
                         json_object_get(resp, "registered") ? strempty(assigned) : "");
                reply_sealed(req, ip, jr.node, resp, s->bundle->join_secret, jr.nonce);
        }
        join_request_done(&jr);
}

/* POST /v1/cluster-state (a join request without CSRs, from a master): what this master holds, sealed
 * (membership.h: no second cluster). */
static void handle_cluster_state(JoinServer *s, struct evhttp_request *req, const char *ip) {
        size_t size;
        const char *body = request_body(req, ip, &size);
        if (!body)
                return;
        JoinRequest jr = {};
        const char *reason = "internal error";
        _cleanup_(json_decrefp) json_t *resp = NULL;
        time_t now = time(NULL);
        int r = authentic_request(s, body, size, now, &jr, &reason);
        const Node *asker = r >= 0 ? inventory_find_node(s->inv, jr.node) : NULL;
        if (r >= 0 && (!asker || !asker->roles[ROLE_MASTER])) {
                r = -EPERM;
                reason = "only a master asks what a master holds";
        }
        char hash[72] = "";
        bool holds = node_holds_cluster(s->root);
        if (r >= 0 && !s->candidate)
                r = pki_spki_hash(s->bundle->ca, hash);
        r = r ?: join_cluster_state(s->self->name, holds, hash, now, &resp);
        if (r < 0)
                refuse(req, ip, jr.node, errno_to_status(r), reason);
        else {
                log_info("join: client %s node %s: cluster-state served (%s%s)", ip, jr.node,
                         holds ? "holds a cluster" : "no cluster", s->candidate ? ", no bundle" : "");
                reply_sealed(req, ip, jr.node, resp, s->bundle->join_secret, jr.nonce);
        }
        join_request_done(&jr);
}

/* The certificate the TLS client presented (verified by nobody yet), or NULL. */
static X509 *client_certificate(struct evhttp_request *req) {
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        return ssl ? SSL_get1_peer_certificate(ssl) : NULL;
}

/* A machine auto_register named renews as what its record in etcd says it is: its MAC and the address it
 * was given stand in for the join request's, and join_issue() judges them as at its registration (the
 * inventory may have taken the name, the MAC or the address since, or turned auto_register off). */
static int registered_machine(JoinServer *s, const char *node, Registration *ret, IpAddr *ret_ip,
                              const char **reason) {
        JoinEtcd e;
        if (!s->inv->cluster.auto_register.enabled.v) {
                *reason = "unknown node";
                return -ENOENT;
        }
        if (!cluster_etcd(s, &e)) {
                *reason = "this join service reads no etcd: it cannot renew an auto-registered machine";
                return -EAGAIN;
        }
        int r = join_record_get(&e, node, ret);
        if (r >= 0 && ip_addr_parse(ret->ip, ret_ip) < 0)
                r = -EBADMSG;
        if (r == -ENOENT)
                *reason = "unknown node: neither in the inventory nor registered by auto_register";
        else if (r == -EBADMSG) {
                *reason = "auto_register: its record in etcd is not clusterboot's";
                r = -EIO;
        } else if (r < 0) {
                *reason = "auto_register: the masters' shared records (etcd) do not answer: ask again later";
                r = r == -ENOMEM ? r : -EAGAIN;
        }
        return r;
}

static void handle_renew(JoinServer *s, struct evhttp_request *req, const char *ip) {
        size_t size;
        const char *body = request_body(req, ip, &size);
        if (!body)
                return;
        JoinRequest jr = {};
        const char *reason = "internal error";
        _cleanup_(json_decrefp) json_t *resp = NULL;
        _cleanup_free_ char *names = NULL;
        _cleanup_(X509_freep) X509 *client = client_certificate(req);
        time_t now = time(NULL);

        int r = join_renew_parse(body, size, &jr, &reason);
        if (r < 0) {
                refuse(req, ip, NULL, errno_to_status(r), reason);
                return;
        }
        r = join_renew_authorize(s->bundle->ca, client, jr.node, now, &reason);
        /* A node of the inventory, or a machine of the registry (never a new one: a renewal registers
         * nothing). */
        Registration record;
        IpAddr recorded, *at = NULL;
        if (r >= 0 && !inventory_find_node(s->inv, jr.node) &&
            (r = registered_machine(s, jr.node, &record, &recorded, &reason)) >= 0) {
                jr.hwaddr = record.mac;
                at = &recorded;
        }
        if (r >= 0)
                r = join_issue(s->inv, s->bundle, NULL, &jr, at, now, &resp, &names, &reason);
        /* auto_register names a MAC by hostname_prefix, which may have changed since: certificates are
         * renewed under the name they carry, or not at all. */
        if (r >= 0 && !streq_ptr(json_string_value(json_object_get(resp, "node")), jr.node)) {
                reason = "auto_register now gives this machine another name (hostname_prefix changed): it must "
                         "join again";
                r = -EPERM;
        }
        char *out = r >= 0 ? json_dumps(resp, JSON_COMPACT) : NULL;
        if (r >= 0 && !out) {
                r = -ENOMEM;
                reason = "cannot make the answer";
        }
        if (r < 0)
                refuse(req, ip, jr.node, errno_to_status(r), reason);
        else {
                log_info("join: client %s node %s: renewed certificates [%s] (by its client certificate)", ip, jr.node,
                         names);
                send_json(req, 200, "OK", out);
        }
        secret_free(out); /* may hold keyrings and the MQTT password file */
        join_request_done(&jr);
}

/* POST /v1/inventory {"node": NAME}: the inventory the cluster runs, as `apply` stored it in etcd
 * ({"version": 0} before the first), and "registered": the machines auto_register named (join-record.h),
 * to a node that shows its own client certificate, as /v1/renew asks. It holds no more than the node's
 * image does and the node network shows: the inventory, names and addresses, no key. */
static bool registered_as(const RegistrationList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].name, name))
                        return true;
        return false;
}

/* The answer, or an HTTP status and its reason: 503 for anything this master's etcd did not give (another
 * master may: the node asks the next), 500 out of memory. */
static int inventory_answer(const JoinEtcd *e, const Inventory *inv, const char *node, json_t **ret,
                            size_t *ret_n_registered, const char **ret_reason) {
        EtcdValue v = {};
        RegistrationList l = {};
        _cleanup_(json_decrefp) json_t *doc = NULL;
        _cleanup_secret_free_ char *secret = NULL;
        int64_t version = 0, revision;
        int r = etcd_get(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms, INVENTORY_KEY, &v);
        if (r == -ENOENT)
                r = (doc = json_pack("{s:i}", "version", 0)) ? 0 : -ENOMEM;
        else if (r >= 0)
                r = json_is_object(doc = json_loadb(v.value, v.size, JSON_REJECT_DUPLICATES, NULL)) ? 0 : -EBADMSG;
        etcd_value_done(&v);
        if (r < 0)
                *ret_reason = r == -EBADMSG ? "the inventory in etcd is not JSON" : "cannot read the inventory from etcd";
        else if ((r = join_record_list(e, &l)) < 0)
                *ret_reason = r == -E2BIG ? "the auto_register registry holds more machines than an answer carries"
                                          : "cannot read the auto_register registry from etcd";
        /* A rotated join secret, only to a node of the inventory or the registry (a machine taken out gets no
         * new one): every node keeps the current one, to join again after it was off past its certificates'
         * expiry. It holds no more than the node's image did. */
        else if ((inventory_find_node(inv, node) || registered_as(&l, node)) &&
                 (r = join_record_secret_get(e, &version, &secret, &revision)) < 0)
                *ret_reason = "cannot read the join secret from etcd";
        if (r == -EAGAIN)
                *ret_reason = "no etcd answers";
        if (r >= 0 && l.n_bad > 0)
                log_warning("join: %zu records under %s are not clusterboot's: left out", l.n_bad, REGISTRY_NAME_PREFIX);
        if (r >= 0 && json_object_set_new(doc, "registered", registration_list_to_json(&l)) < 0)
                r = -ENOMEM;
        if (r >= 0 && secret &&
            json_object_set_new(doc, "join_secret", json_pack("{s:I,s:s}", "version", (json_int_t) version, "secret",
                                                              secret)) < 0)
                r = -ENOMEM;
        *ret_n_registered = l.n;
        registration_list_done(&l);
        if (r == -ENOMEM)
                *ret_reason = "out of memory";
        if (r < 0)
                return r == -ENOMEM ? 500 : 503;
        *ret = TAKE_PTR(doc);
        return 0;
}

static void handle_inventory(JoinServer *s, struct evhttp_request *req, const char *ip) {
        size_t size;
        const char *body = request_body(req, ip, &size);
        if (!body)
                return;
        _cleanup_(json_decrefp) json_t *j = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
        const char *node = json_string_value(json_object_get(j, "node"));
        const char *reason = "internal error";
        _cleanup_(X509_freep) X509 *client = client_certificate(req);
        if (!node || json_object_size(j) != 1 || !is_dns_label(node)) {
                refuse(req, ip, NULL, 400, "the request must be {\"node\": NAME}");
                return;
        }
        int r = join_renew_authorize(s->bundle->ca, client, node, time(NULL), &reason);
        if (r < 0) {
                refuse(req, ip, node, errno_to_status(r), reason);
                return;
        }
        JoinEtcd e;
        if (!cluster_etcd(s, &e)) {
                refuse(req, ip, node, 503, "this join service reads no etcd");
                return;
        }
        size_t n_registered = 0;
        _cleanup_(json_decrefp) json_t *doc = NULL;
        int status = inventory_answer(&e, s->inv, node, &doc, &n_registered, &reason);
        /* May hold the join secret. */
        _cleanup_secret_free_ char *out = status == 0 ? json_dumps(doc, JSON_COMPACT) : NULL;
        if (!out) {
                refuse(req, ip, node, status ?: 500, status ? reason : "cannot make the answer");
                return;
        }
        log_info("join: client %s node %s: inventory version %" JSON_INTEGER_FORMAT ", %zu auto-registered "
                 "machines and join secret version %" JSON_INTEGER_FORMAT " served (%zu bytes)", ip, node,
                 json_integer_value(json_object_get(doc, "version")), n_registered,
                 json_integer_value(json_object_get(json_object_get(doc, "join_secret"), "version")), strlen(out));
        send_json(req, 200, "OK", out);
}

static void handle(struct evhttp_request *req, void *userdata) {
        JoinServer *s = userdata;
        struct evhttp_connection *conn = evhttp_request_get_connection(req);
        char *peer = NULL;
        ev_uint16_t port = 0;
        if (conn)
                evhttp_connection_get_peer(conn, &peer, &port);
        const char *ip = peer ?: "?";

        join_guard_request_read(s->guard, req);
        if (!rate_allow(s, ip)) {
                refuse(req, ip, NULL, 429, "rate limit exceeded");
                return;
        }
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        enum evhttp_cmd_type method = evhttp_request_get_command(req);
        if (streq_ptr(path, "/v1/cluster-state")) {
                if (method == EVHTTP_REQ_POST)
                        handle_cluster_state(s, req, ip);
                else
                        refuse(req, ip, NULL, 405, "use POST");
        } else if (s->candidate)
                refuse(req, ip, NULL, 503, "this master has no cluster's bundle yet");
        else if (streq_ptr(path, "/v1/join")) {
                if (method == EVHTTP_REQ_POST)
                        handle_join(s, req, ip);
                else
                        refuse(req, ip, NULL, 405, "use POST");
        } else if (streq_ptr(path, "/v1/renew")) {
                if (method == EVHTTP_REQ_POST)
                        handle_renew(s, req, ip);
                else
                        refuse(req, ip, NULL, 405, "use POST");
        } else if (streq_ptr(path, "/v1/inventory")) {
                if (method == EVHTTP_REQ_POST)
                        handle_inventory(s, req, ip);
                else
                        refuse(req, ip, NULL, 405, "use POST");
        } else if (streq_ptr(path, "/v1/cluster-info")) {
                if (method == EVHTTP_REQ_GET)
                        handle_cluster_info(s, req, ip, evhttp_uri_get_query(uri));
                else
                        refuse(req, ip, NULL, 405, "use GET");
        } else
                refuse(req, ip, NULL, 404, "no such endpoint");
}

static struct bufferevent *make_bufferevent(struct event_base *base, void *userdata) {
        JoinServer *s = userdata;
        SSL *ssl = SSL_new(s->ssl_ctx);
        if (!ssl)
                return NULL;
        struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                                 BEV_OPT_CLOSE_ON_FREE);
        if (!bev)
                return NULL;
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        /* Untracked when out of memory: served all the same. */
        (void) join_guard_track(s->guard, bev, ssl);
        return bev;
}

/* A client certificate is asked for but not required, and not judged in the handshake: /v1/renew judges
 * it (join_renew_authorize()), the other endpoints ignore it. */
static int accept_any_client(int preverify_ok, X509_STORE_CTX *ctx) {
        return 1;
}

/* The server's own certificate: from the Kubernetes CA, for the master's names (a dotted hostname and its
 * first label) and the loopback. */
static int make_ssl_ctx(const Node *self, const Bundle *b, SSL_CTX **ret) {
        char buf[DNS_LABEL_MAX + 1];
        const char *names[] = { self->name, self->hostname, hostname_first_label(self->hostname, buf),
                                "localhost", NULL };
        IpAddr ips[2];
        size_t n_ips = 0;
        if (self->ip_valid)
                ips[n_ips++] = self->ip;
        ip_addr_parse("127.0.0.1", ips + n_ips++);
        CertSpec spec = {
                .common_name = "clusterboot-join",
                .dns_names = names,
                .ips = ips,
                .n_ips = n_ips,
                .usage = CERT_USAGE_SERVER,
        };
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        int r = pki_key_generate(KEY_ECDSA_P256, &key);
        r = r ?: pki_cert_issue(key, &spec, b->ca, b->ca_key, &cert);
        if (r < 0)
                return r;
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx)
                return -ENOMEM;
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_use_certificate(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
                SSL_CTX_free(ctx);
                return -EIO;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_client);
        *ret = ctx;
        return 0;
}

int join_server_new(const Inventory *inv, const Node *self, const Bundle *b, const RenderSet *bundle_files,
                    JoinServer **ret) {
        if (!b->join_secret || !*b->join_secret || !b->ca || !b->ca_key)
                return -EINVAL;
        JoinServer *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (JoinServer) { .inv = inv, .self = self, .bundle = b, .bundle_files = bundle_files };
        int r = make_ssl_ctx(self, b, &s->ssl_ctx);
        if (r < 0)
                goto fail;
        r = -ENOMEM;
        s->base = event_base_new();
        s->http = s->base ? evhttp_new(s->base) : NULL;
        if (!s->http)
                goto fail;
        struct rlimit rl = {};
        (void) getrlimit(RLIMIT_NOFILE, &rl);
        JoinGuardLimits limits = join_guard_limits(rl.rlim_cur);
        r = join_guard_new(s->base, &limits, &s->guard);
        if (r < 0)
                goto fail;
        log_debug("join: at most %u connections open, %u from one address", limits.max_open, limits.per_source);
        evhttp_set_bevcb(s->http, make_bufferevent, s);
        evhttp_set_gencb(s->http, handle, s);
        /* Bodies up to four times the limit reach handle_join(), which logs and answers 413 with a reason;
         * beyond that libevent answers 413 itself before buffering them (unlogged). */
        evhttp_set_max_body_size(s->http, 4 * JOIN_BODY_MAX);
        evhttp_set_max_headers_size(s->http, 16 * 1024);
        evhttp_set_timeout(s->http, REQUEST_TIMEOUT_SEC);
        evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
        /* Answer 413 to a body over the limit instead of only dropping the connection. */
        evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
        /* What this process writes as a nonce's value in etcd: its own retry is not a replay. */
        char token[JOIN_NONCE_HEX + 1];
        r = join_nonce_generate(token);
        if (r < 0)
                goto fail;
        snprintf(s->writer, sizeof(s->writer), "%s %s", self->name, token);
        *ret = s;
        return 0;
fail:
        join_server_free(s);
        return r;
}

void join_server_set_root(JoinServer *s, const char *root) {
        s->root = root;
}

static void on_watch(evutil_socket_t fd, short events, void *userdata) {
        JoinServer *s = userdata;
        (void) fd;
        (void) events;
        if (access(s->stop_when, F_OK) < 0)
                return;
        log_info("join: %s is here: stopping, to serve with the cluster's bundle", s->stop_when);
        s->exit_status = -EAGAIN;
        event_base_loopbreak(s->base);
}

int join_server_set_candidate(JoinServer *s, const char *stop_when) {
        static const struct timeval every = { .tv_sec = 2 };
        s->candidate = true;
        if (!stop_when)
                return 0;
        s->stop_when = strdup(stop_when);
        s->watch = s->stop_when ? event_new(s->base, -1, EV_PERSIST, on_watch, s) : NULL;
        if (!s->watch || event_add(s->watch, &every) < 0)
                return -ENOMEM;
        return 0;
}

void join_server_set_etcd(JoinServer *s, const char *const *endpoints, size_t n, const EtcdTls *tls) {
        s->etcd_endpoints = n > 0 ? endpoints : NULL;
        s->n_etcd_endpoints = n;
        s->etcd_tls = tls;
}

/* The listening socket is made here rather than by evhttp_bind_socket(): with libevent's backlog of 128 a
 * burst of joins overflowed the accept queue (each dropped SYN costs the client a second), and without
 * TCP_NODELAY (inherited by accepted sockets on Linux) each answer, headers and body in two TLS records,
 * waited ~40 ms for the client's delayed ACK. Both found by bench/join. */
int join_server_listen(JoinServer *s, const char *address, uint16_t port) {
        IpAddr ip;
        if (ip_addr_parse(address, &ip) < 0)
                return -EINVAL;
        /* IP_FREEBIND: the service starts at boot, perhaps before networkd has given the master its address;
         * it serves once the address is there. */
        int fd = ip_listen_socket(&ip, port, LISTEN_BACKLOG, true);
        if (fd < 0)
                return fd;
        /* On failure libevent may have closed fd already (its listener owns it): not closed again here. */
        struct evhttp_bound_socket *bound = evhttp_accept_socket_with_handle(s->http, fd);
        if (!bound)
                return -ENOMEM;
        return join_guard_watch_listener(s->guard, evhttp_bound_socket_get_listener(bound));
}

static void on_signal(evutil_socket_t sig, short events, void *userdata) {
        JoinServer *s = userdata;
        log_info("join: signal %d, stopping", (int) sig);
        event_base_loopbreak(s->base);
}

int join_server_run(JoinServer *s, void (*ready)(void)) {
        /* A write to a connection its client (or the guard) closed is an error to handle, not a signal that
         * ends the service; systemd ignores SIGPIPE for it too (IgnoreSIGPIPE=), a shell does not. */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return -errno;
        s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
        s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
        if (!s->sigterm || !s->sigint || evsignal_add(s->sigterm, NULL) < 0 || evsignal_add(s->sigint, NULL) < 0)
                return -ENOMEM;
        if (ready)
                ready();
        return event_base_dispatch(s->base) < 0 ? -EIO : s->exit_status;
}

void join_server_free(JoinServer *s) {
        if (!s)
                return;
        if (s->sigterm)
                event_free(s->sigterm);
        if (s->sigint)
                event_free(s->sigint);
        if (s->watch)
                event_free(s->watch);
        free(s->stop_when);
        /* evhttp frees its connections, which the guard tracks until then. */
        if (s->http)
                evhttp_free(s->http);
        join_guard_free(s->guard);
        if (s->base)
                event_base_free(s->base);
        SSL_CTX_free(s->ssl_ctx);
        nonce_cache_done(&s->nonces);
        free(s->buckets);
        free(s);
}
