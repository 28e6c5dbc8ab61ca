/* SPDX-License-Identifier: Apache-2.0 */
/* CoreDNS on a dns-server node: the cluster's zone answered from a hosts file that names every node (by
 * its hostname's first label and its name under the zone, and by its hostname when that is a FQDN), with a
 * zone file holding only the zone's SOA and NS behind it (so that a name in the zone that is not a
 * node gets NXDOMAIN with the SOA: the hosts plugin alone answers SERVFAIL there, having no SOA -- seen
 * with the real CoreDNS 1.11.1 in tests/coredns), and everything else forwarded to the inventory's
 * upstream servers. Both server blocks bind the same
 * addresses: CoreDNS requires that of blocks sharing a port (plugin/bind, "Avoiding Listener
 * Contention"). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "paths.h"
#include "renderers.h"
#include "banned.h"

static char *hosts_path(const Inventory *inv) {
        return strprintf(COREDNS_CONFIG_DIR "/hosts.%s", inv->dns.zone.v);
}

static char *zone_path(const Inventory *inv) {
        return strprintf(COREDNS_CONFIG_DIR "/db.%s", inv->dns.zone.v);
}

/* A node's FQDN (a dotted hostname) that is not in the zone: the "." block answers for it. */
static bool fqdn_outside_zone(const Node *n, const char *zone) {
        if (!n->ip_valid || !hostname_is_dotted(n->hostname))
                return false;
        size_t len = strlen(n->hostname), zlen = strlen(zone);
        bool inside = streq(n->hostname, zone) || (len > zlen && n->hostname[len - zlen - 1] == '.' &&
                                                   streq(n->hostname + len - zlen, zone));
        return !inside;
}

/* The node's address and the loopback one, so that the node itself can use its server. */
static int write_bind(StrBuf *b, const Node *n) {
        char ip[IP_ADDR_STRLEN];
        render_ip(&n->ip, ip);
        return strbuf_printf(b, "    bind %s 127.0.0.1%s\n", ip, n->ip.family == AF_INET6 ? " ::1" : "");
}

/* Nodes whose hostname is a FQDN outside the zone answer to it too: the hosts plugin in the "." block,
 * authoritative for exactly those names (its ZONES), from the zone's hosts file. Any other name, of their
 * domains too, falls through to the forwarders as before; no_reverse leaves PTR queries to them as well. */
static int write_outside_fqdns(StrBuf *b, const Inventory *inv, const char *hosts) {
        const char *zone = inv->dns.zone.v;
        bool any = false;
        int r = 0;

        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *n = inv->nodes + i;
                if (!fqdn_outside_zone(n, zone))
                        continue;
                if (!any)
                        r = strbuf_printf(b, "    # FQDNs of nodes outside %s: only these names, the rest goes on\n"
                                             "    hosts %s",
                                          zone, hosts);
                r = r ?: strbuf_printf(b, " %s", n->hostname);
                any = true;
        }
        if (any)
                r = r ?: strbuf_append(b, " {\n"
                                          "        no_reverse\n"
                                          "        fallthrough\n"
                                          "    }\n");
        return r;
}

static int render_corefile(const RenderContext *c, RenderSet *out) {
        const DnsConfig *d = &c->inv->dns;
        _cleanup_free_ char *hosts = hosts_path(c->inv), *zone = zone_path(c->inv);
        StrBuf b = {};
        int r;

        if (!hosts || !zone)
                return -ENOMEM;
        r = render_header(&b, "#");

        /* Nodes from the hosts file; any other name of the zone falls through to the zone file, which has
         * only the SOA and NS: NXDOMAIN (or NODATA) with the SOA, never asked upstream. */
        r = r ?: strbuf_printf(&b, "\n%s:%" PRId64 " {\n", d->zone.v, d->port.v);
        r = r ?: write_bind(&b, c->node);
        r = r ?: strbuf_printf(&b, "    hosts %s {\n"
                                   "        fallthrough\n"
                                   "    }\n"
                                   "    file %s\n", hosts, zone);
        r = r ?: strbuf_append(&b, "    errors\n"
                                   "    cache 30\n"
                                   "    reload\n"
                                   "}\n");

        /* Kubernetes' cluster domain: Services and pods from the API server, as the kube-dns Service in front
         * of these nodes promises (kube_objects()). Answered here, never forwarded. */
        if (node_serves_cluster_dns(c->inv, c->node)) {
                const char *domain = c->inv->cluster.networking.cluster_domain.v;
                r = r ?: strbuf_printf(&b, "\n%s:%" PRId64 " {\n", domain, d->port.v);
                r = r ?: write_bind(&b, c->node);
                r = r ?: strbuf_printf(&b, "    kubernetes %s {\n"
                                           "        kubeconfig %s\n"
                                           "        pods insecure\n"
                                           "        ttl 30\n"
                                           "    }\n"
                                           "    errors\n"
                                           "    cache 30\n"
                                           "    reload\n"
                                           "}\n",
                                       domain, COREDNS_KUBECONFIG_CREDENTIAL);
        }

        r = r ?: strbuf_printf(&b, "\n.:%" PRId64 " {\n", d->port.v);
        r = r ?: write_bind(&b, c->node);
        r = r ?: write_outside_fqdns(&b, c->inv, hosts);
        if (d->forwarders.n > 0) {
                r = r ?: strbuf_append(&b, "    forward .");
                for (size_t i = 0; i < d->forwarders.n; i++)
                        r = r ?: strbuf_printf(&b, " %s", d->forwarders.items[i].v);
                r = r ?: strbuf_append(&b, "\n");
        } else
                /* Nothing to forward to: names outside the zone fail at once instead of timing out. */
                r = r ?: strbuf_append(&b, "    # no forwarders in the inventory (dns.forwarders, "
                                           "cluster.networking.dns_servers)\n");
        r = r ?: strbuf_append(&b, "    errors\n"
                                   "    cache 30\n"
                                   "    loop\n"
                                   "    reload\n"
                                   "}\n");

        r = r ?: render_set_add(out, COREDNS_CONFIG_DIR "/Corefile", 0644, &b);
        strbuf_done(&b);
        return r;
}

/* The unit's part of the cluster domain: CoreDNS's kubeconfig (root's, 0600) handed to its transient user as
 * a credential, and not started before the node's certificates brought it (the role target starts the unit
 * at boot, the stage dns again after the stage certificates), as the other units wait for their secrets. */
static int render_unit_dropin(RenderSet *out) {
        StrBuf b = {};
        int r = render_header(&b, "#");
        r = r ?: strbuf_printf(&b, "\n[Unit]\n"
                                   "ConditionPathExists=%s\n"
                                   "\n[Service]\n"
                                   "LoadCredential=kubeconfig:%s\n",
                               COREDNS_KUBECONFIG, COREDNS_KUBECONFIG);
        r = r ?: render_set_add(out, COREDNS_UNIT_DROPIN, 0644, &b);
        strbuf_done(&b);
        return r;
}

static int render_zone_hosts(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        const char *zone = inv->dns.zone.v;
        _cleanup_free_ char *path = hosts_path(inv);
        StrBuf b = {};
        int r;

        if (!path)
                return -ENOMEM;
        r = render_header(&b, "#");
        r = r ?: strbuf_append(&b, "\n");
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *n = inv->nodes + i;
                char ip[IP_ADDR_STRLEN], buf[DNS_LABEL_MAX + 1];
                if (!n->ip_valid)
                        continue;
                render_ip(&n->ip, ip);
                /* Names must be fully qualified: each hosts plugin serves only the names inside its zones.
                 * A node is SHORT.ZONE (its hostname's first label), NAME.ZONE when that differs, and its
                 * hostname when that is a FQDN (inside the zone or outside, for the "." block). */
                const char *short_name = hostname_first_label(n->hostname, buf);
                const char *dot = strchr(n->hostname, '.');
                r = strbuf_printf(&b, "%s\t%s.%s", ip, short_name, zone);
                if (!streq(n->name, short_name))
                        r = r ?: strbuf_printf(&b, " %s.%s", n->name, zone);
                if (dot && !streq(dot + 1, zone))
                        r = r ?: strbuf_printf(&b, " %s", n->hostname);
                r = r ?: strbuf_append(&b, "\n");
        }
        r = r ?: render_set_add(out, path, 0644, &b);
        strbuf_done(&b);
        return r;
}

/* The zone's apex: SOA and one NS per dns-server node, with their addresses (RFC 1035 master file). The
 * serial never needs to change: the records only change with the inventory, and CoreDNS reloads the file
 * when its Corefile is reloaded. */
static int render_zone_file(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        const char *zone = inv->dns.zone.v;
        _cleanup_free_ char *path = zone_path(inv);
        const Node *primary = NULL;
        char buf[DNS_LABEL_MAX + 1];
        StrBuf b = {};
        int r;

        if (!path)
                return -ENOMEM;
        for (size_t i = 0; i < inv->n_nodes && !primary; i++)
                if (inv->nodes[i].roles[ROLE_DNS_SERVER] && inv->nodes[i].ip_valid)
                        primary = inv->nodes + i;
        if (!primary)
                primary = c->node;
        r = render_header(&b, ";");
        r = r ?: strbuf_printf(&b, "\n$ORIGIN %s.\n$TTL 30\n"
                                   "@\tIN SOA %s.%s. hostmaster.%s. 1 7200 3600 1209600 30\n",
                               zone, hostname_first_label(primary->hostname, buf), zone, zone);
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *n = inv->nodes + i;
                if (n->roles[ROLE_DNS_SERVER] && n->ip_valid)
                        r = strbuf_printf(&b, "@\tIN NS %s.%s.\n", hostname_first_label(n->hostname, buf),
                                          zone);
        }
        r = r ?: render_set_add(out, path, 0644, &b);
        strbuf_done(&b);
        return r;
}

int render_coredns(const RenderContext *c, RenderSet *out) {
        if (!c->node->ip_valid || !c->inv->dns.zone.v)
                return -EINVAL;
        int r = render_corefile(c, out);
        r = r ?: render_zone_hosts(c, out);
        r = r ?: render_zone_file(c, out);
        if (r >= 0 && node_serves_cluster_dns(c->inv, c->node))
                r = render_unit_dropin(out);
        return r;
}
