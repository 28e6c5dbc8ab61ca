/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "net-util.h"

/* Health gates of the bootstrap stages: is a service up and answering. Each returns 0 when it is, -EAGAIN
 * when not (yet), with *ret_why (malloc()ed) saying what was seen: "connection refused", "HTTP 500",
 * "answered 'ok'"... Nothing is logged here. */

/* A TCP connection to ip:port can be made within timeout_ms. */
int health_tcp(const IpAddr *ip, int port, unsigned timeout_ms, char **ret_why);

/* GET url answers HTTP 200 (and, with expect, a body that starts with it). ca_file verifies the server;
 * NULL does not (a component's self-signed serving certificate, as kubeadm's own probes do). */
int health_http(const char *url, const char *ca_file, const char *expect, unsigned timeout_ms, char **ret_why);
