/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

/* One YAML document as a tree, every node remembering where it came from. Built from libyaml's event stream
 * rather than its document API so that aliases (and with them "billion laughs" expansion) are refused,
 * duplicate keys are found, and nesting depth and value size are bounded. */

typedef enum YNodeKind {
        YNODE_SCALAR,
        YNODE_SEQUENCE,
        YNODE_MAPPING,
} YNodeKind;

typedef struct YNode {
        YNodeKind kind;
        Loc loc;
        /* Scalars: the value (NUL-terminated; len excludes the NUL) and whether it was quoted or a block
         * scalar, which makes it a string whatever it looks like. */
        char *value;
        size_t len;
        bool quoted;
        bool invalid; /* reported already (a value too long): to be skipped without further messages */
        /* Sequences: items. Mappings: keys at even and values at odd indexes. */
        struct YNode **items;
        size_t n_items;
        size_t allocated;
} YNode;

#define YAML_MAX_DEPTH 64
#define YAML_MAX_SCALAR (64 * 1024)

/* Parses source file `file` of the set. Problems go to the report. Returns the root node, or NULL when the
 * file is empty or could not be parsed (a problem has then been reported). */
YNode *yaml_tree_parse(SourceSet *sources, uint32_t file, Report *report);
void ynode_free(YNode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(YNode *, ynode_free);

/* A null is an empty plain scalar, "~" or "null": "key:" with nothing after it. */
bool ynode_is_null(const YNode *n);
/* What a user would call the node: "a mapping", "a list", "a string", "null", "an integer". */
const char *ynode_describe(const YNode *n);
