/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what the Ceph tools answer, as the bootstrap stages read it (src/cluster/ceph-answer.c):
 * the input is read as `ceph mgr stat`, as `ceph-bluestore-tool show-label`, as a daemon's status and as
 * `ceph quorum_status` (what sync reads). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ceph-answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), *active = NULL;
        bool available;
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (ceph_mgr_stat_parse(text, &active, &available) >= 0)
                free(active);
        free(ceph_label_osd_uuid(text));
        free(ceph_daemon_state(text));
        int64_t id;
        (void) ceph_osd_new_parse(text, &id);
        CephQuorum q = {};
        if (ceph_quorum_parse(text, &q) >= 0)
                ceph_quorum_done(&q);
        free(text);
        return 0;
}
