/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"
#include "net-util.h"
#include "string-util.h"
#include "banned.h"

int ip_addr_parse(const char *s, IpAddr *ret) {
        IpAddr a = {};

        if (inet_pton(AF_INET, s, a.bytes) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, s, a.bytes) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

static void mask_bits(IpAddr *a, unsigned prefixlen, bool set) {
        for (unsigned i = 0; i < ip_addr_bits(a) / 8; i++) {
                unsigned lo = i * 8;
                uint8_t hostmask = prefixlen >= lo + 8 ? 0 : prefixlen <= lo ? 0xFF : (uint8_t) (0xFF >> (prefixlen - lo));
                if (set)
                        a->bytes[i] |= hostmask;
                else
                        a->bytes[i] &= (uint8_t) ~hostmask;
        }
}

int ip_prefix_parse(const char *s, IpPrefix *ret, bool *ret_host_bits_set) {
        if (ret_host_bits_set)
                *ret_host_bits_set = false;

        const char *slash = strchr(s, '/');
        if (!slash || slash == s || slash - s >= IP_ADDR_STRLEN)
                return -EINVAL;

        char addr[IP_ADDR_STRLEN];
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = 0;

        IpPrefix p = {};
        if (ip_addr_parse(addr, &p.addr) < 0)
                return -EINVAL;

        const char *len = slash + 1;
        if (!isdigit((unsigned char) len[0]) || strlen(len) > 3)
                return -EINVAL;
        char *end;
        unsigned long l = strtoul(len, &end, 10);
        if (*end || l > ip_addr_bits(&p.addr) || (len[0] == '0' && len[1]))
                return -EINVAL;
        p.prefixlen = (unsigned) l;

        IpAddr masked = p.addr;
        mask_bits(&masked, p.prefixlen, false);
        if (ip_addr_cmp(&masked, &p.addr) != 0) {
                if (ret_host_bits_set)
                        *ret_host_bits_set = true;
                return -EINVAL;
        }
        *ret = p;
        return 0;
}

int ip_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, IpAddr *ret) {
        static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
        if (len < (socklen_t) sizeof(sa_family_t))
                return -EINVAL;
        IpAddr a = {};
        if (sa->sa_family == AF_INET) {
                if (len < (socklen_t) sizeof(struct sockaddr_in))
                        return -EINVAL;
                a.family = AF_INET;
                memcpy(a.bytes, &((const struct sockaddr_in *) sa)->sin_addr, 4);
        } else if (sa->sa_family == AF_INET6) {
                if (len < (socklen_t) sizeof(struct sockaddr_in6))
                        return -EINVAL;
                const uint8_t *b = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
                if (memcmp(b, v4_mapped, sizeof(v4_mapped)) == 0) {
                        a.family = AF_INET;
                        memcpy(a.bytes, b + 12, 4);
                } else {
                        a.family = AF_INET6;
                        memcpy(a.bytes, b, 16);
                }
        } else
                return -EAFNOSUPPORT;
        *ret = a;
        return 0;
}

void ip_addr_format(const IpAddr *a, char buf[static IP_ADDR_STRLEN]) {
        if (!inet_ntop(a->family, a->bytes, buf, IP_ADDR_STRLEN))
                buf[0] = 0;
}

int ip_addr_cmp(const IpAddr *a, const IpAddr *b) {
        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

bool ip_prefix_contains(const IpPrefix *p, const IpAddr *a) {
        if (p->addr.family != a->family)
                return false;
        IpAddr masked = *a;
        mask_bits(&masked, p->prefixlen, false);
        return ip_addr_cmp(&masked, &p->addr) == 0;
}

bool ip_prefix_overlaps(const IpPrefix *a, const IpPrefix *b) {
        if (a->addr.family != b->addr.family)
                return false;
        /* Two prefixes overlap exactly when the shorter one contains the other's network address. */
        const IpPrefix *outer = a->prefixlen <= b->prefixlen ? a : b;
        const IpPrefix *inner = outer == a ? b : a;
        return ip_prefix_contains(outer, &inner->addr);
}

void ip_prefix_last(const IpPrefix *p, IpAddr *ret) {
        *ret = p->addr;
        mask_bits(ret, p->prefixlen, true);
}

int ip_prefix_nth(const IpPrefix *p, uint64_t n, IpAddr *ret) {
        IpAddr a = p->addr;
        unsigned nbytes = ip_addr_bits(&a) / 8;

        for (unsigned i = nbytes; i-- > 0 && n > 0;) {
                uint64_t sum = a.bytes[i] + (n & 0xFF);
                a.bytes[i] = (uint8_t) sum;
                n = (n >> 8) + (sum >> 8);
        }
        if (n > 0 || !ip_prefix_contains(p, &a))
                return -ERANGE;
        *ret = a;
        return 0;
}

int mac_addr_normalize(const char *s, char ret[static 18]) {
        if (strlen(s) != 17)
                return -EINVAL;
        for (unsigned i = 0; i < 17; i++) {
                char c = s[i];
                if (i % 3 == 2) {
                        if (c != ':' && c != '-')
                                return -EINVAL;
                        ret[i] = ':';
                } else {
                        if (!isxdigit((unsigned char) c))
                                return -EINVAL;
                        ret[i] = (char) tolower((unsigned char) c);
                }
        }
        ret[17] = 0;
        return 0;
}

bool ip_addr_is_loopback(const IpAddr *a) {
        static const uint8_t v6_loopback[16] = { [15] = 1 };
        if (a->family == AF_INET)
                return a->bytes[0] == 127;
        return a->family == AF_INET6 && memcmp(a->bytes, v6_loopback, 16) == 0;
}

char *ip_endpoint_format(const IpAddr *ip, int64_t port) {
        char s[IP_ADDR_STRLEN];
        ip_addr_format(ip, s);
        bool v6 = ip->family == AF_INET6;
        return strprintf("%s%s%s:%" PRId64, v6 ? "[" : "", s, v6 ? "]" : "", port);
}

char *ip_url(const char *scheme, const IpAddr *ip, int64_t port, const char *path) {
        _cleanup_free_ char *endpoint = ip_endpoint_format(ip, port);
        return endpoint ? strprintf("%s://%s%s", scheme, endpoint, strempty(path)) : NULL;
}

int ip_endpoint_parse(const char *s, IpAddr *ret_ip, uint16_t *ret_port) {
        const char *colon = s ? strrchr(s, ':') : NULL;
        if (!colon || colon == s || !colon[1])
                return -EINVAL;
        const char *a = s, *end = colon;
        if (*s == '[') {
                if (end[-1] != ']')
                        return -EINVAL;
                a++, end--;
        }
        char addr[IP_ADDR_STRLEN];
        if ((size_t) (end - a) >= sizeof(addr))
                return -EINVAL;
        memcpy(addr, a, (size_t) (end - a));
        addr[end - a] = 0;
        IpAddr ip;
        if (ip_addr_parse(addr, &ip) < 0 || (ip.family == AF_INET6) != (*s == '['))
                return -EINVAL;
        char *e = NULL;
        errno = 0;
        unsigned long port = strtoul(colon + 1, &e, 10);
        if (errno || !e || *e || colon[1] < '0' || colon[1] > '9' || port == 0 || port > 65535)
                return -EINVAL;
        *ret_ip = ip;
        *ret_port = (uint16_t) port;
        return 0;
}

socklen_t ip_sockaddr(const IpAddr *ip, uint16_t port, struct sockaddr_storage *ret) {
        *ret = (struct sockaddr_storage) {};
        if (ip->family == AF_INET6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ret;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons(port);
                memcpy(&s6->sin6_addr, ip->bytes, 16);
                return sizeof(*s6);
        }
        struct sockaddr_in *s4 = (struct sockaddr_in *) ret;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, ip->bytes, 4);
        return sizeof(*s4);
}

int ip_listen_socket(const IpAddr *ip, uint16_t port, int backlog, bool freebind) {
        struct sockaddr_storage sa;
        socklen_t len = ip_sockaddr(ip, port, &sa);
        int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
            (freebind && (sa.ss_family == AF_INET6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one))
                                                   : setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one))) < 0) ||
            bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, backlog) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}
