/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "manifest.h"
#include "banned.h"

static bool in_set(const RenderSet *set, const char *path) {
        return render_set_find(set, path) != NULL;
}

int render_prune(const RenderSet *set, const char *only, const char *root, bool dry_run, PruneCallback cb,
                 void *userdata) {
        _cleanup_free_ char *manifest = path_join_root(root, RENDER_MANIFEST_PATH);
        _cleanup_free_ char *old = NULL, *old_text = NULL;
        StrBuf next = {};
        int r;

        if (!manifest)
                return -ENOMEM;
        r = read_full_file(manifest, 16 * 1024 * 1024, &old, NULL);
        if (r == -ENOENT)
                r = 0; /* the first render */
        if (r < 0)
                return r;
        /* Kept whole, to leave the manifest (and its mtime) alone when nothing changed. */
        old_text = strdup(strempty(old));
        if (!old_text)
                return -ENOMEM;

        for (char *line = old; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                char *space = strchr(line, ' ');
                if (space && space[1] == '/') {
                        *space = 0;
                        const char *renderer = line, *path = space + 1;
                        bool selected = !only || streq(only, renderer);
                        if (!selected)
                                r = strbuf_printf(&next, "%s %s\n", renderer, path);
                        else if (!in_set(set, path)) {
                                _cleanup_free_ char *full = path_join_root(root, path);
                                if (!full)
                                        r = -ENOMEM;
                                else if (!dry_run && unlink(full) < 0 && errno != ENOENT)
                                        r = -errno;
                                if (r >= 0 && cb)
                                        cb(path, userdata);
                        }
                        if (r < 0)
                                break;
                }
                line = nl ? nl + 1 : NULL;
        }
        for (size_t i = 0; r >= 0 && i < set->n; i++)
                if (set->files[i].renderer)
                        r = strbuf_printf(&next, "%s %s\n", set->files[i].renderer, set->files[i].path);

        if (r >= 0 && !dry_run && !(old && streq(old_text, strempty(next.s)))) {
                r = mkdir_parents(manifest, 0755);
                r = r ?: write_file_atomic(manifest, strempty(next.s), next.len, 0644);
        }
        strbuf_done(&next);
        return r;
}
