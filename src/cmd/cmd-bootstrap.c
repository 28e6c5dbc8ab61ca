/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/file.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "activate.h"
#include "bootstrap.h"
#include "cmd.h"
#include "fs-util.h"
#include "paths.h"
#include "stages.h"
#include "state.h"
#include "string-util.h"
#include "inventory.h"
#include "issue.h"
#include "log.h"
#include "banned.h"

/* Exponential backoff with jitter: 1 s, 2 s, 4 s ... at most 30 s, each +-20%. */
/* Exponential from 1 s, at most max_ms, with +-20 % jitter. */
static unsigned next_delay_ms(unsigned attempt, unsigned max_ms) {
        unsigned base = attempt >= 5 ? 30000 : 1000u << attempt;
        base = MIN(base, max_ms);
        unsigned char r;
        if (RAND_bytes(&r, 1) != 1)
                r = 128;
        return base * 8 / 10 + (unsigned) ((uint64_t) base * 4 / 10 * r / 255);
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int lock_state(const char *root);

/* Runs a stage until done, a hard error, or the retry budget is spent (then -EAGAIN: exit 75). The lock
 * is held for one attempt at a time, never while waiting or while etcd starts: etcd.service's
 * ExecStartPre runs a stage too, and holding it across units_start() deadlocked the two (found by
 * tests/e2e/test-nspawn-etcd-cluster.sh). */
/* Work that waits asks other machines (a join service, the etcd or Ceph monitors) and backs off up to
 * 30 s, so that a thousand nodes waiting for one master do not hammer it. A health gate waits for this
 * node's own service to come up, a cheap question: every 2 s at most, or a service ready after 9 s would
 * be seen after 15. */
#define WORK_BACKOFF_MAX_MS 30000u
#define GATE_BACKOFF_MAX_MS 2000u

static int run_stage(const Options *o, BootstrapContext *c, const char *name, int (*fn)(BootstrapContext *c),
                     unsigned max_delay_ms) {
        uint64_t deadline = now_ms() + (uint64_t) o->retry_timeout * 1000;
        for (unsigned attempt = 0;; attempt++) {
                /* Each attempt says anew what it did or waits for. */
                free(c->message);
                c->message = NULL;
                int lock = lock_state(c->root);
                if (lock < 0)
                        return log_error_errno(lock, "cannot lock the bootstrap state: %m");
                int r = fn(c);
                close(lock);
                if (r >= 0) {
                        printf("[%s] %s\n", name, c->message ?: "done");
                        fflush(stdout);
                        return 0;
                }
                if (r != -EAGAIN) {
                        log_error_errno(r, "%s: %m", c->message ?: name);
                        return r;
                }
                unsigned delay = next_delay_ms(attempt, max_delay_ms);
                if (now_ms() + delay > deadline) {
                        log_error("%s; giving up for now (exit 75: systemd retries the unit)", c->message ?: name);
                        return -EAGAIN;
                }
                log_info("%s; retrying in %u.%u s", c->message ?: name, delay / 1000, (delay % 1000) / 100);
                usleep(delay * 1000u);
        }
}

/* One stage: its work, its units, its health gate, and the record that it is done. With --stage its work
 * and then its gate (even when the stage is recorded), and nothing is started. */
static int stage_execute(const Options *o, BootstrapContext *c, const Stage *s) {
        int r = 0;
        log_set_context(c->node->name, s->name);
        /* A stage asked for by name (--stage) runs whatever the image has. */
        if (s->program && !o->stage && !root_file_is_executable(c->root, s->program)) {
                log_warning("%s is not installed on this node: stage %s skipped (tried again on the next boot)",
                            s->program, s->name);
                printf("[%s] skipped: %s is not installed\n", s->name, s->program);
                return 0;
        }
        /* A state that cannot be read counts as not done: the stage's own work says why. */
        bool done_before = cluster_state_step_recorded(c->root, s->name) > 0;
        bootstrap_kill_point(s->name, "before");
        if (s->run)
                r = run_stage(o, c, s->name, s->run, WORK_BACKOFF_MAX_MS);
        if (r >= 0)
                bootstrap_kill_point(s->name, "after-run");
        if (r >= 0 && !o->stage && s->units[0]) {
                char **units = NULL;
                size_t n = 0;
                r = stage_units(s, c->node, c->root, &units, &n);
                r = r ?: units_start((const char *const *) units, n);
                if (r < 0)
                        log_error_errno(r, "cannot start %s: %m", n > 0 ? units[0] : s->units[0]);
                for (size_t i = 0; i < n; i++)
                        free(units[i]);
                free(units);
        }
        /* A gate is waited for once; after that, a reboot starts the units and moves on. */
        if (r >= 0 && s->gate && (o->stage || !done_before)) {
                r = run_stage(o, c, s->name, s->gate, GATE_BACKOFF_MAX_MS);
                if (r >= 0)
                        bootstrap_kill_point(s->name, "after-gate");
        }
        if (r >= 0 && !done_before) {
                r = cluster_state_mark_step(c->root, s->name, time(NULL));
                if (r < 0)
                        log_error_errno(r, "cannot record the stage %s: %m", s->name);
        }
        return r;
}

/* etcd.service's ExecStartPre and cluster-bootstrap.service may run a stage at the same moment: one at a
 * time, or both could `member add` this master. */
static int lock_state(const char *root) {
        _cleanup_free_ char *dir = path_join_root(root, STATE_DIR);
        _cleanup_free_ char *path = dir ? strprintf("%s/.bootstrap.lock", dir) : NULL;
        if (!path)
                return -ENOMEM;
        int r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* The login banner (issue.h) says how the run ended: every stage done, or the stage that failed or still
 * waits. Not being able to say so fails nothing. */
static void login_banner(const Node *node, int r, const Stage *last) {
        _cleanup_free_ char *progress = r >= 0      ? strdup("every stage done")
                                        : r == -EAGAIN ? strprintf("stage %s still waits; systemd retries", last->name)
                                                       : strprintf("stage %s failed", last->name);
        int k = progress ? issue_update(NULL, node, NULL, NULL, progress) : -ENOMEM;
        if (k < 0)
                log_warning("cannot write the login banner %s: %s", ISSUE_PATH, strerror(-k));
}

static int render_and_activate(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        if (!node->ip_valid) {
                log_error("node '%s' has no address after its registration (%s)", node->name, AUTO_ADDRESS_PATH);
                return EXIT_FAILED;
        }
        log_set_context(node->name, "register");
        int r = cmd_run_render(o, inv, node, NULL);
        return r != EXIT_DONE ? r : cmd_run_activate(o, node);
}

static int bootstrap(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        BootstrapContext c;
        int r;

        if (o->stage && !stage_find(o->stage)) {
                _cleanup_free_ char *names = stage_names();
                log_error("unknown stage '%s'; the stages are %s", o->stage, strempty(names));
                return EXIT_USAGE;
        }
        if (o->stage && !stage_applies(stage_find(o->stage), inv, node)) {
                printf("[%s] not a stage of node '%s' (its roles, or what the cluster runs)\n", o->stage, node->name);
                return EXIT_DONE;
        }
        if (o->root && !o->stage) {
                log_error("under --root, run one --stage at a time: services are started by whoever runs that tree");
                return EXIT_USAGE;
        }

        r = bootstrap_context_init(&c, inv, node, o->root);
        if (r < 0)
                return log_error_errno(r, "out of memory"), EXIT_FAILED;

        /* An auto-registered machine not registered yet: once the join service has named it and recorded its
         * address, it is a node like the others. Render and activate it as firstboot would have, and start
         * again with that node. */
        if (node->auto_name && !node->ip_valid && (!o->stage || streq(o->stage, "register"))) {
                r = stage_execute(o, &c, stage_find("register"));
                log_set_context(NULL, NULL);
                bootstrap_context_done(&c);
                if (r < 0)
                        return r == -EAGAIN ? EXIT_TEMPFAIL : EXIT_FAILED;
                int k = cmd_for_node(o, render_and_activate, NULL);
                if (k != EXIT_DONE || o->stage)
                        return k;
                return cmd_for_node(o, bootstrap, arg);
        }

        const Stage *last = NULL;
        for (size_t i = 0; i < n_stages && r >= 0; i++) {
                const Stage *s = stages + i;
                if (!stage_applies(s, inv, node) || (o->stage && !streq(o->stage, s->name)))
                        continue;
                r = stage_execute(o, &c, s);
                last = s;
        }
        log_set_context(NULL, NULL);
        bootstrap_context_done(&c);
        if (!o->stage)
                login_banner(node, r, last);
        return r == -EAGAIN ? EXIT_TEMPFAIL : r < 0 ? EXIT_FAILED : EXIT_DONE;
}

int cmd_bootstrap(int argc, char **argv, const Options *o) {
        return cmd_for_node(o, bootstrap, NULL);
}
