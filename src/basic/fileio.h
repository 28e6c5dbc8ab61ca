/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads a whole regular file. Fails with -EFBIG when it is larger than max_size, -EISDIR/-EINVAL for
 * something that is not a regular file. The buffer is NUL-terminated (not counted in *ret_size). */
int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size);

/* Writes content to path atomically: a temporary file in the same directory created with mode, written,
 * fsync()ed, renamed over path, and the directory fsync()ed. On failure path is untouched and no temporary
 * file is left behind. */
int write_file_atomic(const char *path, const void *content, size_t size, mode_t mode);
/* The same, owned by group gid (the owner stays root), set before the file appears under its name. With
 * sync_dir false the directory is not fsync()ed: the caller does it once for many files (fsync_directory). */
int write_file_atomic_gid(const char *path, const void *content, size_t size, mode_t mode, gid_t gid, bool sync_dir);
int fsync_directory(const char *dir);

/* The gid of group name in ROOT/etc/group (root NULL: the real one). -ENOENT if there is no such group. */
int group_lookup(const char *root, const char *name, gid_t *ret);

/* The SHA-256 of a file's content as 64 lowercase hex digits, and its size in bytes (ret_size may be NULL). */
int file_sha256(const char *path, char ret[static 65], uint64_t *ret_size);
