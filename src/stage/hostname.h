/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

/* The running system's hostname set to name (as sethostname(2)), when it differs. At first boot systemd has
 * read /etc/hostname before `clusterboot network` wrote it: without this the machine would go by
 * "localhost" (its login prompt, its journal) until the next boot. 0 and *ret_changed; a negative errno
 * (-EINVAL for a name the kernel does not take). */
int hostname_apply(const char *name, bool *ret_changed);
