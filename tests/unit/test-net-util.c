/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "net-util.h"
#include "string-util.h"
#include "tap.h"

static const char *fmt(const IpAddr *a) {
        static char buf[IP_ADDR_STRLEN];
        ip_addr_format(a, buf);
        return buf;
}

TEST(test_addr_parse) {
        IpAddr a;
        ASSERT_INT_EQ(ip_addr_parse("192.168.1.10", &a), 0);
        ASSERT_INT_EQ(a.family, AF_INET);
        ASSERT_STREQ(fmt(&a), "192.168.1.10");
        ASSERT_INT_EQ(ip_addr_parse("fd00::1", &a), 0);
        ASSERT_INT_EQ(a.family, AF_INET6);
        ASSERT_TRUE(ip_addr_parse("192.168.1.256", &a) < 0);
        ASSERT_TRUE(ip_addr_parse("192.168.1.1/24", &a) < 0);
        ASSERT_TRUE(ip_addr_parse(" 192.168.1.1", &a) < 0);
        ASSERT_TRUE(ip_addr_parse("", &a) < 0);
}

/* What getpeername() gives the join service: a client's address, IPv4-mapped ones as IPv4. */
TEST(test_addr_from_sockaddr) {
        IpAddr a;
        struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(9443) };
        inet_pton(AF_INET, "10.20.0.21", &s4.sin_addr);
        ASSERT_INT_EQ(ip_addr_from_sockaddr((struct sockaddr *) &s4, sizeof(s4), &a), 0);
        ASSERT_INT_EQ(a.family, AF_INET);
        ASSERT_STREQ(fmt(&a), "10.20.0.21");
        ASSERT_INT_EQ(ip_addr_from_sockaddr((struct sockaddr *) &s4, sizeof(s4) - 4, &a), -EINVAL);

        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
        inet_pton(AF_INET6, "fd00::21", &s6.sin6_addr);
        ASSERT_INT_EQ(ip_addr_from_sockaddr((struct sockaddr *) &s6, sizeof(s6), &a), 0);
        ASSERT_INT_EQ(a.family, AF_INET6);
        ASSERT_STREQ(fmt(&a), "fd00::21");
        inet_pton(AF_INET6, "::ffff:10.20.0.22", &s6.sin6_addr);
        ASSERT_INT_EQ(ip_addr_from_sockaddr((struct sockaddr *) &s6, sizeof(s6), &a), 0);
        ASSERT_INT_EQ(a.family, AF_INET);
        ASSERT_STREQ(fmt(&a), "10.20.0.22");

        struct sockaddr un = { .sa_family = AF_UNIX };
        ASSERT_INT_EQ(ip_addr_from_sockaddr(&un, sizeof(un), &a), -EAFNOSUPPORT);
}

TEST(test_prefix_parse) {
        IpPrefix p;
        bool host_bits;
        ASSERT_INT_EQ(ip_prefix_parse("10.96.0.0/12", &p, &host_bits), 0);
        ASSERT_INT_EQ(p.prefixlen, 12);
        ASSERT_TRUE(ip_prefix_parse("10.96.0.1/12", &p, &host_bits) < 0);
        ASSERT_TRUE(host_bits);
        ASSERT_TRUE(ip_prefix_parse("10.0.0.0/33", &p, &host_bits) < 0);
        ASSERT_TRUE(!host_bits);
        ASSERT_TRUE(ip_prefix_parse("10.0.0.0/", &p, NULL) < 0);
        ASSERT_TRUE(ip_prefix_parse("10.0.0.0/08", &p, NULL) < 0);
        ASSERT_TRUE(ip_prefix_parse("/8", &p, NULL) < 0);
        ASSERT_INT_EQ(ip_prefix_parse("0.0.0.0/0", &p, NULL), 0);
        ASSERT_INT_EQ(ip_prefix_parse("fd00::/64", &p, NULL), 0);
        ASSERT_INT_EQ(p.prefixlen, 64);
}

TEST(test_contains_overlaps) {
        IpPrefix node, pod, svc, inner;
        IpAddr a;
        ip_prefix_parse("192.168.1.0/24", &node, NULL);
        ip_prefix_parse("10.244.0.0/16", &pod, NULL);
        ip_prefix_parse("10.96.0.0/12", &svc, NULL);
        ip_prefix_parse("10.100.0.0/16", &inner, NULL);
        ip_addr_parse("192.168.1.77", &a);
        ASSERT_TRUE(ip_prefix_contains(&node, &a));
        ip_addr_parse("192.168.2.1", &a);
        ASSERT_TRUE(!ip_prefix_contains(&node, &a));
        ASSERT_TRUE(!ip_prefix_overlaps(&node, &pod));
        ASSERT_TRUE(!ip_prefix_overlaps(&pod, &svc));
        ASSERT_TRUE(ip_prefix_overlaps(&svc, &inner));
        ASSERT_TRUE(ip_prefix_overlaps(&inner, &svc));
        ip_addr_parse("fd00::1", &a);
        ASSERT_TRUE(!ip_prefix_contains(&node, &a)); /* another family is never inside */
}

TEST(test_nth_and_last) {
        IpPrefix svc, small, v6;
        IpAddr a;
        ip_prefix_parse("10.96.0.0/12", &svc, NULL);
        ASSERT_INT_EQ(ip_prefix_nth(&svc, 1, &a), 0);
        ASSERT_STREQ(fmt(&a), "10.96.0.1");
        ASSERT_INT_EQ(ip_prefix_nth(&svc, 10, &a), 0);
        ASSERT_STREQ(fmt(&a), "10.96.0.10");
        ASSERT_INT_EQ(ip_prefix_nth(&svc, 300, &a), 0);
        ASSERT_STREQ(fmt(&a), "10.96.1.44");
        ip_prefix_last(&svc, &a);
        ASSERT_STREQ(fmt(&a), "10.111.255.255");
        ip_prefix_parse("10.0.0.0/29", &small, NULL);
        ASSERT_TRUE(ip_prefix_nth(&small, 10, &a) < 0);
        ASSERT_INT_EQ(ip_prefix_nth(&small, 7, &a), 0);
        ip_prefix_parse("fd00:10:96::/112", &v6, NULL);
        ASSERT_INT_EQ(ip_prefix_nth(&v6, 10, &a), 0);
        ASSERT_STREQ(fmt(&a), "fd00:10:96::a");
}

/* "ADDR:PORT" and "[IPV6]:PORT", as `clusterboot api-proxy` takes its endpoints, and their sockaddr. */
TEST(test_endpoint_parse) {
        IpAddr a;
        uint16_t port;
        struct sockaddr_storage sa;
        ASSERT_INT_EQ(ip_endpoint_parse("10.20.0.11:6443", &a, &port), 0);
        ASSERT_STREQ(fmt(&a), "10.20.0.11");
        ASSERT_INT_EQ(port, 6443);
        ASSERT_INT_EQ(ip_sockaddr(&a, port, &sa), sizeof(struct sockaddr_in));
        ASSERT_INT_EQ(ntohs(((struct sockaddr_in *) &sa)->sin_port), 6443);
        ASSERT_INT_EQ(ip_endpoint_parse("[fd00::11]:7445", &a, &port), 0);
        ASSERT_STREQ(fmt(&a), "fd00::11");
        ASSERT_INT_EQ(port, 7445);
        ASSERT_INT_EQ(ip_sockaddr(&a, port, &sa), sizeof(struct sockaddr_in6));
        ASSERT_INT_EQ(sa.ss_family, AF_INET6);
        /* ip_endpoint_format() writes what ip_endpoint_parse() reads. */
        char *e = ip_endpoint_format(&a, port);
        bool same = e && streq(e, "[fd00::11]:7445");
        free(e);
        ASSERT_TRUE(same);
        static const char *const bad[] = { "10.20.0.11", "10.20.0.11:", "10.20.0.11:0", "10.20.0.11:65536",
                                           "10.20.0.11:+1", "10.20.0.11:1x", "fd00::11:7445", "[10.20.0.11]:7445",
                                           "[fd00::11:7445", "master-01:6443", ":6443", "" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (ip_endpoint_parse(bad[i], &a, &port) != -EINVAL)
                        TAP_FAIL("'%s' was taken as an endpoint", bad[i]);
}

TEST(test_mac_normalize) {
        char mac[18];
        ASSERT_INT_EQ(mac_addr_normalize("52:54:00:AB:cd:EF", mac), 0);
        ASSERT_STREQ(mac, "52:54:00:ab:cd:ef");
        ASSERT_INT_EQ(mac_addr_normalize("52-54-00-ab-cd-ef", mac), 0);
        ASSERT_STREQ(mac, "52:54:00:ab:cd:ef");
        ASSERT_TRUE(mac_addr_normalize("52:54:00:ab:cd", mac) < 0);
        ASSERT_TRUE(mac_addr_normalize("52:54:00:ab:cd:eg", mac) < 0);
        ASSERT_TRUE(mac_addr_normalize("5254.00ab.cdef.", mac) < 0);
}

int main(void) {
        RUN(test_addr_parse);
        RUN(test_addr_from_sockaddr);
        RUN(test_prefix_parse);
        RUN(test_contains_overlaps);
        RUN(test_nth_and_last);
        RUN(test_endpoint_parse);
        RUN(test_mac_normalize);
        return tap_done();
}
