/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "string-util.h"
#include "banned.h"

typedef struct Walker {
        Report *report;
        StrBuf path;
} Walker;

/* Quotes a user's value for a message, cut short so that a long value cannot flood the terminal. */
typedef struct Quoted {
        char s[64];
} Quoted;

static Quoted quote(const char *v) {
        Quoted q;
        size_t n = strlen(v);
        if (n <= 40)
                snprintf(q.s, sizeof(q.s), "'%s'", v);
        else {
                /* Cut before a character, not inside one: the message must stay UTF-8. */
                size_t cut = 32;
                while (cut > 0 && ((unsigned char) v[cut] & 0xC0) == 0x80)
                        cut--;
                snprintf(q.s, sizeof(q.s), "'%.*s...'", (int) cut, v);
        }
        return q;
}

static size_t path_push_key(Walker *w, const char *key) {
        size_t old = w->path.len;
        if (old > 0)
                (void) strbuf_append(&w->path, ".");
        (void) strbuf_append(&w->path, key);
        return old;
}

static size_t path_push_index(Walker *w, size_t i) {
        size_t old = w->path.len;
        (void) strbuf_printf(&w->path, "[%zu]", i);
        return old;
}

static void path_pop(Walker *w, size_t old) {
        if (w->path.s) {
                w->path.len = old;
                w->path.s[old] = 0;
        }
}

static const char *path_str(Walker *w) {
        return strempty(w->path.s);
}

/* The last component of the path, the name a user sees next to the value: "port", "roles[1]". */
static const char *path_leaf(Walker *w) {
        const char *p = path_str(w);
        const char *dot = strrchr(p, '.');
        return dot ? dot + 1 : p;
}

static void error_at(Walker *w, const YNode *n, const char *hint, const char *fmt, ...) _printf_(4, 5);
static void error_at(Walker *w, const YNode *n, const char *hint, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        StrBuf msg = {};
        int r = strbuf_vprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                w->report->oom = true;
        else
                report_add(w->report, SEVERITY_ERROR, n->loc, path_str(w), hint, "%s", msg.s);
        strbuf_done(&msg);
}

static bool parse_int(const char *s, int64_t *ret) {
        const char *p = s;
        if (*p == '-' || *p == '+')
                p++;
        if (!*p || strlen(p) > 18)
                return false;
        for (const char *q = p; *q; q++)
                if (*q < '0' || *q > '9')
                        return false;
        *ret = strtoll(s, NULL, 10);
        return true;
}

static bool parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL };
        static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL };
        for (size_t i = 0; yes[i]; i++) {
                if (streq(s, yes[i])) {
                        *ret = true;
                        return true;
                }
                if (streq(s, no[i])) {
                        *ret = false;
                        return true;
                }
        }
        return false;
}

static bool in_choices(const char *v, const char *const *choices) {
        for (size_t i = 0; choices[i]; i++)
                if (streq(v, choices[i]))
                        return true;
        return false;
}

static char *join_choices(const char *const *choices) {
        StrBuf b = {};
        for (size_t i = 0; choices[i]; i++)
                (void) strbuf_printf(&b, "%s%s", i ? ", " : "", choices[i]);
        return strbuf_steal(&b);
}

/* Checks a scalar against the field's choices or check function. Returns false after reporting. */
static bool check_scalar(Walker *w, const Field *f, const YNode *n) {
        if (f->choices && !in_choices(n->value, f->choices)) {
                const char *near = nearest_word(n->value, f->choices);
                _cleanup_free_ char *all = join_choices(f->choices);
                _cleanup_free_ char *hint = all ? strprintf("known %ss: %s", f->noun ?: "value", all) : NULL;
                if (near)
                        error_at(w, n, hint, "unknown %s %s; did you mean '%s'?", f->noun ?: "value",
                                 quote(n->value).s, near);
                else
                        error_at(w, n, hint, "unknown %s %s", f->noun ?: "value", quote(n->value).s);
                return false;
        }
        if (f->explain) {
                char why[256];
                const char *expected = f->explain(n->value, why, sizeof(why));
                if (expected) {
                        error_at(w, n, f->hint, "'%s' must be %s, got %s: %s", path_leaf(w), expected,
                                 quote(n->value).s, why);
                        return false;
                }
        }
        if (f->check) {
                const char *expected = f->check(n->value);
                if (expected && f->secret) {
                        /* The excerpt masks it too (report.c). */
                        error_at(w, n, NULL, "'%s' must be %s (the value is secret and not shown)", path_leaf(w),
                                 expected);
                        return false;
                }
                if (expected) {
                        error_at(w, n, NULL, "'%s' must be %s, got %s", path_leaf(w), expected,
                                 quote(n->value).s);
                        return false;
                }
        }
        return true;
}

static bool expect_kind(Walker *w, const YNode *n, YNodeKind kind, const char *expected, const char *hint) {
        if (n->kind == kind)
                return true;
        error_at(w, n, hint, "'%s' must be %s, not %s", path_leaf(w), expected, ynode_describe(n));
        return false;
}

/* A plain value for a string field: any scalar but null. */
static bool expect_string(Walker *w, const YNode *n) {
        if (!expect_kind(w, n, YNODE_SCALAR, "a string", NULL))
                return false;
        if (ynode_is_null(n)) {
                error_at(w, n, NULL, "'%s' has no value", path_leaf(w));
                return false;
        }
        return true;
}

static int strval_set(StrVal *sv, const YNode *n) {
        sv->v = strdup(n->value);
        if (!sv->v)
                return -ENOMEM;
        sv->loc = n->loc;
        return 0;
}

static void parse_kv(Walker *w, const Field *f, const YNode *map, KVList *kv) {
        kv->loc = map->loc;
        kv->set = true;
        size_t n = map->n_items / 2;
        kv->items = calloc(n ?: 1, sizeof(KeyValue));
        if (!kv->items) {
                w->report->oom = true;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                const YNode *k = map->items[2 * i], *v = map->items[2 * i + 1];
                if (k->invalid || v->invalid)
                        continue;
                size_t old = path_push_key(w, k->value);
                if (f->key_check) {
                        const char *expected = f->key_check(k->value);
                        if (expected) {
                                error_at(w, k, NULL, "key %s must be %s", quote(k->value).s, expected);
                                path_pop(w, old);
                                continue;
                        }
                }
                if (v->kind != YNODE_SCALAR || ynode_is_null(v)) {
                        error_at(w, v, NULL, "'%s' must be a plain value, not %s", path_leaf(w),
                                 ynode_describe(v));
                        path_pop(w, old);
                        continue;
                }
                if (f->check) {
                        const char *expected = f->check(v->value);
                        if (expected) {
                                error_at(w, v, NULL, "'%s' must be %s, got %s", path_leaf(w), expected,
                                         quote(v->value).s);
                                path_pop(w, old);
                                continue;
                        }
                }
                KeyValue *item = kv->items + kv->n;
                if (strval_set(&item->key, k) < 0 || strval_set(&item->value, v) < 0) {
                        free(item->key.v);
                        w->report->oom = true;
                } else
                        kv->n++;
                path_pop(w, old);
        }
}

static void parse_mapping(Walker *w, const Schema *s, const YNode *map, void *obj);

static void parse_field(Walker *w, const Field *f, const YNode *n, void *slot) {
        if (n->invalid)
                return;
        if (ynode_is_null(n)) {
                /* "key:" with no value leaves an optional key unset, as if it were not written. */
                if (f->required)
                        error_at(w, n, NULL, "'%s' has no value", path_leaf(w));
                return;
        }

        switch (f->type) {
        case FIELD_STRING: {
                if (!expect_string(w, n) || !check_scalar(w, f, n))
                        return;
                if (strval_set(slot, n) < 0)
                        w->report->oom = true;
                return;
        }

        case FIELD_INT: {
                IntVal *iv = slot;
                int64_t v;
                if (!expect_kind(w, n, YNODE_SCALAR, "an integer", NULL))
                        return;
                if (n->quoted && parse_int(n->value, &v)) {
                        error_at(w, n, "remove the quotes", "'%s' must be an integer, not the string %s",
                                 path_leaf(w), quote(n->value).s);
                        return;
                }
                if (n->quoted || !parse_int(n->value, &v)) {
                        error_at(w, n, NULL, "'%s' must be an integer, got %s", path_leaf(w), quote(n->value).s);
                        return;
                }
                if (v < f->min || v > f->max) {
                        error_at(w, n, NULL, "'%s' must be between %" PRId64 " and %" PRId64 ", got %" PRId64,
                                 path_leaf(w), f->min, f->max, v);
                        return;
                }
                *iv = (IntVal) { .v = v, .loc = n->loc, .set = true };
                return;
        }

        case FIELD_BOOL: {
                BoolVal *bv = slot;
                bool v;
                if (!expect_kind(w, n, YNODE_SCALAR, "true or false", NULL))
                        return;
                if (n->quoted || !parse_bool(n->value, &v)) {
                        error_at(w, n, NULL, "'%s' must be true or false, got %s", path_leaf(w),
                                 quote(n->value).s);
                        return;
                }
                *bv = (BoolVal) { .v = v, .loc = n->loc, .set = true };
                return;
        }

        case FIELD_STRING_LIST: {
                StrList *l = slot;
                _cleanup_free_ char *hint = n->kind == YNODE_SCALAR ? strprintf("write a list: %s: [%s]", f->key,
                                                                                n->value)
                                                                     : NULL;
                if (!expect_kind(w, n, YNODE_SEQUENCE, "a list", hint)) {
                        l->dropped = true; /* written, but not usable: checks that need it stand down */
                        return;
                }
                l->loc = n->loc;
                l->set = true;
                l->items = calloc(n->n_items ?: 1, sizeof(StrVal));
                if (!l->items) {
                        w->report->oom = true;
                        return;
                }
                for (size_t i = 0; i < n->n_items; i++) {
                        size_t old = path_push_index(w, i);
                        const YNode *item = n->items[i];
                        if (!item->invalid && expect_string(w, item) && check_scalar(w, f, item)) {
                                if (strval_set(l->items + l->n, item) < 0)
                                        w->report->oom = true;
                                else
                                        l->n++;
                        } else
                                l->dropped = true;
                        path_pop(w, old);
                }
                return;
        }

        case FIELD_KV:
                if (expect_kind(w, n, YNODE_MAPPING, "a mapping", NULL))
                        parse_kv(w, f, n, slot);
                return;

        case FIELD_SECTIONS: {
                SectionList *sl = slot;
                if (!expect_kind(w, n, YNODE_MAPPING, "a mapping", NULL))
                        return;
                sl->loc = n->loc;
                sl->set = true;
                sl->items = calloc(n->n_items / 2 ?: 1, sizeof(Section));
                if (!sl->items) {
                        w->report->oom = true;
                        return;
                }
                for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                        const YNode *k = n->items[i], *v = n->items[i + 1];
                        if (k->invalid)
                                continue;
                        Field names = { .choices = f->choices, .noun = f->noun, .check = f->name_check };
                        size_t old = path_push_key(w, k->value);
                        if (check_scalar(w, &names, k) && expect_kind(w, v, YNODE_MAPPING, "a mapping", NULL)) {
                                Section *sec = sl->items + sl->n;
                                if (strval_set(&sec->name, k) < 0)
                                        w->report->oom = true;
                                else {
                                        parse_kv(w, f, v, &sec->values);
                                        sl->n++;
                                }
                        }
                        path_pop(w, old);
                }
                return;
        }

        case FIELD_OBJECT:
                if (expect_kind(w, n, YNODE_MAPPING, "a mapping", NULL))
                        parse_mapping(w, f->sub, n, slot);
                return;

        case FIELD_OBJECT_LIST: {
                struct {
                        void *items;
                        size_t n;
                        Loc loc;
                        bool set;
                        bool dropped;
                } *ol = slot;
                if (!expect_kind(w, n, YNODE_SEQUENCE, "a list", NULL))
                        return;
                ol->loc = n->loc;
                ol->set = true;
                ol->items = calloc(n->n_items ?: 1, f->elem_size);
                if (!ol->items) {
                        w->report->oom = true;
                        return;
                }
                for (size_t i = 0; i < n->n_items; i++) {
                        size_t old = path_push_index(w, i);
                        const YNode *item = n->items[i];
                        if (expect_kind(w, item, YNODE_MAPPING, "a mapping", NULL))
                                parse_mapping(w, f->sub, item, (char *) ol->items + ol->n++ * f->elem_size);
                        else
                                ol->dropped = true;
                        path_pop(w, old);
                }
                return;
        }
        }
}

static const Field *find_field(const Schema *s, const char *key, size_t *ret_index) {
        for (size_t i = 0; s->fields[i].key; i++)
                if (streq(s->fields[i].key, key)) {
                        *ret_index = i;
                        return s->fields + i;
                }
        return NULL;
}

static void report_unknown_key(Walker *w, const Schema *s, const YNode *key) {
        const char *words[65];
        size_t n = 0;
        for (; s->fields[n].key && n < ELEMENTSOF(words) - 1; n++)
                words[n] = s->fields[n].key;
        words[n] = NULL;

        const char *near = nearest_word(key->value, words);
        _cleanup_free_ char *all = join_choices(words);
        _cleanup_free_ char *hint = all ? strprintf("known keys here: %s", all) : NULL;
        const char *where = *path_str(w) ? path_str(w) : s->name;
        if (near)
                error_at(w, key, hint, "unknown key %s in %s; did you mean '%s'?", quote(key->value).s, where, near);
        else
                error_at(w, key, hint, "unknown key %s in %s", quote(key->value).s, where);
}

static void parse_mapping(Walker *w, const Schema *s, const YNode *map, void *obj) {
        uint64_t seen = 0;

        *(Loc *) obj = map->loc;

        for (size_t i = 0; i + 1 < map->n_items; i += 2) {
                const YNode *k = map->items[i], *v = map->items[i + 1];
                size_t idx;
                if (k->invalid)
                        continue;
                const Field *f = find_field(s, k->value, &idx);
                if (!f) {
                        report_unknown_key(w, s, k);
                        continue;
                }
                /* A duplicate was reported when the file was read; the first one counts. */
                if (seen & (UINT64_C(1) << idx))
                        continue;
                seen |= UINT64_C(1) << idx;

                size_t old = path_push_key(w, f->key);
                parse_field(w, f, v, (char *) obj + f->offset);
                path_pop(w, old);
        }

        for (size_t i = 0; s->fields[i].key; i++) {
                if (!s->fields[i].required || (seen & (UINT64_C(1) << i)))
                        continue;
                const char *where = *path_str(w) ? path_str(w) : s->name;
                error_at(w, map, NULL, "missing required key '%s' in %s", s->fields[i].key, where);
        }
}

void schema_parse(const Schema *s, const YNode *map, void *obj, const char *path, Report *report) {
        Walker w = { .report = report };
        if (strbuf_append(&w.path, path) < 0) {
                report->oom = true;
                return;
        }
        parse_mapping(&w, s, map, obj);
        strbuf_done(&w.path);
}

static void kv_free(KVList *kv) {
        for (size_t i = 0; i < kv->n; i++) {
                free(kv->items[i].key.v);
                free(kv->items[i].value.v);
        }
        free(kv->items);
}

void schema_free(const Schema *s, void *obj) {
        for (const Field *f = s->fields; f->key; f++) {
                void *slot = (char *) obj + f->offset;
                switch (f->type) {
                case FIELD_STRING:
                        free(((StrVal *) slot)->v);
                        break;
                case FIELD_INT:
                case FIELD_BOOL:
                        break;
                case FIELD_STRING_LIST: {
                        StrList *l = slot;
                        for (size_t i = 0; i < l->n; i++)
                                free(l->items[i].v);
                        free(l->items);
                        break;
                }
                case FIELD_KV:
                        kv_free(slot);
                        break;
                case FIELD_SECTIONS: {
                        SectionList *sl = slot;
                        for (size_t i = 0; i < sl->n; i++) {
                                free(sl->items[i].name.v);
                                kv_free(&sl->items[i].values);
                        }
                        free(sl->items);
                        break;
                }
                case FIELD_OBJECT:
                        schema_free(f->sub, slot);
                        break;
                case FIELD_OBJECT_LIST: {
                        struct {
                                void *items;
                                size_t n;
                        } *ol = slot;
                        for (size_t i = 0; i < ol->n; i++)
                                schema_free(f->sub, (char *) ol->items + i * f->elem_size);
                        free(ol->items);
                        break;
                }
                }
        }
}
