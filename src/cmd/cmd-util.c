/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "cmd.h"
#include "fileio.h"
#include "fs-util.h"
#include "identity.h"
#include "inventory.h"
#include "log.h"
#include "paths.h"
#include "string-util.h"
#include "banned.h"

int cmd_for_node(const Options *o, NodeCommand fn, const void *arg) {
        Inventory *inv = NULL;
        const Node *node;
        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;
        r = cmd_resolve_node(o, inv, &node);
        if (r == EXIT_DONE) {
                log_set_context(node->name, NULL);
                r = fn(o, inv, node, arg);
                log_set_context(NULL, NULL);
        }
        inventory_free(inv);
        return r;
}

int cmd_add_auto_node(const Options *o, Inventory *inv, const char *name, Node **ret) {
        Facts facts;
        Identity id = {};
        _cleanup_free_ char *problem = NULL, *addr_path = path_join_root(o->root, AUTO_ADDRESS_PATH), *addr = NULL;
        size_t size;
        int r = addr_path ? facts_read(o->root, &facts) : -ENOMEM;
        if (r < 0)
                return r;
        r = identity_match(inv, &facts, &id, &problem);
        facts_done(&facts);
        if (r < 0 || id.node || !id.auto_name || !streq(id.auto_name, name)) {
                identity_done(&id);
                return -ENXIO; /* not this machine's auto-registered name */
        }
        /* The address the join service recorded at registration (stage register), once there is one. */
        IpAddr ip;
        bool have_ip = read_full_file(addr_path, 256, &addr, &size) >= 0 &&
                       (addr[strcspn(addr, "\n")] = 0, ip_addr_parse(addr, &ip) >= 0);
        r = inventory_add_auto_node(inv, name, id.matched, have_ip ? &ip : NULL, ret);
        identity_done(&id);
        return r;
}

int cmd_resolve_node(const Options *o, Inventory *inv, const Node **ret) {
        _cleanup_free_ char *from_file = NULL;
        const char *name = o->node;

        if (!name) {
                _cleanup_free_ char *path = path_join_root(o->root, NODE_IDENTITY_PATH);
                size_t size;
                if (!path)
                        return log_error("out of memory"), EXIT_FAILED;
                int r = read_full_file(path, 256, &from_file, &size);
                if (r < 0) {
                        log_error_errno(r, "cannot read %s: %m", path);
                        log_error("run 'clusterboot detect' first, or name the node with --node NAME");
                        return EXIT_FAILED;
                }
                while (size > 0 && (from_file[size - 1] == '\n' || from_file[size - 1] == ' '))
                        from_file[--size] = 0;
                name = from_file;
        }

        const Node *n = inventory_find_node(inv, name);
        if (!n && inv->cluster.auto_register.enabled.v) {
                Node *added = NULL;
                int r = cmd_add_auto_node(o, inv, name, &added);
                if (r < 0 && r != -ENXIO)
                        return log_error_errno(r, "cannot make node '%s' of this auto-registered machine: %m", name),
                               EXIT_FAILED;
                n = added;
        }
        if (!n) {
                log_error("node '%s' is not in the inventory %s%s", name, o->inventory,
                          o->node ? "" : " (the name comes from " NODE_IDENTITY_PATH ")");
                return EXIT_FAILED;
        }
        *ret = n;
        return EXIT_DONE;
}
