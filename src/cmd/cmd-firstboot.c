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
                log_error("this machine was auto-registered; rendering for nodes not in the inventory is not "
                          "supported yet: add it to cluster.yaml");
                r = EXIT_FAILED;
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
