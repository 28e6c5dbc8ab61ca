/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: an answer of etcd's gateway, as the client parses it (member list and add, errors,
 * then ETCD_INITIAL_CLUSTER from what was parsed; a key's value, a transaction's outcome). */
#include <stdint.h>
#include <stdlib.h>

#include "etcd-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        if (etcd_parse_range(body, size, &v) >= 0)
                etcd_value_done(&v);
        (void) etcd_parse_txn(body, size);
        return 0;
}
