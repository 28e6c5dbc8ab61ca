/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Files built into the binary (tools/embed-files.py): the systemd units and sysusers.d entries that
 * `clusterboot install` puts into an image. */
typedef struct EmbeddedFile {
        const char *path; /* where it goes: "/etc/systemd/system/etcd.service" */
        mode_t mode;
        size_t size;
        const char *content;
} EmbeddedFile;

extern const EmbeddedFile embedded_files[];
extern const size_t n_embedded_files;
