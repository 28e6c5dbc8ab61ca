/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "disk-probe.h"

/* The state disk (a node file's state.disk): where a node keeps what it cannot make again, when its root
 * forgets (a live or netbooted root runs from RAM). First boot formats it when it is blank, marks it with the
 * cluster's and the node's names, and bind-mounts a folder of it over each directory of state_disk_paths, so
 * that certificates, etcd's, Ceph's, Kafka's and the kubelet's data outlive a reboot. A disk that holds
 * anything else (another file system, a partition table, another cluster's or node's state) is refused and
 * left as it is: never wiped. Everything else on the node (its configuration) is rendered again at each boot. */

/* Where the disk is mounted, as seen on the node. */
#define STATE_DISK_MOUNT "/run/clusterboot/state"
/* At the disk's root: the cluster and node it belongs to, and when it was made (JSON). */
#define STATE_DISK_MARKER "clusterboot-state.json"
#define STATE_DISK_LABEL "cb-state"

/* The directories kept on the disk, in mount order. */
extern const char *const state_disk_paths[];
extern const size_t state_disk_n_paths;

/* What a disk holds: blkid -p's view of it, and for an ext4 file system, the marker on it. */
typedef struct StateDiskProbe {
        DiskContent content;
        bool marked;  /* an ext4 whose root has a readable marker */
        char *cluster, *node, *created; /* the marker's */
} StateDiskProbe;

void state_disk_probe_done(StateDiskProbe *p);

/* The marker's JSON into *p (marked, cluster, node, created); -EINVAL when it is not a marker. */
int state_disk_parse_marker(const char *text, StateDiskProbe *p);
/* The marker for a disk made now (created: RFC 3339, UTC). NULL on allocation failure. */
char *state_disk_format_marker(const char *cluster, const char *node, const char *created);

typedef enum StateDiskAction {
        STATE_DISK_FORMAT, /* blank: make the file system and the marker */
        STATE_DISK_USE,    /* this node's, of this cluster */
        STATE_DISK_REFUSE, /* anything else, with *ret_why */
} StateDiskAction;

/* The rule, pure. *ret_why (malloc()ed) says why a disk is refused, in words for the operator. */
StateDiskAction state_disk_decide(const StateDiskProbe *p, const char *cluster, const char *node, char **ret_why);

typedef struct StateDiskResult {
        bool formatted;  /* made by this run */
        bool was_mounted; /* found mounted by an earlier run in this boot */
        char *created;   /* the marker's date */
        size_t n_seeded; /* directories copied from the root onto the disk (their first use) */
} StateDiskResult;

void state_disk_result_done(StateDiskResult *r);

/* Under root (NULL: /), waits up to wait_seconds for device, probes it, formats it when blank, mounts it at
 * STATE_DISK_MOUNT and bind-mounts its copy of each of state_disk_paths over the root's (a directory's first
 * use copies the root's content onto the disk, into a temporary name renamed when complete). Idempotent:
 * what an earlier run of this boot mounted is kept. Returns 0, or a negative errno with *ret_why saying what
 * failed in words (-ENOENT: no such device; -EEXIST: the disk holds something else, left untouched). */
int state_disk_setup(const char *root, const char *device, const char *cluster, const char *node,
                     unsigned wait_seconds, StateDiskResult *ret, char **ret_why);
