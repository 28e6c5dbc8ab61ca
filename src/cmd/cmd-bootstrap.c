/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
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
#include "inventory.h"
#include "log.h"
#include "banned.h"

typedef struct Stage {
        const char *name;
        int (*run)(BootstrapContext *c);
        const char *start_after; /* a unit to start (live) before the next stage, or NULL */
} Stage;

/* In order. Steps for Kubernetes, Ceph, Kafka, MQTT and DNS join this table as they are made real. */
static const Stage master_stages[] = {
        { "etcd-member", bootstrap_etcd_member, "etcd.service" },
        { "etcd-ready", bootstrap_etcd_ready, NULL },
};

/* Exponential backoff with jitter: 1 s, 2 s, 4 s ... at most 30 s, each +-20%. */
static unsigned next_delay_ms(unsigned attempt) {
        unsigned base = attempt >= 5 ? 30000 : 1000u << attempt;
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
static int run_stage(const Options *o, BootstrapContext *c, const Stage *s) {
        uint64_t deadline = now_ms() + (uint64_t) o->retry_timeout * 1000;
        for (unsigned attempt = 0;; attempt++) {
                log_set_context(c->node->name, s->name);
                free(c->message);
                c->message = NULL;
                int lock = lock_state(o->root);
                if (lock < 0)
                        return log_error_errno(lock, "cannot lock the bootstrap state: %m");
                int r = s->run(c);
                close(lock);
                if (r >= 0) {
                        printf("[%s] %s\n", s->name, c->message ?: "done");
                        return 0;
                }
                if (r != -EAGAIN) {
                        log_error_errno(r, "%s: %m", c->message ?: s->name);
                        return r;
                }
                unsigned delay = next_delay_ms(attempt);
                if (now_ms() + delay > deadline) {
                        log_error("%s; giving up for now (exit 75: systemd retries the unit)", c->message ?: s->name);
                        return -EAGAIN;
                }
                log_info("%s; retrying in %u.%u s", c->message ?: s->name, delay / 1000, (delay % 1000) / 100);
                usleep(delay * 1000u);
        }
}

static bool stage_exists(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(master_stages); i++)
                if (streq(master_stages[i].name, name))
                        return true;
        return false;
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

static int bootstrap(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        BootstrapContext c;
        int r;

        if (o->stage && !stage_exists(o->stage)) {
                log_error("unknown stage '%s'; the stages are etcd-member and etcd-ready", o->stage);
                return EXIT_USAGE;
        }
        if (!node->roles[ROLE_MASTER]) {
                /* Workers, brokers and storage nodes get their stages with the components (Kubernetes, Ceph,
                 * Kafka): what exists today is etcd's, on masters. */
                printf("%s: no bootstrap stage for its roles yet\n", node->name);
                return EXIT_DONE;
        }
        if (o->root && !o->stage) {
                log_error("under --root, run one --stage at a time: services are started by whoever runs that tree");
                return EXIT_USAGE;
        }

        r = bootstrap_context_init(&c, inv, node, o->root);
        if (r < 0)
                return log_error_errno(r, "out of memory"), EXIT_FAILED;

        for (size_t i = 0; i < ELEMENTSOF(master_stages) && r >= 0; i++) {
                const Stage *s = master_stages + i;
                if (o->stage && !streq(o->stage, s->name))
                        continue;
                r = run_stage(o, &c, s);
                if (r >= 0 && s->start_after && !o->stage) {
                        const char *unit = s->start_after;
                        r = units_start(&unit, 1);
                        if (r < 0)
                                log_error_errno(r, "cannot start %s: %m", unit);
                }
        }
        log_set_context(NULL, NULL);
        bootstrap_context_done(&c);
        return r == -EAGAIN ? EXIT_TEMPFAIL : r < 0 ? EXIT_FAILED : EXIT_DONE;
}

int cmd_bootstrap(int argc, char **argv, const Options *o) {
        return cmd_for_node(o, bootstrap, NULL);
}
