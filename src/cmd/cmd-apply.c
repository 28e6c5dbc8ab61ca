/* SPDX-License-Identifier: Apache-2.0 */
/* apply: a new inventory for the running cluster, judged against the one it runs (the version stored in
 * etcd, else the one this master was installed with) and stored in etcd as the next version. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "change.h"
#include "cmd.h"
#include "fs-util.h"
#include "inventory-store.h"
#include "inventory.h"
#include "log.h"
#include "paths.h"
#include "string-util.h"
#include "banned.h"

#define APPLY_TIMEOUT_MS 5000

static int oom(void) {
        log_error_errno(-ENOMEM, "out of memory");
        return EXIT_FAILED;
}

static int etcd_error(int r, const CmdEtcd *a, const char *what) {
        if (r == -EAGAIN) {
                log_error("no etcd of the masters (%s%s) answers to %s; nothing was stored", a->endpoints[0],
                          a->n > 1 ? ", ..." : "", what);
                return EXIT_TEMPFAIL;
        }
        if (r == -EBADMSG)
                log_error("the inventory stored in etcd (" INVENTORY_KEY ") is not one clusterboot wrote; nothing was "
                          "stored");
        else
                log_error_errno(r, "cannot %s in etcd: %m", what);
        return EXIT_FAILED;
}

static void print_list(const char *label, char **v, size_t n) {
        if (n == 0)
                return;
        printf("  %s:", label);
        for (size_t i = 0; i < n; i++)
                printf("%s %s", i ? "," : "", v[i]);
        printf("\n");
}

static void print_diff(const InventoryDiff *d) {
        print_list("nodes added", d->added, d->n_added);
        print_list("nodes removed", d->removed, d->n_removed);
        for (size_t i = 0; i < d->n_changed; i++) {
                _cleanup_free_ char *label = strprintf("node %s", d->changed[i].name);
                print_list(label ? label : d->changed[i].name, d->changed[i].what, d->changed[i].n_what);
        }
        print_list("settings", d->settings, d->n_settings);
}

int cmd_apply(int argc, char **argv, const Options *o) {
        (void) argc, (void) argv;
        if (!o->inventory_set) {
                log_error("apply needs --inventory DIR: the new inventory for the running cluster");
                return EXIT_USAGE;
        }
        /* The inventory this master was installed with: its etcd, and the first version. */
        Options installed = *o;
        _cleanup_free_ char *installed_dir = path_join_root(o->root, DEFAULT_INVENTORY);
        if (!installed_dir)
                return oom();
        installed.inventory = installed_dir;
        Inventory *local = NULL, *proposed = NULL;
        int r = cmd_load_inventory(&installed, false, &local);
        if (r != EXIT_DONE) {
                log_error("the inventory this machine was installed with (%s) cannot be read or is not valid", installed_dir);
                return r;
        }
        const Inventory *running = NULL; /* set once the new inventory is valid and etcd answered */
        CmdEtcd etcd = {};
        StoredInventory stored = {};
        InventoryDiff diff = {};
        /* One report: the new inventory's problems, then what the running cluster refuses of it. */
        Report report;
        report_init(&report, NULL);
        r = inventory_load_and_validate(o->inventory, &report, &proposed);
        if (r < 0) {
                report_print_text(&report, stderr);
                log_error_errno(r, "cannot read inventory %s: %m", o->inventory);
                r = EXIT_USAGE;
                goto finish;
        }
        if (report.n_errors > 0)
                goto output;
        r = cmd_etcd_access(o, local, NULL, &etcd);
        if (r < 0) {
                if (r == -ENOMEM)
                        r = oom();
                else {
                        log_error_errno(r, "cannot read this machine's etcd client certificate (%s): %m; apply runs "
                                        "on a master", ETCD_HEALTHCHECK_CERT);
                        r = EXIT_FAILED;
                }
                goto finish;
        }

        /* The version the cluster runs: etcd's, else the installed one as version 0. */
        Report stored_report;
        report_init(&stored_report, NULL);
        r = inventory_store_get((const char *const *) etcd.endpoints, etcd.n, &etcd.tls, APPLY_TIMEOUT_MS,
                                &stored_report, &stored);
        if (r >= 0 && stored.inv) {
                inventory_validate(stored.inv, &stored_report);
                if (stored_report.n_errors > 0) {
                        stored_report.sources = &stored.inv->sources;
                        report_sort(&stored_report);
                        report_print_text(&stored_report, stderr);
                        log_error("the inventory stored in etcd (version %" PRId64 ") is not valid for this clusterboot",
                                  stored.version);
                        r = -EBADMSG;
                }
        }
        report_done(&stored_report);
        if (r < 0) {
                r = r == -EBADMSG && stored.inv ? EXIT_FAILED : etcd_error(r, &etcd, "read the running inventory");
                goto finish;
        }
        running = stored.inv ? stored.inv : local;

        report.sources = &proposed->sources;
        r = inventory_compare(running, proposed, &report, &diff);
        if (r < 0) {
                r = oom();
                goto finish;
        }
output:
        report_sort(&report);
        bool refused = report.n_errors > 0, same = !refused && inventory_diff_empty(&diff);
        bool store = !refused && !same && !o->dry_run;
        if (store) {
                r = inventory_store_put((const char *const *) etcd.endpoints, etcd.n, &etcd.tls, APPLY_TIMEOUT_MS,
                                        &stored, proposed);
                if (r == -ESTALE) {
                        log_error("another apply stored a new version of the inventory while this one compared with "
                                  "version %" PRId64 "; nothing was stored: run apply again, to compare with that one",
                                  stored.version);
                        r = EXIT_FAILED;
                        goto finish;
                }
                if (r < 0) {
                        r = etcd_error(r, &etcd, "store the inventory");
                        goto finish;
                }
        }

        int64_t version = store ? stored.version + 1 : stored.version;
        if (o->output == OUTPUT_JSON) {
                json_t *j = report_to_json(&report, false);
                if (!j || json_object_set_new(j, "running_version", json_integer(stored.version)) < 0 ||
                    json_object_set_new(j, "version", json_integer(version)) < 0 ||
                    json_object_set_new(j, "stored", json_boolean(store)) < 0 ||
                    json_object_set_new(j, "changes", inventory_diff_json(&diff)) < 0 ||
                    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
                        json_decref(j);
                        r = oom();
                        goto finish;
                }
                printf("\n");
                json_decref(j);
        } else {
                report_print_text(&report, stderr);
                const char *from = stored.inv ? "version" : "as installed, version";
                if (refused && !running)
                        fprintf(stderr, "%s: %zu error%s: not a valid inventory; nothing was stored\n", o->inventory,
                                report.n_errors, report.n_errors == 1 ? "" : "s");
                else if (refused)
                        fprintf(stderr, "%s: %zu change%s the running cluster (%s %" PRId64 ") cannot take in place; "
                                        "nothing was stored\n",
                                o->inventory, report.n_errors, report.n_errors == 1 ? "" : "s", from, stored.version);
                else if (same)
                        printf("%s: the cluster runs this inventory (%s %" PRId64 "): nothing to store\n", o->inventory,
                               from, stored.version);
                else {
                        printf("%s: changes against the running inventory (%s %" PRId64 "):\n", o->inventory, from,
                               stored.version);
                        print_diff(&diff);
                        if (store)
                                printf("stored in etcd as version %" PRId64 " (" INVENTORY_KEY ")\n", version);
                        else
                                printf("dry run: nothing stored (it would be version %" PRId64 ")\n", version + 1);
                }
        }
        r = refused ? EXIT_FAILED : EXIT_DONE;

finish:
        report_done(&report);
        inventory_diff_done(&diff);
        stored_inventory_done(&stored);
        cmd_etcd_done(&etcd);
        inventory_free(local);
        inventory_free(proposed);
        return r;
}
