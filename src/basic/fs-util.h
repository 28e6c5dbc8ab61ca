/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

/* Creates path and its missing parents with mode. Existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);
/* Creates the parent directories of path. */
int mkdir_parents(const char *path, mode_t mode);
/* "root" + "/abs/path", with root NULL or "/" meaning the path itself. NULL on allocation failure. */
char *path_join_root(const char *root, const char *path);
