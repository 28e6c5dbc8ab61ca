/* SPDX-License-Identifier: Apache-2.0 */
/* containerd on every node that runs a kubelet: a complete config.toml (schema version 2, containerd 1.6
 * and 1.7) instead of the seed's `containerd config default | sed`, with the CRI plugin's runc runtime in
 * the kubelet's cgroup driver (kubernetes.cgroup_driver), the pause image of the Kubernetes version, and
 * CNI plugins where Debian's containernetworking-plugins puts them.
 *
 * With the bridge CNI, no node needs its pod subnet written down: the controller manager allocates one to
 * each node out of pod_cidr (--allocate-node-cidrs), the kubelet hands it to containerd, and containerd
 * writes the CNI config from the template rendered here (conf_template). Calico installs its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "inventory.h"
#include "paths.h"
#include "renderers.h"
#include "banned.h"

#define CNI_BIN_DIR "/usr/lib/cni"
#define CNI_CONF_DIR "/etc/cni/net.d"
#define CNI_TEMPLATE CONTAINERD_CONFIG_DIR "/cni-bridge.conflist.tmpl"
#define CRI_PLUGIN "plugins.\"io.containerd.grpc.v1.cri\""

/* A TOML basic string: quotes, backslashes and control characters escaped. */
static int toml_string(StrBuf *b, const char *s) {
        int r = strbuf_append(b, "\"");
        for (const unsigned char *p = (const unsigned char *) s; r >= 0 && *p; p++) {
                if (*p == '"' || *p == '\\')
                        r = strbuf_printf(b, "\\%c", *p);
                else if (*p == '\n')
                        r = strbuf_append(b, "\\n");
                else if (*p == '\t')
                        r = strbuf_append(b, "\\t");
                else if (*p < 0x20 || *p == 0x7F)
                        r = strbuf_printf(b, "\\u%04X", *p);
                else
                        r = strbuf_appendn(b, (const char *) p, 1);
        }
        return r < 0 ? r : strbuf_append(b, "\"");
}

static int toml_kv_string(StrBuf *b, const char *indent, const char *key, const char *value) {
        int r = strbuf_printf(b, "%s%s = ", indent, key);
        r = r ?: toml_string(b, value);
        return r ?: strbuf_append(b, "\n");
}

/* The pause image kubeadm pins for a Kubernetes version: 3.9 up to 1.30, 3.10 from 1.31 on. */
static const char *pause_image(const char *version) {
        unsigned major = 0, minor = 0;
        if (version && sscanf(version, "%u.%u", &major, &minor) == 2 && (major > 1 || minor >= 31))
                return "registry.k8s.io/pause:3.10";
        return "registry.k8s.io/pause:3.9";
}

/* A Go text/template of containerd's CRI plugin (fields PodCIDRRanges and Routes), for a CNI conflist:
 * the bridge cni0 as the pods' gateway, addresses from the node's pod CIDRs (host-local), and portmap for
 * hostPort. With the bridge CNI alone it masquerades what leaves the node's pod subnet; under flannel,
 * flanneld masquerades what leaves the pod network (so pods on other nodes see the pod's own address) and
 * the MTU leaves room for vxlan (pod_network_mtu()). */
static int cni_template(const Inventory *inv, StrBuf *b) {
        bool flannel = inventory_uses_flannel(inv);
        return strbuf_printf(b,
                             "{\n"
                             "  \"cniVersion\": \"0.4.0\",\n"
                             "  \"name\": \"clusterboot-bridge\",\n"
                             "  \"plugins\": [\n"
                             "    {\n"
                             "      \"type\": \"bridge\",\n"
                             "      \"bridge\": \"cni0\",\n"
                             "      \"isGateway\": true,\n"
                             "      \"ipMasq\": %s,\n"
                             "      \"mtu\": %d,\n"
                             "      \"hairpinMode\": true,\n"
                             "      \"ipam\": {\n"
                             "        \"type\": \"host-local\",\n"
                             "        \"ranges\": [{{range $i, $r := .PodCIDRRanges}}{{if $i}}, {{end}}[{\"subnet\": \"{{$r}}\"}]{{end}}],\n"
                             "        \"routes\": [{{range $i, $r := .Routes}}{{if $i}}, {{end}}{\"dst\": \"{{$r}}\"}{{end}}]\n"
                             "      }\n"
                             "    },\n"
                             "    {\n"
                             "      \"type\": \"portmap\",\n"
                             "      \"capabilities\": { \"portMappings\": true }\n"
                             "    }\n"
                             "  ]\n"
                             "}\n",
                             flannel ? "false" : "true", pod_network_mtu(inv));
}

int render_containerd(const RenderContext *c, RenderSet *out) {
        /* flannel routes between the nodes; the pods are on the bridge all the same. */
        bool bridge = streq_ptr(c->inv->kubernetes.cni.v, "bridge") || inventory_uses_flannel(c->inv);
        bool systemd = !streq_ptr(c->inv->kubernetes.cgroup_driver.v, "cgroupfs");
        StrBuf b = {};
        int r = render_header(&b, "#");
        r = r ?: strbuf_append(&b, "\nversion = 2\n\n[" CRI_PLUGIN "]\n");
        r = r ?: toml_kv_string(&b, "  ", "sandbox_image", pause_image(c->inv->kubernetes.version.v));
        r = r ?: strbuf_append(&b, "\n  [" CRI_PLUGIN ".containerd]\n");
        r = r ?: toml_kv_string(&b, "    ", "default_runtime_name", "runc");
        r = r ?: strbuf_append(&b, "\n    [" CRI_PLUGIN ".containerd.runtimes.runc]\n");
        r = r ?: toml_kv_string(&b, "      ", "runtime_type", "io.containerd.runc.v2");
        r = r ?: strbuf_printf(&b, "\n      [" CRI_PLUGIN ".containerd.runtimes.runc.options]\n"
                                   "        SystemdCgroup = %s\n", systemd ? "true" : "false");
        r = r ?: strbuf_append(&b, "\n  [" CRI_PLUGIN ".cni]\n");
        r = r ?: toml_kv_string(&b, "    ", "bin_dir", CNI_BIN_DIR);
        r = r ?: toml_kv_string(&b, "    ", "conf_dir", CNI_CONF_DIR);
        if (bridge)
                r = r ?: toml_kv_string(&b, "    ", "conf_template", CNI_TEMPLATE);
        r = r ?: render_set_add(out, CONTAINERD_CONFIG_DIR "/config.toml", 0644, &b);
        strbuf_done(&b);
        if (r < 0 || !bridge)
                return r;

        r = cni_template(c->inv, &b);
        r = r ?: render_set_add(out, CNI_TEMPLATE, 0644, &b);
        strbuf_done(&b);
        return r;
}
