/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>

#include "model.h"

/* Turns the systemd targets of a node's roles on and those of roles it does not have off (SPEC "Roles";
 * the seeds' cluster-activate-roles.sh). Idempotent: a second run changes nothing. */

typedef enum ActivateChange {
        ACTIVATE_UNCHANGED_ON,
        ACTIVATE_UNCHANGED_OFF,
        ACTIVATE_ENABLED,
        ACTIVATE_DISABLED,
} ActivateChange;

typedef void (*ActivateCallback)(const char *target, ActivateChange change, void *userdata);

/* The targets wanted for a node (roles[]: true for each role it has), in role order. */
void activate_targets(const bool roles[_ROLE_MAX], const char *ret_targets[_ROLE_MAX], bool ret_want[_ROLE_MAX]);

/* Offline, under root: the links `systemctl --root=ROOT enable TARGET` makes for our targets, whose
 * [Install] section says WantedBy=multi-user.target:
 *   ROOT/etc/systemd/system/multi-user.target.wants/TARGET -> /usr/lib/systemd/system/TARGET
 * With dry_run nothing is changed; the callback says what would be. */
int activate_offline(const char *root, const bool roles[_ROLE_MAX], bool dry_run, ActivateCallback cb, void *userdata);

/* Enables (or disables) one unit offline under root, for a unit whose [Install] says
 * WantedBy=multi-user.target. */
int unit_link_offline(const char *root, const char *unit, bool enable, bool dry_run, ActivateChange *ret);

/* Live, through systemd's D-Bus API: EnableUnitFiles/DisableUnitFiles, a daemon reload, then start the wanted
 * targets and stop the others. */
int activate_live(const bool roles[_ROLE_MAX], bool dry_run, ActivateCallback cb, void *userdata);

const char *activate_change_to_string(ActivateChange c);
