/* SPDX-License-Identifier: Apache-2.0 */
/* join-bench -- load generator for `clusterboot serve` (bench/join/run drives it).
 *
 * Simulates N distinct nodes of an inventory joining at once. Before the clock starts, every node gets its
 * own keys and CSRs (join_csr_make), its own signed request (join_request_build, its own nonce) and its own
 * source address (CURLOPT_INTERFACE: 127.0.0.0/8 is all loopback on Linux, so no setup is needed), so that
 * the server's per-IP rate limit sees N clients, as it would in a real cluster. Then all requests (or
 * --concurrency of them at a time) go out through libcurl's multi interface: a fresh TLS connection each
 * (no reuse, no session resumption), the server verified against --ca. After the clock stops, every 200
 * answer is checked as the real client does (join_response_verify: the proof for the node's nonce) and
 * every issued certificate must carry the public key of the node's CSR.
 *
 * --mode info does the same with GET /v1/cluster-info?nonce=N (a TLS handshake, one small HTTP exchange
 * and one HMAC on the server): the bare-round-trip baseline the join cost is compared with.
 *
 * Prints joins/s, latency percentiles, the p50 of each phase and the outcomes by HTTP status, as text or
 * (--output json) one JSON object. Exit 0 when the bench ran (whatever the server answered), 1 when it
 * could not, 2 usage. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "inventory.h"
#include "join-protocol.h"
#include "join-server.h"
#include "node-pki.h"
#include "secret-formats.h"
#include "string-util.h"
#include "x509.h"
#include "banned.h"

#define ANSWER_MAX (1024 * 1024)
#define MAX_THREADS 64

typedef enum Mode { MODE_JOIN, MODE_INFO } Mode;

typedef struct Sim {
        const Node *node;
        char nonce[JOIN_NONCE_HEX + 1];
        char *body; /* join: the request */
        char *url;
        char source[32]; /* "host!ADDR" */
        EVP_PKEY **keys;
        char **names; /* the certificates asked for, as keys[] */
        size_t n_keys;
        CURL *easy;
        StrBuf answer;
        /* results */
        CURLcode result;
        long status;
        int attempts;
        double due, t_first, t_done;
        curl_off_t us_connect, us_tls, us_pretransfer, us_starttransfer, us_total;
        const char *verdict; /* set after the run: NULL ok, else what was wrong with a 200 */
} Sim;

typedef struct Bench {
        const char *url, *ca_path, *secret_path, *inventory, *source_base, *certs, *label;
        Mode mode;
        size_t n_nodes, concurrency, n_sources, n_threads;
        long timeout_sec;
        double retry_interval; /* 0: no retry of 429 */
        bool json;
        double prepare_sec;

        char *ca_pem, *secret;
        X509_STORE *store;
        Inventory *inv;
        Sim *sims;
        struct curl_slist *headers;
        pthread_barrier_t barrier;
} Bench;

typedef struct Worker {
        Bench *bench;
        Sim *sims;
        size_t n, concurrency;
        double t_start, t_end;
        int error;
        pthread_t tid;
} Worker;

static double now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double cpu_sec(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata) {
        StrBuf *b = userdata;
        size_t n = size * nmemb;
        if (b->len + n > ANSWER_MAX || strbuf_appendn(b, p, n) < 0)
                return 0;
        return n;
}

/* The first n usable IPv4 addresses from base on (skipping .0 and .255, which some stacks treat apart). */
static int source_addresses(const char *base, size_t n, char (**ret)[16]) {
        IpAddr a;
        if (ip_addr_parse(base, &a) < 0 || a.family != AF_INET)
                return -EINVAL;
        uint32_t v = (uint32_t) a.bytes[0] << 24 | (uint32_t) a.bytes[1] << 16 | (uint32_t) a.bytes[2] << 8 |
                     a.bytes[3];
        char(*list)[16] = calloc(n, sizeof(*list));
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; v++) {
                if ((v & 0xff) == 0 || (v & 0xff) == 0xff)
                        continue;
                if (v >> 24 != (uint32_t) a.bytes[0]) { /* ran out of the /8 */
                        free(list);
                        return -ERANGE;
                }
                snprintf(list[i++], sizeof(list[0]), "%u.%u.%u.%u", v >> 24, v >> 16 & 0xff, v >> 8 & 0xff,
                         v & 0xff);
        }
        *ret = list;
        return 0;
}

/* The certificate names node asks for: --certs all means every certificate its plan has (what a node that
 * joins for real asks), else the given comma-separated list. */
static int cert_names(const Bench *b, const Node *node, char ***ret, size_t *ret_n) {
        char **names = NULL;
        size_t n = 0;
        if (streq(b->certs, "all")) {
                PkiPlan plan = {};
                int r = pki_plan_node(b->inv, node, &plan);
                if (r < 0)
                        return r;
                names = calloc(plan.n + 1, sizeof(char *));
                for (size_t i = 0; names && i < plan.n; i++)
                        if (join_cert_name(plan.entries + i, &names[n]) >= 0)
                                n++;
                pki_plan_done(&plan);
        } else {
                names = calloc(JOIN_MAX_CSRS + 1, sizeof(char *));
                for (const char *p = b->certs; names && *p && n < JOIN_MAX_CSRS;) {
                        size_t len = strcspn(p, ",");
                        if (len > 0 && !(names[n++] = strndup(p, len)))
                                break;
                        p += len + (p[len] == ',');
                }
        }
        if (!names)
                return -ENOMEM;
        *ret = names;
        *ret_n = n;
        return 0;
}

static int sim_prepare_request(Bench *b, Sim *s) {
        if (join_nonce_generate(s->nonce) < 0)
                return -EIO;
        if (b->mode == MODE_INFO) {
                s->url = strprintf("%s/v1/cluster-info?nonce=%s", b->url, s->nonce);
                return s->url ? 0 : -ENOMEM;
        }
        int r = cert_names(b, s->node, &s->names, &s->n_keys);
        if (r < 0)
                return r;
        s->keys = calloc(s->n_keys + 1, sizeof(EVP_PKEY *));
        json_t *csrs = json_object();
        if (!s->keys || !csrs) {
                json_decref(csrs);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n_keys && r >= 0; i++) {
                char *pem = NULL;
                r = pki_key_generate(KEY_ECDSA_P256, &s->keys[i]);
                r = r ?: join_csr_make(s->keys[i], s->node->name, &pem);
                if (r >= 0 && json_object_set_new(csrs, s->names[i], json_string(pem)) < 0)
                        r = -ENOMEM;
                free(pem);
        }
        r = r ?: join_request_build(b->secret, s->node->name, NULL, time(NULL), s->nonce, csrs, false,
                                    &s->body);
        json_decref(csrs);
        if (r < 0)
                return r;
        s->url = strprintf("%s/v1/join", b->url);
        return s->url ? 0 : -ENOMEM;
}

/* Every connection trusts the cluster's CA and nothing else, as join-client.c's CURLOPT_CAINFO_BLOB does,
 * but from one X509_STORE parsed once: curl would decode the PEM again for each connection, client work
 * that would compete with the server for the CPU. */
static CURLcode on_ssl_ctx(CURL *c, void *ssl_ctx, void *userdata) {
        X509_STORE *store = userdata;
        SSL_CTX_set1_cert_store(ssl_ctx, store);
        return CURLE_OK;
}

/* The same options as join-client.c's http_request(), plus one source address per node and no reuse of
 * connections or TLS sessions between nodes. */
static int sim_prepare_curl(Bench *b, Sim *s) {
        CURL *c = s->easy = curl_easy_init();
        if (!c)
                return -ENOMEM;
        CURLcode e = curl_easy_setopt(c, CURLOPT_URL, s->url);
        e = e ?: curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
        e = e ?: curl_easy_setopt(c, CURLOPT_TIMEOUT, b->timeout_sec);
        e = e ?: curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        e = e ?: curl_easy_setopt(c, CURLOPT_WRITEDATA, &s->answer);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
        e = e ?: curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
        e = e ?: curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, b->store);
        e = e ?: curl_easy_setopt(c, CURLOPT_INTERFACE, s->source);
        e = e ?: curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
        e = e ?: curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
        e = e ?: curl_easy_setopt(c, CURLOPT_PRIVATE, s);
        if (s->body) {
                e = e ?: curl_easy_setopt(c, CURLOPT_HTTPHEADER, b->headers);
                e = e ?: curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body);
        }
        if (getenv("JOIN_BENCH_VERBOSE"))
                e = e ?: curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
        return e == CURLE_OK ? 0 : -EINVAL;
}

/* The CA certificates of a PEM file, as a store. */
static int ca_store(const char *pem, X509_STORE **ret) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        X509_STORE *store = X509_STORE_new();
        size_t n = 0;
        X509 *x;
        if (!bio || !store) {
                BIO_free(bio);
                X509_STORE_free(store);
                return -ENOMEM;
        }
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                n += X509_STORE_add_cert(store, x) == 1;
                X509_free(x);
        }
        BIO_free(bio);
        ERR_clear_error();
        if (n == 0) {
                X509_STORE_free(store);
                return -EINVAL;
        }
        *ret = store;
        return 0;
}

static int prepare(Bench *b) {
        /* The nodes that join: workers (not masters), in name order: most of a big cluster. */
        const Node **nodes = calloc(b->inv->n_nodes, sizeof(Node *));
        size_t n = 0;
        if (!nodes)
                return -ENOMEM;
        for (size_t i = 0; i < b->inv->n_nodes; i++)
                if (b->inv->nodes[i].roles[ROLE_WORKER] && !b->inv->nodes[i].roles[ROLE_MASTER])
                        nodes[n++] = b->inv->nodes + i;
        if (n < b->n_nodes) {
                fprintf(stderr, "join-bench: the inventory has %zu workers, %zu asked for; generate a "
                                "bigger one (bench/gen-inventory.py)\n", n, b->n_nodes);
                free(nodes);
                return -ERANGE;
        }
        char(*sources)[16] = NULL;
        int r = source_addresses(b->source_base, b->n_sources, &sources);
        if (r < 0) {
                fprintf(stderr, "join-bench: %zu source addresses from %s: %s\n", b->n_sources,
                        b->source_base, strerror(-r));
                free(nodes);
                return r;
        }
        b->sims = calloc(b->n_nodes, sizeof(Sim));
        r = b->sims ? 0 : -ENOMEM;
        for (size_t i = 0; i < b->n_nodes && r >= 0; i++) {
                Sim *s = b->sims + i;
                s->node = nodes[i];
                snprintf(s->source, sizeof(s->source), "host!%s", sources[i % b->n_sources]);
                r = sim_prepare_request(b, s);
                r = r ?: sim_prepare_curl(b, s);
        }
        free(sources);
        free(nodes);
        return r;
}

static void sim_record(Sim *s, CURLcode result, double t) {
        s->result = result;
        s->status = 0;
        s->t_done = t;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
        curl_easy_getinfo(s->easy, CURLINFO_CONNECT_TIME_T, &s->us_connect);
        curl_easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &s->us_tls);
        curl_easy_getinfo(s->easy, CURLINFO_PRETRANSFER_TIME_T, &s->us_pretransfer);
        curl_easy_getinfo(s->easy, CURLINFO_STARTTRANSFER_TIME_T, &s->us_starttransfer);
        curl_easy_getinfo(s->easy, CURLINFO_TOTAL_TIME_T, &s->us_total);
}

static int sim_start(CURLM *m, Sim *s, double t) {
        if (s->attempts++ == 0)
                s->t_first = t;
        s->answer.len = 0;
        return curl_multi_add_handle(m, s->easy) == CURLM_OK ? 0 : -EIO;
}

/* curl's socket interface on epoll: with a thousand connections, curl_multi_perform() would look at every
 * one of them on every wake-up, and the client, not the server, would be what is measured. */
typedef struct Loop {
        int epfd;
        double timer_due; /* < 0: none */
} Loop;

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        Loop *l = userp;
        if (what == CURL_POLL_REMOVE) {
                epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
                return 0;
        }
        struct epoll_event ev = { .data.fd = fd };
        ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
        if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
                epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
        return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp) {
        Loop *l = userp;
        l->timer_due = timeout_ms < 0 ? -1 : now_sec() + (double) timeout_ms / 1000;
        return 0;
}

/* One thread: its share of the nodes, at most concurrency in flight. */
static void *worker_run(void *userdata) {
        Worker *w = userdata;
        Bench *b = w->bench;
        Loop loop = { .epfd = epoll_create1(EPOLL_CLOEXEC), .timer_due = -1 };
        CURLM *m = curl_multi_init();
        Sim **retry = calloc(w->n + 1, sizeof(Sim *));
        size_t next = 0, active = 0, done = 0, n_retry = 0;
        unsigned seed = (unsigned) (uintptr_t) w;
        int running = 0;

        if (m) {
                curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
                curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &loop);
                curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
                curl_multi_setopt(m, CURLMOPT_TIMERDATA, &loop);
        }
        pthread_barrier_wait(&b->barrier);
        if (!m || !retry || loop.epfd < 0) {
                w->error = -ENOMEM;
                goto finish;
        }
        w->t_start = now_sec();
        for (; next < w->n && active < w->concurrency; next++, active++)
                if (sim_start(m, w->sims + next, w->t_start) < 0)
                        w->error = -EIO;
        while (done < w->n && !w->error) {
                struct epoll_event events[256];
                double t = now_sec(), wake = t + 1;
                if (loop.timer_due >= 0 && loop.timer_due < wake)
                        wake = loop.timer_due;
                for (size_t i = 0; i < n_retry; i++)
                        wake = retry[i]->due < wake ? retry[i]->due : wake;
                int timeout_ms = wake <= t ? 0 : (int) ceil((wake - t) * 1000);
                int n_events = epoll_wait(loop.epfd, events, (int) ELEMENTSOF(events), timeout_ms);
                if (n_events < 0 && errno != EINTR) {
                        w->error = -errno;
                        break;
                }
                for (int i = 0; i < n_events; i++) {
                        uint32_t e = events[i].events;
                        int flags = (e & EPOLLIN ? CURL_CSELECT_IN : 0) |
                                    (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                                    (e & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
                        curl_multi_socket_action(m, events[i].data.fd, flags, &running);
                }
                if (loop.timer_due >= 0 && now_sec() >= loop.timer_due) {
                        loop.timer_due = -1;
                        curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
                }
                CURLMsg *msg;
                int left = 0;
                while ((msg = curl_multi_info_read(m, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        Sim *s = NULL;
                        CURL *easy = msg->easy_handle;
                        CURLcode result = msg->data.result;
                        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &s);
                        double now = now_sec();
                        sim_record(s, result, now);
                        curl_multi_remove_handle(m, easy);
                        if (b->retry_interval > 0 && result == CURLE_OK && s->status == 429 &&
                            now - s->t_first < (double) JOIN_MAX_SKEW - 10) {
                                /* What a patient client does: again later, with jitter (0.5x..1.5x). */
                                s->due = now + b->retry_interval * (0.5 + (double) rand_r(&seed) / RAND_MAX);
                                retry[n_retry++] = s;
                                continue;
                        }
                        done++;
                        active--;
                        if (next < w->n) {
                                sim_start(m, w->sims + next++, now);
                                active++;
                        }
                }
                t = now_sec();
                for (size_t i = 0; i < n_retry;) {
                        if (retry[i]->due <= t) {
                                sim_start(m, retry[i], t);
                                retry[i] = retry[--n_retry];
                        } else
                                i++;
                }
        }
        w->t_end = now_sec();
finish:
        for (size_t i = 0; i < w->n; i++)
                if (w->sims[i].attempts > 0)
                        curl_multi_remove_handle(m, w->sims[i].easy);
        curl_multi_cleanup(m);
        if (loop.epfd >= 0)
                close(loop.epfd);
        free(retry);
        return NULL;
}

/* After the clock: what the real client checks (the proof for our nonce), plus the issued certificates
 * against our keys. */
static void sim_check(const Bench *b, Sim *s) {
        if (s->result != CURLE_OK || s->status != 200)
                return;
        _cleanup_(json_decrefp) json_t *answer = NULL;
        int r = join_response_verify(s->answer.s ?: "", s->answer.len, b->secret, s->nonce, &answer);
        if (r == -EBADMSG) {
                s->verdict = "bad proof";
                return;
        }
        if (r < 0) {
                s->verdict = "not a response";
                return;
        }
        json_t *certs = json_object_get(answer, "certificates");
        for (size_t i = 0; i < s->n_keys; i++) {
                const char *pem = json_string_value(json_object_get(certs, s->names[i]));
                _cleanup_(X509_freep) X509 *cert = NULL;
                if (!pem || pki_cert_from_pem(pem, strlen(pem), &cert) < 0 ||
                    !pki_key_matches(cert, s->keys[i])) {
                        s->verdict = "wrong certificate";
                        return;
                }
        }
        if (!json_is_string(json_object_get(answer, "ca")))
                s->verdict = "no CA";
}

/* $JOIN_BENCH_TRACE=FILE: one line per node, for looking into a run: when it started and ended (ms from the
 * start of the run), curl's phases (ms from its start), attempts and the outcome. */
static void write_trace(const Bench *b, const char *path, double start) {
        FILE *f = fopen(path, "we");
        if (!f)
                return;
        fputs("node\tsource\tstart\tend\tconnect\ttls\tpretransfer\tstarttransfer\ttotal\t"
              "attempts\tstatus\n",
              f);
        for (size_t i = 0; i < b->n_nodes; i++) {
                const Sim *s = b->sims + i;
                fprintf(f, "%s\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%ld\n", s->node->name,
                        s->source + 5, (s->t_first - start) * 1000, (s->t_done - start) * 1000,
                        (double) s->us_connect / 1000, (double) s->us_tls / 1000,
                        (double) s->us_pretransfer / 1000, (double) s->us_starttransfer / 1000,
                        (double) s->us_total / 1000, s->attempts, s->status);
        }
        fclose(f);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n]. */
static double percentile(const double *v, size_t n, double p) {
        if (n == 0)
                return NAN;
        size_t k = (size_t) ceil(p / 100 * (double) n);
        return v[k == 0 ? 0 : k - 1];
}

typedef struct Dist {
        size_t n;
        double p50, p90, p99, max, mean;
} Dist;

static Dist dist_of(double *v, size_t n) {
        Dist d = { .n = n, .p50 = NAN, .p90 = NAN, .p99 = NAN, .max = NAN, .mean = NAN };
        if (n == 0)
                return d;
        qsort(v, n, sizeof(double), cmp_double);
        double sum = 0;
        for (size_t i = 0; i < n; i++)
                sum += v[i];
        d.p50 = percentile(v, n, 50);
        d.p90 = percentile(v, n, 90);
        d.p99 = percentile(v, n, 99);
        d.max = v[n - 1];
        d.mean = sum / (double) n;
        return d;
}

static json_t *dist_json(const Dist *d) {
        /* JSON has no NaN: an empty distribution is all zeros, with n 0. */
        return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f}", "n", (json_int_t) d->n, "p50", d->n ? d->p50 : 0,
                         "p90", d->n ? d->p90 : 0, "p99", d->n ? d->p99 : 0, "max", d->n ? d->max : 0,
                         "mean", d->n ? d->mean : 0);
}

/* The outcome of one node, as a key for the counts: "200", "429", "200 bad proof", "curl: ...". */
static void outcome_key(const Sim *s, char *buf, size_t size) {
        if (s->attempts == 0)
                snprintf(buf, size, "not started");
        else if (s->result != CURLE_OK)
                snprintf(buf, size, "curl: %s", curl_easy_strerror(s->result));
        else if (s->verdict)
                snprintf(buf, size, "%ld %s", s->status, s->verdict);
        else
                snprintf(buf, size, "%ld", s->status);
}

static void report(Bench *b, double wall, double cpu) {
        double prep = b->prepare_sec;
        size_t n = b->n_nodes, ok = 0, errors = 0, retried = 0, attempts = 0;
        double *lat_ok = calloc(n + 1, sizeof(double)), *lat_err = calloc(n + 1, sizeof(double)),
               *ph_connect = calloc(n + 1, sizeof(double)), *ph_tls = calloc(n + 1, sizeof(double)),
               *ph_server = calloc(n + 1, sizeof(double));
        size_t n_err = 0;
        json_t *outcomes = json_object();
        for (size_t i = 0; i < n; i++) {
                Sim *s = b->sims + i;
                char key[160];
                outcome_key(s, key, sizeof(key));
                json_t *c = json_object_get(outcomes, key);
                json_object_set_new(outcomes, key, json_integer(c ? json_integer_value(c) + 1 : 1));
                attempts += (size_t) s->attempts;
                retried += s->attempts > 1;
                double ms = (s->t_done - s->t_first) * 1000;
                if (s->attempts > 0 && s->result == CURLE_OK && s->status == 200 && !s->verdict) {
                        lat_ok[ok] = ms;
                        ph_connect[ok] = (double) s->us_connect / 1000;
                        ph_tls[ok] = (double) (s->us_tls - s->us_connect) / 1000;
                        ph_server[ok] = (double) (s->us_starttransfer - s->us_pretransfer) / 1000;
                        ok++;
                } else {
                        errors++;
                        if (s->attempts > 0 && s->result == CURLE_OK)
                                lat_err[n_err++] = ms;
                }
        }
        Dist d_ok = dist_of(lat_ok, ok), d_err = dist_of(lat_err, n_err);
        Dist d_connect = dist_of(ph_connect, ok), d_tls = dist_of(ph_tls, ok);
        Dist d_server = dist_of(ph_server, ok);
        const char *what = b->mode == MODE_JOIN ? "joins" : "cluster-info";
        double rate = wall > 0 ? (double) ok / wall : 0;

        if (b->json) {
                json_t *certs = json_array();
                for (size_t i = 0; b->n_nodes > 0 && i < b->sims[0].n_keys; i++)
                        json_array_append_new(certs, json_string(b->sims[0].names[i]));
                json_t *j = json_pack(
                        "{s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:o,s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:f,s:o,s:o,s:o,"
                        "s:{s:o,s:o,s:o}}",
                        "label", b->label ?: "", "mode", b->mode == MODE_JOIN ? "join" : "info", "nodes",
                        (json_int_t) n, "concurrency", (json_int_t) b->concurrency, "source_ips",
                        (json_int_t) b->n_sources, "threads", (json_int_t) b->n_threads, "source_base",
                        b->source_base, "certs_per_node", certs, "prepare_s", prep, "wall_s", wall,
                        "per_sec", rate, "ok", (json_int_t) ok, "errors", (json_int_t) errors, "attempts",
                        (json_int_t) attempts, "retried", (json_int_t) retried, "client_cpu_s", cpu,
                        "outcomes", outcomes, "latency_ms", dist_json(&d_ok), "refused_latency_ms",
                        dist_json(&d_err), "phases_ms", "connect", dist_json(&d_connect), "tls",
                        dist_json(&d_tls), "server", dist_json(&d_server));
                if (j) {
                        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                        if (s)
                                puts(s);
                        free(s);
                        json_decref(j);
                }
        } else {
                printf("%s%s%s: %zu nodes (%s .. %s), %zu source IP%s from %s, concurrency %zu, "
                       "%zu thread%s\n",
                       b->label ? b->label : "", b->label ? " -- " : "", what, n, b->sims[0].node->name,
                       b->sims[n - 1].node->name, b->n_sources, b->n_sources == 1 ? "" : "s", b->source_base,
                       b->concurrency, b->n_threads, b->n_threads == 1 ? "" : "s");
                if (b->mode == MODE_JOIN) {
                        printf("  certificates per node: %zu (", b->sims[0].n_keys);
                        for (size_t i = 0; i < b->sims[0].n_keys; i++)
                                printf("%s%s", i ? ", " : "", b->sims[0].names[i]);
                        printf(")\n");
                }
                printf("  prepared in %.2f s (not timed); wall %.3f s; %.1f %s/s; ok %zu, errors %zu", prep,
                       wall, rate, what, ok, errors);
                if (retried)
                        printf(" (%zu attempts, %zu nodes retried after 429)", attempts, retried);
                printf("\n  latency ms (ok):      p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", d_ok.p50,
                       d_ok.p90, d_ok.p99, d_ok.max);
                if (n_err)
                        printf("  latency ms (refused): p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", d_err.p50,
                               d_err.p90, d_err.p99, d_err.max);
                printf("  phases p50 ms (ok):   connect %.1f  tls %.1f  request->first byte %.1f\n",
                       d_connect.p50, d_tls.p50, d_server.p50);
                printf("  outcomes:");
                const char *key;
                json_t *v;
                json_object_foreach(outcomes, key, v)
                        printf(" [%s] %lld", key, (long long) json_integer_value(v));
                printf("\n  client CPU %.2f s\n", cpu);
                json_decref(outcomes);
        }
        free(lat_ok);
        free(lat_err);
        free(ph_connect);
        free(ph_tls);
        free(ph_server);
}

static int run(Bench *b) {
        Worker w[MAX_THREADS] = {};
        if (pthread_barrier_init(&b->barrier, NULL, (unsigned) b->n_threads + 1) != 0)
                return -EIO;
        size_t from = 0;
        for (size_t i = 0; i < b->n_threads; i++) {
                size_t to = b->n_nodes * (i + 1) / b->n_threads;
                w[i] = (Worker) { .bench = b, .sims = b->sims + from, .n = to - from,
                                  .concurrency = (b->concurrency * (i + 1) / b->n_threads) -
                                                 (b->concurrency * i / b->n_threads) };
                if (w[i].concurrency == 0)
                        w[i].concurrency = 1;
                from = to;
                if (pthread_create(&w[i].tid, NULL, worker_run, w + i) != 0)
                        return -EIO; /* exiting anyway */
        }
        double cpu0 = cpu_sec();
        pthread_barrier_wait(&b->barrier);
        int r = 0;
        double start = INFINITY, end = 0;
        for (size_t i = 0; i < b->n_threads; i++) {
                pthread_join(w[i].tid, NULL);
                r = r ?: w[i].error;
                start = w[i].t_start < start ? w[i].t_start : start;
                end = w[i].t_end > end ? w[i].t_end : end;
        }
        double cpu = cpu_sec() - cpu0;
        pthread_barrier_destroy(&b->barrier);
        if (r < 0)
                return r;
        for (size_t i = 0; i < b->n_nodes; i++)
                sim_check(b, b->sims + i);
        const char *trace = getenv("JOIN_BENCH_TRACE");
        if (trace)
                write_trace(b, trace, start);
        report(b, end - start, cpu);
        return 0;
}

static void bench_done(Bench *b) {
        for (size_t i = 0; b->sims && i < b->n_nodes; i++) {
                Sim *s = b->sims + i;
                curl_easy_cleanup(s->easy);
                free(s->body);
                free(s->url);
                for (size_t k = 0; k < s->n_keys; k++) {
                        EVP_PKEY_free(s->keys ? s->keys[k] : NULL);
                        free(s->names[k]);
                }
                free(s->keys);
                free(s->names);
                if (s->answer.s)
                        secret_free(strbuf_steal(&s->answer)); /* may hold keyrings */
        }
        free(b->sims);
        curl_slist_free_all(b->headers);
        inventory_free(b->inv);
        free(b->ca_pem);
        X509_STORE_free(b->store);
        secret_free(b->secret);
}

static void usage(FILE *f) {
        fputs("usage: join-bench --url https://HOST:PORT --ca FILE --secret FILE --inventory DIR [options]\n"
              "  --mode join|info        POST /v1/join (default) or GET /v1/cluster-info (the baseline)\n"
              "  --nodes N               simulated nodes, the inventory's first N workers (1000)\n"
              "  --concurrency C         requests in flight at once (default: all N)\n"
              "  --threads T             client threads, each with its own curl multi handle (1)\n"
              "  --source-ips K          distinct source addresses; node i uses number i mod K (default N)\n"
              "  --source-base ADDR      the first source address (127.1.0.1; all of 127/8 is loopback)\n"
              "  --certs all|NAME,...    certificates each node asks for (all: its whole plan)\n"
              "  --retry-429 SEC         send a request refused with 429 again after ~SEC s (default: no)\n"
              "  --timeout SEC           per request (60)\n"
              "  --label TEXT            printed with the results\n"
              "  --output text|json\n",
              f);
}

static int parse_size(const char *s, size_t *ret) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || !end || *end || v == 0 || v > 1000000)
                return -EINVAL;
        *ret = (size_t) v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "url", required_argument, NULL, 'u' },
                { "ca", required_argument, NULL, 'c' },
                { "secret", required_argument, NULL, 's' },
                { "inventory", required_argument, NULL, 'i' },
                { "mode", required_argument, NULL, 'm' },
                { "nodes", required_argument, NULL, 'n' },
                { "concurrency", required_argument, NULL, 'C' },
                { "threads", required_argument, NULL, 'T' },
                { "source-ips", required_argument, NULL, 'K' },
                { "source-base", required_argument, NULL, 'B' },
                { "certs", required_argument, NULL, 'X' },
                { "retry-429", required_argument, NULL, 'R' },
                { "timeout", required_argument, NULL, 't' },
                { "label", required_argument, NULL, 'l' },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Bench b = { .mode = MODE_JOIN, .n_nodes = 1000, .n_threads = 1, .timeout_sec = 60,
                    .source_base = "127.1.0.1", .certs = "all" };
        size_t v;
        int c;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'u': b.url = optarg; break;
                case 'c': b.ca_path = optarg; break;
                case 's': b.secret_path = optarg; break;
                case 'i': b.inventory = optarg; break;
                case 'm':
                        if (streq(optarg, "join"))
                                b.mode = MODE_JOIN;
                        else if (streq(optarg, "info"))
                                b.mode = MODE_INFO;
                        else
                                goto bad;
                        break;
                case 'n': if (parse_size(optarg, &b.n_nodes) < 0) goto bad; break;
                case 'C': if (parse_size(optarg, &b.concurrency) < 0) goto bad; break;
                case 'T':
                        if (parse_size(optarg, &b.n_threads) < 0 || b.n_threads > MAX_THREADS)
                                goto bad;
                        break;
                case 'K': if (parse_size(optarg, &b.n_sources) < 0) goto bad; break;
                case 'B': b.source_base = optarg; break;
                case 'X': b.certs = optarg; break;
                case 'R':
                        b.retry_interval = strtod(optarg, NULL);
                        if (!(b.retry_interval > 0 && b.retry_interval < 60))
                                goto bad;
                        break;
                case 't': if (parse_size(optarg, &v) < 0) goto bad; b.timeout_sec = (long) v; break;
                case 'l': b.label = optarg; break;
                case 'o':
                        if (!streq(optarg, "text") && !streq(optarg, "json"))
                                goto bad;
                        b.json = streq(optarg, "json");
                        break;
                case 'h': usage(stdout); return 0;
                default: goto bad;
                }
        }
        if (optind != argc || !b.url || !b.ca_path || !b.secret_path || !b.inventory)
                goto bad;
        if (b.concurrency == 0 || b.concurrency > b.n_nodes)
                b.concurrency = b.n_nodes;
        if (b.n_sources == 0 || b.n_sources > b.n_nodes)
                b.n_sources = b.n_nodes;
        if (b.n_threads > b.n_nodes)
                b.n_threads = b.n_nodes;

        int ret = 1;
        size_t size;
        if (read_full_file(b.ca_path, 1024 * 1024, &b.ca_pem, &size) < 0 ||
            read_full_file(b.secret_path, 4096, &b.secret, &size) < 0) {
                fprintf(stderr, "join-bench: cannot read %s or %s\n", b.ca_path, b.secret_path);
                goto finish;
        }
        b.secret[strcspn(b.secret, "\r\n")] = 0;
        if (ca_store(b.ca_pem, &b.store) < 0) {
                fprintf(stderr, "join-bench: no certificate in %s\n", b.ca_path);
                goto finish;
        }
        Report rep;
        report_init(&rep, NULL);
        int r = inventory_load_and_validate(b.inventory, &rep, &b.inv);
        bool invalid = r < 0 || rep.n_errors > 0;
        report_done(&rep);
        if (invalid) {
                fprintf(stderr, "join-bench: %s is not a valid inventory (clusterboot validate says why)\n",
                        b.inventory);
                goto finish;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                goto finish;
        b.headers = curl_slist_append(NULL, "Content-Type: application/json");
        double t0 = now_sec();
        r = prepare(&b);
        if (r < 0) {
                fprintf(stderr, "join-bench: cannot prepare the requests: %s\n", strerror(-r));
                goto finish;
        }
        b.prepare_sec = now_sec() - t0;
        r = run(&b);
        if (r < 0) {
                fprintf(stderr, "join-bench: the run failed: %s\n", strerror(-r));
                goto finish;
        }
        ret = 0;
finish:
        bench_done(&b);
        curl_global_cleanup();
        return ret;
bad:
        usage(stderr);
        return 2;
}
