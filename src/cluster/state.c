/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "fs-util.h"
#include "paths.h"
#include "state.h"
#include "string-util.h"
#include "banned.h"

#define STATE_FILE STATE_DIR "/bootstrap-state"
#define JOINED_FILE STATE_DIR "/cluster-joined"
#define ROLE_FILE STATE_DIR "/node-role"
#define MEMBER_FILE STATE_DIR "/etcd-member-id"
#define STEPS_DIR STATE_DIR "/steps"

static const char *const state_names[_BOOTSTRAP_STATE_MAX] = {
        [BOOTSTRAP_UNINITIALIZED] = "uninitialized",
        [BOOTSTRAP_BOOTSTRAPPED] = "bootstrapped",
        [BOOTSTRAP_JOINED] = "joined",
};

const char *bootstrap_state_to_string(BootstrapState s) {
        return s >= 0 && s < _BOOTSTRAP_STATE_MAX ? state_names[s] : NULL;
}

BootstrapState bootstrap_state_from_string(const char *s) {
        for (BootstrapState i = 0; i < _BOOTSTRAP_STATE_MAX; i++)
                if (streq(s, state_names[i]))
                        return i;
        return _BOOTSTRAP_STATE_INVALID;
}

/* A one-line state file: its text without the newline, and its mtime. -ENOENT when absent. */
static int read_value(const char *root, const char *path, char **ret, time_t *ret_mtime) {
        _cleanup_free_ char *full = path_join_root(root, path);
        if (!full)
                return -ENOMEM;
        char *data;
        size_t size;
        int r = read_full_file(full, 4096, &data, &size);
        if (r < 0)
                return r;
        while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == ' '))
                data[--size] = 0;
        if (ret_mtime) {
                struct stat st;
                *ret_mtime = stat(full, &st) >= 0 ? st.st_mtime : 0;
        }
        *ret = data;
        return 0;
}

static int write_value(const char *root, const char *path, const char *value) {
        _cleanup_free_ char *full = path_join_root(root, path);
        _cleanup_free_ char *text = strprintf("%s\n", value);
        if (!full || !text)
                return -ENOMEM;
        int r = mkdir_parents(full, 0755);
        return r < 0 ? r : write_file_atomic(full, text, strlen(text), 0644);
}

static int step_cmp(const void *a, const void *b) {
        const StepMark *x = a, *y = b;
        if (x->when != y->when)
                return x->when < y->when ? -1 : 1;
        return strcmp(x->name, y->name);
}

static int load_steps(const char *root, ClusterState *s) {
        _cleanup_free_ char *dir = path_join_root(root, STEPS_DIR);
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        size_t allocated = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (!GREEDY_REALLOC(s->steps, allocated, s->n_steps + 1)) {
                        r = -ENOMEM;
                        break;
                }
                StepMark *m = s->steps + s->n_steps;
                m->name = strdup(de->d_name);
                m->when = st.st_mtime;
                if (!m->name) {
                        r = -ENOMEM;
                        break;
                }
                s->n_steps++;
        }
        closedir(d);
        if (s->n_steps > 1)
                qsort(s->steps, s->n_steps, sizeof(StepMark), step_cmp);
        return r;
}

int cluster_state_load(const char *root, ClusterState *ret) {
        ClusterState s = {};
        _cleanup_free_ char *state = NULL, *joined = NULL;
        int r = read_value(root, STATE_FILE, &state, &s.state_since);
        if (r < 0 && r != -ENOENT)
                return r;
        if (state) {
                s.state = bootstrap_state_from_string(state);
                if (s.state < 0)
                        return -EBADMSG;
        }
        s.joined = read_value(root, JOINED_FILE, &joined, NULL) >= 0;
        r = read_value(root, ROLE_FILE, &s.node_role, NULL);
        if (r < 0 && r != -ENOENT)
                goto fail;
        r = read_value(root, MEMBER_FILE, &s.etcd_member_id, NULL);
        if (r < 0 && r != -ENOENT)
                goto fail;
        r = load_steps(root, &s);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        cluster_state_done(&s);
        return r;
}

void cluster_state_done(ClusterState *s) {
        free(s->node_role);
        free(s->etcd_member_id);
        for (size_t i = 0; i < s->n_steps; i++)
                free(s->steps[i].name);
        free(s->steps);
        *s = (ClusterState) {};
}

int cluster_state_set(const char *root, BootstrapState s) {
        int r = write_value(root, STATE_FILE, bootstrap_state_to_string(s));
        /* The seeds' marker, for what reads it: written after the state, so it never claims more. */
        if (r >= 0 && s != BOOTSTRAP_UNINITIALIZED)
                r = write_value(root, JOINED_FILE, bootstrap_state_to_string(s));
        return r;
}

int cluster_state_set_role(const char *root, const char *role) {
        return write_value(root, ROLE_FILE, role);
}

int cluster_state_set_etcd_member_id(const char *root, const char *id) {
        return write_value(root, MEMBER_FILE, id);
}

int cluster_state_mark_step(const char *root, const char *step, time_t when) {
        if (strchr(step, '/') || step[0] == '.' || !*step)
                return -EINVAL;
        _cleanup_free_ char *path = strprintf("%s/%s", STEPS_DIR, step);
        char stamp[32];
        if (!path)
                return -ENOMEM;
        snprintf(stamp, sizeof(stamp), "%lld", (long long) when);
        return write_value(root, path, stamp);
}

bool cluster_state_step_done(const ClusterState *s, const char *step) {
        for (size_t i = 0; i < s->n_steps; i++)
                if (streq(s->steps[i].name, step))
                        return true;
        return false;
}

int cluster_state_step_recorded(const char *root, const char *step) {
        ClusterState s;
        int r = cluster_state_load(root, &s);
        if (r < 0)
                return r;
        bool done = cluster_state_step_done(&s, step);
        cluster_state_done(&s);
        return done;
}

static int remove_one(const char *root, const char *path, bool dry_run, void (*cb)(const char *, void *), void *userdata) {
        _cleanup_free_ char *full = path_join_root(root, path);
        struct stat st;
        if (!full)
                return -ENOMEM;
        if (lstat(full, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!dry_run && unlink(full) < 0 && errno != ENOENT)
                return -errno;
        if (cb)
                cb(path, userdata);
        return 0;
}

int cluster_state_reset(const char *root, bool dry_run, void (*cb)(const char *path, void *userdata), void *userdata) {
        /* The state file last: until it goes, a crash in the middle leaves a node that knows it was set up. */
        static const char *const files[] = { JOINED_FILE, ROLE_FILE, MEMBER_FILE };
        ClusterState s = {};
        int r = cluster_state_load(root, &s);
        if (r == -EBADMSG)
                /* A state file that says nothing known: reset is how to get rid of it, markers included. */
                r = load_steps(root, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < s.n_steps; i++) {
                _cleanup_free_ char *path = strprintf("%s/%s", STEPS_DIR, s.steps[i].name);
                r = path ? remove_one(root, path, dry_run, cb, userdata) : -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(files); i++)
                r = remove_one(root, files[i], dry_run, cb, userdata);
        if (r >= 0)
                r = remove_one(root, STATE_FILE, dry_run, cb, userdata);
        cluster_state_done(&s);
        return r;
}

bool node_holds_cluster(const char *root) {
        ClusterState s;
        if (cluster_state_load(root, &s) < 0)
                return true;
        /* etcd-member done: this master made its cluster or was added to one. */
        bool holds = s.state != BOOTSTRAP_UNINITIALIZED || s.joined || cluster_state_step_done(&s, "etcd-member");
        cluster_state_done(&s);
        if (holds)
                return true;
        /* etcd's data, when it can be seen: the join service runs without CAP_DAC_READ_SEARCH, and etcd's
         * folder is etcd's, 0700; the state above is root's and says it too. */
        return etcd_has_data(root);
}

bool etcd_has_data(const char *root) {
        _cleanup_free_ char *member = path_join_root(root, ETCD_DATA_DIR "/member");
        struct stat st;
        return member && stat(member, &st) >= 0 && S_ISDIR(st.st_mode);
}
