/* SPDX-License-Identifier: Apache-2.0 */
/* kubeconfig: an admin kubeconfig for the operator's workstation (kubeadm's `kubeconfig user`, talosctl's
 * `kubeconfig`), signed on a master with the cluster's Kubernetes CA. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "fileio.h"
#include "inventory.h"
#include "log.h"
#include "node-pki.h"
#include "secret-formats.h"
#include "banned.h"

/* The user the certificate names: kubeadm's admin.conf has kubernetes-admin; a different name tells the
 * operator's requests apart from the master's own in the API server's audit log. */
#define OPERATOR_USER "clusterboot-admin"

static int kubeconfig(const Options *o, const Inventory *inv, const Node *node, const void *arg) {
        if (!inv->services[SERVICE_KUBERNETES]) {
                log_error("this cluster does not run Kubernetes: cluster.services does not list kubernetes");
                return EXIT_FAILED;
        }
        if (!node->roles[ROLE_MASTER]) {
                log_error("%s is not a master: an admin kubeconfig is signed with the cluster's CA, which only masters "
                          "hold; run this on a master, or with --node MASTER --secrets DIR",
                          node->name);
                return EXIT_FAILED;
        }
        Bundle b = {};
        int rc = cmd_load_bundle(o, &b);
        if (rc != EXIT_DONE)
                return rc;
        char *text = NULL;
        _cleanup_free_ char *server = NULL;
        time_t not_after;
        int r = pki_admin_kubeconfig(inv, node, &b, OPERATOR_USER, time(NULL), &text, &server, &not_after);
        bundle_done(&b);
        if (r < 0)
                return log_error_errno(r, "cannot make the admin kubeconfig: %m"), EXIT_FAILED;

        if (!o->output_file || streq(o->output_file, "-")) {
                fputs(text, stdout);
                secret_free(text);
                return EXIT_DONE;
        }
        /* 0600 from creation: it holds a key that is cluster-admin. */
        r = write_file_atomic(o->output_file, text, strlen(text), 0600);
        secret_free(text);
        if (r < 0)
                return log_error_errno(r, "cannot write %s: %m", o->output_file), EXIT_FAILED;
        char until[32];
        struct tm tm;
        if (!gmtime_r(&not_after, &tm) || strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(until, sizeof(until), "-");
        printf("wrote %s (0600): user %s in group system:masters, server %s, valid until %s\n"
               "  use it with: KUBECONFIG=%s kubectl get nodes\n",
               o->output_file, OPERATOR_USER, server, until, o->output_file);
        return EXIT_DONE;
}

int cmd_kubeconfig(int argc, char **argv, const Options *o) {
        return cmd_for_node(o, kubeconfig, NULL);
}
