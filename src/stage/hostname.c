/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hostname.h"
#include "string-util.h"
#include "banned.h"

int hostname_apply(const char *name, bool *ret_changed) {
        char cur[256] = {};
        size_t n = strlen(name);
        if (n == 0 || n > 64)
                return -EINVAL;
        if (gethostname(cur, sizeof(cur) - 1) < 0)
                return -errno;
        if (streq(cur, name)) {
                *ret_changed = false;
                return 0;
        }
        if (sethostname(name, n) < 0)
                return -errno;
        *ret_changed = true;
        return 0;
}
