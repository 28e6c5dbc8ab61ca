/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "fs-util.h"
#include "issue.h"
#include "log.h"
#include "process.h"
#include "string-util.h"
#include "banned.h"

#define AGETTY "/sbin/agetty"

/* value with each backslash doubled, so that agetty prints it as written. */
static int append_literal(StrBuf *b, const char *value) {
        int r = 0;
        for (const char *p = value; r >= 0 && *p; p++)
                r = *p == '\\' ? strbuf_append(b, "\\\\") : strbuf_appendn(b, p, 1);
        return r;
}

static int append_state(StrBuf *b, const ClusterState *s) {
        char when[32] = "";
        struct tm tm;
        if (s->state_since > 0 && gmtime_r(&s->state_since, &tm))
                strftime(when, sizeof(when), " at %Y-%m-%d %H:%M:%S UTC", &tm);
        int r = strbuf_printf(b, "%s%s", bootstrap_state_to_string(s->state) ?: "unknown", when);
        if (r >= 0 && s->n_steps > 0)
                r = strbuf_printf(b, ", %zu stage%s done", s->n_steps, s->n_steps == 1 ? "" : "s");
        return r;
}

char *issue_text(const IssueInfo *i) {
        StrBuf b = {};
        int r;

        if (!i->node) {
                r = append_literal(&b, i->console_line ?: "clusterboot: this machine is no node of the inventory");
                r = r ?: strbuf_append(&b, "\n\n");
                return r < 0 ? (strbuf_done(&b), NULL) : strbuf_steal(&b);
        }
        r = strbuf_append(&b, "clusterboot: node ");
        r = r ?: append_literal(&b, i->node);
        r = r ?: strbuf_append(&b, ", roles ");
        r = r ?: append_literal(&b, i->roles ?: "-");
        r = r ?: strbuf_append(&b, ", address ");
        r = r ?: append_literal(&b, i->address ?: "from DHCP");
        r = r ?: strbuf_append(&b, "\nclusterboot: bootstrap ");
        if (r >= 0 && i->state)
                r = append_state(&b, i->state);
        else
                r = r ?: strbuf_append(&b, "state unknown");
        if (r >= 0 && i->progress) {
                r = strbuf_append(&b, "; ");
                r = r ?: append_literal(&b, i->progress);
        } else if (r >= 0 && (!i->state || i->state->n_steps == 0))
                r = strbuf_append(&b, "; not run yet");
        if (r >= 0 && i->progress && !streq(i->progress, "every stage done"))
                r = strbuf_append(&b, " (journalctl -u cluster-bootstrap)");
        r = r ?: strbuf_append(&b, "\n\n");
        return r < 0 ? (strbuf_done(&b), NULL) : strbuf_steal(&b);
}

int issue_write(const char *root, const char *text) {
        _cleanup_free_ char *path = path_join_root(root, ISSUE_PATH);
        if (!path || !text)
                return -ENOMEM;
        /* The same banner again (a reboot, a second run) is left alone: nothing to print anew either. */
        _cleanup_free_ char *old = NULL;
        size_t size;
        if (read_full_file(path, 64 * 1024, &old, &size) >= 0 && streq(old, text))
                return 0;
        int r = mkdir_parents(path, 0755);
        r = r ?: write_file_atomic(path, text, strlen(text), 0644);
        if (r < 0)
                return r;
        /* The agettys waiting at a login prompt print the banner again (they watch /run/agetty.reload). */
        if ((!root || streq(root, "/")) && root_file_is_executable(NULL, AGETTY)) {
                char *argv[] = { (char *) AGETTY, (char *) "--reload", NULL };
                _cleanup_free_ char *out = NULL;
                if (run_program(argv, &out) != 0)
                        log_debug("agetty --reload: %s", strempty(out));
        }
        return 0;
}

int issue_update(const char *root, const Node *n, const char *name, const char *role, const char *progress) {
        char ip[IP_ADDR_STRLEN] = "";
        StrBuf roles = {};
        ClusterState s = {};
        int r = 0;

        for (Role k = 0; n && r >= 0 && k < _ROLE_MAX; k++)
                if (n->roles[k])
                        r = strbuf_printf(&roles, "%s%s", roles.len ? ", " : "", role_to_string(k));
        if (n && n->ip_valid)
                ip_addr_format(&n->ip, ip);
        bool have_state = cluster_state_load(root, &s) >= 0;
        IssueInfo info = {
                .node = n ? n->name : name,
                .roles = n ? roles.s : role,
                .address = *ip ? ip : NULL,
                .state = have_state ? &s : NULL,
                .progress = progress,
        };
        _cleanup_free_ char *text = r >= 0 ? issue_text(&info) : NULL;
        r = issue_write(root, text);
        strbuf_done(&roles);
        if (have_state)
                cluster_state_done(&s);
        return r;
}
