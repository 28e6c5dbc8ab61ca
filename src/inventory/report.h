/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "macro.h"
#include "source.h"

/* A report collects every problem found in an inventory, so that one run shows all of them (as Ignition's
 * validation report does), each pointing at the YAML node it is about. */

typedef enum Severity {
        SEVERITY_ERROR,
        SEVERITY_WARNING,
} Severity;

typedef struct Diagnostic {
        Severity severity;
        char *file;    /* display name; NULL for a problem with the inventory as a whole */
        Loc loc;       /* loc.line == 0: no position in the file */
        char *path;    /* logical path such as "nodes[2].roles[1]", or NULL */
        char *message; /* one line, no trailing period */
        char *hint;    /* how to fix it, or NULL */
        size_t seq;    /* insertion order, to keep sorting stable */
} Diagnostic;

typedef struct Report {
        SourceSet *sources; /* not owned */
        Diagnostic *diags;
        size_t n_diags;
        size_t allocated;
        size_t n_errors;
        size_t n_warnings;
        bool oom; /* a diagnostic could not be recorded; the report is incomplete */
} Report;

void report_init(Report *r, SourceSet *sources);
void report_done(Report *r);

/* Records a problem at loc (loc.file indexes r->sources; use report_add_file() for a file that could not be
 * read). path and hint may be NULL. */
void report_add(Report *r, Severity sev, Loc loc, const char *path, const char *hint, const char *fmt, ...)
        _printf_(6, 7);
void report_add_file(Report *r, Severity sev, const char *file, const char *hint, const char *fmt, ...)
        _printf_(5, 6);

#define report_error(r, loc, path, ...) report_add((r), SEVERITY_ERROR, (loc), (path), NULL, __VA_ARGS__)
#define report_warning(r, loc, path, ...) report_add((r), SEVERITY_WARNING, (loc), (path), NULL, __VA_ARGS__)
/* Sorts by file, line, column, then the order of discovery. */
void report_sort(Report *r);

/* "FILE:LINE:COL: error: MESSAGE", the source line and a caret under the offending node. */
void report_print_text(Report *r, FILE *f);
/* The whole report as one JSON document; strict: warnings count as errors. Returns 0 or -ENOMEM. */
int report_print_json(Report *r, FILE *f, bool strict);
/* The same document, {"valid", "errors", "warnings", "diagnostics": [...]}, for a command to add to; NULL
 * on allocation failure. */
typedef struct json_t json_t;
json_t *report_to_json(Report *r, bool strict);

const char *severity_to_string(Severity s);
