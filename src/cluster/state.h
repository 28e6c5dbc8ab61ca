/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The bootstrap state on a node (BOOTSTRAP.md and the first-boot seed's markers, SPEC "State machine"):
 * /var/lib/cluster-state/{bootstrap-state,cluster-joined,node-role,etcd-member-id}, plus steps/<step>
 * markers for each step done. Every file is written atomically, so a crash leaves the old state or the
 * new one, never half of either. */

typedef enum BootstrapState {
        BOOTSTRAP_UNINITIALIZED,
        BOOTSTRAP_BOOTSTRAPPED, /* the first master: it made the cluster */
        BOOTSTRAP_JOINED,       /* every other node: it joined one */
        _BOOTSTRAP_STATE_MAX,
        _BOOTSTRAP_STATE_INVALID = -1,
} BootstrapState;

const char *bootstrap_state_to_string(BootstrapState s);
BootstrapState bootstrap_state_from_string(const char *s);

typedef struct StepMark {
        char *name;
        time_t when;
} StepMark;

typedef struct ClusterState {
        BootstrapState state;
        time_t state_since; /* when bootstrap-state was written; 0 if never */
        bool joined;        /* the cluster-joined marker */
        char *node_role;    /* "first-master", "master", "worker": what bootstrap decided; NULL if not yet */
        char *etcd_member_id;
        StepMark *steps; /* sorted by time */
        size_t n_steps;
} ClusterState;

/* Reads the state under root; a node that never bootstrapped is BOOTSTRAP_UNINITIALIZED, not an error.
 * -EBADMSG for a state file that says something unknown. */
int cluster_state_load(const char *root, ClusterState *ret);
void cluster_state_done(ClusterState *s);

int cluster_state_set(const char *root, BootstrapState s);
int cluster_state_set_role(const char *root, const char *role);
int cluster_state_set_etcd_member_id(const char *root, const char *id);
int cluster_state_mark_step(const char *root, const char *step, time_t when);
bool cluster_state_step_done(const ClusterState *s, const char *step);
/* Loads the state under root and says whether step is done: 1 yes, 0 no, or a negative errno. */
int cluster_state_step_recorded(const char *root, const char *step);

/* etcd has run here before: its data directory has a member (false, too, when it cannot be seen). */
bool etcd_has_data(const char *root);

/* This master holds a cluster: it bootstrapped or joined, or its stage etcd-member is done (it made a
 * cluster or was added to one), or etcd ran here (its data directory has a member, when it can be seen). What its join service answers to /v1/cluster-state (membership.h: no second cluster). A state
 * file that cannot be read counts as holding one: the answer that never makes a second cluster. */
bool node_holds_cluster(const char *root);

/* Removes every state file and marker (reset-bootstrap.sh): the next bootstrap starts from the top.
 * Data of the services (etcd's, Ceph's) is not touched here. With dry_run only the callback runs. */
int cluster_state_reset(const char *root, bool dry_run, void (*cb)(const char *path, void *userdata),
                        void *userdata);
