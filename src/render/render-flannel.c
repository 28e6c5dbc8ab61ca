/* SPDX-License-Identifier: Apache-2.0 */
/* flannel on a kubelet node (kubernetes.cni: flannel): flanneld runs as a host service with
 * --kube-subnet-mgr, so each node's subnet is the podCIDR the controller manager gives its Node (a node
 * added or auto-registered later gets one the same way, and every flanneld learns it from the API), and
 * routes to the other nodes' subnets: straight to the node on one L2 segment (DirectRouting), through the
 * vxlan device flannel.1 across routers. Pods stay on containerd's bridge CNI over the node's podCIDR
 * (render-containerd.c), without its masquerade: flanneld's --ip-masq masquerades what leaves the pod
 * network and leaves pod-to-pod traffic alone. It authenticates with the kubelet's own kubeconfig: under
 * Kubernetes 1.29's Node authorizer a kubelet may list and watch Nodes and patch its own Node's status,
 * which is all flannel does. */
#include <errno.h>

#include "inventory.h"
#include "paths.h"
#include "renderers.h"
#include "banned.h"

/* The NIC's MTU: the inventory has no MTU, so Ethernet's. */
#define NODE_MTU 1500
/* vxlan's encapsulation: flannel.1 and what it tells pods are the NIC's MTU less this. */
#define VXLAN_OVERHEAD 50

int pod_network_mtu(const Inventory *inv) {
        return inventory_uses_flannel(inv) ? NODE_MTU - VXLAN_OVERHEAD : NODE_MTU;
}

static int render_net_conf(const RenderContext *c, RenderSet *out) {
        const char *cidr = c->inv->cluster.networking.pod_cidr.v;
        bool v6 = c->inv->pod_cidr_valid && c->inv->pod_cidr.addr.family == AF_INET6;
        StrBuf b = {};
        if (!cidr)
                return -EINVAL;
        /* JSON has no comments: no generated-by header (as the CNI template). */
        int r = strbuf_printf(&b,
                              "{\n"
                              "  \"%s\": \"%s\",\n"
                              "  \"EnableIPv4\": %s,\n"
                              "  \"EnableIPv6\": %s,\n"
                              "  \"Backend\": {\n"
                              "    \"Type\": \"vxlan\",\n"
                              "    \"VNI\": 1,\n"
                              "    \"Port\": 8472,\n"
                              "    \"DirectRouting\": true,\n"
                              "    \"MTU\": %d\n"
                              "  }\n"
                              "}\n",
                              v6 ? "IPv6Network" : "Network", cidr, v6 ? "false" : "true", v6 ? "true" : "false",
                              NODE_MTU);
        r = r ?: render_set_add(out, FLANNEL_NET_CONF, 0644, &b);
        strbuf_done(&b);
        return r;
}

/* flanneld takes every flag from FLANNELD_<FLAG> too; the node's own ones are here, the rest in the unit. */
static int render_flanneld_env(const RenderContext *c, RenderSet *out) {
        char ip[IP_ADDR_STRLEN];
        StrBuf b = {};
        render_ip(&c->node->ip, ip);
        int r = render_header(&b, "#");
        /* Its Node, as the kubelet's certificate names it (system:node:NAME): outside a pod, flannel needs it. */
        r = r ?: strbuf_printf(&b, "NODE_NAME=\"%s\"\n", c->node->name);
        /* The node's address, so that the tunnel and the direct routes use the inventory's NIC, not the one
         * with the default route. */
        r = r ?: strbuf_printf(&b, "FLANNELD_IFACE=\"%s\"\n", ip);
        r = r ?: render_set_add(out, ENVIRONMENT_DIR "/flanneld.env", 0644, &b);
        strbuf_done(&b);
        return r;
}

int render_flannel(const RenderContext *c, RenderSet *out) {
        if (!inventory_uses_flannel(c->inv))
                return 0;
        int r = render_net_conf(c, out);
        return r ?: render_flanneld_env(c, out);
}
