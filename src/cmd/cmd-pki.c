/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "activate.h"
#include "bundle.h"
#include "cmd.h"
#include "fileio.h"
#include "fs-util.h"
#include "inventory.h"
#include "join-node.h"
#include "log.h"
#include "node-pki.h"
#include "paths.h"
#include "string-util.h"
#include "writer.h"
#include "banned.h"

typedef struct WriteTally {
        const Options *o;
        unsigned changed;
        json_t *files;
        json_t *restarts;
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

/* --restart: each running service that reads a file of the plan written since it started (now, or by an
 * earlier run whose restarts did not finish), one at a time. */
static int restart_readers(const Options *o, const PkiPlan *plan, WriteTally *t) {
        char **paths = NULL;
        size_t n_paths;
        int r = pki_plan_paths(plan, &paths, &n_paths);
        if (r < 0)
                return log_error_errno(r, "cannot list the node's PKI files: %m");
        r = cmd_restart_readers(o, (const char *const *) paths, n_paths, NULL, 0, t->restarts);
        strv_free_n(paths, n_paths);
        return r;
}

/* A node of the join policy has no bundle: once its kubelet has a client certificate, it renews through a
 * master's join service with that certificate (join_node_renew()). 1 when that is the way, with the files. */
static int renew_through_join(const Options *o, const Inventory *inv, const Node *node, bool force, RenderSet *set) {
        _cleanup_free_ char *client = path_join_root(o->root, KUBELET_CLIENT_PEM);
        _cleanup_free_ char *ca_path = path_join_root(o->root, PKI_DIR "/ca.crt");
        if (!client || !ca_path)
                return log_error_errno(-ENOMEM, "out of memory");
        if (o->secrets || access(client, R_OK) < 0)
                return 0;
        if (o->dry_run) { /* the join service would issue certificates: not asked */
                if (o->output == OUTPUT_TEXT)
                        printf("  would ask a master's join service for the certificates that are due (by the "
                               "kubelet's client certificate)\n");
                return 1;
        }
        _cleanup_free_ char *ca_pem = NULL, *why = NULL, *from = NULL;
        size_t size;
        int r = read_full_file(ca_path, 1024 * 1024, &ca_pem, &size);
        if (r < 0)
                return log_error_errno(r, "cannot read the cluster's CA certificate %s: %m", PKI_DIR "/ca.crt");
        char **urls = NULL;
        size_t n_urls = 0;
        JoinNodeOptions jo = { .ca_pem = ca_pem, .client_cert = client, .timeout_sec = 10 };
        r = join_node_urls(inv, node, &urls, &n_urls);
        r = r ?: join_node_renew(inv, node, &jo, o->root, force, urls, n_urls, set, &from, &why);
        join_node_urls_free(urls, n_urls);
        if (r < 0 && why)
                return log_error_errno(r, "cannot renew the certificates of node '%s' through the join service: %s",
                                       node->name, why);
        if (r < 0)
                return log_error_errno(r, "cannot renew the certificates of node '%s' through the join service: %m",
                                       node->name);
        if (o->output == OUTPUT_TEXT)
                printf("  %s%s (by the kubelet's client certificate)\n", from ? "through the join service of " : "",
                       from ?: strempty(why));
        return 1;
}

/* pki node and pki renew: the node's files, issued where missing or no longer right (all with renew). */
int cmd_run_pki(const Options *o, const Inventory *inv, const Node *node, bool renew) {
        Bundle b = {};
        PkiPlan plan = {};
        RenderSet set = {};
        const RenderedFile *failed = NULL;
        if (o->restart && o->root) {
                log_error("--restart restarts the services of the running system; it cannot be used with --root");
                return EXIT_USAGE;
        }
        WriteTally t = { .o = o, .files = o->output == OUTPUT_JSON ? json_array() : NULL,
                         .restarts = o->output == OUTPUT_JSON && o->restart ? json_array() : NULL };
        int r = EXIT_DONE;
        int k = pki_plan_node(inv, node, &plan);
        int joined = k < 0 ? k : renew_through_join(o, inv, node, renew, &set);
        if (joined < 0) {
                r = EXIT_FAILED;
                goto finish;
        }
        if (joined == 0) {
                r = cmd_load_bundle(o, &b);
                if (r != EXIT_DONE)
                        goto finish;
                k = k ?: pki_node_files(inv, &plan, &b, o->root, renew, time(NULL), &set);
        }
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
        if (o->restart && restart_readers(o, &plan, &t) < 0)
                r = EXIT_FAILED;
        if (o->output == OUTPUT_TEXT)
                printf("%s: %zu PKI files, %u written%s\n", node->name, plan.n, t.changed,
                       o->dry_run ? " (dry run: nothing written)" : "");
        else {
                json_t *j = json_pack("{s:s,s:o,s:b}", "node", node->name, "files", t.files, "dry_run", o->dry_run);
                t.files = NULL;
                if (t.restarts) {
                        json_object_set_new(j, "restarts", t.restarts);
                        t.restarts = NULL;
                }
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        }
finish:
        json_decref(t.files);
        json_decref(t.restarts);
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
