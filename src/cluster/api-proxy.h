/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <event2/event.h>
#include <stddef.h>

/* The API servers of every master at one address of this node (clusterboot-api-proxy.service, on a node that
 * runs a kubelet but no API server): a TCP relay. Each connection goes to one master, taken in turn; a master
 * that refuses or does not answer within API_PROXY_CONNECT_SEC rests for API_PROXY_REST_SEC and the
 * connection tries the next one; when every master rests, each is tried again. TLS passes through untouched:
 * the clients check the API servers' certificates (which name 127.0.0.1) themselves. When one side ends (EOF or
 * an error), the other is closed once it has written what it had: there is no half-close, which TLS clients
 * such as the kubelet do not use. */

#define API_PROXY_CONNECT_SEC 3
#define API_PROXY_REST_SEC 10
/* Connections relayed at once (two descriptors each); more are closed at once. */
#define API_PROXY_MAX_RELAYS 4096
/* At most this many upstreams. */
#define API_PROXY_MAX_UPSTREAMS 64

typedef struct ApiProxy ApiProxy;

/* A relay on base, listening on listen ("ADDR:PORT", "[IPV6]:PORT") to upstreams (the same form). -EINVAL: an
 * endpoint that is not one, or no upstream or too many; else what socket() or bind() failed with. */
int api_proxy_new(struct event_base *base, const char *listen, char *const *upstreams, size_t n_upstreams,
                  ApiProxy **ret);
void api_proxy_free(ApiProxy *p);
