/* SPDX-License-Identifier: Apache-2.0 */
/* mark_control_plane_patch() (src/cluster/kube-mark.c) on Nodes as the API server returns them: what the
 * stage mark-control-plane would send, or that it sends nothing. */
#include <jansson.h>
#include <errno.h>
#include <stdlib.h>

#include "kube-mark.h"
#include "tap.h"

#define CP "node-role.kubernetes.io/control-plane"

/* The patch for a Node of the given labels and taints (JSON fragments), as compact JSON; "none" for no patch. */
static char *patch_for(const char *labels, const char *taints, const char *want) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"kind\":\"Node\",\"metadata\":{\"name\":\"m\",\"resourceVersion\":\"42\",\"labels\":%s},"
                 "\"spec\":{\"podCIDR\":\"10.244.0.0/24\",\"taints\":%s}}",
                 labels, taints);
        json_t *node = json_loads(text, 0, NULL), *patch = NULL;
        if (!node || mark_control_plane_patch(node, want, &patch) < 0) {
                json_decref(node);
                return NULL;
        }
        char *s = patch ? json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS) : strdup("none");
        json_decref(patch);
        json_decref(node);
        return s;
}

TEST(test_new_master) {
        /* As the kubelet registered it: the taint from --register-with-taints, no label. */
        char *p = patch_for("{\"kubernetes.io/hostname\":\"m\"}", "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"}]",
                            CP ":NoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoSchedule\",\"key\":\"" CP "\"}]}}");
        free(p);
}

TEST(test_marked_already) {
        char *p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"}]", CP ":NoSchedule");
        ASSERT_STREQ(p, "none");
        free(p);
        /* schedule_on_masters: the label, no taint of the key. */
        p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"gpu\",\"value\":\"a\",\"effect\":\"NoExecute\"}]", NULL);
        ASSERT_STREQ(p, "none");
        free(p);
}

TEST(test_taint_added_others_kept) {
        /* A Node registered before: no taints field at all, then one with another taint. */
        char *p = patch_for("{}", "null", CP ":NoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoSchedule\",\"key\":\"" CP "\"}]}}");
        free(p);
        p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"gpu\",\"value\":\"a\",\"effect\":\"NoExecute\"}]",
                      CP ":NoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoExecute\",\"key\":\"gpu\",\"value\":\"a\"},"
                        "{\"effect\":\"NoSchedule\",\"key\":\"" CP "\"}]}}");
        free(p);
}

TEST(test_taint_removed_or_replaced) {
        /* schedule_on_masters turned on after registration: the taint goes, the other stays. */
        char *p = patch_for("{\"" CP "\":\"\"}",
                            "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"},{\"key\":\"gpu\",\"effect\":\"NoSchedule\"}]",
                            NULL);
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"NoSchedule\",\"key\":\"gpu\"}]}}");
        free(p);
        /* The inventory's own taint of the key, with another effect and a value. */
        p = patch_for("{\"" CP "\":\"\"}", "[{\"key\":\"" CP "\",\"effect\":\"NoSchedule\"}]",
                      CP "=infra:PreferNoSchedule");
        ASSERT_STREQ(p, "{\"metadata\":{\"labels\":{\"" CP "\":\"\"},\"resourceVersion\":\"42\"},"
                        "\"spec\":{\"taints\":[{\"effect\":\"PreferNoSchedule\",\"key\":\"" CP "\",\"value\":\"infra\"}]}}");
        free(p);
}

TEST(test_not_a_node) {
        json_t *patch = NULL, *bad = json_loads("{\"kind\":\"Status\",\"code\":404}", 0, NULL);
        ASSERT_INT_EQ(mark_control_plane_patch(bad, CP ":NoSchedule", &patch), -EBADMSG);
        ASSERT_NULL(patch);
        json_decref(bad);
}

int main(void) {
        RUN(test_new_master);
        RUN(test_marked_already);
        RUN(test_taint_added_others_kept);
        RUN(test_taint_removed_or_replaced);
        RUN(test_not_a_node);
        return tap_done();
}
