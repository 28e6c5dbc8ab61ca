/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "report.h"
#include "yaml-tree.h"

/* Table-driven conversion of a YAML tree into the typed model (after netplan's parse.c): each mapping is
 * described by a table of {key, type, offset}; an unknown key is reported at the table lookup, with the
 * nearest known key as a suggestion. Only structure and the form of single values are checked here;
 * relations between values are validate.c's. */

typedef enum FieldType {
        FIELD_STRING,      /* StrVal */
        FIELD_INT,         /* IntVal, within [min, max] */
        FIELD_BOOL,        /* BoolVal */
        FIELD_STRING_LIST, /* StrList */
        FIELD_KV,          /* KVList: name -> plain value */
        FIELD_SECTIONS,    /* SectionList: name -> (name -> plain value) */
        FIELD_OBJECT,      /* a struct described by sub; its first member is a Loc */
        FIELD_OBJECT_LIST, /* struct { T *items; size_t n; Loc loc; bool set, dropped; } of elements of sub */
} FieldType;

/* Returns NULL when value is acceptable, else a description of what is expected ("an IPv4 or IPv6
 * address"). */
typedef const char *(*ValueCheck)(const char *value);
/* A check that also says what is wrong with a value it refuses, in why ("label 2 is empty ('..')"). */
typedef const char *(*ValueExplain)(const char *value, char *why, size_t size);

typedef struct Schema Schema;

typedef struct Field {
        const char *key;
        FieldType type;
        size_t offset;
        bool required;
        const Schema *sub; /* FIELD_OBJECT, FIELD_OBJECT_LIST */
        size_t elem_size;  /* FIELD_OBJECT_LIST */
        int64_t min, max;  /* FIELD_INT */
        /* FIELD_STRING and FIELD_STRING_LIST items; FIELD_SECTIONS section names: */
        const char *const *choices; /* NULL-terminated */
        const char *noun;           /* what a choice is called: "role", "service" */
        bool secret; /* never quote the value or show its line in a diagnostic */
        ValueCheck check; /* FIELD_KV and FIELD_SECTIONS: for the innermost values */
        /* FIELD_STRING, instead of check: the error says what is wrong, with hint (may be NULL) below it.
         * It quotes the value: not for a secret field. */
        ValueExplain explain;
        const char *hint;
        /* FIELD_SECTIONS: check for the section names (when there are no choices). */
        ValueCheck name_check;
        /* FIELD_KV and FIELD_SECTIONS: check for the keys of the innermost mapping. */
        ValueCheck key_check;
} Field;

struct Schema {
        const char *name; /* "cluster", "node entry": for messages */
        const Field *fields; /* terminated by an entry with key == NULL */
};

/* Fills obj (zeroed by the caller) from map. path is the logical path of map ("" for a root). */
void schema_parse(const Schema *s, const YNode *map, void *obj, const char *path, Report *report);
/* Frees what schema_parse() allocated in obj; obj itself is the caller's. */
void schema_free(const Schema *s, void *obj);
