/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "cmd.h"
#include "components.h"
#include "image-build.h"
#include "inventory.h"
#include "log.h"
#include "string-util.h"
#include "banned.h"

#define DEFAULT_MIRROR "http://deb.debian.org/debian"

/* One line per step as it ends, with its time; the step's name first, so that a slow step is visible while
 * it runs. Text goes to stdout, or to stderr when stdout carries the JSON. */
static void on_progress(unsigned index, unsigned total, const char *step, bool done, double seconds, const char *note,
                        void *userdata) {
        FILE *f = userdata;
        if (!done)
                fprintf(f, "[%u/%u] %-10s ...", index, total, step);
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

/* The components the image carries: what its roles run, less --without. Each must be in the components
 * folder at the lock's version (its digest is checked by the build); refused here, before any debootstrap. */
static int choose_components(const Options *o, const Inventory *inv, const Lock *l, const char *dir,
                             bool ret[static _COMPONENT_MAX]) {
        image_components(inv, ret);
        for (const char *p = o->without; p && *p;) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *name = strndup(p, n);
                if (!name)
                        return log_error("out of memory"), EXIT_FAILED;
                Component c = component_from_string(name);
                if (c < 0) {
                        log_error("--without %s: there is no component '%s' ('clusterboot binaries list' lists them)",
                                  o->without, name);
                        return EXIT_USAGE;
                }
                ret[c] = false;
                p += n + (p[n] == ',');
        }
        _cleanup_free_ char *mismatch = image_components_mismatch(inv, l, ret);
        if (mismatch) {
                log_error("%s: an image carries the locked version (or name another lock with --lock FILE)", mismatch);
                return EXIT_FAILED;
        }
        StrBuf missing = {}, names = {};
        for (Component c = 0; c < _COMPONENT_MAX; c++) {
                if (!ret[c])
                        continue;
                _cleanup_free_ char *payload = component_payload(l, c, dir);
                if (payload && access(payload, F_OK) >= 0)
                        continue;
                (void) strbuf_printf(&missing, "%s%s %s", missing.len ? ", " : "", component_info(c)->name,
                                     strempty(lock_version(l, c)));
                (void) strbuf_printf(&names, "%s%s", names.len ? "," : "", component_info(c)->name);
        }
        if (missing.len)
                log_error("the image needs components that %s lacks: %s. Fetch them once with 'clusterboot binaries "
                          "fetch --inventory %s --components %s' (Kubernetes takes about 20 minutes), or build "
                          "without them: --without %s (their services are then skipped on the machines)",
                          dir, missing.s, o->inventory, dir, names.s);
        bool ok = missing.len == 0;
        strbuf_done(&missing);
        strbuf_done(&names);
        return ok ? EXIT_DONE : EXIT_FAILED;
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
        if (r < 0) {
                log_error("--format takes a list of disk, iso, netboot and tree, not '%s'", bad);
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
        Lock lock = {};
        _cleanup_free_ char *components = cmd_components_dir(o);
        ImageBuildOptions bo = {};
        r = components ? cmd_load_lock(o, &lock, NULL) : EXIT_FAILED;
        r = r != EXIT_DONE ? r : choose_components(o, inv, &lock, components, bo.with_component);
        if (r != EXIT_DONE) {
                lock_done(&lock);
                inventory_free(inv);
                return r;
        }
        Bundle bundle = {};
        const char *missing = NULL;
        r = bundle_load(o->secrets, &bundle, &missing);
        bundle_done(&bundle);
        _cleanup_free_ char *tools = NULL;
        if (r < 0)
                log_error_errno(r, "%s is not a whole secrets bundle%s%s: %m", o->secrets, missing ? ": " : "",
                                missing ?: "");
        else if (geteuid() != 0)
                log_error("image build needs root: debootstrap and chroot run as root, and the tree keeps its owners");
        else if ((tools = image_missing_tools(formats)))
                log_error("image build needs tools this machine lacks: %s. Install them (scripts/setup-deps.sh does)",
                          tools);
        if (r < 0 || geteuid() != 0 || tools) {
                lock_done(&lock);
                inventory_free(inv);
                return EXIT_FAILED;
        }

        bo.inventory = o->inventory;
        bo.out = o->out;
        bo.cache = o->cache ?: DEFAULT_CACHE;
        bo.mirror = o->mirror ?: DEFAULT_MIRROR;
        bo.formats = formats;
        /* Not its path: the file may have been replaced (a rebuild) while this runs. A child exec()s its
         * parent's program through it. */
        bo.self = "/proc/self/exe";
        bo.secrets = o->secrets;
        bo.embedded = o->embedded;
        bo.source_date_epoch = epoch;
        bo.lock = &lock;
        bo.components = components;
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
        lock_done(&lock);
        inventory_free(inv);
        return r < 0 ? EXIT_FAILED : EXIT_DONE;
}

int cmd_image(int argc, char **argv, const Options *o) {
        if (streq(argv[0], "build"))
                return image_build_cmd(o);
        log_error("unknown image command '%s'; the one there is: build", argv[0]);
        return EXIT_USAGE;
}
