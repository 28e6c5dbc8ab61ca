/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bootstrap.h"

/* The bootstrap state machine as a table: every stage of every role, in the order `clusterboot bootstrap`
 * runs them (IMPLEMENTATION.md's boot flow). A stage applies to a node by its roles. It may have
 *   run     idempotent work (bootstrap.h): 0 done, -EAGAIN not possible yet, < 0 failed;
 *   units   started once run is done (live only; under --root nothing is started), a failed one reset
 *           first; "%n" stands for the node's name (ceph-mon@%n.service), "%o" for the id of each OSD it made
 *           (Ceph's, osd-record.h: one unit per OSD);
 *   program the program those units run: when the image lacks it the stage is skipped with a warning (an
 *           image without Kafka, say), and tried again on the next boot;
 *   gate    a health check after the units start: 0 healthy, -EAGAIN not yet (c->message says what was
 *           seen, naming the service).
 * A stage whose gate passed (or whose run finished, without a gate) is recorded in steps/<name>. */

typedef struct Stage {
        const char *name;
        bool (*applies)(const Node *n);
        int (*run)(BootstrapContext *c);
        const char *units[3];
        const char *program;
        int (*gate)(BootstrapContext *c);
        const char *summary; /* for `help bootstrap` and the docs */
        bool (*in_cluster)(const Inventory *inv); /* NULL, or the cluster must have what the stage sets up */
} Stage;

/* The stage is one of node's: its roles, and what the cluster runs. */
bool stage_applies(const Stage *s, const Inventory *inv, const Node *node);

extern const Stage stages[];
extern const size_t n_stages;

const Stage *stage_find(const char *name);
/* The units of s for node, "%n" expanded to its name and "%o" to the ids of the OSDs it made (osd-record.h,
 * under root) (malloc()ed). */
int stage_units(const Stage *s, const Node *node, const char *root, char ***ret, size_t *ret_n);
/* "secrets, certificates, ...": every stage name, for messages. */
char *stage_names(void);
