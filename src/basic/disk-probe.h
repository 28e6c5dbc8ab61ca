/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* What a disk holds, as `blkid -p` (low-level probing of the device itself, not blkid's cache) sees it: the
 * one rule by which clusterboot decides that a disk is blank before it formats it (the state disk, a Ceph
 * OSD's device). A disk that is not blank is never written without the operator's say. */
typedef struct DiskContent {
        bool blank; /* no signature: no file system, partition table, RAID or BlueStore label */
        char *type; /* blkid's TYPE= ("ext4", "ceph_bluestore") or, without one, PTTYPE= ("gpt"); NULL if blank */
} DiskContent;

void disk_content_done(DiskContent *c);

/* `blkid -p -o export DEVICE`'s exit status and output into *c: 0 with TYPE= or PTTYPE= lines, or 2 for a
 * device with no signature. -EINVAL for anything else (blkid failed; *c unchanged). */
int disk_content_parse(int status, const char *output, DiskContent *c);

/* Runs blkid -p on device (a block device, or a file standing in for one). 0, or a negative errno with
 * *ret_why (malloc()ed) saying what failed: -ENOENT when there is no such device, -ENOTBLK when it is no
 * disk, -EIO when blkid failed. */
int disk_probe(const char *device, DiskContent *ret, char **ret_why);
