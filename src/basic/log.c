/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "log.h"
#include "banned.h"

static LogLevel max_level = LOG_LEVEL_INFO;
static LogTarget target = LOG_TARGET_TEXT;
static const char *context_node, *context_stage;

void log_set_target(LogTarget t) {
        target = t;
}

void log_set_max_level(LogLevel level) {
        max_level = level;
}

bool log_debug_enabled(void) {
        return max_level >= LOG_LEVEL_DEBUG;
}

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

int log_level_from_string(const char *s) {
        for (size_t i = 0; s && i < sizeof(level_names) / sizeof(level_names[0]); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

void log_set_context(const char *node, const char *stage) {
        context_node = node;
        context_stage = stage;
}

/* $JOURNAL_STREAM is "DEV:INO" of the stream systemd connected stdout/stderr to. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;
        unsigned long long dev, ino;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(void) {
        const char *e = getenv("CLUSTERBOOT_LOG");
        if (e && strcmp(e, "json") == 0)
                target = LOG_TARGET_JSON;
        else if (e && strcmp(e, "journal") == 0)
                target = LOG_TARGET_JOURNAL;
        else if (e && strcmp(e, "text") == 0)
                target = LOG_TARGET_TEXT;
        else
                target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_TEXT;
        const char *l = getenv("CLUSTERBOOT_LOG_LEVEL");
        int level = l && *l ? log_level_from_string(l) : LOG_LEVEL_INFO;
        max_level = level >= 0 ? (LogLevel) level : LOG_LEVEL_INFO;
        if (level < 0)
                log_warning("CLUSTERBOOT_LOG_LEVEL=%s is no level (error, warning, info or debug): info", l);
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

        static const int priorities[] = {
                [LOG_LEVEL_ERROR] = LOG_ERR,
                [LOG_LEVEL_WARNING] = LOG_WARNING,
                [LOG_LEVEL_INFO] = LOG_INFO,
                [LOG_LEVEL_DEBUG] = LOG_DEBUG,
        };

        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (target == LOG_TARGET_JOURNAL) {
                sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", priorities[level], "SYSLOG_IDENTIFIER=clusterboot",
                                "CLUSTERBOOT_NODE=%s", context_node ? context_node : "",
                                "CLUSTERBOOT_STAGE=%s", context_stage ? context_stage : "", NULL);
        } else if (target == LOG_TARGET_JSON) {
                struct timespec ts;
                struct tm tm;
                char stamp[64];
                clock_gettime(CLOCK_REALTIME, &ts);
                gmtime_r(&ts.tv_sec, &tm);
                size_t k = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
                snprintf(stamp + k, sizeof(stamp) - k, ".%03ldZ", ts.tv_nsec / 1000000);
                json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:s}", "timestamp", stamp, "level", level_names[level], "node",
                                      context_node, "stage", context_stage, "message", msg);
                char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
                fprintf(stderr, "%s\n", line ? line : msg);
                free(line);
                json_decref(o);
        } else
                fprintf(stderr, "clusterboot: %s%s\n", prefix[level], msg);

        errno = saved;
        return ret;
}
