/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Turns the systemd units of a node's roles on and those of roles it does not have off (SPEC "Roles"; the
 * seeds' cluster-activate-roles.sh): the role targets, and the Ceph template instances a target cannot name
 * statically (ceph-mon@NAME, ceph-mgr@NAME, ceph-osd@ID). Idempotent: a second run changes nothing. */

typedef enum ActivateChange {
        ACTIVATE_UNCHANGED_ON,
        ACTIVATE_UNCHANGED_OFF,
        ACTIVATE_ENABLED,
        ACTIVATE_DISABLED,
} ActivateChange;

typedef void (*ActivateCallback)(const char *unit, ActivateChange change, void *userdata);

/* One enablement: the link WANTED_BY.wants/UNIT -> UNIT_INSTALL_DIR/FILE, as `systemctl enable` makes
 * it from the unit's [Install] WantedBy=. FILE is the template for an instance. */
/* path is a symlink whose target is exactly target. */
bool link_is(const char *path, const char *target);

typedef struct UnitLink {
        char unit[80];
        char wanted_by[32];
        char file[80];
        bool want;
} UnitLink;

/* Every link that concerns the node: its role targets (want set for the roles it has, clear for the
 * others) and the Ceph instances it needs, with osd_ids the ids of the OSDs it made (osd-record.h: Ceph
 * numbers them, the inventory does not). *ret is malloc()ed. */
int activate_links(const Node *n, const int64_t *osd_ids, size_t n_osd_ids, UnitLink **ret, size_t *ret_n);

/* Offline, under root, making and removing the links themselves; Ceph instances linked under their
 * targets that the node no longer needs (an OSD whose device left the node file) are unlinked too. The
 * OSDs are those the node made (osd-record.h), none before its stage ceph-osd ran. With dry_run nothing is
 * changed; the callback says what would be. */
int activate_offline(const char *root, const Node *n, bool dry_run, ActivateCallback cb, void *userdata);
/* The same for the OSD instances alone: each OSD the node made of a device its node file lists is linked
 * under ceph-osd.target, every other ceph-osd@ instance unlinked (stage ceph-osd, sync). */
int activate_osds_offline(const char *root, const Node *n, bool dry_run, ActivateCallback cb, void *userdata);

/* Live, through systemd's D-Bus API: EnableUnitFiles/DisableUnitFiles, a daemon reload, then start the
 * wanted targets and stop the others that were on. */
int activate_live(const Node *n, bool dry_run, ActivateCallback cb, void *userdata);

/* One link, offline (also for install's cluster-detect.service). */
int unit_link_offline(const char *root, const UnitLink *l, bool dry_run, ActivateChange *ret);

const char *activate_change_to_string(ActivateChange c);

/* Starts units (StartUnit, mode "replace") through the running systemd. */
int units_start(const char *const *units, size_t n);
/* Stops them (StopUnit, mode "replace"), after a daemon reload (their links were removed offline). */
int units_stop(const char *const *units, size_t n);

typedef enum UnitRestart {
        UNIT_RESTARTED,
        UNIT_UP_TO_DATE,  /* started after its files changed */
        UNIT_NOT_RUNNING, /* left alone: it reads the files when it starts */
        UNIT_RESTART_FAILED,
} UnitRestart;
typedef void (*UnitRestartCallback)(const char *unit, UnitRestart what, void *userdata);

/* Restarts each unit that is running and became active before changed[i] (CLOCK_REALTIME µs: when a file it
 * reads last changed), one at a time: the next only once this one is active again (a Type=notify service
 * once it is ready) and still is a few seconds later, within timeout seconds. Stops at a unit that fails
 * (-EIO) or is not active in time (-ETIMEDOUT), so that one bad file does not take down every service; the
 * callback has said which. Run again, it restarts what is still stale, and nothing once all is current. */
int units_restart_stale(const char *const *units, const uint64_t *changed, size_t n, unsigned timeout,
                        UnitRestartCallback cb, void *userdata);

/* The ActiveState of each unit ("active", "failed", "inactive", ...) from the running systemd; ret_states
 * gets n malloc()ed strings. -ENOENT... errors as sd-bus reports them. */
int units_active_state(const char *const *units, size_t n, char ***ret_states);

/* The program the unit file of unit (installed under root; a template's for an instance) names in
 * ConditionFileIsExecutable=, when root lacks it: 1 and *ret_program (malloc()ed); 0 when it has every
 * program its unit names (or names none); -ENOENT when the unit file is not installed. */
int unit_missing_program(const char *root, const char *unit, char **ret_program);
