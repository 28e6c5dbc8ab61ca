/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "banned.h"

int cmd_load_inventory(const Options *o, bool json_report, Inventory **ret) {
        Report report;
        Inventory *inv = NULL;

        report_init(&report, NULL);
        int r = inventory_load_and_validate(o->inventory, &report, &inv);
        if (r < 0) {
                report_print_text(&report, stderr);
                report_done(&report);
                log_error_errno(r, "cannot read inventory %s: %m", o->inventory);
                return EXIT_USAGE;
        }

        bool valid = report.n_errors == 0 && !report.oom && (!o->strict || report.n_warnings == 0);
        if (json_report)
                (void) report_print_json(&report, stdout, o->strict);
        else {
                report_print_text(&report, stderr);
                if (report.n_errors + report.n_warnings > 0)
                        fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", o->inventory, report.n_errors,
                                report.n_errors == 1 ? "" : "s", report.n_warnings, report.n_warnings == 1 ? "" : "s");
        }
        report_done(&report);

        if (!valid) {
                inventory_free(inv);
                return EXIT_FAILED;
        }
        *ret = inv;
        return EXIT_DONE;
}

int cmd_validate(int argc, char **argv, const Options *o) {
        (void) argc, (void) argv;
        Inventory *inv = NULL;

        int r = cmd_load_inventory(o, o->output == OUTPUT_JSON, &inv);
        if (r != EXIT_DONE)
                return r;

        if (o->output == OUTPUT_TEXT)
                printf("%s: valid: cluster '%s', %zu node%s\n", o->inventory, inv->cluster.name.v, inv->n_nodes,
                       inv->n_nodes == 1 ? "" : "s");
        inventory_free(inv);
        return EXIT_DONE;
}
