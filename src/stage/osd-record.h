/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "paths.h"

/* The Ceph OSDs a node made, one per device of its ceph.osd_devices: the uuid chosen before `ceph osd new`
 * and the id Ceph answered. An OSD's id is Ceph's, never the inventory's: removing or adding a disk renumbers
 * no other OSD. Kept in OSD_RECORD_PATH:
 *   {"osds": [{"device": "/dev/sdb", "uuid": "8c1e...", "id": 3}, ...]}
 * "id" is absent while Ceph has not answered (a run that died in `ceph osd new` repeats it with the same
 * uuid, and Ceph answers the same id). A device that left the node file keeps its record: its OSD is still
 * in Ceph's map, and the same disk named again is the same OSD. Each OSD's cephx key is beside it, in
 * OSD_RECORD_DIR/UUID.key (0600). */

#define OSD_RECORD_DIR STATE_DIR "/ceph-osd"
#define OSD_RECORD_PATH OSD_RECORD_DIR "/osds.json"

typedef struct OsdRecord {
        char *device;
        char uuid[37];
        int64_t id; /* -1 until `ceph osd new` answered */
} OsdRecord;

typedef struct OsdRecords {
        OsdRecord *items;
        size_t n;
} OsdRecords;

/* The node's records under root. No file: none, or those a node kept before osds.json (osd.ID.uuid beside
 * it, the OSD's block link to its device). -EBADMSG for a file that is not a record (its path is the
 * caller's to name). */
int osd_records_load(const char *root, OsdRecords *ret);
/* Written atomically (0644: no secret in it). */
int osd_records_save(const char *root, const OsdRecords *r);
/* The record of device, or NULL. */
OsdRecord *osd_records_find(const OsdRecords *r, const char *device);
/* Where the OSD's cephx key is (0600): OSD_RECORD_DIR/UUID.key, or osd.ID.key as written before osds.json.
 * malloc()ed, or NULL. */
char *osd_key_path(const char *root, const OsdRecord *o);
/* Forgets o (its OSD is gone: purged, or its disk replaced); pointers into r after it move. */
void osd_records_remove(OsdRecords *r, OsdRecord *o);
/* A new record of device with uuid and no id yet; *ret points into r (valid until the next add). */
int osd_records_add(OsdRecords *r, const char *device, const char *uuid, OsdRecord **ret);
void osd_records_done(OsdRecords *r);

/* device is one of the OSD devices of n's node file (and n has the ceph-osd role). */
bool osd_node_lists(const Node *n, const char *device);

/* The ids Ceph gave the OSDs of the devices n lists (in the node file's order), or of those it no longer
 * lists (gone = true): only records with an id. *ret is malloc()ed (NULL when there is none). */
int osd_ids_select(const OsdRecords *r, const Node *n, bool gone, int64_t **ret, size_t *ret_n);
/* The same from the records under root. */
int osd_node_ids(const char *root, const Node *n, bool gone, int64_t **ret, size_t *ret_n);
