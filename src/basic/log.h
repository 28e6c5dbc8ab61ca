/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "macro.h"

typedef enum LogLevel {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
} LogLevel;

/* Where messages go (SPEC "Logs"): text on stderr for a person; one JSON object per line (timestamp, level,
 * node, stage, message); or the journal with those as fields. log_setup() chooses from $CLUSTERBOOT_LOG
 * (text, json, journal), else the journal when stderr is the journal stream systemd gave the service
 * ($JOURNAL_STREAM), else text. */
typedef enum LogTarget {
        LOG_TARGET_TEXT,
        LOG_TARGET_JSON,
        LOG_TARGET_JOURNAL,
} LogTarget;

/* log_setup() also takes the most verbose level printed from $CLUSTERBOOT_LOG_LEVEL (error, warning, info,
 * debug; default info). debug shows the decisions: which selector matched, why a node is or is not the
 * first master, each master asked and its answer, what a disk holds. */
void log_setup(void);
void log_set_target(LogTarget t);
void log_set_max_level(LogLevel level);
/* Debug messages are printed: worth composing one that costs work. */
bool log_debug_enabled(void);
/* "error", "warning", "info" or "debug" as a level; -EINVAL for anything else. */
int log_level_from_string(const char *s);
/* What every message is about; NULL clears. The strings must outlive their use. */
void log_set_context(const char *node, const char *stage);

/* Logs one message to stderr. When err is non-zero, "%m" in fmt expands to strerror(err). Returns
 * -abs(err), so that "return log_error_errno(r, ...);" propagates the error. */
int log_internal(LogLevel level, int err, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_internal(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(err, ...) log_internal(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) log_internal(LOG_LEVEL_WARNING, (err), __VA_ARGS__)
