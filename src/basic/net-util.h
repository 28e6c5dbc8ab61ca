/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 address, kept as 16 bytes in network order (IPv4 in the first 4) so that prefix
 * arithmetic is the same code for both. */
typedef struct IpAddr {
        int family; /* AF_INET or AF_INET6 */
        uint8_t bytes[16];
} IpAddr;

typedef struct IpPrefix {
        IpAddr addr; /* the network address: host bits are zero */
        unsigned prefixlen;
} IpPrefix;

#define IP_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

static inline unsigned ip_addr_bits(const IpAddr *a) {
        return a->family == AF_INET ? 32 : 128;
}

/* Parses a plain address: no prefix, no zone, no surrounding space. */
int ip_addr_parse(const char *s, IpAddr *ret);
/* Parses "ADDR/LEN". Host bits must be zero (192.168.1.0/24, not 192.168.1.5/24): -EINVAL otherwise,
 * with *ret_host_bits_set (if given) set to true, so callers can say why. */
int ip_prefix_parse(const char *s, IpPrefix *ret, bool *ret_host_bits_set);

/* The address of a sockaddr_in or sockaddr_in6 (an IPv4-mapped IPv6 address as the IPv4 one); -EAFNOSUPPORT
 * for another family, -EINVAL when len is short. */
int ip_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, IpAddr *ret);
void ip_addr_format(const IpAddr *a, char buf[static IP_ADDR_STRLEN]);
int ip_addr_cmp(const IpAddr *a, const IpAddr *b);

bool ip_prefix_contains(const IpPrefix *p, const IpAddr *a);
/* "SCHEME://IP:PORT" + path (IPv6 in brackets), or NULL when out of memory. */
char *ip_url(const char *scheme, const IpAddr *ip, int64_t port, const char *path);
/* "IP:PORT" or "[IPV6]:PORT" (what ip_endpoint_parse() reads), or NULL when out of memory. */
char *ip_endpoint_format(const IpAddr *ip, int64_t port);
/* 127.0.0.0/8 or ::1. */
bool ip_addr_is_loopback(const IpAddr *a);
bool ip_prefix_overlaps(const IpPrefix *a, const IpPrefix *b);
/* The last address of the prefix (the IPv4 broadcast address). */
void ip_prefix_last(const IpPrefix *p, IpAddr *ret);
/* The network address plus n, e.g. n=1 gives the first host. -ERANGE when that leaves the prefix. */
int ip_prefix_nth(const IpPrefix *p, uint64_t n, IpAddr *ret);

/* Parses "ADDR:PORT" or "[IPV6]:PORT" (port 1-65535). */
int ip_endpoint_parse(const char *s, IpAddr *ret_ip, uint16_t *ret_port);
/* The sockaddr_in or sockaddr_in6 of ip and port, and its length. */
socklen_t ip_sockaddr(const IpAddr *ip, uint16_t port, struct sockaddr_storage *ret);
/* A non-blocking, close-on-exec TCP socket listening on ip and port with backlog: SO_REUSEADDR, TCP_NODELAY
 * (which accepted sockets inherit on Linux), and with freebind IP_FREEBIND (systemd's FreeBind=: the address
 * may come later). The descriptor, or -errno. */
int ip_listen_socket(const IpAddr *ip, uint16_t port, int backlog, bool freebind);

/* Parses a MAC address "aa:bb:cc:dd:ee:ff" (any case, ':' or '-') into canonical lowercase with ':'. */
int mac_addr_normalize(const char *s, char ret[static 18]);
