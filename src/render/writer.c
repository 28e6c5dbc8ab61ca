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
        free(data);
        return same ? WRITE_UNCHANGED : WRITE_UPDATED;
}

int render_set_write(const RenderSet *s, const char *root, bool dry_run, WriteCallback cb, void *userdata,
                     const RenderedFile **ret_failed) {
        for (size_t i = 0; i < s->n; i++) {
                const RenderedFile *f = s->files + i;
                _cleanup_free_ char *full = path_join_root(root, f->path);
                if (!full)
                        return -ENOMEM;

                gid_t gid = (gid_t) -1;
                if (f->group) {
                        /* The group of the tree being written: an image's /etc/group, not the host's. */
                        int r = group_lookup(root, f->group, &gid);
                        if (r < 0) {
                                if (ret_failed)
                                        *ret_failed = f;
                                return r == -ENOENT ? -ENOENT : r;
                        }
                }

                WriteResult res = compare(full, f, gid);
                if (res != WRITE_UNCHANGED && !dry_run) {
                        int r = mkdir_parents(full, 0755);
                        if (r >= 0) {
                                remove_stale_temporaries(full);
                                r = write_file_atomic_gid(full, f->content, f->size, f->mode, gid);
                        }
                        if (r < 0) {
                                if (ret_failed)
                                        *ret_failed = f;
                                return r;
                        }
                }
                if (cb)
                        cb(f, res, userdata);
        }
        return 0;
}
