/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "source.h"
#include "string-util.h"
#include "banned.h"

char *source_display_name(const char *prefix, const char *rel) {
        if (!prefix || streq(prefix, "."))
                return strdup(rel);
        size_t n = strlen(prefix);
        while (n > 1 && prefix[n - 1] == '/')
                n--;
        return strprintf("%.*s/%s", (int) n, prefix, rel);
}

int source_set_add(SourceSet *s, const char *prefix, const char *rel, char *data, size_t size) {
        if (!GREEDY_REALLOC(s->files, s->allocated, s->n_files + 1)) {
                free(data);
                return -ENOMEM;
        }
        char *n = source_display_name(prefix, rel);
        if (!n) {
                free(data);
                return -ENOMEM;
        }
        s->files[s->n_files] = (SourceFile) {
                .name = n,
                .rel = n + strlen(n) - strlen(rel),
                .data = data,
                .size = size,
        };
        return (int) s->n_files++;
}

void source_set_done(SourceSet *s) {
        for (size_t i = 0; i < s->n_files; i++) {
                free(s->files[i].name);
                free(s->files[i].data);
                free(s->files[i].line_starts);
        }
        free(s->files);
        *s = (SourceSet) {};
}

static int index_lines(SourceFile *f) {
        size_t n = 1;
        for (size_t i = 0; i < f->size; i++)
                if (f->data[i] == '\n')
                        n++;
        size_t *starts = malloc(n * sizeof(size_t));
        if (!starts)
                return -ENOMEM;
        size_t k = 0;
        starts[k++] = 0;
        for (size_t i = 0; i < f->size; i++)
                if (f->data[i] == '\n')
                        starts[k++] = i + 1;
        f->line_starts = starts;
        f->n_lines = n;
        return 0;
}

const char *source_line(SourceFile *f, uint32_t line, size_t *ret_len) {
        if (!f->line_starts && index_lines(f) < 0)
                return NULL;
        if (line == 0 || line > f->n_lines)
                return NULL;

        size_t start = f->line_starts[line - 1];
        size_t end = line < f->n_lines ? f->line_starts[line] - 1 : f->size;
        if (end > start && f->data[end - 1] == '\r')
                end--;
        *ret_len = end - start;
        return f->data + start;
}
