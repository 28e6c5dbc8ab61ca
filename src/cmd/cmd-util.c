/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>

#include "cmd.h"
#include "fileio.h"
#include "fs-util.h"
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

int cmd_resolve_node(const Options *o, const Inventory *inv, const Node **ret) {
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
        if (!n) {
                log_error("node '%s' is not in the inventory %s%s", name, o->inventory,
                          o->node ? "" : " (the name comes from " NODE_IDENTITY_PATH ")");
                return EXIT_FAILED;
        }
        *ret = n;
        return EXIT_DONE;
}
