/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdint.h>
#include <time.h>

#include "etcd-client.h"
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

/* Registers want as asked by master: 0 registered (or registered so before), -EEXIST taken (ret_holder
 * says by whom, and which: *ret_taken is REGISTRY_NAME_TAKEN or REGISTRY_ADDRESS_TAKEN), -EBADMSG a record
 * that is not ours, -EAGAIN no etcd answers or the records kept changing, other etcd_txn() errors. */
int join_record_register(const JoinEtcd *e, const Registration *want, const char *master, time_t now,
                         RegistryVerdict *ret_taken, Registration *ret_holder);
