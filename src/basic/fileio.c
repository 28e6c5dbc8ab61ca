/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fileio.h"
#include "macro.h"
#include "string-util.h"
#include "banned.h"

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((unsigned long long) st.st_size > max_size)
                return -EFBIG;

        size_t allocated = (size_t) st.st_size + 1, size = 0;
        _cleanup_free_ char *buf = malloc(allocated);
        if (!buf)
                return -ENOMEM;

        /* The file may grow while we read it: keep reading until EOF. The buffer may grow to max_size + 2, so
         * that one byte past the limit can be read and tell "too big" from "exactly max_size". */
        for (;;) {
                if (size + 1 >= allocated) {
                        if (size > max_size)
                                return -EFBIG;
                        size_t n = MIN(MAX(allocated * 2, (size_t) 64), max_size + 2);
                        char *p = realloc(buf, n);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = n;
                }
                ssize_t k = read(fd, buf + size, allocated - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        if (size > max_size)
                return -EFBIG;

        buf[size] = 0;
        *ret_data = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int fsync_directory(const char *dir) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const void *content, size_t size, mode_t mode) {
        return write_file_atomic_gid(path, content, size, mode, (gid_t) -1, true);
}

int write_file_atomic_gid(const char *path, const void *content, size_t size, mode_t mode, gid_t gid, bool sync_dir) {
        _cleanup_free_ char *tmp = strprintf("%s.tmp.XXXXXX", path);
        if (!tmp)
                return -ENOMEM;

        /* mkostemp() creates the file 0600, so a key is never readable by others, not even briefly. */
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;

        int r = 0;
        const char *p = content;
        size_t left = size;
        while (left > 0) {
                ssize_t k = write(fd, p, left);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                p += k;
                left -= (size_t) k;
        }
        if ((gid != (gid_t) -1 && fchown(fd, (uid_t) -1, gid) < 0) || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return sync_dir ? fsync_directory_of(path) : 0;

fail:
        (void) unlink(tmp);
        return r;
}

int group_lookup(const char *root, const char *name, gid_t *ret) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        if (!root || streq(root, "/"))
                path = strdup("/etc/group");
        else
                path = strprintf("%s/etc/group", root);
        if (!path)
                return -ENOMEM;
        int r = read_full_file(path, 4 * 1024 * 1024, &data, NULL);
        if (r < 0)
                return r == -ENOENT ? -ENOENT : r;

        /* name:password:gid:members */
        size_t n = strlen(name);
        for (const char *line = data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                if (strncmp(line, name, n) != 0 || line[n] != ':')
                        continue;
                const char *p = strchr(line + n + 1, ':');
                if (!p)
                        return -EBADMSG;
                char *end;
                unsigned long gid = strtoul(p + 1, &end, 10);
                if (end == p + 1 || *end != ':')
                        return -EBADMSG;
                *ret = (gid_t) gid;
                return 0;
        }
        return -ENOENT;
}

int file_sha256(const char *path, char ret[static 65], uint64_t *ret_size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        const size_t buf_size = 1 << 20;
        _cleanup_free_ unsigned char *buf = malloc(buf_size);
        EVP_MD_CTX *ctx = buf ? EVP_MD_CTX_new() : NULL;
        int r = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
        uint64_t size = 0;
        while (r >= 0) {
                ssize_t n = read(fd, buf, buf_size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                if (n <= 0)
                        break;
                size += (uint64_t) n;
                if (EVP_DigestUpdate(ctx, buf, (size_t) n) != 1)
                        r = -EIO;
        }
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        if (r >= 0 && (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32))
                r = -EIO;
        EVP_MD_CTX_free(ctx);
        if (r < 0)
                return r;
        hex_encode(md, 32, ret);
        if (ret_size)
                *ret_size = size;
        return 0;
}
