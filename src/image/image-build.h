/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "components.h"
#include "image.h"

/* The side of `clusterboot image build` that runs tools: debootstrap into a cache, `clusterboot install`,
 * update-initramfs, sfdisk, mkfs.vfat, mtools, mkfs.ext4, mksquashfs and cpio, each a child process. It
 * copies the components of the lock the image carries (each checked against its digest first). It
 * builds into a staging folder under the output folder and moves the outputs into place only when all of
 * them are complete; on failure the output folder is as it was. It does not log: progress goes to a
 * callback, and a failure is described in an ImageError for the command layer to print. */

typedef struct ImageBuildOptions {
        const char *inventory; /* the inventory folder, for `clusterboot install` */
        const char *out;       /* the output folder (made if missing) */
        const char *cache;     /* the base trees, one per package list */
        const char *mirror;    /* Debian mirror for debootstrap */
        unsigned formats;      /* ImageFormat flags */
        const char *self;      /* this program, to run `install` with */
        const char *secrets;   /* the cluster's secrets bundle */
        bool embedded;         /* --secret-policy embedded */
        int64_t source_date_epoch; /* < 0: the date of the Debian release the base was made from */
        const Lock *lock;          /* the components lock */
        const char *components;    /* the folder `clusterboot binaries fetch` fills */
        bool with_component[_COMPONENT_MAX]; /* what the image carries (its checked payload copied in) */
} ImageBuildOptions;

typedef struct ImageError {
        char *step;   /* the step that failed: "base", "disk"... */
        char *what;   /* what failed in it, one line */
        char *output; /* the tool's last lines, or NULL */
        char *hint;   /* how to fix it, or NULL */
} ImageError;
void image_error_done(ImageError *e);

/* One call when a step starts (done false) and one when it has ended (done true, with its seconds and a
 * short note such as "reused" or a size). */
typedef void (*ImageProgress)(unsigned index, unsigned total, const char *step, bool done, double seconds,
                              const char *note, void *userdata);

/* The tools the chosen formats need that are missing from this machine, as "tool (Debian package)", comma
 * separated; NULL when all are there (or out of memory: check errno). */
char *image_missing_tools(unsigned formats);

int image_build(const Inventory *inv, const ImageBuildOptions *o, ImageProgress progress, void *userdata,
                ImageError *ret_error);
