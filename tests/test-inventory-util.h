/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Inventories for in-process tests: an example folder, or files held in memory. Valid or NULL (the
 * problems printed to stderr, so that TAP on stdout stays TAP). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

/* inv when report holds no error; otherwise NULL, the problems printed. The report is kept. */
static inline Inventory *test_inventory_valid(Inventory *inv, Report *report) {
        if (inv && report->n_errors > 0) {
                report_sort(report);
                report_print_text(report, stderr);
                inventory_free(inv);
                inv = NULL;
        }
        return inv;
}

static inline Inventory *test_inventory_check(Inventory *inv, Report *report) {
        inv = test_inventory_valid(inv, report);
        report_done(report);
        return inv;
}

/* examples/NAME under examples_dir. */
static inline Inventory *test_load_example(const char *examples_dir, const char *name) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", examples_dir, name);
        Report report;
        report_init(&report, NULL);
        Inventory *inv = NULL;
        if (inventory_load_and_validate(dir, &report, &inv) < 0) {
                report_done(&report);
                return NULL;
        }
        return test_inventory_check(inv, &report);
}

/* (name, content) pairs, NULL-terminated: "cluster.yaml", "...", "nodes/a.yaml", "...", NULL. The problems
 * found are left in *report (emptied first, initialised or not before) for the test to look at. */
static inline Inventory *test_load_mem_report(const char *const *files, Report *report) {
        SourceSet set = {};
        Inventory *inv = NULL;
        report_done(report);
        report_init(report, NULL);
        for (size_t i = 0; files[i]; i += 2)
                source_set_add(&set, NULL, files[i], strdup(files[i + 1]), strlen(files[i + 1]));
        if (inventory_load_sources(NULL, &set, report, &inv) < 0)
                return NULL;
        inventory_validate(inv, report);
        return test_inventory_valid(inv, report);
}

static inline Inventory *test_load_mem(const char *const *files) {
        Report report = {};
        Inventory *inv = test_load_mem_report(files, &report);
        report_done(&report);
        return inv;
}
