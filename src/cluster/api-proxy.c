/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "api-proxy.h"
#include "log.h"
#include "macro.h"
#include "net-util.h"
#include "banned.h"

/* What one side may have waiting to be written before the other side is read no further. */
#define RELAY_HIGH_WATER (256 * 1024)

typedef struct Upstream {
        struct sockaddr_storage sa;
        socklen_t len;
        char name[IP_ADDR_STRLEN + 8];
        time_t rest_until; /* tried again after this (CLOCK_MONOTONIC seconds), unless every upstream rests */
        bool down;         /* said so in the log; said again when it answers */
} Upstream;

/* One client connection and the upstream it is relayed to (or being connected to). Freed when both are
 * gone. */
typedef struct Relay {
        struct ApiProxy *proxy;
        struct Relay *prev, *next; /* the proxy's relays */
        struct bufferevent *client, *upstream;
        size_t current;  /* the upstream tried or in use */
        uint64_t tried;  /* upstreams tried for this connection, a bit each */
        /* Inside bufferevent_socket_connect(), which may report a failure through the event callback
         * before it returns (and then return -1 too): noted there, handled once after the call. */
        bool in_connect;
        int connect_error;
} Relay;

struct ApiProxy {
        struct event_base *base;
        struct evconnlistener *listener;
        Upstream upstreams[API_PROXY_MAX_UPSTREAMS];
        size_t n_upstreams, next;
        Relay *relays;
        unsigned n_relays;
        time_t none_logged; /* when "no API server answers" was last logged */
        struct event *resume; /* accepts again after a pause (on_accept_error()) */
        time_t accept_logged;
        unsigned accept_errors; /* since accept_logged */
};

static time_t now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
}

static void relay_free(Relay *r) {
        ApiProxy *p = r->proxy;
        if (r->client)
                bufferevent_free(r->client);
        if (r->upstream)
                bufferevent_free(r->upstream);
        if (r->prev)
                r->prev->next = r->next;
        else
                p->relays = r->next;
        if (r->next)
                r->next->prev = r->prev;
        p->n_relays--;
        free(r);
}

/* The next upstream to try for r: the first untried one from the proxy's turn that is not resting, else the
 * first untried one. -ENOENT when all were tried. */
static int pick(Relay *r, size_t *ret) {
        ApiProxy *p = r->proxy;
        time_t now = now_sec();
        bool found = false;
        size_t first = 0;
        for (size_t k = 0; k < p->n_upstreams; k++) {
                size_t i = (p->next + k) % p->n_upstreams;
                if (r->tried & (UINT64_C(1) << i))
                        continue;
                if (p->upstreams[i].rest_until <= now) {
                        *ret = i;
                        return 0;
                }
                if (!found)
                        first = i, found = true;
        }
        if (!found)
                return -ENOENT;
        *ret = first;
        return 0;
}

static struct bufferevent *partner_of(Relay *r, struct bufferevent *bev) {
        return bev == r->client ? r->upstream : r->client;
}

static void relay_read(struct bufferevent *bev, void *userdata);
static void relay_event(struct bufferevent *bev, short events, void *userdata);

/* The partner's output drained below half the high-water mark: read bev's partner again. */
static void relay_drained(struct bufferevent *bev, void *userdata) {
        Relay *r = userdata;
        struct bufferevent *partner = partner_of(r, bev);
        bufferevent_setcb(bev, relay_read, NULL, relay_event, r);
        bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
        if (partner)
                bufferevent_enable(partner, EV_READ);
}

static void relay_read(struct bufferevent *bev, void *userdata) {
        Relay *r = userdata;
        struct bufferevent *partner = partner_of(r, bev);
        struct evbuffer *in = bufferevent_get_input(bev);
        if (!partner) {
                evbuffer_drain(in, evbuffer_get_length(in));
                return;
        }
        struct evbuffer *out = bufferevent_get_output(partner);
        evbuffer_add_buffer(out, in);
        if (evbuffer_get_length(out) >= RELAY_HIGH_WATER) {
                bufferevent_setwatermark(partner, EV_WRITE, RELAY_HIGH_WATER / 2, RELAY_HIGH_WATER);
                bufferevent_setcb(partner, relay_read, relay_drained, relay_event, r);
                bufferevent_disable(bev, EV_READ);
        }
}

static void forget(Relay *r, struct bufferevent *bev) {
        if (bev == r->client)
                r->client = NULL;
        else
                r->upstream = NULL;
        bufferevent_free(bev);
}

/* The side that is left has written what it had: the relay ends. */
static void relay_flushed(struct bufferevent *bev, void *userdata) {
        Relay *r = userdata;
        if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
                return;
        forget(r, bev);
        relay_free(r);
}

static void relay_flush_event(struct bufferevent *bev, short events, void *userdata) {
        Relay *r = userdata;
        (void) events;
        forget(r, bev);
        relay_free(r);
}

/* One side closed or failed: what it sent goes to the other side, which is closed once it has written it. */
static void relay_event(struct bufferevent *bev, short events, void *userdata) {
        Relay *r = userdata;
        if (!(events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
                return;
        struct bufferevent *partner = partner_of(r, bev);
        if (partner)
                relay_read(bev, r);
        forget(r, bev);
        if (partner && evbuffer_get_length(bufferevent_get_output(partner)) > 0) {
                bufferevent_setcb(partner, NULL, relay_flushed, relay_flush_event, r);
                bufferevent_setwatermark(partner, EV_WRITE, 0, 0);
                bufferevent_disable(partner, EV_READ);
                return;
        }
        relay_free(r);
}

static void try_upstream(Relay *r);

static void upstream_failed(Relay *r, const char *why) {
        ApiProxy *p = r->proxy;
        Upstream *u = p->upstreams + r->current;
        u->rest_until = now_sec() + API_PROXY_REST_SEC;
        if (!u->down) {
                log_warning("api-proxy: %s does not answer (%s): the others first for %d s", u->name, why,
                            API_PROXY_REST_SEC);
                u->down = true;
        }
        if (r->upstream) {
                bufferevent_free(r->upstream);
                r->upstream = NULL;
        }
        try_upstream(r);
}

static void upstream_connecting(struct bufferevent *bev, short events, void *userdata) {
        Relay *r = userdata;
        if (r->in_connect) {
                r->connect_error = EVUTIL_SOCKET_ERROR() ?: EIO;
                return;
        }
        if (events & BEV_EVENT_CONNECTED) {
                Upstream *u = r->proxy->upstreams + r->current;
                if (u->down)
                        log_info("api-proxy: %s answers again", u->name);
                u->down = false;
                u->rest_until = 0;
                int one = 1;
                (void) setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
                (void) setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                bufferevent_set_timeouts(bev, NULL, NULL);
                bufferevent_setcb(bev, relay_read, NULL, relay_event, r);
                bufferevent_setcb(r->client, relay_read, NULL, relay_event, r);
                bufferevent_enable(bev, EV_READ | EV_WRITE);
                bufferevent_enable(r->client, EV_READ | EV_WRITE);
                return;
        }
        upstream_failed(r, events & BEV_EVENT_TIMEOUT ? "no answer in time" : strerror(EVUTIL_SOCKET_ERROR()));
}

/* The client went away while its upstream was being connected. */
static void client_waiting(struct bufferevent *bev, short events, void *userdata) {
        (void) bev;
        if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
                relay_free(userdata);
}

/* Connects r to the next upstream to try; ends r when every upstream was tried. */
static void try_upstream(Relay *r) {
        ApiProxy *p = r->proxy;
        size_t i;
        if (pick(r, &i) < 0) {
                time_t now = now_sec();
                if (now - p->none_logged >= API_PROXY_REST_SEC) {
                        log_warning("api-proxy: no API server answers: connections are closed until one does");
                        p->none_logged = now;
                }
                relay_free(r);
                return;
        }
        r->current = i;
        r->tried |= UINT64_C(1) << i;
        p->next = (i + 1) % p->n_upstreams;
        r->upstream = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!r->upstream) {
                relay_free(r);
                return;
        }
        struct timeval connect_timeout = { .tv_sec = API_PROXY_CONNECT_SEC };
        bufferevent_setcb(r->upstream, NULL, NULL, upstream_connecting, r);
        bufferevent_set_timeouts(r->upstream, NULL, &connect_timeout);
        r->in_connect = true;
        r->connect_error = 0;
        int k = bufferevent_socket_connect(r->upstream, (struct sockaddr *) &p->upstreams[i].sa, (int) p->upstreams[i].len);
        if (k < 0 && r->connect_error == 0)
                r->connect_error = errno ?: EIO;
        r->in_connect = false;
        if (k >= 0 && r->connect_error == 0)
                return;
        int e = r->connect_error;
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                /* This node's limit, not the upstream's fault: the connection is closed, the upstream not
                 * passed over. */
                time_t now = now_sec();
                if (now - p->accept_logged >= 10) {
                        log_warning("api-proxy: cannot open a connection to %s: %s; a connection closed", p->upstreams[i].name,
                                    strerror(e));
                        p->accept_logged = now;
                }
                relay_free(r);
                return;
        }
        upstream_failed(r, strerror(e));
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *userdata) {
        ApiProxy *p = userdata;
        (void) l;
        (void) sa;
        (void) len;
        if (p->n_relays >= API_PROXY_MAX_RELAYS) {
                close(fd);
                return;
        }
        Relay *r = calloc(1, sizeof(*r));
        if (!r) {
                close(fd);
                return;
        }
        r->proxy = p;
        r->next = p->relays;
        if (p->relays)
                p->relays->prev = r;
        p->relays = r;
        p->n_relays++;
        r->client = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!r->client) {
                close(fd);
                relay_free(r);
                return;
        }
        /* TCP_NODELAY comes from the listening socket (ip_listen_socket()). Nothing is read from the client before its upstream is there: the kernel holds it meanwhile. */
        bufferevent_setcb(r->client, NULL, NULL, client_waiting, r);
        bufferevent_disable(r->client, EV_READ);
        try_upstream(r);
}

static void on_resume(evutil_socket_t fd, short events, void *userdata) {
        ApiProxy *p = userdata;
        (void) fd;
        (void) events;
        evconnlistener_enable(p->listener);
}

/* Out of descriptors or memory: the connection waits in the backlog, which stays readable. Accepting pauses
 * for a second (else this would spin, and log, as fast as the loop runs); a log line at most every 10 s. */
static void on_accept_error(struct evconnlistener *l, void *userdata) {
        ApiProxy *p = userdata;
        int e = EVUTIL_SOCKET_ERROR();
        time_t now = now_sec();
        p->accept_errors++;
        if (now - p->accept_logged >= 10) {
                log_warning("api-proxy: accept: %s (%u times since the last such line); pausing 1 s", strerror(e),
                            p->accept_errors);
                p->accept_logged = now;
                p->accept_errors = 0;
        }
        struct timeval pause = { .tv_sec = 1 };
        evconnlistener_disable(l);
        evtimer_add(p->resume, &pause);
}

static int endpoint(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        IpAddr ip;
        uint16_t port;
        if (ip_endpoint_parse(s, &ip, &port) < 0)
                return -EINVAL;
        *ret_len = ip_sockaddr(&ip, port, ret);
        return 0;
}

int api_proxy_new(struct event_base *base, const char *listen_on, char *const *upstreams, size_t n_upstreams,
                  ApiProxy **ret) {
        if (n_upstreams == 0 || n_upstreams > API_PROXY_MAX_UPSTREAMS)
                return -EINVAL;
        ApiProxy *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->base = base;
        for (size_t i = 0; i < n_upstreams; i++) {
                Upstream *u = p->upstreams + i;
                if (endpoint(upstreams[i], &u->sa, &u->len) < 0 || strlen(upstreams[i]) >= sizeof(u->name)) {
                        free(p);
                        return -EINVAL;
                }
                memcpy(u->name, upstreams[i], strlen(upstreams[i]) + 1);
        }
        p->n_upstreams = n_upstreams;

        IpAddr ip;
        uint16_t port;
        int fd = ip_endpoint_parse(listen_on, &ip, &port) < 0 ? -EINVAL : ip_listen_socket(&ip, port, 512, false);
        if (fd < 0) {
                free(p);
                return fd;
        }
        /* Backlog 0: listen() was called above. */
        p->listener = evconnlistener_new(base, on_accept, p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
        if (!p->listener) {
                close(fd);
                free(p);
                return -ENOMEM;
        }
        evconnlistener_set_error_cb(p->listener, on_accept_error);
        p->resume = evtimer_new(base, on_resume, p);
        if (!p->resume) {
                api_proxy_free(p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

void api_proxy_free(ApiProxy *p) {
        if (!p)
                return;
        while (p->relays)
                relay_free(p->relays);
        if (p->resume)
                event_free(p->resume);
        evconnlistener_free(p->listener);
        free(p);
}
