/* SPDX-License-Identifier: Apache-2.0 */
/* The Kubernetes renderers (etcd, control plane, kubelet, containerd) against the examples and small
 * in-memory inventories: etcd's bootstrap order, agreement with `clusterboot plan`, extra_args merging,
 * valid YAML, and stable output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fileio.h"
#include "inventory.h"
#include "kube-objects.h"
#include "plan.h"
#include "render.h"
#include "renderers.h"
#include "tap.h"
#include "test-inventory-util.h"

static const char *examples;
static const char *objects_dir; /* the golden kube_objects() of each example */
static Report report;

static const char *const k8s_renderers[] = { "containerd", "etcd", "kubernetes", "kubelet", "kube-proxy", "api-proxy",
                                              "flannel", NULL };

static bool is_k8s_renderer(const char *name) {
        for (size_t i = 0; k8s_renderers[i]; i++)
                if (streq(k8s_renderers[i], name))
                        return true;
        return false;
}

/* Runs this renderers from the table, as render_node() would (applies() decides), and nothing else:
 * the other renderers have their own tests. */
static int render_k8s(const Inventory *inv, const char *node_name, RenderSet *out) {
        const Node *n = inventory_find_node(inv, node_name);
        if (!n)
                return -ENOENT;
        ClusterIds ids;
        int r = cluster_ids_derive(inv, &ids);
        if (r < 0)
                return r;
        RenderContext c = { .inv = inv, .node = n, .first_master = plan_first_master(inv), .ids = &ids };
        for (size_t i = 0; i < n_renderers; i++) {
                if (!is_k8s_renderer(renderers[i].name) || (renderers[i].applies && !renderers[i].applies(n)))
                        continue;
                r = renderers[i].render(&c, out);
                if (r < 0)
                        return r;
        }
        render_set_sort(out);
        return 0;
}

static Inventory *load_example(const char *name) {
        return test_load_example(examples, name);
}

/* Loads an inventory from (name, content) pairs, NULL-terminated; NULL when it is not valid. */
static Inventory *load_mem(const char *const *files) {
        return test_load_mem_report(files, &report);
}

/* The value of KEY="..." in an environment file, unescaped; NULL when the key is not set. */
static char *env_get(const RenderSet *s, const char *path, const char *key) {
        const RenderedFile *f = render_set_find(s, path);
        if (!f)
                return NULL;
        size_t klen = strlen(key);
        for (const char *line = f->content; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                if (strncmp(line, key, klen) != 0 || line[klen] != '=' || line[klen + 1] != '"')
                        continue;
                StrBuf b = {};
                for (const char *p = line + klen + 2; *p && *p != '"'; p++) {
                        if (*p == '\\' && p[1])
                                p++;
                        strbuf_appendn(&b, p, 1);
                }
                return strbuf_steal(&b);
        }
        return NULL;
}

static size_t count_env_keys(const RenderSet *s, const char *path, const char *key) {
        const RenderedFile *f = render_set_find(s, path);
        size_t n = 0, klen = strlen(key);
        for (const char *line = f ? f->content : NULL; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, key, klen) == 0 && line[klen] == '=')
                        n++;
        return n;
}

/* How often "--name=" starts a word of args, and the value of its first occurrence. */
static size_t flag_count(const char *args, const char *name, char **ret_value) {
        char needle[256];
        snprintf(needle, sizeof(needle), "--%s=", name);
        size_t n = 0, len = strlen(needle);
        if (ret_value)
                *ret_value = NULL;
        for (const char *p = args; (p = strstr(p, needle)); p += len) {
                if (p != args && p[-1] != ' ')
                        continue;
                if (n++ == 0 && ret_value) {
                        const char *end = strchr(p + len, ' ');
                        *ret_value = strndup(p + len, end ? (size_t) (end - p - len) : strlen(p + len));
                }
        }
        return n;
}

static bool flag_is(const char *args, const char *name, const char *expected) {
        char *v = NULL;
        size_t n = flag_count(args, name, &v);
        bool ok = n == 1 && v && streq(v, expected);
        if (!ok)
                printf("# --%s: %zu times, first value '%s', expected once '%s'\n", name, n, v ? v : "(none)",
                       expected);
        free(v);
        return ok;
}

/* The flags' names are in order, so the same inventory gives the same line, and a reader finds them. */
static bool flags_sorted(const char *args) {
        const char *prev = NULL;
        size_t prev_len = 0;
        for (const char *p = args; p && *p;) {
                const char *eq = strchr(p, '='), *sp = strchr(p, ' ');
                if (!eq || strncmp(p, "--", 2) != 0)
                        return false;
                size_t len = (size_t) (eq - p);
                if (prev) {
                        int c = strncmp(prev, p, MIN(prev_len, len));
                        if (c > 0 || (c == 0 && prev_len >= len))
                                return false;
                }
                prev = p;
                prev_len = len;
                p = sp ? sp + 1 : NULL;
        }
        return true;
}

#define ETCD_ENV "/etc/cluster-config/environment/etcd.env"
#define ETCD_INITIAL "/etc/cluster-config/environment/etcd-initial.env"
#define APISERVER_ENV "/etc/cluster-config/environment/kube-apiserver.env"
#define CONTROLLER_MANAGER_ENV "/etc/cluster-config/environment/kube-controller-manager.env"
#define SCHEDULER_ENV "/etc/cluster-config/environment/kube-scheduler.env"
#define KUBELET_ENV "/etc/cluster-config/environment/kubelet.env"
#define KUBELET_CONFIG "/var/lib/kubelet/config.yaml"
#define CONTAINERD_CONFIG "/etc/containerd/config.toml"
#define CNI_TEMPLATE "/etc/containerd/cni-bridge.conflist.tmpl"
#define KUBE_PROXY_ENV "/etc/cluster-config/environment/kube-proxy.env"
#define API_PROXY_ENV "/etc/cluster-config/environment/api-proxy.env"

#define ASSERT_ENV(set, path, key, expected)                                                                 \
        do {                                                                                                 \
                char *_v = env_get((set), (path), (key));                                                    \
                bool _ok = _v && streq(_v, (expected));                                                      \
                if (!_ok)                                                                                    \
                        printf("# %s: %s=\"%s\"\n", (path), (key), _v ? _v : "(unset)");                    \
                free(_v);                                                                                    \
                ASSERT_TRUE(_ok);                                                                            \
        } while (0)

TEST(test_ha_etcd_bootstrap_order) {
        Inventory *inv = load_example("ha");
        ASSERT_NOT_NULL(inv);
        static const struct {
                const char *node, *state, *cluster;
        } want[] = {
                { "master-01", "new", "master-01=https://10.20.0.11:2380" },
                { "master-02", "existing", "master-01=https://10.20.0.11:2380,master-02=https://10.20.0.12:2380" },
                { "master-03", "existing",
                  "master-01=https://10.20.0.11:2380,master-02=https://10.20.0.12:2380,"
                  "master-03=https://10.20.0.13:2380" },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                RenderSet s = {};
                ASSERT_INT_EQ(render_k8s(inv, want[i].node, &s), 0);
                ASSERT_ENV(&s, ETCD_ENV, "ETCD_NAME", want[i].node);
                ASSERT_ENV(&s, ETCD_INITIAL, "ETCD_INITIAL_CLUSTER_STATE", want[i].state);
                ASSERT_ENV(&s, ETCD_INITIAL, "ETCD_INITIAL_CLUSTER", want[i].cluster);
                ASSERT_ENV(&s, ETCD_INITIAL, "ETCD_INITIAL_CLUSTER_TOKEN", "ha");
                ASSERT_ENV(&s, ETCD_ENV, "ETCD_DATA_DIR", "/var/lib/etcd");
                ASSERT_ENV(&s, ETCD_ENV, "ETCD_CLIENT_CERT_AUTH", "true");
                ASSERT_ENV(&s, ETCD_ENV, "ETCD_PEER_CLIENT_CERT_AUTH", "true");
                ASSERT_ENV(&s, ETCD_ENV, "ETCD_PEER_TRUSTED_CA_FILE", "/etc/kubernetes/pki/etcd/ca.crt");
                ASSERT_TRUE(strncmp(render_set_find(&s, ETCD_ENV)->content, "# Generated by clusterboot", 26) == 0);
                /* Only in etcd-initial.env, which restarts nothing: a master removed changes it. */
                ASSERT_NULL(strstr(render_set_find(&s, ETCD_ENV)->content, "ETCD_INITIAL_CLUSTER"));
                render_set_done(&s);
        }
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "master-02", &s), 0);
        ASSERT_ENV(&s, ETCD_ENV, "ETCD_LISTEN_PEER_URLS", "https://10.20.0.12:2380");
        ASSERT_ENV(&s, ETCD_ENV, "ETCD_LISTEN_CLIENT_URLS", "https://10.20.0.12:2379,https://127.0.0.1:2379");
        ASSERT_ENV(&s, ETCD_ENV, "ETCD_INITIAL_ADVERTISE_PEER_URLS", "https://10.20.0.12:2380");
        ASSERT_ENV(&s, ETCD_ENV, "ETCD_ADVERTISE_CLIENT_URLS", "https://10.20.0.12:2379");
        render_set_done(&s);
        inventory_free(inv);
}

/* The renderers and `plan` agree on the first master and the etcd order. */
TEST(test_ha_agrees_with_plan) {
        Inventory *inv = load_example("ha");
        ASSERT_NOT_NULL(inv);
        json_t *plan = plan_build(inv);
        ASSERT_NOT_NULL(plan);
        json_t *order = json_object_get(json_object_get(plan, "kubernetes"), "etcd_bootstrap_order");
        ASSERT_INT_EQ(json_array_size(order), 3);
        for (size_t i = 0; i < json_array_size(order); i++) {
                json_t *e = json_array_get(order, i);
                RenderSet s = {};
                ASSERT_INT_EQ(render_k8s(inv, json_string_value(json_object_get(e, "node")), &s), 0);
                ASSERT_ENV(&s, ETCD_INITIAL, "ETCD_INITIAL_CLUSTER_STATE",
                           json_string_value(json_object_get(e, "initial_cluster_state")));
                render_set_done(&s);
        }

        const char *dns = json_string_value(json_object_get(json_object_get(plan, "kubernetes"), "cluster_dns_ip"));
        ASSERT_STREQ(dns, "10.96.0.10");
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "worker-02", &s), 0);
        const RenderedFile *f = render_set_find(&s, KUBELET_CONFIG);
        ASSERT_NOT_NULL(f);
        char want[64];
        snprintf(want, sizeof(want), "clusterDNS:\n- \"%s\"\n", dns);
        ASSERT_NOT_NULL(strstr(f->content, want));
        render_set_done(&s);
        json_decref(plan);
        inventory_free(inv);
}

TEST(test_ha_control_plane_flags) {
        Inventory *inv = load_example("ha");
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "master-02", &s), 0);

        char *api = env_get(&s, APISERVER_ENV, "KUBE_APISERVER_ARGS");
        ASSERT_NOT_NULL(api);
        ASSERT_TRUE(flags_sorted(api));
        ASSERT_TRUE(flag_is(api, "etcd-servers", "https://10.20.0.11:2379,https://10.20.0.12:2379,https://10.20.0.13:2379"));
        ASSERT_TRUE(flag_is(api, "advertise-address", "10.20.0.12"));
        ASSERT_TRUE(flag_is(api, "secure-port", "6443"));
        ASSERT_TRUE(flag_is(api, "service-cluster-ip-range", "10.96.0.0/12"));
        ASSERT_TRUE(flag_is(api, "service-account-issuer", "https://kubernetes.default.svc.cluster.local"));
        ASSERT_TRUE(flag_is(api, "etcd-certfile", "/etc/kubernetes/pki/apiserver-etcd-client.crt"));
        ASSERT_TRUE(flag_is(api, "authorization-mode", "Node,RBAC"));
        ASSERT_TRUE(flag_is(api, "enable-admission-plugins", "NodeRestriction"));
        ASSERT_TRUE(flag_is(api, "requestheader-client-ca-file", "/etc/kubernetes/pki/front-proxy-ca.crt"));
        free(api);

        char *cm = env_get(&s, CONTROLLER_MANAGER_ENV, "KUBE_CONTROLLER_MANAGER_ARGS");
        ASSERT_NOT_NULL(cm);
        ASSERT_TRUE(flags_sorted(cm));
        ASSERT_TRUE(flag_is(cm, "cluster-cidr", "10.244.0.0/16"));
        ASSERT_TRUE(flag_is(cm, "allocate-node-cidrs", "true"));
        ASSERT_TRUE(flag_is(cm, "kubeconfig", "/etc/kubernetes/controller-manager.conf"));
        ASSERT_TRUE(flag_is(cm, "controllers", "*,bootstrapsigner,tokencleaner"));
        free(cm);

        char *sched = env_get(&s, SCHEDULER_ENV, "KUBE_SCHEDULER_ARGS");
        ASSERT_NOT_NULL(sched);
        ASSERT_TRUE(flag_is(sched, "kubeconfig", "/etc/kubernetes/scheduler.conf"));
        ASSERT_TRUE(flag_is(sched, "leader-elect", "true"));
        free(sched);
        render_set_done(&s);
        inventory_free(inv);
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key) {
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                if (k && k->type == YAML_SCALAR_NODE && streq((const char *) k->data.scalar.value, key))
                        return yaml_document_get_node(doc, p->value);
        }
        return NULL;
}

/* The scalar at a dotted path, or NULL. */
static const char *yaml_get(yaml_document_t *doc, const char *path) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", path);
        yaml_node_t *n = yaml_document_get_root_node(doc);
        for (char *part = buf, *dot; n && part; part = dot ? dot + 1 : NULL) {
                dot = strchr(part, '.');
                if (dot)
                        *dot = 0;
                n = map_get(doc, n, part);
        }
        return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

TEST(test_kubelet_config_is_yaml) {
        Inventory *inv = load_example("ha");
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "master-01", &s), 0);
        const RenderedFile *f = render_set_find(&s, KUBELET_CONFIG);
        ASSERT_NOT_NULL(f);
        ASSERT_TRUE(strncmp(f->content, "# Generated by clusterboot", 26) == 0);

        yaml_parser_t parser;
        yaml_document_t doc;
        ASSERT_TRUE(yaml_parser_initialize(&parser));
        yaml_parser_set_input_string(&parser, (const unsigned char *) f->content, f->size);
        bool loaded = yaml_parser_load(&parser, &doc);
        yaml_parser_delete(&parser);
        ASSERT_TRUE(loaded);
        ASSERT_STREQ(yaml_get(&doc, "apiVersion"), "kubelet.config.k8s.io/v1beta1");
        ASSERT_STREQ(yaml_get(&doc, "kind"), "KubeletConfiguration");
        ASSERT_STREQ(yaml_get(&doc, "cgroupDriver"), "systemd");
        ASSERT_STREQ(yaml_get(&doc, "clusterDomain"), "cluster.local");
        ASSERT_STREQ(yaml_get(&doc, "authentication.x509.clientCAFile"), "/etc/kubernetes/pki/ca.crt");
        ASSERT_STREQ(yaml_get(&doc, "authentication.anonymous.enabled"), "false");
        ASSERT_STREQ(yaml_get(&doc, "authentication.webhook.enabled"), "true");
        ASSERT_STREQ(yaml_get(&doc, "authorization.mode"), "Webhook");
        ASSERT_STREQ(yaml_get(&doc, "serverTLSBootstrap"), "false");
        ASSERT_STREQ(yaml_get(&doc, "tlsCertFile"), "/var/lib/kubelet/pki/kubelet.crt");
        ASSERT_STREQ(yaml_get(&doc, "rotateCertificates"), "true");
        ASSERT_STREQ(yaml_get(&doc, "containerRuntimeEndpoint"), "unix:///run/containerd/containerd.sock");
        ASSERT_NULL(yaml_get(&doc, "staticPodPath"));
        yaml_node_t *dns = map_get(&doc, yaml_document_get_root_node(&doc), "clusterDNS");
        bool dns_ok = dns && dns->type == YAML_SEQUENCE_NODE &&
                      dns->data.sequence.items.top - dns->data.sequence.items.start == 1;
        if (dns_ok) {
                yaml_node_t *ip = yaml_document_get_node(&doc, *dns->data.sequence.items.start);
                dns_ok = ip && ip->type == YAML_SCALAR_NODE && streq((const char *) ip->data.scalar.value, "10.96.0.10");
        }
        yaml_document_delete(&doc);
        ASSERT_TRUE(dns_ok);
        render_set_done(&s);
        inventory_free(inv);
}

TEST(test_workers_get_kubelet_not_etcd) {
        Inventory *inv = load_example("ha");
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "worker-01", &s), 0);
        ASSERT_NULL(render_set_find(&s, ETCD_ENV));
        ASSERT_NULL(render_set_find(&s, APISERVER_ENV));
        ASSERT_NULL(render_set_find(&s, CONTROLLER_MANAGER_ENV));
        ASSERT_NULL(render_set_find(&s, SCHEDULER_ENV));
        ASSERT_NOT_NULL(render_set_find(&s, KUBELET_CONFIG));
        ASSERT_NOT_NULL(render_set_find(&s, CONTAINERD_CONFIG));
        ASSERT_NOT_NULL(render_set_find(&s, CNI_TEMPLATE));
        /* examples/ha runs flannel: its net-conf.json and flanneld.env besides. */
        ASSERT_NOT_NULL(render_set_find(&s, "/etc/kube-flannel/net-conf.json"));
        /* The relay to the three masters' API servers, where its kubeconfigs point (127.0.0.1:7445). */
        ASSERT_ENV(&s, API_PROXY_ENV, "API_PROXY_ARGS", "127.0.0.1:7445 10.20.0.11:6443 10.20.0.12:6443 10.20.0.13:6443");
        ASSERT_INT_EQ(s.n, 8);

        /* kube-proxy: the API server's Service address through iptables, as system:kube-proxy. */
        char *proxy = env_get(&s, KUBE_PROXY_ENV, "KUBE_PROXY_ARGS");
        ASSERT_NOT_NULL(proxy);
        ASSERT_TRUE(flags_sorted(proxy));
        ASSERT_TRUE(flag_is(proxy, "kubeconfig", "/etc/kubernetes/kube-proxy.conf"));
        ASSERT_TRUE(flag_is(proxy, "cluster-cidr", "10.244.0.0/16"));
        ASSERT_TRUE(flag_is(proxy, "hostname-override", "worker-01"));
        ASSERT_TRUE(flag_is(proxy, "proxy-mode", "iptables"));
        free(proxy);

        char *args = env_get(&s, KUBELET_ENV, "KUBELET_ARGS");
        ASSERT_NOT_NULL(args);
        ASSERT_TRUE(flags_sorted(args));
        ASSERT_TRUE(flag_is(args, "node-ip", "10.20.0.21"));
        ASSERT_TRUE(flag_is(args, "hostname-override", "worker-01"));
        ASSERT_TRUE(flag_is(args, "node-labels", "topology.kubernetes.io/zone=zone-1"));
        ASSERT_TRUE(flag_is(args, "config", "/var/lib/kubelet/config.yaml"));
        ASSERT_TRUE(flag_is(args, "kubeconfig", "/etc/kubernetes/kubelet.conf"));
        ASSERT_TRUE(flag_is(args, "bootstrap-kubeconfig", "/etc/kubernetes/bootstrap-kubelet.conf"));
        ASSERT_INT_EQ(flag_count(args, "register-with-taints", NULL), 0);
        free(args);

        const char *toml = render_set_find(&s, CONTAINERD_CONFIG)->content;
        ASSERT_NOT_NULL(strstr(toml, "\nversion = 2\n"));
        ASSERT_NOT_NULL(strstr(toml, "SystemdCgroup = true\n"));
        ASSERT_NOT_NULL(strstr(toml, "sandbox_image = \"registry.k8s.io/pause:3.9\"\n"));
        ASSERT_NOT_NULL(strstr(toml, "bin_dir = \"/usr/lib/cni\"\n"));
        ASSERT_NOT_NULL(strstr(toml, "conf_dir = \"/etc/cni/net.d\"\n"));
        ASSERT_NOT_NULL(strstr(toml, "conf_template = \"" CNI_TEMPLATE "\"\n"));
        ASSERT_NOT_NULL(strstr(render_set_find(&s, KUBELET_CONFIG)->content, "cgroupDriver: systemd\n"));

        /* The CNI template: bridge cni0 over the node's pod CIDRs, which containerd fills in. */
        const char *tmpl = render_set_find(&s, CNI_TEMPLATE)->content;
        ASSERT_NOT_NULL(strstr(tmpl, "\"type\": \"bridge\""));
        ASSERT_NOT_NULL(strstr(tmpl, "\"bridge\": \"cni0\""));
        ASSERT_NOT_NULL(strstr(tmpl, "\"type\": \"host-local\""));
        ASSERT_NOT_NULL(strstr(tmpl, "{{range $i, $r := .PodCIDRRanges}}"));
        ASSERT_NOT_NULL(strstr(tmpl, "\"type\": \"portmap\""));
        render_set_done(&s);

        /* A master runs everything (flannel too) but the relay: its components talk to its own API server. */
        ASSERT_INT_EQ(render_k8s(inv, "master-03", &s), 0);
        ASSERT_NULL(render_set_find(&s, API_PROXY_ENV));
        ASSERT_INT_EQ(s.n, 12); /* etcd.env and etcd-initial.env among them */
        render_set_done(&s);
        inventory_free(inv);
}

TEST(test_same_bytes_twice) {
        static const char *const names[] = { "homelab", "ha" };
        for (size_t e = 0; e < ELEMENTSOF(names); e++) {
                Inventory *inv = load_example(names[e]);
                ASSERT_NOT_NULL(inv);
                for (size_t i = 0; i < inv->n_nodes; i++) {
                        RenderSet a = {}, b = {};
                        ASSERT_INT_EQ(render_k8s(inv, inv->nodes[i].name, &a), 0);
                        ASSERT_INT_EQ(render_k8s(inv, inv->nodes[i].name, &b), 0);
                        ASSERT_INT_EQ(a.n, b.n);
                        for (size_t j = 0; j < a.n; j++) {
                                ASSERT_STREQ(a.files[j].path, b.files[j].path);
                                ASSERT_INT_EQ(a.files[j].size, b.files[j].size);
                                ASSERT_TRUE(memcmp(a.files[j].content, b.files[j].content, a.files[j].size) == 0);
                                ASSERT_INT_EQ(a.files[j].mode, b.files[j].mode);
                        }
                        render_set_done(&a);
                        render_set_done(&b);
                }
                inventory_free(inv);
        }
}

TEST(test_homelab_single_master) {
        Inventory *inv = load_example("homelab");
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "master-01", &s), 0);
        ASSERT_ENV(&s, ETCD_INITIAL, "ETCD_INITIAL_CLUSTER_STATE", "new");
        ASSERT_ENV(&s, ETCD_INITIAL, "ETCD_INITIAL_CLUSTER", "master-01=https://192.168.1.10:2380");
        char *api = env_get(&s, APISERVER_ENV, "KUBE_APISERVER_ARGS");
        ASSERT_NOT_NULL(api);
        /* services/kubernetes.yaml adds one flag to the apiserver. */
        ASSERT_TRUE(flag_is(api, "audit-log-maxage", "30"));
        ASSERT_TRUE(flag_is(api, "etcd-servers", "https://192.168.1.10:2379"));
        ASSERT_TRUE(flags_sorted(api));
        free(api);
        char *kubelet = env_get(&s, KUBELET_ENV, "KUBELET_ARGS");
        ASSERT_NOT_NULL(kubelet);
        ASSERT_TRUE(flag_is(kubelet, "node-labels", "zone=rack-1"));
        free(kubelet);
        render_set_done(&s);
        inventory_free(inv);
}

#define CLUSTER_HEAD                                                                                         \
        "cluster:\n"                                                                                         \
        "  name: t\n"                                                                                        \
        "  services: [kubernetes]\n"                                                                         \
        "  networking:\n"                                                                                    \
        "    node_cidr: 10.0.0.0/24\n"                                                                       \
        "    pod_cidr: 10.244.0.0/16\n"                                                                      \
        "    service_cidr: 10.96.0.0/12\n"                                                                   \
        "    cluster_domain: k8s.example\n"                                                                  \
        "nodes:\n"                                                                                           \
        "  - { name: m, ip: 10.0.0.10, roles: [master] }\n"                                                  \
        "  - { name: w, ip: 10.0.0.20, roles: [worker] }\n"

/* kubeadm's mark of a master: its kubelet registers with the control-plane NoSchedule taint (the label is
 * the API's to set), unless the inventory lets masters run pods or has its own taint of that key. */
static char *kubelet_taints(const char *const *files, const char *node) {
        Inventory *inv = load_mem(files);
        RenderSet s = {};
        char *args = NULL, *value = NULL;
        if (!inv || render_k8s(inv, node, &s) < 0 || !(args = env_get(&s, KUBELET_ENV, "KUBELET_ARGS")))
                abort(); /* not a case of the test: the inventory or the renderer is broken */
        if (flag_count(args, "register-with-taints", &value) != 1) {
                free(value);
                value = NULL;
        }
        free(args);
        render_set_done(&s);
        inventory_free(inv);
        return value;
}

TEST(test_master_control_plane_taint) {
        static const char *const plain[] = { "cluster.yaml", CLUSTER_HEAD, NULL };
        char *t = kubelet_taints(plain, "m");
        ASSERT_STREQ(t, "node-role.kubernetes.io/control-plane:NoSchedule");
        free(t);
        ASSERT_NULL(kubelet_taints(plain, "w"));

        static const char *const schedule[] = { "cluster.yaml", CLUSTER_HEAD, "services/kubernetes.yaml",
                                                "kubernetes:\n  schedule_on_masters: true\n", NULL };
        ASSERT_NULL(kubelet_taints(schedule, "m"));

        /* The inventory's taints first; its own taint of the control-plane key replaces ours. */
        static const char *const own[] = { "cluster.yaml", CLUSTER_HEAD, "nodes/m.yaml",
                                           "node:\n  name: m\n  taints: [\"dedicated=infra:NoExecute\", "
                                           "\"node-role.kubernetes.io/control-plane:PreferNoSchedule\"]\n",
                                           NULL };
        t = kubelet_taints(own, "m");
        ASSERT_STREQ(t, "dedicated=infra:NoExecute,node-role.kubernetes.io/control-plane:PreferNoSchedule");
        free(t);
        static const char *const other[] = { "cluster.yaml", CLUSTER_HEAD, "nodes/m.yaml",
                                             "node:\n  name: m\n  taints: [\"dedicated=infra:NoExecute\"]\n", NULL };
        t = kubelet_taints(other, "m");
        ASSERT_STREQ(t, "dedicated=infra:NoExecute,node-role.kubernetes.io/control-plane:NoSchedule");
        free(t);
}

/* Hosts without systemd as PID 1 (cgroupfs), and Calico, which brings its own CNI config. */
TEST(test_cgroupfs_and_calico) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD,
                "nodes/w.yaml",
                "node:\n"
                "  name: w\n",
                "services/kubernetes.yaml",
                "kubernetes:\n"
                "  cni: calico\n"
                "  cgroup_driver: cgroupfs\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "w", &s), 0);
        ASSERT_NOT_NULL(strstr(render_set_find(&s, KUBELET_CONFIG)->content, "cgroupDriver: cgroupfs\n"));
        const char *toml = render_set_find(&s, CONTAINERD_CONFIG)->content;
        ASSERT_NOT_NULL(strstr(toml, "SystemdCgroup = false\n"));
        ASSERT_NULL(strstr(toml, "conf_template"));
        ASSERT_NULL(render_set_find(&s, CNI_TEMPLATE));
        render_set_done(&s);
        inventory_free(inv);
}

TEST(test_extra_args_override) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD,
                "nodes/w.yaml",
                "node:\n"
                "  name: w\n"
                "  hostname: w-host\n"
                "  labels: { zone: b, disk: ssd, arch.example.com/gpu: \"true\" }\n"
                "  taints: [\"dedicated=db:NoSchedule\", \"spot:PreferNoSchedule\"]\n",
                "services/kubernetes.yaml",
                "kubernetes:\n"
                "  version: \"1.31.2\"\n"
                "  api_server_port: 8443\n"
                "  extra_args:\n"
                "    kube-apiserver: { authorization-mode: \"Node,RBAC,Webhook\", \"--v\": \"2\", audit-log-maxage: \"7\" }\n"
                "    kube-controller-manager: { node-cidr-mask-size: \"26\", leader-elect: \"false\" }\n"
                "    kube-scheduler: { v: \"3\" }\n"
                "    kubelet: { max-pods: \"50\", node-ip: 10.0.0.99 }\n"
                "    etcd: { data-dir: /srv/etcd, quota-backend-bytes: \"8589934592\" }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "m", &s), 0);

        char *api = env_get(&s, APISERVER_ENV, "KUBE_APISERVER_ARGS");
        ASSERT_NOT_NULL(api);
        ASSERT_TRUE(flags_sorted(api));
        ASSERT_TRUE(flag_is(api, "authorization-mode", "Node,RBAC,Webhook"));
        ASSERT_TRUE(flag_is(api, "v", "2"));
        ASSERT_TRUE(flag_is(api, "audit-log-maxage", "7"));
        ASSERT_TRUE(flag_is(api, "secure-port", "8443"));
        ASSERT_TRUE(flag_is(api, "service-account-issuer", "https://kubernetes.default.svc.k8s.example"));
        ASSERT_NULL(strstr(api, "---v"));
        free(api);

        char *cm = env_get(&s, CONTROLLER_MANAGER_ENV, "KUBE_CONTROLLER_MANAGER_ARGS");
        ASSERT_NOT_NULL(cm);
        ASSERT_TRUE(flags_sorted(cm));
        ASSERT_TRUE(flag_is(cm, "leader-elect", "false"));
        ASSERT_TRUE(flag_is(cm, "node-cidr-mask-size", "26"));
        free(cm);

        char *sched = env_get(&s, SCHEDULER_ENV, "KUBE_SCHEDULER_ARGS");
        ASSERT_NOT_NULL(sched);
        ASSERT_TRUE(flag_is(sched, "v", "3"));
        free(sched);

        ASSERT_ENV(&s, ETCD_ENV, "ETCD_DATA_DIR", "/srv/etcd");
        ASSERT_INT_EQ(count_env_keys(&s, ETCD_ENV, "ETCD_DATA_DIR"), 1);
        ASSERT_ENV(&s, ETCD_ENV, "ETCD_QUOTA_BACKEND_BYTES", "8589934592");

        /* kube 1.31 pins a newer pause image. */
        ASSERT_NOT_NULL(strstr(render_set_find(&s, CONTAINERD_CONFIG)->content, "pause:3.10\""));
        render_set_done(&s);

        ASSERT_INT_EQ(render_k8s(inv, "w", &s), 0);
        char *kubelet = env_get(&s, KUBELET_ENV, "KUBELET_ARGS");
        ASSERT_NOT_NULL(kubelet);
        ASSERT_TRUE(flags_sorted(kubelet));
        ASSERT_TRUE(flag_is(kubelet, "node-ip", "10.0.0.99"));
        ASSERT_TRUE(flag_is(kubelet, "max-pods", "50"));
        /* The Node is the inventory's name, as in its certificates (CN system:node:w), not its hostname:
         * the Node authorizer lets a kubelet change only the Node its certificate names. */
        ASSERT_TRUE(flag_is(kubelet, "hostname-override", "w"));
        ASSERT_TRUE(flag_is(kubelet, "node-labels", "arch.example.com/gpu=true,disk=ssd,zone=b"));
        ASSERT_TRUE(flag_is(kubelet, "register-with-taints", "dedicated=db:NoSchedule,spot:PreferNoSchedule"));
        free(kubelet);
        ASSERT_NOT_NULL(strstr(render_set_find(&s, KUBELET_CONFIG)->content, "clusterDomain: k8s.example\n"));
        render_set_done(&s);
        inventory_free(inv);
}

/* A fully qualified hostname is the machine's, not the Node's: kubelet and kube-proxy still name the Node
 * by the inventory's name, which its certificate (CN system:node:NAME) is for. */
TEST(test_fqdn_hostname_is_not_the_node_name) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD,
                "nodes/m.yaml",
                "node: { name: m, hostname: cp-a.lab.internal }\n",
                "nodes/w.yaml",
                "node: { name: w, hostname: wk-1.dc2.example.com }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        static const char *const nodes[] = { "m", "w" };
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                RenderSet s = {};
                ASSERT_INT_EQ(render_k8s(inv, nodes[i], &s), 0);
                char *kubelet = env_get(&s, KUBELET_ENV, "KUBELET_ARGS");
                char *proxy = env_get(&s, KUBE_PROXY_ENV, "KUBE_PROXY_ARGS");
                bool ok = kubelet && proxy && flag_is(kubelet, "hostname-override", nodes[i]) &&
                          flag_is(proxy, "hostname-override", nodes[i]) && !strstr(kubelet, ".internal") &&
                          !strstr(kubelet, "example.com") && !strstr(proxy, ".internal") &&
                          !strstr(proxy, "example.com");
                free(kubelet);
                free(proxy);
                render_set_done(&s);
                ASSERT_TRUE(ok);
        }
        inventory_free(inv);
}

/* The unit passes $KUBE_*_ARGS unquoted, which systemd splits at whitespace: such a value cannot be one flag. */
TEST(test_extra_args_whitespace_refused) {
        static const char *const files[] = {
                "cluster.yaml",
                CLUSTER_HEAD,
                "services/kubernetes.yaml",
                "kubernetes:\n"
                "  extra_args:\n"
                "    kube-scheduler: { feature-gates: \"A=true, B=false\" }\n",
                NULL,
        };
        /* validate refuses it where it is written (the renderer would refuse it too, with -EINVAL). */
        Inventory *inv = load_mem(files);
        ASSERT_NULL(inv);
        ASSERT_INT_EQ(report.n_errors, 1);
        ASSERT_TRUE(strstr(report.diags[0].message, "flag value without spaces") != NULL);
        ASSERT_INT_EQ(report.diags[0].loc.line, 3);
}

TEST(test_ipv6_urls) {
        static const char *const files[] = {
                "cluster.yaml",
                "cluster:\n"
                "  name: six\n"
                "  services: [kubernetes]\n"
                "  networking:\n"
                "    node_cidr: fd00:10::/64\n"
                "    pod_cidr: fd00:244::/56\n"
                "    service_cidr: fd00:96::/112\n"
                "nodes:\n"
                "  - { name: a, ip: \"fd00:10::a\", roles: [master] }\n"
                "  - { name: b, ip: \"fd00:10::b\", roles: [master] }\n"
                "  - { name: c, ip: \"fd00:10::c\", roles: [master] }\n",
                NULL,
        };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "b", &s), 0);
        ASSERT_ENV(&s, ETCD_INITIAL, "ETCD_INITIAL_CLUSTER", "a=https://[fd00:10::a]:2380,b=https://[fd00:10::b]:2380");
        ASSERT_ENV(&s, ETCD_ENV, "ETCD_LISTEN_CLIENT_URLS", "https://[fd00:10::b]:2379,https://[::1]:2379");
        char *api = env_get(&s, APISERVER_ENV, "KUBE_APISERVER_ARGS");
        ASSERT_NOT_NULL(api);
        ASSERT_TRUE(flag_is(api, "etcd-servers",
                            "https://[fd00:10::a]:2379,https://[fd00:10::b]:2379,https://[fd00:10::c]:2379"));
        ASSERT_TRUE(flag_is(api, "advertise-address", "fd00:10::b"));
        free(api);
        ASSERT_NOT_NULL(strstr(render_set_find(&s, KUBELET_CONFIG)->content, "clusterDNS:\n- fd00:96::a\n"));
        render_set_done(&s);
        inventory_free(inv);
}

/* kubernetes.cni: flannel (examples/homelab): flanneld's network is the pod CIDR over vxlan with direct routes,
 * its node is the inventory's name and address; the pods' bridge leaves masquerading to flanneld and makes
 * room for vxlan. The bridge CNI alone: none of that. */
TEST(test_flannel) {
        Inventory *inv = load_example("homelab");
        ASSERT_NOT_NULL(inv);
        RenderSet s = {};
        ASSERT_INT_EQ(render_k8s(inv, "worker-01", &s), 0);
        const RenderedFile *conf = render_set_find(&s, "/etc/kube-flannel/net-conf.json");
        ASSERT_NOT_NULL(conf);
        json_t *j = json_loadb(conf->content, conf->size, 0, NULL);
        ASSERT_NOT_NULL(j);
        ASSERT_STREQ(json_string_value(json_object_get(j, "Network")), "10.244.0.0/16");
        json_t *backend = json_object_get(j, "Backend");
        ASSERT_STREQ(json_string_value(json_object_get(backend, "Type")), "vxlan");
        ASSERT_TRUE(json_is_true(json_object_get(backend, "DirectRouting")));
        json_decref(j);
        char *name = env_get(&s, "/etc/cluster-config/environment/flanneld.env", "NODE_NAME");
        char *iface = env_get(&s, "/etc/cluster-config/environment/flanneld.env", "FLANNELD_IFACE");
        ASSERT_STREQ(name, "worker-01");
        ASSERT_STREQ(iface, "192.168.1.11");
        free(name);
        free(iface);
        const char *tmpl = render_set_find(&s, CNI_TEMPLATE)->content;
        ASSERT_NOT_NULL(strstr(tmpl, "\"ipMasq\": false,"));
        ASSERT_NOT_NULL(strstr(tmpl, "\"mtu\": 1450,"));
        render_set_done(&s);
        json_t *units = plan_node_units(inv, inventory_find_node(inv, "worker-01"), NULL, 0);
        char *u = json_dumps(units, JSON_COMPACT);
        ASSERT_NOT_NULL(strstr(u, "\"flanneld.service\""));
        free(u);
        json_decref(units);
        inventory_free(inv);

        static const char *const files[] = { "cluster.yaml", CLUSTER_HEAD, NULL };
        inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        ASSERT_INT_EQ(render_k8s(inv, "w", &s), 0);
        ASSERT_NULL(render_set_find(&s, "/etc/kube-flannel/net-conf.json"));
        ASSERT_NULL(render_set_find(&s, "/etc/cluster-config/environment/flanneld.env"));
        tmpl = render_set_find(&s, CNI_TEMPLATE)->content;
        ASSERT_NOT_NULL(strstr(tmpl, "\"ipMasq\": true,"));
        ASSERT_NOT_NULL(strstr(tmpl, "\"mtu\": 1500,"));
        render_set_done(&s);
        inventory_free(inv);
}

/* The objects the stage kube-bootstrap applies, for each example, against tests/render/kubernetes/objects/
 * (UPDATE=1 rewrites them: review the diff). The token is a fixed one: the Secret's shape is what counts. */
TEST(test_kube_objects_golden) {
        static const char *const names[] = { "homelab", "ha" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                Inventory *inv = load_example(names[i]);
                ASSERT_NOT_NULL(inv);
                json_t *objs = kube_objects(inv, "abcdef", "0123456789abcdef");
                inventory_free(inv);
                ASSERT_NOT_NULL(objs);
                char *text = json_dumps(objs, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                json_decref(objs);
                ASSERT_NOT_NULL(text);
                char path[512], *golden = NULL;
                size_t size;
                snprintf(path, sizeof(path), "%s/%s.json", objects_dir, names[i]);
                if (getenv("UPDATE")) {
                        char *line = strprintf("%s\n", text);
                        ASSERT_INT_EQ(write_file_atomic(path, line, strlen(line), 0644), 0);
                        free(line);
                }
                ASSERT_INT_EQ(read_full_file(path, 1 << 20, &golden, &size), 0);
                bool same = size == strlen(text) + 1 && strncmp(golden, text, strlen(text)) == 0;
                if (!same)
                        printf("# %s differs from kube_objects(); got:\n%s\n", path, text);
                free(golden);
                free(text);
                ASSERT_TRUE(same);
        }
}

/* Without dns-server nodes there is nothing behind a kube-dns Service: none is made, nor its RBAC. */
TEST(test_kube_objects_without_dns_servers) {
        static const char *const files[] = { "cluster.yaml", CLUSTER_HEAD, NULL };
        Inventory *inv = load_mem(files);
        ASSERT_NOT_NULL(inv);
        json_t *objs = kube_objects(inv, NULL, NULL);
        inventory_free(inv);
        ASSERT_NOT_NULL(objs);
        /* No token: the three bindings of TLS bootstrapping only. */
        ASSERT_INT_EQ(json_array_size(objs), 3);
        char *text = json_dumps(objs, JSON_COMPACT);
        json_decref(objs);
        ASSERT_NULL(strstr(text, "kube-dns"));
        ASSERT_NULL(strstr(text, "system:coredns"));
        free(text);
}

int main(int argc, char **argv) {
        examples = argc > 1 ? argv[1] : "examples";
        objects_dir = argc > 2 ? argv[2] : "tests/render/kubernetes/objects";
        RUN(test_ha_etcd_bootstrap_order);
        RUN(test_ha_agrees_with_plan);
        RUN(test_ha_control_plane_flags);
        RUN(test_kubelet_config_is_yaml);
        RUN(test_workers_get_kubelet_not_etcd);
        RUN(test_same_bytes_twice);
        RUN(test_homelab_single_master);
        RUN(test_cgroupfs_and_calico);
        RUN(test_extra_args_override);
        RUN(test_fqdn_hostname_is_not_the_node_name);
        RUN(test_extra_args_whitespace_refused);
        RUN(test_ipv6_urls);
        RUN(test_master_control_plane_taint);
        RUN(test_flannel);
        RUN(test_kube_objects_golden);
        RUN(test_kube_objects_without_dns_servers);
        report_done(&report);
        return tap_done();
}
