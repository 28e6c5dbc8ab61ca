/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "cmd.h"
#include "fs-util.h"
#include "inventory.h"
#include "join-record.h"
#include "log.h"
#include "paths.h"
#include "render.h"
#include "secret-formats.h"
#include "writer.h"
#include "banned.h"

static void on_write(const RenderedFile *f, WriteResult res, void *userdata) {
        const Options *o = userdata;
        /* Paths only: never content. */
        if (o->output == OUTPUT_TEXT)
                printf("  %s%s %s (%04o)\n", o->dry_run ? "would be " : "", write_result_to_string(res), f->path,
                       (unsigned) f->mode);
}

static int secrets_init(const Options *o) {
        if (!o->out) {
                log_error("secrets init needs --out DIR: the folder of the cluster's secrets bundle");
                return EXIT_USAGE;
        }
        if (o->root || o->node) {
                log_error("secrets init makes a bundle in --out DIR: it takes no --root or --node");
                return EXIT_USAGE;
        }

        Inventory *inv = NULL;
        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;

        Bundle b = {};
        RenderSet set = {};
        unsigned created = 0;
        const char *missing = NULL;
        const RenderedFile *failed = NULL;

        r = bundle_init(inv, o->out, o->rotate, &b, &set, &created, &missing);
        if (r == -ENOENT && missing)
                log_error("%s/%s is missing but the rest of its item is there; restore it, or replace the whole "
                          "item with --rotate",
                          o->out, missing);
        else if (r < 0)
                log_error_errno(r, "cannot make the secrets bundle in %s: %m", o->out);
        if (r >= 0) {
                /* The bundle holds every key of the cluster: nobody else may even list it. */
                r = o->dry_run ? 0 : mkdir_p(o->out, 0700);
                r = r ?: render_set_write(&set, NULL, o->dry_run, on_write, (void *) o, &failed);
                if (r < 0)
                        log_error_errno(r, "cannot write %s: %m", failed ? failed->path : o->out);
        }

        if (r >= 0 && o->output == OUTPUT_JSON) {
                json_t *files = json_array();
                for (size_t i = 0; i < set.n; i++)
                        json_array_append_new(files, json_string(set.files[i].path));
                json_t *j = json_pack("{s:s,s:I,s:o,s:b}", "bundle", o->out, "items_created", (json_int_t) created,
                                      "files_written", files, "dry_run", o->dry_run);
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        } else if (r >= 0)
                printf("secrets bundle %s: %u item%s created, %u kept%s\n", o->out, created, created == 1 ? "" : "s",
                       (unsigned) _BUNDLE_ITEM_MAX - created, o->dry_run ? " (dry run: nothing written)" : "");

        bundle_done(&b);
        render_set_done(&set);
        inventory_free(inv);
        return r < 0 ? EXIT_FAILED : EXIT_DONE;
}

#define ROTATE_TIMEOUT_MS 5000

/* secrets rotate join-secret, on a master: a new join secret, stored in etcd as the next version (compare
 * and swap: two rotations at once cannot both win), then into this master's bundle and image file, and its
 * join service restarted with it. The other nodes take it at their next sync. */
static int rotate_join_secret(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        CmdEtcd etcd = {};
        RenderSet set = {};
        const RenderedFile *failed = NULL;
        _cleanup_secret_free_ char *secret = NULL, *record = NULL, *old = NULL;
        int64_t version, revision;
        if (!node->roles[ROLE_MASTER]) {
                log_error("node '%s' is no master: the join secret is rotated on a master, which stores it in the "
                          "cluster's etcd", node->name);
                return EXIT_FAILED;
        }
        if (cmd_etcd_access(o, inv, node, &etcd) < 0) {
                log_error("master '%s' has no etcd client certificate yet (%s): run this once it has bootstrapped",
                          node->name, PKI_DIR "/apiserver-etcd-client.crt");
                return EXIT_FAILED;
        }
        const JoinEtcd e = { (const char *const *) etcd.endpoints, etcd.n, &etcd.tls, ROTATE_TIMEOUT_MS };
        int r = join_record_secret_get(&e, &version, &old, &revision);
        if (r >= 0 && version == INT64_MAX)
                r = -EOVERFLOW;
        if (r == -EBADMSG)
                log_error("%s in etcd is not a join secret clusterboot stored; nothing changed", JOIN_SECRET_KEY);
        else if (r < 0)
                log_error_errno(r, "cannot read the join secret from etcd (%s first): %m", etcd.endpoints[0]);
        r = r ?: join_secret_generate(&secret);
        if (r >= 0 && !(record = join_secret_record_format(version + 1, secret)))
                r = -ENOMEM;
        if (r >= 0 && !o->dry_run) {
                const char *keys[] = { JOIN_SECRET_KEY }, *values[] = { record };
                r = etcd_put_if(e.endpoints, e.n_endpoints, e.tls, e.timeout_ms, JOIN_SECRET_KEY, revision, keys,
                                values, 1);
                if (r == -ESTALE)
                        log_error("another rotation stored a join secret meanwhile; nothing changed here: run this "
                                  "again");
                else if (r < 0)
                        log_error_errno(r, "cannot store the join secret in etcd: %m");
        }
        /* From here the cluster runs the new one: this master's files follow, as its sync would make them. */
        r = r ?: cmd_join_secret_files(o, secret, version + 1, &set);
        r = r ?: render_set_write(&set, o->root, o->dry_run, NULL, NULL, &failed);
        if (r < 0 && failed)
                log_error_errno(r, "cannot write %s: %m (the next sync writes it)", failed->path);
        if (r >= 0 && !o->root && !o->dry_run) {
                const char *paths[] = { SECRETS_BUNDLE_DIR "/join-secret" }, *units[] = { "clusterboot-join.service" };
                r = cmd_restart_readers(o, paths, 1, units, 1, NULL);
        }
        if (r >= 0 && o->output == OUTPUT_JSON) {
                json_t *files = json_array();
                for (size_t i = 0; i < set.n; i++)
                        json_array_append_new(files, json_string(set.files[i].path));
                json_t *j = json_pack("{s:s,s:I,s:o,s:b}", "node", node->name, "join_secret_version",
                                      (json_int_t) (version + 1), "files", files, "dry_run", o->dry_run);
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        } else if (r >= 0) {
                printf("%s join secret version %" PRId64 " in the cluster's etcd (it had %s%" PRId64 ")%s\n",
                       o->dry_run ? "would store" : "stored", version + 1, version ? "version " : "the bundle's, version ",
                       version, o->dry_run ? " (dry run: nothing written)" : "");
                for (size_t i = 0; i < set.n; i++)
                        printf("  %s%s (%04o)\n", o->dry_run ? "would write " : "", set.files[i].path,
                               (unsigned) set.files[i].mode);
                printf("Every other node takes it at its next sync (within about a quarter of an hour, or run "
                       "'clusterboot sync' there); each master's join service restarts with it.\n"
                       "Machines that boot an image built before can no longer join: build the image again with "
                       "the bundle's new join-secret (copy %s from a master into your --secrets DIR).\n",
                       SECRETS_BUNDLE_DIR "/join-secret");
        }
        render_set_wipe(&set);
        cmd_etcd_done(&etcd);
        return r == -EAGAIN ? EXIT_TEMPFAIL : r < 0 ? EXIT_FAILED : EXIT_DONE;
}

int cmd_secrets(int argc, char **argv, const Options *o) {
        if (streq(argv[0], "init") && argc == 1)
                return secrets_init(o);
        if (streq(argv[0], "rotate") && argc == 2 && streq(argv[1], "join-secret"))
                return cmd_for_node(o, rotate_join_secret, NULL);
        if (streq(argv[0], "rotate")) {
                log_error("secrets rotate %s: only the join secret is rotated in a running cluster ('secrets rotate "
                          "join-secret'); the rest with 'secrets init --rotate ITEM' and a reinstall",
                          argc == 2 ? argv[1] : "needs an item");
                return EXIT_USAGE;
        }
        log_error("unknown secrets command '%s'%s; the ones there are: init, rotate join-secret", argv[0],
                  argc > 1 ? " (or too many arguments)" : "");
        return EXIT_USAGE;
}
