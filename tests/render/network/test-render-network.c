/* SPDX-License-Identifier: Apache-2.0 */
/* The network renderer's /etc/hostname and /etc/hosts, on the examples and on small inventories made here:
 * undotted hostnames with and without cluster.domain, and fully qualified ones. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "render.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples;
static Report report;

/* An inventory from (name, content) pairs, NULL-terminated; NULL unless it is valid. */
static Inventory *load_mem(const char *const *files) {
        return test_load_mem_report(files, &report);
}


static int render(const Inventory *inv, const char *node, RenderSet *ret) {
        const Node *n = inventory_find_node(inv, node);
        if (!n)
                return -ENOENT;
        *ret = (RenderSet) {};
        return render_node(inv, n, NULL, "network", ret, NULL);
}

static const char *content(const RenderSet *s, const char *path) {
        const RenderedFile *f = render_set_find(s, path);
        return f ? f->content : NULL;
}

/* How many lines of text are exactly line. */
static unsigned count_line(const char *text, const char *line) {
        unsigned n = 0;
        size_t len = strlen(line);
        for (const char *p = text; p && *p;) {
                const char *e = strchrnul(p, '\n');
                if ((size_t) (e - p) == len && strncmp(p, line, len) == 0)
                        n++;
                p = *e ? e + 1 : e;
        }
        return n;
}

#define CLUSTER_HEAD                                                                                         \
        "cluster:\n"                                                                                         \
        "  name: t\n"                                                                                        \
        "  services: [kubernetes]\n"                                                                         \
        "  networking:\n"                                                                                    \
        "    node_cidr: 10.0.0.0/24\n"                                                                       \
        "    pod_cidr: 10.244.0.0/16\n"                                                                      \
        "    service_cidr: 10.96.0.0/12\n"

/* What the examples' undotted hostnames have always had: HOSTNAME.DOMAIN HOSTNAME. */
TEST(test_homelab_hosts) {
        Inventory *inv = test_load_example(examples, "homelab");
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "worker-01", &s), 0);
        ASSERT_STREQ(content(&s, "/etc/hostname"), "worker-01\n");
        const char *hosts = content(&s, "/etc/hosts");
        ASSERT_NOT_NULL(hosts);
        ASSERT_INT_EQ(count_line(hosts, "127.0.0.1\tlocalhost"), 1);
        ASSERT_INT_EQ(count_line(hosts, "192.168.1.10\tmaster-01.homelab.lan master-01"), 1);
        ASSERT_INT_EQ(count_line(hosts, "192.168.1.11\tworker-01.homelab.lan worker-01"), 1);
        render_set_done(&s);
        inventory_free(inv);
}

/* networkd writes no resolv.conf: the renderer does, from cluster.networking.dns_servers and the domain
 * (the kubelet gives it to every pod, and fails a pod sandbox without it). NetworkManager writes its own. */
TEST(test_resolv_conf) {
        Inventory *inv = test_load_example(examples, "ha");
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "worker-01", &s), 0);
        const char *resolv = content(&s, "/etc/resolv.conf");
        ASSERT_NOT_NULL(resolv);
        ASSERT_INT_EQ(count_line(resolv, "nameserver 10.20.0.1"), 1);
        ASSERT_INT_EQ(count_line(resolv, "search ha.example.lan"), 1);
        ASSERT_NOT_NULL(content(&s, "/etc/systemd/network/10-clusterboot.network"));
        render_set_done(&s);
        inventory_free(inv);

        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "    dns_servers: [10.0.0.1, 10.0.0.2]\n"
                             "nodes:\n"
                             "  - { name: m, ip: 10.0.0.10, roles: [master] }\n",
                NULL,
        };
        inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(render(inv, "m", &s), 0);
        resolv = content(&s, "/etc/resolv.conf");
        ASSERT_NOT_NULL(resolv);
        /* Every server, in the inventory's order; no search line without a domain. */
        ASSERT_NOT_NULL(strstr(resolv, "nameserver 10.0.0.1\nnameserver 10.0.0.2\n"));
        ASSERT_NULL(strstr(resolv, "search"));
        render_set_done(&s);
        inventory_free(inv);
}

TEST(test_fqdn_hostnames) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "  domain: lab.internal\n"
                             "nodes:\n"
                             "  - { name: m, ip: 10.0.0.10, roles: [master], hostname: cp-a.lab.internal }\n"
                             "  - { name: a, ip: 10.0.0.11, roles: [worker], hostname: wk-1.dc2.example.com }\n"
                             "  - { name: b, ip: 10.0.0.12, roles: [worker], hostname: b.lab.internal }\n"
                             "  - { name: c, ip: 10.0.0.13, roles: [worker], hostname: cee }\n"
                             "  - { name: d, ip: 10.0.0.14, roles: [worker] }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "a", &s), 0);
        /* The hostname as written. */
        ASSERT_STREQ(content(&s, "/etc/hostname"), "wk-1.dc2.example.com\n");
        const char *hosts = content(&s, "/etc/hosts");
        ASSERT_NOT_NULL(hosts);
        /* IP FQDN SHORT [NAME]: a dotted hostname is the FQDN, never with the domain appended. */
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.10\tcp-a.lab.internal cp-a m"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.11\twk-1.dc2.example.com wk-1 a"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.12\tb.lab.internal b"), 1);
        /* Undotted: as before, HOSTNAME.DOMAIN HOSTNAME [NAME]. */
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.13\tcee.lab.internal cee c"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.14\td.lab.internal d"), 1);
        ASSERT_NULL(strstr(hosts, ".com.lab.internal"));
        render_set_done(&s);

        ASSERT_INT_EQ(render(inv, "m", &s), 0);
        ASSERT_STREQ(content(&s, "/etc/hostname"), "cp-a.lab.internal\n");
        render_set_done(&s);
        inventory_free(inv);
}

TEST(test_no_domain) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD "nodes:\n"
                             "  - { name: m, ip: 10.0.0.10, roles: [master], hostname: cp-a.lab.internal }\n"
                             "  - { name: c, ip: 10.0.0.13, roles: [worker], hostname: cee }\n"
                             "  - { name: d, ip: 10.0.0.14, roles: [worker] }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s;
        ASSERT_INT_EQ(render(inv, "d", &s), 0);
        const char *hosts = content(&s, "/etc/hosts");
        ASSERT_NOT_NULL(hosts);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.10\tcp-a.lab.internal cp-a m"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.13\tcee c"), 1);
        ASSERT_INT_EQ(count_line(hosts, "10.0.0.14\td"), 1);
        render_set_done(&s);
        inventory_free(inv);
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        RUN(test_homelab_hosts);
        RUN(test_resolv_conf);
        RUN(test_fqdn_hostnames);
        RUN(test_no_domain);
        report_done(&report);
        return tap_done();
}
