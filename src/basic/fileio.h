/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads a whole regular file. Fails with -EFBIG when it is larger than max_size, -EISDIR/-EINVAL for
 * something that is not a regular file. The buffer is NUL-terminated (not counted in *ret_size). */
int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size);

/* Writes content to path atomically: a temporary file in the same directory created with mode, written,
 * fsync()ed, renamed over path, and the directory fsync()ed. On failure path is untouched and no temporary
 * file is left behind. */
int write_file_atomic(const char *path, const void *content, size_t size, mode_t mode);
