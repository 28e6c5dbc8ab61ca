/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "inventory.h"
#include "plan.h"
#include "string-util.h"
#include "banned.h"

const Node *plan_first_master(const Inventory *inv) {
        /* inv->nodes is sorted by name. */
        for (size_t i = 0; i < inv->n_nodes; i++)
                if (inv->nodes[i].roles[ROLE_MASTER])
                        return inv->nodes + i;
        return NULL;
}

static json_t *str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

static json_t *ip_json(const IpAddr *a) {
        char buf[IP_ADDR_STRLEN];
        ip_addr_format(a, buf);
        return json_string(buf);
}

static json_t *strlist_json(const StrList *l) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < l->n; i++)
                json_array_append_new(a, json_string(l->items[i].v));
        return a;
}

json_t *plan_node_units(const Inventory *inv, const Node *n, const int64_t *osd_ids, size_t n_osd_ids) {
        json_t *u = json_array();
        if (!u)
                return NULL;
        bool kubelet = n->roles[ROLE_MASTER] || n->roles[ROLE_WORKER];

        if (kubelet)
                json_array_append_new(u, json_string("containerd.service"));
        if (n->roles[ROLE_MASTER]) {
                json_array_append_new(u, json_string("etcd.service"));
                json_array_append_new(u, json_string("kube-apiserver.service"));
                json_array_append_new(u, json_string("kube-controller-manager.service"));
                json_array_append_new(u, json_string("kube-scheduler.service"));
        }
        if (kubelet) {
                json_array_append_new(u, json_string("kubelet.service"));
                json_array_append_new(u, json_string("kube-proxy.service"));
                if (node_uses_api_proxy(inv, n))
                        json_array_append_new(u, json_string("clusterboot-api-proxy.service"));
                if (inventory_uses_flannel(inv))
                        json_array_append_new(u, json_string("flanneld.service"));
        }
        if (n->roles[ROLE_CEPH_MON]) {
                json_array_append_new(u, json_sprintf("ceph-mon@%s.service", n->name));
                json_array_append_new(u, json_sprintf("ceph-mgr@%s.service", n->name));
        }
        for (size_t i = 0; i < n_osd_ids; i++)
                json_array_append_new(u, json_sprintf("ceph-osd@%" PRId64 ".service", osd_ids[i]));
        if (n->roles[ROLE_KAFKA_BROKER])
                json_array_append_new(u, json_string("kafka.service"));
        if (n->roles[ROLE_MQTT_BROKER])
                json_array_append_new(u, json_string("mosquitto.service"));
        if (n->roles[ROLE_DNS_SERVER])
                json_array_append_new(u, json_string("coredns.service"));
        return u;
}

static json_t *node_json(const Inventory *inv, const Node *n) {
        json_t *roles = json_array(), *targets = json_array(), *macs = json_array();
        for (Role r = 0; r < _ROLE_MAX; r++)
                if (n->roles[r]) {
                        json_array_append_new(roles, json_string(role_to_string(r)));
                        json_array_append_new(targets, json_string(role_target(r)));
                }
        for (size_t i = 0; i < n->n_macs; i++)
                json_array_append_new(macs, json_string(n->macs[i]));

        json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "name", n->name, "hostname", n->hostname, "ip",
                              ip_json(&n->ip), "mac_addresses", macs, "roles", roles, "targets", targets, "units",
                              plan_node_units(inv, n, NULL, 0));
        if (o && n->kafka_node_id >= 0)
                json_object_set_new(o, "kafka_node_id", json_integer(n->kafka_node_id));
        if (o && n->file && n->file->network.interface.v)
                json_object_set_new(o, "interface", json_string(n->file->network.interface.v));
        return o;
}

/* The broker's users and what each may do (their passwords are secrets: never in the plan). */
static json_t *mqtt_users_json(const Inventory *inv) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < inv->mqtt.users.n; i++) {
                const MqttUser *u = inv->mqtt.users.items + i;
                json_array_append_new(a, json_pack("{s:s,s:o}", "name", u->name.v, "acl", strlist_json(&u->acl)));
        }
        return a;
}

/* "ip:port", or "[ip]:port" for IPv6, behind an optional scheme. */
static json_t *endpoint(const char *scheme, const Node *n, int64_t port) {
        char ip[IP_ADDR_STRLEN];
        ip_addr_format(&n->ip, ip);
        bool v6 = n->ip.family == AF_INET6;
        return json_sprintf("%s%s%s%s:%" PRId64, scheme, v6 ? "[" : "", ip, v6 ? "]" : "", port);
}

static json_t *nodes_with_role(const Inventory *inv, Role role, int64_t port) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                if (!n->roles[role])
                        continue;
                json_t *o = json_pack("{s:s,s:o}", "node", n->name, "ip", ip_json(&n->ip));
                if (o && port > 0)
                        json_object_set_new(o, "endpoint", endpoint("", n, port));
                json_array_append_new(a, o);
        }
        return a;
}

static json_t *kubernetes_json(const Inventory *inv) {
        const Node *first = plan_first_master(inv);
        const KubernetesConfig *k = &inv->kubernetes;
        IpAddr api, dns;
        bool have_ips = inventory_service_ip(inv, SERVICE_ADDRESS_API, &api) >= 0 &&
                        inventory_service_ip(inv, SERVICE_ADDRESS_DNS, &dns) >= 0;

        /* SPEC "State machine": the first master starts a one-member etcd cluster; every other master is
         * added as a learner, starts with state "existing", and is promoted once it has caught up. */
        json_t *etcd = json_array();
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < inv->n_nodes; i++) {
                        const Node *n = inv->nodes + i;
                        if (!n->roles[ROLE_MASTER] || (n == first) != (pass == 0))
                                continue;
                        json_array_append_new(etcd, json_pack("{s:s,s:o,s:s,s:s}", "node", n->name, "peer_url",
                                                              endpoint("https://", n, 2380), "initial_cluster_state",
                                                              pass == 0 ? "new" : "existing", "how",
                                                              pass == 0 ? "starts a one-member cluster"
                                                                        : "added as a learner, then promoted"));
                }

        return json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "version", k->version.v, "api_server_port",
                         (json_int_t) k->api_server_port.v, "key_algorithm", k->pki.key_algorithm.v,
                         "certificate_validity", k->pki.certificate_validity.v, "cni", k->cni.v,
                         "cgroup_driver", k->cgroup_driver.v, "schedule_on_masters", k->schedule_on_masters.v,
                         "first_master", str_or_null(first ? first->name : NULL), "api_endpoint",
                         first ? endpoint("https://", first, k->api_server_port.v) : json_null(), "api_service_ip",
                         have_ips ? ip_json(&api) : json_null(), "cluster_dns_ip",
                         have_ips ? ip_json(&dns) : json_null(), "masters",
                         nodes_with_role(inv, ROLE_MASTER, k->api_server_port.v), "workers",
                         nodes_with_role(inv, ROLE_WORKER, 0), "etcd_bootstrap_order", etcd);
}

static json_t *kafka_json(const Inventory *inv) {
        const KafkaConfig *k = &inv->kafka;
        json_t *brokers = json_array();
        StrBuf voters = {};

        /* Every broker is also a KRaft controller (combined mode), so all of them are voters. */
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                if (!n->roles[ROLE_KAFKA_BROKER])
                        continue;
                json_t *ep = endpoint("", n, k->controller_port.v);
                (void) strbuf_printf(&voters, "%s%" PRId64 "@%s", voters.len ? "," : "", n->kafka_node_id,
                                     json_string_value(ep));
                json_decref(ep);
                json_array_append_new(brokers, json_pack("{s:s,s:I,s:o}", "node", n->name, "node_id",
                                                         (json_int_t) n->kafka_node_id, "endpoint",
                                                         endpoint("", n, k->port.v)));
        }
        json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:o,s:s}", "version", k->version.v, "port", (json_int_t) k->port.v,
                              "controller_port", (json_int_t) k->controller_port.v, "default_replication_factor",
                              (json_int_t) k->default_replication_factor.v, "num_partitions",
                              (json_int_t) k->num_partitions.v, "brokers", brokers, "controller_quorum_voters",
                              strempty(voters.s));
        strbuf_done(&voters);
        return o;
}

static json_t *ceph_json(const Inventory *inv) {
        const CephConfig *c = &inv->ceph;
        json_t *osds = json_array();
        StrBuf mon_host = {};
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                if (n->roles[ROLE_CEPH_MON]) {
                        char ip[IP_ADDR_STRLEN];
                        ip_addr_format(&n->ip, ip);
                        (void) strbuf_printf(&mon_host, "%s%s", mon_host.len ? "," : "", ip);
                }
                for (size_t j = 0; j < n->n_osds; j++)
                        json_array_append_new(osds, json_pack("{s:s,s:s}", "node", n->name, "device",
                                                              n->file->ceph.osd_devices.items[j].v));
        }
        json_t *o = json_pack("{s:o,s:s,s:o,s:I,s:I,s:o,s:o}", "monitors", nodes_with_role(inv, ROLE_CEPH_MON, 3300),
                              "mon_host", strempty(mon_host.s), "osds", osds, "osd_pool_default_size",
                              (json_int_t) c->osd_pool_default_size.v, "osd_pool_default_min_size",
                              (json_int_t) c->osd_pool_default_min_size.v, "public_network",
                              str_or_null(c->public_network.v), "cluster_network", str_or_null(c->cluster_network.v));
        strbuf_done(&mon_host);
        return o;
}

json_t *plan_build(const Inventory *inv) {
        const ClusterConfig *c = &inv->cluster;
        json_t *services = json_array(), *nodes = json_array();
        if (!services || !nodes)
                goto fail;

        for (Service s = 0; s < _SERVICE_MAX; s++)
                if (inv->services[s])
                        json_array_append_new(services, json_string(service_to_string(s)));

        for (size_t i = 0; i < inv->n_nodes; i++)
                json_array_append_new(nodes, node_json(inv, inv->nodes + i));

        json_t *o = json_pack("{s:s,s:o,s:o,s:{s:s,s:o,s:o,s:s,s:s,s:s},s:o}", "cluster", c->name.v, "domain",
                              str_or_null(c->domain.v), "services", services, "networking", "node_cidr",
                              c->networking.node_cidr.v, "gateway", str_or_null(c->networking.gateway.v),
                              "dns_servers", strlist_json(&c->networking.dns_servers), "pod_cidr",
                              c->networking.pod_cidr.v, "service_cidr", c->networking.service_cidr.v,
                              "cluster_domain", c->networking.cluster_domain.v, "nodes", nodes);
        if (!o)
                return NULL;

        if (inv->services[SERVICE_KUBERNETES])
                json_object_set_new(o, "kubernetes", kubernetes_json(inv));
        if (inv->services[SERVICE_KAFKA])
                json_object_set_new(o, "kafka", kafka_json(inv));
        if (inv->services[SERVICE_CEPH])
                json_object_set_new(o, "ceph", ceph_json(inv));
        if (inv->services[SERVICE_MQTT])
                json_object_set_new(o, "mqtt", json_pack("{s:I,s:I,s:b,s:o,s:o}", "port", (json_int_t) inv->mqtt.port.v,
                                                         "tls_port", (json_int_t) inv->mqtt.tls_port.v, "persistence",
                                                         inv->mqtt.persistence.v, "users", mqtt_users_json(inv),
                                                         "brokers",
                                                         nodes_with_role(inv, ROLE_MQTT_BROKER, inv->mqtt.port.v)));
        if (inv->services[SERVICE_DNS])
                json_object_set_new(o, "dns", json_pack("{s:s,s:I,s:o,s:o}", "zone", inv->dns.zone.v, "port",
                                                        (json_int_t) inv->dns.port.v, "forwarders",
                                                        strlist_json(&inv->dns.forwarders), "servers",
                                                        nodes_with_role(inv, ROLE_DNS_SERVER, inv->dns.port.v)));
        json_object_set_new(o, "join_service", nodes_with_role(inv, ROLE_MASTER, 0));
        return o;

fail:
        json_decref(services);
        json_decref(nodes);
        return NULL;
}
