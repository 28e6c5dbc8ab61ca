/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "render.h"

typedef enum WriteResult {
        WRITE_UNCHANGED, /* same content and mode: not touched, its mtime stays */
        WRITE_CREATED,
        WRITE_UPDATED,
} WriteResult;

typedef void (*WriteCallback)(const RenderedFile *f, WriteResult result, void *userdata);

/* Writes every file of the set under root (NULL or "/" for the real root), each atomically (temporary
 * file, fsync, rename, fsync of the directory), creating parent directories. A file whose content and mode
 * are already right is left alone. Leftover temporary files of an interrupted earlier run are removed.
 * With dry_run nothing is written and the callback reports what would change. On failure *ret_failed is
 * the path that failed; files written before it stay (each is complete). */
int render_set_write(const RenderSet *s, const char *root, bool dry_run, WriteCallback cb, void *userdata,
                     const RenderedFile **ret_failed);

const char *write_result_to_string(WriteResult r);
