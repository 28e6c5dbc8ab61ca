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

int ceph_osd_new_parse(const char *output, int64_t *ret_id) {
        _cleanup_(json_decrefp) json_t *answer = ceph_output_json(output);
        json_t *id = json_object_get(answer, "osdid");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX)
                return -EBADMSG;
        *ret_id = (int64_t) json_integer_value(id);
        return 0;
}

char *ceph_daemon_state(const char *output) {
        _cleanup_(json_decrefp) json_t *status = ceph_output_json(output);
        const char *state = json_string_value(json_object_get(status, "state"));
        return state ? strdup(state) : NULL;
}

void ceph_quorum_done(CephQuorum *q) {
        for (size_t i = 0; q->mons && i < q->n; i++)
                free(q->mons[i].name);
        free(q->mons);
        *q = (CephQuorum) {};
}

static bool name_in(const json_t *names, const char *name) {
        size_t i;
        const json_t *v;
        json_array_foreach (names, i, v)
                if (streq_ptr(json_string_value(v), name))
                        return true;
        return false;
}

int ceph_quorum_parse(const char *output, CephQuorum *ret) {
        _cleanup_(json_decrefp) json_t *status = ceph_output_json(output);
        const json_t *mons = json_object_get(json_object_get(status, "monmap"), "mons"),
                     *quorum = json_object_get(status, "quorum_names");
        if (!json_is_array(mons) || !json_is_array(quorum))
                return -EBADMSG;
        CephQuorum q = { .mons = calloc(json_array_size(mons) + 1, sizeof(CephMonitor)) };
        if (!q.mons)
                return -ENOMEM;
        size_t i;
        const json_t *m;
        json_array_foreach (mons, i, m) {
                const char *name = json_string_value(json_object_get(m, "name"));
                if (!name || !*name) {
                        ceph_quorum_done(&q);
                        return -EBADMSG;
                }
                q.mons[q.n] = (CephMonitor) { .name = strdup(name), .in_quorum = name_in(quorum, name) };
                if (!q.mons[q.n++].name) {
                        ceph_quorum_done(&q);
                        return -ENOMEM;
                }
        }
        *ret = q;
        return 0;
}
