/* SPDX-License-Identifier: Apache-2.0 */
/* What `detect` leaves for everything after it: /etc/cluster-config/node-identity (the name) and
 * current-node.yaml (the node's merged entry and how it was recognized). */
#include <errno.h>

#include "paths.h"
#include "render-identity.h"
#include "yaml-writer.h"
#include "banned.h"

static void write_list(YamlWriter *w, const char *key, const StrList *l) {
        if (!l->set || l->n == 0)
                return;
        yaml_writer_str(w, key);
        yaml_writer_seq_start(w, true);
        for (size_t i = 0; i < l->n; i++)
                yaml_writer_str(w, l->items[i].v);
        yaml_writer_seq_end(w);
}

static void write_node(YamlWriter *w, const Node *n) {
        const NodeFile *f = n->file;
        char ip[IP_ADDR_STRLEN];

        ip_addr_format(&n->ip, ip);
        yaml_writer_key_str(w, "name", n->name);
        yaml_writer_key_str(w, "hostname", n->hostname);
        yaml_writer_key_str(w, "ip", ip);
        yaml_writer_str(w, "roles");
        yaml_writer_seq_start(w, true);
        for (Role r = 0; r < _ROLE_MAX; r++)
                if (n->roles[r])
                        yaml_writer_str(w, role_to_string(r));
        yaml_writer_seq_end(w);

        yaml_writer_str(w, "hardware");
        yaml_writer_map_start(w);
        yaml_writer_str(w, "mac_addresses");
        yaml_writer_seq_start(w, true);
        for (size_t i = 0; i < n->n_macs; i++)
                yaml_writer_str(w, n->macs[i]);
        yaml_writer_seq_end(w);
        if (f && f->hardware.serial.v)
                yaml_writer_key_str(w, "serial", f->hardware.serial.v);
        if (f && f->hardware.uuid.v)
                yaml_writer_key_str(w, "uuid", f->hardware.uuid.v);
        yaml_writer_map_end(w);

        if (f && f->network.interface.v) {
                yaml_writer_str(w, "network");
                yaml_writer_map_start(w);
                yaml_writer_key_str(w, "interface", f->network.interface.v);
                yaml_writer_map_end(w);
        }
        if (f && f->labels.n > 0) {
                yaml_writer_str(w, "labels");
                yaml_writer_map_start(w);
                for (size_t i = 0; i < f->labels.n; i++)
                        yaml_writer_key_str(w, f->labels.items[i].key.v, f->labels.items[i].value.v);
                yaml_writer_map_end(w);
        }
        if (f)
                write_list(w, "taints", &f->taints);
        if (f && n->roles[ROLE_CEPH_OSD] && f->ceph.osd_devices.n > 0) {
                yaml_writer_str(w, "ceph");
                yaml_writer_map_start(w);
                write_list(w, "osd_devices", &f->ceph.osd_devices);
                yaml_writer_map_end(w);
        }
        if (n->kafka_node_id >= 0) {
                yaml_writer_str(w, "kafka");
                yaml_writer_map_start(w);
                yaml_writer_str(w, "node_id");
                yaml_writer_int(w, n->kafka_node_id);
                yaml_writer_map_end(w);
        }
}

int render_identity(const Identity *id, RenderSet *out) {
        const char *name = id->node ? id->node->name : id->auto_name;
        StrBuf b = {};
        int r;

        if (!name)
                return -EINVAL;
        r = strbuf_printf(&b, "%s\n", name);
        r = r ?: render_set_add(out, NODE_IDENTITY_PATH, 0644, &b);
        strbuf_done(&b);
        if (r < 0)
                return r;

        r = render_header(&b, "#");
        YamlWriter w;
        r = r ?: yaml_writer_init(&w, &b);
        if (r < 0) {
                strbuf_done(&b);
                return r;
        }
        yaml_writer_map_start(&w);
        yaml_writer_str(&w, "node");
        yaml_writer_map_start(&w);
        if (id->node)
                write_node(&w, id->node);
        else {
                /* Not in the inventory: a name and a role, and an address from DHCP. */
                yaml_writer_key_str(&w, "name", id->auto_name);
                yaml_writer_key_str(&w, "hostname", id->auto_name);
                yaml_writer_str(&w, "roles");
                yaml_writer_seq_start(&w, true);
                yaml_writer_str(&w, id->auto_role);
                yaml_writer_seq_end(&w);
        }
        yaml_writer_map_end(&w);

        yaml_writer_str(&w, "identity");
        yaml_writer_map_start(&w);
        yaml_writer_key_str(&w, "selector", selector_to_string(id->selector));
        yaml_writer_key_str(&w, "matched", id->matched);
        if (id->interface)
                yaml_writer_key_str(&w, "interface", id->interface);
        yaml_writer_map_end(&w);
        yaml_writer_map_end(&w);
        r = yaml_writer_finish(&w);

        r = r ?: render_set_add(out, CURRENT_NODE_PATH, 0644, &b);
        strbuf_done(&b);
        return r;
}
