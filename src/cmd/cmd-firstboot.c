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

        printf("[1/3] detect\n");
        r = cmd_run_detect(o, inv, &node);
        if (r == EXIT_DONE && !node) {
                log_error("this machine was auto-registered; rendering for nodes not in the inventory is not "
                          "supported yet: add it to cluster.yaml");
                r = EXIT_FAILED;
        }
        if (r == EXIT_DONE) {
                printf("[2/3] render\n");
                r = cmd_run_render(o, inv, node, NULL);
        }
        if (r == EXIT_DONE) {
                printf("[3/3] activate\n");
                r = cmd_run_activate(o, node);
        }
        inventory_free(inv);
        return r;
}
