/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "embedded-files.h"

/* The files of image/ built into the binary (tools/embed-files.py, image/meson.build): the initramfs boot
 * script and hook, and repart.d, that `clusterboot image build` adds to the root tree. */
extern const EmbeddedFile image_files[];
extern const size_t n_image_files;
