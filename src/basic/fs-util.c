/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "string-util.h"
#include "banned.h"

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;

        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                char c = *s;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (c == 0)
                        break;
        }
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int mkdir_parents(const char *path, mode_t mode) {
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path)
                return 0;
        _cleanup_free_ char *dir = strndup(path, (size_t) (slash - path));
        if (!dir)
                return -ENOMEM;
        return mkdir_p(dir, mode);
}

char *path_join_root(const char *root, const char *path) {
        if (!root || streq(root, "/") || streq(root, ""))
                return strdup(path);
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
                n--;
        return strprintf("%.*s%s%s", (int) n, root, path[0] == '/' ? "" : "/", path);
}

char *path_resolve_under_root(const char *root, const char *path) {
        _cleanup_free_ char *cur = strdup(path);
        for (unsigned i = 0; i < 32; i++) {
                char *full = cur ? path_join_root(root, cur) : NULL, target[4096];
                if (!full) {
                        errno = ENOMEM;
                        return NULL;
                }
                bool real_root = !root || streq(root, "/") || streq(root, "");
                ssize_t n = real_root ? -1 : readlink(full, target, sizeof(target) - 1);
                if (n < 0)
                        return full; /* not a link (or missing), or root is / where the kernel follows links */
                free(full);
                target[n] = 0;
                const char *slash = strrchr(cur, '/');
                char *next = target[0] == '/' || !slash ? strdup(target)
                                                        : strprintf("%.*s/%s", (int) (slash - cur), cur, target);
                free(cur);
                cur = next;
        }
        errno = ELOOP;
        return NULL;
}

bool root_file_is_executable(const char *root, const char *path) {
        _cleanup_free_ char *full = path_resolve_under_root(root, path);
        struct stat st;
        return full && stat(full, &st) >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static dev_t rm_rf_dev;

static int rm_rf_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (flag != FTW_NS && st->st_dev != rm_rf_dev)
                return EXDEV;
        if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
                return errno;
        return 0;
}

int rm_rf(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;
        rm_rf_dev = st.st_dev;
        int r = nftw(path, rm_rf_one, 32, FTW_DEPTH | FTW_PHYS);
        return r > 0 ? -r : r < 0 ? -errno : 0;
}

int copy_file_to_fd(const char *src, int fd) {
        int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        int r = 0;
        bool fallback = false;
        for (;;) {
                ssize_t n;
                if (!fallback) {
                        n = copy_file_range(in, NULL, fd, NULL, 1u << 30, 0);
                        /* Across file systems some kernels refuse it, and it never writes to an O_APPEND
                         * file (EBADF): read and write, then (which say so if the file is really bad). */
                        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
                                      errno == EBADF)) {
                                fallback = true;
                                continue;
                        }
                } else {
                        char buf[65536];
                        n = read(in, buf, sizeof(buf));
                        for (ssize_t done = 0, w; n > 0 && done < n; done += w)
                                if ((w = write(fd, buf + done, (size_t) (n - done))) < 0) {
                                        n = -1;
                                        break;
                                }
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
        }
        close(in);
        return r;
}

int copy_file_atomic(const char *src, const char *dst, mode_t mode) {
        _cleanup_free_ char *tmp = strprintf("%s.tmpXXXXXX", dst);
        if (!tmp)
                return -ENOMEM;
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = copy_file_to_fd(src, fd);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, dst) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
