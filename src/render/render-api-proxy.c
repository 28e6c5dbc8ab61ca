/* SPDX-License-Identifier: Apache-2.0 */
/* The relay to the masters' API servers on a node that runs a kubelet and no API server
 * (node_uses_api_proxy()): clusterboot-api-proxy.service listens on API_PROXY_ADDRESS:API_PROXY_PORT, where the
 * node's kubeconfigs point (node_api_url()), and relays to each master's API server. Its arguments are
 * rendered, so that `sync` restarts it when the inventory's masters change. */
#include <errno.h>

#include "inventory.h"
#include "paths.h"
#include "renderers.h"
#include "banned.h"

int render_api_proxy(const RenderContext *c, RenderSet *out) {
        const Inventory *inv = c->inv;
        if (!node_uses_api_proxy(inv, c->node))
                return 0;
        StrBuf b = {};
        int r = render_header(&b, "#");
        r = r ?: strbuf_printf(&b, "API_PROXY_ARGS=\"" API_PROXY_ADDRESS ":%d", API_PROXY_PORT);
        for (size_t i = 0; i < inv->n_nodes && r >= 0; i++) {
                const Node *m = inv->nodes + i;
                if (!m->roles[ROLE_MASTER] || !m->ip_valid)
                        continue;
                _cleanup_free_ char *upstream = ip_endpoint_format(&m->ip, inv->kubernetes.api_server_port.v);
                r = upstream ? strbuf_printf(&b, " %s", upstream) : -ENOMEM;
        }
        r = r ?: strbuf_append(&b, "\"\n");
        r = r ?: render_set_add(out, ENVIRONMENT_DIR "/api-proxy.env", 0644, &b);
        strbuf_done(&b);
        return r;
}
