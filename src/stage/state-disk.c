/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "process.h"
#include "state-disk.h"
#include "string-util.h"
#include "banned.h"

#define MKFS_EXT4 "/sbin/mkfs.ext4"
#define CP "/bin/cp"

/* What a node cannot make again: its certificates and keys (and the services' that keep theirs next to their
 * configuration), the bootstrap's progress, the services' data. Configuration rendered from the inventory is
 * not here: every boot renders it again, from the image's inventory. */
const char *const state_disk_paths[] = {
        KUBERNETES_DIR,
        CEPH_CONFIG_DIR,
        KAFKA_CONFIG_DIR,
        MOSQUITTO_CONFIG_DIR,
        COREDNS_CONFIG_DIR,
        STATE_DIR,
        ETCD_DATA_DIR,
        KUBELET_DIR,
        CEPH_DATA_DIR,
        KAFKA_DATA_DIR,
        MOSQUITTO_DATA_DIR,
        "/var/lib/containerd",
};
const size_t state_disk_n_paths = ELEMENTSOF(state_disk_paths);

void state_disk_probe_done(StateDiskProbe *p) {
        disk_content_done(&p->content);
        free(p->cluster);
        free(p->node);
        free(p->created);
        *p = (StateDiskProbe){};
}

void state_disk_result_done(StateDiskResult *r) {
        free(r->created);
        *r = (StateDiskResult){};
}

int state_disk_parse_marker(const char *text, StateDiskProbe *p) {
        json_t *j = json_loads(text, 0, NULL);
        const char *cluster = NULL, *node = NULL, *created = NULL;
        int r = j && json_unpack(j, "{s:s,s:s,s:s}", "cluster", &cluster, "node", &node, "created", &created) == 0 &&
                                *cluster && *node
                        ? 0
                        : -EINVAL;
        if (r == 0) {
                free(p->cluster);
                free(p->node);
                free(p->created);
                p->cluster = strdup(cluster);
                p->node = strdup(node);
                p->created = strdup(created);
                p->marked = p->cluster && p->node && p->created;
                r = p->marked ? 0 : -ENOMEM;
        }
        json_decref(j);
        return r;
}

char *state_disk_format_marker(const char *cluster, const char *node, const char *created) {
        json_t *j = json_pack("{s:s,s:s,s:s}", "cluster", cluster, "node", node, "created", created);
        char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        char *text = s ? strprintf("%s\n", s) : NULL;
        free(s);
        return text;
}

StateDiskAction state_disk_decide(const StateDiskProbe *p, const char *cluster, const char *node, char **ret_why) {
        *ret_why = NULL;
        const char *type = p->content.type;
        if (p->content.blank)
                return STATE_DISK_FORMAT;
        if (!streq_ptr(type, "ext4"))
                *ret_why = strprintf("it holds %s, which clusterboot did not make", type ? type : "data of an unknown kind");
        else if (!p->marked)
                *ret_why = strprintf("it holds an ext4 file system without clusterboot's marker (%s)", STATE_DISK_MARKER);
        else if (!streq(p->cluster, cluster))
                *ret_why = strprintf("it holds the state of node %s of another cluster, %s (made %s)", p->node, p->cluster,
                                     p->created);
        else if (!streq(p->node, node))
                *ret_why = strprintf("it holds the state of another node of this cluster, %s (made %s)", p->node,
                                     p->created);
        else
                return STATE_DISK_USE;
        if (!*ret_why)
                *ret_why = strdup("out of memory");
        return STATE_DISK_REFUSE;
}

static int fail(char **ret_why, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_why, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        str_set_vprintf(ret_why, fmt, ap);
        va_end(ap);
        return r;
}

static int read_marker(const char *mnt, StateDiskProbe *p) {
        _cleanup_free_ char *path = strprintf("%s/%s", mnt, STATE_DISK_MARKER), *text = NULL;
        size_t size;
        if (!path)
                return -ENOMEM;
        int r = read_full_file(path, 4096, &text, &size);
        if (r == -ENOENT)
                return 0; /* not marked */
        return r < 0 ? r : state_disk_parse_marker(text, p) == -ENOMEM ? -ENOMEM : 0;
}

/* The device's mounted at mnt already (an earlier run of this boot). */
static bool mounted_at(const char *device, const char *mnt) {
        struct stat d, m;
        return stat(device, &d) == 0 && S_ISBLK(d.st_mode) && stat(mnt, &m) == 0 && m.st_dev == d.st_rdev;
}

/* src is bind-mounted at dst already: the same inode. */
static bool same_inode(const char *a, const char *b) {
        struct stat x, y;
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static int wait_for(const char *device, unsigned seconds) {
        struct stat st;
        for (unsigned i = 0;; i++) {
                if (stat(device, &st) == 0)
                        return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
                if (errno != ENOENT || i >= seconds)
                        return -errno;
                sleep(1);
        }
}

/* The disk's copy of the root's directory rel: made on its first use, from the root's content. */
static int seed(const char *root_dir, const char *disk_dir, bool *ret_seeded, char **ret_why) {
        struct stat st;
        *ret_seeded = false;
        if (stat(disk_dir, &st) == 0)
                return S_ISDIR(st.st_mode) ? 0 : fail(ret_why, -ENOTDIR, "%s on the state disk is not a directory", disk_dir);
        _cleanup_free_ char *tmp = strprintf("%s.new", disk_dir);
        if (!tmp)
                return -ENOMEM;
        int r = rm_rf(tmp); /* a run that died while copying */
        r = r ?: mkdir_parents(tmp, 0755);
        if (r < 0)
                return fail(ret_why, r, "cannot make %s: %s", tmp, strerror(-r));
        if (stat(root_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *output = NULL;
                char *argv[] = { CP, "-a", "-T", (char *) root_dir, tmp, NULL };
                int status = run_program(argv, &output);
                if (status != 0)
                        return fail(ret_why, status < 0 ? status : -EIO, "cannot copy %s onto the state disk: %s",
                                    root_dir, status < 0 ? strerror(-status) : output_last_line(output));
        } else if (mkdir(tmp, 0755) < 0)
                return fail(ret_why, -errno, "cannot make %s: %s", tmp, strerror(errno));
        /* On the disk before its name: a power cut leaves the copy whole, or the .new that the next boot
         * makes again. */
        int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || syncfs(fd) < 0) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                return fail(ret_why, r, "cannot sync %s: %s", tmp, strerror(-r));
        }
        close(fd);
        _cleanup_free_ char *parent = strdup(disk_dir);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (!slash)
                return -ENOMEM;
        *slash = 0;
        if (rename(tmp, disk_dir) < 0)
                return fail(ret_why, -errno, "cannot rename %s: %s", tmp, strerror(errno));
        r = fsync_directory(parent);
        if (r < 0)
                return fail(ret_why, r, "cannot sync %s: %s", parent, strerror(-r));
        *ret_seeded = true;
        return 0;
}

static int bind_all(const char *root, const char *mnt, StateDiskResult *res, char **ret_why) {
        for (size_t i = 0; i < state_disk_n_paths; i++) {
                _cleanup_free_ char *src = strprintf("%s%s", mnt, state_disk_paths[i]);
                _cleanup_free_ char *dst = path_join_root(root, state_disk_paths[i]);
                if (!src || !dst)
                        return -ENOMEM;
                if (same_inode(src, dst))
                        continue; /* an earlier run */
                bool seeded;
                int r = seed(dst, src, &seeded, ret_why);
                if (r < 0)
                        return r;
                res->n_seeded += seeded;
                r = mkdir_p(dst, 0755);
                if (r < 0)
                        return fail(ret_why, r, "cannot make %s: %s", dst, strerror(-r));
                if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                        return fail(ret_why, -errno, "cannot bind-mount %s over %s: %s", src, dst, strerror(errno));
        }
        return 0;
}

static int format(const char *device, char **ret_why) {
        _cleanup_free_ char *output = NULL;
        char *argv[] = { MKFS_EXT4, "-q", "-L", STATE_DISK_LABEL, "-m", "0", "-E", "root_owner=0:0", (char *) device, NULL };
        int status = run_program(argv, &output);
        if (status != 0)
                return fail(ret_why, status < 0 ? status : -EIO, "%s %s failed: %s", MKFS_EXT4, device,
                            status < 0 ? strerror(-status) : output_last_line(output));
        return 0;
}

static int write_marker(const char *mnt, const char *cluster, const char *node, char **ret_created, char **ret_why) {
        char created[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        _cleanup_free_ char *text = state_disk_format_marker(cluster, node, created);
        _cleanup_free_ char *path = strprintf("%s/%s", mnt, STATE_DISK_MARKER);
        if (!text || !path || !(*ret_created = strdup(created)))
                return -ENOMEM;
        int r = write_file_atomic(path, text, strlen(text), 0644);
        return r < 0 ? fail(ret_why, r, "cannot write %s: %s", path, strerror(-r)) : 0;
}

int state_disk_setup(const char *root, const char *device, const char *cluster, const char *node,
                     unsigned wait_seconds, StateDiskResult *ret, char **ret_why) {
        _cleanup_free_ char *mnt = path_join_root(root, STATE_DISK_MOUNT), *why = NULL;
        StateDiskProbe p = {};
        StateDiskResult res = {};
        *ret_why = NULL;
        if (!mnt)
                return -ENOMEM;

        int r = wait_for(device, wait_seconds);
        if (r == -ENOENT)
                return fail(ret_why, r, "%s does not exist (waited %u s)", device, wait_seconds);
        if (r < 0)
                return fail(ret_why, r, "%s is not a block device: %s", device, strerror(-r));
        r = mkdir_p(mnt, 0700);
        if (r < 0)
                return fail(ret_why, r, "cannot make %s: %s", mnt, strerror(-r));

        if (mounted_at(device, mnt)) {
                res.was_mounted = true;
                r = read_marker(mnt, &p);
                p.content.type = strdup("ext4");
                r = r ?: p.content.type ? 0 : -ENOMEM;
        } else {
                r = disk_probe(device, &p.content, ret_why);
                /* An ext4 is looked into read-only first: the marker says whose it is. (A read-only mount still
                 * replays a journal left by a power cut, as any mount would: what the file system holds stays.) */
                if (r >= 0 && streq_ptr(p.content.type, "ext4")) {
                        if (mount(device, mnt, "ext4", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                                r = fail(ret_why, -errno, "cannot mount %s (ext4) read-only: %s", device, strerror(errno));
                        else
                                r = read_marker(mnt, &p);
                }
        }
        if (r < 0)
                goto out;

        StateDiskAction action = state_disk_decide(&p, cluster, node, &why);
        log_debug("state disk %s: %s%s%s%s; %s", device, res.was_mounted ? "mounted by an earlier run, " : "",
                  p.content.blank ? "blank" : strempty(p.content.type),
                  p.marked ? ", marked for node " : "", p.marked ? p.node : "",
                  action == STATE_DISK_FORMAT ? "formatting it" : action == STATE_DISK_USE ? "using it" : "refusing it");
        switch (action) {
        case STATE_DISK_REFUSE:
                if (!res.was_mounted)
                        (void) umount2(mnt, 0);
                r = fail(ret_why, -EEXIST, "%s", why);
                goto out;
        case STATE_DISK_FORMAT:
                r = format(device, ret_why);
                if (r >= 0 && mount(device, mnt, "ext4", MS_NOSUID | MS_NODEV, NULL) < 0)
                        r = fail(ret_why, -errno, "cannot mount %s, just made: %s", device, strerror(errno));
                r = r ?: write_marker(mnt, cluster, node, &res.created, ret_why);
                res.formatted = r >= 0;
                break;
        case STATE_DISK_USE:
                if (!res.was_mounted && mount(device, mnt, "ext4", MS_REMOUNT | MS_NOSUID | MS_NODEV, NULL) < 0)
                        r = fail(ret_why, -errno, "cannot mount %s read-write: %s", device, strerror(errno));
                res.created = p.created;
                p.created = NULL;
                break;
        }
        r = r ?: bind_all(root, mnt, &res, ret_why);
out:
        state_disk_probe_done(&p);
        if (r >= 0)
                *ret = res;
        else
                state_disk_result_done(&res);
        return r;
}
