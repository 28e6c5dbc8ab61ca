/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "node-pki.h"
#include "writer.h"
#include "banned.h"

typedef struct WriteTally {
        const Options *o;
        unsigned changed;
        json_t *files;
} WriteTally;

static void on_write(const RenderedFile *f, WriteResult res, void *userdata) {
        WriteTally *t = userdata;
        char mode[8];
        snprintf(mode, sizeof(mode), "%04o", (unsigned) f->mode);
        if (t->files)
                json_array_append_new(t->files, json_pack("{s:s,s:s,s:s}", "path", f->path, "mode", mode, "result",
                                                          write_result_to_string(res)));
        if (res == WRITE_UNCHANGED)
                return;
        t->changed++;
        if (t->o->output == OUTPUT_TEXT)
                printf("  %s%s %s (%04o)\n", t->o->dry_run ? "would be " : "", write_result_to_string(res), f->path,
                       (unsigned) f->mode);
}

int cmd_load_bundle(const Options *o, Bundle *ret) {
        const char *missing = NULL;
        if (!o->secrets) {
                log_error("this needs the cluster's secrets bundle: --secrets DIR (made by 'clusterboot secrets init')");
                return EXIT_USAGE;
        }
        int r = bundle_load(o->secrets, ret, &missing);
        if (r < 0) {
                log_error_errno(r, "cannot load the secrets bundle %s%s%s: %m", o->secrets, missing ? ": " : "",
                                missing ?: "");
                return EXIT_FAILED;
        }
        return EXIT_DONE;
}

/* pki node and pki renew: the node's files, issued where missing or no longer right (all with renew). */
int cmd_run_pki(const Options *o, const Inventory *inv, const Node *node, bool renew) {
        Bundle b = {};
        PkiPlan plan = {};
        RenderSet set = {};
        const RenderedFile *failed = NULL;
        WriteTally t = { .o = o, .files = o->output == OUTPUT_JSON ? json_array() : NULL };

        int r = cmd_load_bundle(o, &b);
        if (r != EXIT_DONE)
                goto finish;

        int k = pki_plan_node(inv, node, &plan);
        k = k ?: pki_node_files(inv, &plan, &b, o->root, renew, time(NULL), &set);
        if (k < 0) {
                log_error_errno(k, "cannot make the certificates of node '%s': %m", node->name);
                r = EXIT_FAILED;
                goto finish;
        }
        k = render_set_write(&set, o->root, o->dry_run, on_write, &t, &failed);
        if (k == -ENOENT && failed && failed->group) {
                log_error("cannot write %s: the group '%s' that must read it does not exist in %s/etc/group; "
                          "install the service's package first",
                          failed->path, failed->group, o->root ?: "");
                r = EXIT_FAILED;
                goto finish;
        }
        if (k < 0) {
                log_error_errno(k, "cannot write %s: %m", failed ? failed->path : "?");
                r = EXIT_FAILED;
                goto finish;
        }
        if (o->output == OUTPUT_TEXT)
                printf("%s: %zu PKI files, %u written%s\n", node->name, plan.n, t.changed,
                       o->dry_run ? " (dry run: nothing written)" : "");
        else {
                json_t *j = json_pack("{s:s,s:o,s:b}", "node", node->name, "files", t.files, "dry_run", o->dry_run);
                t.files = NULL;
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        }
finish:
        json_decref(t.files);
        render_set_done(&set);
        pki_plan_done(&plan);
        bundle_done(&b);
        return r;
}

static int run_pki(const Options *o, const Inventory *inv, const Node *node, const void *renew) {
        return cmd_run_pki(o, inv, node, renew != NULL);
}

typedef struct CheckTally {
        const Options *o;
        json_t *findings;
        unsigned errors, warnings;
} CheckTally;

static void on_finding(const char *path, bool ok, bool warning, const char *what, void *userdata) {
        CheckTally *t = userdata;
        if (!ok && !warning)
                t->errors++;
        if (warning)
                t->warnings++;
        if (t->findings)
                json_array_append_new(t->findings, json_pack("{s:s,s:s,s:s}", "path", path, "status",
                                                             ok ? "ok" : warning ? "warning" : "error", "what", what));
        else if (!ok || warning)
                printf("%s: %s: %s\n", path, warning ? "warning" : "error", what);
}

static int pki_check_cmd(const Options *o) {
        Inventory *inv = NULL;
        const Node *node;
        PkiPlan plan = {};
        CheckTally t = { .o = o, .findings = o->output == OUTPUT_JSON ? json_array() : NULL };

        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;
        r = cmd_resolve_node(o, inv, &node);
        if (r == EXIT_DONE) {
                int k = pki_plan_node(inv, node, &plan);
                k = k ?: pki_check(&plan, o->root, time(NULL), on_finding, &t);
                if (k < 0) {
                        log_error_errno(k, "cannot check the certificates of node '%s': %m", node->name);
                        r = EXIT_FAILED;
                } else {
                        if (t.findings) {
                                json_t *j = json_pack("{s:s,s:b,s:I,s:I,s:o}", "node", node->name, "ok", t.errors == 0,
                                                      "errors", (json_int_t) t.errors, "warnings",
                                                      (json_int_t) t.warnings, "findings", t.findings);
                                t.findings = NULL;
                                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                                putchar('\n');
                                json_decref(j);
                        } else
                                printf("%s: %zu PKI files, %u error%s, %u warning%s\n", node->name, plan.n, t.errors,
                                       t.errors == 1 ? "" : "s", t.warnings, t.warnings == 1 ? "" : "s");
                        r = t.errors > 0 ? EXIT_FAILED : EXIT_DONE;
                }
        }
        json_decref(t.findings);
        pki_plan_done(&plan);
        inventory_free(inv);
        return r;
}

int cmd_pki(int argc, char **argv, const Options *o) {
        if (streq(argv[0], "node"))
                return cmd_for_node(o, run_pki, NULL);
        if (streq(argv[0], "renew"))
                return cmd_for_node(o, run_pki, "renew");
        if (streq(argv[0], "check"))
                return pki_check_cmd(o);
        log_error("unknown pki command '%s'; they are: node, check, renew", argv[0]);
        return EXIT_USAGE;
}
