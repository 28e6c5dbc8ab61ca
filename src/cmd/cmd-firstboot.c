/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "macro.h"
#include "state-disk.h"
#include "string-util.h"
#include "banned.h"

/* How long a state disk may take to appear (udev names it, a USB disk spins up). Offline (--root) nothing
 * will make it appear. */
#define STATE_DISK_WAIT_SECONDS 60

int cmd_run_state(const Options *o, const Inventory *inv, const Node *node) {
        const char *device = node->file ? node->file->state.disk.v : NULL;
        if (!device)
                return EXIT_DONE;
        if (o->dry_run) {
                printf("  would keep the state of %s on %s\n", node->name, device);
                return EXIT_DONE;
        }
        StateDiskResult res = {};
        _cleanup_free_ char *why = NULL, *line = NULL;
        int r = state_disk_setup(o->root, device, inv->cluster.name.v, node->name,
                                 o->root ? 0 : STATE_DISK_WAIT_SECONDS, &res, &why);
        if (r < 0) {
                const char *hint = r == -EEXIST
                                           ? "the disk is left as it is: wipe it (wipefs -a) if what it holds may go, or name "
                                             "another disk in the node file's state.disk"
                                   : r == -ENOENT ? "check the node file's state.disk (ls -l /dev/disk/by-id names the disks "
                                                    "by model and serial, which stay when disks are added)"
                                                  : NULL;
                line = strprintf("clusterboot: error: the state disk %s of %s is refused: %s", device, node->name,
                                 why ?: strerror(-r));
                cmd_console(o, line);
                log_error("the state disk %s of %s is refused: %s%s%s", device, node->name, why ?: strerror(-r),
                          hint ? "\n  hint: " : "", strempty(hint));
                return EXIT_FAILED;
        }
        if (res.formatted)
                line = strprintf("clusterboot: the state of %s is kept on %s, a blank disk formatted now", node->name, device);
        else
                line = strprintf("clusterboot: the state of %s is kept on %s (made %s)", node->name, device,
                                 strempty(res.created));
        cmd_console(o, line);
        if (line)
                printf("  %s%s\n", line + strlen("clusterboot: "),
                       res.n_seeded ? "; its directories were copied from the root onto it" : "");
        state_disk_result_done(&res);
        return EXIT_DONE;
}

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
        if (r == EXIT_DONE && node->file && node->file->state.disk.v) {
                /* Part of knowing the machine, before anything writes state (render, pki, the services). */
                log_set_context(node->name, "state");
                r = cmd_run_state(o, inv, node);
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
