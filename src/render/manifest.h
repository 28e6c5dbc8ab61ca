/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "render.h"

/* What render wrote last time, so that what it no longer writes is removed: the files of a role the node
 * lost, the other network backend's file. Kept in /var/lib/cluster-state/rendered-files as lines
 * "RENDERER PATH". */
#define RENDER_MANIFEST_PATH "/var/lib/cluster-state/rendered-files"

typedef void (*PruneCallback)(const char *path, void *userdata);

/* Removes under root the files that the renderers selected by only (NULL: all) made last time but not in
 * set, then records set (keeping the other renderers' entries). With dry_run nothing changes; the callback
 * reports what would be removed. */
int render_prune(const RenderSet *set, const char *only, const char *root, bool dry_run, PruneCallback cb,
                 void *userdata);
