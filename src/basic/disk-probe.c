/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "disk-probe.h"
#include "macro.h"
#include "process.h"
#include "string-util.h"
#include "banned.h"

#define BLKID "/sbin/blkid"

void disk_content_done(DiskContent *c) {
        free(c->type);
        *c = (DiskContent){};
}

int disk_content_parse(int status, const char *output, DiskContent *c) {
        if (status == 2) { /* blkid -p: nothing identified */
                disk_content_done(c);
                c->blank = true;
                return 0;
        }
        if (status != 0 || !output)
                return -EINVAL;
        char *type = NULL, *pttype = NULL;
        for (const char *line = output; *line;) {
                size_t len = strcspn(line, "\n");
                char **slot = startswith(line, "TYPE=") ? &type : startswith(line, "PTTYPE=") ? &pttype : NULL;
                if (slot && !*slot) {
                        size_t skip = strcspn(line, "=") + 1;
                        *slot = strndup(line + skip, len - skip);
                        if (!*slot) {
                                free(type);
                                free(pttype);
                                return -ENOMEM;
                        }
                }
                line += len + (line[len] == '\n');
        }
        if (!type && !pttype) /* blkid said it found something, and named nothing */
                return -EINVAL;
        disk_content_done(c);
        c->type = type ?: pttype;
        if (type)
                free(pttype);
        return 0;
}

int disk_probe(const char *device, DiskContent *ret, char **ret_why) {
        _cleanup_free_ char *output = NULL;
        struct stat st;
        /* blkid -p says "nothing found" (2) for a path that does not exist, too. */
        if (stat(device, &st) < 0) {
                int r = -errno;
                *ret_why = strprintf("%s: %s", device, strerror(-r));
                return r;
        }
        if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
                *ret_why = strprintf("%s is not a disk", device);
                return -ENOTBLK;
        }
        char *argv[] = { BLKID, "-p", "-o", "export", (char *) device, NULL };
        int status = run_program(argv, &output);
        if (status < 0) {
                *ret_why = strprintf("cannot run %s: %s", BLKID, strerror(-status));
                return status;
        }
        int r = disk_content_parse(status, output, ret);
        if (r == -EINVAL) {
                *ret_why = strprintf("%s -p %s failed (exit %d): %s", BLKID, device, status, output_last_line(output));
                return -EIO;
        }
        return r;
}
