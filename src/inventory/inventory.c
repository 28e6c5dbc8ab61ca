/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "fileio.h"
#include "inventory.h"
#include "schema.h"
#include "string-util.h"
#include "yaml-tree.h"
#include "banned.h"

/* Big enough for a 10,000-node cluster.yaml, small enough that a stray file cannot exhaust memory. */
#define INVENTORY_FILE_MAX (64u * 1024u * 1024u)

#define END { .key = NULL }

#define HOSTNAME_HINT                                                                                        \
        "a hostname is one DNS label or several separated by dots (cp-a, cp-a.lab.internal), at most "       \
        "253 characters in all; a label is 1-63 lowercase letters, digits or '-', not starting or "          \
        "ending with '-'"

static const char *const key_algorithms[] = { "ecdsa-p256", "rsa-2048", "rsa-3072", "rsa-4096", NULL };
static const char *const cnis[] = { "bridge", "flannel", "calico", NULL };
static const char *const cgroup_drivers[] = { "systemd", "cgroupfs", NULL };
static const char *const k8s_components[] = {
        "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "etcd", NULL,
};
/* Roles that need nothing but a name and an address, and so can be given to a machine nobody listed. */
static const char *const auto_register_roles[] = { "worker", "mqtt-broker", "dns-server", NULL };

/* --- cluster.yaml --- */

#define CN(f) offsetof(ClusterConfig, f)
static const Field networking_fields[] = {
        { "node_cidr", FIELD_STRING, CN(networking.node_cidr) - CN(networking), .required = true, .check = check_ip_prefix },
        { "gateway", FIELD_STRING, CN(networking.gateway) - CN(networking), .check = check_ip_addr },
        { "dns_servers", FIELD_STRING_LIST, CN(networking.dns_servers) - CN(networking), .check = check_ip_addr },
        { "pod_cidr", FIELD_STRING, CN(networking.pod_cidr) - CN(networking), .required = true, .check = check_ip_prefix },
        { "service_cidr", FIELD_STRING, CN(networking.service_cidr) - CN(networking), .required = true, .check = check_ip_prefix },
        { "cluster_domain", FIELD_STRING, CN(networking.cluster_domain) - CN(networking), .check = check_dns_name },
        END,
};
static const Schema networking_schema = { "cluster.networking", networking_fields };

static const Field bootstrap_fields[] = {
        { "token", FIELD_STRING, CN(bootstrap.token) - CN(bootstrap), .check = check_bootstrap_token, .secret = true },
        END,
};
static const Schema bootstrap_schema = { "cluster.bootstrap", bootstrap_fields };

static const Field auto_register_fields[] = {
        { "enabled", FIELD_BOOL, CN(auto_register.enabled) - CN(auto_register) },
        { "role", FIELD_STRING, CN(auto_register.role) - CN(auto_register), .choices = auto_register_roles, .noun = "auto_register role" },
        { "hostname_prefix", FIELD_STRING, CN(auto_register.hostname_prefix) - CN(auto_register), .check = check_hostname_prefix },
        END,
};
static const Schema auto_register_schema = { "cluster.auto_register", auto_register_fields };

static const Field cluster_fields[] = {
        { "name", FIELD_STRING, CN(name), .required = true, .check = check_dns_label },
        { "domain", FIELD_STRING, CN(domain), .check = check_dns_name },
        { "networking", FIELD_OBJECT, CN(networking), .required = true, .sub = &networking_schema },
        { "services", FIELD_STRING_LIST, CN(services), .choices = service_names, .noun = "service" },
        { "bootstrap", FIELD_OBJECT, CN(bootstrap), .sub = &bootstrap_schema },
        { "auto_register", FIELD_OBJECT, CN(auto_register), .sub = &auto_register_schema },
        END,
};
static const Schema cluster_schema = { "cluster", cluster_fields };

#define CE(f) offsetof(ClusterNodeEntry, f)
static const Field node_entry_fields[] = {
        { "name", FIELD_STRING, CE(name), .required = true, .check = check_dns_label },
        { "ip", FIELD_STRING, CE(ip), .required = true, .check = check_ip_addr },
        { "roles", FIELD_STRING_LIST, CE(roles), .required = true, .choices = role_names, .noun = "role" },
        { "hostname", FIELD_STRING, CE(hostname), .explain = check_hostname_explain, .hint = HOSTNAME_HINT },
        { "mac_addresses", FIELD_STRING_LIST, CE(mac_addresses), .check = check_mac_addr },
        END,
};
static const Schema node_entry_schema = { "node entry", node_entry_fields };

typedef struct ClusterFileRoot {
        Loc loc;
        ClusterConfig cluster;
        __typeof__(((Inventory *) NULL)->node_entries) nodes;
} ClusterFileRoot;

static const Field cluster_file_fields[] = {
        { "cluster", FIELD_OBJECT, offsetof(ClusterFileRoot, cluster), .required = true, .sub = &cluster_schema },
        { "nodes", FIELD_OBJECT_LIST, offsetof(ClusterFileRoot, nodes), .required = true, .sub = &node_entry_schema,
          .elem_size = sizeof(ClusterNodeEntry) },
        END,
};
static const Schema cluster_file_schema = { "cluster.yaml", cluster_file_fields };

/* --- nodes/<name>.yaml --- */

#define NF(f) offsetof(NodeFile, f)
static const Field hardware_fields[] = {
        { "mac_addresses", FIELD_STRING_LIST, NF(hardware.mac_addresses) - NF(hardware), .check = check_mac_addr },
        { "serial", FIELD_STRING, NF(hardware.serial) - NF(hardware) },
        { "uuid", FIELD_STRING, NF(hardware.uuid) - NF(hardware) },
        END,
};
static const Schema hardware_schema = { "node.hardware", hardware_fields };

static const Field network_fields[] = {
        { "interface", FIELD_STRING, NF(network.interface) - NF(network), .check = check_interface_name },
        END,
};
static const Schema network_schema = { "node.network", network_fields };

static const Field node_ceph_fields[] = {
        { "osd_devices", FIELD_STRING_LIST, NF(ceph.osd_devices) - NF(ceph), .check = check_device_path },
        END,
};
static const Schema node_ceph_schema = { "node.ceph", node_ceph_fields };

static const Field node_kafka_fields[] = {
        /* KRaft's node.id is a non-negative int32. */
        { "node_id", FIELD_INT, NF(kafka.node_id) - NF(kafka), .min = 0, .max = INT32_MAX },
        END,
};
static const Schema node_kafka_schema = { "node.kafka", node_kafka_fields };

static const Field node_state_fields[] = {
        { "disk", FIELD_STRING, NF(state.disk) - NF(state), .check = check_device_path },
        END,
};
static const Schema node_state_schema = { "node.state", node_state_fields };

static const Field node_fields[] = {
        { "name", FIELD_STRING, NF(name), .required = true, .check = check_dns_label },
        { "hostname", FIELD_STRING, NF(hostname), .explain = check_hostname_explain, .hint = HOSTNAME_HINT },
        { "ip", FIELD_STRING, NF(ip), .check = check_ip_addr },
        { "roles", FIELD_STRING_LIST, NF(roles), .choices = role_names, .noun = "role" },
        { "hardware", FIELD_OBJECT, NF(hardware), .sub = &hardware_schema },
        { "network", FIELD_OBJECT, NF(network), .sub = &network_schema },
        { "labels", FIELD_KV, NF(labels), .key_check = check_label_key, .check = check_label_value },
        { "taints", FIELD_STRING_LIST, NF(taints), .check = check_taint },
        { "ceph", FIELD_OBJECT, NF(ceph), .sub = &node_ceph_schema },
        { "kafka", FIELD_OBJECT, NF(kafka), .sub = &node_kafka_schema },
        { "state", FIELD_OBJECT, NF(state), .sub = &node_state_schema },
        END,
};
static const Schema node_schema = { "node", node_fields };

typedef struct NodeFileRoot {
        Loc loc;
        NodeFile node;
} NodeFileRoot;

static const Field node_file_fields[] = {
        { "node", FIELD_OBJECT, offsetof(NodeFileRoot, node), .required = true, .sub = &node_schema },
        END,
};
static const Schema node_file_schema = { "node file", node_file_fields };

/* --- services/<service>.yaml --- */

#define KC(f) offsetof(KubernetesConfig, f)
static const Field pki_fields[] = {
        { "key_algorithm", FIELD_STRING, KC(pki.key_algorithm) - KC(pki), .choices = key_algorithms, .noun = "key algorithm" },
        { "certificate_validity", FIELD_STRING, KC(pki.certificate_validity) - KC(pki), .check = check_certificate_validity },
        END,
};
static const Schema pki_schema = { "kubernetes.pki", pki_fields };

static const Field kubernetes_fields[] = {
        { "version", FIELD_STRING, KC(version), .check = check_version },
        { "api_server_port", FIELD_INT, KC(api_server_port), .min = 1, .max = 65535 },
        { "pki", FIELD_OBJECT, KC(pki), .sub = &pki_schema },
        { "cni", FIELD_STRING, KC(cni), .choices = cnis, .noun = "CNI" },
        { "cgroup_driver", FIELD_STRING, KC(cgroup_driver), .choices = cgroup_drivers, .noun = "cgroup driver" },
        { "schedule_on_masters", FIELD_BOOL, KC(schedule_on_masters) },
        { "extra_args", FIELD_SECTIONS, KC(extra_args), .choices = k8s_components, .noun = "component",
          .key_check = check_flag_name, .check = check_flag_value },
        END,
};
static const Schema kubernetes_schema = { "kubernetes", kubernetes_fields };

#define CC(f) offsetof(CephConfig, f)
static const Field ceph_fields[] = {
        { "osd_pool_default_size", FIELD_INT, CC(osd_pool_default_size), .min = 1, .max = 10 },
        { "osd_pool_default_min_size", FIELD_INT, CC(osd_pool_default_min_size), .min = 1, .max = 10 },
        { "public_network", FIELD_STRING, CC(public_network), .check = check_ip_prefix },
        { "cluster_network", FIELD_STRING, CC(cluster_network), .check = check_ip_prefix },
        { "extra_config", FIELD_SECTIONS, CC(extra_config), .name_check = check_config_key, .key_check = check_config_key,
          .check = check_config_value },
        END,
};
static const Schema ceph_schema = { "ceph", ceph_fields };

#define KF(f) offsetof(KafkaConfig, f)
static const Field kafka_fields[] = {
        { "version", FIELD_STRING, KF(version), .check = check_version },
        { "port", FIELD_INT, KF(port), .min = 1, .max = 65535 },
        { "controller_port", FIELD_INT, KF(controller_port), .min = 1, .max = 65535 },
        { "default_replication_factor", FIELD_INT, KF(default_replication_factor), .min = 1, .max = 32767 },
        { "num_partitions", FIELD_INT, KF(num_partitions), .min = 1, .max = 100000 },
        { "extra_properties", FIELD_KV, KF(extra_properties), .key_check = check_config_key, .check = check_config_value },
        END,
};
static const Schema kafka_schema = { "kafka", kafka_fields };

static const Field mqtt_user_fields[] = {
        { "name", FIELD_STRING, offsetof(MqttUser, name), .required = true, .check = check_mqtt_user },
        { "acl", FIELD_STRING_LIST, offsetof(MqttUser, acl), .check = check_mqtt_acl },
        END,
};
static const Schema mqtt_user_schema = { "mqtt user", mqtt_user_fields };

#define MC(f) offsetof(MqttConfig, f)
static const Field mqtt_fields[] = {
        { "port", FIELD_INT, MC(port), .min = 1, .max = 65535 },
        { "tls_port", FIELD_INT, MC(tls_port), .min = 0, .max = 65535 },
        { "persistence", FIELD_BOOL, MC(persistence) },
        { "users", FIELD_OBJECT_LIST, MC(users), .sub = &mqtt_user_schema, .elem_size = sizeof(MqttUser) },
        END,
};
static const Schema mqtt_schema = { "mqtt", mqtt_fields };

#define DC(f) offsetof(DnsConfig, f)
static const Field dns_fields[] = {
        { "port", FIELD_INT, DC(port), .min = 1, .max = 65535 },
        { "zone", FIELD_STRING, DC(zone), .check = check_dns_name },
        { "forwarders", FIELD_STRING_LIST, DC(forwarders), .check = check_ip_addr },
        END,
};
static const Schema dns_schema = { "dns", dns_fields };

/* Each services/<name>.yaml holds one top-level key, <name>; parsed into a struct { Loc; XConfig; }. */
typedef struct ServiceRoot {
        Loc loc;
        union {
                KubernetesConfig kubernetes;
                CephConfig ceph;
                KafkaConfig kafka;
                MqttConfig mqtt;
                DnsConfig dns;
        } u;
} ServiceRoot;

#define IV(f) offsetof(Inventory, f)
#define SERVICE_ROOT(name, schema)                                                                           \
        static const Field name##_root_fields[] = {                                                          \
                { #name, FIELD_OBJECT, offsetof(ServiceRoot, u), .required = true, .sub = &schema },           \
                END,                                                                                         \
        };                                                                                                   \
        static const Schema name##_root_schema = { "services/" #name ".yaml", name##_root_fields };

SERVICE_ROOT(kubernetes, kubernetes_schema)
SERVICE_ROOT(ceph, ceph_schema)
SERVICE_ROOT(kafka, kafka_schema)
SERVICE_ROOT(mqtt, mqtt_schema)
SERVICE_ROOT(dns, dns_schema)

static const struct {
        const Schema *root;
        const Schema *schema;
        size_t offset; /* of the XConfig in Inventory */
        size_t size;
} service_files[_SERVICE_MAX] = {
        [SERVICE_KUBERNETES] = { &kubernetes_root_schema, &kubernetes_schema, IV(kubernetes), sizeof(KubernetesConfig) },
        [SERVICE_CEPH] = { &ceph_root_schema, &ceph_schema, IV(ceph), sizeof(CephConfig) },
        [SERVICE_KAFKA] = { &kafka_root_schema, &kafka_schema, IV(kafka), sizeof(KafkaConfig) },
        [SERVICE_MQTT] = { &mqtt_root_schema, &mqtt_schema, IV(mqtt), sizeof(MqttConfig) },
        [SERVICE_DNS] = { &dns_root_schema, &dns_schema, IV(dns), sizeof(DnsConfig) },
};

/* --- reading the folder --- */

static int add_file(SourceSet *set, const char *dir, const char *rel, Report *report) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, rel);
        if (!path)
                return -ENOMEM;

        char *data;
        size_t size;
        int r = read_full_file(path, INVENTORY_FILE_MAX, &data, &size);
        if (r == -EFBIG) {
                _cleanup_free_ char *name = source_display_name(dir, rel);
                report_add_file(report, SEVERITY_ERROR, name ?: rel, NULL, "file is larger than %u MiB",
                                INVENTORY_FILE_MAX / 1024 / 1024);
                return 0;
        }
        if (r == -ENOENT)
                return r; /* the caller decides whether that is a problem */
        if (r < 0) {
                _cleanup_free_ char *name = source_display_name(dir, rel);
                report_add_file(report, SEVERITY_ERROR, name ?: rel, NULL, "cannot read file: %s", strerror(-r));
                return r;
        }
        r = source_set_add(set, dir, rel, data, size);
        return r < 0 ? r : 0;
}

static int yaml_filter(const struct dirent *de) {
        return de->d_name[0] != '.';
}

static int add_folder(SourceSet *set, const char *dir, const char *sub, Report *report) {
        _cleanup_free_ char *path = strprintf("%s/%s", dir, sub);
        if (!path)
                return -ENOMEM;

        struct dirent **list;
        int n = scandir(path, &list, yaml_filter, alphasort);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;

        int r = 0;
        for (int i = 0; i < n; i++) {
                const char *fn = list[i]->d_name;
                _cleanup_free_ char *rel = strprintf("%s/%s", sub, fn);
                if (!rel)
                        r = -ENOMEM;
                else if (endswith(fn, ".yml")) {
                        _cleanup_free_ char *name = source_display_name(dir, rel);
                        report_add_file(report, SEVERITY_WARNING, name ?: rel, "rename it to end in .yaml",
                                        "file ignored: inventory files end in .yaml");
                } else if (endswith(fn, ".yaml") && r >= 0) {
                        r = add_file(set, dir, rel, report);
                        if (r == -ENOENT) /* removed since it was listed */
                                r = 0;
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int inventory_load(const char *dir, Report *report, Inventory **ret) {
        _cleanup_(source_set_done) SourceSet set = {};
        int r;

        DIR *d = opendir(dir);
        if (!d)
                return -errno;
        closedir(d);

        /* A missing cluster.yaml is reported by inventory_load_sources(), after the others are read. */
        r = add_file(&set, dir, "cluster.yaml", report);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == -ENOENT) {
                _cleanup_free_ char *yml = strprintf("%s/cluster.yml", dir);
                if (!yml)
                        return -ENOMEM;
                if (access(yml, F_OK) >= 0) {
                        _cleanup_free_ char *name = source_display_name(dir, "cluster.yml");
                        report_add_file(report, SEVERITY_WARNING, name ?: "cluster.yml", "rename it to cluster.yaml",
                                        "file ignored: inventory files end in .yaml");
                }
        }
        r = add_folder(&set, dir, "nodes", report);
        if (r < 0)
                return r;
        r = add_folder(&set, dir, "services", report);
        if (r < 0)
                return r;

        return inventory_load_sources(dir, &set, report, ret);
}

/* --- parsing --- */

static char *file_base(const char *rel, const char *dir) {
        /* "nodes/worker-01.yaml" -> "worker-01" */
        size_t skip = strlen(dir) + 1, n = strlen(rel) - skip - strlen(".yaml");
        return strndup(rel + skip, n);
}


static const YNode *root_mapping(Inventory *inv, uint32_t file, YNode *root, const char *expected, Report *report) {
        if (root->kind == YNODE_MAPPING)
                return root;
        report_add(report, SEVERITY_ERROR, root->loc, NULL, NULL, "%s must hold a mapping with the %s, not %s",
                   inv->sources.files[file].rel, expected, ynode_describe(root));
        return NULL;
}

static void parse_cluster_file(Inventory *inv, uint32_t file, const YNode *root, Report *report) {
        ClusterFileRoot cfr = {};
        schema_parse(&cluster_file_schema, root, &cfr, "", report);
        inv->cluster = cfr.cluster;
        inv->node_entries.items = cfr.nodes.items;
        inv->node_entries.n = cfr.nodes.n;
        inv->node_entries.loc = cfr.nodes.loc;
        inv->node_entries.set = cfr.nodes.set;
        inv->node_entries.dropped = cfr.nodes.dropped;
        (void) file;
}

static void parse_node_file(Inventory *inv, uint32_t file, const YNode *root, Report *report) {
        NodeFileRoot nfr = {};
        schema_parse(&node_file_schema, root, &nfr, "", report);
        if (!loc_is_set(nfr.node.loc)) /* no "node:" mapping: reported */
                return;
        if (!GREEDY_REALLOC(inv->node_files, inv->node_files_allocated, inv->n_node_files + 1)) {
                schema_free(&node_schema, &nfr.node);
                report->oom = true;
                return;
        }
        nfr.node.file = file;
        inv->node_files[inv->n_node_files++] = nfr.node;
}

static void parse_service_file(Inventory *inv, uint32_t file, YNode *root, Report *report) {
        SourceFile *sf = &inv->sources.files[file];
        _cleanup_free_ char *base = file_base(sf->rel, "services");
        if (!base) {
                report->oom = true;
                return;
        }

        Service s = service_from_string(base);
        if (s < 0) {
                const char *near = nearest_word(base, service_names);
                _cleanup_free_ char *hint = near ? strprintf("did you mean services/%s.yaml?", near) : NULL;
                report_add(report, SEVERITY_ERROR, (Loc) { .file = file }, NULL,
                           hint ?: "service files are kubernetes.yaml, ceph.yaml, kafka.yaml, mqtt.yaml and dns.yaml",
                           "unknown service file '%s.yaml'", base);
                return;
        }

        _cleanup_free_ char *key = strprintf("key '%s'", base);
        if (!key || !root_mapping(inv, file, root, key, report))
                return;

        ServiceRoot sr = {};
        schema_parse(service_files[s].root, root, &sr, "", report);
        memcpy((char *) inv + service_files[s].offset, &sr.u, service_files[s].size);
}

/* --- defaults and derived values --- */

static int default_str(StrVal *v, const char *value, Loc loc) {
        if (v->v)
                return 0;
        v->v = strdup(value);
        v->loc = loc;
        return v->v ? 0 : -ENOMEM;
}

static void default_int(IntVal *v, int64_t value) {
        if (!v->set)
                *v = (IntVal) { .v = value };
}

static int default_list(StrList *l, const StrList *from) {
        if (l->set || !from->set)
                return 0;
        l->items = calloc(from->n ?: 1, sizeof(StrVal));
        if (!l->items)
                return -ENOMEM;
        for (size_t i = 0; i < from->n; i++) {
                l->items[i].v = strdup(from->items[i].v);
                if (!l->items[i].v)
                        return -ENOMEM;
                l->items[i].loc = from->items[i].loc;
                l->n++;
        }
        l->loc = from->loc;
        l->set = true;
        return 0;
}

static int apply_defaults(Inventory *inv) {
        ClusterConfig *c = &inv->cluster;
        Loc none = {};
        int r = 0;

        r = r ?: default_str(&c->networking.cluster_domain, "cluster.local", none);

        KubernetesConfig *k = &inv->kubernetes;
        r = r ?: default_str(&k->version, "1.29.1", none);
        default_int(&k->api_server_port, 6443);
        r = r ?: default_str(&k->pki.key_algorithm, "ecdsa-p256", none);
        r = r ?: default_str(&k->pki.certificate_validity, "8760h", none);
        r = r ?: default_str(&k->cni, "bridge", none);
        r = r ?: default_str(&k->cgroup_driver, "systemd", none);

        CephConfig *ceph = &inv->ceph;
        default_int(&ceph->osd_pool_default_size, 3);
        default_int(&ceph->osd_pool_default_min_size, 2);
        /* Derived defaults keep the location of the value they come from, so a problem with the ceph
         * network points at node_cidr when that is where it was written. */
        ceph->public_network_derived = !ceph->public_network.v;
        ceph->cluster_network_derived = !ceph->cluster_network.v;
        if (c->networking.node_cidr.v)
                r = r ?: default_str(&ceph->public_network, c->networking.node_cidr.v, c->networking.node_cidr.loc);
        if (ceph->public_network.v)
                r = r ?: default_str(&ceph->cluster_network, ceph->public_network.v, ceph->public_network.loc);

        KafkaConfig *kf = &inv->kafka;
        r = r ?: default_str(&kf->version, "3.6.1", none);
        default_int(&kf->port, 9092);
        default_int(&kf->controller_port, 9093);
        default_int(&kf->default_replication_factor, 3);
        default_int(&kf->num_partitions, 3);

        MqttConfig *m = &inv->mqtt;
        default_int(&m->port, 1883);
        default_int(&m->tls_port, 8883);
        if (!m->persistence.set)
                m->persistence = (BoolVal) { .v = true };
        if (!m->users.set) {
                m->users.items = calloc(1, sizeof(MqttUser));
                if (!m->users.items)
                        return -ENOMEM;
                m->users.n = 1;
                m->users.set = true;
                MqttUser *u = m->users.items;
                r = r ?: default_str(&u->name, "admin", none);
                u->acl.items = calloc(1, sizeof(StrVal));
                if (!u->acl.items)
                        return -ENOMEM;
                u->acl.set = true;
                u->acl.n = 1;
                r = r ?: default_str(&u->acl.items[0], "readwrite #", none);
        }

        DnsConfig *d = &inv->dns;
        default_int(&d->port, 53);
        if (c->domain.v)
                r = r ?: default_str(&d->zone, c->domain.v, c->domain.loc);
        else if (c->name.v) {
                _cleanup_free_ char *zone = strprintf("%s.local", c->name.v);
                if (!zone)
                        return -ENOMEM;
                r = r ?: default_str(&d->zone, zone, c->name.loc);
        }
        r = r ?: default_list(&d->forwarders, &c->networking.dns_servers);
        return r;
}

static void parse_prefix(const StrVal *v, IpPrefix *ret, bool *ret_valid) {
        *ret_valid = v->v && ip_prefix_parse(v->v, ret, NULL) >= 0;
}

static void derive_services(Inventory *inv) {
        const StrList *l = &inv->cluster.services;
        inv->services_known = loc_is_set(inv->cluster.loc) && !l->dropped;
        for (Service s = 0; s < _SERVICE_MAX; s++)
                inv->services[s] = !l->set;
        for (size_t i = 0; i < l->n; i++) {
                Service s = service_from_string(l->items[i].v);
                if (s >= 0)
                        inv->services[s] = true;
        }
}

/* --- nodes: cluster.yaml entries merged with node files --- */

static int node_name_cmp(const void *a, const void *b) {
        return strcmp(((const Node *) a)->name, ((const Node *) b)->name);
}

const Node *inventory_find_node(const Inventory *inv, const char *name) {
        Node key = { .name = name };
        return inv->n_nodes ? bsearch(&key, inv->nodes, inv->n_nodes, sizeof(Node), node_name_cmp) : NULL;
}

void node_host_names(const Inventory *inv, const Node *n, NodeHostNames *ret) {
        const char *domain = inv->cluster.domain.v;
        char buf[DNS_LABEL_MAX + 1];

        snprintf(ret->short_name, sizeof(ret->short_name), "%s", hostname_first_label(n->hostname, buf));
        if (domain && !hostname_is_dotted(n->hostname))
                snprintf(ret->fqdn, sizeof(ret->fqdn), "%s.%s", n->hostname, domain);
        else
                snprintf(ret->fqdn, sizeof(ret->fqdn), "%s", n->hostname);
}

const char *inventory_auto_role(const Inventory *inv) {
        return inv->cluster.auto_register.role.v ?: "worker";
}

char *inventory_auto_name(const Inventory *inv, const char *mac) {
        char norm[18];
        if (!mac || mac_addr_normalize(mac, norm) < 0) {
                errno = EINVAL;
                return NULL;
        }
        /* The last three bytes, without separators: 52:54:00:12:34:99 -> 123499. */
        return strprintf("%s%c%c%c%c%c%c", inv->cluster.auto_register.hostname_prefix.v ?: "node-", norm[9], norm[10],
                         norm[12], norm[13], norm[15], norm[16]);
}

static bool node_has_mac(const Node *n, const char *mac) {
        for (size_t i = 0; i < n->n_macs; i++)
                if (streq(n->macs[i], mac))
                        return true;
        return false;
}

int inventory_auto_node_fits(const Inventory *inv, const char *name, const char *mac, const IpAddr *ip,
                             const char **ret_reason) {
        const char *reason = NULL;
        char norm[18];
        int r = 0;
        if (!inv->cluster.auto_register.enabled.v)
                reason = "auto_register is off", r = -EPERM;
        else if (inventory_find_node(inv, name))
                reason = "auto_register: the name is a node of the inventory", r = -EEXIST;
        else if (mac && mac_addr_normalize(mac, norm) < 0)
                reason = "bad hwaddr", r = -EINVAL;
        else if (ip && (!inv->node_cidr_valid || !ip_prefix_contains(&inv->node_cidr, ip)))
                reason = "auto_register: the address is outside the node network", r = -EPERM;
        for (size_t i = 0; r == 0 && i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                if (ip && n->ip_valid && ip_addr_cmp(&n->ip, ip) == 0)
                        reason = "auto_register: the address is an inventory node's", r = -EEXIST;
                else if (mac && !n->auto_name && node_has_mac(n, norm))
                        reason = "auto_register: the MAC is an inventory node's", r = -EEXIST;
        }
        if (r < 0 && ret_reason)
                *ret_reason = reason;
        return r;
}

int inventory_add_auto_node(Inventory *inv, const char *name, const char *mac, const IpAddr *ip, Node **ret,
                            const char **ret_reason) {
        int r = inventory_auto_node_fits(inv, name, mac, ip, ret_reason);
        if (r < 0)
                return r;
        Role role = role_from_string(inventory_auto_role(inv));
        char norm[18];
        if (role < 0 || mac_addr_normalize(mac, norm) < 0)
                return -EINVAL;
        Node *nodes = realloc(inv->nodes, (inv->n_nodes + 1) * sizeof(Node));
        if (!nodes)
                return -ENOMEM;
        inv->nodes = nodes;
        Node n = { .kafka_node_id = -1 };
        n.auto_name = strdup(name);
        n.macs = calloc(1, sizeof(*n.macs));
        if (!n.auto_name || !n.macs) {
                free(n.auto_name);
                free(n.macs);
                return -ENOMEM;
        }
        memcpy(n.macs[0], norm, sizeof(norm));
        n.n_macs = 1;
        n.name = n.hostname = n.auto_name;
        n.roles[role] = true;
        if (ip) {
                n.ip = *ip;
                n.ip_valid = true;
        }
        size_t at = 0;
        while (at < inv->n_nodes && strcmp(inv->nodes[at].name, name) < 0)
                at++;
        memmove(inv->nodes + at + 1, inv->nodes + at, (inv->n_nodes - at) * sizeof(Node));
        inv->nodes[at] = n;
        inv->n_nodes++;
        if (ret)
                *ret = inv->nodes + at;
        return 0;
}

static bool str_sets_equal(const StrList *a, const StrList *b, bool (*eq)(const char *, const char *)) {
        /* An invalid item was reported already; comparing what is left would only confuse. */
        if (a->dropped || b->dropped)
                return true;
        /* Lists here are short (roles, MACs): quadratic is fine and keeps the order irrelevant. */
        for (int pass = 0; pass < 2; pass++) {
                const StrList *x = pass ? b : a, *y = pass ? a : b;
                for (size_t i = 0; i < x->n; i++) {
                        bool found = false;
                        for (size_t j = 0; j < y->n && !found; j++)
                                found = eq(x->items[i].v, y->items[j].v);
                        if (!found)
                                return false;
                }
        }
        return true;
}

static bool role_eq(const char *a, const char *b) {
        return role_from_string(a) == role_from_string(b);
}

static bool mac_eq(const char *a, const char *b) {
        char x[18], y[18];
        if (mac_addr_normalize(a, x) < 0 || mac_addr_normalize(b, y) < 0)
                return streq(a, b);
        return streq(x, y);
}

static void report_conflict(Report *r, const char *key, Loc file_loc, const char *file_value, Loc entry_loc,
                            const char *entry_value) {
        report_add(r, SEVERITY_ERROR, file_loc, NULL,
                   "a value given in both cluster.yaml and the node file must be the same; keep one",
                   "%s %s disagrees with cluster.yaml (line %u: %s)", key, file_value, entry_loc.line, entry_value);
}

static char *list_to_string(const StrList *l) {
        StrBuf b = {};
        (void) strbuf_append(&b, "[");
        for (size_t i = 0; i < l->n; i++)
                (void) strbuf_printf(&b, "%s%s", i ? ", " : "", l->items[i].v);
        (void) strbuf_append(&b, "]");
        return strbuf_steal(&b);
}

static void merge_node_file(Node *n, const NodeFile *f, Report *report) {
        const ClusterNodeEntry *e = n->entry;

        n->file = f;
        if (f->ip.v && e->ip.v && !streq(f->ip.v, e->ip.v)) {
                IpAddr a, b;
                /* "10.0.0.1" and "10.0.0.01" are not the same text, and not the same address either; but
                 * "::1" and "0::1" are. */
                if (ip_addr_parse(f->ip.v, &a) < 0 || ip_addr_parse(e->ip.v, &b) < 0 || ip_addr_cmp(&a, &b) != 0)
                        report_conflict(report, "ip", f->ip.loc, f->ip.v, e->ip.loc, e->ip.v);
        }
        if (f->hostname.v && e->hostname.v && !streq(f->hostname.v, e->hostname.v))
                report_conflict(report, "hostname", f->hostname.loc, f->hostname.v, e->hostname.loc, e->hostname.v);
        if (f->roles.set && e->roles.set && !str_sets_equal(&f->roles, &e->roles, role_eq)) {
                _cleanup_free_ char *a = list_to_string(&f->roles), *b = list_to_string(&e->roles);
                report_conflict(report, "roles", f->roles.loc, strempty(a), e->roles.loc, strempty(b));
        }
        if (f->hardware.mac_addresses.set && e->mac_addresses.set &&
            !str_sets_equal(&f->hardware.mac_addresses, &e->mac_addresses, mac_eq)) {
                _cleanup_free_ char *a = list_to_string(&f->hardware.mac_addresses),
                                    *b = list_to_string(&e->mac_addresses);
                report_conflict(report, "mac_addresses", f->hardware.mac_addresses.loc, strempty(a),
                                e->mac_addresses.loc, strempty(b));
        }

        if (f->hostname.v) {
                n->hostname = f->hostname.v;
                n->hostname_loc = f->hostname.loc;
        }
}

static int node_set_macs(Node *n) {
        const StrList *l = n->file && n->file->hardware.mac_addresses.set ? &n->file->hardware.mac_addresses
                                                                          : &n->entry->mac_addresses;
        n->macs = calloc(l->n ?: 1, sizeof(*n->macs));
        if (!n->macs)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++)
                if (mac_addr_normalize(l->items[i].v, n->macs[n->n_macs]) >= 0)
                        n->n_macs++;
        return 0;
}

static void match_node_files(Inventory *inv, Report *report) {
        for (size_t i = 0; i < inv->n_node_files; i++) {
                const NodeFile *f = inv->node_files + i;
                const char *rel = inv->sources.files[f->file].rel;
                _cleanup_free_ char *base = file_base(rel, "nodes");
                if (!base) {
                        report->oom = true;
                        return;
                }

                if (f->name.v && !streq(f->name.v, base))
                        report_add(report, SEVERITY_ERROR, f->name.loc, NULL, NULL,
                                   "node name '%s' does not match the file name '%s' (expected '%s')", f->name.v,
                                   rel, base);

                Node *n = (Node *) inventory_find_node(inv, base);
                if (!n) {
                        const char **names = calloc(inv->n_nodes + 1, sizeof(char *));
                        for (size_t j = 0; names && j < inv->n_nodes; j++)
                                names[j] = inv->nodes[j].name;
                        const char *near = names ? nearest_word(base, (const char *const *) names) : NULL;
                        _cleanup_free_ char *hint = near ? strprintf("did you mean nodes/%s.yaml?", near)
                                                         : strdup("add the node to cluster.yaml's nodes: list");
                        report_add(report, SEVERITY_ERROR, f->loc, NULL, hint,
                                   "node file for unknown node '%s': cluster.yaml has no node of that name", base);
                        free(names);
                        continue;
                }
                if (n->file)
                        continue; /* a duplicate node name: reported by validation */
                merge_node_file(n, f, report);
        }
}

/* A node file that exists but did not parse leaves its node without a file; remember that, so the node is
 * not also blamed for what the file would have said. */
static void mark_broken_node_files(Inventory *inv) {
        for (uint32_t i = 0; i < inv->sources.n_files; i++) {
                const char *rel = inv->sources.files[i].rel;
                if (!startswith(rel, "nodes/") || !endswith(rel, ".yaml"))
                        continue;
                _cleanup_free_ char *base = file_base(rel, "nodes");
                Node *n = base ? (Node *) inventory_find_node(inv, base) : NULL;
                if (n && !n->file)
                        n->file_broken = true;
        }
}

static int int64_cmp(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return x < y ? -1 : x > y;
}

static int assign_kafka_ids(Inventory *inv) {
        /* Brokers without a written node_id get the smallest positive ids not written elsewhere, in name
         * order, so the assignment is stable when nodes are added later in the alphabet. */
        _cleanup_free_ int64_t *taken = calloc(inv->n_node_files ?: 1, sizeof(int64_t));
        if (!taken)
                return -ENOMEM;
        size_t n_taken = 0;
        for (size_t j = 0; j < inv->n_node_files; j++)
                if (inv->node_files[j].kafka.node_id.set)
                        taken[n_taken++] = inv->node_files[j].kafka.node_id.v;
        qsort(taken, n_taken, sizeof(int64_t), int64_cmp);

        int64_t next = 1;
        size_t t = 0;
        for (size_t i = 0; i < inv->n_nodes; i++) {
                Node *n = inv->nodes + i;
                n->kafka_node_id = -1;
                if (!n->roles[ROLE_KAFKA_BROKER])
                        continue;
                if (n->file && n->file->kafka.node_id.set) {
                        n->kafka_node_id = n->file->kafka.node_id.v;
                        continue;
                }
                for (; t < n_taken && taken[t] <= next; t++)
                        if (taken[t] == next)
                                next++;
                n->kafka_node_id = next++;
        }
        return 0;
}

static void count_osds(Inventory *inv) {
        for (size_t i = 0; i < inv->n_nodes; i++) {
                Node *n = inv->nodes + i;
                n->n_osds = n->roles[ROLE_CEPH_OSD] && n->file ? n->file->ceph.osd_devices.n : 0;
        }
}

static int build_nodes(Inventory *inv, Report *report) {
        size_t n = 0;
        inv->nodes = calloc(inv->node_entries.n ?: 1, sizeof(Node));
        if (!inv->nodes)
                return -ENOMEM;

        for (size_t i = 0; i < inv->node_entries.n; i++) {
                const ClusterNodeEntry *e = inv->node_entries.items + i;
                if (!e->name.v)
                        continue; /* reported: the name is required */
                Node *node = inv->nodes + n++;
                *node = (Node) {
                        .entry = e,
                        .name = e->name.v,
                        .name_loc = e->name.loc,
                        .hostname = e->hostname.v ?: e->name.v,
                        .hostname_loc = e->hostname.v ? e->hostname.loc : e->name.loc,
                        .ip_loc = e->ip.loc,
                        .roles_loc = e->roles.loc,
                };
                node->ip_valid = e->ip.v && ip_addr_parse(e->ip.v, &node->ip) >= 0;
                for (size_t j = 0; j < e->roles.n; j++) {
                        Role r = role_from_string(e->roles.items[j].v);
                        if (r >= 0)
                                node->roles[r] = true;
                }
        }
        inv->n_nodes = n;
        if (n > 1)
                qsort(inv->nodes, n, sizeof(Node), node_name_cmp);

        /* Without cluster.yaml's node list every node file would be "unknown": that says nothing new. */
        if (inv->node_entries.set) {
                match_node_files(inv, report);
                mark_broken_node_files(inv);
        }
        for (size_t i = 0; i < n; i++)
                if (node_set_macs(inv->nodes + i) < 0)
                        return -ENOMEM;
        count_osds(inv);
        return assign_kafka_ids(inv);
}

static void mark_broken(Inventory *inv, uint32_t file) {
        const char *rel = inv->sources.files[file].rel;
        if (startswith(rel, "services/")) {
                _cleanup_free_ char *base = file_base(rel, "services");
                Service s = base ? service_from_string(base) : _SERVICE_INVALID;
                if (s >= 0)
                        inv->service_file_broken[s] = true;
        }
        /* Node files are matched by name in build_nodes(), which looks for broken ones there. */
}

int inventory_load_sources(const char *prefix, SourceSet *sources, Report *report, Inventory **ret) {
        _cleanup_(inventory_freep) Inventory *inv = calloc(1, sizeof(Inventory));
        if (!inv) {
                source_set_done(sources);
                return -ENOMEM;
        }
        inv->sources = *sources;
        *sources = (SourceSet) {};
        report->sources = &inv->sources;

        bool have_cluster = false;
        for (uint32_t i = 0; i < inv->sources.n_files; i++) {
                const char *rel = inv->sources.files[i].rel;
                bool is_cluster = streq(rel, "cluster.yaml");
                bool is_node = startswith(rel, "nodes/") && endswith(rel, ".yaml") && !strchr(rel + 6, '/');
                bool is_service = startswith(rel, "services/") && endswith(rel, ".yaml") && !strchr(rel + 9, '/');
                if ((!is_cluster && !is_node && !is_service) || (is_cluster && have_cluster))
                        continue;

                _cleanup_(ynode_freep) YNode *root = yaml_tree_parse(&inv->sources, i, report);
                if (is_cluster)
                        have_cluster = true;
                if (!root) {
                        mark_broken(inv, i);
                        continue;
                }

                if (is_cluster) {
                        if (root_mapping(inv, i, root, "keys 'cluster' and 'nodes'", report))
                                parse_cluster_file(inv, i, root, report);
                } else if (is_node) {
                        if (root_mapping(inv, i, root, "key 'node'", report))
                                parse_node_file(inv, i, root, report);
                } else
                        parse_service_file(inv, i, root, report);
        }

        if (!have_cluster) {
                _cleanup_free_ char *name = source_display_name(prefix, "cluster.yaml");
                report_add_file(report, SEVERITY_ERROR, name ?: "cluster.yaml",
                                "an inventory is a folder with cluster.yaml and optional nodes/ and services/; "
                                "see docs/inventory.md",
                                "file not found");
        }

        derive_services(inv);
        if (apply_defaults(inv) < 0)
                goto oom;
        parse_prefix(&inv->cluster.networking.node_cidr, &inv->node_cidr, &inv->node_cidr_valid);
        parse_prefix(&inv->cluster.networking.pod_cidr, &inv->pod_cidr, &inv->pod_cidr_valid);
        parse_prefix(&inv->cluster.networking.service_cidr, &inv->service_cidr, &inv->service_cidr_valid);
        bool pub, clu;
        parse_prefix(&inv->ceph.public_network, &inv->ceph_public_network, &pub);
        parse_prefix(&inv->ceph.cluster_network, &inv->ceph_cluster_network, &clu);
        inv->ceph_networks_valid = pub && clu;

        if (build_nodes(inv, report) < 0)
                goto oom;

        *ret = TAKE_PTR(inv);
        return 0;

oom:
        report->sources = NULL; /* they go with the inventory */
        return -ENOMEM;
}

void inventory_free(Inventory *inv) {
        if (!inv)
                return;

        schema_free(&cluster_schema, &inv->cluster);
        for (size_t i = 0; i < inv->node_entries.n; i++)
                schema_free(&node_entry_schema, inv->node_entries.items + i);
        free(inv->node_entries.items);
        for (size_t i = 0; i < inv->n_node_files; i++)
                schema_free(&node_schema, inv->node_files + i);
        free(inv->node_files);
        for (Service s = 0; s < _SERVICE_MAX; s++)
                schema_free(service_files[s].schema, (char *) inv + service_files[s].offset);
        for (size_t i = 0; i < inv->n_nodes; i++) {
                free(inv->nodes[i].macs);
                free(inv->nodes[i].auto_name);
        }
        free(inv->nodes);
        source_set_done(&inv->sources);
        free(inv->dir);
        free(inv);
}

int inventory_load_and_validate(const char *dir, Report *report, Inventory **ret) {
        Inventory *inv;
        int r = inventory_load(dir, report, &inv);
        if (r < 0)
                return r;
        inv->dir = strdup(dir);
        if (!inv->dir) {
                inventory_free(inv);
                report->sources = NULL;
                return -ENOMEM;
        }
        inventory_validate(inv, report);
        report_sort(report);
        *ret = inv;
        return 0;
}

bool node_has_control_plane_taint(const Inventory *inv, const Node *n) {
        return n->roles[ROLE_MASTER] && !inv->kubernetes.schedule_on_masters.v;
}

int node_taints(const Inventory *inv, const Node *n, char ***ret, size_t *ret_n) {
        const StrList *l = n->file ? &n->file->taints : NULL;
        size_t max = (l ? l->n : 0) + 1, k = 0;
        bool have_cp = false;
        char **t = calloc(max + 1, sizeof(char *));
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; l && i < l->n; i++) {
                const char *v = strempty(l->items[i].v);
                /* The inventory's own taint of that key wins over ours (another effect, a value). */
                have_cp = have_cp || taint_has_key(v, CONTROL_PLANE_LABEL);
                if (!(t[k++] = strdup(v)))
                        goto oom;
        }
        if (node_has_control_plane_taint(inv, n) && !have_cp && !(t[k++] = strdup(CONTROL_PLANE_TAINT)))
                goto oom;
        *ret = t;
        *ret_n = k;
        return 0;
oom:
        for (size_t i = 0; i < k; i++)
                free(t[i]);
        free(t);
        return -ENOMEM;
}

int inventory_service_ip(const Inventory *inv, ServiceAddress which, IpAddr *ret) {
        if (!inv->service_cidr_valid)
                return -EINVAL;
        return ip_prefix_nth(&inv->service_cidr, which == SERVICE_ADDRESS_API ? 1 : 10, ret);
}

bool node_serves_cluster_dns(const Inventory *inv, const Node *n) {
        return n->roles[ROLE_DNS_SERVER] && inv->services[SERVICE_DNS] && inv->services[SERVICE_KUBERNETES];
}

bool node_uses_api_proxy(const Inventory *inv, const Node *n) {
        return inv->services[SERVICE_KUBERNETES] && n->roles[ROLE_WORKER] && !n->roles[ROLE_MASTER];
}

char *node_api_url(const Inventory *inv, const Node *n) {
        int64_t port = inv->kubernetes.api_server_port.v;
        if (n->roles[ROLE_MASTER])
                return ip_url("https", &n->ip, port, NULL);
        if (node_uses_api_proxy(inv, n)) {
                IpAddr loopback;
                (void) ip_addr_parse(API_PROXY_ADDRESS, &loopback);
                return ip_url("https", &loopback, API_PROXY_PORT, NULL);
        }
        for (size_t i = 0; i < inv->n_nodes; i++)
                if (inv->nodes[i].roles[ROLE_MASTER])
                        return ip_url("https", &inv->nodes[i].ip, port, NULL);
        return NULL;
}

bool inventory_uses_flannel(const Inventory *inv) {
        return inv->services[SERVICE_KUBERNETES] && streq_ptr(inv->kubernetes.cni.v, "flannel");
}
