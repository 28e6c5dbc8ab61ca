/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ceph-answer.h"
#include "string-util.h"
#include "banned.h"

json_t *ceph_output_json(const char *output) {
        for (const char *line = output; line && *line;) {
                if (*line == '{') {
                        json_t *j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
                        if (json_is_object(j))
                                return j;
                        json_decref(j);
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return NULL;
}

int ceph_mgr_stat_parse(const char *output, char **ret_active, bool *ret_available) {
        _cleanup_(json_decrefp) json_t *stat = ceph_output_json(output);
        if (!stat)
                return -EBADMSG;
        char *active = strdup(strempty(json_string_value(json_object_get(stat, "active_name"))));
        if (!active)
                return -ENOMEM;
        *ret_active = active;
        *ret_available = json_is_true(json_object_get(stat, "available"));
        return 0;
}

char *ceph_label_osd_uuid(const char *output) {
        _cleanup_(json_decrefp) json_t *label = ceph_output_json(output);
        const char *key;
        json_t *v;
        json_object_foreach (label, key, v) {
                const char *uuid = json_string_value(json_object_get(v, "osd_uuid"));
                return uuid ? strdup(uuid) : NULL;
        }
        return NULL;
}

char *ceph_osd_state(const char *output) {
        _cleanup_(json_decrefp) json_t *status = ceph_output_json(output);
        const char *state = json_string_value(json_object_get(status, "state"));
        return state ? strdup(state) : NULL;
}
