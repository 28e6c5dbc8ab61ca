/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "fileio.h"
#include "fs-util.h"
#include "identity.h"
#include "inventory.h"
#include "issue.h"
#include "log.h"
#include "render-identity.h"
#include "string-util.h"
#include "writer.h"
#include "banned.h"

static void on_write(const RenderedFile *f, WriteResult res, void *userdata) {
        const Options *o = userdata;
        if (o->output == OUTPUT_TEXT && res != WRITE_UNCHANGED)
                printf("  %s%s %s\n", o->dry_run ? "would be " : "", write_result_to_string(res), f->path);
}

int cmd_console(const Options *o, const char *line) {
        const char *console = getenv("CLUSTERBOOT_CONSOLE");
        if (!console || !*console || o->dry_run || !line)
                return 0;
        int fd = open(console, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0644);
        if (fd < 0)
                return log_warning("cannot write to the console %s: %s", console, strerror(errno)), -errno;
        dprintf(fd, "%s\n", line);
        close(fd);
        return 0;
}

/* The outcome as one line on the console (cluster-detect.service sets CLUSTERBOOT_CONSOLE=/dev/console), so
 * that a serial console or a screen shows which node the machine became; and, on a live root (the boot script
 * of image/initramfs says so in /run/clusterboot/root), that nothing written on it outlives a reboot, unless
 * the node keeps its state on a disk of its own (firstboot's step state says so then). */
static void to_console(const Options *o, int r, const Identity *id, const Facts *f, const char *problem) {
        _cleanup_free_ char *line = identity_console_line(r, id, f, problem);
        _cleanup_free_ char *live_marker = path_join_root(o->root, "/run/clusterboot/root");
        _cleanup_free_ char *root_kind = NULL;
        size_t size;
        bool live = live_marker && read_full_file(live_marker, 64, &root_kind, &size) >= 0 && startswith(root_kind, "live");
        bool state_disk = r >= 0 && id->node && id->node->file && id->node->file->state.disk.v;
        if (!line)
                log_warning("cannot write the identity line to the console: out of memory");
        cmd_console(o, line);
        if (live && !state_disk)
                cmd_console(o, "clusterboot: warning: this machine runs a live root (netboot, live.img or cluster.iso): "
                               "nothing written on it, etcd, Ceph, Kafka data or certificates, outlives a reboot; "
                               "name a disk for its state in its node file (state.disk)");
}

/* The login banner (issue.h): the node and its bootstrap state so far, or why the machine is no node. A
 * banner that cannot be written is worth a warning, not a failed detection. */
static void login_banner(const Options *o, int r, const Identity *id, const Facts *f, const char *problem) {
        if (o->dry_run)
                return;
        int k;
        if (r >= 0)
                k = issue_update(o->root, id->node, id->auto_name, id->auto_role, NULL);
        else {
                _cleanup_free_ char *line = identity_console_line(r, id, f, problem);
                _cleanup_free_ char *text = issue_text(&(IssueInfo){ .console_line = line });
                k = issue_write(o->root, text);
        }
        if (k < 0)
                log_warning("cannot write the login banner %s: %s", ISSUE_PATH, strerror(-k));
}

int cmd_run_detect(const Options *o, const Inventory *inv, const Node **ret_node) {
        Facts facts;
        Identity id;
        _cleanup_free_ char *problem = NULL;

        int r = facts_read(o->root, &facts);
        if (r < 0)
                return log_error_errno(r, "cannot read what this machine is: %m"), EXIT_FAILED;

        if (log_debug_enabled()) {
                _cleanup_free_ char *seen = facts_describe(&facts);
                log_debug("this machine shows %s%s%s; the selectors, first match wins: kernel command line "
                          "(clusterboot.node=), MAC, DMI UUID, DMI serial, hostname", strempty(seen),
                          facts.cmdline_node ? "; clusterboot.node=" : "", strempty(facts.cmdline_node));
        }
        r = identity_match(inv, &facts, &id, &problem);
        to_console(o, r, &id, &facts, problem);
        login_banner(o, r, &id, &facts, problem);
        facts_done(&facts);
        if (r < 0) {
                if (problem)
                        log_error("%s", problem);
                else
                        log_error_errno(r, "identity: %m");
                return EXIT_FAILED;
        }

        const char *name = id.node ? id.node->name : id.auto_name;
        if (o->output == OUTPUT_JSON) {
                json_t *j = json_pack("{s:s,s:s,s:s,s:b}", "node", name, "selector", selector_to_string(id.selector),
                                      "matched", id.matched, "auto_registered", id.node == NULL);
                if (j && id.interface)
                        json_object_set_new(j, "interface", json_string(id.interface));
                if (j && !id.node)
                        json_object_set_new(j, "role", json_string(id.auto_role));
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(j);
        } else
                printf("This machine is %s%s: %s %s%s%s\n", name, id.node ? "" : " (auto-registered)",
                       selector_to_string(id.selector), id.matched, id.interface ? " on " : "", id.interface ?: "");

        RenderSet set = {};
        const RenderedFile *failed = NULL;
        r = render_identity(&id, &set);
        if (r >= 0)
                r = render_set_write(&set, o->root, o->dry_run, on_write, (void *) o, &failed);
        if (r < 0)
                log_error_errno(r, "cannot write %s: %m", failed ? failed->path : "the node identity");
        render_set_done(&set);

        if (r >= 0 && ret_node)
                *ret_node = id.node;
        identity_done(&id);
        return r < 0 ? EXIT_FAILED : EXIT_DONE;
}

int cmd_detect(int argc, char **argv, const Options *o) {
        Inventory *inv = NULL;
        int r = cmd_load_inventory(o, false, &inv);
        if (r != EXIT_DONE)
                return r;
        r = cmd_run_detect(o, inv, NULL);
        inventory_free(inv);
        return r;
}
