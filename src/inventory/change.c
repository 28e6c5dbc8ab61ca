/* SPDX-License-Identifier: Apache-2.0 */
/* The rules of a change to a running cluster's inventory: what `apply` may hand to the nodes, and what it
 * refuses with the reason. Pure: two inventories in, a report and a diff out. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "inventory.h"
#include "string-util.h"

void inventory_diff_done(InventoryDiff *d) {
        strv_free_n(d->added, d->n_added);
        strv_free_n(d->removed, d->n_removed);
        for (size_t i = 0; i < d->n_changed; i++) {
                free(d->changed[i].name);
                strv_free_n(d->changed[i].what, d->changed[i].n_what);
        }
        free(d->changed);
        strv_free_n(d->settings, d->n_settings);
        *d = (InventoryDiff) {};
}

static int push(char ***v, size_t *n, const char *s) {
        char *copy = strdup(s);
        char **grown = copy ? realloc(*v, (*n + 1) * sizeof(char *)) : NULL;
        if (!grown) {
                free(copy);
                return -ENOMEM;
        }
        grown[(*n)++] = copy;
        *v = grown;
        return 0;
}

/* ---- comparing values ---- */

static bool str_same(const StrVal *a, const StrVal *b) {
        return streq_ptr(a->v, b->v);
}

static bool int_same(const IntVal *a, const IntVal *b) {
        return a->v == b->v;
}

/* The same items in the same order (DNS servers and forwarders are asked in order). */
static bool list_same(const StrList *a, const StrList *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq_ptr(a->items[i].v, b->items[i].v))
                        return false;
        return true;
}

static bool list_has(const StrList *l, const char *s) {
        for (size_t i = 0; i < l->n; i++)
                if (streq_ptr(l->items[i].v, s))
                        return true;
        return false;
}

/* The same items in any order (taints, forwarders, services). */
static bool list_same_set(const StrList *a, const StrList *b) {
        for (size_t i = 0; i < a->n; i++)
                if (!list_has(b, a->items[i].v))
                        return false;
        for (size_t i = 0; i < b->n; i++)
                if (!list_has(a, b->items[i].v))
                        return false;
        return true;
}

static const char *kv_get(const KVList *l, const char *key) {
        for (size_t i = 0; i < l->n; i++)
                if (streq_ptr(l->items[i].key.v, key))
                        return strempty(l->items[i].value.v);
        return NULL;
}

static bool kv_same(const KVList *a, const KVList *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!streq_ptr(kv_get(b, a->items[i].key.v), strempty(a->items[i].value.v)))
                        return false;
        return true;
}

static const KVList *section_get(const SectionList *l, const char *name) {
        for (size_t i = 0; i < l->n; i++)
                if (streq_ptr(l->items[i].name.v, name))
                        return &l->items[i].values;
        return NULL;
}

static bool sections_same(const SectionList *a, const SectionList *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++) {
                const KVList *other = section_get(b, a->items[i].name.v);
                if (!other || !kv_same(&a->items[i].values, other))
                        return false;
        }
        return true;
}

static bool users_same(const MqttConfig *a, const MqttConfig *b) {
        if (a->users.n != b->users.n)
                return false;
        for (size_t i = 0; i < a->users.n; i++)
                if (!str_same(&a->users.items[i].name, &b->users.items[i].name) ||
                    !list_same_set(&a->users.items[i].acl, &b->users.items[i].acl))
                        return false;
        return true;
}

static bool macs_same(const Node *a, const Node *b) {
        if (a->n_macs != b->n_macs)
                return false;
        for (size_t i = 0; i < a->n_macs; i++) {
                bool found = false;
                for (size_t j = 0; j < b->n_macs && !found; j++)
                        found = streq(a->macs[i], b->macs[j]);
                if (!found)
                        return false;
        }
        return true;
}

static const StrVal *hw(const Node *n, bool serial) {
        static const StrVal none = {};
        if (!n->file)
                return &none;
        return serial ? &n->file->hardware.serial : &n->file->hardware.uuid;
}

static const StrList *osd_devices(const Node *n) {
        static const StrList none = {};
        return n->n_osds > 0 ? &n->file->ceph.osd_devices : &none;
}

static const KVList *labels(const Node *n) {
        static const KVList none = {};
        return n->file ? &n->file->labels : &none;
}

static const StrList *taints(const Node *n) {
        static const StrList none = {};
        return n->file ? &n->file->taints : &none;
}

static const char *interface(const Node *n) {
        return n->file ? n->file->network.interface.v : NULL;
}

/* The same machine under two names: a MAC, a DMI serial or UUID, or the address in common. */
static const char *same_machine(const Node *a, const Node *b) {
        for (size_t i = 0; i < a->n_macs; i++)
                for (size_t j = 0; j < b->n_macs; j++)
                        if (streq(a->macs[i], b->macs[j]))
                                return "MAC address";
        if (hw(a, true)->v && str_same(hw(a, true), hw(b, true)))
                return "DMI serial";
        if (hw(a, false)->v && str_same(hw(a, false), hw(b, false)))
                return "DMI UUID";
        if (a->ip_valid && b->ip_valid && ip_addr_cmp(&a->ip, &b->ip) == 0)
                return "address";
        return NULL;
}

/* ---- the rules ---- */

typedef struct Ctx {
        const Inventory *old, *new;
        Report *report;
        InventoryDiff *diff;
        int r; /* the first -ENOMEM */
} Ctx;

static Loc cluster_loc(const Ctx *c) {
        return c->new->cluster.loc;
}

/* A cluster-wide value that cannot change in place. */
static void fixed_str(Ctx *c, const char *path, const StrVal *a, const StrVal *b, const char *why) {
        if (str_same(a, b))
                return;
        report_add(c->report, SEVERITY_ERROR, loc_is_set(b->loc) ? b->loc : cluster_loc(c), path,
                   "build a new cluster with it; a running cluster keeps the value it was made with",
                   "%s cannot change in place (%s to %s): %s", path, a->v ?: "unset", b->v ?: "unset", why);
}

static void setting(Ctx *c, const char *path, bool same) {
        if (!same && c->r >= 0)
                c->r = push(&c->diff->settings, &c->diff->n_settings, path);
}

static void compare_settings(Ctx *c) {
        const Inventory *a = c->old, *b = c->new;
        fixed_str(c, "cluster.name", &a->cluster.name, &b->cluster.name,
                  "the certificates, the Ceph cluster and the Kafka cluster id are made from it");
        fixed_str(c, "cluster.domain", &a->cluster.domain, &b->cluster.domain,
                  "every node's certificates name its FQDN in it");
        fixed_str(c, "cluster.networking.node_cidr", &a->cluster.networking.node_cidr,
                  &b->cluster.networking.node_cidr,
                  "every node's address, the etcd peer URLs and the certificates' IP addresses are in it");
        fixed_str(c, "cluster.networking.pod_cidr", &a->cluster.networking.pod_cidr, &b->cluster.networking.pod_cidr,
                  "each node's pod subnet was given from it, and running pods hold addresses in it");
        fixed_str(c, "cluster.networking.service_cidr", &a->cluster.networking.service_cidr,
                  &b->cluster.networking.service_cidr,
                  "the API server's Service address (in its certificate) and the cluster DNS address are in it");
        fixed_str(c, "cluster.networking.cluster_domain", &a->cluster.networking.cluster_domain,
                  &b->cluster.networking.cluster_domain,
                  "the API server's certificate and every pod's resolv.conf name it");
        if (a->services[SERVICE_KUBERNETES] && b->services[SERVICE_KUBERNETES])
                fixed_str(c, "kubernetes.version", &a->kubernetes.version, &b->kubernetes.version,
                          "the image carries the Kubernetes binaries of its version");
        if (a->services[SERVICE_KAFKA] && b->services[SERVICE_KAFKA]) {
                fixed_str(c, "kafka.version", &a->kafka.version, &b->kafka.version,
                          "the image carries the Kafka of its version");
                if (!int_same(&a->kafka.controller_port, &b->kafka.controller_port))
                        report_add(c->report, SEVERITY_ERROR,
                                   loc_is_set(b->kafka.controller_port.loc) ? b->kafka.controller_port.loc
                                                                            : b->kafka.loc,
                                   "kafka.controller_port", "keep the port the brokers were started with",
                                   "kafka.controller_port cannot change in place (%" PRId64 " to %" PRId64
                                   "): the KRaft quorum's voters are addressed by it, and Kafka 3.6's quorum is static",
                                   a->kafka.controller_port.v, b->kafka.controller_port.v);
        }
        /* Derived from node_cidr in both: said by node_cidr's refusal already. */
        if (a->services[SERVICE_CEPH] && b->services[SERVICE_CEPH] &&
            !(a->ceph.public_network_derived && b->ceph.public_network_derived)) {
                fixed_str(c, "ceph.public_network", &a->ceph.public_network, &b->ceph.public_network,
                          "the monitors' addresses in the monmap are in it");
        }
        if (a->services[SERVICE_CEPH] && b->services[SERVICE_CEPH] &&
            !(a->ceph.cluster_network_derived && b->ceph.cluster_network_derived)) {
                fixed_str(c, "ceph.cluster_network", &a->ceph.cluster_network, &b->ceph.cluster_network,
                          "the OSDs' replication addresses are in it");
        }

        setting(c, "cluster.services", list_same_set(&a->cluster.services, &b->cluster.services));
        setting(c, "cluster.networking.gateway", str_same(&a->cluster.networking.gateway, &b->cluster.networking.gateway));
        setting(c, "cluster.networking.dns_servers",
                list_same(&a->cluster.networking.dns_servers, &b->cluster.networking.dns_servers));
        setting(c, "cluster.bootstrap.token", str_same(&a->cluster.bootstrap.token, &b->cluster.bootstrap.token));
        setting(c, "cluster.auto_register",
                a->cluster.auto_register.enabled.v == b->cluster.auto_register.enabled.v &&
                        str_same(&a->cluster.auto_register.role, &b->cluster.auto_register.role) &&
                        str_same(&a->cluster.auto_register.hostname_prefix, &b->cluster.auto_register.hostname_prefix));
        setting(c, "kubernetes.api_server_port", int_same(&a->kubernetes.api_server_port, &b->kubernetes.api_server_port));
        setting(c, "kubernetes.pki", str_same(&a->kubernetes.pki.key_algorithm, &b->kubernetes.pki.key_algorithm) &&
                                             str_same(&a->kubernetes.pki.certificate_validity,
                                                      &b->kubernetes.pki.certificate_validity));
        setting(c, "kubernetes.cni", str_same(&a->kubernetes.cni, &b->kubernetes.cni));
        setting(c, "kubernetes.cgroup_driver", str_same(&a->kubernetes.cgroup_driver, &b->kubernetes.cgroup_driver));
        setting(c, "kubernetes.schedule_on_masters",
                a->kubernetes.schedule_on_masters.v == b->kubernetes.schedule_on_masters.v);
        setting(c, "kubernetes.extra_args", sections_same(&a->kubernetes.extra_args, &b->kubernetes.extra_args));
        setting(c, "ceph.osd_pool_default_size",
                int_same(&a->ceph.osd_pool_default_size, &b->ceph.osd_pool_default_size) &&
                        int_same(&a->ceph.osd_pool_default_min_size, &b->ceph.osd_pool_default_min_size));
        setting(c, "ceph.extra_config", sections_same(&a->ceph.extra_config, &b->ceph.extra_config));
        setting(c, "kafka.port", int_same(&a->kafka.port, &b->kafka.port));
        setting(c, "kafka.default_replication_factor",
                int_same(&a->kafka.default_replication_factor, &b->kafka.default_replication_factor) &&
                        int_same(&a->kafka.num_partitions, &b->kafka.num_partitions));
        setting(c, "kafka.extra_properties", kv_same(&a->kafka.extra_properties, &b->kafka.extra_properties));
        setting(c, "mqtt.ports", int_same(&a->mqtt.port, &b->mqtt.port) && int_same(&a->mqtt.tls_port, &b->mqtt.tls_port));
        setting(c, "mqtt.persistence", a->mqtt.persistence.v == b->mqtt.persistence.v);
        setting(c, "mqtt.users", users_same(&a->mqtt, &b->mqtt));
        setting(c, "dns.port", int_same(&a->dns.port, &b->dns.port));
        setting(c, "dns.zone", str_same(&a->dns.zone, &b->dns.zone));
        setting(c, "dns.forwarders", list_same(&a->dns.forwarders, &b->dns.forwarders));
}

#define KRAFT_STATIC "every broker is a KRaft voter, and Kafka 3.6's quorum is static"

/* The roles a running node cannot take or give up: its etcd member, its monitor, its KRaft vote. */
static const struct {
        Role role;
        const char *why;
} fixed_roles[] = {
        { ROLE_MASTER, "an etcd member and the control plane are made at a node's first boot" },
        { ROLE_CEPH_MON, "a monitor's store is made at a node's first boot" },
        { ROLE_KAFKA_BROKER, KRAFT_STATIC },
};

static void node_changed(Ctx *c, const Node *a, const Node *b) {
        NodeChange ch = { .name = strdup(b->name) };
        int r = ch.name ? 0 : -ENOMEM;
        char ip_a[IP_ADDR_STRLEN] = "", ip_b[IP_ADDR_STRLEN] = "";

        if (a->ip_valid)
                ip_addr_format(&a->ip, ip_a);
        if (b->ip_valid)
                ip_addr_format(&b->ip, ip_b);
        if (!streq(ip_a, ip_b))
                report_add(c->report, SEVERITY_ERROR, b->ip_loc, NULL,
                           "remove the node with one apply, then add it under a new name with the new address",
                           "node %s: its address cannot change in place (%s to %s): its certificates and its peers' "
                           "configuration name it",
                           b->name, ip_a, ip_b);
        for (size_t i = 0; i < ELEMENTSOF(fixed_roles); i++)
                if (a->roles[fixed_roles[i].role] != b->roles[fixed_roles[i].role])
                        report_add(c->report, SEVERITY_ERROR, b->roles_loc, NULL,
                                   "remove the node with one apply and add it back with its new roles (a reinstall)",
                                   "node %s: role %s cannot be %s in place: %s", b->name,
                                   role_to_string(fixed_roles[i].role),
                                   b->roles[fixed_roles[i].role] ? "given" : "taken away", fixed_roles[i].why);
        if (a->kafka_node_id != b->kafka_node_id && a->kafka_node_id >= 0 && b->kafka_node_id >= 0)
                report_add(c->report, SEVERITY_ERROR, b->roles_loc, NULL,
                           "write the broker's id as it was in its node file (kafka.node_id)",
                           "node %s: its Kafka node id would change (%" PRId64 " to %" PRId64
                           "): a KRaft voter keeps its id", b->name, a->kafka_node_id, b->kafka_node_id);

        const char *disk_a = a->file ? a->file->state.disk.v : NULL, *disk_b = b->file ? b->file->state.disk.v : NULL;
        if (!streq_ptr(disk_a, disk_b))
                report_add(c->report, SEVERITY_ERROR, b->file && b->file->state.disk.v ? b->file->state.disk.loc : b->roles_loc,
                           NULL, "write state.disk as it was; to move the node's state, reinstall it (remove it with one "
                           "apply, add it back with another)",
                           "node %s: its state disk cannot change in place (%s to %s): the node's certificates and "
                           "data are on it", b->name, disk_a ? disk_a : "none", disk_b ? disk_b : "none");

        const struct {
                const char *what;
                bool same;
        } fields[] = {
                { "roles", memcmp(a->roles, b->roles, sizeof(a->roles)) == 0 },
                { "hostname", streq_ptr(a->hostname, b->hostname) },
                { "mac_addresses", macs_same(a, b) },
                { "hardware", str_same(hw(a, true), hw(b, true)) && str_same(hw(a, false), hw(b, false)) },
                { "network.interface", streq_ptr(interface(a), interface(b)) },
                { "labels", kv_same(labels(a), labels(b)) },
                { "taints", list_same_set(taints(a), taints(b)) },
                { "ceph.osd_devices", list_same_set(osd_devices(a), osd_devices(b)) },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields) && r >= 0; i++)
                if (!fields[i].same)
                        r = push(&ch.what, &ch.n_what, fields[i].what);

        if (r >= 0 && ch.n_what > 0) {
                NodeChange *grown = realloc(c->diff->changed, (c->diff->n_changed + 1) * sizeof(NodeChange));
                if (grown) {
                        grown[c->diff->n_changed++] = ch;
                        c->diff->changed = grown;
                        return;
                }
                r = -ENOMEM;
        }
        free(ch.name);
        strv_free_n(ch.what, ch.n_what);
        if (r < 0 && c->r >= 0)
                c->r = r;
}

/* etcd members or Ceph monitors: one at a time, and what stays must be a majority of what runs. */
static void compare_quorum(Ctx *c, Role role, const char *what) {
        size_t before = 0, removed = 0, added = 0;
        const char *gone = NULL;
        for (size_t i = 0; i < c->old->n_nodes; i++) {
                const Node *a = c->old->nodes + i, *b = inventory_find_node(c->new, a->name);
                if (!a->roles[role])
                        continue;
                before++;
                if (!b) {
                        removed++;
                        gone = a->name;
                }
        }
        for (size_t i = 0; i < c->new->n_nodes; i++)
                if (c->new->nodes[i].roles[role] && !inventory_find_node(c->old, c->new->nodes[i].name))
                        added++;
        if (removed > 1)
                report_add(c->report, SEVERITY_ERROR, c->new->node_entries.loc, "nodes",
                           "remove one per apply, each after the cluster is healthy again",
                           "%zu nodes with role %s removed at once: %s are removed one at a time", removed,
                           role_to_string(role), what);
        else if (removed == 1 && (before - 1) * 2 <= before)
                report_add(c->report, SEVERITY_ERROR, c->new->node_entries.loc, "nodes",
                           "add another node with the role first, then remove this one",
                           "removing %s (role %s) leaves %zu of %zu %s: not a majority, and a quorum of the rest "
                           "could not be had if it is down",
                           gone, role_to_string(role), before - 1, before, what);
        if (added > 0 && removed > 0)
                report_add(c->report, SEVERITY_ERROR, c->new->node_entries.loc, "nodes",
                           "remove with one apply, add with the next",
                           "role %s both added and removed: %s change one at a time", role_to_string(role), what);
}

static void compare_nodes(Ctx *c) {
        for (size_t i = 0; i < c->old->n_nodes && c->r >= 0; i++) {
                const Node *a = c->old->nodes + i;
                if (!inventory_find_node(c->new, a->name))
                        c->r = push(&c->diff->removed, &c->diff->n_removed, a->name);
        }
        for (size_t i = 0; i < c->new->n_nodes && c->r >= 0; i++) {
                const Node *b = c->new->nodes + i, *a = inventory_find_node(c->old, b->name);
                if (a) {
                        node_changed(c, a, b);
                        continue;
                }
                c->r = push(&c->diff->added, &c->diff->n_added, b->name);
                /* A removed node's machine under the new name. */
                for (size_t j = 0; j < c->old->n_nodes; j++) {
                        const Node *o = c->old->nodes + j;
                        const char *by = inventory_find_node(c->new, o->name) ? NULL : same_machine(o, b);
                        if (by) {
                                report_add(c->report, SEVERITY_ERROR, b->name_loc, NULL,
                                           "remove the node with one apply, then add the machine under its new name "
                                           "with the next (it is reinstalled)",
                                           "node %s has the %s of node %s, which this inventory removes: a node cannot "
                                           "be renamed in place, its name is its identity in etcd, Kubernetes and Ceph",
                                           b->name, by, o->name);
                                break;
                        }
                }
                if (b->roles[ROLE_KAFKA_BROKER])
                        report_add(c->report, SEVERITY_ERROR, b->roles_loc, NULL,
                                   "a Kafka cluster of other brokers needs a new cluster",
                                   "node %s: a Kafka broker cannot be added to a running cluster: " KRAFT_STATIC,
                                   b->name);
        }
        for (size_t i = 0; i < c->old->n_nodes; i++) {
                const Node *a = c->old->nodes + i;
                if (a->roles[ROLE_KAFKA_BROKER] && !inventory_find_node(c->new, a->name))
                        report_add(c->report, SEVERITY_ERROR, c->new->node_entries.loc, "nodes",
                                   "keep the broker in the inventory; a Kafka cluster of other brokers needs a new cluster",
                                   "node %s: a Kafka broker cannot be removed from a running cluster: " KRAFT_STATIC,
                                   a->name);
        }
        compare_quorum(c, ROLE_MASTER, "etcd members");
        compare_quorum(c, ROLE_CEPH_MON, "Ceph monitors");
}

int inventory_compare(const Inventory *running, const Inventory *proposed, Report *report, InventoryDiff *ret) {
        Ctx c = { .old = running, .new = proposed, .report = report, .diff = ret };
        *ret = (InventoryDiff) {};
        compare_settings(&c);
        compare_nodes(&c);
        return report->oom ? -ENOMEM : c.r;
}

static json_t *strv_json(char **v, size_t n) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_string(v[i])) < 0)
                        return json_decref(a), NULL;
        return a;
}

json_t *inventory_diff_json(const InventoryDiff *d) {
        json_t *changed = json_array();
        for (size_t i = 0; changed && i < d->n_changed; i++)
                if (json_array_append_new(changed, json_pack("{s:s,s:o*}", "node", d->changed[i].name, "what",
                                                             strv_json(d->changed[i].what, d->changed[i].n_what))) < 0)
                        json_decref(changed), changed = NULL;
        return json_pack("{s:o,s:o,s:o,s:o}", "added", strv_json(d->added, d->n_added), "removed",
                         strv_json(d->removed, d->n_removed), "changed", changed, "settings",
                         strv_json(d->settings, d->n_settings));
}
