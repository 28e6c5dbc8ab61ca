/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "report.h"

/* What a new inventory would change in a running cluster (`clusterboot apply`), judged against the inventory
 * the cluster runs. Both must be valid already. A change the cluster cannot take in place is an error in
 * the report, pointing at the new inventory's value that makes it (or at its file), saying why and what to
 * do instead: networks, names and addresses the certificates carry, a renamed or readdressed node, more
 * than one etcd member or Ceph monitor at once or a removal below quorum, a master or monitor role given to
 * or taken from a running node, Kafka's voters (KRaft 3.6's quorum is static), versions the image carries. What it can take is listed in the diff. */

typedef struct NodeChange {
        char *name;
        char **what; /* "labels", "taints", "roles", ... in a fixed order */
        size_t n_what;
} NodeChange;

typedef struct InventoryDiff {
        char **added; /* node names, in name order */
        size_t n_added;
        char **removed;
        size_t n_removed;
        NodeChange *changed; /* nodes in both whose settings differ */
        size_t n_changed;
        char **settings; /* cluster-wide settings that differ: "kubernetes.extra_args", "dns.forwarders", ... */
        size_t n_settings;
} InventoryDiff;

void inventory_diff_done(InventoryDiff *d);
static inline bool inventory_diff_empty(const InventoryDiff *d) {
        return d->n_added == 0 && d->n_removed == 0 && d->n_changed == 0 && d->n_settings == 0;
}

/* Compares proposed with running. Refusals go to report (whose sources are proposed's; a refusal about a
 * node that is gone points at proposed's cluster.yaml). Returns 0 or -ENOMEM; the diff is filled either
 * way, refusals or not. */
int inventory_compare(const Inventory *running, const Inventory *proposed, Report *report, InventoryDiff *ret);

/* {"added": [...], "removed": [...], "changed": [{"node", "what": [...]}], "settings": [...]}, or NULL. */
json_t *inventory_diff_json(const InventoryDiff *d);
