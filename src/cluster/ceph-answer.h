/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* What the bootstrap stages read of the Ceph tools' answers. A tool may log to stderr before its answer and an
 * admin socket answers over several lines, so the answer is the first JSON object that starts a line. Pure:
 * tests/cluster/test-ceph-answer.c, and tests/cluster/fuzz-ceph-answer.c under libFuzzer. */

/* The first JSON object of output that starts a line, or NULL. */
json_t *ceph_output_json(const char *output);

/* `ceph mgr stat --format json`: the active manager's name ("" while none is) and whether it is available.
 * -EBADMSG: no JSON object in output; -ENOMEM. */
int ceph_mgr_stat_parse(const char *output, char **ret_active, bool *ret_available);

/* `ceph-bluestore-tool show-label --dev DEV` ({"DEV": {"osd_uuid": ...}}): the OSD uuid of the label, or NULL
 * (none, or out of memory). */
char *ceph_label_osd_uuid(const char *output);

/* `ceph osd new UUID -i FILE --format json` ({"osdid": 3}): the id Ceph gave the OSD (the same again for the
 * same uuid). -EBADMSG: no such answer. */
int ceph_osd_new_parse(const char *output, int64_t *ret_id);

/* A daemon's own status: `ceph --admin-daemon OSD.asok status` ("active", "booting" ...), `ceph tell mon.NAME
 * mon_status` ("leader", "peon", "electing" ...). Its state, or NULL (none, or out of memory). */
char *ceph_daemon_state(const char *output);

/* `ceph quorum_status --format json`: the monitors of the monmap ("monmap": {"mons": [{"name"}, ...]}), in
 * rank order, each with whether it is in the quorum ("quorum_names"). */
typedef struct CephMonitor {
        char *name;
        bool in_quorum;
} CephMonitor;
typedef struct CephQuorum {
        CephMonitor *mons;
        size_t n;
} CephQuorum;
/* -EBADMSG: no JSON object, or not a quorum status; -ENOMEM. */
int ceph_quorum_parse(const char *output, CephQuorum *ret);
void ceph_quorum_done(CephQuorum *q);
