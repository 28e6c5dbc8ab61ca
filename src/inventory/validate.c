/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "inventory.h"
#include "string-util.h"
#include "banned.h"

/* Checks across values and files. Every check reports at the YAML node the user has to change, and all of
 * them run, so that one run shows every problem. Nothing here is quadratic in the number of nodes:
 * duplicates are found by sorting. */

static int loc_cmp(Loc a, Loc b) {
        if (a.file != b.file)
                return a.file < b.file ? -1 : 1;
        if (a.line != b.line)
                return a.line < b.line ? -1 : 1;
        return a.col < b.col ? -1 : a.col > b.col;
}

typedef struct Occurrence {
        char key[MAX(IP_ADDR_STRLEN + 24, HOSTNAME_MAX + 1)];
        const char *node;
        Loc loc;
        bool derived; /* not written but derived from another value (a hostname from the name) */
} Occurrence;

static int occurrence_cmp(const void *a, const void *b) {
        const Occurrence *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        return c != 0 ? c : loc_cmp(x->loc, y->loc);
}

static const char *file_name(const Inventory *inv, Loc loc) {
        return loc.file < inv->sources.n_files ? inv->sources.files[loc.file].name : "?";
}

/* Reports every occurrence of a key after its first, pointing back at the first. */
static void report_duplicates(Inventory *inv, Report *r, Occurrence *occ, size_t n, const char *what) {
        if (n > 1)
                qsort(occ, n, sizeof(Occurrence), occurrence_cmp);
        for (size_t i = 1; i < n; i++) {
                size_t first = i - 1;
                while (i < n && streq(occ[i].key, occ[first].key)) {
                        /* Two derived values clash only because what they derive from does, and that has
                         * been reported. */
                        if (occ[i].derived && occ[first].derived) {
                                i++;
                                continue;
                        }
                        report_add(r, SEVERITY_ERROR, occ[i].loc, NULL, NULL,
                                   "duplicate %s '%s': node '%s' has it too (%s:%u)", what, occ[i].key,
                                   occ[first].node, file_name(inv, occ[first].loc), occ[first].loc.line);
                        i++;
                }
        }
}

static void check_unique_nodes(Inventory *inv, Report *r) {
        size_t n = inv->n_nodes;
        _cleanup_free_ Occurrence *occ = calloc(n ?: 1, sizeof(Occurrence));
        if (!occ) {
                r->oom = true;
                return;
        }

        for (size_t i = 0; i < n; i++) {
                const Node *node = inv->nodes + i;
                occ[i] = (Occurrence) { .node = node->name, .loc = node->name_loc };
                snprintf(occ[i].key, sizeof(occ[i].key), "%s", node->name);
        }
        report_duplicates(inv, r, occ, n, "node name");

        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                const Node *node = inv->nodes + i;
                if (!node->ip_valid)
                        continue;
                occ[k] = (Occurrence) { .node = node->name, .loc = node->ip_loc };
                ip_addr_format(&node->ip, occ[k].key);
                k++;
        }
        report_duplicates(inv, r, occ, k, "ip");

        for (size_t i = 0; i < n; i++) {
                const Node *node = inv->nodes + i;
                occ[i] = (Occurrence) { .node = node->name, .loc = node->hostname_loc,
                                        .derived = node->hostname == node->name };
                snprintf(occ[i].key, sizeof(occ[i].key), "%s", node->hostname);
        }
        report_duplicates(inv, r, occ, n, "hostname");

        k = 0;
        for (size_t i = 0; i < n; i++) {
                const Node *node = inv->nodes + i;
                if (node->kafka_node_id < 0 || !node->file || !node->file->kafka.node_id.set)
                        continue;
                occ[k] = (Occurrence) { .node = node->name, .loc = node->file->kafka.node_id.loc };
                snprintf(occ[k].key, sizeof(occ[k].key), "%" PRId64, node->kafka_node_id);
                k++;
        }
        report_duplicates(inv, r, occ, k, "kafka node_id");
}

/* A short name a node is known by: its hostname's first label, or its name when that differs. */
typedef struct ShortName {
        char key[DNS_LABEL_MAX + 1];
        const Node *node;
        Loc loc;
        bool is_name; /* the node's name (an unwritten hostname is the name too) */
} ShortName;

static int short_name_cmp(const void *a, const void *b) {
        const ShortName *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        return c != 0 ? c : loc_cmp(x->loc, y->loc);
}

/* /etc/hosts and the cluster's DNS zone know a node by its name and by its hostname's first label
 * ("cp-a" of "cp-a.lab.internal"): two nodes with one such name would share it. Equal hostnames and
 * equal names are reported as duplicates already. */
static void report_short_name_clash(Inventory *inv, Report *r, const ShortName *a, const ShortName *b) {
        static const char *const hint =
                "/etc/hosts and the cluster's DNS zone know every node by its name and by its hostname's "
                "first label; each of these must belong to one node only";
        if (a->is_name && b->is_name)
                return;
        if (!a->is_name && !b->is_name) {
                if (streq(a->node->hostname, b->node->hostname))
                        return;
                report_add(r, SEVERITY_ERROR, b->loc, NULL, hint,
                           "hostname '%s' has the same first label '%s' as the hostname '%s' of node '%s' "
                           "(%s:%u)",
                           b->node->hostname, b->key, a->node->hostname, a->node->name,
                           file_name(inv, a->loc), a->loc.line);
                return;
        }
        /* A name and another node's hostname: point at the hostname, the value that was chosen to match. */
        const ShortName *name = a->is_name ? a : b, *host = a->is_name ? b : a;
        if (streq(host->node->hostname, name->node->hostname))
                return; /* an undotted hostname equal to a name that is its node's hostname too */
        if (hostname_is_dotted(host->node->hostname))
                report_add(r, SEVERITY_ERROR, host->loc, NULL, hint,
                           "hostname '%s' has the first label '%s', the name of node '%s' (%s:%u)",
                           host->node->hostname, host->key, name->node->name, file_name(inv, name->loc),
                           name->loc.line);
        else
                report_add(r, SEVERITY_ERROR, host->loc, NULL, hint,
                           "hostname '%s' is the name of node '%s' (%s:%u)", host->node->hostname,
                           name->node->name, file_name(inv, name->loc), name->loc.line);
}

static void check_short_names(Inventory *inv, Report *r) {
        _cleanup_free_ ShortName *sn = calloc(2 * inv->n_nodes ?: 1, sizeof(ShortName));
        if (!sn) {
                r->oom = true;
                return;
        }
        size_t k = 0;
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *node = inv->nodes + i;
                char buf[DNS_LABEL_MAX + 1];
                const char *first = hostname_first_label(node->hostname, buf);
                bool derived = node->hostname == node->name;
                sn[k++] = (ShortName) { .node = node, .loc = derived ? node->name_loc : node->hostname_loc,
                                        .is_name = derived };
                snprintf(sn[k - 1].key, sizeof(sn[k - 1].key), "%s", first);
                if (!derived && !streq(node->name, first)) {
                        sn[k++] = (ShortName) { .node = node, .loc = node->name_loc, .is_name = true };
                        snprintf(sn[k - 1].key, sizeof(sn[k - 1].key), "%s", node->name);
                }
        }
        if (k > 1)
                qsort(sn, k, sizeof(ShortName), short_name_cmp);
        for (size_t first = 0, i = 1; i < k; i++) {
                if (!streq(sn[i].key, sn[first].key)) {
                        first = i;
                        continue;
                }
                report_short_name_clash(inv, r, sn + first, sn + i);
        }
}

static void check_unique_macs(Inventory *inv, Report *r) {
        size_t total = 0;
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *node = inv->nodes + i;
                const StrList *l = node->file && node->file->hardware.mac_addresses.set
                                           ? &node->file->hardware.mac_addresses
                                           : &node->entry->mac_addresses;
                total += l->n;
        }

        _cleanup_free_ Occurrence *occ = calloc(total ?: 1, sizeof(Occurrence));
        if (!occ) {
                r->oom = true;
                return;
        }
        size_t k = 0;
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *node = inv->nodes + i;
                const StrList *l = node->file && node->file->hardware.mac_addresses.set
                                           ? &node->file->hardware.mac_addresses
                                           : &node->entry->mac_addresses;
                for (size_t j = 0; j < l->n; j++) {
                        char mac[18];
                        if (mac_addr_normalize(l->items[j].v, mac) < 0)
                                continue;
                        occ[k] = (Occurrence) { .node = node->name, .loc = l->items[j].loc };
                        memcpy(occ[k].key, mac, sizeof(mac));
                        k++;
                }
        }
        report_duplicates(inv, r, occ, k, "MAC address");
}

static void format_prefix(const IpPrefix *p, char *buf, size_t size) {
        char a[IP_ADDR_STRLEN];
        ip_addr_format(&p->addr, a);
        snprintf(buf, size, "%s/%u", a, p->prefixlen);
}

/* The network and (IPv4) broadcast addresses cannot be given to a host. */
static const char *reserved_address(const IpPrefix *p, const IpAddr *a) {
        if (a->family == AF_INET && p->prefixlen >= 31)
                return NULL;
        if (ip_addr_cmp(a, &p->addr) == 0)
                return "the network address";
        IpAddr last;
        ip_prefix_last(p, &last);
        if (a->family == AF_INET && ip_addr_cmp(a, &last) == 0)
                return "the broadcast address";
        return NULL;
}

static void check_networks(Inventory *inv, Report *r) {
        const ClusterConfig *c = &inv->cluster;
        char a[64], b[64];

        const struct {
                const char *name;
                const IpPrefix *p;
                bool valid;
                Loc loc;
        } nets[] = {
                { "node_cidr", &inv->node_cidr, inv->node_cidr_valid, c->networking.node_cidr.loc },
                { "pod_cidr", &inv->pod_cidr, inv->pod_cidr_valid, c->networking.pod_cidr.loc },
                { "service_cidr", &inv->service_cidr, inv->service_cidr_valid, c->networking.service_cidr.loc },
        };
        for (size_t i = 0; i < ELEMENTSOF(nets); i++)
                for (size_t j = i + 1; j < ELEMENTSOF(nets); j++) {
                        if (!nets[i].valid || !nets[j].valid || !ip_prefix_overlaps(nets[i].p, nets[j].p))
                                continue;
                        format_prefix(nets[j].p, a, sizeof(a));
                        format_prefix(nets[i].p, b, sizeof(b));
                        report_add(r, SEVERITY_ERROR, nets[j].loc, NULL,
                                   "node, pod and service networks must not share addresses",
                                   "%s %s overlaps %s %s", nets[j].name, a, nets[i].name, b);
                }

        if (inv->service_cidr_valid) {
                IpAddr tenth;
                if (inventory_service_ip(inv, SERVICE_ADDRESS_DNS, &tenth) < 0) {
                        format_prefix(&inv->service_cidr, a, sizeof(a));
                        report_add(r, SEVERITY_ERROR, c->networking.service_cidr.loc, NULL,
                                   "use a /28 or larger; Kubernetes' default is 10.96.0.0/12",
                                   "service_cidr %s is too small: the cluster DNS service takes its tenth address", a);
                }
        }

        IpAddr gw;
        if (c->networking.gateway.v && inv->node_cidr_valid && ip_addr_parse(c->networking.gateway.v, &gw) >= 0) {
                format_prefix(&inv->node_cidr, a, sizeof(a));
                const char *reserved = reserved_address(&inv->node_cidr, &gw);
                if (!ip_prefix_contains(&inv->node_cidr, &gw))
                        report_error(r, c->networking.gateway.loc, NULL, "gateway %s is outside node_cidr %s",
                                     c->networking.gateway.v, a);
                else if (reserved)
                        report_error(r, c->networking.gateway.loc, NULL, "gateway %s is %s of node_cidr %s",
                                     c->networking.gateway.v, reserved, a);
        }

        /* Duplicates in cluster.services are harmless but likely a slip. */
        const StrList *s = &c->services;
        for (size_t i = 0; i < s->n; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(s->items[i].v, s->items[j].v)) {
                                report_warning(r, s->items[i].loc, NULL, "service '%s' is listed twice",
                                               s->items[i].v);
                                break;
                        }
}

static Loc node_loc(const Node *n) {
        return n->file ? n->file->loc : n->entry->loc;
}

static void check_node(Inventory *inv, const Node *n, Report *r) {
        const ClusterNodeEntry *e = n->entry;
        const NodeFile *f = n->file;
        char net[64];

        if (n->ip_valid && inv->node_cidr_valid) {
                format_prefix(&inv->node_cidr, net, sizeof(net));
                IpAddr gw;
                const char *reserved = reserved_address(&inv->node_cidr, &n->ip);
                if (!ip_prefix_contains(&inv->node_cidr, &n->ip))
                        report_add(r, SEVERITY_ERROR, n->ip_loc, NULL, NULL, "ip %s of node '%s' is outside node_cidr %s",
                                   e->ip.v, n->name, net);
                else if (reserved)
                        report_error(r, n->ip_loc, NULL, "ip %s of node '%s' is %s of node_cidr %s", e->ip.v,
                                     n->name, reserved, net);
                else if (inv->cluster.networking.gateway.v &&
                         ip_addr_parse(inv->cluster.networking.gateway.v, &gw) >= 0 && ip_addr_cmp(&gw, &n->ip) == 0)
                        report_error(r, n->ip_loc, NULL, "ip %s of node '%s' is the gateway's address", e->ip.v,
                                     n->name);
        }

        if (e->roles.set && e->roles.n == 0 && !e->roles.dropped)
                report_add(r, SEVERITY_ERROR, e->roles.loc, NULL, "give it at least one role, e.g. roles: [worker]",
                           "node '%s' has no roles", n->name);

        for (size_t i = 0; i < e->roles.n; i++) {
                Role role = role_from_string(e->roles.items[i].v);
                if (role < 0)
                        continue;
                for (size_t j = 0; j < i; j++)
                        if (role_from_string(e->roles.items[j].v) == role) {
                                if (streq(e->roles.items[j].v, e->roles.items[i].v))
                                        report_error(r, e->roles.items[i].loc, NULL, "role '%s' is listed twice",
                                                     e->roles.items[i].v);
                                else
                                        report_error(r, e->roles.items[i].loc, NULL,
                                                     "role '%s' is listed twice ('%s' and '%s' are the same role)",
                                                     e->roles.items[i].v, e->roles.items[j].v, e->roles.items[i].v);
                                break;
                        }
                Service s = role_service(role);
                if (inv->services_known && !inv->services[s]) {
                        _cleanup_free_ char *hint = strprintf("add %s to cluster.services, or remove the role",
                                                              service_to_string(s));
                        report_add(r, SEVERITY_ERROR, e->roles.items[i].loc, NULL, hint,
                                   "role '%s' needs the %s service, which cluster.services does not enable",
                                   e->roles.items[i].v, service_to_string(s));
                }
        }

        const StrList *osd = f ? &f->ceph.osd_devices : NULL;
        if (n->roles[ROLE_CEPH_OSD] && inv->services[SERVICE_CEPH] && !n->file_broken && (!osd || osd->n == 0) &&
            !(osd && osd->dropped)) {
                _cleanup_free_ char *hint = strprintf("list its disks in nodes/%s.yaml: node: { ceph: { osd_devices: [/dev/sdb] } }",
                                                      n->name);
                report_add(r, SEVERITY_ERROR, osd && osd->set ? osd->loc : node_loc(n), NULL, hint,
                           "node '%s' has role ceph-osd but no ceph.osd_devices", n->name);
        }
        if (osd && osd->n > 0 && !n->roles[ROLE_CEPH_OSD])
                report_warning(r, osd->loc, NULL, "ceph.osd_devices of node '%s' is ignored: it has no ceph-osd role",
                               n->name);
        for (size_t i = 0; osd && i < osd->n; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(osd->items[i].v, osd->items[j].v)) {
                                report_error(r, osd->items[i].loc, NULL, "OSD device %s is listed twice",
                                             osd->items[i].v);
                                break;
                        }

        /* The state disk is formatted by clusterboot, an OSD disk by Ceph: never the same disk. */
        for (size_t i = 0; osd && f->state.disk.v && i < osd->n; i++)
                if (streq(osd->items[i].v, f->state.disk.v)) {
                        _cleanup_free_ char *hint = strprintf("give nodes/%s.yaml's state.disk a disk of its own", n->name);
                        report_add(r, SEVERITY_ERROR, f->state.disk.loc, NULL, hint,
                                   "state.disk %s of node '%s' is also one of its ceph.osd_devices", f->state.disk.v,
                                   n->name);
                }

        for (size_t i = 0; f && i < f->labels.n; i++) {
                const StrVal *key = &f->labels.items[i].key;
                const char *why = label_kubelet_refuses(key->v);
                if (!why)
                        continue;
                report_add(r, SEVERITY_ERROR, key->loc, NULL,
                           startswith(key->v, "node-role.kubernetes.io/")
                                   ? "masters get node-role.kubernetes.io/control-plane from clusterboot, set through "
                                     "the API; for other roles use a label of your own (example.com/role: storage)"
                                   : "use a prefix of your own (example.com/...), or one the kubelet may set: "
                                     "kubelet.kubernetes.io/..., node.kubernetes.io/..., topology.kubernetes.io/zone "
                                     "and region, kubernetes.io/hostname, os and arch",
                           "label %s of node '%s': %s", key->v, n->name, why);
        }

        if (f && f->kafka.node_id.set && !n->roles[ROLE_KAFKA_BROKER])
                report_warning(r, f->kafka.node_id.loc, NULL,
                               "kafka.node_id of node '%s' is ignored: it has no kafka-broker role", n->name);
}

/* Where to point when a cluster-wide count is wrong: the value if it was written, else the service's file,
 * else the nodes list. */
static Loc count_loc(const Inventory *inv, Loc value, Loc service_file) {
        if (loc_is_set(value))
                return value;
        if (loc_is_set(service_file))
                return service_file;
        return inv->node_entries.loc;
}

static void check_counts(Inventory *inv, Report *r) {
        size_t count[_ROLE_MAX] = {};
        for (size_t i = 0; i < inv->n_nodes; i++)
                for (Role role = 0; role < _ROLE_MAX; role++)
                        count[role] += inv->nodes[i].roles[role];

        Loc nodes = inv->node_entries.loc;
        if (!loc_is_set(nodes) || !inv->services_known)
                return; /* no nodes list or no cluster section: reported as missing */

        /* With a node or a role rejected, every count is a guess: what it would say follows from the error
         * already reported. */
        for (size_t i = 0; i < inv->node_entries.n; i++) {
                const ClusterNodeEntry *e = inv->node_entries.items + i;
                if (!e->name.v || !e->roles.set || e->roles.dropped)
                        return;
        }
        if (inv->node_entries.dropped)
                return;

        if (inv->services[SERVICE_KUBERNETES] && count[ROLE_MASTER] == 0)
                report_add(r, SEVERITY_ERROR, nodes, NULL,
                           "give one node (or three) the master role, or remove kubernetes from cluster.services",
                           "no node has role master, but the kubernetes service is enabled");
        if (count[ROLE_MASTER] > 0 && count[ROLE_MASTER] % 2 == 0)
                report_add(r, SEVERITY_WARNING, nodes, NULL,
                           "etcd needs a majority: 3 masters tolerate one failure, 4 tolerate one too",
                           "%zu masters: an even number of etcd members tolerates no more failures than one fewer",
                           count[ROLE_MASTER]);

        if (inv->services[SERVICE_CEPH]) {
                if (count[ROLE_CEPH_MON] == 0)
                        report_add(r, SEVERITY_ERROR, nodes, NULL, "give a node the ceph-mon role, or remove ceph from cluster.services",
                                   "no node has role ceph-mon, but the ceph service is enabled");
                if (count[ROLE_CEPH_OSD] == 0)
                        report_add(r, SEVERITY_ERROR, nodes, NULL, "give a node the ceph-osd role, or remove ceph from cluster.services",
                                   "no node has role ceph-osd, but the ceph service is enabled");

                const CephConfig *c = &inv->ceph;
                bool broken = inv->service_file_broken[SERVICE_CEPH];
                if (!broken && count[ROLE_CEPH_OSD] > 0 && (size_t) c->osd_pool_default_size.v > count[ROLE_CEPH_OSD]) {
                        _cleanup_free_ char *hint = strprintf("set osd_pool_default_size in services/ceph.yaml to at most %zu, or add ceph-osd nodes",
                                                              count[ROLE_CEPH_OSD]);
                        report_add(r, SEVERITY_ERROR, count_loc(inv, c->osd_pool_default_size.loc, c->loc), NULL, hint,
                                   "ceph osd_pool_default_size %" PRId64 "%s is larger than the number of ceph-osd nodes (%zu): "
                                   "placement groups could never be clean",
                                   c->osd_pool_default_size.v, c->osd_pool_default_size.set ? "" : " (the default)",
                                   count[ROLE_CEPH_OSD]);
                }
                if (!broken && c->osd_pool_default_min_size.v > c->osd_pool_default_size.v)
                        report_error(r, count_loc(inv, c->osd_pool_default_min_size.loc, c->loc), NULL,
                                     "ceph osd_pool_default_min_size %" PRId64 " is larger than osd_pool_default_size %" PRId64,
                                     c->osd_pool_default_min_size.v, c->osd_pool_default_size.v);
        }

        if (inv->services[SERVICE_KAFKA]) {
                const KafkaConfig *k = &inv->kafka;
                if (count[ROLE_KAFKA_BROKER] == 0)
                        report_add(r, SEVERITY_WARNING, nodes, NULL, "give a node the kafka-broker role, or remove kafka from cluster.services",
                                   "no node has role kafka-broker, but the kafka service is enabled");
                else if (!inv->service_file_broken[SERVICE_KAFKA] &&
                         (size_t) k->default_replication_factor.v > count[ROLE_KAFKA_BROKER]) {
                        _cleanup_free_ char *hint = strprintf("set default_replication_factor in services/kafka.yaml to at most %zu, or add brokers",
                                                              count[ROLE_KAFKA_BROKER]);
                        report_add(r, SEVERITY_ERROR, count_loc(inv, k->default_replication_factor.loc, k->loc), NULL, hint,
                                   "kafka default_replication_factor %" PRId64 "%s is larger than the number of kafka-broker nodes (%zu)",
                                   k->default_replication_factor.v, k->default_replication_factor.set ? "" : " (the default)",
                                   count[ROLE_KAFKA_BROKER]);
                }
        }
        if (inv->services[SERVICE_MQTT] && count[ROLE_MQTT_BROKER] == 0)
                report_add(r, SEVERITY_WARNING, nodes, NULL, "give a node the mqtt-broker role, or remove mqtt from cluster.services",
                           "no node has role mqtt-broker, but the mqtt service is enabled");
        if (inv->services[SERVICE_DNS] && count[ROLE_DNS_SERVER] == 0)
                report_add(r, SEVERITY_WARNING, nodes, NULL, "give a node the dns-server role, or remove dns from cluster.services",
                           "no node has role dns-server, but the dns service is enabled");
}

static void check_ceph_networks(Inventory *inv, Report *r) {
        const CephConfig *c = &inv->ceph;
        if (!inv->services[SERVICE_CEPH] || !inv->ceph_networks_valid)
                return;

        char pub[64], clu[64], ip[IP_ADDR_STRLEN];
        format_prefix(&inv->ceph_public_network, pub, sizeof(pub));
        format_prefix(&inv->ceph_cluster_network, clu, sizeof(clu));
        /* Report each network once, with the first node that is outside it: a wrong network would otherwise
         * give one error per node. */
        bool pub_reported = false, clu_reported = false;
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                if (!n->ip_valid || !(n->roles[ROLE_CEPH_MON] || n->roles[ROLE_CEPH_OSD]))
                        continue;
                ip_addr_format(&n->ip, ip);
                /* A node outside node_cidr was reported as such; a network derived from node_cidr would only
                 * say it again. */
                if (c->public_network_derived && inv->node_cidr_valid && !ip_prefix_contains(&inv->node_cidr, &n->ip))
                        continue;
                if (!pub_reported && !ip_prefix_contains(&inv->ceph_public_network, &n->ip)) {
                        report_add(r, SEVERITY_ERROR, c->public_network.loc, NULL,
                                   "ceph daemons bind to their node's address in the public network",
                                   "ceph public_network %s does not contain the address of ceph node '%s' (%s)", pub,
                                   n->name, ip);
                        pub_reported = true;
                }
                if (!clu_reported && !c->cluster_network_derived && n->roles[ROLE_CEPH_OSD] &&
                    !ip_prefix_contains(&inv->ceph_cluster_network, &n->ip)) {
                        report_add(r, SEVERITY_ERROR, c->cluster_network.loc, NULL,
                                   "OSDs replicate over the cluster network from their node's address",
                                   "ceph cluster_network %s does not contain the address of OSD node '%s' (%s)", clu,
                                   n->name, ip);
                        clu_reported = true;
                }
        }
}

typedef struct Port {
        const char *what;
        int64_t port;
        Loc loc; /* where it was written; zero for a fixed port */
} Port;

/* The ports a node listens on, for its roles. */
static size_t node_ports(const Inventory *inv, const Node *n, Port ports[static 16]) {
        size_t k = 0;
        if (n->roles[ROLE_MASTER]) {
                ports[k++] = (Port) { "kube-apiserver", inv->kubernetes.api_server_port.v, inv->kubernetes.api_server_port.loc };
                ports[k++] = (Port) { "etcd client", 2379, {} };
                ports[k++] = (Port) { "etcd peer", 2380, {} };
                ports[k++] = (Port) { "kube-controller-manager", 10257, {} };
                ports[k++] = (Port) { "kube-scheduler", 10259, {} };
        }
        if (n->roles[ROLE_MASTER] || n->roles[ROLE_WORKER])
                ports[k++] = (Port) { "kubelet", 10250, {} };
        if (n->roles[ROLE_KAFKA_BROKER]) {
                ports[k++] = (Port) { "kafka", inv->kafka.port.v, inv->kafka.port.loc };
                ports[k++] = (Port) { "kafka controller", inv->kafka.controller_port.v, inv->kafka.controller_port.loc };
        }
        if (n->roles[ROLE_CEPH_MON]) {
                ports[k++] = (Port) { "ceph-mon (msgr2)", 3300, {} };
                ports[k++] = (Port) { "ceph-mon (msgr1)", 6789, {} };
        }
        if (n->roles[ROLE_MQTT_BROKER]) {
                ports[k++] = (Port) { "mqtt", inv->mqtt.port.v, inv->mqtt.port.loc };
                if (inv->mqtt.tls_port.v != 0)
                        ports[k++] = (Port) { "mqtt tls", inv->mqtt.tls_port.v, inv->mqtt.tls_port.loc };
        }
        if (n->roles[ROLE_DNS_SERVER])
                ports[k++] = (Port) { "dns", inv->dns.port.v, inv->dns.port.loc };
        return k;
}

static void check_ports(Inventory *inv, Report *r) {
        /* Conflicts depend only on a node's roles, so look at each distinct role set once. */
        unsigned seen_sets[1u << _ROLE_MAX] = {};

        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                unsigned set = 0;
                for (Role role = 0; role < _ROLE_MAX; role++)
                        set |= (unsigned) n->roles[role] << role;
                if (seen_sets[set]++)
                        continue;

                Port ports[16];
                size_t k = node_ports(inv, n, ports);
                for (size_t a = 0; a < k; a++)
                        for (size_t b = a + 1; b < k; b++) {
                                if (ports[a].port != ports[b].port)
                                        continue;
                                /* Point at a port that was written, the later one if both were. */
                                Loc loc = loc_is_set(ports[b].loc) ? ports[b].loc : ports[a].loc;
                                if (!loc_is_set(loc))
                                        loc = n->roles_loc;
                                report_error(r, loc, NULL, "port %" PRId64 " is used by both %s and %s on node '%s'",
                                             ports[a].port, ports[a].what, ports[b].what, n->name);
                        }
        }
}

static void check_services(Inventory *inv, Report *r) {
        const MqttConfig *m = &inv->mqtt;
        for (size_t i = 0; i < m->users.n; i++)
                for (size_t j = 0; j < i; j++)
                        if (m->users.items[i].name.v && m->users.items[j].name.v &&
                            streq(m->users.items[i].name.v, m->users.items[j].name.v)) {
                                report_error(r, m->users.items[i].name.loc, NULL, "mqtt user '%s' is listed twice",
                                             m->users.items[i].name.v);
                                break;
                        }

        const ClusterConfig *c = &inv->cluster;
        if (c->auto_register.enabled.v && c->auto_register.role.v) {
                Role role = role_from_string(c->auto_register.role.v);
                if (role >= 0 && !inv->services[role_service(role)])
                        report_error(r, c->auto_register.role.loc, NULL,
                                     "auto_register role '%s' needs the %s service, which cluster.services does not enable",
                                     c->auto_register.role.v, service_to_string(role_service(role)));
        }

        /* The dns-server nodes' CoreDNS serves both, each from a server block of its own: one zone cannot be
         * both (CoreDNS refuses two blocks of one zone and port). */
        const char *zone = inv->dns.zone.v, *domain = c->networking.cluster_domain.v;
        if (inv->services[SERVICE_DNS] && inv->services[SERVICE_KUBERNETES] && zone && domain &&
            strcasecmp(zone, domain) == 0)
                report_add(r, SEVERITY_ERROR, inv->dns.zone.loc.line ? inv->dns.zone.loc : c->networking.cluster_domain.loc,
                           NULL,
                           "give the nodes' zone (dns.zone, by default cluster.domain) another name than Kubernetes' "
                           "cluster domain (cluster.networking.cluster_domain, by default cluster.local)",
                           "dns.zone %s is also the Kubernetes cluster domain, which CoreDNS answers from the API "
                           "server on the same nodes",
                           zone);
}

void inventory_validate(Inventory *inv, Report *r) {
        check_networks(inv, r);
        check_unique_nodes(inv, r);
        check_short_names(inv, r);
        check_unique_macs(inv, r);
        for (size_t i = 0; i < inv->n_nodes; i++)
                check_node(inv, inv->nodes + i, r);
        check_counts(inv, r);
        check_ceph_networks(inv, r);
        check_ports(inv, r);
        check_services(inv, r);
}
