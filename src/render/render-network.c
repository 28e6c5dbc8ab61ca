/* SPDX-License-Identifier: Apache-2.0 */
/* The node's network identity: a systemd-networkd .network for its NIC with the inventory's address,
 * gateway and DNS (the seed hard-coded 192.168.1.1 and 8.8.8.8) and the /etc/resolv.conf that goes with it,
 * /etc/hostname, and /etc/hosts naming every node of the cluster. */
#include <errno.h>

#include "inventory.h"
#include "paths.h"
#include "renderers.h"
#include "banned.h"

static int render_networkd(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        const Node *n = c->node;
        const char *iface = n->file ? n->file->network.interface.v : NULL;
        char ip[IP_ADDR_STRLEN];
        StrBuf b = {};
        int r;

        r = render_header(&b, "#");
        r = r ?: strbuf_append(&b, "\n[Match]\n");
        if (n->n_macs > 0) {
                r = r ?: strbuf_append(&b, "MACAddress=");
                for (size_t i = 0; i < n->n_macs; i++)
                        r = r ?: strbuf_printf(&b, "%s%s", i ? " " : "", n->macs[i]);
                r = r ?: strbuf_append(&b, "\n");
        }
        if (iface)
                r = r ?: strbuf_printf(&b, "Name=%s\n", iface);
        if (n->n_macs == 0 && !iface)
                /* Nothing names the NIC: take the wired one(s). Give the node a MAC or an interface to be
                 * exact. */
                r = r ?: strbuf_append(&b, "Type=ether\n");

        render_ip(&n->ip, ip);
        if (n->auto_name)
                /* An auto-registered machine has no address in the inventory: DHCP gives it one, which the
                 * join service then records as the node's. */
                r = r ?: strbuf_append(&b, "\n[Network]\nDHCP=ipv4\n");
        else
                r = r ?: strbuf_printf(&b, "\n[Network]\nAddress=%s/%u\n", ip, inv->node_cidr.prefixlen);
        if (inv->cluster.networking.gateway.v && !n->auto_name)
                r = r ?: strbuf_printf(&b, "Gateway=%s\n", inv->cluster.networking.gateway.v);
        for (size_t i = 0; i < inv->cluster.networking.dns_servers.n; i++)
                r = r ?: strbuf_printf(&b, "DNS=%s\n", inv->cluster.networking.dns_servers.items[i].v);
        if (inv->cluster.domain.v)
                r = r ?: strbuf_printf(&b, "Domains=%s\n", inv->cluster.domain.v);
        /* Addresses come from the inventory only: no DHCP, no router advertisements to add others. */
        r = r ?: strbuf_append(&b, n->auto_name ? "IPv6AcceptRA=no\nLinkLocalAddressing=no\n"
                                                : "DHCP=no\nIPv6AcceptRA=no\nLinkLocalAddressing=no\n");
        r = r ?: strbuf_append(&b, "\n[Link]\nRequiredForOnline=yes\n");

        r = r ?: render_set_add(out, NETWORKD_DIR "/10-clusterboot.network", 0644, &b);
        strbuf_done(&b);
        return r;
}

/* NetworkManager's keyfile format (nm-settings-keyfile(5)). NM ignores keyfiles readable by others: 0600. */
static int render_nm_keyfile(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        const Node *n = c->node;
        const char *iface = n->file ? n->file->network.interface.v : NULL;
        const StrList *dns = &inv->cluster.networking.dns_servers;
        char ip[IP_ADDR_STRLEN];
        bool v6 = n->ip.family == AF_INET6;
        StrBuf b = {};
        int r;

        r = render_header(&b, "#");
        r = r ?: strbuf_append(&b, "\n[connection]\nid=clusterboot\ntype=ethernet\nautoconnect=true\n");
        if (iface)
                r = r ?: strbuf_printf(&b, "interface-name=%s\n", iface);
        if (n->n_macs > 0)
                /* A connection matches one MAC; with several, the first listed is the NIC to configure. */
                r = r ?: strbuf_printf(&b, "\n[ethernet]\nmac-address=%s\n", n->macs[0]);

        render_ip(&n->ip, ip);
        if (n->auto_name) /* DHCP, as render_networkd() says */
                r = r ?: strbuf_append(&b, "\n[ipv4]\nmethod=auto");
        else
                r = r ?: strbuf_printf(&b, "\n[%s]\nmethod=manual\naddress1=%s/%u", v6 ? "ipv6" : "ipv4", ip,
                                       inv->node_cidr.prefixlen);
        if (inv->cluster.networking.gateway.v && !n->auto_name)
                r = r ?: strbuf_printf(&b, ",%s", inv->cluster.networking.gateway.v);
        r = r ?: strbuf_append(&b, "\n");
        if (dns->n > 0) {
                r = r ?: strbuf_append(&b, "dns=");
                for (size_t i = 0; i < dns->n; i++)
                        r = r ?: strbuf_printf(&b, "%s;", dns->items[i].v);
                r = r ?: strbuf_append(&b, "\n");
        }
        if (inv->cluster.domain.v)
                r = r ?: strbuf_printf(&b, "dns-search=%s;\n", inv->cluster.domain.v);
        r = r ?: strbuf_printf(&b, "\n[%s]\nmethod=disabled\n", v6 ? "ipv4" : "ipv6");

        r = r ?: render_set_add(out, NM_CONNECTIONS_DIR "/clusterboot.nmconnection", 0600, &b);
        strbuf_done(&b);
        return r;
}

/* networkd hands DNS= to systemd-resolved and writes no /etc/resolv.conf itself, and the image carries no
 * resolved (nor does the build host's file stay in it): without this file the node resolves nothing, and
 * the kubelet, which gives pods the node's resolv.conf, cannot make a pod sandbox ("open /etc/resolv.conf:
 * no such file or directory"). NetworkManager writes its own. */
static int render_resolv_conf(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        StrBuf b = {};
        int r;

        r = render_header(&b, "#");
        if (inv->cluster.domain.v)
                r = r ?: strbuf_printf(&b, "search %s\n", inv->cluster.domain.v);
        for (size_t i = 0; i < inv->cluster.networking.dns_servers.n; i++)
                r = r ?: strbuf_printf(&b, "nameserver %s\n", inv->cluster.networking.dns_servers.items[i].v);
        r = r ?: render_set_add(out, "/etc/resolv.conf", 0644, &b);
        strbuf_done(&b);
        return r;
}

static int render_hostname(const RenderContext *c, RenderSet *out) {
        StrBuf b = {};
        int r = strbuf_printf(&b, "%s\n", c->node->hostname);
        r = r ?: render_set_add(out, "/etc/hostname", 0644, &b);
        strbuf_done(&b);
        return r;
}

/* "IP FQDN SHORT NAME", each name once: hosts(5) wants the canonical (most qualified) name first. */
static int render_hosts(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        StrBuf b = {};
        int r;

        r = render_header(&b, "#");
        r = r ?: strbuf_append(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\n");
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                char ip[IP_ADDR_STRLEN];
                NodeHostNames h;
                if (!n->ip_valid)
                        continue; /* an auto-registered machine before it has its address */
                render_ip(&n->ip, ip);
                node_host_names(inv, n, &h);
                r = r ?: strbuf_printf(&b, "%s\t%s", ip, h.fqdn);
                if (!streq(h.short_name, h.fqdn))
                        r = r ?: strbuf_printf(&b, " %s", h.short_name);
                /* The node name is how other nodes' configuration refers to it, when it differs. */
                if (!streq(n->name, h.short_name))
                        r = r ?: strbuf_printf(&b, " %s", n->name);
                r = r ?: strbuf_append(&b, "\n");
        }
        r = r ?: render_set_add(out, "/etc/hosts", 0644, &b);
        strbuf_done(&b);
        return r;
}

int render_network(const RenderContext *c, RenderSet *out) {
        /* Only an auto-registered machine may lack an address: it asks DHCP for one. */
        if (!c->node->ip_valid && !c->node->auto_name)
                return -EINVAL;
        int r = c->network_backend == NETWORK_BACKEND_NETWORKMANAGER
                        ? render_nm_keyfile(c, out)
                        : render_networkd(c, out) ?: render_resolv_conf(c, out);
        r = r ?: render_hostname(c, out);
        return r ?: render_hosts(c, out);
}
