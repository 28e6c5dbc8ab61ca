/* SPDX-License-Identifier: Apache-2.0 */
/* The kubelet on masters and workers: its KubeletConfiguration (written with libyaml's emitter) and an
 * environment file with the flags that must stay flags (kubeconfigs, node identity, labels, taints).
 *
 * Its client certificate comes in kubelet.conf (pki node) or by CSR with a bootstrap token
 * (bootstrap-kubelet.conf); its serving certificate is the one `pki node` issues for the node's names and
 * address (/var/lib/kubelet/pki/kubelet.crt), not a CSR that nothing in the cluster would approve. The
 * control plane runs as systemd services, so the kubelet runs no static pods: staticPodPath is left unset. */
#include <errno.h>
#include <stdlib.h>

#include "inventory.h"
#include "paths.h"
#include "renderers.h"
#include "yaml-writer.h"
#include "banned.h"

#define KUBELET_CONFIG_PATH KUBELET_DIR "/config.yaml"
#define CONTAINERD_SOCKET "unix:///run/containerd/containerd.sock"

static void yaml_key_bool(YamlWriter *w, const char *key, bool v) {
        yaml_writer_str(w, key);
        yaml_writer_bool(w, v);
}

static void yaml_key_enabled(YamlWriter *w, const char *key, bool v) {
        yaml_writer_str(w, key);
        yaml_writer_map_start(w);
        yaml_key_bool(w, "enabled", v);
        yaml_writer_map_end(w);
}

static int render_kubelet_config(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        IpAddr dns;
        char dns_ip[IP_ADDR_STRLEN];

        if (inventory_service_ip(inv, SERVICE_ADDRESS_DNS, &dns) < 0)
                return -EINVAL;
        render_ip(&dns, dns_ip);

        StrBuf b = {};
        YamlWriter w;
        int r = render_header(&b, "#");
        r = r ?: yaml_writer_init(&w, &b);
        if (r < 0) {
                strbuf_done(&b);
                return r;
        }
        yaml_writer_map_start(&w);
        yaml_writer_key_str(&w, "apiVersion", "kubelet.config.k8s.io/v1beta1");
        yaml_writer_key_str(&w, "kind", "KubeletConfiguration");

        yaml_writer_str(&w, "authentication");
        yaml_writer_map_start(&w);
        yaml_key_enabled(&w, "anonymous", false);
        yaml_key_enabled(&w, "webhook", true);
        yaml_writer_str(&w, "x509");
        yaml_writer_map_start(&w);
        yaml_writer_key_str(&w, "clientCAFile", PKI_DIR "/ca.crt");
        yaml_writer_map_end(&w);
        yaml_writer_map_end(&w);

        yaml_writer_str(&w, "authorization");
        yaml_writer_map_start(&w);
        yaml_writer_key_str(&w, "mode", "Webhook");
        yaml_writer_map_end(&w);

        /* containerd's SystemdCgroup says the same (render-containerd.c): both must agree. */
        yaml_writer_key_str(&w, "cgroupDriver", strempty(inv->kubernetes.cgroup_driver.v));
        yaml_writer_str(&w, "clusterDNS");
        yaml_writer_seq_start(&w, false);
        yaml_writer_str(&w, dns_ip);
        yaml_writer_seq_end(&w);
        yaml_writer_key_str(&w, "clusterDomain", strempty(inv->cluster.networking.cluster_domain.v));
        yaml_writer_key_str(&w, "containerRuntimeEndpoint", CONTAINERD_SOCKET);
        yaml_key_bool(&w, "rotateCertificates", true);
        yaml_writer_key_str(&w, "tlsCertFile", KUBELET_PKI_DIR "/kubelet.crt");
        yaml_writer_key_str(&w, "tlsPrivateKeyFile", KUBELET_PKI_DIR "/kubelet.key");
        yaml_key_bool(&w, "serverTLSBootstrap", false);
        yaml_writer_map_end(&w);

        r = yaml_writer_finish(&w);
        r = r ?: render_set_add(out, KUBELET_CONFIG_PATH, 0644, &b);
        strbuf_done(&b);
        return r;
}

static int kv_key_cmp(const void *a, const void *b) {
        return strcmp((*(const KeyValue *const *) a)->key.v, (*(const KeyValue *const *) b)->key.v);
}

/* "k1=v1,k2=v2", sorted by key; NULL without labels. */
static int node_labels(const Node *n, char **ret) {
        const KVList *l = n->file ? &n->file->labels : NULL;
        *ret = NULL;
        if (!l || l->n == 0)
                return 0;

        _cleanup_free_ const KeyValue **sorted = calloc(l->n, sizeof(KeyValue *));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                if (!l->items[i].key.v)
                        return -EINVAL;
                sorted[i] = l->items + i;
        }
        qsort(sorted, l->n, sizeof(KeyValue *), kv_key_cmp);

        StrBuf b = {};
        int r = 0;
        for (size_t i = 0; r >= 0 && i < l->n; i++)
                r = strbuf_printf(&b, "%s%s=%s", i ? "," : "", sorted[i]->key.v, strempty(sorted[i]->value.v));
        if (r < 0) {
                strbuf_done(&b);
                return r;
        }
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

/* "key=value:Effect,..." (node_taints(): the inventory's, then a master's control-plane taint); NULL without
 * taints. */
static int taints_flag(const Inventory *inv, const Node *n, char **ret) {
        char **t = NULL;
        size_t k = 0;
        int r = node_taints(inv, n, &t, &k);
        *ret = NULL;
        if (r < 0)
                return r;
        StrBuf b = {};
        for (size_t i = 0; r >= 0 && i < k; i++)
                r = strbuf_printf(&b, "%s%s", i ? "," : "", t[i]);
        strv_free_n(t, k);
        if (r < 0 || k == 0) {
                strbuf_done(&b);
                return r;
        }
        *ret = strbuf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static int render_kubelet_env(const RenderContext *c, RenderSet *out) {
        const Node *n = c->node;
        char ip[IP_ADDR_STRLEN];
        _cleanup_free_ char *labels = NULL, *taints = NULL;
        int r;

        render_ip(&n->ip, ip);
        r = node_labels(n, &labels);
        r = r ?: taints_flag(c->inv, n, &taints);
        if (r < 0)
                return r;

        KubeFlag flags[7] = {
                { "bootstrap-kubeconfig", KUBERNETES_DIR "/bootstrap-kubelet.conf" },
                { "config", KUBELET_CONFIG_PATH },
                /* The Node's name: the inventory's, as in the kubelet's certificates (system:node:NAME);
                 * the Node authorizer lets a kubelet change only the Node its certificate names. */
                { "hostname-override", n->name },
                { "kubeconfig", KUBERNETES_DIR "/kubelet.conf" },
                { "node-ip", ip },
        };
        size_t n_flags = 5;
        if (labels)
                flags[n_flags++] = (KubeFlag) { "node-labels", labels };
        if (taints)
                flags[n_flags++] = (KubeFlag) { "register-with-taints", taints };

        StrBuf b = {};
        r = render_header(&b, "#");
        r = r ?: render_kube_flags(&b, "KUBELET_ARGS", flags, n_flags, c->inv, "kubelet");
        r = r ?: render_set_add(out, ENVIRONMENT_DIR "/kubelet.env", 0644, &b);
        strbuf_done(&b);
        return r;
}

int render_kubelet(const RenderContext *c, RenderSet *out) {
        if (!c->node->ip_valid)
                return -EINVAL;
        int r = render_kubelet_config(c, out);
        return r ?: render_kubelet_env(c, out);
}
