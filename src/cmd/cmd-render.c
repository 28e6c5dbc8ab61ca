/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "hostname.h"
#include "string-util.h"
#include "inventory.h"
#include "bundle.h"
#include "log.h"
#include "manifest.h"
#include "render.h"
#include "writer.h"
#include "banned.h"

typedef struct Tally {
        const Options *o;
        json_t *files;
        unsigned count[3];
        unsigned removed;
} Tally;

static void on_remove(const char *path, void *userdata) {
        Tally *t = userdata;
        t->removed++;
        if (t->files)
                json_array_append_new(t->files, json_pack("{s:s,s:s}", "path", path, "result", "removed"));
        else
                printf("  %sremoved %s\n", t->o->dry_run ? "would be " : "", path);
}

static void on_write(const RenderedFile *f, WriteResult res, void *userdata) {
        Tally *t = userdata;
        t->count[res]++;
        if (t->files)
                json_array_append_new(t->files, json_pack("{s:s,s:s}", "path", f->path, "result",
                                                          write_result_to_string(res)));
        else if (res != WRITE_UNCHANGED)
                printf("  %s%s %s\n", t->o->dry_run ? "would be " : "", write_result_to_string(res), f->path);
}

/* On the running machine (not under --root), the hostname just written to /etc/hostname, now. */
static int apply_hostname(const Options *o, const RenderSet *set) {
        const RenderedFile *f = render_set_find(set, "/etc/hostname");
        if (!f || o->dry_run || (o->root && !streq(o->root, "/")))
                return 0;
        _cleanup_free_ char *name = strndup(f->content, strcspn(f->content, "\n"));
        bool changed = false;
        int r = name ? hostname_apply(name, &changed) : -ENOMEM;
        if (r < 0)
                return log_error_errno(r, "cannot set the hostname to '%s': %m", strempty(name));
        if (changed && o->output == OUTPUT_TEXT)
                printf("  hostname set to %s\n", name);
        return 0;
}

int cmd_run_render(const Options *o, const Inventory *inv, const Node *node, const char *only) {
        return cmd_run_render_paths(o, inv, node, only, NULL, NULL);
}

/* The paths of the set, NULL-terminated. */
static int set_paths(const RenderSet *set, char ***ret, size_t *ret_n) {
        char **v = calloc(set->n + 1, sizeof(char *));
        for (size_t i = 0; v && i < set->n; i++)
                if (!(v[i] = strdup(set->files[i].path))) {
                        for (size_t j = 0; j < i; j++)
                                free(v[j]);
                        free(v);
                        v = NULL;
                }
        if (!v)
                return -ENOMEM;
        *ret = v;
        *ret_n = set->n;
        return 0;
}

int cmd_run_render_paths(const Options *o, const Inventory *inv, const Node *node, const char *only, char ***ret_paths,
                         size_t *ret_n) {
        RenderSet set = {};
        const char *failed_renderer = NULL;
        const RenderedFile *failed_file = NULL;
        Tally t = { .o = o, .files = o->output == OUTPUT_JSON ? json_array() : NULL };

        RenderOptions opts = { .network_backend = o->network_backend };
        ClusterIds ids = {};
        int r;
        if (o->secrets) {
                /* The bundle's Ceph fsid and Kafka cluster id, rather than ones derived from the inventory. */
                Bundle b = {};
                const char *missing = NULL;
                r = bundle_load(o->secrets, &b, &missing);
                if (r < 0) {
                        log_error_errno(r, "cannot load the secrets bundle %s%s%s: %m", o->secrets,
                                        missing ? ": " : "", missing ?: "");
                        goto finish;
                }
                snprintf(ids.ceph_fsid, sizeof(ids.ceph_fsid), "%s", b.ceph_fsid);
                snprintf(ids.kafka_cluster_id, sizeof(ids.kafka_cluster_id), "%s", b.kafka_cluster_id);
                bundle_done(&b);
                opts.ids = &ids;
        }
        r = render_node(inv, node, &opts, only, &set, &failed_renderer);
        if (r < 0) {
                log_error_errno(r, "cannot render %s for node '%s': %m", failed_renderer ?: only ?: "?", node->name);
                goto finish;
        }
        r = render_set_write(&set, o->root, o->dry_run, on_write, &t, &failed_file);
        if (r < 0) {
                /* Each file is written whole or not at all; those before this one are done. */
                log_error_errno(r, "cannot write %s: %m", failed_file ? failed_file->path : "?");
                goto finish;
        }
        /* Only after everything new is in place: what render no longer makes goes. */
        r = render_prune(&set, only, o->root, o->dry_run, on_remove, &t);
        if (r < 0) {
                log_error_errno(r, "cannot remove files rendered before and no longer wanted: %m");
                goto finish;
        }
        r = apply_hostname(o, &set);
        if (r < 0)
                goto finish;
        if (ret_paths && (r = set_paths(&set, ret_paths, ret_n)) < 0) {
                log_error_errno(r, "out of memory");
                goto finish;
        }

        if (t.files) {
                json_t *j = json_pack("{s:s,s:b,s:o}", "node", node->name, "dry_run", o->dry_run, "files", t.files);
                t.files = NULL;
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        } else
                printf("%s: %zu file%s: %u created, %u updated, %u unchanged, %u removed%s\n", node->name, set.n,
                       set.n == 1 ? "" : "s", t.count[WRITE_CREATED], t.count[WRITE_UPDATED],
                       t.count[WRITE_UNCHANGED], t.removed, o->dry_run ? " (dry run: nothing written)" : "");
finish:
        json_decref(t.files);
        render_set_done(&set);
        return r < 0 ? EXIT_FAILED : EXIT_DONE;
}

static int run(const Options *o, const Inventory *inv, const Node *node, const void *only) {
        return cmd_run_render(o, inv, node, only);
}

int cmd_render(int argc, char **argv, const Options *o) {
        return cmd_for_node(o, run, NULL);
}

int cmd_network(int argc, char **argv, const Options *o) {
        return cmd_for_node(o, run, "network");
}
