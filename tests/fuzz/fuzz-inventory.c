/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: load + validate + plan of an inventory built from the input. The input is split at NUL
 * bytes into the files below, in order, so one input can exercise cross-file checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
        "cluster.yaml",         "nodes/master-01.yaml", "nodes/worker-01.yaml", "services/kubernetes.yaml",
        "services/ceph.yaml",   "services/kafka.yaml",  "services/mqtt.yaml",   "services/dns.yaml",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SourceSet set = {};
        Report report;
        Inventory *inv = NULL;

        const uint8_t *p = data, *end = data + size;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && p <= end; i++) {
                const uint8_t *nul = memchr(p, 0, (size_t) (end - p));
                size_t len = nul ? (size_t) (nul - p) : (size_t) (end - p);
                char *copy = malloc(len + 1);
                if (!copy)
                        break;
                memcpy(copy, p, len);
                copy[len] = 0;
                if (source_set_add(&set, NULL, names[i], copy, len) < 0)
                        break;
                if (!nul)
                        break;
                p = nul + 1;
        }

        report_init(&report, NULL);
        if (inventory_load_sources(NULL, &set, &report, &inv) >= 0) {
                inventory_validate(inv, &report);
                report_sort(&report);
                FILE *devnull = fopen("/dev/null", "w");
                if (devnull) {
                        report_print_text(&report, devnull);
                        report_print_json(&report, devnull, false);
                        fclose(devnull);
                }
                if (report.n_errors == 0)
                        json_decref(plan_build(inv));
                inventory_free(inv);
        }
        report_done(&report);
        source_set_done(&set);
        return 0;
}
