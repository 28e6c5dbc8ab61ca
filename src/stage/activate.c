/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "activate.h"
#include "fs-util.h"
#include "paths.h"
#include "string-util.h"
#include "banned.h"

#define WANTS_DIR SYSTEMD_ADMIN_DIR "/multi-user.target.wants"

const char *activate_change_to_string(ActivateChange c) {
        static const char *const table[] = {
                [ACTIVATE_UNCHANGED_ON] = "enabled (unchanged)",
                [ACTIVATE_UNCHANGED_OFF] = "disabled (unchanged)",
                [ACTIVATE_ENABLED] = "enabled",
                [ACTIVATE_DISABLED] = "disabled",
        };
        return table[c];
}

void activate_targets(const bool roles[_ROLE_MAX], const char *ret_targets[_ROLE_MAX], bool ret_want[_ROLE_MAX]) {
        for (Role r = 0; r < _ROLE_MAX; r++) {
                ret_targets[r] = role_target(r);
                ret_want[r] = roles[r];
        }
}

static bool link_is(const char *path, const char *target) {
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        return streq(buf, target);
}

int unit_link_offline(const char *root, const char *unit, bool enable, bool dry_run, ActivateChange *ret) {
        _cleanup_free_ char *wants = path_join_root(root, WANTS_DIR);
        _cleanup_free_ char *link = wants ? strprintf("%s/%s", wants, unit) : NULL;
        _cleanup_free_ char *dest = strprintf("%s/%s", SYSTEMD_UNIT_DIR, unit);
        if (!link || !dest)
                return -ENOMEM;

        /* lstat: a dangling link is still there to remove. */
        struct stat st;
        bool exists = lstat(link, &st) >= 0;
        ActivateChange change;
        if (enable)
                change = exists && link_is(link, dest) ? ACTIVATE_UNCHANGED_ON : ACTIVATE_ENABLED;
        else
                change = exists ? ACTIVATE_DISABLED : ACTIVATE_UNCHANGED_OFF;

        if (!dry_run && change == ACTIVATE_ENABLED) {
                int r = mkdir_p(wants, 0755);
                if (r < 0)
                        return r;
                /* Replace whatever is there (a stale link to elsewhere) atomically. */
                _cleanup_free_ char *tmp = strprintf("%s.tmp", link);
                if (!tmp)
                        return -ENOMEM;
                (void) unlink(tmp);
                if (symlink(dest, tmp) < 0)
                        return -errno;
                if (rename(tmp, link) < 0) {
                        r = -errno;
                        (void) unlink(tmp);
                        return r;
                }
        } else if (!dry_run && change == ACTIVATE_DISABLED) {
                if (unlink(link) < 0 && errno != ENOENT)
                        return -errno;
        }
        *ret = change;
        return 0;
}

int activate_offline(const char *root, const bool roles[_ROLE_MAX], bool dry_run, ActivateCallback cb, void *userdata) {
        const char *targets[_ROLE_MAX];
        bool want[_ROLE_MAX];
        activate_targets(roles, targets, want);

        for (Role r = 0; r < _ROLE_MAX; r++) {
                ActivateChange change;
                int k = unit_link_offline(root, targets[r], want[r], dry_run, &change);
                if (k < 0)
                        return k;
                if (cb)
                        cb(targets[r], change, userdata);
        }
        return 0;
}

static int call_unit_files(sd_bus *bus, const char *method, const char *const *units, size_t n, bool enable) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", method);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(m, "s", units[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = enable ? sd_bus_message_append(m, "bb", false, true) : sd_bus_message_append(m, "b", false);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, 0, &error, &reply);
        sd_bus_error_free(&error);
        return r;
}

static int call_unit(sd_bus *bus, const char *method, const char *unit) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", method, &error, &reply, "ss", unit, "replace");
        sd_bus_error_free(&error);
        return r;
}

int activate_live(const bool roles[_ROLE_MAX], bool dry_run, ActivateCallback cb, void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *targets[_ROLE_MAX], *on[_ROLE_MAX], *off[_ROLE_MAX];
        bool want[_ROLE_MAX];
        size_t n_on = 0, n_off = 0;
        int r;

        activate_targets(roles, targets, want);
        for (Role i = 0; i < _ROLE_MAX; i++) {
                if (want[i])
                        on[n_on++] = targets[i];
                else
                        off[n_off++] = targets[i];
        }

        /* What is enabled now, to report changes; the same links as offline, in the real root. */
        bool was[_ROLE_MAX];
        for (Role i = 0; i < _ROLE_MAX; i++) {
                _cleanup_free_ char *link = strprintf("%s/%s", WANTS_DIR, targets[i]);
                was[i] = link && access(link, F_OK) >= 0;
        }

        if (!dry_run) {
                r = sd_bus_default_system(&bus);
                if (r < 0)
                        return r;
                if (n_on > 0 && (r = call_unit_files(bus, "EnableUnitFiles", on, n_on, true)) < 0)
                        return r;
                if (n_off > 0 && (r = call_unit_files(bus, "DisableUnitFiles", off, n_off, false)) < 0)
                        return r;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "Reload", &error, NULL, NULL);
                sd_bus_error_free(&error);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_on; i++)
                        if ((r = call_unit(bus, "StartUnit", on[i])) < 0)
                                return r;
                for (Role i = 0; i < _ROLE_MAX; i++)
                        if (!want[i] && was[i] && (r = call_unit(bus, "StopUnit", targets[i])) < 0)
                                return r;
        }

        for (Role i = 0; i < _ROLE_MAX; i++)
                if (cb)
                        cb(targets[i],
                           want[i] ? (was[i] ? ACTIVATE_UNCHANGED_ON : ACTIVATE_ENABLED)
                                   : (was[i] ? ACTIVATE_DISABLED : ACTIVATE_UNCHANGED_OFF),
                           userdata);
        return 0;
}
