/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

static LogLevel max_level = LOG_LEVEL_INFO;

void log_set_max_level(LogLevel level) {
        max_level = level;
}

LogLevel log_get_max_level(void) {
        return max_level;
}

int log_internal(LogLevel level, int err, const char *fmt, ...) {
        int ret = err < 0 ? err : -err;

        if (level > max_level)
                return ret;

        /* glibc's printf expands %m from errno. */
        int saved = errno;
        errno = err < 0 ? -err : err;

        static const char *const prefix[] = {
                [LOG_LEVEL_ERROR] = "error: ",
                [LOG_LEVEL_WARNING] = "warning: ",
                [LOG_LEVEL_INFO] = "",
                [LOG_LEVEL_DEBUG] = "debug: ",
        };

        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "clusterboot: %s", prefix[level]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);

        errno = saved;
        return ret;
}
