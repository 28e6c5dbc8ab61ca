/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "activate.h"
#include "fileio.h"
#include "fs-util.h"
#include "log.h"
#include "osd-record.h"
#include "paths.h"
#include "string-util.h"
#include "banned.h"

const char *activate_change_to_string(ActivateChange c) {
        static const char *const table[] = {
                [ACTIVATE_UNCHANGED_ON] = "enabled (unchanged)",
                [ACTIVATE_UNCHANGED_OFF] = "disabled (unchanged)",
                [ACTIVATE_ENABLED] = "enabled",
                [ACTIVATE_DISABLED] = "disabled",
        };
        return table[c];
}

/* The Ceph templates and the targets their instances are wanted by (units/ceph-*@.service [Install]). */
static const struct {
        const char *file;
        const char *wanted_by;
} ceph_templates[] = {
        { "ceph-mon@.service", "ceph-mon.target" },
        { "ceph-mgr@.service", "ceph-mon.target" },
        { "ceph-osd@.service", "ceph-osd.target" },
};

static int add(UnitLink **links, size_t *n, size_t *allocated, bool want, const char *wanted_by,
               const char *file, const char *fmt, ...) _printf_(7, 8);
static int add(UnitLink **links, size_t *n, size_t *allocated, bool want, const char *wanted_by,
               const char *file, const char *fmt, ...) {
        if (!GREEDY_REALLOC(*links, *allocated, *n + 1))
                return -ENOMEM;
        UnitLink *l = *links + (*n)++;
        *l = (UnitLink) { .want = want };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->unit, sizeof(l->unit), fmt, ap);
        va_end(ap);
        snprintf(l->wanted_by, sizeof(l->wanted_by), "%s", wanted_by);
        snprintf(l->file, sizeof(l->file), "%s", file ?: l->unit);
        return 0;
}

static int add_osds(UnitLink **links, size_t *n, size_t *allocated, const int64_t *ids, size_t n_ids) {
        int r = 0;
        for (size_t i = 0; i < n_ids && r >= 0; i++)
                r = add(links, n, allocated, true, "ceph-osd.target", "ceph-osd@.service", "ceph-osd@%" PRId64 ".service",
                        ids[i]);
        return r;
}

int activate_links(const Node *n, const int64_t *osd_ids, size_t n_osd_ids, UnitLink **ret, size_t *ret_n) {
        UnitLink *links = NULL;
        size_t count = 0, allocated = 0;
        int r = 0;

        for (Role role = 0; role < _ROLE_MAX && r >= 0; role++)
                r = add(&links, &count, &allocated, n->roles[role], "multi-user.target", NULL, "%s", role_target(role));
        if (n->roles[ROLE_CEPH_MON]) {
                r = r ?: add(&links, &count, &allocated, true, "ceph-mon.target", "ceph-mon@.service",
                             "ceph-mon@%s.service", n->name);
                r = r ?: add(&links, &count, &allocated, true, "ceph-mon.target", "ceph-mgr@.service",
                             "ceph-mgr@%s.service", n->name);
        }
        r = r ?: add_osds(&links, &count, &allocated, osd_ids, n_osd_ids);
        if (r < 0) {
                free(links);
                return r;
        }
        *ret = links;
        *ret_n = count;
        return 0;
}

/* The node's links, with the ids of the OSDs it made (osd-record.h) under root. A record that cannot be read
 * does not stop the rest of the node: its OSD instances are then left as they are (*ret_osds_known false),
 * and the stage ceph-osd says what is wrong with it. */
static int node_links(const char *root, const Node *n, UnitLink **ret, size_t *ret_n, bool *ret_osds_known) {
        _cleanup_free_ int64_t *ids = NULL;
        size_t n_ids = 0;
        int r = osd_node_ids(root, n, false, &ids, &n_ids);
        *ret_osds_known = r >= 0;
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_warning("cannot read this node's OSDs from %s (%s): its ceph-osd@ instances are left as they are",
                            OSD_RECORD_PATH, strerror(-r));
                n_ids = 0;
        }
        return activate_links(n, ids, n_ids, ret, ret_n);
}

bool link_is(const char *path, const char *target) {
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return false;
        buf[n] = 0;
        return streq(buf, target);
}

int unit_link_offline(const char *root, const UnitLink *l, bool dry_run, ActivateChange *ret) {
        _cleanup_free_ char *wants = strprintf("%s/%s.wants", SYSTEMD_ADMIN_DIR, l->wanted_by);
        _cleanup_free_ char *dir = wants ? path_join_root(root, wants) : NULL;
        _cleanup_free_ char *link = dir ? strprintf("%s/%s", dir, l->unit) : NULL;
        _cleanup_free_ char *dest = strprintf("%s/%s", UNIT_INSTALL_DIR, l->file);
        if (!link || !dest)
                return -ENOMEM;

        /* lstat: a dangling link is still there to remove. */
        struct stat st;
        bool exists = lstat(link, &st) >= 0;
        ActivateChange change;
        if (l->want)
                change = exists && link_is(link, dest) ? ACTIVATE_UNCHANGED_ON : ACTIVATE_ENABLED;
        else
                change = exists ? ACTIVATE_DISABLED : ACTIVATE_UNCHANGED_OFF;

        if (!dry_run && change == ACTIVATE_ENABLED) {
                int r = mkdir_p(dir, 0755);
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

static bool in_links(const UnitLink *links, size_t n, const char *unit) {
        for (size_t i = 0; i < n; i++)
                if (streq(links[i].unit, unit))
                        return true;
        return false;
}

/* Ceph instances linked under their targets that the node no longer needs; of one template only when
 * template is not NULL, and never of except. */
static int stale_instances(const char *root, const char *template, const char *except, const UnitLink *links, size_t n,
                           UnitLink **ret, size_t *ret_n) {
        UnitLink *stale = NULL;
        size_t count = 0, allocated = 0;

        for (size_t t = 0; t < ELEMENTSOF(ceph_templates); t++) {
                if ((template && !streq(template, ceph_templates[t].file)) || streq_ptr(except, ceph_templates[t].file))
                        continue;
                _cleanup_free_ char *wants = strprintf("%s/%s.wants", SYSTEMD_ADMIN_DIR, ceph_templates[t].wanted_by);
                _cleanup_free_ char *dir = wants ? path_join_root(root, wants) : NULL;
                _cleanup_free_ char *prefix = strndup(ceph_templates[t].file, strlen(ceph_templates[t].file) - strlen(".service"));
                if (!dir || !prefix) {
                        free(stale);
                        return -ENOMEM;
                }
                DIR *d = opendir(dir);
                if (!d)
                        continue;
                struct dirent *de;
                while ((de = readdir(d))) {
                        /* "ceph-osd@" + id + ".service" */
                        if (!startswith(de->d_name, prefix) || !endswith(de->d_name, ".service") ||
                            streq(de->d_name, ceph_templates[t].file) || in_links(links, n, de->d_name) ||
                            strlen(de->d_name) >= sizeof(stale->unit))
                                continue;
                        if (add(&stale, &count, &allocated, false, ceph_templates[t].wanted_by, ceph_templates[t].file,
                                "%s", de->d_name) < 0) {
                                closedir(d);
                                free(stale);
                                return -ENOMEM;
                        }
                }
                closedir(d);
        }
        *ret = stale;
        *ret_n = count;
        return 0;
}

/* links, and then stale, offline under root. */
static int link_all(const char *root, const UnitLink *links, size_t n_links, const UnitLink *stale, size_t n_stale,
                    bool dry_run, ActivateCallback cb, void *userdata) {
        int r;

        for (size_t pass = 0; pass < 2; pass++) {
                const UnitLink *list = pass ? stale : links;
                for (size_t i = 0; i < (pass ? n_stale : n_links); i++) {
                        ActivateChange change;
                        r = unit_link_offline(root, list + i, dry_run, &change);
                        if (r < 0)
                                return r;
                        if (cb)
                                cb(list[i].unit, change, userdata);
                }
        }
        return 0;
}

int activate_offline(const char *root, const Node *n, bool dry_run, ActivateCallback cb, void *userdata) {
        _cleanup_free_ UnitLink *links = NULL, *stale = NULL;
        size_t n_links, n_stale;
        bool osds_known;
        int r = node_links(root, n, &links, &n_links, &osds_known);
        r = r ?: stale_instances(root, NULL, osds_known ? NULL : "ceph-osd@.service", links, n_links, &stale, &n_stale);
        return r ?: link_all(root, links, n_links, stale, n_stale, dry_run, cb, userdata);
}

int activate_osds_offline(const char *root, const Node *n, bool dry_run, ActivateCallback cb, void *userdata) {
        _cleanup_free_ UnitLink *links = NULL, *stale = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        size_t n_links = 0, allocated = 0, n_stale, n_ids;
        int r = osd_node_ids(root, n, false, &ids, &n_ids);
        r = r ?: add_osds(&links, &n_links, &allocated, ids, n_ids);
        r = r ?: stale_instances(root, "ceph-osd@.service", NULL, links, n_links, &stale, &n_stale);
        return r ?: link_all(root, links, n_links, stale, n_stale, dry_run, cb, userdata);
}

static int call_unit_files(sd_bus *bus, const char *method, const UnitLink *links, size_t n, bool want) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", method);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (links[i].want == want)
                        r = sd_bus_message_append(m, "s", links[i].unit);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        /* EnableUnitFiles(files, runtime, force); DisableUnitFiles(files, runtime) */
        if (r >= 0)
                r = want ? sd_bus_message_append(m, "bb", false, true) : sd_bus_message_append(m, "b", false);
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

/* PID 1's own socket, as systemctl uses it: cluster-detect.service runs before dbus.socket listens (it is
 * ordered before network-pre.target, long before sysinit.target), so the system bus may not be there yet.
 * Found by the nspawn test: on a second boot, with nothing to render, activate lost that race every time. */
static int bus_open_systemd(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        if (geteuid() != 0)
                return sd_bus_default_system(ret);

        /* These return 1 on success too: test for failure, not for zero. */
        int r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return sd_bus_default_system(ret);
        *ret = TAKE_PTR(bus);
        return 0;
}

/* systemctl daemon-reload. */
static int daemon_reload(sd_bus *bus) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "Reload", &error, NULL, NULL);
        sd_bus_error_free(&error);
        return r;
}

int units_stop(const char *const *units, size_t n) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r = bus_open_systemd(&bus);
        /* The links are gone already: systemd forgets the target's Wants= of them. */
        if (r >= 0)
                r = daemon_reload(bus);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = call_unit(bus, "StopUnit", units[i]);
        return r;
}

int units_start(const char *const *units, size_t n) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r = bus_open_systemd(&bus);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                /* A unit that failed before its stage made it startable (a monitor without its store, a
                 * broker without formatted storage) may have hit its start limit: that is forgotten first.
                 * -ENOENT-like answers (never loaded, nothing failed) do not matter. */
                sd_bus_error error = SD_BUS_ERROR_NULL;
                (void) sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                          "org.freedesktop.systemd1.Manager", "ResetFailedUnit", &error, NULL, "s",
                                          units[i]);
                sd_bus_error_free(&error);
                r = call_unit(bus, "StartUnit", units[i]);
        }
        return r;
}

int units_active_state(const char *const *units, size_t n, char ***ret_states) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r = bus_open_systemd(&bus);
        if (r < 0)
                return r;
        char **states = calloc(n + 1, sizeof(char *));
        if (!states)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                sd_bus_error error = SD_BUS_ERROR_NULL;
                const char *path;
                /* LoadUnit, not GetUnit: a unit nothing has loaded yet is "inactive", not an error. */
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "LoadUnit", &error, &reply, "s", units[i]);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
                                                       "org.freedesktop.systemd1.Unit", "ActiveState", &error,
                                                       &states[i]);
                sd_bus_error_free(&error);
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(states[i]);
                free(states);
                return r;
        }
        *ret_states = states;
        return 0;
}

#define RESTART_SETTLE_MS 3000

/* The unit's ActiveState and when it last became active (CLOCK_REALTIME, µs). */
static int unit_state(sd_bus *bus, const char *unit, char **ret_state, uint64_t *ret_entered) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                   "org.freedesktop.systemd1.Manager", "LoadUnit", &error, &reply, "s", unit);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                                "ActiveEnterTimestamp", &error, 't', ret_entered);
        if (r >= 0)
                r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, "org.freedesktop.systemd1.Unit",
                                               "ActiveState", &error, ret_state);
        sd_bus_error_free(&error);
        return r;
}

int units_restart_stale(const char *const *units, const uint64_t *changed, size_t n, unsigned timeout,
                        UnitRestartCallback cb, void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r = bus_open_systemd(&bus);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *state = NULL;
                uint64_t before, entered;
                r = unit_state(bus, units[i], &state, &before);
                if (r < 0)
                        break;
                if (!streq(state, "active") || before >= changed[i]) { /* it reads the new files when it starts */
                        if (cb)
                                cb(units[i], streq(state, "active") ? UNIT_UP_TO_DATE : UNIT_NOT_RUNNING, userdata);
                        continue;
                }
                r = call_unit(bus, "TryRestartUnit", units[i]);
                /* Active again after the restart (a Type=notify service once it said READY=1), or failed. */
                for (unsigned waited = 0; r >= 0; waited++) {
                        free(state);
                        state = NULL;
                        r = unit_state(bus, units[i], &state, &entered);
                        if (r < 0 || (streq(state, "active") && entered != before))
                                break;
                        if (streq(state, "failed") || waited >= timeout * 5)
                                r = streq(state, "failed") ? -EIO : -ETIMEDOUT;
                        else
                                (void) usleep(200 * 1000);
                }
                /* Still the same run a little later: a service that exits at once on a file it cannot use
                 * (a Type=simple one is active as soon as it is forked) is caught here. */
                if (r >= 0) {
                        uint64_t started = entered;
                        (void) usleep(RESTART_SETTLE_MS * 1000);
                        free(state);
                        state = NULL;
                        r = unit_state(bus, units[i], &state, &entered);
                        if (r >= 0 && (!streq(state, "active") || entered != started))
                                r = -EIO;
                }
                if (cb)
                        cb(units[i], r < 0 ? UNIT_RESTART_FAILED : UNIT_RESTARTED, userdata);
        }
        return r;
}

int activate_live(const Node *n, bool dry_run, ActivateCallback cb, void *userdata) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ UnitLink *links = NULL, *stale = NULL;
        size_t n_links, n_stale;
        bool osds_known;
        int r = node_links(NULL, n, &links, &n_links, &osds_known);
        r = r ?: stale_instances(NULL, NULL, osds_known ? NULL : "ceph-osd@.service", links, n_links, &stale, &n_stale);
        if (r < 0)
                return r;

        /* What is enabled now, to report changes: the same links as offline, in the real root. */
        _cleanup_free_ ActivateChange *change = calloc(n_links + n_stale + 1, sizeof(ActivateChange));
        if (!change)
                return -ENOMEM;
        for (size_t i = 0; i < n_links + n_stale; i++) {
                r = unit_link_offline(NULL, i < n_links ? links + i : stale + i - n_links, true, change + i);
                if (r < 0)
                        return r;
        }

        if (!dry_run) {
                r = bus_open_systemd(&bus);
                if (r < 0)
                        return r;
                if ((r = call_unit_files(bus, "EnableUnitFiles", links, n_links, true)) < 0)
                        return r;
                if ((r = call_unit_files(bus, "DisableUnitFiles", links, n_links, false)) < 0)
                        return r;
                if (n_stale > 0 && (r = call_unit_files(bus, "DisableUnitFiles", stale, n_stale, false)) < 0)
                        return r;
                r = daemon_reload(bus);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n_links + n_stale; i++) {
                        const UnitLink *l = i < n_links ? links + i : stale + i - n_links;
                        if (l->want)
                                r = call_unit(bus, "StartUnit", l->unit);
                        else if (change[i] == ACTIVATE_DISABLED)
                                r = call_unit(bus, "StopUnit", l->unit);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; cb && i < n_links + n_stale; i++)
                cb(i < n_links ? links[i].unit : stale[i - n_links].unit, change[i], userdata);
        return 0;
}

/* The unit file behind a unit name: "ceph-mon@master-01.service" is made from "ceph-mon@.service". */
static char *unit_file_name(const char *unit) {
        const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');
        if (!at || !dot || dot < at)
                return strdup(unit);
        return strprintf("%.*s%s", (int) (at - unit + 1), unit, dot);
}

int unit_missing_program(const char *root, const char *unit, char **ret_program) {
        _cleanup_free_ char *file = unit_file_name(unit);
        _cleanup_free_ char *path = file ? strprintf("%s/%s", UNIT_INSTALL_DIR, file) : NULL;
        _cleanup_free_ char *full = path ? path_join_root(root, path) : NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;
        if (!full)
                return -ENOMEM;
        int r = read_full_file(full, 1 << 20, &text, &size);
        if (r < 0)
                return r;
        /* Negated or triggering forms ("!", "|") do not say the unit needs the program, and are left alone. */
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                line += strspn(line, " \t");
                if (!startswith(line, "ConditionFileIsExecutable="))
                        continue;
                const char *program = line + strlen("ConditionFileIsExecutable=");
                if (program[0] != '/')
                        continue;
                if (root_file_is_executable(root, program))
                        continue;
                char *copy = strdup(program);
                if (!copy)
                        return -ENOMEM;
                *ret_program = copy;
                return 1;
        }
        return 0;
}
