/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <sys/resource.h>

/* The join service's guard against connection floods (slow or idle clients holding connections, many at
 * once). Every accepted connection is tracked from the moment evhttp asks for its bufferevent until its SSL
 * is freed. A connection is closed (shut down: evhttp sees the end and frees it) when
 *   - its address already holds per_source open connections (before its TLS handshake, at accept);
 *   - max_open are open and a new one comes: the one idle longest (no byte received) goes;
 *   - its TLS handshake is not done handshake_sec after accept;
 *   - it has not completed a request request_sec after accept or after its last answer (a client that
 *     sends a byte now and then defeats evhttp's own timeout, which is per read).
 * When accept() fails (out of file descriptors), the listeners stop for a second and the connection idle
 * longest is closed, rather than spinning on the error. What was refused or closed is logged once per 10 s
 * in one line, never per connection. */

#define JOIN_CONN_MAX 4096         /* open at once, whatever the file descriptor limit */
#define JOIN_CONN_FD_RESERVE 64    /* descriptors kept for the rest: etcd, logs, files */
#define JOIN_CONN_PER_SOURCE 64    /* open at once from one address (machines behind one NAT share it) */
#define JOIN_CONN_HANDSHAKE_SEC 10 /* accept to TLS handshake done */
#define JOIN_CONN_REQUEST_SEC 30   /* accept, or an answer, to the next request read whole */

typedef struct JoinGuardLimits {
        unsigned max_open;
        unsigned per_source;
        unsigned handshake_sec;
        unsigned request_sec;
} JoinGuardLimits;

/* The limits for a process whose RLIMIT_NOFILE soft limit is nofile: at most JOIN_CONN_MAX open, and
 * JOIN_CONN_FD_RESERVE descriptors below the limit (at least 16 connections). */
JoinGuardLimits join_guard_limits(rlim_t nofile);

typedef struct JoinGuard JoinGuard;

int join_guard_new(struct event_base *base, const JoinGuardLimits *limits, JoinGuard **ret);
/* After evhttp_free() (which frees the connections the guard tracks), before event_base_free(). */
void join_guard_free(JoinGuard *g);
/* evhttp's bufferevent callback made bev with ssl for a connection just accepted: tracked from now on. */
int join_guard_track(JoinGuard *g, struct bufferevent *bev, SSL *ssl);
/* A whole request arrived on the connection of req: the deadline for its next one starts now. */
void join_guard_request_read(JoinGuard *g, struct evhttp_request *req);
/* Stops lev on accept() errors for a while instead of letting it spin (at most 4 listeners). */
int join_guard_watch_listener(JoinGuard *g, struct evconnlistener *lev);
