/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "banned.h"

/* The stages of first boot, in order, each idempotent (Ignition's fetch/disks/files, for us). A failed stage
 * stops the run; the next boot (or a restart of cluster-detect.service) starts again from the top and skips
 * what is already done. */
int cmd_firstboot(int argc, char **argv, const Options *o) {
        Inventory *inv = NULL;
        const Node *node = NULL;
        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;

        /* With the bundle on the machine (the "embedded" secret policy) the node makes its own certificates. */
        unsigned steps = o->secrets ? 4 : 3, step = 1;
        log_set_context(NULL, "detect");
        printf("[%u/%u] detect\n", step++, steps);
        r = cmd_run_detect(o, inv, &node);
        if (r == EXIT_DONE && !node) {
                /* Auto-registered: not in the inventory, no address of its own yet. Only the network (DHCP)
                 * now; the join service names it and records its address at the stage register of
                 * cluster-bootstrap.service, which then renders and activates the rest. */
                r = cmd_resolve_node(o, inv, &node);
                if (r == EXIT_DONE && node->ip_valid) {
                        printf("[%u/%u] render and activate: %s was registered before, its address is known\n",
                               step++, steps, node->name);
                        log_set_context(node->name, "render");
                        r = cmd_run_render(o, inv, node, NULL);
                        r = r ?: cmd_run_activate(o, node);
                } else if (r == EXIT_DONE) {
                        log_set_context(node->name, "network");
                        printf("[%u/%u] network (DHCP): %s is auto-registered; the rest once the join service has "
                               "registered it (cluster-bootstrap.service, stage register)\n", step++, steps, node->name);
                        r = cmd_run_render(o, inv, node, "network");
                }
                log_set_context(NULL, NULL);
                inventory_free(inv);
                return r;
        }
        if (r == EXIT_DONE) {
                log_set_context(node->name, "render");
                printf("[%u/%u] render\n", step++, steps);
                r = cmd_run_render(o, inv, node, NULL);
        }
        if (r == EXIT_DONE && o->secrets) {
                log_set_context(node->name, "pki");
                printf("[%u/%u] pki\n", step++, steps);
                r = cmd_run_pki(o, inv, node, false);
        }
        if (r == EXIT_DONE) {
                log_set_context(node->name, "activate");
                printf("[%u/%u] activate\n", step++, steps);
                r = cmd_run_activate(o, node);
        }
        log_set_context(NULL, NULL);
        inventory_free(inv);
        return r;
}
