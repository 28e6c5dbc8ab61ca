/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: an answer of etcd's gateway, as the client parses it (member list and add, errors,
 * then ETCD_INITIAL_CLUSTER from what was parsed; a key's value, a range of keys as the auto_register registry, a
 * transaction's outcome, a stored inventory, the join service's /v1/inventory answer). */
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>

#include "etcd-client.h"
#include "inventory-store.h"
#include "join-record.h"
#include "secret-formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A stored inventory (inventory-store.h), loaded and validated as apply and sync do, and the registered
 * machines (if any) added as sync does. */
static void decode(const char *doc, size_t size, const RegistrationList *registered) {
        Report report;
        Inventory *inv = NULL;
        int64_t version;
        report_init(&report, NULL);
        if (inventory_store_decode(doc, size, &report, &inv, &version) >= 0) {
                inventory_validate(inv, &report);
                if (registered)
                        (void) registration_list_merge(inv, registered, NULL, NULL);
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
                decode(v.value, v.size, NULL);
                etcd_value_done(&v);
        }
        /* What the join service passes on, with the registry. */
        json_t *answer = json_loadb(body, size, 0, NULL);
        RegistrationList reg = {};
        bool have = registration_list_from_json(json_object_get(answer, "registered"), &reg) >= 0;
        int64_t version;
        char *secret = NULL;
        if (join_secret_record_parse(json_object_get(answer, "join_secret"), &version, &secret) >= 0)
                secret_free(secret);
        json_decref(answer);
        decode(body, size, have ? &reg : NULL);
        registration_list_done(&reg);
        EtcdKeyValue *kvs = NULL;
        size_t n_kvs = 0;
        bool more;
        if (etcd_parse_range_all(body, size, &kvs, &n_kvs, &more) >= 0) {
                if (registration_list_from_kvs(kvs, n_kvs, &reg) >= 0)
                        registration_list_done(&reg);
                etcd_key_values_free(kvs, n_kvs);
        }
        EtcdValue reads[2] = {};
        if (etcd_parse_txn(body, size, reads, 2) == 0) {
                etcd_value_done(reads);
                etcd_value_done(reads + 1);
        }
        int64_t lease;
        (void) etcd_parse_lease_grant(body, size, &lease);
        return 0;
}
