/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "cmd.h"
#include "image-build.h"
#include "inventory.h"
#include "log.h"
#include "string-util.h"
#include "banned.h"

#define DEFAULT_CACHE "/var/cache/clusterboot"
#define DEFAULT_MIRROR "http://deb.debian.org/debian"

/* One line per step as it ends, with its time; the step's name first, so that a slow step is visible while
 * it runs. Text goes to stdout, or to stderr when stdout carries the JSON. */
static void on_progress(unsigned index, unsigned total, const char *step, bool done, double seconds, const char *note,
                        void *userdata) {
        FILE *f = userdata;
        if (!done)
                fprintf(f, "[%u/%u] %-9s ...", index, total, step);
        else
                fprintf(f, " %.1f s%s%s\n", seconds, note ? "  " : "", note ?: "");
        fflush(f);
}

static int parse_epoch(int64_t *ret) {
        const char *s = getenv("SOURCE_DATE_EPOCH");
        *ret = -1;
        if (!s || !*s)
                return 0;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end || v < 0) {
                log_error("SOURCE_DATE_EPOCH must be seconds since 1970, not '%s'", s);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

static int image_build_cmd(const Options *o) {
        if (!o->inventory_set) {
                log_error("image build needs --inventory DIR: the inventory the image carries");
                return EXIT_USAGE;
        }
        if (!o->out) {
                log_error("image build needs --out DIR: the folder for disk.raw, netboot/ and the manifest");
                return EXIT_USAGE;
        }
        if (!o->secrets) {
                log_error("image build needs --secrets DIR: every image of a cluster must carry the same join secret "
                          "(with --secret-policy embedded, the same bundle). Make the bundle once with 'clusterboot "
                          "secrets init --inventory %s --out DIR' and keep it",
                          o->inventory);
                return EXIT_USAGE;
        }
        unsigned formats = IMAGE_FORMATS_DEFAULT;
        const char *bad = NULL;
        int r = o->format ? image_formats_parse(o->format, &formats, &bad) : 0;
        if (r == -EOPNOTSUPP) {
                log_error("--format %s: this version does not build '%s' yet; it builds disk and netboot", o->format, bad);
                return EXIT_USAGE;
        }
        if (r < 0) {
                log_error("--format takes a list of disk, netboot and tree, not '%s'", bad);
                return EXIT_USAGE;
        }
        int64_t epoch;
        if (parse_epoch(&epoch) < 0)
                return EXIT_USAGE;

        /* The inventory and the bundle first: bad input changes nothing, and costs no debootstrap. */
        Inventory *inv = NULL;
        r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;
        Bundle bundle = {};
        const char *missing = NULL;
        r = bundle_load(o->secrets, &bundle, &missing);
        bundle_done(&bundle);
        if (r < 0) {
                log_error_errno(r, "%s is not a whole secrets bundle%s%s: %m", o->secrets, missing ? ": " : "",
                                missing ?: "");
                inventory_free(inv);
                return EXIT_FAILED;
        }
        if (geteuid() != 0) {
                log_error("image build needs root: debootstrap and chroot run as root, and the tree keeps its owners");
                inventory_free(inv);
                return EXIT_FAILED;
        }
        _cleanup_free_ char *tools = image_missing_tools(formats);
        if (tools) {
                log_error("image build needs tools this machine lacks: %s. Install them (scripts/setup-deps.sh does)",
                          tools);
                inventory_free(inv);
                return EXIT_FAILED;
        }

        ImageBuildOptions bo = {
                .inventory = o->inventory,
                .out = o->out,
                .cache = o->cache ?: DEFAULT_CACHE,
                .mirror = o->mirror ?: DEFAULT_MIRROR,
                .formats = formats,
                /* Not its path: the file may have been replaced (a rebuild) while this runs. A child
                 * exec()s its parent's program through it. */
                .self = "/proc/self/exe",
                .secrets = o->secrets,
                .embedded = o->embedded,
                .source_date_epoch = epoch,
        };
        FILE *progress = o->output == OUTPUT_JSON ? stderr : stdout;
        fprintf(progress, "building the image of cluster '%s' (%zu nodes) into %s\n", inv->cluster.name.v,
                inv->n_nodes, o->out);
        ImageError err = {};
        r = image_build(inv, &bo, on_progress, progress, &err);
        if (r < 0) {
                if (err.step && !streq(err.step, "setup"))
                        fprintf(progress, " failed\n"); /* ends the step's progress line */
                log_error("image build: step %s: %s", err.step ?: "?", err.what ?: "failed");
                if (err.output) {
                        fprintf(stderr, "  its last lines:\n");
                        for (const char *p = err.output; *p;) {
                                size_t len = strcspn(p, "\n");
                                fprintf(stderr, "    %.*s\n", (int) len, p);
                                p += len + (p[len] == '\n');
                        }
                }
                if (err.hint)
                        fprintf(stderr, "  hint: %s\n", err.hint);
                fprintf(stderr, "  nothing in %s was changed\n", o->out);
        } else if (o->output == OUTPUT_JSON) {
                _cleanup_free_ char *manifest = strprintf("%s/manifest.json", o->out);
                FILE *f = manifest ? fopen(manifest, "re") : NULL;
                char buf[65536];
                size_t k;
                while (f && (k = fread(buf, 1, sizeof(buf), f)) > 0)
                        fwrite(buf, 1, k, stdout);
                if (f)
                        fclose(f);
        } else
                printf("built: %s/SHA256SUMS lists every output (check them with 'sha256sum -c SHA256SUMS' there)\n",
                       o->out);
        image_error_done(&err);
        inventory_free(inv);
        return r < 0 ? EXIT_FAILED : EXIT_DONE;
}

int cmd_image(int argc, char **argv, const Options *o) {
        if (streq(argv[0], "build"))
                return image_build_cmd(o);
        log_error("unknown image command '%s'; the one there is: build", argv[0]);
        return EXIT_USAGE;
}
