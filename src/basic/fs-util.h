/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Creates path and its missing parents with mode. Existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);
/* Creates the parent directories of path. */
int mkdir_parents(const char *path, mode_t mode);
/* "root" + "/abs/path", with root NULL or "/" meaning the path itself. NULL on allocation failure. */
char *path_join_root(const char *root, const char *path);
/* path on the machine whose / is root: root + path, with symlinks in the last component followed within
 * root as on that machine (an absolute link target is under root too). NULL with errno set on failure
 * (ELOOP, ENOMEM). A missing file is not a failure: the caller's open() or stat() says so. */
char *path_resolve_under_root(const char *root, const char *path);
/* The file exists under root (symlinks followed within it), is a regular file and is executable by
 * someone: systemd's ConditionFileIsExecutable=. */
bool root_file_is_executable(const char *root, const char *path);
/* Removes path and everything under it, not following symlinks and not crossing into other file
 * systems' mounts (those are an error, EXDEV). A missing path is fine. */
int rm_rf(const char *path);
/* Appends the whole file src to the open file fd: copy_file_range() (which may share extents), else read
 * and write (across file systems, an O_APPEND fd). */
int copy_file_to_fd(const char *src, int fd);
/* Copies src to dst (created with mode, replaced atomically). */
int copy_file_atomic(const char *src, const char *dst, mode_t mode);
