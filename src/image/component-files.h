/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "embedded-files.h"

/* The files of image/ that `clusterboot binaries` and `image build` need besides the components themselves
 * (tools/embed-files.py, image/meson.build): "/components.lock" (the lock the binary was released with),
 * "/recipes/NAME.sh" (what `binaries fetch` runs), and "/NAME/PATH": a file component NAME brings into the
 * root tree at PATH (Kafka's bin/ scripts and logging configuration). */
extern const EmbeddedFile component_files[];
extern const size_t n_component_files;

#define COMPONENT_FILES_LOCK "/components.lock"
#define COMPONENT_FILES_RECIPES "/recipes/"
