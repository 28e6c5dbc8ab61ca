/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "string-util.h"
#include "banned.h"

void report_init(Report *r, SourceSet *sources) {
        *r = (Report) { .sources = sources };
}

void report_done(Report *r) {
        for (size_t i = 0; i < r->n_diags; i++) {
                free(r->diags[i].file);
                free(r->diags[i].path);
                free(r->diags[i].message);
                free(r->diags[i].hint);
        }
        free(r->diags);
        *r = (Report) {};
}

static void report_addv(Report *r, Severity sev, const char *file, Loc loc, const char *path, const char *hint,
                        const char *fmt, va_list ap) _printf_(7, 0);
static void report_addv(Report *r, Severity sev, const char *file, Loc loc, const char *path, const char *hint,
                        const char *fmt, va_list ap) {
        StrBuf msg = {};
        if (strbuf_vprintf(&msg, fmt, ap) < 0 || !GREEDY_REALLOC(r->diags, r->allocated, r->n_diags + 1)) {
                strbuf_done(&msg);
                r->oom = true;
                return;
        }

        /* Messages quote what users wrote: escape it, so that it can neither drive the terminal nor
         * break JSON output. */
        Diagnostic d = {
                .severity = sev,
                .loc = loc,
                .message = str_escape_display(strempty(msg.s)),
                .file = file ? str_escape_display(file) : NULL,
                .path = path && *path ? str_escape_display(path) : NULL,
                .hint = hint ? str_escape_display(hint) : NULL,
                .seq = r->n_diags,
        };
        strbuf_done(&msg);
        if (!d.message || (file && !d.file) || (path && *path && !d.path) || (hint && !d.hint)) {
                free(d.message);
                free(d.file);
                free(d.path);
                free(d.hint);
                r->oom = true;
                return;
        }
        r->diags[r->n_diags++] = d;
        if (sev == SEVERITY_ERROR)
                r->n_errors++;
        else
                r->n_warnings++;
}

void report_add(Report *r, Severity sev, Loc loc, const char *path, const char *hint, const char *fmt, ...) {
        const char *file = r->sources && loc.file < r->sources->n_files ? r->sources->files[loc.file].name : NULL;
        va_list ap;
        va_start(ap, fmt);
        report_addv(r, sev, file, loc, path, hint, fmt, ap);
        va_end(ap);
}

void report_add_file(Report *r, Severity sev, const char *file, const char *hint, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        report_addv(r, sev, file, (Loc) { .file = UINT32_MAX }, NULL, hint, fmt, ap);
        va_end(ap);
}

static int diag_cmp(const void *a, const void *b) {
        const Diagnostic *x = a, *y = b;
        /* Problems with the inventory as a whole come first, then by file in load order. */
        uint32_t fx = x->file ? x->loc.file : 0, fy = y->file ? y->loc.file : 0;
        if (!x->file != !y->file)
                return x->file ? 1 : -1;
        if (fx != fy)
                return fx < fy ? -1 : 1;
        if (x->loc.line != y->loc.line)
                return x->loc.line < y->loc.line ? -1 : 1;
        if (x->loc.col != y->loc.col)
                return x->loc.col < y->loc.col ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void report_sort(Report *r) {
        if (r->n_diags > 1)
                qsort(r->diags, r->n_diags, sizeof(Diagnostic), diag_cmp);
}

const char *severity_to_string(Severity s) {
        return s == SEVERITY_ERROR ? "error" : "warning";
}

/* Keys whose values are secret; a value written after one of them, or after a key that is close enough to be
 * a misspelling of one, is masked in excerpts, whatever the diagnostic is about (a syntax error, a duplicate
 * key, a wrong type). */
static const char *const secret_keys[] = { "token", NULL };

static bool is_key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Is there a secret key at position colon (a ':') of line? */
static bool secret_key_before(const char *line, size_t colon) {
        size_t end = colon, start;
        if (end > 0 && (line[end - 1] == '"' || line[end - 1] == '\''))
                end--;
        for (start = end; start > 0 && is_key_char(line[start - 1]);)
                start--;
        if (start == end || end - start > 32)
                return false;
        char key[33];
        memcpy(key, line + start, end - start);
        key[end - start] = 0;
        return nearest_word(key, secret_keys) != NULL;
}

/* Does the line end with a secret key whose value follows on the next lines ("token:", "token: |")? */
static bool opens_secret_value(const char *line, size_t len) {
        for (size_t i = len; i-- > 0;) {
                if (line[i] == ':')
                        return secret_key_before(line, i);
                if (!strchr(" \t|>-+", line[i]))
                        return false;
        }
        return false;
}

/* Masks, in place and keeping the width, the values that follow secret keys in one line of YAML. */
static void mask_secrets(char *line, size_t len) {
        for (size_t i = 0; i < len; i++) {
                if (line[i] != ':' || !secret_key_before(line, i))
                        continue;
                for (size_t j = i + 1; j < len && line[j] != ',' && line[j] != '}'; j++)
                        if (line[j] != ' ')
                                line[j] = '*';
        }
}

/* Prints the source line, with control characters and bytes that are not UTF-8 replaced, and a caret line
 * that lines up under it (tabs are repeated so the terminal expands both lines alike). */
static void print_excerpt(SourceFile *sf, Loc loc, FILE *f) {
        size_t len;
        const char *src = source_line(sf, loc.line, &len);
        if (!src)
                return;
        /* A 1 MB line helps nobody: show its start. */
        bool cut = len > 200;
        if (cut)
                len = 200;
        /* Zero-padded: utf8_char_len() may look up to three bytes past a cut character. */
        char line[200 + 4] = {};
        memcpy(line, src, len);
        mask_secrets(line, len);
        /* A value on the lines after its key ("token:\n  abc..." or a block scalar) is masked whole. */
        for (uint32_t prev = loc.line; prev-- > 1;) {
                size_t plen;
                const char *p = source_line(sf, prev, &plen);
                if (!p || plen > 200)
                        break;
                if (opens_secret_value(p, plen)) {
                        for (size_t j = 0; j < len; j++)
                                if (line[j] != ' ')
                                        line[j] = '*';
                        break;
                }
                /* Only lines of the same value: stop at a line that is not more indented than ours. */
                if (strspn(p, " ") >= strspn(line, " ") || prev + 3 < loc.line)
                        break;
        }

        fprintf(f, "%5u | ", loc.line);
        StrBuf caret = {};
        uint32_t col = 1;
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char) line[i];
                size_t w = utf8_char_len((const unsigned char *) line + i);
                if (w == 0 || i + w > len || (c < 0x20 && c != '\t') || c == 0x7F) {
                        fputc('?', f);
                        w = 1;
                } else
                        fwrite(line + i, 1, w, f);

                if (col < loc.col)
                        (void) strbuf_append(&caret, c == '\t' ? "\t" : " ");
                else if (col < loc.col + MAX(loc.len, 1u))
                        (void) strbuf_append(&caret, col == loc.col ? "^" : "~");
                i += w;
                col++;
        }
        if (col <= loc.col) {
                /* The problem is at the end of the line (say, a missing value). */
                for (; col < loc.col; col++)
                        (void) strbuf_append(&caret, " ");
                (void) strbuf_append(&caret, "^");
        }
        fprintf(f, "%s\n      | %s\n", cut ? " ..." : "", strempty(caret.s));
        strbuf_done(&caret);
}

void report_print_text(Report *r, FILE *f) {
        for (size_t i = 0; i < r->n_diags; i++) {
                Diagnostic *d = r->diags + i;
                const char *sev = severity_to_string(d->severity);

                if (!d->file)
                        fprintf(f, "%s: %s\n", sev, d->message);
                else if (!loc_is_set(d->loc))
                        fprintf(f, "%s: %s: %s\n", d->file, sev, d->message);
                else {
                        fprintf(f, "%s:%u:%u: %s: %s\n", d->file, d->loc.line, d->loc.col, sev, d->message);
                        if (r->sources && d->loc.file < r->sources->n_files)
                                print_excerpt(&r->sources->files[d->loc.file], d->loc, f);
                }
                if (d->hint)
                        fprintf(f, "      = hint: %s\n", d->hint);
        }
        if (r->oom)
                fprintf(f, "error: out of memory: some problems were not recorded\n");
}

json_t *report_to_json(Report *r, bool strict) {
        json_t *list = json_array();
        json_t *root = json_pack("{s:b,s:I,s:I,s:o}", "valid",
                                 r->n_errors == 0 && (!strict || r->n_warnings == 0) && !r->oom, "errors",
                                 (json_int_t) r->n_errors, "warnings", (json_int_t) r->n_warnings, "diagnostics",
                                 list);
        if (!root)
                return NULL;

        for (size_t i = 0; i < r->n_diags; i++) {
                Diagnostic *d = r->diags + i;
                json_t *o = json_pack("{s:s,s:s}", "severity", severity_to_string(d->severity), "message",
                                      d->message);
                if (!o) {
                        json_decref(root);
                        return NULL;
                }
                if (d->file)
                        json_object_set_new(o, "file", json_string(d->file));
                if (loc_is_set(d->loc)) {
                        json_object_set_new(o, "line", json_integer(d->loc.line));
                        json_object_set_new(o, "column", json_integer(d->loc.col));
                }
                if (d->path)
                        json_object_set_new(o, "path", json_string(d->path));
                if (d->hint)
                        json_object_set_new(o, "hint", json_string(d->hint));
                json_array_append_new(list, o);
        }

        return root;
}

int report_print_json(Report *r, FILE *f, bool strict) {
        json_t *root = report_to_json(r, strict);
        if (!root)
                return -ENOMEM;
        int rr = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        json_decref(root);
        return rr < 0 ? -EIO : 0;
}
