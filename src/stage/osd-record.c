/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "macro.h"
#include "osd-record.h"
#include "string-util.h"
#include "banned.h"

void osd_records_done(OsdRecords *r) {
        for (size_t i = 0; r->items && i < r->n; i++)
                free(r->items[i].device);
        free(r->items);
        *r = (OsdRecords) {};
}

OsdRecord *osd_records_find(const OsdRecords *r, const char *device) {
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->items[i].device, device))
                        return r->items + i;
        return NULL;
}

static bool uuid_valid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

void osd_records_remove(OsdRecords *r, OsdRecord *o) {
        size_t i = (size_t) (o - r->items);
        free(o->device);
        memmove(r->items + i, r->items + i + 1, (r->n - i - 1) * sizeof(OsdRecord));
        r->n--;
}

int osd_records_add(OsdRecords *r, const char *device, const char *uuid, OsdRecord **ret) {
        if (!uuid_valid(uuid) || osd_records_find(r, device))
                return -EINVAL;
        OsdRecord *grown = realloc(r->items, (r->n + 1) * sizeof(OsdRecord));
        if (!grown)
                return -ENOMEM;
        r->items = grown;
        OsdRecord *o = r->items + r->n;
        *o = (OsdRecord) { .device = strdup(device), .id = -1 };
        if (!o->device)
                return -ENOMEM;
        memcpy(o->uuid, uuid, sizeof(o->uuid));
        r->n++;
        if (ret)
                *ret = o;
        return 0;
}

/* Every entry must be whole: a device path, a uuid as Ceph writes it, an id Ceph could give (or none), and no
 * device or uuid twice. Anything else is a file clusterboot did not write, and nothing of it is used. */
static int records_parse(const char *text, OsdRecords *ret) {
        _cleanup_(json_decrefp) json_t *j = json_loads(text, 0, NULL);
        json_t *list = json_object_get(j, "osds"), *e;
        size_t i;
        OsdRecords r = {};
        if (!json_is_array(list))
                return -EBADMSG;
        json_array_foreach (list, i, e) {
                const char *device = json_string_value(json_object_get(e, "device"));
                const char *uuid = json_string_value(json_object_get(e, "uuid"));
                json_t *id = json_object_get(e, "id");
                OsdRecord *o;
                int k = !device || device[0] != '/' || !uuid || (id && (!json_is_integer(id) || json_integer_value(id) < 0 ||
                                                                         json_integer_value(id) > INT32_MAX))
                                ? -EBADMSG
                                : osd_records_add(&r, device, uuid, &o);
                for (size_t other = 0; k == 0 && other + 1 < r.n; other++)
                        if (streq(r.items[other].uuid, uuid) ||
                            (id && r.items[other].id == (int64_t) json_integer_value(id)))
                                k = -EBADMSG;
                if (k < 0) {
                        osd_records_done(&r);
                        return k == -ENOMEM ? k : -EBADMSG;
                }
                o->id = id ? (int64_t) json_integer_value(id) : -1;
        }
        *ret = r;
        return 0;
}

/* Before osds.json, a node kept OSD_RECORD_DIR/osd.ID.uuid and osd.ID.key, ID being the inventory's, and
 * /var/lib/ceph/osd/ceph-ID/block links to the device: those OSDs, as records (read only; the stage
 * ceph-osd writes osds.json at its next save, and reads the old key file, osd_key_path()). */
static int records_legacy(const char *root, OsdRecords *ret) {
        _cleanup_free_ char *dir = path_join_root(root, OSD_RECORD_DIR);
        OsdRecords r = {};
        int k = 0;
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d) {
                *ret = r;
                return errno == ENOENT ? 0 : -errno;
        }
        struct dirent *de;
        while (k >= 0 && (de = readdir(d))) {
                char *end;
                if (!startswith(de->d_name, "osd.") || !endswith(de->d_name, ".uuid"))
                        continue;
                long long id = strtoll(de->d_name + 4, &end, 10);
                if (end == de->d_name + 4 || !streq(end, ".uuid") || id < 0 || id > INT32_MAX)
                        continue;
                _cleanup_free_ char *uuid_path = strprintf("%s/%s", dir, de->d_name);
                _cleanup_free_ char *block = strprintf("%s" CEPH_DATA_DIR "/osd/ceph-%lld/block", strempty(root), id);
                _cleanup_free_ char *uuid = NULL;
                char target[PATH_MAX];
                size_t size;
                if (!uuid_path || !block) {
                        k = -ENOMEM;
                        break;
                }
                ssize_t n = readlink(block, target, sizeof(target) - 1);
                if (n <= 0 || read_full_file(uuid_path, 4096, &uuid, &size) < 0)
                        continue; /* never made: the stage makes it anew */
                target[n] = 0;
                uuid[strcspn(uuid, "\n")] = 0;
                /* The link was made under root: the device as the node names it. */
                const char *device = root && startswith(target, root) ? target + strlen(root) : target;
                OsdRecord *o;
                if (osd_records_add(&r, device, uuid, &o) >= 0)
                        o->id = id;
        }
        closedir(d);
        if (k < 0) {
                osd_records_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

int osd_records_load(const char *root, OsdRecords *ret) {
        _cleanup_free_ char *path = path_join_root(root, OSD_RECORD_PATH);
        _cleanup_free_ char *text = NULL;
        size_t size;
        if (!path)
                return -ENOMEM;
        int r = read_full_file(path, 1024 * 1024, &text, &size);
        if (r == -ENOENT)
                return records_legacy(root, ret);
        return r < 0 ? r : records_parse(text, ret);
}

char *osd_key_path(const char *root, const OsdRecord *o) {
        _cleanup_free_ char *dir = path_join_root(root, OSD_RECORD_DIR);
        char *path = dir ? strprintf("%s/%s.key", dir, o->uuid) : NULL;
        if (!path || o->id < 0 || access(path, F_OK) >= 0)
                return path;
        /* Written before osds.json (records_legacy()). */
        char *legacy = strprintf("%s/osd.%" PRId64 ".key", dir, o->id);
        if (legacy && access(legacy, F_OK) >= 0) {
                free(path);
                return legacy;
        }
        free(legacy);
        return path;
}

int osd_records_save(const char *root, const OsdRecords *r) {
        _cleanup_free_ char *dir = path_join_root(root, OSD_RECORD_DIR);
        _cleanup_free_ char *path = path_join_root(root, OSD_RECORD_PATH);
        _cleanup_(json_decrefp) json_t *list = json_array();
        if (!dir || !path || !list)
                return -ENOMEM;
        for (size_t i = 0; i < r->n; i++) {
                const OsdRecord *o = r->items + i;
                json_t *e = json_pack("{s:s,s:s}", "device", o->device, "uuid", o->uuid);
                if (e && o->id >= 0 && json_object_set_new(e, "id", json_integer(o->id)) < 0) {
                        json_decref(e);
                        e = NULL;
                }
                if (!e || json_array_append_new(list, e) < 0)
                        return -ENOMEM;
        }
        _cleanup_(json_decrefp) json_t *j = json_pack("{s:O}", "osds", list);
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        _cleanup_free_ char *line = text ? strprintf("%s\n", text) : NULL;
        if (!line)
                return -ENOMEM;
        int k = mkdir_p(dir, 0700);
        return k < 0 ? k : write_file_atomic(path, line, strlen(line), 0644);
}

bool osd_node_lists(const Node *n, const char *device) {
        for (size_t i = 0; n->file && i < n->n_osds; i++)
                if (streq(n->file->ceph.osd_devices.items[i].v, device))
                        return true;
        return false;
}

int osd_ids_select(const OsdRecords *r, const Node *n, bool gone, int64_t **ret, size_t *ret_n) {
        size_t room = MAX(r->n, n->n_osds);
        int64_t *ids = room > 0 ? calloc(room, sizeof(int64_t)) : NULL;
        size_t count = 0;
        if (room > 0 && !ids)
                return -ENOMEM;
        if (gone) {
                for (size_t i = 0; i < r->n; i++)
                        if (r->items[i].id >= 0 && !osd_node_lists(n, r->items[i].device))
                                ids[count++] = r->items[i].id;
        } else
                for (size_t d = 0; n->file && d < n->n_osds; d++) {
                        const OsdRecord *o = osd_records_find(r, n->file->ceph.osd_devices.items[d].v);
                        if (o && o->id >= 0)
                                ids[count++] = o->id;
                }
        *ret = ids;
        *ret_n = count;
        return 0;
}

int osd_node_ids(const char *root, const Node *n, bool gone, int64_t **ret, size_t *ret_n) {
        OsdRecords r = {};
        int k = osd_records_load(root, &r);
        if (k < 0)
                return k;
        k = osd_ids_select(&r, n, gone, ret, ret_n);
        osd_records_done(&r);
        return k;
}
