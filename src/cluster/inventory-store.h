/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>

#include "etcd-client.h"
#include "inventory.h"

/* The inventory a running cluster runs, stored in its etcd by `apply` (SPEC "Day two"): the key
 * INVENTORY_KEY holds the current version, INVENTORY_HISTORY_KEY/NNNNNNNN (zero-padded) every version ever
 * stored, so that the Kubernetes API server's compaction of old revisions loses none. The value is
 *   {"version": N, "files": {"cluster.yaml": "...", "nodes/worker-01.yaml": "...", ...}}
 * with the inventory's YAML files byte for byte, as the loader read them. */
#define INVENTORY_KEY "/clusterboot/inventory"
#define INVENTORY_HISTORY_KEY "/clusterboot/inventory-history"

/* The document for inv's files at version. 0, -EINVAL (a file is not UTF-8: JSON cannot hold it), -ENOMEM. */
int inventory_store_encode(const Inventory *inv, int64_t version, char **ret);
/* A stored document back into an inventory (loaded, not validated), its files shown as "etcd:vN/FILE".
 * -EBADMSG when it is not one. */
int inventory_store_decode(const char *doc, size_t size, Report *report, Inventory **ret, int64_t *ret_version);

typedef struct StoredInventory {
        Inventory *inv;        /* NULL when etcd holds none yet */
        int64_t version;       /* 0 when none */
        int64_t mod_revision;  /* of INVENTORY_KEY: the guard of the next store */
} StoredInventory;

void stored_inventory_done(StoredInventory *s);
/* The current stored inventory (problems with it in report), or none. Errors as etcd_get()'s. */
int inventory_store_get(const char *const *endpoints, size_t n, const EtcdTls *tls, unsigned timeout_ms,
                        Report *report, StoredInventory *ret);
/* Stores inv as version prev->version + 1, if nobody stored another since prev was read: -ESTALE then. */
int inventory_store_put(const char *const *endpoints, size_t n, const EtcdTls *tls, unsigned timeout_ms,
                        const StoredInventory *prev, const Inventory *inv);
