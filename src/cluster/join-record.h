/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <time.h>

#include "etcd-client.h"
#include "inventory.h"
#include "net-util.h"

/* What the masters' join services decide together, kept in the cluster's etcd (docs/bootstrap.md "One
 * join service on every master"):
 *   JOIN_NONCE_PREFIX NONCE      every join request a master answered, for as long as its timestamp could
 *                                still be accepted (a lease): the same request sent to another master, or to
 *                                this one after a restart, is refused as replayed;
 *   REGISTRY_NAME_PREFIX NAME    each machine auto_register named, and the same record under
 *   REGISTRY_ADDRESS_PREFIX IP   its address: {"name", "mac", "ip", "by", "time"}, so that two machines never
 *                                get one name or one address, whichever masters they ask at the same moment.
 * Each write is one etcd transaction that succeeds only if the keys are as read (create if absent). */
#define JOIN_NONCE_PREFIX "/clusterboot/join/nonce/"
#define REGISTRY_NAME_PREFIX "/clusterboot/registry/name/"
#define REGISTRY_ADDRESS_PREFIX "/clusterboot/registry/address/"
/* The join secret the cluster runs once `secrets rotate join-secret` made one: {"version": N, "secret": HEX}.
 * Absent: the bundle's, as the first master made it (version 0). Every master's sync writes it into its
 * bundle, and every node's into its image's JOIN_SECRET_PATH (the join service hands it on in /v1/inventory). */
#define JOIN_SECRET_KEY "/clusterboot/join-secret"
/* A lease is shared by the nonces of this many seconds; it lives JOIN_NONCE_TTL longer. */
#define JOIN_LEASE_ROTATE_SEC 60

typedef struct JoinEtcd {
        const char *const *endpoints;
        size_t n_endpoints;
        const EtcdTls *tls;
        unsigned timeout_ms;
} JoinEtcd;

/* The lease the nonces of the last JOIN_LEASE_ROTATE_SEC were bound to. */
typedef struct JoinLease {
        int64_t id; /* 0: none yet */
        uint64_t granted; /* monotonic seconds */
} JoinLease;

/* Records nonce as answered by writer (the master's name and a token of its process, which no other process
 * has): 0, -EALREADY when another process recorded it before (a replay), or etcd_txn()'s errors (-EAGAIN: no
 * etcd answers). The same writer's record is no replay: a write that timed out at one etcd member may
 * have been applied before it was sent to the next. mono_now: monotonic seconds, for the lease's turn. */
int join_record_nonce(const JoinEtcd *e, JoinLease *lease, const char *nonce, const char *writer, uint64_t mono_now);

typedef struct Registration {
        char name[64];
        char mac[18]; /* normalized: 52:54:00:aa:bb:cc */
        char ip[IP_ADDR_STRLEN];
} Registration;

typedef enum RegistryVerdict {
        REGISTRY_SAME,          /* both records are this machine's, as asked: nothing to write */
        REGISTRY_WRITE,         /* free, or this machine's with another name or address: write both */
        REGISTRY_NAME_TAKEN,    /* the name is another machine's (another MAC) */
        REGISTRY_ADDRESS_TAKEN, /* the address is another machine's */
        REGISTRY_BAD_RECORD,    /* a record etcd holds is not one of ours */
} RegistryVerdict;

/* The record of r as stored (malloc()ed), or NULL (ENOMEM). */
char *registry_record_format(const Registration *r, const char *by, time_t now);
/* A stored record back: 0, or -EBADMSG. */
int registry_record_parse(const char *text, size_t size, Registration *ret);

/* What to do for want, given the records under its name and its address (NULL: none). The holder of a
 * taken name or address, and for REGISTRY_WRITE this machine's old records (another address, another
 * name: their other key is deleted in the same write if it still holds this machine's record; "" when
 * none), in ret_old_name/ret_old_ip. */
RegistryVerdict registry_decide(const Registration *want, const char *by_name, const char *by_address,
                                Registration *ret_holder, char ret_old_ip[static IP_ADDR_STRLEN],
                                char ret_old_name[static 64]);

/* The record of the machine auto_register named name: 0, -ENOENT none, -EBADMSG not one of ours, -EAGAIN
 * no etcd answers, other etcd_get() errors. */
int join_record_get(const JoinEtcd *e, const char *name, Registration *ret);

/* Registers want as asked by master: 0 registered (or registered so before), -EEXIST taken (ret_holder
 * says by whom, and which: *ret_taken is REGISTRY_NAME_TAKEN or REGISTRY_ADDRESS_TAKEN), -EBADMSG a record
 * that is not ours, -EAGAIN no etcd answers or the records kept changing, other etcd_txn() errors. */
int join_record_register(const JoinEtcd *e, const Registration *want, const char *master, time_t now,
                         RegistryVerdict *ret_taken, Registration *ret_holder);

/* The record of a rotated join secret (malloc()ed; free with secret_free()), or NULL (ENOMEM, or EINVAL for
 * a version < 1 or a secret that is not one). */
char *join_secret_record_format(int64_t version, const char *secret);
/* A record back, as a JSON value (etcd's, or /v1/inventory's "join_secret"): 0, or -EBADMSG. *ret_secret
 * is freed with secret_free(). */
int join_secret_record_parse(const json_t *j, int64_t *ret_version, char **ret_secret);
/* The record in etcd: 0 with *ret_secret NULL and version and revision 0 when none was stored (the bundle's
 * runs); else its version, its secret and the key's mod revision (the guard of the next store). Errors as
 * etcd_get()'s, -EBADMSG for a record that is not one. */
int join_record_secret_get(const JoinEtcd *e, int64_t *ret_version, char **ret_secret, int64_t *ret_revision);

/* The registry as every node takes it in (docs/bootstrap.md "auto_register"): the machines the masters
 * registered, so that each node's /etc/hosts and the DNS zone know them. */
typedef struct RegistrationList {
        Registration *items;
        size_t n;
        size_t n_bad; /* records under REGISTRY_NAME_PREFIX that are not clusterboot's: left out */
} RegistrationList;
void registration_list_done(RegistrationList *l);

/* At most this many: a node's /v1/inventory answer carries them all. */
#define REGISTRY_MAX 16384

/* The records under REGISTRY_NAME_PREFIX, by name: 0, -E2BIG (more than REGISTRY_MAX), or etcd_get()'s
 * errors. */
int join_record_list(const JoinEtcd *e, RegistrationList *ret);
/* The same from the etcd range read's kvs (for the tests): a record that does not parse, or whose name is
 * not its key's, counts in n_bad. */
int registration_list_from_kvs(const EtcdKeyValue *kvs, size_t n, RegistrationList *ret);

/* As the join service's /v1/inventory answer carries them: [{"name", "mac", "ip"}, ...]; and back (-EBADMSG
 * when it is not such an array, or an item is no record). */
json_t *registration_list_to_json(const RegistrationList *l);
int registration_list_from_json(const json_t *j, RegistrationList *ret);

/* Adds each registration of l to inv as an auto-registered node (inventory_add_auto_node()), unless
 * inventory_auto_node_fits() refuses it there: the inventory wins over the registry (a node file that came
 * later for that name or address, auto_register turned off). For each one left out, skipped (may be NULL) is
 * called with its reason. The number added, or -ENOMEM. */
typedef void (*RegistrationSkipped)(const Registration *r, const char *reason, void *userdata);
int registration_list_merge(Inventory *inv, const RegistrationList *l, RegistrationSkipped skipped, void *userdata);
