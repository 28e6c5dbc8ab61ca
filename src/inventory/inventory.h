/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "checks.h"
#include "model.h"
#include "report.h"

/* The one loader every command uses: reads DIR/cluster.yaml, DIR/nodes/ *.yaml and DIR/services/ *.yaml,
 * parses them into the model, merges each node's entry with its node file and applies defaults.
 *
 * Problems with the inventory's content go to the report (the Inventory is still returned, as complete as
 * the input allowed). A negative errno is returned only when the inventory cannot be read at all (the
 * directory is missing, a file is unreadable): that is a usage error, not an invalid inventory. */
int inventory_load(const char *dir, Report *report, Inventory **ret);

/* The same from files already in memory (for the fuzzer and tests): names are relative to the inventory
 * ("cluster.yaml", "nodes/a.yaml"), shown under prefix (may be NULL); the set is taken over. */
int inventory_load_sources(const char *prefix, SourceSet *sources, Report *report, Inventory **ret);

void inventory_free(Inventory *inv);
DEFINE_TRIVIAL_CLEANUP_FUNC(Inventory *, inventory_free);

/* Semantic checks across the whole inventory: everything schema_parse() cannot see alone. */
void inventory_validate(Inventory *inv, Report *report);

/* Loads and validates; what `validate`, `plan` and every later command start with. */
int inventory_load_and_validate(const char *dir, Report *report, Inventory **ret);

const Node *inventory_find_node(const Inventory *inv, const char *name);

/* The names a node has on its network besides its name, as /etc/hosts gives them: its FQDN -- a dotted
 * hostname as written; an undotted one followed by cluster.domain when that is set (never a dotted one:
 * it is qualified already); else the hostname alone -- and its hostname's first label (the two are the
 * same for an undotted hostname without a domain). */
typedef struct NodeHostNames {
        char fqdn[HOSTNAME_MAX + 1 + DNS_LABEL_MAX + 1];
        char short_name[DNS_LABEL_MAX + 1];
} NodeHostNames;
void node_host_names(const Inventory *inv, const Node *n, NodeHostNames *ret);

/* cluster.auto_register: the name an unknown machine with this MAC (its first NIC's) gets,
 * hostname_prefix + the MAC's last six hex digits ("node-123499"), or NULL (errno EINVAL for a bad MAC). */
char *inventory_auto_name(const Inventory *inv, const char *mac);
/* The role an auto-registered machine gets: cluster.auto_register.role, "worker" when not given. */
const char *inventory_auto_role(const Inventory *inv);
/* Whether an auto-registered machine with this MAC (NULL: not checked) may be named name, at ip (NULL: not known
 * yet) in inv: 0, or -EPERM (auto_register is off, or ip is outside node_cidr), -EEXIST (the name, the MAC
 * or ip is a node's) or -EINVAL (not a MAC), with the reason in *ret_reason (untouched on success). The join
 * service's rule when it registers one, and every node's when it takes the registry in. */
int inventory_auto_node_fits(const Inventory *inv, const char *name, const char *mac, const IpAddr *ip,
                             const char **ret_reason);
/* Adds a node for an auto-registered machine: that name, the MAC, auto_register's role, and ip (NULL: not
 * known yet, ip_valid false). Keeps the nodes sorted, so Node pointers taken before are invalid after.
 * Errors as inventory_auto_node_fits()'s, with its reason in *ret_reason (may be NULL), -EINVAL for a bad
 * MAC or a role auto_register cannot give. */
int inventory_add_auto_node(Inventory *inv, const char *name, const char *mac, const IpAddr *ip, Node **ret,
                            const char **ret_reason);

/* kubeadm's mark of a master: this label (set through the API: the kubelet may not set it), and, unless
 * kubernetes.schedule_on_masters, this taint (registered by the kubelet). */
#define CONTROL_PLANE_LABEL "node-role.kubernetes.io/control-plane"
#define CONTROL_PLANE_TAINT CONTROL_PLANE_LABEL ":NoSchedule"

/* n is a master that keeps ordinary pods off (kubernetes.schedule_on_masters is false). */
bool node_has_control_plane_taint(const Inventory *inv, const Node *n);
/* The taints n registers with, KEY[=VALUE]:EFFECT: the inventory's, in the order written, then the
 * control-plane taint of a master unless the inventory has a taint of that key already. *ret is
 * NULL-terminated; free each and it. */
int node_taints(const Inventory *inv, const Node *n, char ***ret, size_t *ret_n);

/* The two fixed addresses of service_cidr, as kubeadm takes them: the Service kubernetes (the first
 * host) and the cluster DNS Service kube-dns (the tenth). -EINVAL: no valid service_cidr; -ERANGE: too
 * small (validate refuses it). */
typedef enum ServiceAddress {
        SERVICE_ADDRESS_API,
        SERVICE_ADDRESS_DNS,
} ServiceAddress;
int inventory_service_ip(const Inventory *inv, ServiceAddress which, IpAddr *ret);

/* n's CoreDNS also answers the Kubernetes cluster domain (Services, pods), from the API server: a
 * dns-server node of a cluster that runs Kubernetes. kube_objects() puts the Service kube-dns in front of
 * these nodes. */
bool node_serves_cluster_dns(const Inventory *inv, const Node *n);

/* Where a node that runs a kubelet and no API server (a worker) reaches the API: clusterboot-api-proxy.service
 * relays API_PROXY_ADDRESS:API_PROXY_PORT to every master's API server, so that the loss of one master cuts off no
 * kubelet, kube-proxy or flanneld (the API servers' certificates name 127.0.0.1). The port is Talos'
 * KubePrism's. */
#define API_PROXY_ADDRESS "127.0.0.1"
#define API_PROXY_PORT 7445
/* n reaches the API through that relay: Kubernetes runs, n runs a kubelet and is no master. */
bool node_uses_api_proxy(const Inventory *inv, const Node *n);
/* The API server n's kubeconfigs name: its own on a master, the relay on 127.0.0.1 on a node that uses it,
 * else the first master's. NULL: out of memory, or no master. */
char *node_api_url(const Inventory *inv, const Node *n);

/* kubernetes.cni: flannel: containerd's bridge CNI on each node's podCIDR, and flanneld on every kubelet node
 * routing between the nodes' podCIDRs (vxlan, direct routes on one L2). */
bool inventory_uses_flannel(const Inventory *inv);
