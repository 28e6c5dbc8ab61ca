/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "string-util.h"
#include "yaml-tree.h"
#include "banned.h"

void ynode_free(YNode *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n_items; i++)
                ynode_free(n->items[i]);
        free(n->items);
        free(n->value);
        free(n);
}

bool ynode_is_null(const YNode *n) {
        if (n->kind != YNODE_SCALAR || n->quoted)
                return false;
        return n->len == 0 || streq(n->value, "~") || streq(n->value, "null") || streq(n->value, "Null") ||
               streq(n->value, "NULL");
}

const char *ynode_describe(const YNode *n) {
        if (n->kind == YNODE_SEQUENCE)
                return "a list";
        if (n->kind == YNODE_MAPPING)
                return "a mapping";
        if (ynode_is_null(n))
                return "null";
        return "a scalar";
}

static Loc mark_to_loc(uint32_t file, yaml_mark_t start, yaml_mark_t end) {
        Loc l = {
                .file = file,
                .line = (uint32_t) start.line + 1,
                .col = (uint32_t) start.column + 1,
        };
        if (end.line == start.line && end.column > start.column)
                l.len = (uint32_t) (end.column - start.column);
        return l;
}

typedef struct Builder {
        SourceSet *sources;
        uint32_t file;
        Report *report;
        YNode *stack[YAML_MAX_DEPTH + 1];
        size_t depth;
        YNode *root;
        unsigned n_documents;
        size_t skipped; /* bytes of a byte order mark not given to libyaml */
        bool failed;
} Builder;

static void builder_error(Builder *b, yaml_mark_t mark, const char *msg) {
        report_error(b->report, mark_to_loc(b->file, mark, mark), NULL, "%s", msg);
        b->failed = true;
}

static Loc offset_to_loc(Builder *b, size_t offset) {
        SourceFile *sf = &b->sources->files[b->file];
        Loc l = { .file = b->file, .line = 1, .col = 1 };

        offset += b->skipped;
        for (size_t i = 0; i < offset && i < sf->size; i++) {
                if (sf->data[i] == '\n') {
                        l.line++;
                        l.col = 1;
                } else if (((unsigned char) sf->data[i] & 0xC0) != 0x80)
                        l.col++; /* count characters, not continuation bytes */
        }
        return l;
}

static void describe_syntax_error(Builder *b, yaml_parser_t *p) {
        SourceFile *sf = &b->sources->files[b->file];
        yaml_mark_t m = p->problem_mark;
        size_t len;
        const char *line = source_line(sf, (uint32_t) m.line + 1, &len);

        /* libyaml's words for a tab are "found character that cannot start any token"; say what it is. */
        if (line && m.column < len && line[m.column] == '\t') {
                report_add(b->report, SEVERITY_ERROR, mark_to_loc(b->file, m, m), NULL,
                           "replace the tab with spaces", "tab character in indentation; YAML allows only spaces");
        } else if (p->error == YAML_READER_ERROR) {
                /* The reader gives a byte offset, not a mark; for a bad trailing byte, it is that byte's, but the
                 * character to fix starts at its lead byte. */
                size_t off = p->problem_offset + b->skipped;
                if (startswith(p->problem, "invalid trailing") || startswith(p->problem, "incomplete"))
                        while (off > b->skipped && off <= sf->size && ((unsigned char) sf->data[off - 1] & 0xC0) == 0x80)
                                off--;
                if (startswith(p->problem, "invalid trailing") && off > b->skipped)
                        off--;
                report_add(b->report, SEVERITY_ERROR, offset_to_loc(b, off - b->skipped), NULL,
                           "save the file as UTF-8", "not valid UTF-8: %s", p->problem);
        } else if (p->context && (startswith(p->context, "while parsing a flow") ||
                                  startswith(p->context, "while scanning a quoted"))) {
                /* An unclosed [ { or quote is found where the file ends or the next thing begins; the place
                 * to fix is where it was opened. */
                report_error(b->report, mark_to_loc(b->file, p->context_mark, p->context_mark), NULL,
                             "YAML syntax error: %s %s", p->problem, p->context);
        } else if (p->context)
                report_error(b->report, mark_to_loc(b->file, m, m), NULL, "YAML syntax error: %s %s", p->problem,
                             p->context);
        else
                report_error(b->report, mark_to_loc(b->file, m, m), NULL, "YAML syntax error: %s",
                             strempty(p->problem));
        b->failed = true;
}

static int node_append(YNode *parent, YNode *child) {
        if (!GREEDY_REALLOC(parent->items, parent->allocated, parent->n_items + 1))
                return -ENOMEM;
        parent->items[parent->n_items++] = child;
        return 0;
}

static int key_cmp(const void *a, const void *b) {
        const YNode *x = *(YNode *const *) a, *y = *(YNode *const *) b;
        int c = strcmp(x->value, y->value);
        if (c != 0)
                return c;
        return x->loc.line != y->loc.line ? (x->loc.line < y->loc.line ? -1 : 1)
                                          : (x->loc.col < y->loc.col ? -1 : x->loc.col > y->loc.col);
}

/* Sorting makes this O(n log n), so a mapping with very many keys cannot make validation quadratic. */
static void check_duplicate_keys(Builder *b, YNode *map) {
        size_t n = map->n_items / 2;
        if (n < 2)
                return;
        _cleanup_free_ YNode **keys = malloc(n * sizeof(YNode *));
        if (!keys) {
                b->report->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++)
                keys[i] = map->items[2 * i];
        qsort(keys, n, sizeof(YNode *), key_cmp);

        for (size_t i = 1; i < n; i++) {
                /* Complex keys were rejected when they were read: keys here are scalars. */
                size_t first = i - 1;
                while (i < n && streq(keys[i]->value, keys[first]->value)) {
                        report_error(b->report, keys[i]->loc, NULL, "duplicate key '%s' (first defined at line %u)",
                                     keys[i]->value, keys[first]->loc.line);
                        i++;
                }
        }
}

static int handle_event(Builder *b, yaml_event_t *e) {
        YNode *parent = b->depth > 0 ? b->stack[b->depth - 1] : NULL;
        YNode *n;

        switch (e->type) {
        case YAML_DOCUMENT_START_EVENT:
                if (++b->n_documents > 1) {
                        builder_error(b, e->start_mark,
                                      "more than one YAML document in this file; an inventory file holds one");
                        return 0;
                }
                return 0;

        case YAML_ALIAS_EVENT:
                builder_error(b, e->start_mark, "YAML aliases are not supported; write the value out in full");
                return 0;

        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                break;

        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                if (b->depth == 0)
                        return 0;
                n = b->stack[--b->depth];
                if (n->kind == YNODE_MAPPING)
                        check_duplicate_keys(b, n);
                return 0;

        default:
                return 0;
        }

        n = calloc(1, sizeof(YNode));
        if (!n)
                return -ENOMEM;
        n->loc = mark_to_loc(b->file, e->start_mark, e->end_mark);

        if (e->type == YAML_SCALAR_EVENT) {
                n->kind = YNODE_SCALAR;
                n->quoted = e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                if (e->data.scalar.length > YAML_MAX_SCALAR) {
                        report_error(b->report, n->loc, NULL, "value is too long (%zu bytes; at most %d)",
                                     e->data.scalar.length, YAML_MAX_SCALAR);
                        n->value = strdup("");
                        n->invalid = true;
                } else {
                        n->len = e->data.scalar.length;
                        n->value = malloc(n->len + 1);
                        if (n->value) {
                                memcpy(n->value, e->data.scalar.value, n->len);
                                n->value[n->len] = 0;
                        }
                }
                if (!n->value) {
                        free(n);
                        return -ENOMEM;
                }
        } else
                n->kind = e->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQUENCE : YNODE_MAPPING;

        if (parent && parent->kind == YNODE_MAPPING && parent->n_items % 2 == 0 && n->kind != YNODE_SCALAR) {
                builder_error(b, e->start_mark, "a mapping key must be a plain value, not a list or mapping");
                ynode_free(n);
                return 0;
        }

        if (!parent) {
                ynode_free(b->root);
                b->root = n;
        } else if (node_append(parent, n) < 0) {
                ynode_free(n);
                return -ENOMEM;
        }

        if (n->kind != YNODE_SCALAR) {
                if (b->depth >= YAML_MAX_DEPTH) {
                        builder_error(b, e->start_mark, "nesting is too deep");
                        return 0;
                }
                b->stack[b->depth++] = n;
        }
        return 0;
}

YNode *yaml_tree_parse(SourceSet *sources, uint32_t file, Report *report) {
        SourceFile *sf = &sources->files[file];
        Builder b = {
                .sources = sources,
                .file = file,
                .report = report,
        };
        yaml_parser_t parser;

        if (!yaml_parser_initialize(&parser)) {
                report->oom = true;
                return NULL;
        }
        /* Inventory files are UTF-8. libyaml skips a byte order mark only when it detects the encoding
         * itself, which would also let UTF-16 in; skip a UTF-8 one here instead. */
        if (sf->size >= 3 && memcmp(sf->data, "\xEF\xBB\xBF", 3) == 0)
                b.skipped = 3;
        yaml_parser_set_input_string(&parser, (const unsigned char *) sf->data + b.skipped, sf->size - b.skipped);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        for (;;) {
                yaml_event_t e;
                if (!yaml_parser_parse(&parser, &e)) {
                        if (parser.error == YAML_MEMORY_ERROR)
                                report->oom = true;
                        else
                                describe_syntax_error(&b, &parser);
                        break;
                }
                bool done = e.type == YAML_STREAM_END_EVENT;
                int r = handle_event(&b, &e);
                yaml_event_delete(&e);
                if (r < 0) {
                        report->oom = true;
                        b.failed = true;
                }
                if (done || b.failed)
                        break;
        }
        yaml_parser_delete(&parser);

        if (b.failed) {
                ynode_free(b.root);
                return NULL;
        }
        if (!b.root || ynode_is_null(b.root)) {
                report_add(report, SEVERITY_ERROR, (Loc) { .file = file, .line = 1, .col = 1 }, NULL,
                           "every inventory file holds one top-level mapping; see docs/inventory.md",
                           "file is empty");
                ynode_free(b.root);
                return NULL;
        }
        return b.root;
}
