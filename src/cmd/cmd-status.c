/* SPDX-License-Identifier: Apache-2.0 */
/* status (check-bootstrap-status.sh) and reset (reset-bootstrap.sh). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "activate.h"
#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "node-pki.h"
#include "plan.h"
#include "state.h"
#include "banned.h"

static void format_time(time_t t, char buf[static 32]) {
        struct tm tm;
        if (t == 0 || !gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "-");
}

/* The node's certificates as pki check sees them: counts, and each problem. */
typedef struct CertTally {
        size_t files;
        unsigned errors, warnings;
        json_t *problems; /* [{path, status, what}] */
} CertTally;

static void on_cert_finding(const char *path, bool ok, bool warning, const char *what, void *userdata) {
        CertTally *t = userdata;
        if (ok && !warning)
                return;
        if (warning)
                t->warnings++;
        else
                t->errors++;
        json_array_append_new(t->problems,
                              json_pack("{s:s,s:s,s:s}", "path", path, "status", warning ? "warning" : "error", "what", what));
}

static int cert_tally(const Options *o, const Inventory *inv, const Node *node, CertTally *ret) {
        PkiPlan plan = {};
        *ret = (CertTally) { .problems = json_array() };
        int r = ret->problems ? pki_plan_node(inv, node, &plan) : -ENOMEM;
        if (r >= 0) {
                ret->files = plan.n;
                r = pki_check(&plan, o->root, time(NULL), on_cert_finding, ret);
        }
        pki_plan_done(&plan);
        return r;
}

static int status(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        ClusterState s;
        int r = cluster_state_load(o->root, &s);
        if (r < 0)
                return log_error_errno(r, "cannot read the bootstrap state: %m"), EXIT_FAILED;

        /* The units of the node's roles; their states only from a running systemd (not under --root). */
        json_t *units = cmd_node_units(o, inv, node);
        size_t n = json_array_size(units);
        const char **names = calloc(n + 1, sizeof(char *));
        char **states = NULL;
        for (size_t i = 0; names && i < n; i++)
                names[i] = json_string_value(json_array_get(units, i));
        if (names && !o->root && units_active_state(names, n, &states) < 0)
                states = NULL; /* no systemd to ask: say so below rather than fail */
        /* A unit whose program the image lacks is skipped by its condition, neither started nor failed. */
        char **missing = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; names && missing && i < n; i++)
                if (unit_missing_program(o->root, names[i], &missing[i]) <= 0)
                        missing[i] = NULL;

        /* Certificates are checked once the node has them: bootstrapped or joined. An error (expired, within
         * a week of it, a key or name that does not match) makes status fail, as pki check does. */
        CertTally certs = {};
        bool in_cluster = s.state != BOOTSTRAP_UNINITIALIZED;
        int cr = in_cluster ? cert_tally(o, inv, node, &certs) : 0;
        if (cr < 0)
                log_internal(LOG_LEVEL_WARNING, cr, "cannot check the node's certificates: %m");

        char since[32];
        format_time(s.state_since, since);
        if (o->output == OUTPUT_JSON) {
                json_t *steps = json_array(), *svc = json_array();
                for (size_t i = 0; i < s.n_steps; i++) {
                        char when[32];
                        format_time(s.steps[i].when, when);
                        json_array_append_new(steps, json_pack("{s:s,s:s}", "step", s.steps[i].name, "done", when));
                }
                for (size_t i = 0; names && i < n; i++)
                        json_array_append_new(svc, json_pack("{s:s,s:s?,s:b,s:s?}", "unit", names[i], "state",
                                                             states ? states[i] : NULL, "in_image",
                                                             !(missing && missing[i]), "missing_program",
                                                             missing ? missing[i] : NULL));
                json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:s?,s:s?,s:o,s:o}", "node", node->name, "state",
                                      bootstrap_state_to_string(s.state), "since", since, "joined", s.joined,
                                      "role", s.node_role, "etcd_member_id", s.etcd_member_id, "steps", steps,
                                      "units", svc);
                if (in_cluster && cr >= 0) {
                        json_object_set_new(j, "certificates",
                                            json_pack("{s:I,s:I,s:I,s:O}", "files", (json_int_t) certs.files, "errors",
                                                      (json_int_t) certs.errors, "warnings", (json_int_t) certs.warnings,
                                                      "problems", certs.problems));
                }
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        } else {
                printf("node:            %s\n", node->name);
                printf("state:           %s (since %s)\n", bootstrap_state_to_string(s.state), since);
                printf("role:            %s\n", s.node_role ?: "-");
                printf("etcd member id:  %s\n", s.etcd_member_id ?: "-");
                printf("steps done:%s\n", s.n_steps ? "" : "      none");
                for (size_t i = 0; i < s.n_steps; i++) {
                        char when[32];
                        format_time(s.steps[i].when, when);
                        printf("  %-24s %s\n", s.steps[i].name, when);
                }
                printf("units:%s\n", states ? "" : o->root ? " (states are not known under --root)"
                                                        : " (states unknown: systemd did not answer)");
                for (size_t i = 0; names && i < n; i++)
                        if (missing && missing[i])
                                printf("  %-36s not in this image (no %s)\n", names[i], missing[i]);
                        else
                                printf("  %-36s %s\n", names[i], states ? states[i] : "-");
                if (!in_cluster)
                        printf("certificates:    not checked before the node has bootstrapped or joined\n");
                else if (cr >= 0) {
                        printf("certificates:    %zu PKI files, %u error%s, %u warning%s%s\n", certs.files, certs.errors,
                               certs.errors == 1 ? "" : "s", certs.warnings, certs.warnings == 1 ? "" : "s",
                               certs.errors + certs.warnings > 0 ? " (clusterboot pki check tells more)" : "");
                        for (size_t i = 0; i < json_array_size(certs.problems); i++) {
                                json_t *f = json_array_get(certs.problems, i);
                                printf("  %s: %s: %s\n", json_string_value(json_object_get(f, "path")),
                                       json_string_value(json_object_get(f, "status")),
                                       json_string_value(json_object_get(f, "what")));
                        }
                }
        }

        for (size_t i = 0; states && i < n; i++)
                free(states[i]);
        free(states);
        for (size_t i = 0; missing && i < n; i++)
                free(missing[i]);
        free(missing);
        free(names);
        json_decref(units);
        json_decref(certs.problems);
        cluster_state_done(&s);
        return certs.errors > 0 ? EXIT_FAILED : EXIT_DONE;
}

int cmd_status(int argc, char **argv, const Options *o) {
        return cmd_for_node(o, status, NULL);
}

static void on_removed(const char *path, void *userdata) {
        const Options *o = userdata;
        printf("  %sremoved %s\n", o->dry_run ? "would be " : "", path);
}

int cmd_reset(int argc, char **argv, const Options *o) {
        if (!o->yes && !o->dry_run) {
                log_error("reset forgets this node's bootstrap state, so the next boot sets it up again; "
                          "say --yes to do it (or --dry-run to see what would go)");
                return EXIT_USAGE;
        }
        int r = cluster_state_reset(o->root, o->dry_run, on_removed, (void *) o);
        if (r < 0)
                return log_error_errno(r, "cannot reset the bootstrap state: %m"), EXIT_FAILED;
        printf("bootstrap state reset%s; service data (etcd, Ceph, Kafka) was not touched\n",
               o->dry_run ? " (dry run: nothing removed)" : "");
        return EXIT_DONE;
}
