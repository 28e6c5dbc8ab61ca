/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The files of one inventory, kept in memory so that diagnostics can quote the offending line. */

/* A position in a source file. line == 0 means "the whole file" (no position). */
typedef struct Loc {
        uint32_t file; /* index into SourceSet.files */
        uint32_t line; /* 1-based */
        uint32_t col;  /* 1-based, in characters */
        uint32_t len;  /* characters to underline on that line; 0 or 1 for a single caret */
} Loc;

static inline int loc_is_set(Loc l) {
        return l.line != 0;
}

typedef struct SourceFile {
        char *name; /* as shown to the user: "cluster.yaml", "nodes/worker-01.yaml", "DIR/cluster.yaml" */
        const char *rel; /* the part of name inside the inventory: "nodes/worker-01.yaml" */
        char *data; /* NUL-terminated; may contain further NULs */
        size_t size;
        size_t *line_starts; /* computed on first use */
        size_t n_lines;
} SourceFile;

typedef struct SourceSet {
        SourceFile *files;
        size_t n_files;
        size_t allocated;
} SourceSet;

/* Adds the file rel (relative to the inventory) shown as "prefix/rel", or as rel when prefix is NULL or ".".
 * Takes ownership of data (which must have a NUL at data[size]), also on failure. Returns the index or
 * -ENOMEM. */
int source_set_add(SourceSet *s, const char *prefix, const char *rel, char *data, size_t size);
/* "prefix/rel" or rel, as above; NULL on allocation failure. */
char *source_display_name(const char *prefix, const char *rel);
void source_set_done(SourceSet *s);

/* The text of line (1-based) without its newline, or NULL when out of range. */
const char *source_line(SourceFile *f, uint32_t line, size_t *ret_len);
