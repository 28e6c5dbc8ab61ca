/* SPDX-License-Identifier: Apache-2.0 */
/* The control plane's command lines: kube-apiserver, kube-controller-manager and kube-scheduler run as
 * systemd services (not static pods), each from an environment file holding the flags kubeadm would put in
 * its static pod manifest, with the kubeadm certificate layout under /etc/kubernetes/pki. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "paths.h"
#include "renderers.h"
#include "banned.h"

#define KUBE_CA_CRT PKI_DIR "/ca.crt"
#define FRONT_PROXY_CA_CRT PKI_DIR "/front-proxy-ca.crt"
#define CONTROLLER_MANAGER_CONF KUBERNETES_DIR "/controller-manager.conf"
#define SCHEDULER_CONF KUBERNETES_DIR "/scheduler.conf"

const KVList *kube_extra_args(const Inventory *inv, const char *component) {
        const SectionList *l = &inv->kubernetes.extra_args;
        for (size_t i = 0; i < l->n; i++)
                if (streq_ptr(l->items[i].name.v, component))
                        return &l->items[i].values;
        return NULL;
}

static bool flag_name_valid(const char *s) {
        if (!*s)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-' || *p == '_' || *p == '.'))
                        return false;
        return true;
}

static bool has_whitespace(const char *s) {
        return strpbrk(s, " \t\n\r\v\f") != NULL;
}

static int flag_cmp(const void *a, const void *b) {
        return strcmp(((const KubeFlag *) a)->name, ((const KubeFlag *) b)->name);
}

int render_kube_flags(StrBuf *b, const char *key, const KubeFlag *flags, size_t n_flags, const Inventory *inv,
                      const char *component) {
        const KVList *extra = kube_extra_args(inv, component);
        size_t n_extra = extra ? extra->n : 0, n = 0;
        _cleanup_free_ KubeFlag *all = calloc(n_flags + n_extra + 1, sizeof(KubeFlag));
        if (!all)
                return -ENOMEM;

        for (size_t i = 0; i < n_flags; i++)
                all[n++] = flags[i];
        for (size_t i = 0; i < n_extra; i++) {
                const char *name = extra->items[i].key.v, *value = strempty(extra->items[i].value.v);
                /* "--flag" and "flag" are the same flag. */
                while (name && *name == '-')
                        name++;
                if (!name || !flag_name_valid(name))
                        return -EINVAL;
                size_t j;
                for (j = 0; j < n; j++)
                        if (streq(all[j].name, name))
                                break;
                all[j] = (KubeFlag) { name, value };
                if (j == n)
                        n++;
        }
        qsort(all, n, sizeof(KubeFlag), flag_cmp);

        StrBuf line = {};
        int r = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!flag_name_valid(all[i].name) || has_whitespace(all[i].value))
                        r = -EINVAL;
                else
                        r = strbuf_printf(&line, "%s--%s=%s", i ? " " : "", all[i].name, all[i].value);
        }
        r = r ?: render_env(b, key, strempty(line.s));
        strbuf_done(&line);
        return r;
}

/* "https://IP:2379,..." for every master, in name order. */
static char *etcd_servers(const Inventory *inv) {
        StrBuf b = {};
        for (size_t i = 0; i < inv->n_nodes; i++) {
                const Node *n = inv->nodes + i;
                if (!node_is_master(n))
                        continue;
                _cleanup_free_ char *hp = render_host_port(&n->ip, 2379);
                if (!hp || strbuf_printf(&b, "%shttps://%s", b.len ? "," : "", hp) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        }
        return strbuf_steal(&b);
}

static int render_component(RenderSet *out, const char *component, const char *key, const KubeFlag *flags,
                            size_t n_flags, const Inventory *inv) {
        _cleanup_free_ char *path = strprintf(ENVIRONMENT_DIR "/%s.env", component);
        if (!path)
                return -ENOMEM;
        StrBuf b = {};
        int r = render_header(&b, "#");
        r = r ?: render_kube_flags(&b, key, flags, n_flags, inv, component);
        r = r ?: render_set_add(out, path, 0644, &b);
        strbuf_done(&b);
        return r;
}

static int render_apiserver(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        char ip[IP_ADDR_STRLEN];
        render_ip(&c->node->ip, ip);
        _cleanup_free_ char *port = strprintf("%" PRId64, inv->kubernetes.api_server_port.v);
        _cleanup_free_ char *servers = etcd_servers(inv);
        _cleanup_free_ char *issuer = strprintf("https://kubernetes.default.svc.%s",
                                                strempty(inv->cluster.networking.cluster_domain.v));
        if (!port || !servers || !issuer)
                return -ENOMEM;

        const KubeFlag flags[] = {
                { "advertise-address", ip },
                { "allow-privileged", "true" },
                { "authorization-mode", "Node,RBAC" },
                { "client-ca-file", KUBE_CA_CRT },
                { "enable-admission-plugins", "NodeRestriction" },
                { "enable-bootstrap-token-auth", "true" },
                { "etcd-cafile", ETCD_PKI_DIR "/ca.crt" },
                { "etcd-certfile", PKI_DIR "/apiserver-etcd-client.crt" },
                { "etcd-keyfile", PKI_DIR "/apiserver-etcd-client.key" },
                { "etcd-servers", servers },
                { "kubelet-client-certificate", PKI_DIR "/apiserver-kubelet-client.crt" },
                { "kubelet-client-key", PKI_DIR "/apiserver-kubelet-client.key" },
                { "kubelet-preferred-address-types", "InternalIP,ExternalIP,Hostname" },
                { "proxy-client-cert-file", PKI_DIR "/front-proxy-client.crt" },
                { "proxy-client-key-file", PKI_DIR "/front-proxy-client.key" },
                { "requestheader-allowed-names", "front-proxy-client" },
                { "requestheader-client-ca-file", FRONT_PROXY_CA_CRT },
                { "requestheader-extra-headers-prefix", "X-Remote-Extra-" },
                { "requestheader-group-headers", "X-Remote-Group" },
                { "requestheader-username-headers", "X-Remote-User" },
                { "secure-port", port },
                { "service-account-issuer", issuer },
                { "service-account-key-file", PKI_DIR "/sa.pub" },
                { "service-account-signing-key-file", PKI_DIR "/sa.key" },
                { "service-cluster-ip-range", strempty(inv->cluster.networking.service_cidr.v) },
                { "tls-cert-file", PKI_DIR "/apiserver.crt" },
                { "tls-private-key-file", PKI_DIR "/apiserver.key" },
        };
        return render_component(out, "kube-apiserver", "KUBE_APISERVER_ARGS", flags, ELEMENTSOF(flags), inv);
}

static int render_controller_manager(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        const KubeFlag flags[] = {
                { "allocate-node-cidrs", "true" },
                { "authentication-kubeconfig", CONTROLLER_MANAGER_CONF },
                { "authorization-kubeconfig", CONTROLLER_MANAGER_CONF },
                { "bind-address", "127.0.0.1" },
                { "client-ca-file", KUBE_CA_CRT },
                { "cluster-cidr", strempty(inv->cluster.networking.pod_cidr.v) },
                { "cluster-name", strempty(inv->cluster.name.v) },
                { "cluster-signing-cert-file", KUBE_CA_CRT },
                { "cluster-signing-key-file", PKI_DIR "/ca.key" },
                /* The kubelets' client certificates, which it signs, live as long as the rest of a node's. */
                { "cluster-signing-duration", strempty(inv->kubernetes.pki.certificate_validity.v) },
                { "controllers", "*,bootstrapsigner,tokencleaner" },
                { "kubeconfig", CONTROLLER_MANAGER_CONF },
                { "leader-elect", "true" },
                { "requestheader-client-ca-file", FRONT_PROXY_CA_CRT },
                { "root-ca-file", KUBE_CA_CRT },
                { "service-account-private-key-file", PKI_DIR "/sa.key" },
                { "service-cluster-ip-range", strempty(inv->cluster.networking.service_cidr.v) },
                { "use-service-account-credentials", "true" },
        };
        return render_component(out, "kube-controller-manager", "KUBE_CONTROLLER_MANAGER_ARGS", flags,
                                ELEMENTSOF(flags), inv);
}

static int render_scheduler(const RenderContext *c, RenderSet *out) {
        const KubeFlag flags[] = {
                { "authentication-kubeconfig", SCHEDULER_CONF },
                { "authorization-kubeconfig", SCHEDULER_CONF },
                { "bind-address", "127.0.0.1" },
                { "kubeconfig", SCHEDULER_CONF },
                { "leader-elect", "true" },
        };
        return render_component(out, "kube-scheduler", "KUBE_SCHEDULER_ARGS", flags, ELEMENTSOF(flags), c->inv);
}

int render_kubernetes(const RenderContext *c, RenderSet *out) {
        if (!c->node->ip_valid)
                return -EINVAL;
        int r = render_apiserver(c, out);
        r = r ?: render_controller_manager(c, out);
        return r ?: render_scheduler(c, out);
}
