/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/bio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "join-guard.h"
#include "log.h"
#include "macro.h"
#include "net-util.h"
#include "string-util.h"
#include "banned.h"

#define REPORT_EVERY_SEC 10
#define ACCEPT_PAUSE_SEC 1
#define LISTENERS_MAX 4

typedef enum DropReason {
        DROP_SOURCE,    /* too many open from its address */
        DROP_FULL,      /* idle longest when a connection came at max_open */
        DROP_HANDSHAKE, /* TLS handshake not done in time */
        DROP_REQUEST,   /* no whole request in time */
        _DROP_MAX,
} DropReason;

typedef struct Conn Conn;
struct Conn {
        JoinGuard *g;
        struct bufferevent *bev;
        SSL *ssl;
        struct event *timer; /* admission first, then the deadlines */
        IpAddr ip;
        bool admitted, has_ip, dropped;
        double accepted;
        double since;     /* accept, or the last answer: the request deadline counts from here */
        double last_read; /* a byte received (0: none yet) */
        Conn *prev, *next;
};

struct JoinGuard {
        struct event_base *base;
        JoinGuardLimits limits;
        Conn *conns;
        unsigned n_live; /* tracked and not dropped */
        struct evconnlistener *listeners[LISTENERS_MAX];
        size_t n_listeners;
        struct event *resume, *report;
        /* Since the last report. */
        unsigned dropped[_DROP_MAX];
        unsigned accept_errors;
        int accept_errno;
        IpAddr refused_from; /* the last address refused for DROP_SOURCE */
        JoinGuard *next_guard;
};

/* A listener's error callback gets the argument of its accept callback, which evhttp owns: the guard is
 * found through its listeners. */
static JoinGuard *guards;
static int conn_ex_index = -1;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

JoinGuardLimits join_guard_limits(rlim_t nofile) {
        rlim_t usable = nofile > JOIN_CONN_FD_RESERVE + 16 ? nofile - JOIN_CONN_FD_RESERVE : 16;
        return (JoinGuardLimits) {
                .max_open = (unsigned) MIN(usable, (rlim_t) JOIN_CONN_MAX),
                .per_source = JOIN_CONN_PER_SOURCE,
                .handshake_sec = JOIN_CONN_HANDSHAKE_SEC,
                .request_sec = JOIN_CONN_REQUEST_SEC,
        };
}

static void conn_drop(Conn *c, DropReason why) {
        if (c->dropped)
                return;
        c->dropped = true;
        c->g->n_live--;
        c->g->dropped[why]++;
        /* evhttp reads the end of the stream and frees the connection (and with it c). */
        int fd = bufferevent_getfd(c->bev);
        if (fd >= 0)
                (void) shutdown(fd, SHUT_RDWR);
}

static bool output_pending(const Conn *c) {
        return evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
}

/* The open connection that received nothing for the longest time, but one with an answer to send. */
static Conn *idle_longest(JoinGuard *g) {
        Conn *best = NULL;
        double best_t = 0;
        for (Conn *c = g->conns; c; c = c->next) {
                if (c->dropped || output_pending(c))
                        continue;
                double t = MAX(c->last_read, c->since);
                if (!best || t < best_t) {
                        best = c;
                        best_t = t;
                }
        }
        return best;
}

static long on_bio(BIO *bio, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                   size_t *processed) {
        if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0) {
                Conn *c = (Conn *) BIO_get_callback_arg(bio);
                if (c)
                        c->last_read = now();
        }
        return ret;
}

/* Right after accept (evhttp has given the bufferevent its socket by now): the per-address limit. */
static void conn_admit(Conn *c) {
        JoinGuard *g = c->g;
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd = bufferevent_getfd(c->bev);
        c->admitted = true;
        if (fd < 0 || getpeername(fd, (struct sockaddr *) &sa, &len) < 0 ||
            ip_addr_from_sockaddr((struct sockaddr *) &sa, len, &c->ip) < 0)
                return;
        c->has_ip = true;
        unsigned same = 0;
        for (Conn *o = g->conns; o; o = o->next)
                if (o != c && o->has_ip && !o->dropped && ip_addr_cmp(&o->ip, &c->ip) == 0)
                        same++;
        if (same >= g->limits.per_source) {
                g->refused_from = c->ip;
                conn_drop(c, DROP_SOURCE);
                return;
        }
        BIO *rbio = SSL_get_rbio(c->ssl);
        if (rbio) {
                BIO_set_callback_ex(rbio, on_bio);
                BIO_set_callback_arg(rbio, (char *) c);
        }
}

static void conn_arm(Conn *c, double at) {
        double d = MAX(at - now(), 0.05);
        struct timeval tv = { .tv_sec = (time_t) d, .tv_usec = (suseconds_t) ((d - (double) (time_t) d) * 1e6) };
        (void) event_add(c->timer, &tv);
}

static void on_conn_timer(evutil_socket_t fd, short what, void *userdata) {
        Conn *c = userdata;
        const JoinGuardLimits *l = &c->g->limits;
        if (!c->admitted)
                conn_admit(c);
        if (c->dropped)
                return;
        double t = now();
        if (!SSL_is_init_finished(c->ssl)) {
                if (t - c->accepted >= l->handshake_sec)
                        conn_drop(c, DROP_HANDSHAKE);
                else
                        conn_arm(c, c->accepted + l->handshake_sec);
        } else if (output_pending(c))
                conn_arm(c, t + 1);
        else if (t - c->since >= l->request_sec)
                conn_drop(c, DROP_REQUEST);
        else
                conn_arm(c, c->since + l->request_sec);
}

static void conn_forget(Conn *c) {
        JoinGuard *g = c->g;
        if (c->prev)
                c->prev->next = c->next;
        else
                g->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (!c->dropped)
                g->n_live--;
        BIO *rbio = SSL_get_rbio(c->ssl);
        if (rbio && BIO_get_callback_arg(rbio) == (char *) c)
                BIO_set_callback_arg(rbio, NULL);
        event_free(c->timer);
        free(c);
}

/* The connection's SSL is freed with its bufferevent, when evhttp is done with it. */
static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
        if (ptr)
                conn_forget(ptr);
}

int join_guard_track(JoinGuard *g, struct bufferevent *bev, SSL *ssl) {
        Conn *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        double t = now();
        *c = (Conn) { .g = g, .bev = bev, .ssl = ssl, .accepted = t, .since = t };
        c->timer = event_new(g->base, -1, 0, on_conn_timer, c);
        if (!c->timer || SSL_set_ex_data(ssl, conn_ex_index, c) != 1) {
                if (c->timer)
                        event_free(c->timer);
                free(c);
                return -ENOMEM;
        }
        if (g->n_live >= g->limits.max_open) {
                Conn *victim = idle_longest(g);
                if (victim)
                        conn_drop(victim, DROP_FULL);
        }
        c->next = g->conns;
        if (g->conns)
                g->conns->prev = c;
        g->conns = c;
        g->n_live++;
        /* Admitted in the next turn of the loop, once evhttp has set the socket. */
        event_active(c->timer, EV_TIMEOUT, 1);
        return 0;
}

static Conn *conn_of(struct evhttp_request *req) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        return ssl ? SSL_get_ex_data(ssl, conn_ex_index) : NULL;
}

void join_guard_request_read(JoinGuard *g, struct evhttp_request *req) {
        Conn *c = conn_of(req);
        if (c)
                c->since = now();
}

static void on_resume(evutil_socket_t fd, short what, void *userdata) {
        JoinGuard *g = userdata;
        for (size_t i = 0; i < g->n_listeners; i++)
                (void) evconnlistener_enable(g->listeners[i]);
}

static void on_accept_error(struct evconnlistener *lev, void *userdata) {
        int e = EVUTIL_SOCKET_ERROR();
        JoinGuard *g = guards;
        for (; g; g = g->next_guard) {
                size_t i = 0;
                while (i < g->n_listeners && g->listeners[i] != lev)
                        i++;
                if (i < g->n_listeners)
                        break;
        }
        if (!g)
                return;
        g->accept_errors++;
        g->accept_errno = e;
        /* A descriptor for the next one, and a pause instead of a loop that fails again at once. */
        Conn *victim = idle_longest(g);
        if (victim)
                conn_drop(victim, DROP_FULL);
        for (size_t i = 0; i < g->n_listeners; i++)
                (void) evconnlistener_disable(g->listeners[i]);
        static const struct timeval pause = { .tv_sec = ACCEPT_PAUSE_SEC };
        (void) event_add(g->resume, &pause);
}

int join_guard_watch_listener(JoinGuard *g, struct evconnlistener *lev) {
        if (g->n_listeners >= LISTENERS_MAX)
                return -E2BIG;
        g->listeners[g->n_listeners++] = lev;
        evconnlistener_set_error_cb(lev, on_accept_error);
        return 0;
}

static int describe_drops(const JoinGuard *g, StrBuf *b) {
        const JoinGuardLimits *l = &g->limits;
        int r = 0;
        for (int i = 0; i < _DROP_MAX && r >= 0; i++) {
                unsigned n = g->dropped[i];
                if (!n)
                        continue;
                r = strbuf_printf(b, "%s%u connection%s ", b->len ? "; " : "", n, n == 1 ? "" : "s");
                if (r < 0)
                        break;
                switch ((DropReason) i) {
                case DROP_SOURCE: {
                        char ip[IP_ADDR_STRLEN];
                        ip_addr_format(&g->refused_from, ip);
                        r = strbuf_printf(b, "refused: their address had %u open already (the last from %s)",
                                          l->per_source, ip);
                        break;
                }
                case DROP_FULL:
                        r = strbuf_printf(b, "closed, idle longest, at the limit of %u open", l->max_open);
                        break;
                case DROP_HANDSHAKE:
                        r = strbuf_printf(b, "closed: no TLS handshake within %u s", l->handshake_sec);
                        break;
                case DROP_REQUEST:
                        r = strbuf_printf(b, "closed: no whole request within %u s", l->request_sec);
                        break;
                case _DROP_MAX:
                        break;
                }
        }
        if (r >= 0 && g->accept_errors)
                r = strbuf_printf(b, "%saccept() failed %u time%s (%s): new connections paused %d s each time",
                                  b->len ? "; " : "", g->accept_errors, g->accept_errors == 1 ? "" : "s",
                                  strerror(g->accept_errno), ACCEPT_PAUSE_SEC);
        return r;
}

static void on_report(evutil_socket_t fd, short what, void *userdata) {
        JoinGuard *g = userdata;
        StrBuf b = {};
        if (describe_drops(g, &b) >= 0 && b.len)
                log_warning("join: in the last %d s, %s; %u open now", REPORT_EVERY_SEC, b.s, g->n_live);
        strbuf_done(&b);
        memset(g->dropped, 0, sizeof(g->dropped));
        g->accept_errors = 0;
}

int join_guard_new(struct event_base *base, const JoinGuardLimits *limits, JoinGuard **ret) {
        if (conn_ex_index < 0) {
                conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free);
                if (conn_ex_index < 0)
                        return -ENOMEM;
        }
        JoinGuard *g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        *g = (JoinGuard) { .base = base, .limits = *limits };
        static const struct timeval every = { .tv_sec = REPORT_EVERY_SEC };
        g->resume = event_new(base, -1, 0, on_resume, g);
        g->report = event_new(base, -1, EV_PERSIST, on_report, g);
        if (!g->resume || !g->report || event_add(g->report, &every) < 0) {
                join_guard_free(g);
                return -ENOMEM;
        }
        g->next_guard = guards;
        guards = g;
        *ret = g;
        return 0;
}

void join_guard_free(JoinGuard *g) {
        if (!g)
                return;
        for (JoinGuard **p = &guards; *p; p = &(*p)->next_guard)
                if (*p == g) {
                        *p = g->next_guard;
                        break;
                }
        /* Connections evhttp did not free (none, after evhttp_free()): forgotten, left to their SSL. */
        while (g->conns) {
                Conn *c = g->conns;
                SSL_set_ex_data(c->ssl, conn_ex_index, NULL);
                conn_forget(c);
        }
        if (g->resume)
                event_free(g->resume);
        if (g->report)
                event_free(g->report);
        free(g);
}
