/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "writer.h"
#include "banned.h"

const char *write_result_to_string(WriteResult r) {
        static const char *const table[] = {
                [WRITE_UNCHANGED] = "unchanged",
                [WRITE_CREATED] = "created",
                [WRITE_UPDATED] = "updated",
        };
        return table[r];
}

/* write_file_atomic() names its temporary files PATH.tmp.XXXXXX; a crash can leave one behind. */
static void remove_stale_temporaries(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return;
        char *slash = strrchr(dir, '/');
        if (!slash)
                return;
        *slash = 0;
        _cleanup_free_ char *prefix = strprintf("%s.tmp.", slash + 1);
        if (!prefix)
                return;

        DIR *d = opendir(*dir ? dir : "/");
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, prefix) && strlen(de->d_name) == strlen(prefix) + 6)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
}

static WriteResult compare(const char *full, const RenderedFile *f, gid_t gid) {
        struct stat st;
        if (lstat(full, &st) < 0)
                return WRITE_CREATED;
        if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != f->mode || (size_t) st.st_size != f->size ||
            (gid != (gid_t) -1 && st.st_gid != gid))
                return WRITE_UPDATED;

        char *data;
        size_t size;
        if (read_full_file(full, f->size, &data, &size) < 0)
                return WRITE_UPDATED;
        bool same = size == f->size && memcmp(data, f->content, size) == 0;
        explicit_bzero(data, size); /* it may be a key */
        free(data);
        return same ? WRITE_UNCHANGED : WRITE_UPDATED;
}

/* The directories written to, to fsync() each once at the end rather than once per file: a render writes
 * a dozen files into a few directories, and on a busy disk every fsync is slow (bench/pki). */
typedef struct DirSet {
        char **dirs;
        size_t n;
        size_t allocated;
} DirSet;

static int dir_set_add(DirSet *d, const char *path) {
        const char *slash = strrchr(path, '/');
        size_t len = slash && slash != path ? (size_t) (slash - path) : 1;
        for (size_t i = 0; i < d->n; i++)
                if (strlen(d->dirs[i]) == len && strncmp(d->dirs[i], path, len) == 0)
                        return 0;
        if (!GREEDY_REALLOC(d->dirs, d->allocated, d->n + 1))
                return -ENOMEM;
        char *copy = strndup(path, len);
        if (!copy)
                return -ENOMEM;
        d->dirs[d->n++] = copy;
        return 0;
}

/* fsync()s and frees every directory; returns the first error. */
static int dir_set_sync(DirSet *d) {
        int r = 0;
        for (size_t i = 0; i < d->n; i++) {
                int k = fsync_directory(d->dirs[i]);
                if (k < 0 && r >= 0)
                        r = k;
                free(d->dirs[i]);
        }
        free(d->dirs);
        *d = (DirSet) {};
        return r;
}

static int write_one(const RenderedFile *f, const char *root, bool dry_run, DirSet *dirs, WriteResult *ret) {
        _cleanup_free_ char *full = path_join_root(root, f->path);
        if (!full)
                return -ENOMEM;

        gid_t gid = (gid_t) -1;
        if (f->group) {
                /* The group of the tree being written: an image's /etc/group, not the host's. */
                int r = group_lookup(root, f->group, &gid);
                if (r < 0)
                        return r;
        }

        *ret = compare(full, f, gid);
        if (*ret == WRITE_UNCHANGED || dry_run)
                return 0;

        int r = mkdir_parents(full, 0755);
        if (r < 0)
                return r;
        remove_stale_temporaries(full);
        /* The file is fsync()ed before its rename; its directory once for all, at the end. */
        r = write_file_atomic_gid(full, f->content, f->size, f->mode, gid, false);
        return r < 0 ? r : dir_set_add(dirs, full);
}

int render_set_write(const RenderSet *s, const char *root, bool dry_run, WriteCallback cb, void *userdata,
                     const RenderedFile **ret_failed) {
        DirSet dirs = {};
        int r = 0;

        /* A group that is missing fails the set before anything is written, not halfway (a certificate
         * without its key). */
        for (size_t i = 0; i < s->n; i++) {
                gid_t gid;
                if (s->files[i].group && (r = group_lookup(root, s->files[i].group, &gid)) < 0) {
                        if (ret_failed)
                                *ret_failed = s->files + i;
                        return r;
                }
        }

        for (size_t i = 0; i < s->n && r >= 0; i++) {
                WriteResult res;
                r = write_one(s->files + i, root, dry_run, &dirs, &res);
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = s->files + i;
                } else if (cb)
                        cb(s->files + i, res, userdata);
        }
        /* Also after a failure: the files written before it are whole, and should last. */
        int k = dir_set_sync(&dirs);
        return r < 0 ? r : k;
}
