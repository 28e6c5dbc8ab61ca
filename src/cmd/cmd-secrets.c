/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "cmd.h"
#include "fs-util.h"
#include "inventory.h"
#include "log.h"
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

int cmd_secrets(int argc, char **argv, const Options *o) {
        if (streq(argv[0], "init"))
                return secrets_init(o);
        log_error("unknown secrets command '%s'; the one there is: init", argv[0]);
        return EXIT_USAGE;
}
