/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory-store.h"
#include "macro.h"
#include "string-util.h"
#include "banned.h"

int inventory_store_encode(const Inventory *inv, int64_t version, char **ret) {
        _cleanup_(json_decrefp) json_t *files = json_object();
        if (!files)
                return -ENOMEM;
        for (size_t i = 0; i < inv->sources.n_files; i++) {
                const SourceFile *f = inv->sources.files + i;
                json_t *text = json_stringn(f->data, f->size);
                if (!text)
                        return -EINVAL;
                if (json_object_set_new(files, f->rel, text) < 0)
                        return -ENOMEM;
        }
        _cleanup_(json_decrefp) json_t *doc = json_pack("{s:I,s:O}", "version", (json_int_t) version, "files", files);
        char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* A file name of the inventory: cluster.yaml, nodes/NAME.yaml or services/NAME.yaml, nothing that climbs. */
static bool inventory_file_name(const char *rel) {
        if (strstr(rel, "..") || !endswith(rel, ".yaml"))
                return false;
        if (streq(rel, "cluster.yaml"))
                return true;
        const char *base = startswith(rel, "nodes/") ? rel + 6 : startswith(rel, "services/") ? rel + 9 : NULL;
        return base && *base != '.' && !strchr(base, '/');
}

int inventory_store_decode(const char *doc, size_t size, Report *report, Inventory **ret, int64_t *ret_version) {
        json_error_t e;
        _cleanup_(json_decrefp) json_t *j = json_loadb(doc, size, JSON_REJECT_DUPLICATES, &e);
        const json_t *files = json_object_get(j, "files"), *version = json_object_get(j, "version");
        if (!json_is_object(files) || !json_is_integer(version) || json_integer_value(version) < 1)
                return -EBADMSG;
        int64_t v = json_integer_value(version);
        _cleanup_free_ char *prefix = strprintf("etcd:v%" PRId64, v);
        if (!prefix)
                return -ENOMEM;
        SourceSet set = {};
        const char *rel;
        json_t *text;
        json_object_foreach((json_t *) files, rel, text) {
                const char *s = json_string_value(text);
                if (!s || !inventory_file_name(rel)) {
                        source_set_done(&set);
                        return -EBADMSG;
                }
                char *copy = malloc(json_string_length(text) + 1);
                if (!copy) {
                        source_set_done(&set);
                        return -ENOMEM;
                }
                memcpy(copy, s, json_string_length(text) + 1);
                if (source_set_add(&set, prefix, rel, copy, json_string_length(text)) < 0) {
                        source_set_done(&set);
                        return -ENOMEM;
                }
        }
        Inventory *inv = NULL;
        int r = inventory_load_sources(prefix, &set, report, &inv);
        if (r < 0)
                return r;
        *ret = inv;
        *ret_version = v;
        return 0;
}

void stored_inventory_done(StoredInventory *s) {
        inventory_free(s->inv);
        *s = (StoredInventory) {};
}

int inventory_store_get(const char *const *endpoints, size_t n, const EtcdTls *tls, unsigned timeout_ms,
                        Report *report, StoredInventory *ret) {
        EtcdValue v = {};
        int r = etcd_get(endpoints, n, tls, timeout_ms, INVENTORY_KEY, &v);
        if (r == -ENOENT) {
                *ret = (StoredInventory) {};
                return 0;
        }
        if (r < 0)
                return r;
        StoredInventory s = { .mod_revision = v.mod_revision };
        r = inventory_store_decode(v.value, v.size, report, &s.inv, &s.version);
        etcd_value_done(&v);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int inventory_store_put(const char *const *endpoints, size_t n, const EtcdTls *tls, unsigned timeout_ms,
                        const StoredInventory *prev, const Inventory *inv) {
        int64_t version = prev->version + 1;
        _cleanup_free_ char *doc = NULL, *history = strprintf(INVENTORY_HISTORY_KEY "/%08" PRId64, version);
        int r = history ? inventory_store_encode(inv, version, &doc) : -ENOMEM;
        if (r < 0)
                return r;
        const char *keys[] = { INVENTORY_KEY, history }, *values[] = { doc, doc };
        return etcd_put_if(endpoints, n, tls, timeout_ms, INVENTORY_KEY, prev->mod_revision, keys, values, 2);
}
