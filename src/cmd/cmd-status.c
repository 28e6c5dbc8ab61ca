/* SPDX-License-Identifier: Apache-2.0 */
/* status (check-bootstrap-status.sh) and reset (reset-bootstrap.sh). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "activate.h"
#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "plan.h"
#include "state.h"
#include "banned.h"

static void format_time(time_t t, char buf[static 32]) {
        struct tm tm;
        if (t == 0 || !gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "-");
}

static int status(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        ClusterState s;
        int r = cluster_state_load(o->root, &s);
        if (r < 0)
                return log_error_errno(r, "cannot read the bootstrap state: %m"), EXIT_FAILED;

        /* The units of the node's roles; their states only from a running systemd (not under --root). */
        json_t *units = plan_node_units(inv, node);
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
        }

        for (size_t i = 0; states && i < n; i++)
                free(states[i]);
        free(states);
        for (size_t i = 0; missing && i < n; i++)
                free(missing[i]);
        free(missing);
        free(names);
        json_decref(units);
        cluster_state_done(&s);
        return EXIT_DONE;
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
