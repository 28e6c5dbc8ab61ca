/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: an answer of etcd's gateway, as the client parses it (member list and add, errors,
 * then ETCD_INITIAL_CLUSTER from what was parsed; a key's value, a transaction's outcome, a stored inventory). */
#include <stdint.h>
#include <stdlib.h>

#include "etcd-client.h"
#include "inventory-store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stored inventory (inventory-store.h), loaded and validated as apply and sync do. */
static void decode(const char *doc, size_t size) {
        Report report;
        Inventory *inv = NULL;
        int64_t version;
        report_init(&report, NULL);
        if (inventory_store_decode(doc, size, &report, &inv, &version) >= 0) {
                inventory_validate(inv, &report);
                inventory_free(inv);
        }
        report_done(&report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *body = (const char *) data;
        EtcdMemberList l = {};
        uint64_t id;
        bool skip;

        if (etcd_parse_member_list(body, size, NULL, &l) >= 0) {
                free(etcd_initial_cluster(&l, "master-09", "https://10.20.0.19:2380"));
                etcd_member_list_done(&l);
        }
        if (etcd_parse_member_list(body, size, &id, &l) >= 0)
                etcd_member_list_done(&l);
        (void) etcd_parse_error(503, body, size, &skip);
        EtcdValue v = {};
        if (etcd_parse_range(body, size, &v) >= 0) {
                decode(v.value, v.size);
                etcd_value_done(&v);
        }
        decode(body, size); /* what the join service passes on as it is */
        EtcdValue reads[2] = {};
        if (etcd_parse_txn(body, size, reads, 2) == 0) {
                etcd_value_done(reads);
                etcd_value_done(reads + 1);
        }
        int64_t lease;
        (void) etcd_parse_lease_grant(body, size, &lease);
        return 0;
}
