/* SPDX-License-Identifier: Apache-2.0 */
/* kube-proxy on every node that runs a kubelet: Services' virtual addresses made real (iptables) on each
 * node, so that a pod, or the node itself, reaches a ClusterIP such as the API server's. Flags in an
 * environment file like the control plane's, so that extra_args can set any of them.
 *
 * It authenticates as system:kube-proxy (kube-proxy.conf from `pki node` or the join service), the user
 * Kubernetes' default ClusterRoleBinding system:node-proxier binds; it finds its node by the inventory's
 * name, as the kubelet registers it. */
#include <errno.h>

#include "paths.h"
#include "renderers.h"
#include "banned.h"

int render_kube_proxy(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        const KubeFlag flags[] = {
                { "cluster-cidr", strempty(inv->cluster.networking.pod_cidr.v) },
                { "hostname-override", c->node->name },
                { "kubeconfig", KUBERNETES_DIR "/kube-proxy.conf" },
                { "proxy-mode", "iptables" },
        };
        StrBuf b = {};
        int r = render_header(&b, "#");
        r = r ?: render_kube_flags(&b, "KUBE_PROXY_ARGS", flags, ELEMENTSOF(flags), inv, "kube-proxy");
        r = r ?: render_set_add(out, ENVIRONMENT_DIR "/kube-proxy.env", 0644, &b);
        strbuf_done(&b);
        return r;
}
