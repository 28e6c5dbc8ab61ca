/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what comes from Kubernetes, as clusterboot parses it. The input is read as a kubeconfig
 * (kubeconfig_parse(), files it names looked for under a root that does not exist) and as an API server's
 * answer: a Node, from which the patches for the control-plane mark, the inventory's labels and its taints
 * are made, and an error body (kube_namespace_missing()). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube-mark.h"
#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void node_patches(const char *body, size_t size) {
        static const char *const labels[] = { "example.com/team", "storage", "zone", "a", NULL };
        static const char *const labels_gone[] = { "example.com/old", NULL };
        static const char *const taints[] = { "example.com/maintenance=yes:PreferNoSchedule", "dedicated:NoSchedule",
                                              NULL };
        static const char *const taints_gone[] = { "example.com/old:NoExecute", NULL };
        json_t *node = json_loadb(body, size, 0, NULL), *patch = NULL;
        if (!node)
                return;
        if (mark_control_plane_patch(node, "node-role.kubernetes.io/control-plane:NoSchedule", &patch) >= 0)
                json_decref(patch);
        patch = NULL;
        if (node_labels_patch(node, labels, labels_gone, &patch) >= 0)
                json_decref(patch);
        patch = NULL;
        if (node_taints_patch(node, taints, taints_gone, &patch) >= 0)
                json_decref(patch);
        json_decref(node);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), *why = NULL;
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        node_patches(text, size);
        (void) kube_namespace_missing(404, text);

        Kubeconfig k = {};
        if (kubeconfig_parse("/nonexistent-fuzz-root", "/etc/kubernetes/admin.conf", text, size, &k, &why) >= 0)
                kubeconfig_done(&k);
        free(why);
        return 0;
}
