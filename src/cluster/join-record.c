/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "join-protocol.h"
#include "join-record.h"
#include "macro.h"
#include "secret-formats.h"
#include "string-util.h"
#include "banned.h"

/* 1 written (or written by this writer before), 0 another writer's, < 0 errors. */
static int nonce_put(const JoinEtcd *e, int64_t lease, const char *key, const char *writer) {
        const EtcdGuard absent = { key, 0 };
        const EtcdOp put = { key, writer, lease };
        const char *const reads[1] = { key };
        EtcdValue seen = {};
        int r = etcd_txn(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms, &absent, 1, &put, 1, reads, 1, &seen);
        if (r == 0 && streq_ptr(seen.value, writer))
                r = 1;
        etcd_value_done(&seen);
        return r;
}

static int lease_renew(const JoinEtcd *e, JoinLease *lease, uint64_t mono_now) {
        /* Each nonce of the lease's turn is kept JOIN_NONCE_TTL at least: the turn's length more in all. */
        int64_t id;
        int r = etcd_lease_grant(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms,
                                 JOIN_NONCE_TTL + JOIN_LEASE_ROTATE_SEC, &id);
        if (r < 0)
                return r;
        *lease = (JoinLease) { .id = id, .granted = mono_now };
        return 0;
}

int join_record_nonce(const JoinEtcd *e, JoinLease *lease, const char *nonce, const char *writer, uint64_t mono_now) {
        if (!nonce || strlen(nonce) != JOIN_NONCE_HEX || !writer)
                return -EINVAL;
        _cleanup_free_ char *key = strprintf("%s%s", JOIN_NONCE_PREFIX, nonce);
        if (!key)
                return -ENOMEM;
        int r = 0;
        if (lease->id == 0 || mono_now - lease->granted >= JOIN_LEASE_ROTATE_SEC)
                r = lease_renew(e, lease, mono_now);
        r = r ?: nonce_put(e, lease->id, key, writer);
        if (r == -ENOENT) {
                /* The lease is gone (etcd restored from a snapshot, or this process paused): a new one. */
                r = lease_renew(e, lease, mono_now);
                r = r ?: nonce_put(e, lease->id, key, writer);
        }
        return r < 0 ? r : r ? 0 : -EALREADY;
}

char *registry_record_format(const Registration *r, const char *by, time_t now) {
        _cleanup_(json_decrefp) json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:I}", "name", r->name, "mac", r->mac, "ip",
                                                      r->ip, "by", by, "time", (json_int_t) now);
        return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static int copy_field(const json_t *j, const char *field, char *buf, size_t size) {
        const char *v = json_string_value(json_object_get(j, field));
        if (!v || !*v || strlen(v) >= size)
                return -EBADMSG;
        memcpy(buf, v, strlen(v) + 1);
        return 0;
}

static int record_from_json(const json_t *j, Registration *ret) {
        Registration r = {};
        int k = json_is_object(j) ? 0 : -EBADMSG;
        k = k ?: copy_field(j, "name", r.name, sizeof(r.name));
        k = k ?: copy_field(j, "mac", r.mac, sizeof(r.mac));
        k = k ?: copy_field(j, "ip", r.ip, sizeof(r.ip));
        if (k < 0)
                return k;
        *ret = r;
        return 0;
}

int registry_record_parse(const char *text, size_t size, Registration *ret) {
        _cleanup_(json_decrefp) json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
        return record_from_json(j, ret);
}

static bool same_registration(const Registration *a, const Registration *b) {
        return streq(a->name, b->name) && streq(a->mac, b->mac) && streq(a->ip, b->ip);
}

RegistryVerdict registry_decide(const Registration *want, const char *by_name, const char *by_address,
                                Registration *ret_holder, char ret_old_ip[static IP_ADDR_STRLEN],
                                char ret_old_name[static 64]) {
        Registration n = {}, a = {};
        ret_old_ip[0] = ret_old_name[0] = '\0';
        if ((by_name && registry_record_parse(by_name, strlen(by_name), &n) < 0) ||
            (by_address && registry_record_parse(by_address, strlen(by_address), &a) < 0))
                return REGISTRY_BAD_RECORD;
        /* A record under a key names that key: else it is not ours either. */
        if ((by_name && !streq(n.name, want->name)) || (by_address && !streq(a.ip, want->ip)))
                return REGISTRY_BAD_RECORD;
        if (by_name && !streq(n.mac, want->mac)) {
                *ret_holder = n;
                return REGISTRY_NAME_TAKEN;
        }
        if (by_address && !streq(a.mac, want->mac)) {
                *ret_holder = a;
                return REGISTRY_ADDRESS_TAKEN;
        }
        if (by_name && by_address && same_registration(&n, want) && same_registration(&a, want))
                return REGISTRY_SAME;
        /* This machine, registered before at another address or under another name (hostname_prefix
         * changed): its old other key goes with the write. */
        if (by_name && !streq(n.ip, want->ip))
                memcpy(ret_old_ip, n.ip, sizeof(n.ip));
        if (by_address && !streq(a.name, want->name))
                memcpy(ret_old_name, a.name, sizeof(a.name));
        return REGISTRY_WRITE;
}

#define REGISTER_ATTEMPTS 4

/* Guards and deletes prefix+key (another name or address of this machine) if its record is want's MAC's
 * still: a record another machine holds now (the keys were changed by hand) is left alone. */
static int let_go(const JoinEtcd *e, const char *prefix, const char *key, const Registration *want, char **ret_key,
                  EtcdGuard *guards, size_t *n_guards, EtcdOp *ops, size_t *n_ops) {
        _cleanup_free_ char *k = strprintf("%s%s", prefix, key);
        if (!k)
                return -ENOMEM;
        EtcdValue v = {};
        Registration held;
        int r = etcd_get(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms, k, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        bool ours = registry_record_parse(v.value, v.size, &held) >= 0 && streq(held.mac, want->mac);
        if (ours) {
                guards[(*n_guards)++] = (EtcdGuard) { k, v.mod_revision };
                ops[(*n_ops)++] = (EtcdOp) { k, NULL, 0 };
                *ret_key = TAKE_PTR(k);
        }
        etcd_value_done(&v);
        return 0;
}

int join_record_register(const JoinEtcd *e, const Registration *want, const char *master, time_t now,
                         RegistryVerdict *ret_taken, Registration *ret_holder) {
        _cleanup_free_ char *record = registry_record_format(want, master, now),
                            *name_key = strprintf("%s%s", REGISTRY_NAME_PREFIX, want->name),
                            *address_key = strprintf("%s%s", REGISTRY_ADDRESS_PREFIX, want->ip);
        if (!record || !name_key || !address_key)
                return -ENOMEM;
        /* First as if both were free; then as the failed write saw them. */
        EtcdGuard guards[2] = { { name_key, 0 }, { address_key, 0 } };
        char old_ip[IP_ADDR_STRLEN] = "", old_name[64] = "";
        const char *const reads[2] = { name_key, address_key };
        for (unsigned attempt = 0; attempt < REGISTER_ATTEMPTS; attempt++) {
                _cleanup_free_ char *old_address_key = NULL, *old_name_key = NULL;
                EtcdGuard all_guards[4] = { guards[0], guards[1] };
                EtcdOp ops[4] = { { name_key, record, 0 }, { address_key, record, 0 } };
                size_t n_guards = 2, n_ops = 2;
                int r = 0;
                if (*old_ip)
                        r = let_go(e, REGISTRY_ADDRESS_PREFIX, old_ip, want, &old_address_key, all_guards, &n_guards,
                                   ops, &n_ops);
                if (r >= 0 && *old_name)
                        r = let_go(e, REGISTRY_NAME_PREFIX, old_name, want, &old_name_key, all_guards, &n_guards, ops,
                                   &n_ops);
                if (r < 0)
                        return r;

                EtcdValue seen[2] = {};
                r = etcd_txn(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms, all_guards, n_guards, ops, n_ops,
                             reads, 2, seen);
                if (r != 0)
                        return r < 0 ? r : 0;
                RegistryVerdict v = registry_decide(want, seen[0].value, seen[1].value, ret_holder, old_ip, old_name);
                guards[0].mod_revision = seen[0].mod_revision;
                guards[1].mod_revision = seen[1].mod_revision;
                etcd_value_done(seen);
                etcd_value_done(seen + 1);
                switch (v) {
                case REGISTRY_SAME:
                        return 0;
                case REGISTRY_WRITE:
                        continue;
                case REGISTRY_NAME_TAKEN:
                case REGISTRY_ADDRESS_TAKEN:
                        *ret_taken = v;
                        return -EEXIST;
                case REGISTRY_BAD_RECORD:
                        return -EBADMSG;
                }
        }
        return -EAGAIN; /* another master kept changing them: the machine asks again */
}

void registration_list_done(RegistrationList *l) {
        free(l->items);
        *l = (RegistrationList) {};
}

int registration_list_from_kvs(const EtcdKeyValue *kvs, size_t n, RegistrationList *ret) {
        RegistrationList l = { .items = calloc(n + 1, sizeof(Registration)) };
        if (!l.items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                Registration *r = l.items + l.n;
                const char *name = startswith(kvs[i].key, REGISTRY_NAME_PREFIX) ? kvs[i].key + strlen(REGISTRY_NAME_PREFIX) : NULL;
                if (name && registry_record_parse(kvs[i].value.value, kvs[i].value.size, r) >= 0 && streq(r->name, name))
                        l.n++;
                else
                        l.n_bad++;
        }
        *ret = l;
        return 0;
}

int join_record_get(const JoinEtcd *e, const char *name, Registration *ret) {
        _cleanup_free_ char *key = strprintf(REGISTRY_NAME_PREFIX "%s", name);
        EtcdValue v = {};
        if (!key)
                return -ENOMEM;
        int r = etcd_get(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms, key, &v);
        r = r ?: registry_record_parse(v.value, v.size, ret);
        etcd_value_done(&v);
        /* A record under another name than its own is not one clusterboot wrote. */
        return r < 0 ? r : streq(ret->name, name) ? 0 : -EBADMSG;
}

int join_record_list(const JoinEtcd *e, RegistrationList *ret) {
        EtcdKeyValue *kvs = NULL;
        size_t n = 0;
        int r = etcd_get_prefix(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms, REGISTRY_NAME_PREFIX, 0,
                                REGISTRY_MAX, &kvs, &n);
        r = r ?: registration_list_from_kvs(kvs, n, ret);
        etcd_key_values_free(kvs, n);
        return r;
}

json_t *registration_list_to_json(const RegistrationList *l) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < l->n; i++) {
                const Registration *r = l->items + i;
                if (json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "name", r->name, "mac", r->mac, "ip", r->ip)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

int registration_list_from_json(const json_t *j, RegistrationList *ret) {
        if (!json_is_array(j) || json_array_size(j) > REGISTRY_MAX)
                return -EBADMSG;
        RegistrationList l = { .items = calloc(json_array_size(j) + 1, sizeof(Registration)) };
        if (!l.items)
                return -ENOMEM;
        for (; l.n < json_array_size(j); l.n++)
                if (record_from_json(json_array_get(j, l.n), l.items + l.n) < 0) {
                        registration_list_done(&l);
                        return -EBADMSG;
                }
        *ret = l;
        return 0;
}

int registration_list_merge(Inventory *inv, const RegistrationList *l, RegistrationSkipped skipped, void *userdata) {
        int added = 0;
        for (size_t i = 0; i < l->n; i++) {
                const Registration *reg = l->items + i;
                const char *reason = NULL;
                IpAddr ip;
                char mac[18];
                int r;
                if (!is_dns_label(reg->name) || ip_addr_parse(reg->ip, &ip) < 0 || mac_addr_normalize(reg->mac, mac) < 0)
                        reason = "not a name, an address and a MAC";
                else if ((r = inventory_add_auto_node(inv, reg->name, mac, &ip, NULL, &reason)) == -ENOMEM)
                        return r;
                else if (r >= 0)
                        added++;
                else if (!reason)
                        reason = "auto_register: its role cannot be given";
                if (reason && skipped)
                        skipped(reg, reason, userdata);
        }
        return added;
}

char *join_secret_record_format(int64_t version, const char *secret) {
        if (version < 1 || !join_secret_valid(secret)) {
                errno = EINVAL;
                return NULL;
        }
        return strprintf("{\"version\":%" PRId64 ",\"secret\":\"%s\"}", version, secret);
}

int join_secret_record_parse(const json_t *j, int64_t *ret_version, char **ret_secret) {
        const json_t *v = json_object_get(j, "version");
        const char *secret = json_string_value(json_object_get(j, "secret"));
        if (!json_is_object(j) || json_object_size(j) != 2 || !json_is_integer(v) || json_integer_value(v) < 1 ||
            !join_secret_valid(secret))
                return -EBADMSG;
        char *copy = strdup(secret);
        if (!copy)
                return -ENOMEM;
        *ret_version = json_integer_value(v);
        *ret_secret = copy;
        return 0;
}

int join_record_secret_get(const JoinEtcd *e, int64_t *ret_version, char **ret_secret, int64_t *ret_revision) {
        EtcdValue v = {};
        *ret_version = *ret_revision = 0;
        *ret_secret = NULL;
        int r = etcd_get(e->endpoints, e->n_endpoints, e->tls, e->timeout_ms, JOIN_SECRET_KEY, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        json_t *record = json_loadb(v.value, v.size, JSON_REJECT_DUPLICATES, NULL);
        explicit_bzero(v.value, v.size);
        r = join_secret_record_parse(record, ret_version, ret_secret);
        if (r >= 0)
                *ret_revision = v.mod_revision;
        json_decref(record);
        etcd_value_done(&v);
        return r;
}
