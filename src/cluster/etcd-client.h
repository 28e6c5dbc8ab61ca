/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A client of etcd's v3 JSON gateway (POST https://HOST:2379/v3/...), with libcurl and mutual TLS, for
 * the bootstrap state machine's membership steps (SPEC "State machine": the first master starts a
 * one-member cluster; every other master is added as a learner, starts with state "existing", and is
 * promoted once caught up; a stale member of the same name is replaced). Functions return 0 or a negative
 * errno and do not log; -EAGAIN means "not possible yet, retry" (no endpoint reachable, the cluster busy,
 * the learner not caught up). -EAGAIN does not say that no cluster exists: a learner or a member without
 * a leader answers too, with -EAGAIN.
 * Other errors: -ENOENT no such member, -EEXIST the peer URL is a member already, -EALREADY (promote)
 * the member votes already, -EACCES TLS authentication failed either way or etcd refused the client,
 * -ENOKEY the TLS files cannot be loaded, -EINVAL a bad argument or a request etcd calls invalid, -EBADMSG
 * or -EMSGSIZE (over 1 MiB) an answer that is not etcd's, -EIO any other failure.
 * Only https:// is spoken, never through a proxy; libcurl reads the key file itself. Connections and TLS
 * sessions are kept between calls (single-threaded callers only). */

typedef struct EtcdTls {
        const char *ca_file;   /* the etcd CA */
        const char *cert_file; /* a client certificate the etcd CA signed (apiserver-etcd-client, ...) */
        const char *key_file;
} EtcdTls;

/* 0 when this process can read the CA, the certificate and the key of tls (a master may not hold them yet),
 * else -errno of the first it cannot (-EINVAL: one is not set). */
int etcd_tls_readable(const EtcdTls *tls);

typedef struct EtcdMember {
        uint64_t id;
        char *name; /* never NULL; "" for a member added but not yet started */
        char **peer_urls;
        size_t n_peer_urls;
        char **client_urls;
        size_t n_client_urls;
        bool is_learner;
} EtcdMember;

typedef struct EtcdMemberList {
        uint64_t cluster_id;
        EtcdMember *members;
        size_t n;
} EtcdMemberList;

void etcd_member_list_done(EtcdMemberList *l);

/* Each call tries the endpoints ("https://10.20.0.11:2379", ...) in order until one answers; timeout_ms
 * (> 0) bounds each attempt. An endpoint that cannot be reached, or that cannot serve the request right
 * now (a learner, no leader), is skipped; the answer of the first that serves it is returned. When none
 * does: the first error other than "unreachable" (-EACCES, ...), else -EAGAIN. Outputs are written only
 * on success. */
int etcd_member_list(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                     EtcdMemberList *ret);
/* Adds a member with peer_url (as a learner if learner); returns its id and the member list after the
 * add, from which ETCD_INITIAL_CLUSTER for the new member is built. ret_id and ret_after may be NULL.
 * An add is not idempotent: after -EAGAIN (it may have been applied) or -EEXIST, list the members. */
int etcd_member_add(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                    const char *peer_url, bool learner, uint64_t *ret_id, EtcdMemberList *ret_after);
/* Promotes a learner; -EAGAIN while it has not caught up with the leader. */
int etcd_member_promote(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                        uint64_t id);
int etcd_member_remove(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                       uint64_t id);
/* GET /health of one endpoint: 0 healthy, -EAGAIN not (yet) or unreachable, < 0 other errors. etcd 3.4
 * calls a started learner healthy. */
int etcd_endpoint_health(const char *endpoint, const EtcdTls *tls, unsigned timeout_ms);

/* The key-value store, for the cluster's own records (the inventory `apply` stores). Keys and values are
 * bytes for etcd; here keys are strings and values NUL-terminated copies (a value may hold NULs: size). */
typedef struct EtcdValue {
        char *value;
        size_t size;
        int64_t mod_revision; /* the store's revision that last wrote the key */
        int64_t version;      /* how often the key was written since it was made (1: once) */
} EtcdValue;

void etcd_value_done(EtcdValue *v);
/* key's value: 0, or -ENOENT when there is no such key. */
int etcd_get(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
             const char *key, EtcdValue *ret);
/* One key and its value, of a range read. */
typedef struct EtcdKeyValue {
        char *key;
        EtcdValue value;
} EtcdKeyValue;
void etcd_key_values_free(EtcdKeyValue *kvs, size_t n);
/* Every key that starts with prefix (non-empty) and its value, in key order (etcd's): 0 (*ret_n may be 0), or
 * errors as etcd_get()'s. Read in pages of page keys (0: ETCD_RANGE_PAGE), so that no answer outgrows what
 * the client takes; at most limit keys in all (0: no limit), -E2BIG when there are more. */
#define ETCD_RANGE_PAGE 1000
int etcd_get_prefix(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                    const char *prefix, size_t page, size_t limit, EtcdKeyValue **ret, size_t *ret_n);
/* Writes keys[i] = values[i] (i < n) in one transaction, if guard_key was last written at guard_revision
 * (0: guard_key does not exist): compare and swap, so that two writers cannot both win. 0 written,
 * -ESTALE the guard had moved and nothing was written. */
int etcd_put_if(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                const char *guard_key, int64_t guard_revision, const char *const *keys, const char *const *values,
                size_t n);

/* One transaction: when every guard holds (guard.key last written at guard.mod_revision; 0: the key does not
 * exist), every op is applied and 1 is returned; otherwise nothing is written, 0 is returned, and
 * ret_reads[i] holds the value of reads[i] (i < n_reads) as the transaction saw it: value NULL when there is
 * no such key. An op puts value at key (bound to lease unless 0: the key goes when the lease expires), or
 * deletes key when value is NULL. Errors as etcd_get()'s; -ENOENT when the lease does not exist (expired). */
typedef struct EtcdGuard {
        const char *key;
        int64_t mod_revision;
} EtcdGuard;

typedef struct EtcdOp {
        const char *key;
        const char *value;
        int64_t lease;
} EtcdOp;

int etcd_txn(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
             const EtcdGuard *guards, size_t n_guards, const EtcdOp *ops, size_t n_ops, const char *const *reads,
             size_t n_reads, EtcdValue *ret_reads);
/* A lease of ttl_sec seconds (> 0): its id in ret_id. */
int etcd_lease_grant(const char *const *endpoints, size_t n_endpoints, const EtcdTls *tls, unsigned timeout_ms,
                     int64_t ttl_sec, int64_t *ret_id);

/* "name1=https://ip1:2380,name2=..." for ETCD_INITIAL_CLUSTER: the started members of the list, plus
 * self (name, peer_url) for the member just added (which has no name yet: the member with self_peer_url,
 * or appended when the list does not have it), sorted by name. etcd wants every member of the cluster
 * in it, so NULL with errno EAGAIN when another member has not started yet (its name is unknown), EEXIST
 * when another member has self_name (a stale member: remove it first), EINVAL for a name or URL that
 * cannot be written there (empty, or with ',' or '='), ENOMEM. */
char *etcd_initial_cluster(const EtcdMemberList *l, const char *self_name, const char *self_peer_url);

/* The gateway's answers, parsed apart from the transport (for the tests and the fuzzer). */
/* A RangeResponse for one key: its first kv (keys and values base64, revisions decimal strings); -ENOENT
 * when it has none, -EBADMSG when it is not one. */
int etcd_parse_range(const char *body, size_t size, EtcdValue *ret);
/* A RangeResponse's every kv (none: 0 with *ret_n 0), and whether "more" says that its limit cut it;
 * -EBADMSG when it is not one. */
int etcd_parse_range_all(const char *body, size_t size, EtcdKeyValue **ret, size_t *ret_n, bool *ret_more);
/* A TxnResponse: 1 when it succeeded, 0 when not ("succeeded" is left out when false), -EBADMSG. When it did
 * not, ret_reads[i] (i < n_reads) gets what its i-th response, a RangeResponse, holds (value NULL: no key). */
int etcd_parse_txn(const char *body, size_t size, EtcdValue *ret_reads, size_t n_reads);
/* A LeaseGrantResponse: its ID. -EBADMSG when it is not one. */
int etcd_parse_lease_grant(const char *body, size_t size, int64_t *ret_id);
/* A MemberListResponse, or a MemberAddResponse (then ret_added_id, if not NULL, gets the new member's id)
 * as JSON: header.cluster_id and members[], uint64 as decimal strings. -EBADMSG when it is not one. */
int etcd_parse_member_list(const char *body, size_t size, uint64_t *ret_added_id, EtcdMemberList *ret);
/* The error an answer with HTTP status http_status (not 200) stands for; body is etcd's
 * {"error":...,"code":<gRPC code>,"message":...}. Sets *ret_skip (if not NULL) when another endpoint may
 * serve the request (gRPC "Unavailable": a learner, no leader, ...). */
int etcd_parse_error(long http_status, const char *body, size_t size, bool *ret_skip);
