/* SPDX-License-Identifier: Apache-2.0 */
/* Puts clusterboot into a tree that becomes an image: the binary, its systemd units, the inventory, and the
 * two services enabled that make first boot happen. Every file goes through the same atomic, idempotent
 * writer as rendered configuration, so installing twice changes nothing. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sys/stat.h>

#include "activate.h"
#include "bundle.h"
#include "cmd.h"
#include "embedded-files.h"
#include "fileio.h"
#include "fs-util.h"
#include "inventory.h"
#include "log.h"
#include "paths.h"
#include "render.h"
#include "secret-formats.h"
#include "string-util.h"
#include "writer.h"
#include "banned.h"

#define BINARY_PATH "/usr/bin/clusterboot"

static int add_copy(RenderSet *set, const char *path, mode_t mode, const char *data, size_t size) {
        StrBuf b = {};
        int r = strbuf_appendn(&b, data, size);
        r = r ?: render_set_add(set, path, mode, &b);
        strbuf_done(&b);
        return r;
}

static int collect(const Inventory *inv, RenderSet *set) {
        _cleanup_free_ char *self = NULL;
        size_t size;
        int r = read_full_file("/proc/self/exe", 256u * 1024u * 1024u, &self, &size);
        if (r < 0)
                return log_error_errno(r, "cannot read this program (/proc/self/exe): %m");
        r = add_copy(set, BINARY_PATH, 0755, self, size);

        for (size_t i = 0; r >= 0 && i < n_embedded_files; i++)
                r = add_copy(set, embedded_files[i].path, embedded_files[i].mode, embedded_files[i].content,
                             embedded_files[i].size);

        /* The inventory as it was validated, from memory: what is installed is what was checked. */
        r = r ?: cmd_inventory_files(inv, set);
        if (r < 0)
                return log_error_errno(r, "cannot collect the files to install: %m");
        return 0;
}

static void on_write(const RenderedFile *f, WriteResult res, void *userdata) {
        const Options *o = userdata;
        if (res != WRITE_UNCHANGED)
                printf("  %s%s %s\n", o->dry_run ? "would be " : "", write_result_to_string(res), f->path);
}

/* Without a bundle: the join secret the image has already (installing again changes nothing), or a new one.
 * The first master makes the cluster's bundle around it at its first boot. */
static int keep_or_make_join_secret(const Options *o, RenderSet *set) {
        _cleanup_free_ char *path = path_join_root(o->root, JOIN_SECRET_PATH);
        char *secret = NULL;
        int r = path ? join_secret_read(path, &secret) : -ENOMEM;
        if (r == -EBADMSG || (r >= 0 && strlen(secret) < 32))
                r = -EINVAL;
        else if (r == -ENOENT)
                r = random_string("0123456789abcdef", 64, &secret);
        if (r == -EINVAL)
                log_error("%s in the image is not a join secret (one line of 32 characters or more); remove it to make a new one",
                          JOIN_SECRET_PATH);
        else if (r < 0)
                log_error_errno(r, "cannot read or make the join secret %s: %m", JOIN_SECRET_PATH);
        r = r ?: cmd_add_join_secret(set, JOIN_SECRET_PATH, secret);
        secret_free(secret);
        return r;
}

/* ROOT/etc/systemd/system/multi-user.target.wants/UNIT links to our copy of UNIT, not a package's. */
static bool link_to_ours(const char *root, const char *unit) {
        _cleanup_free_ char *rel = strprintf(SYSTEMD_ADMIN_DIR "/multi-user.target.wants/%s", unit);
        _cleanup_free_ char *link = rel ? path_join_root(root, rel) : NULL;
        _cleanup_free_ char *ours = strprintf(UNIT_INSTALL_DIR "/%s", unit);
        return link && ours && link_is(link, ours);
}

int cmd_install(int argc, char **argv, const Options *o) {
        if (o->embedded && !o->secrets) {
                log_error("--secret-policy embedded puts the secrets bundle into the image: give it with --secrets DIR "
                          "(made by 'clusterboot secrets init')");
                return EXIT_USAGE;
        }
        if (!o->root) {
                log_error("install needs --root DIR: it fills a tree that becomes an image");
                return EXIT_USAGE;
        }
        if (!o->inventory_set) {
                log_error("install needs --inventory DIR: the inventory to put into the image");
                return EXIT_USAGE;
        }

        Inventory *inv = NULL;
        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;

        RenderSet set = {};
        const RenderedFile *failed = NULL;
        r = collect(inv, &set);
        if (r >= 0 && o->secrets) {
                /* Check it is a whole bundle before putting it (or its join secret) into an image. */
                Bundle b = {};
                const char *missing = NULL;
                r = bundle_load(o->secrets, &b, &missing);
                if (r < 0)
                        log_error_errno(r, "%s is not a whole secrets bundle%s%s: %m", o->secrets,
                                        missing ? ": " : "", missing ?: "");
                else if (o->embedded && (r = bundle_collect(o->secrets, SECRETS_BUNDLE_DIR, &set)) < 0)
                        log_error_errno(r, "cannot read the secrets bundle %s: %m", o->secrets);
                else if (!o->embedded)
                        r = cmd_add_join_secret(&set, JOIN_SECRET_PATH, b.join_secret);
                bundle_done(&b);
        } else if (r >= 0)
                r = keep_or_make_join_secret(o, &set);
        if (r >= 0)
                render_set_sort(&set);
        if (r >= 0 && o->secrets && o->embedded && !o->dry_run) {
                /* Not even listable by others. */
                _cleanup_free_ char *dir = path_join_root(o->root, SECRETS_BUNDLE_DIR);
                r = dir ? mkdir_p(dir, 0700) : -ENOMEM;
                if (r >= 0 && chmod(dir, 0700) < 0)
                        r = -errno;
                if (r < 0)
                        log_error_errno(r, "cannot make %s: %m", SECRETS_BUNDLE_DIR);
        }
        if (r >= 0) {
                r = render_set_write(&set, o->root, o->dry_run, on_write, (void *) o, &failed);
                if (r < 0)
                        log_error_errno(r, "cannot write %s: %m", failed ? failed->path : "?");
                else if ((r = cmd_remove_stale_inventory(o, &set)) < 0)
                        log_error_errno(r, "cannot remove inventory files the source no longer has: %m");
        }

        static const UnitLink services[] = {
                { "cluster-detect.service", "multi-user.target", "cluster-detect.service", true },
                { "cluster-bootstrap.service", "multi-user.target", "cluster-bootstrap.service", true },
                { "clusterboot-renew.timer", "timers.target", "clusterboot-renew.timer", true },
                { "clusterboot-sync.timer", "timers.target", "clusterboot-sync.timer", true },
        };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(services); i++) {
                ActivateChange change;
                r = unit_link_offline(o->root, services + i, o->dry_run, &change);
                if (r < 0)
                        log_error_errno(r, "cannot enable %s: %m", services[i].unit);
                else if (change == ACTIVATE_ENABLED)
                        printf("  %senabled %s\n", o->dry_run ? "would be " : "", services[i].unit);
        }

        /* Distribution packages enable their own etcd.service, containerd.service, mosquitto.service...:
         * under those names our units would then start on every node, outside the role targets. Only the
         * targets of a node's roles may pull them in (activate links a node's own on each boot). Debian's
         * Ceph packages also enable ceph.target, which wants ceph-mon.target (one of ours) and ceph-crash
         * on every node. */
        static const struct {
                const char *unit, *wanted_by;
        } package_links[] = {
                { "ceph.target", "multi-user.target" },
                { "ceph-mgr.target", "multi-user.target" },
                { "ceph-crash.service", "multi-user.target" },
                { "ceph-mon.target", "ceph.target" },
                { "ceph-mgr.target", "ceph.target" },
                { "ceph-osd.target", "ceph.target" },
                { "ceph-crash.service", "ceph.target" },
        };
        size_t n_links = n_embedded_files + ELEMENTSOF(package_links);
        for (size_t i = 0; r >= 0 && i < n_links; i++) {
                UnitLink l = { .want = false };
                if (i < n_embedded_files) {
                        const char *name = strrchr(embedded_files[i].path, '/') + 1;
                        if (!(endswith(name, ".service") || endswith(name, ".target")) || startswith(name, "cluster-") ||
                            strchr(name, '@'))
                                continue;
                        snprintf(l.unit, sizeof(l.unit), "%s", name);
                        snprintf(l.wanted_by, sizeof(l.wanted_by), "multi-user.target");
                        /* A role target that activate linked (to our copy) stays: install may run again. */
                        if (endswith(name, ".target") && link_to_ours(o->root, name))
                                continue;
                } else {
                        snprintf(l.unit, sizeof(l.unit), "%s", package_links[i - n_embedded_files].unit);
                        snprintf(l.wanted_by, sizeof(l.wanted_by), "%s", package_links[i - n_embedded_files].wanted_by);
                }
                snprintf(l.file, sizeof(l.file), "%s", l.unit);
                ActivateChange change;
                r = unit_link_offline(o->root, &l, o->dry_run, &change);
                if (r < 0)
                        log_error_errno(r, "cannot disable %s: %m", l.unit);
                else if (change == ACTIVATE_DISABLED)
                        printf("  %sdisabled %s in %s (enabled by its package; the role targets start what a node "
                               "needs)\n", o->dry_run ? "would be " : "", l.unit, l.wanted_by);
        }

        if (r >= 0)
                printf("installed clusterboot, %zu unit and sysusers.d files and the inventory of cluster '%s' "
                       "(%zu nodes) into %s; secret policy %s%s\n",
                       n_embedded_files, inv->cluster.name.v, inv->n_nodes, o->root,
                       o->embedded ? "embedded (the whole bundle)" : "join (the join secret only)",
                       o->dry_run ? " (dry run: nothing written)" : "");
        render_set_done(&set);
        inventory_free(inv);
        return r < 0 ? EXIT_FAILED : EXIT_DONE;
}
