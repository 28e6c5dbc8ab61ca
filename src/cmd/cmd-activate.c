/* SPDX-License-Identifier: Apache-2.0 */
#include <jansson.h>
#include <stdio.h>

#include "activate.h"
#include "cmd.h"
#include "inventory.h"
#include "log.h"
#include "banned.h"

typedef struct Tally {
        const Options *o;
        json_t *targets;
        unsigned changed;
} Tally;

static void on_change(const char *unit, ActivateChange change, void *userdata) {
        Tally *t = userdata;
        bool changed = change == ACTIVATE_ENABLED || change == ACTIVATE_DISABLED;
        t->changed += changed;
        if (t->targets)
                json_array_append_new(t->targets, json_pack("{s:s,s:b,s:b}", "unit", unit, "enabled",
                                                            change == ACTIVATE_ENABLED || change == ACTIVATE_UNCHANGED_ON,
                                                            "changed", changed));
        else if (changed)
                printf("  %s%s %s\n", t->o->dry_run ? "would be " : "", activate_change_to_string(change), unit);
}

int cmd_run_activate(const Options *o, const Node *node) {
        Tally t = { .o = o, .targets = o->output == OUTPUT_JSON ? json_array() : NULL };
        bool live = !o->root;
        int r = live ? activate_live(node, o->dry_run, on_change, &t)
                     : activate_offline(o->root, node, o->dry_run, on_change, &t);
        if (r < 0) {
                json_decref(t.targets);
                return log_error_errno(r, "cannot %s the targets of node '%s': %m",
                                       live ? "enable (through systemd)" : "link", node->name),
                       EXIT_FAILED;
        }
        if (t.targets) {
                json_t *j = json_pack("{s:s,s:b,s:o}", "node", node->name, "dry_run", o->dry_run, "units", t.targets);
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        } else
                printf("%s: %u unit%s changed%s\n", node->name, t.changed, t.changed == 1 ? "" : "s",
                       o->dry_run ? " (dry run: nothing changed)" : "");
        return EXIT_DONE;
}

static int run(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        return cmd_run_activate(o, node);
}

int cmd_activate(int argc, char **argv, const Options *o) {
        return cmd_for_node(o, run, NULL);
}
