/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>

#include "inventory.h"
#include "kube-objects.h"
#include "renderers.h"
#include "banned.h"

#define BOOTSTRAP_GROUP "system:bootstrappers:kubeadm:default-node-token"
#define RBAC_GROUP "rbac.authorization.k8s.io"

/* Appends {"path": COLLECTION/NAME, "object": obj} (obj's reference is taken, also on failure). */
static int add(json_t *list, json_t *obj, const char *collection, const char *name) {
        json_t *item = obj ? json_pack("{s:s++,s:o}", "path", collection, "/", name, "object", obj) : NULL;
        if (!item)
                return -ENOMEM;
        return json_array_append_new(list, item) < 0 ? -ENOMEM : 0;
}

static json_t *meta(const char *name, const char *ns) {
        json_t *m = json_pack("{s:s}", "name", name);
        if (m && ns)
                json_object_set_new(m, "namespace", json_string(ns));
        return m;
}

static json_t *binding(const char *name, const char *role, const char *kind, const char *subject) {
        return json_pack("{s:s,s:s,s:o,s:{s:s,s:s,s:s},s:[{s:s,s:s,s:s}]}", "apiVersion", RBAC_GROUP "/v1", "kind",
                         "ClusterRoleBinding", "metadata", meta(name, NULL), "roleRef", "apiGroup", RBAC_GROUP, "kind",
                         "ClusterRole", "name", role, "subjects", "apiGroup", RBAC_GROUP, "kind", kind, "name", subject);
}

static int tls_bootstrap_objects(json_t *list, const char *id, const char *secret) {
        int r = 0;
        if (id && secret) {
                _cleanup_free_ char *name = strprintf("bootstrap-token-%s", id);
                json_t *s = name ? json_pack("{s:s,s:s,s:o,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "apiVersion", "v1", "kind",
                                             "Secret", "metadata", meta(name, "kube-system"), "type",
                                             "bootstrap.kubernetes.io/token", "stringData", "description",
                                             "clusterboot: kubelet TLS bootstrapping", "token-id", id, "token-secret",
                                             secret, "usage-bootstrap-authentication", "true",
                                             "usage-bootstrap-signing", "true", "auth-extra-groups", BOOTSTRAP_GROUP)
                                 : NULL;
                r = name ? add(list, s, "/api/v1/namespaces/kube-system/secrets", name) : -ENOMEM;
        }
        static const struct {
                const char *name, *role, *group;
        } bindings[] = {
                { "kubeadm:kubelet-bootstrap", "system:node-bootstrapper", BOOTSTRAP_GROUP },
                { "kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                  BOOTSTRAP_GROUP },
                { "kubeadm:node-autoapprove-certificate-rotation",
                  "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bindings) && r >= 0; i++)
                r = add(list, binding(bindings[i].name, bindings[i].role, "Group", bindings[i].group),
                        "/apis/" RBAC_GROUP "/v1/clusterrolebindings", bindings[i].name);
        return r;
}

/* kubeadm's ClusterRole for CoreDNS (cmd/kubeadm/app/phases/addons/dns/manifests.go), read-only. */
static json_t *coredns_role(void) {
        return json_pack("{s:s,s:s,s:o,s:[{s:[s],s:[s,s,s,s],s:[s,s]},{s:[s],s:[s],s:[s,s]}]}", "apiVersion",
                         RBAC_GROUP "/v1", "kind", "ClusterRole", "metadata", meta(COREDNS_KUBE_USER, NULL), "rules",
                         "apiGroups", "", "resources", "endpoints", "services", "pods", "namespaces", "verbs", "list",
                         "watch", "apiGroups", "discovery.k8s.io", "resources", "endpointslices", "verbs", "list",
                         "watch");
}

static json_t *dns_ports(int64_t port, bool service) {
        json_t *a = json_array();
        static const char *const protos[] = { "UDP", "TCP" }, *const names[] = { "dns", "dns-tcp" };
        for (size_t i = 0; a && i < 2; i++) {
                /* The Service listens on 53 wherever CoreDNS does; the slice says where it does. */
                json_t *p = service ? json_pack("{s:s,s:i,s:s,s:I}", "name", names[i], "port", 53, "protocol", protos[i],
                                                "targetPort", (json_int_t) port)
                                    : json_pack("{s:s,s:I,s:s}", "name", names[i], "port", (json_int_t) port, "protocol",
                                                protos[i]);
                if (!p || json_array_append_new(a, p) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

static int cluster_dns_objects(json_t *list, const Inventory *inv) {
        IpAddr dns;
        char ip[IP_ADDR_STRLEN];
        json_t *endpoints = json_array();
        int family = 0;
        int r = endpoints ? 0 : -ENOMEM;
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *n = inv->nodes + i;
                if (!node_serves_cluster_dns(inv, n) || !n->ip_valid)
                        continue;
                render_ip(&n->ip, ip);
                family = family ?: n->ip.family;
                json_t *e = json_pack("{s:[s],s:{s:b},s:s}", "addresses", ip, "conditions", "ready", true, "nodeName",
                                      n->name);
                r = e && json_array_append_new(endpoints, e) >= 0 ? 0 : -ENOMEM;
        }
        if (r < 0 || json_array_size(endpoints) == 0 || inventory_service_ip(inv, SERVICE_ADDRESS_DNS, &dns) < 0) {
                json_decref(endpoints);
                return r;
        }
        render_ip(&dns, ip);
        int64_t port = inv->dns.port.v;

        r = add(list, coredns_role(), "/apis/" RBAC_GROUP "/v1/clusterroles", COREDNS_KUBE_USER);
        r = r ?: add(list, binding(COREDNS_KUBE_USER, COREDNS_KUBE_USER, "User", COREDNS_KUBE_USER),
                     "/apis/" RBAC_GROUP "/v1/clusterrolebindings", COREDNS_KUBE_USER);
        /* kubeadm's labels, so that tools that look for the cluster DNS Service find it. No selector: the
         * endpoints are the dns-server nodes, not pods. */
        json_t *labels = json_pack("{s:s,s:s,s:s}", "k8s-app", "kube-dns", "kubernetes.io/cluster-service", "true",
                                   "kubernetes.io/name", "CoreDNS");
        json_t *m = meta("kube-dns", "kube-system");
        if (m && labels)
                json_object_set(m, "labels", labels);
        json_t *svc = json_pack("{s:s,s:s,s:o,s:{s:s,s:o}}", "apiVersion", "v1", "kind", "Service", "metadata", m,
                                "spec", "clusterIP", ip, "ports", dns_ports(port, true));
        r = r ?: add(list, svc, "/api/v1/namespaces/kube-system/services", "kube-dns");
        json_decref(labels);
        /* Named as the Service with a suffix of ours; the EndpointSlice controller leaves a slice alone whose
         * managed-by label is not its own. */
        json_t *sm = meta("kube-dns-clusterboot", "kube-system");
        if (sm)
                json_object_set_new(sm, "labels", json_pack("{s:s,s:s}", "kubernetes.io/service-name", "kube-dns",
                                                            "endpointslice.kubernetes.io/managed-by", "clusterboot"));
        json_t *slice = json_pack("{s:s,s:s,s:o,s:s,s:O,s:o}", "apiVersion", "discovery.k8s.io/v1", "kind",
                                  "EndpointSlice", "metadata", sm, "addressType", family == AF_INET6 ? "IPv6" : "IPv4",
                                  "endpoints", endpoints, "ports", dns_ports(port, false));
        r = r ?: add(list, slice, "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices",
                     "kube-dns-clusterboot");
        json_decref(endpoints);
        return r;
}

json_t *kube_objects(const Inventory *inv, const char *token_id, const char *token_secret) {
        json_t *list = json_array();
        int r = list ? tls_bootstrap_objects(list, token_id, token_secret) : -ENOMEM;
        if (r >= 0 && inv->services[SERVICE_DNS])
                r = cluster_dns_objects(list, inv);
        if (r < 0) {
                json_decref(list);
                return NULL;
        }
        return list;
}
